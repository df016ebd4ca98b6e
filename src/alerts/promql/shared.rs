//! Common subexpressions of a rule group, evaluated once per evaluation.
//!
//! Rule groups repeat whole subexpressions: an error ratio's denominator
//! `sum by (job) (rate(http_requests_total[5m]))` is also the traffic alert's expression, the
//! latency objective's and the capacity rule's. Within one evaluation (one instant, data that
//! does not change under it) such a subexpression has one value, so an [`ExprCache`] keeps the
//! first evaluation's value for the later occurrences.
//!
//! What is shared, decided when the cache is planned from the group's expressions:
//! - a subexpression occurring more than once (outside subqueries; structurally equal, found
//!   by its printed text), counted top-down: the occurrences inside a shared subexpression's
//!   later copies are never evaluated, so they do not count;
//! - whose every selector names its metric with `__name__="..."`, and no name the group itself
//!   writes (its recording rules, `ALERTS`, `ALERTS_FOR_STATE`): those series change between
//!   the group's rules, and a later rule must read what an earlier one wrote;
//! - and whose value is small: at most [`MAX_HELD`] elements are copied out of the store's
//!   borrow and held (a big vector's selection is shared by the
//!   [`super::SelectionCache`] instead).
//!
//! Each value is dropped after its last planned read. The group's rules may be evaluated on
//! several threads at once: each shared subexpression has its own lock, held while it is
//! evaluated, so a second evaluation of it waits for the first and reads its value. (A
//! subexpression evaluated under its lock only takes the locks of smaller ones, inside it, and
//! of selections, whose reads take no lock: no two threads can each wait for the other.)

use std::sync::{Mutex, PoisonError};

use foldhash::{HashMap, HashSet};
use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::{Expr, VectorSelector};

use super::EvalError;
use super::eval::{Elem, V};

/// The most elements a shared value may have to be held.
pub const MAX_HELD: usize = 2_000;

#[derive(Debug)]
struct Slot {
    /// One occurrence, to check a candidate by structure and not only by its printed text.
    expr: Expr,
    held: Mutex<Held>,
}

#[derive(Debug)]
struct Held {
    /// Reads still to come.
    remaining: usize,
    value: Option<V<'static>>,
}

/// The shared subexpressions of one evaluation at one instant (see the module doc).
#[derive(Debug, Default)]
pub struct ExprCache {
    t_ms: i64,
    by_text: HashMap<String, usize>,
    slots: Vec<Slot>,
}

impl ExprCache {
    /// Plans the cache for `exprs` evaluated in order at `t_ms`, by a group writing the series
    /// named as `written` says.
    pub fn plan<'e>(
        exprs: impl IntoIterator<Item = &'e Expr> + Clone,
        t_ms: i64,
        written: &dyn Fn(&str) -> bool,
    ) -> Self {
        let mut total: HashMap<String, (usize, bool)> = HashMap::default();
        let mut first: HashMap<String, &Expr> = HashMap::default();
        for e in exprs.clone() {
            walk(e, &mut |node| {
                let text = node.to_string();
                let entry = total.entry(text.clone()).or_insert((0, true));
                entry.0 += 1;
                match first.get(&text) {
                    Some(seen) if **seen != *node => entry.1 = false,
                    Some(_) => {}
                    None => {
                        entry.1 = reads_only_unwritten(node, written);
                        first.insert(text, node);
                    }
                }
                true
            });
        }
        let shared = |text: &str| total.get(text).is_some_and(|&(n, ok)| n > 1 && ok);
        let mut uses: HashMap<String, usize> = HashMap::default();
        let mut seen: HashSet<String> = HashSet::default();
        for e in exprs {
            walk(e, &mut |node| {
                let text = node.to_string();
                if !shared(&text) {
                    return true;
                }
                *uses.entry(text.clone()).or_default() += 1;
                seen.insert(text)
            });
        }
        let mut by_text = HashMap::default();
        let mut slots = Vec::new();
        for (text, remaining) in uses {
            if remaining < 2 {
                continue;
            }
            if let Some(&expr) = first.get(&text) {
                by_text.insert(text, slots.len());
                slots.push(Slot {
                    expr: expr.clone(),
                    held: Mutex::new(Held {
                        remaining,
                        value: None,
                    }),
                });
            }
        }
        ExprCache {
            t_ms,
            by_text,
            slots,
        }
    }

    /// How many subexpressions are planned to be shared and how many values are held now.
    pub fn sizes(&self) -> (usize, usize) {
        self.slots.iter().fold((0, 0), |(live, held), slot| {
            let slot = slot.held.lock().unwrap_or_else(PoisonError::into_inner);
            (
                live + usize::from(slot.remaining > 0),
                held + usize::from(slot.value.is_some()),
            )
        })
    }

    /// The slot of `e` evaluated at `t`, if it is shared.
    pub(super) fn slot(&self, e: &Expr, t: i64) -> Option<usize> {
        if t != self.t_ms || self.by_text.is_empty() || is_leaf(e) {
            return None;
        }
        let i = *self.by_text.get(&e.to_string())?;
        (self.slots.get(i)?.expr == *e).then_some(i)
    }

    /// One planned read of slot `i`: the value an earlier read kept (taken on the last planned
    /// read), else `eval`'s, kept for the later reads if it is small. The slot stays locked
    /// while `eval` runs. A failed evaluation counts no read: the rule fails, and a later one
    /// evaluates the subexpression again.
    pub(super) fn value<'a>(
        &self,
        i: usize,
        eval: impl FnOnce() -> Result<V<'a>, EvalError>,
    ) -> Result<V<'a>, EvalError> {
        let Some(slot) = self.slots.get(i) else {
            return eval();
        };
        let mut held = slot.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.value.is_some() {
            held.remaining = held.remaining.saturating_sub(1);
            let value = if held.remaining == 0 {
                held.value.take()
            } else {
                held.value.clone()
            };
            if let Some(v) = value {
                return Ok(v);
            }
        }
        let v = eval()?;
        held.remaining = held.remaining.saturating_sub(1);
        if held.remaining > 0 {
            held.value = to_static(&v);
        }
        Ok(v)
    }
}

