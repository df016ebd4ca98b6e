//! Binary operators: arithmetic, comparison (filtering or `bool`), the set operators, and vector
//! matching (`on`/`ignoring`, `group_left`/`group_right`) with Prometheus's error texts.

use foldhash::HashSet;

use promql_parser::label::Labels as NameList;
use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MOD,
    T_MUL, T_NEQ, T_POW, T_SUB, TokenId,
};
use promql_parser::parser::{BinModifier, BinaryExpr, LabelModifier, VectorMatchCardinality};

use super::agg::Grouper;
use super::eval::{Ctx, Elem, V, fmt_labels, set_label};
use super::{EvalError, LabelsRef};

fn op_name(id: TokenId) -> String {
    promql_parser::parser::token::TokenType::new(id).to_string()
}

fn is_comparison(id: TokenId) -> bool {
    matches!(id, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

/// Prometheus's `vectorElemBinop`: the value and whether a comparison holds (always true for
/// arithmetic). Comparisons return the left value.
fn apply(id: TokenId, l: f64, r: f64) -> Result<(f64, bool), EvalError> {
    Ok(match id {
        T_ADD => (l + r, true),
        T_SUB => (l - r, true),
        T_MUL => (l * r, true),
        T_DIV => (l / r, true),
        T_POW => (l.powf(r), true),
        T_MOD => (l % r, true),
        T_EQLC => (l, l == r),
        T_NEQ => (l, l != r),
        T_GTR => (l, l > r),
        T_LSS => (l, l < r),
        T_GTE => (l, l >= r),
        T_LTE => (l, l <= r),
        T_ATAN2 => (l.atan2(r), true),
        _ => {
            return Err(EvalError::Unsupported(format!(
                "binary operator {}",
                op_name(id)
            )));
        }
    })
}

pub(super) fn eval<'a>(
    ctx: &Ctx<'a>,
    b: &BinaryExpr,
    t: i64,
    depth: usize,
) -> Result<V<'a>, EvalError> {
    let id = b.op.id();
    let lhs = ctx.eval(&b.lhs, t, depth)?;
    let rhs = ctx.eval(&b.rhs, t, depth)?;
    let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
    let drop = !is_comparison(id) || return_bool;
    match (lhs, rhs) {
        (V::Scalar(l), V::Scalar(r)) => {
            let (v, keep) = apply(id, l, r)?;
            Ok(V::Scalar(if is_comparison(id) {
                f64::from(u8::from(keep))
            } else {
                v
            }))
        }
        (V::Vector(l), V::Scalar(r)) => scalar_op(id, l, r, false, return_bool, drop),
        (V::Scalar(l), V::Vector(r)) => scalar_op(id, r, l, true, return_bool, drop),
        (V::Vector(l), V::Vector(r)) => {
            let modifier = b.modifier.as_ref();
            match id {
                T_LAND => Ok(V::Vector(set_and(l, r, modifier, false))),
                T_LUNLESS => Ok(V::Vector(set_and(l, r, modifier, true))),
                T_LOR => Ok(V::Vector(set_or(l, r, modifier))),
                _ => vector_op(id, l, r, modifier, return_bool, drop),
            }
        }
        (l, r) => Err(EvalError::Runtime(format!(
            "binary expression must contain only scalar and instant vector types, got {} and {}",
            l.type_name(),
            r.type_name()
        ))),
    }
}

fn scalar_op(
    id: TokenId,
    vector: Vec<Elem<'_>>,
    scalar: f64,
    scalar_left: bool,
    return_bool: bool,
    drop: bool,
) -> Result<V<'_>, EvalError> {
    let mut out = Vec::with_capacity(vector.len());
    for e in vector {
        let (l, r) = if scalar_left {
            (scalar, e.v)
        } else {
            (e.v, scalar)
        };
        let (mut v, mut keep) = apply(id, l, r)?;
        if is_comparison(id) && scalar_left {
            v = r;
        }
        if return_bool {
            v = f64::from(u8::from(keep));
            keep = true;
        }
        if keep {
            out.push(Elem {
                labels: e.labels,
                v,
                drop_name: e.drop_name || drop,
            });
        }
    }
    Ok(V::Vector(out))
}

/// The matching signatures of a binary operation's operands: an element's `on` labels, or all
/// but the `ignoring` ones and the name (with neither, all but the name). The
/// [`Grouper`] numbers signatures as aggregation numbers groups (`ignoring` is `without`), so
/// elements are matched by a hash of their signature found in place, without building it.
struct Signatures<'a, 'm>(Grouper<'a, 'm>);

impl<'a, 'm> Signatures<'a, 'm> {
    /// Signatures by `matching`; `all_but_name` is the modifier standing for no `on`/`ignoring`.
    fn new(matching: Option<&'m LabelModifier>, all_but_name: &'m LabelModifier) -> Self {
        Signatures(Grouper::new(Some(matching.unwrap_or(all_but_name))))
    }

    /// The number of `labels`' signature, added when unseen (numbered in order of first sight).
    fn add(&mut self, labels: &LabelsRef<'a>) -> usize {
        self.0.group(labels)
    }

    /// The number of `labels`' signature, if it has been added.
    fn find(&mut self, labels: &LabelsRef<'a>) -> Option<usize> {
        self.0.find(labels)
    }

    /// Signature number `i`'s labels.
    fn labels(&self, i: usize) -> LabelsRef<'a> {
        self.0.keys.get(i).cloned().unwrap_or_default()
    }
}

/// No `on` or `ignoring`: match on all labels but the name.
fn all_but_name() -> LabelModifier {
    LabelModifier::Exclude(NameList::new(Vec::new()))
}

