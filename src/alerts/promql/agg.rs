//! Aggregation operators with `by`/`without`, following Prometheus 3's arithmetic (Kahan sums,
//! the mean that switches to incremental on overflow, NaN ordering of min/max/topk).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::HashMap;

use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_LIMITK, T_MAX, T_MIN, T_QUANTILE,
    T_STDDEV, T_STDVAR, T_SUM, T_TOPK, TokenId, TokenType,
};
use promql_parser::parser::{AggregateExpr, LabelModifier};

use super::eval::{Ctx, Elem, V, set_label};
use super::math::{Mean, kahan_inc, quantile};
use super::{EvalError, LabelsRef};

/// Whether label `name` is part of an element's group key.
fn in_group(name: &str, modifier: Option<&LabelModifier>) -> bool {
    match modifier {
        Some(LabelModifier::Include(by)) => by.labels.iter().any(|n| n == name),
        Some(LabelModifier::Exclude(without)) => {
            name != "__name__" && !without.labels.iter().any(|n| n == name)
        }
        None => false,
    }
}

/// Finds each element's group by its key labels, numbering groups in order of first appearance.
///
/// Groups are found by a hash of the element's key labels, compared in place, so the key is
/// copied once per group rather than once per element: `sum by (job)` over tens of thousands of
/// series otherwise spends most of its time allocating keys. Which labels form the key is worked
/// out once per element (a bit per label), not again for hashing, comparing and copying.
pub(super) struct Grouper<'a, 'm> {
    modifier: Option<&'m LabelModifier>,
    state: foldhash::fast::RandomState,
    /// The newest group of each key hash.
    index: HashMap<u64, usize>,
    /// For each group, the next older group whose key has the same hash.
    next: Vec<Option<usize>>,
    pub(super) keys: Vec<LabelsRef<'a>>,
    /// The label names (address and length) of the last element whose names were all borrowed,
    /// and its key mask. The series of one selection share their names' strings (the store
    /// keeps each once), so most elements have the same names at the same addresses, and then
    /// the same mask: comparing addresses replaces comparing every name with the `by` list.
    /// Only borrowed names count: they stay where they are for `'a`, so the same address and
    /// length is the same text (an owned name's memory may be freed and reused).
    shape: Vec<(*const u8, usize)>,
    shape_mask: u64,
    /// The key (names' and values' addresses and lengths) of the last element whose key labels
    /// were all borrowed, and its group. A selection's series come in the store's order, pod by
    /// pod, so runs of elements share a `by (job)` key, and the store keeps each string once:
    /// the same addresses are the same key, found without hashing it.
    last_key: Vec<(*const u8, usize)>,
    last_group: Option<usize>,
    /// Every key hashes alike (for tests of the chains).
    #[cfg(test)]
    collide: bool,
}

impl<'a, 'm> Grouper<'a, 'm> {
    pub(super) fn new(modifier: Option<&'m LabelModifier>) -> Self {
        Grouper {
            modifier,
            state: foldhash::fast::RandomState::default(),
            index: HashMap::default(),
            next: Vec::new(),
            keys: Vec::new(),
            shape: Vec::new(),
            shape_mask: 0,
            last_key: Vec::new(),
            last_group: None,
            #[cfg(test)]
            collide: false,
        }
    }

    /// Bit i: label i is in the key (labels past the 64th are checked as they come).
    fn mask(&mut self, labels: &LabelsRef<'a>) -> u64 {
        let borrowed = labels.len() <= 64
            && labels
                .iter()
                .all(|(k, _)| matches!(k, std::borrow::Cow::Borrowed(_)));
        let same_shape = borrowed
            && labels.len() == self.shape.len()
            && labels
                .iter()
                .zip(&self.shape)
                .all(|((k, _), &(at, len))| k.as_ptr() == at && k.len() == len);
        if same_shape {
            return self.shape_mask;
        }
        let modifier = self.modifier;
        let mask = labels
            .iter()
            .take(64)
            .enumerate()
            .filter(|(_, (k, _))| in_group(k, modifier))
            .fold(0u64, |m, (i, _)| m | 1 << i);
        if borrowed {
            self.shape.clear();
            self.shape
                .extend(labels.iter().map(|(k, _)| (k.as_ptr(), k.len())));
            self.shape_mask = mask;
        }
        mask
    }

