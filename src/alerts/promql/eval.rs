//! The evaluator's core: the intermediate values, selectors (lookback, staleness, offset, `@`),
//! subqueries, and the final clean-up of metric names.
//!
//! Metric names are dropped as Prometheus 3 does with delayed name removal (what its promqltest
//! engine runs): functions and arithmetic only *flag* a series (`drop_name`), and the name goes
//! at the end of the evaluation, so `label_replace(rate(x[5m]), "n", "$1", "__name__", "(.+)")`
//! still sees the name; two results that become the same series then are an error.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::{AtModifier, Expr, Offset, SubqueryExpr, VectorSelector};

use super::{Compat, EvalError, LabelRef, LabelsRef, MatchOp, Matcher, Queryable};
use crate::metrics::store::functions::CounterWindow;
use crate::metrics::store::is_stale;

/// How deep an expression may nest before evaluation refuses it (the evaluator recurses).
pub(super) const MAX_DEPTH: usize = 200;
/// The default subquery step (`x[1h:]`): Prometheus uses the global evaluation interval; its
/// promqltest engine uses one minute.
pub(super) const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;
/// Points a subquery may evaluate per call, so a hostile `x[100y:1ms]` fails instead of hanging.
const MAX_SUBQUERY_STEPS: i64 = 200_000;

/// One element of an intermediate instant vector.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Elem<'a> {
    pub labels: LabelsRef<'a>,
    pub v: f64,
    /// Drop `__name__` at the end of the evaluation (delayed name removal).
    pub drop_name: bool,
}

/// One series of an intermediate range vector.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Series<'a> {
    pub labels: LabelsRef<'a>,
    pub samples: Vec<(i64, f64)>,
    pub drop_name: bool,
}

/// An intermediate value.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum V<'a> {
    Scalar(f64),
    Str(String),
    Vector(Vec<Elem<'a>>),
    Matrix(Vec<Series<'a>>),
}

impl V<'_> {
    pub fn type_name(&self) -> &'static str {
        match self {
            V::Scalar(_) => "scalar",
            V::Str(_) => "string",
            V::Vector(_) => "instant vector",
            V::Matrix(_) => "range vector",
        }
    }
}

/// One evaluation: the data, the settings, and the query's start and end (for `@ start()`).
pub(super) struct Ctx<'a> {
    pub q: &'a (dyn Queryable + 'a),
    pub compat: Compat,
    pub lookback: i64,
    pub start: i64,
    pub end: i64,
    /// Subexpressions shared with the other rules of the evaluation, if any.
    pub shared: Option<&'a super::shared::ExprCache>,
}

/// Milliseconds of a duration, saturating.
pub(super) fn ms(d: &Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn system_ms(t: &SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => ms(&d),
        Err(e) => ms(&e.duration()).saturating_neg(),
    }
}

pub(super) fn get<'l, S: AsRef<str>>(labels: &'l [(S, S)], name: &str) -> Option<&'l str> {
    labels
        .iter()
        .find(|(k, _)| k.as_ref() == name)
        .map(|(_, v)| v.as_ref())
}

/// Sets (or, with an empty value, removes) a label, keeping the labels sorted (Prometheus's
/// `labels.Builder.Set`), in owned [`super::Labels`] (rule evaluation relabels with it too) or
/// the evaluator's [`LabelsRef`].
pub(crate) fn set_label<S: AsRef<str> + From<String>>(
    labels: &mut Vec<(S, S)>,
    name: &str,
    value: &str,
) {
    match labels.binary_search_by(|(k, _)| k.as_ref().cmp(name)) {
        Ok(i) if value.is_empty() => {
            labels.remove(i);
        }
        Ok(i) => {
            if let Some(slot) = labels.get_mut(i) {
                slot.1 = S::from(value.to_owned());
            }
        }
        Err(_) if value.is_empty() => {}
        Err(i) => labels.insert(i, (S::from(name.to_owned()), S::from(value.to_owned()))),
    }
}

/// Labels as Prometheus prints them in messages: `name{a="b", c="d"}`.
pub(super) fn fmt_labels(labels: &LabelsRef<'_>) -> String {
    let name = get(labels, "__name__").unwrap_or("");
    let rest: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    if !name.is_empty() && rest.is_empty() {
        return name.to_owned();
    }
    format!("{name}{{{}}}", rest.join(", "))
}