/// Selectors and literals: nothing to share (selections have their own cache).
fn is_leaf(e: &Expr) -> bool {
    matches!(
        e,
        Expr::VectorSelector(_)
            | Expr::MatrixSelector(_)
            | Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
    )
}

/// Calls `f` on every node of `e` outside subqueries, parents first, in evaluation order; a
/// node for which `f` returns false is not descended into.
fn walk<'e>(e: &'e Expr, f: &mut dyn FnMut(&'e Expr) -> bool) {
    if is_leaf(e) {
        return;
    }
    if !f(e) {
        return;
    }
    match e {
        Expr::Aggregate(a) => {
            walk(&a.expr, f);
            if let Some(p) = &a.param {
                walk(p, f);
            }
        }
        Expr::Unary(u) => walk(&u.expr, f),
        Expr::Binary(b) => {
            walk(&b.lhs, f);
            walk(&b.rhs, f);
        }
        Expr::Paren(p) => walk(&p.expr, f),
        Expr::Call(c) => {
            for a in &c.args.args {
                walk(a, f);
            }
        }
        Expr::Subquery(_)
        | Expr::VectorSelector(_)
        | Expr::MatrixSelector(_)
        | Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::Extension(_) => {}
    }
}

/// Whether every selector in `e` (subqueries included) names a metric the group does not write
/// (`written` says which it does): a selector without a name, or with a name by regex, may read
/// them.
pub fn reads_only_unwritten(e: &Expr, written: &dyn Fn(&str) -> bool) -> bool {
    let named = |vs: &VectorSelector| {
        let name = vs.name.as_deref().or_else(|| {
            vs.matchers
                .matchers
                .iter()
                .find(|m| m.name == "__name__" && m.op == PMatchOp::Equal)
                .map(|m| m.value.as_str())
        });
        vs.matchers.or_matchers.is_empty() && name.is_some_and(|n| !written(n))
    };
    match e {
        Expr::VectorSelector(vs) => named(vs),
        Expr::MatrixSelector(m) => named(&m.vs),
        Expr::Aggregate(a) => {
            reads_only_unwritten(&a.expr, written)
                && a.param
                    .as_deref()
                    .is_none_or(|p| reads_only_unwritten(p, written))
        }
        Expr::Unary(u) => reads_only_unwritten(&u.expr, written),
        Expr::Binary(b) => {
            reads_only_unwritten(&b.lhs, written) && reads_only_unwritten(&b.rhs, written)
        }
        Expr::Paren(p) => reads_only_unwritten(&p.expr, written),
        Expr::Subquery(sq) => reads_only_unwritten(&sq.expr, written),
        Expr::Call(c) => c.args.args.iter().all(|a| reads_only_unwritten(a, written)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => true,
        Expr::Extension(_) => false,
    }
}

/// `v` with owned labels, if it is small enough to hold (matrices are not held).
fn to_static(v: &V<'_>) -> Option<V<'static>> {
    Some(match v {
        V::Scalar(x) => V::Scalar(*x),
        V::Str(s) => V::Str(s.clone()),
        V::Vector(elems) if elems.len() <= MAX_HELD => V::Vector(
            elems
                .iter()
                .map(|e| Elem {
                    labels: e
                        .labels
                        .iter()
                        .map(|(k, v)| {
                            (k.clone().into_owned().into(), v.clone().into_owned().into())
                        })
                        .collect(),
                    v: e.v,
                    drop_name: e.drop_name,
                })
                .collect(),
        ),
        V::Vector(_) | V::Matrix(_) => return None,
    })
}

#[cfg(test)]
mod tests;