    /// The group of an element with `labels` (a new one when its key is new).
    pub(super) fn group(&mut self, labels: &LabelsRef<'a>) -> usize {
        // Adding, `locate` always has a group.
        self.locate(labels, true).unwrap_or_default()
    }

    /// The group of an element with `labels` if its key has one already (nothing is added).
    pub(super) fn find(&mut self, labels: &LabelsRef<'a>) -> Option<usize> {
        self.locate(labels, false)
    }

    /// The group of an element with `labels`; a new one for a new key when `add` is set.
    fn locate(&mut self, labels: &LabelsRef<'a>, add: bool) -> Option<usize> {
        let mask = self.mask(labels);
        let modifier = self.modifier;
        let key = || {
            labels.iter().enumerate().filter_map(move |(i, kv)| {
                let keep = match u32::try_from(i).ok().filter(|&i| i < 64) {
                    Some(i) => mask >> i & 1 == 1,
                    None => in_group(&kv.0, modifier),
                };
                keep.then_some(kv)
            })
        };
        // Borrowed strings stay where they are for 'a, so the same address and length is the
        // same text; an owned one's memory may be freed and reused, so it never counts.
        let addresses = || {
            key().flat_map(|(k, v)| [k, v]).map(|s| match s {
                Cow::Borrowed(s) => Some((s.as_ptr(), s.len())),
                Cow::Owned(_) => None,
            })
        };
        if let Some(i) = self.last_group
            && addresses().eq(self.last_key.iter().copied().map(Some))
        {
            return Some(i);
        }
        let i = self.by_hash(key, add)?;
        self.last_key.clear();
        let borrowed = addresses().all(|a| a.map(|a| self.last_key.push(a)).is_some());
        self.last_group = borrowed.then_some(i);
        Some(i)
    }

    /// The group of the key `key` yields, found by its hash (added when new, if `add`).
    fn by_hash<'k, I>(&mut self, key: impl Fn() -> I, add: bool) -> Option<usize>
    where
        'a: 'k,
        I: Iterator<Item = &'k (Cow<'a, str>, Cow<'a, str>)>,
    {
        let mut h = self.state.build_hasher();
        for (k, v) in key() {
            k.as_ref().hash(&mut h);
            v.as_ref().hash(&mut h);
        }
        #[cfg(test)]
        let hash = if self.collide { 0 } else { h.finish() };
        #[cfg(not(test))]
        let hash = h.finish();
        let new = self.keys.len();
        // The groups of one hash are chained through `next`, newest first.
        let mut at = self.index.get(&hash).copied();
        while let Some(i) = at {
            let same = self.keys.get(i).is_some_and(|g| {
                let mut key = key();
                g.iter().all(|(k, v)| {
                    key.next()
                        .is_some_and(|(k2, v2)| same_text(k, k2) && same_text(v, v2))
                }) && key.next().is_none()
            });
            if same {
                return Some(i);
            }
            at = self.next.get(i).copied().flatten();
        }
        if !add {
            return None;
        }
        self.next.push(self.index.insert(hash, new));
        self.keys.push(key().cloned().collect());
        Some(new)
    }
}

/// Whether two strings are the same text: the same address and length is (the store's strings
/// are kept once, so its labels' keys usually are), else the bytes are compared.
fn same_text(a: &str, b: &str) -> bool {
    a.len() == b.len() && (std::ptr::eq(a.as_ptr(), b.as_ptr()) || a == b)
}

/// The labels of the group an element belongs to.
fn group_labels<'a>(labels: &LabelsRef<'a>, modifier: Option<&LabelModifier>) -> LabelsRef<'a> {
    labels
        .iter()
        .filter(|(k, _)| in_group(k, modifier))
        .cloned()
        .collect()
}