/// A PromQL matcher as the store's, in the regex flavour of `compat` (3.x: `.` matches `\n`).
pub fn matcher(name: &str, op: MatchOp, value: &str, compat: Compat) -> Result<Matcher, EvalError> {
    let made = match compat {
        Compat::V2 => Matcher::new(name, op, value),
        Compat::V3 => Matcher::new_dot_all(name, op, value),
    };
    made.map_err(EvalError::Parse)
}

impl<'a> Ctx<'a> {
    /// The time a selector reads at: `@` replaces the evaluation time, then `offset` moves it.
    pub fn at_time(&self, t: i64, offset: &Option<Offset>, at: &Option<AtModifier>) -> i64 {
        let base = match at {
            None => t,
            Some(AtModifier::Start) => self.start,
            Some(AtModifier::End) => self.end,
            Some(AtModifier::At(st)) => system_ms(st),
        };
        match offset {
            None => base,
            Some(Offset::Pos(d)) => base.saturating_sub(ms(d)),
            Some(Offset::Neg(d)) => base.saturating_add(ms(d)),
        }
    }

    pub fn matchers(&self, vs: &VectorSelector) -> Result<Vec<Matcher>, EvalError> {
        if !vs.matchers.or_matchers.is_empty() {
            return Err(EvalError::Unsupported(
                "\"or\" inside a label matcher list".into(),
            ));
        }
        let mut out = Vec::with_capacity(vs.matchers.matchers.len() + 1);
        if let Some(name) = &vs.name {
            out.push(matcher("__name__", MatchOp::Equal, name, self.compat)?);
        }
        for m in &vs.matchers.matchers {
            let op = match m.op {
                PMatchOp::Equal => MatchOp::Equal,
                PMatchOp::NotEqual => MatchOp::NotEqual,
                PMatchOp::Re(_) => MatchOp::Re,
                PMatchOp::NotRe(_) => MatchOp::NotRe,
            };
            out.push(matcher(&m.name, op, &m.value, self.compat)?);
        }
        Ok(out)
    }

    /// Whether a sample at `ts` lies in the window ending at `end` of length `len`: left-open
    /// in 3.x, closed in 2.x.
    fn in_window(&self, ts: i64, end: i64, len: i64) -> bool {
        let start = end.saturating_sub(len);
        let after_start = match self.compat {
            Compat::V3 => ts > start,
            Compat::V2 => ts >= start,
        };
        after_start && ts <= end
    }

    /// An instant vector selector at `t`: each series' latest sample within the lookback, unless
    /// that is a staleness marker. Returns (labels, sample time, value).
    pub fn instant_selector(
        &self,
        vs: &VectorSelector,
        t: i64,
    ) -> Result<Vec<(LabelsRef<'a>, i64, f64)>, EvalError> {
        let (start, at) = self.instant_window(vs, t);
        let matchers = self.matchers(vs)?;
        Ok(self
            .q
            .select_newest_ref(&matchers, start, at)
            .into_iter()
            .filter(|&(_, _, v)| !is_stale(v))
            .collect())
    }

    /// The window an instant selector reads at `t`, as `select_newest` takes it (inclusive):
    /// the lookback, left-open in 3.x, closed in 2.x.
    pub fn instant_window(&self, vs: &VectorSelector, t: i64) -> (i64, i64) {
        let at = self.at_time(t, &vs.offset, &vs.at);
        let start = match self.compat {
            Compat::V3 => at.saturating_sub(self.lookback).saturating_add(1),
            Compat::V2 => at.saturating_sub(self.lookback),
        };
        (start, at)
    }

    /// The window a range selector reads at `t`, as `select` takes it (inclusive; the 3.x
    /// left-open start is applied after).
    pub fn range_window(&self, vs: &VectorSelector, range: i64, t: i64) -> (i64, i64) {
        let at = self.at_time(t, &vs.offset, &vs.at);
        (at.saturating_sub(range), at)
    }

