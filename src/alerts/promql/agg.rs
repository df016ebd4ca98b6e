//! Aggregation operators with `by`/`without`, following Prometheus 3's arithmetic (Kahan sums,
//! the mean that switches to incremental on overflow, NaN ordering of min/max/topk).

use std::cmp::Ordering;
use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::HashMap;

use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_LIMITK, T_MAX, T_MIN, T_QUANTILE,
    T_STDDEV, T_STDVAR, T_SUM, T_TOPK, TokenType,
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

/// The labels of the group an element belongs to.
fn group_labels<'a>(labels: &LabelsRef<'a>, modifier: Option<&LabelModifier>) -> LabelsRef<'a> {
    labels
        .iter()
        .filter(|(k, _)| in_group(k, modifier))
        .cloned()
        .collect()
}

/// Elements grouped in order of first appearance.
///
/// Groups are found by a hash of the element's key labels, compared in place, so the key is
/// copied into owned strings once per group rather than once per element: `sum by (job)` over
/// tens of thousands of series otherwise spends most of its time allocating keys.
fn groups<'a>(
    elems: Vec<Elem<'a>>,
    modifier: Option<&LabelModifier>,
) -> Vec<(LabelsRef<'a>, Vec<Elem<'a>>)> {
    let state = foldhash::fast::RandomState::default();
    let mut index: HashMap<u64, Vec<usize>> = HashMap::default();
    let mut out: Vec<(LabelsRef<'a>, Vec<Elem<'a>>)> = Vec::new();
    for e in elems {
        let key = || e.labels.iter().filter(|(k, _)| in_group(k, modifier));
        let mut h = state.build_hasher();
        for (k, v) in key() {
            k.as_ref().hash(&mut h);
            v.as_ref().hash(&mut h);
        }
        let slot = index.entry(h.finish()).or_default();
        let found = slot
            .iter()
            .copied()
            .find(|&i| out.get(i).is_some_and(|g| g.0.iter().eq(key())));
        match found {
            Some(i) => {
                if let Some(g) = out.get_mut(i) {
                    g.1.push(e);
                }
            }
            None => {
                slot.push(out.len());
                let labels = key().cloned().collect();
                out.push((labels, vec![e]));
            }
        }
    }
    out
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
                set_label(&mut key, &label, &super::funcs::go_float(e.v));
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
    let mut out = Vec::new();
    for (labels, g) in groups(elems, modifier) {
        let drop_name =
            g.iter().any(|e| e.drop_name) && super::eval::get(&labels, "__name__").is_some();
        let vals = g.iter().map(|e| e.v);
        let v = match id {
            T_SUM => {
                let (s, c) = vals.fold((0.0, 0.0), |(s, c), v| kahan_inc(v, s, c));
                s + c
            }
            T_AVG => {
                let mut m = Mean::default();
                vals.for_each(|v| m.add(v));
                m.value()
            }
            T_COUNT => g.len() as f64,
            T_GROUP => 1.0,
            T_MIN => vals.fold(
                f64::NAN,
                |acc, v| if acc > v || acc.is_nan() { v } else { acc },
            ),
            T_MAX => vals.fold(
                f64::NAN,
                |acc, v| if acc < v || acc.is_nan() { v } else { acc },
            ),
            T_STDDEV | T_STDVAR => {
                let (mut n, mut mean, mut m2) = (0.0, 0.0, 0.0);
                for v in vals {
                    n += 1.0;
                    let delta = v - mean;
                    mean += delta / n;
                    m2 += delta * (v - mean);
                }
                if id == T_STDDEV {
                    (m2 / n).sqrt()
                } else {
                    m2 / n
                }
            }
            T_QUANTILE => quantile(q.unwrap_or(f64::NAN), vals.collect()),
            _ => {
                return Err(EvalError::Unsupported(format!(
                    "aggregation {}",
                    TokenType::new(id)
                )));
            }
        };
        out.push(Elem {
            labels,
            v,
            drop_name,
        });
    }
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