/// Elements grouped in order of first appearance, each group's in their order.
fn groups<'a>(
    elems: Vec<Elem<'a>>,
    modifier: Option<&LabelModifier>,
) -> Vec<(LabelsRef<'a>, Vec<Elem<'a>>)> {
    let mut grouper = Grouper::new(modifier);
    let mut members: Vec<Vec<Elem<'a>>> = Vec::new();
    for e in elems {
        let i = grouper.group(&e.labels);
        if i == members.len() {
            members.push(Vec::new());
        }
        if let Some(m) = members.get_mut(i) {
            m.push(e);
        }
    }
    grouper.keys.into_iter().zip(members).collect()
}

/// What an aggregation keeps of a group as its elements come, in their order: the same
/// arithmetic in the same order as over the whole group at once.
#[derive(Clone)]
enum Acc {
    /// Kahan sum and compensation.
    Sum(f64, f64),
    Avg(Mean),
    Count(f64),
    /// Running min or max (NaN until a number comes).
    Extreme(f64),
    /// Welford's count, mean and sum of squared deviations.
    Var(f64, f64, f64),
    Values(Vec<f64>),
}

impl Acc {
    /// An empty accumulator for aggregation `id`; `None` for one this evaluator lacks.
    fn new(id: TokenId) -> Option<Acc> {
        Some(match id {
            T_SUM => Acc::Sum(0.0, 0.0),
            T_AVG => Acc::Avg(Mean::default()),
            T_COUNT | T_GROUP => Acc::Count(0.0),
            T_MIN | T_MAX => Acc::Extreme(f64::NAN),
            T_STDDEV | T_STDVAR => Acc::Var(0.0, 0.0, 0.0),
            T_QUANTILE => Acc::Values(Vec::new()),
            _ => return None,
        })
    }

    fn add(&mut self, id: TokenId, v: f64) {
        match self {
            Acc::Sum(s, c) => (*s, *c) = kahan_inc(v, *s, *c),
            Acc::Avg(m) => m.add(v),
            Acc::Count(n) => *n += 1.0,
            Acc::Extreme(acc) => {
                let replace = if id == T_MIN { *acc > v } else { *acc < v };
                if replace || acc.is_nan() {
                    *acc = v;
                }
            }
            Acc::Var(n, mean, m2) => {
                *n += 1.0;
                let delta = v - *mean;
                *mean += delta / *n;
                *m2 += delta * (v - *mean);
            }
            Acc::Values(vals) => vals.push(v),
        }
    }
}

fn scalar_param(ctx: &Ctx<'_>, a: &AggregateExpr, t: i64, depth: usize) -> Result<f64, EvalError> {
    match a.param.as_deref().map(|p| ctx.eval(p, t, depth)) {
        Some(Ok(V::Scalar(v))) => Ok(v),
        Some(Err(e)) => Err(e),
        _ => Err(EvalError::Runtime(format!(
            "expected scalar parameter for {}",
            a.op
        ))),
    }
}

/// topk/bottomk/limitk's k, as Prometheus checks it.
fn k_param(v: f64) -> Result<usize, EvalError> {
    if !(v <= i64::MAX as f64 && v >= i64::MIN as f64) {
        return Err(EvalError::Runtime(format!(
            "Scalar value {} overflows int64",
            super::funcs::go_float(v)
        )));
    }
    Ok(usize::try_from(v as i64).unwrap_or(0))
}