fn set_and<'a>(
    l: Vec<Elem<'a>>,
    r: Vec<Elem<'a>>,
    m: Option<&BinModifier>,
    unless: bool,
) -> Vec<Elem<'a>> {
    let all = all_but_name();
    let mut sigs = Signatures::new(m.and_then(|m| m.matching.as_ref()), &all);
    for e in &r {
        sigs.add(&e.labels);
    }
    l.into_iter()
        .filter(|e| sigs.find(&e.labels).is_some() != unless)
        .collect()
}

fn set_or<'a>(l: Vec<Elem<'a>>, r: Vec<Elem<'a>>, m: Option<&BinModifier>) -> Vec<Elem<'a>> {
    let all = all_but_name();
    let mut sigs = Signatures::new(m.and_then(|m| m.matching.as_ref()), &all);
    for e in &l {
        sigs.add(&e.labels);
    }
    let mut out = l;
    out.extend(r.into_iter().filter(|e| sigs.find(&e.labels).is_none()));
    out
}

fn vector_op<'a>(
    id: TokenId,
    lhs: Vec<Elem<'a>>,
    rhs: Vec<Elem<'a>>,
    m: Option<&BinModifier>,
    return_bool: bool,
    drop: bool,
) -> Result<V<'a>, EvalError> {
    if lhs.is_empty() || rhs.is_empty() {
        return Ok(V::Vector(Vec::new()));
    }
    let matching = m.and_then(|m| m.matching.as_ref());
    let card = m.map_or(&VectorMatchCardinality::OneToOne, |m| &m.card);
    if !m.is_none_or(|m| m.fill_values.lhs.is_none() && m.fill_values.rhs.is_none()) {
        return Err(EvalError::Unsupported("fill modifiers".into()));
    }
    let swapped = matches!(card, VectorMatchCardinality::OneToMany(_));
    let (many, one) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
    let all = all_but_name();
    let mut sigs = Signatures::new(matching, &all);
    // The "one" side by signature number: each must have its own.
    let mut ones: Vec<Elem<'a>> = Vec::with_capacity(one.len());
    for e in one {
        let sig = sigs.add(&e.labels);
        if let Some(dup) = ones.get(sig) {
            return Err(EvalError::Runtime(format!(
                "found duplicate series for the match group {} on the {} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                fmt_labels(&sigs.labels(sig)),
                if swapped { "left" } else { "right" },
                fmt_labels(&dup.labels),
                fmt_labels(&e.labels),
            )));
        }
        ones.push(e);
    }
    let one_to_one = matches!(card, VectorMatchCardinality::OneToOne);
    let include: &[String] = card.labels().map_or(&[], |l: &NameList| &l.labels);
    // One-to-one: which signatures have matched. Group_x: the result labels each has given.
    let mut matched_once = vec![false; ones.len()];
    let mut matched: HashSet<(usize, LabelsRef<'a>)> = HashSet::default();
    let mut out = Vec::new();
    for e in many {
        let Some((sig, o)) = sigs.find(&e.labels).and_then(|s| Some((s, ones.get(s)?))) else {
            continue;
        };
        let (l, r) = if swapped { (o.v, e.v) } else { (e.v, o.v) };
        let (mut v, keep) = apply(id, l, r)?;
        if return_bool {
            v = f64::from(u8::from(keep));
        } else if !keep {
            continue;
        }
        let labels = result_labels(&e.labels, &o.labels, matching, one_to_one, include);
        if one_to_one {
            if matched_once.get(sig).copied().unwrap_or(false) {
                return Err(EvalError::Runtime(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
                ));
            }
            if let Some(seen) = matched_once.get_mut(sig) {
                *seen = true;
            }
        } else if !matched.insert((sig, labels.clone())) {
            return Err(EvalError::Runtime(
                "multiple matches for labels: grouping labels must ensure unique matches".into(),
            ));
        }
        out.push(Elem {
            labels,
            v,
            drop_name: drop || e.drop_name,
        });
    }
    Ok(V::Vector(out))
}

/// Prometheus's `resultMetric`: one-to-one keeps the `on` labels (or drops the `ignoring` ones);
/// group_x copies the listed labels from the "one" side.
fn result_labels<'a>(
    many: &LabelsRef<'a>,
    one: &LabelsRef<'a>,
    matching: Option<&LabelModifier>,
    one_to_one: bool,
    include: &[String],
) -> LabelsRef<'a> {
    let only = |keep: &dyn Fn(&str) -> bool| -> LabelsRef<'a> {
        many.iter().filter(|(k, _)| keep(k)).cloned().collect()
    };
    let mut labels = match (one_to_one, matching) {
        (true, Some(LabelModifier::Include(on))) => only(&|k| on.labels.iter().any(|n| n == k)),
        (true, Some(LabelModifier::Exclude(ign))) => only(&|k| !ign.labels.iter().any(|n| n == k)),
        // The many side's labels as they are: shared, not copied.
        _ => many.clone(),
    };
    if include.is_empty() {
        return labels;
    }
    labels.edit(|labels| {
        for name in include {
            match one.iter().find(|(k, _)| k == name) {
                // The "one" side's value as it is (borrowed from the store): no copy of the
                // string.
                Some((_, v)) if !v.is_empty() => {
                    let v = v.clone();
                    match labels.binary_search_by(|(k, _)| k.as_ref().cmp(name)) {
                        Ok(i) => {
                            if let Some(slot) = labels.get_mut(i) {
                                slot.1 = v;
                            }
                        }
                        Err(i) => labels.insert(i, (name.clone().into(), v)),
                    }
                }
                _ => set_label(labels, name, ""),
            }
        }
    });
    labels
}