    /// A range vector selector `vs[range]` at `t`: the samples in the window, markers removed.
    pub fn range_selector(
        &self,
        vs: &VectorSelector,
        range: i64,
        t: i64,
    ) -> Result<Vec<Series<'a>>, EvalError> {
        let (start, at) = self.range_window(vs, range, t);
        let matchers = self.matchers(vs)?;
        let mut out = Vec::new();
        for mut s in self.q.select_ref(&matchers, start, at) {
            s.samples
                .retain(|(ts, v)| self.in_window(*ts, at, range) && !is_stale(*v));
            let samples = s.samples;
            if !samples.is_empty() {
                out.push(Series {
                    labels: s.labels,
                    samples,
                    drop_name: false,
                });
            }
        }
        Ok(out)
    }

    /// The windows of a range selector `vs[range]` at `t` summarised for the counter functions
    /// (see [`Queryable::select_counter_ref`]), markers left out; `drop_values` as there.
    pub fn counter_selector(
        &self,
        vs: &VectorSelector,
        range: i64,
        t: i64,
        drop_values: bool,
    ) -> Result<Vec<(LabelsRef<'a>, CounterWindow)>, EvalError> {
        let (start, at) = self.counter_window(vs, range, t);
        let matchers = self.matchers(vs)?;
        Ok(self.q.select_counter_ref(&matchers, start, at, drop_values))
    }

    /// The window [`Ctx::counter_selector`] reads at `t`, as `select_counter_ref` takes it
    /// (inclusive: the 3.x left-open start is one millisecond later).
    pub fn counter_window(&self, vs: &VectorSelector, range: i64, t: i64) -> (i64, i64) {
        let (start, at) = self.range_window(vs, range, t);
        let start = match self.compat {
            Compat::V3 => start.saturating_add(1),
            Compat::V2 => start,
        };
        (start, at)
    }

    /// A subquery at `t`: the inner expression at every step-aligned time in its window.
    pub fn subquery(&self, sq: &SubqueryExpr, t: i64, depth: usize) -> Result<V<'a>, EvalError> {
        let end = self.at_time(t, &sq.offset, &sq.at);
        let range = ms(&sq.range);
        let step = sq.step.as_ref().map_or(DEFAULT_SUBQUERY_STEP_MS, ms).max(1);
        let start = end.saturating_sub(range);
        // Go's truncating division, as Prometheus aligns the first step.
        let mut ts = step.saturating_mul(start / step);
        let first_after = match self.compat {
            Compat::V3 => ts <= start,
            Compat::V2 => ts < start,
        };
        if first_after {
            ts = ts.saturating_add(step);
        }
        if end.saturating_sub(ts) / step > MAX_SUBQUERY_STEPS {
            return Err(EvalError::Runtime(
                "query processing would load too many samples into memory in subquery evaluation"
                    .into(),
            ));
        }
        let mut by_labels: BTreeMap<(LabelsRef<'a>, bool), Vec<(i64, f64)>> = BTreeMap::new();
        while ts <= end {
            match self.eval(&sq.expr, ts, depth + 1)? {
                V::Vector(elems) => {
                    for e in elems {
                        by_labels
                            .entry((e.labels, e.drop_name))
                            .or_default()
                            .push((ts, e.v));
                    }
                }
                V::Scalar(v) => by_labels
                    .entry((LabelsRef::default(), false))
                    .or_default()
                    .push((ts, v)),
                other => {
                    return Err(EvalError::Runtime(format!(
                        "subquery is only allowed on instant vector, got {} instead",
                        other.type_name()
                    )));
                }
            }
            ts = ts.saturating_add(step);
        }
        Ok(V::Matrix(
            by_labels
                .into_iter()
                .map(|((labels, drop_name), samples)| Series {
                    labels,
                    samples,
                    drop_name,
                })
                .collect(),
        ))
    }

    /// Evaluates `e` at `t`. Under 2.x names go at once (no delayed removal), so e.g.
    /// `label_replace(rate(x[1m]), "n", "$1", "__name__", "(.*)")` no longer sees them.
    pub fn eval(&self, e: &Expr, t: i64, depth: usize) -> Result<V<'a>, EvalError> {
        let Some((shared, slot)) = self.shared.and_then(|s| Some((s, s.slot(e, t)?))) else {
            return self.eval_unshared(e, t, depth);
        };
        shared.value(slot, || self.eval_unshared(e, t, depth))
    }

    fn eval_unshared(&self, e: &Expr, t: i64, depth: usize) -> Result<V<'a>, EvalError> {
        let v = self.eval_node(e, t, depth)?;
        Ok(match (self.compat, v) {
            (Compat::V2, V::Vector(elems)) => V::Vector(
                elems
                    .into_iter()
                    .map(|e| Elem {
                        labels: settle_name(e.labels, e.drop_name),
                        v: e.v,
                        drop_name: false,
                    })
                    .collect(),
            ),
            (_, v) => v,
        })
    }

    fn eval_node(&self, e: &Expr, t: i64, depth: usize) -> Result<V<'a>, EvalError> {
        if depth > MAX_DEPTH {
            return Err(EvalError::Unsupported(format!(
                "expressions nested deeper than {MAX_DEPTH}"
            )));
        }
        match e {
            Expr::NumberLiteral(n) => Ok(V::Scalar(n.val)),
            Expr::StringLiteral(s) => Ok(V::Str(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr, t, depth + 1),
            Expr::Unary(u) => match self.eval(&u.expr, t, depth + 1)? {
                V::Scalar(v) => Ok(V::Scalar(-v)),
                V::Vector(elems) => Ok(V::Vector(
                    elems
                        .into_iter()
                        .map(|e| Elem {
                            labels: e.labels,
                            v: -e.v,
                            drop_name: true,
                        })
                        .collect(),
                )),
                other => Err(EvalError::Runtime(format!(
                    "unary expression only allowed on expressions of type scalar or instant vector, got {}",
                    other.type_name()
                ))),
            },
            Expr::Binary(b) => super::binop::eval(self, b, t, depth + 1),
            Expr::Aggregate(a) => super::agg::eval(self, a, t, depth + 1),
            Expr::Call(c) => super::funcs::call(self, c, t, depth + 1),
            Expr::VectorSelector(vs) => Ok(V::Vector(
                self.instant_selector(vs, t)?
                    .into_iter()
                    .map(|(labels, _, v)| Elem {
                        labels,
                        v,
                        drop_name: false,
                    })
                    .collect(),
            )),
            Expr::MatrixSelector(m) => {
                Ok(V::Matrix(self.range_selector(&m.vs, ms(&m.range), t)?))
            }
            Expr::Subquery(sq) => self.subquery(sq, t, depth + 1),
            Expr::Extension(_) => Err(EvalError::Unsupported("extension expressions".into())),
        }
    }
}