pub(super) fn eval<'a>(
    ctx: &Ctx<'a>,
    a: &AggregateExpr,
    t: i64,
    depth: usize,
) -> Result<V<'a>, EvalError> {
    let id = a.op.id();
    let modifier = a.modifier.as_ref();
    let elems = match ctx.eval(&a.expr, t, depth)? {
        V::Vector(e) => e,
        other => {
            return Err(EvalError::Runtime(format!(
                "expected instant vector in aggregation, got {}",
                other.type_name()
            )));
        }
    };
    match id {
        T_TOPK | T_BOTTOMK | T_LIMITK => {
            let k = k_param(scalar_param(ctx, a, t, depth)?)?;
            let mut out = Vec::new();
            for (_, mut g) in groups(elems, modifier) {
                if id != T_LIMITK {
                    // Highest first for topk, lowest first for bottomk; NaN always last.
                    let top = id == T_TOPK;
                    g.sort_by(|x, y| nan_last(x.v, y.v, top));
                }
                g.truncate(k);
                out.extend(g);
            }
            return Ok(V::Vector(out));
        }
        T_COUNT_VALUES => {
            let label = match a.param.as_deref().map(|p| ctx.eval(p, t, depth)) {
                Some(Ok(V::Str(s))) => s,
                Some(Err(e)) => return Err(e),
                _ => return Err(EvalError::Runtime("expected string parameter".into())),
            };
            if !valid_label_name(&label) {
                return Err(EvalError::Runtime(format!("invalid label name {label:?}")));
            }
            let mut counted: Vec<(LabelsRef<'a>, f64)> = Vec::new();
            let mut index: HashMap<LabelsRef<'a>, usize> = HashMap::default();
            for e in elems {
                let mut key = group_labels(&e.labels, modifier);
                key.edit(|k| set_label(k, &label, &super::funcs::go_float(e.v)));
                match index.get(&key).and_then(|&i| counted.get_mut(i)) {
                    Some(c) => c.1 += 1.0,
                    None => {
                        index.insert(key.clone(), counted.len());
                        counted.push((key, 1.0));
                    }
                }
            }
            return Ok(V::Vector(
                counted
                    .into_iter()
                    .map(|(labels, v)| Elem {
                        labels,
                        v,
                        drop_name: false,
                    })
                    .collect(),
            ));
        }
        _ => {}
    }
    let q = if id == T_QUANTILE {
        Some(scalar_param(ctx, a, t, depth)?)
    } else {
        None
    };
    let Some(empty) = Acc::new(id) else {
        return Err(EvalError::Unsupported(format!(
            "aggregation {}",
            TokenType::new(id)
        )));
    };
    // Each element goes into its group's accumulator as it comes (no group holds its elements).
    let mut grouper = Grouper::new(modifier);
    let mut accs: Vec<(Acc, bool)> = Vec::new();
    for e in &elems {
        let i = grouper.group(&e.labels);
        if i == accs.len() {
            accs.push((empty.clone(), false));
        }
        if let Some((acc, drop_name)) = accs.get_mut(i) {
            acc.add(id, e.v);
            *drop_name |= e.drop_name;
        }
    }
    drop(elems);
    let out = grouper
        .keys
        .into_iter()
        .zip(accs)
        .map(|(labels, (acc, any_drop))| {
            let v = match acc {
                Acc::Sum(s, c) => s + c,
                Acc::Avg(m) => m.value(),
                Acc::Count(_) if id == T_GROUP => 1.0,
                Acc::Count(n) => n,
                Acc::Extreme(v) => v,
                Acc::Var(n, _, m2) if id == T_STDDEV => (m2 / n).sqrt(),
                Acc::Var(n, _, m2) => m2 / n,
                Acc::Values(vals) => quantile(q.unwrap_or(f64::NAN), vals),
            };
            let drop_name = any_drop && super::eval::get(&labels, "__name__").is_some();
            Elem {
                labels,
                v,
                drop_name,
            }
        })
        .collect();
    Ok(V::Vector(out))
}

/// Order for topk (`desc`) or bottomk: NaN after every number.
fn nan_last(x: f64, y: f64, desc: bool) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if desc => y.total_cmp(&x),
        _ => x.total_cmp(&y),
    }
}

/// A label name as Prometheus 3 accepts one (UTF-8, non-empty).
pub(super) fn valid_label_name(name: &str) -> bool {
    !name.is_empty()
}

#[cfg(test)]
mod tests;