/// The labels as they leave an evaluation step: when `drop` is set, without the metric name
/// and, with it, the type and unit metadata labels (`__type__`, `__unit__`) Prometheus 3.5
/// attaches under its type-and-unit-labels feature.
fn settle_name(labels: LabelsRef<'_>, drop: bool) -> LabelsRef<'_> {
    let dropped =
        |(k, _): &LabelRef<'_>| matches!(k.as_ref(), "__name__" | "__type__" | "__unit__");
    if drop && labels.iter().any(dropped) {
        return labels.iter().filter(|&l| !dropped(l)).cloned().collect();
    }
    labels
}

/// Drops the flagged names and refuses results where two elements end up the same series.
pub(super) fn cleanup_vector(elems: Vec<Elem<'_>>) -> Result<Vec<(LabelsRef<'_>, f64)>, EvalError> {
    let out: Vec<(LabelsRef<'_>, f64)> = elems
        .into_iter()
        .map(|e| (settle_name(e.labels, e.drop_name), e.v))
        .collect();
    no_duplicates(out.iter().map(|(labels, _)| labels))?;
    Ok(out)
}

/// [`cleanup_vector`] for range vectors.
pub(super) fn cleanup_matrix(series: Vec<Series<'_>>) -> Result<Vec<Series<'_>>, EvalError> {
    let out: Vec<Series> = series
        .into_iter()
        .map(|s| Series {
            labels: settle_name(s.labels, s.drop_name),
            samples: s.samples,
            drop_name: false,
        })
        .collect();
    no_duplicates(out.iter().map(|s| &s.labels))?;
    Ok(out)
}

/// Refuses a result with two series of the same labels (checked by reference: copying every
/// result's labels into a set cost as much as the rest of the clean-up).
fn no_duplicates<'l, 'a: 'l>(
    labels: impl ExactSizeIterator<Item = &'l LabelsRef<'a>>,
) -> Result<(), EvalError> {
    let mut seen = foldhash::HashSet::with_capacity_and_hasher(labels.len(), Default::default());
    for l in labels {
        if !seen.insert(l) {
            return Err(EvalError::Runtime(
                "vector cannot contain metrics with the same labelset".into(),
            ));
        }
    }
    Ok(())
}
