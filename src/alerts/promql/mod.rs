//! The PromQL evaluator: expressions parsed by `promql-parser`, evaluated here over any
//! [`Queryable`] with Prometheus's semantics (3.x by default, 2.x on request; see [`Compat`]).
//!
//! CONTRACT (session 6): the types and signatures below are what the other alert modules build
//! on. The evaluation itself lives in the submodules: [`eval`] (selectors, subqueries, name
//! dropping), `binop`, `agg`, `funcs`/`over_time`/`date`/`labels`, `math` (Prometheus's float
//! arithmetic), `support` ([`check_supported`]) and `store` (the console's store as a
//! [`Queryable`]). What a rule group's rules share while evaluated together: [`cache`] (their
//! selections) and [`shared`] (their repeated subexpressions).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::metrics::store::is_stale;

pub use crate::config::endpoints::PrometheusCompat as Compat;
pub use crate::metrics::store::functions::CounterWindow;
pub use crate::metrics::store::{MatchOp, Matcher};

mod agg;
mod binop;
pub mod cache;
#[cfg(test)]
mod counting;
mod date;
mod eval;
mod funcs;
mod labels;
mod math;
pub mod mem;
mod over_time;
pub mod shared;
mod store;
mod support;
pub mod workers;
pub use cache::{Cached, SelectionCache};
pub use eval::matcher;
pub(crate) use eval::set_label;
pub use mem::MemStore;
pub use shared::ExprCache;
pub use support::check_supported;

/// Label pairs sorted by name, `__name__` included when the series has a name.
pub type Labels = Vec<(String, String)>;

/// One label as the evaluator carries it: name and value, each borrowed or owned.
pub type LabelRef<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Labels as the evaluator carries them: strings borrowed from the store while it is read (no
/// copy of every selected series' strings), owned where an expression made them
/// (`label_replace`, aggregation keys...), sorted by name like [`Labels`]. The pairs are shared:
/// a copy of an element's labels (a held selection handed to another rule, the labels a binary
/// operation or a function keeps) is a reference count, not a new vector.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelsRef<'a>(Arc<[LabelRef<'a>]>);

impl<'a> LabelsRef<'a> {
    /// The labels changed by `edit` (a copy of the pairs, edited, shared anew).
    pub fn edit(&mut self, edit: impl FnOnce(&mut Vec<LabelRef<'a>>)) {
        let mut pairs = self.0.to_vec();
        edit(&mut pairs);
        self.0 = pairs.into();
    }
}

impl<'a> std::ops::Deref for LabelsRef<'a> {
    type Target = [LabelRef<'a>];

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'a> FromIterator<LabelRef<'a>> for LabelsRef<'a> {
    fn from_iter<I: IntoIterator<Item = LabelRef<'a>>>(iter: I) -> Self {
        LabelsRef(iter.into_iter().collect())
    }
}

impl<'a> From<Vec<LabelRef<'a>>> for LabelsRef<'a> {
    fn from(pairs: Vec<LabelRef<'a>>) -> Self {
        LabelsRef(pairs.into())
    }
}

impl fmt::Debug for LabelsRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

/// A series as [`Queryable::select_ref`] returns it.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesRef<'a> {
    pub labels: LabelsRef<'a>,
    pub samples: Vec<(i64, f64)>,
}

/// Owned copies of borrowed labels.
pub fn owned_labels(labels: LabelsRef<'_>) -> Labels {
    labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// [`Queryable::select_counter_ref`] from selected samples: each series' window, staleness
/// markers left out (a series with nothing else is left out).
pub fn counter_windows(
    series: Vec<SeriesRef<'_>>,
    drop_values: bool,
) -> Vec<(LabelsRef<'_>, CounterWindow)> {
    series
        .into_iter()
        .filter_map(|s| {
            let samples = s.samples.into_iter().filter(|&(_, v)| !is_stale(v));
            Some((s.labels, CounterWindow::from_samples(samples, drop_values)?))
        })
        .collect()
}

/// Owned copies of borrowed series: `select` for a store that lends its labels.
pub fn owned_series(series: Vec<SeriesRef<'_>>) -> Vec<SeriesData> {
    series
        .into_iter()
        .map(|s| SeriesData {
            labels: owned_labels(s.labels),
            samples: s.samples,
        })
        .collect()
}

fn borrowed_labels(labels: Labels) -> LabelsRef<'static> {
    labels
        .into_iter()
        .map(|(k, v)| (Cow::Owned(k), Cow::Owned(v)))
        .collect()
}

/// One series as a [`Queryable`] returns it: its labels and its samples in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesData {
    pub labels: Labels,
    /// `(timestamp ms, value)`, stale markers ([`crate::metrics::store::STALE_NAN_BITS`])
    /// included.
    pub samples: Vec<(i64, f64)>,
}

/// What the evaluator reads series from.
pub trait Queryable {
    /// Every series matching all `matchers`, with its samples `start_ms <= t <= end_ms` (both
    /// ends inclusive; the evaluator applies 2.x/3.x window rules itself).
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesData>;

    /// Every series matching all `matchers` that has a sample with `start_ms <= t <= end_ms`,
    /// with its labels and its newest such sample (a staleness marker included): what an
    /// instant selector reads. The default goes through [`Queryable::select`]; a store that can
    /// find the newest sample without reading the whole window should override it.
    fn select_newest(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Vec<(Labels, i64, f64)> {
        self.select(matchers, start_ms, end_ms)
            .into_iter()
            .filter_map(|s| {
                let &(t, v) = s.samples.last()?;
                Some((s.labels, t, v))
            })
            .collect()
    }

    /// [`Queryable::select`] with labels the evaluator can borrow: what it calls. The default
    /// wraps `select`'s owned labels; a store that holds its labels should lend them instead
    /// (the console's store does: copying every selected series' label strings cost more than
    /// the rest of a rule).
    fn select_ref(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesRef<'_>> {
        self.select(matchers, start_ms, end_ms)
            .into_iter()
            .map(|s| SeriesRef {
                labels: borrowed_labels(s.labels),
                samples: s.samples,
            })
            .collect()
    }

    /// For every series matching all `matchers` with a sample in `start_ms..=end_ms` that is not
    /// a staleness marker: what the counter functions (`rate`, `increase`, `delta`, `resets`,
    /// `changes`) need of those samples, listing the values before drops when `drop_values`.
    /// The default summarises [`Queryable::select_ref`]'s samples; the console's store builds
    /// it from per-chunk summaries and decodes only a window's edges.
    fn select_counter_ref(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
        drop_values: bool,
    ) -> Vec<(LabelsRef<'_>, CounterWindow)> {
        counter_windows(self.select_ref(matchers, start_ms, end_ms), drop_values)
    }

    /// [`Queryable::select_newest`] with borrowed labels, as [`Queryable::select_ref`].
    fn select_newest_ref(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Vec<(LabelsRef<'_>, i64, f64)> {
        self.select_newest(matchers, start_ms, end_ms)
            .into_iter()
            .map(|(labels, t, v)| (borrowed_labels(labels), t, v))
            .collect()
    }
}

/// One element of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
}

/// An expression's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, s: String },
    Vector(Vec<Sample>),
    Matrix(Vec<SeriesData>),
}

/// Why an expression could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    /// Valid PromQL this evaluator does not implement; the text names it ("unsupported: <what>").
    Unsupported(String),
    /// Not valid PromQL.
    Parse(String),
    /// Valid but failed at evaluation, as Prometheus would fail (e.g. many-to-many matching).
    Runtime(String),
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::Unsupported(what) => write!(f, "unsupported: {what}"),
            EvalError::Parse(why) => write!(f, "{why}"),
            EvalError::Runtime(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for EvalError {}

/// A parsed expression, ready to evaluate many times.
pub type Expr = promql_parser::parser::Expr;

/// Parses `text` as PromQL.
///
/// Text nested deeper than the evaluator goes, or with more operators than any rule needs, is
/// refused before the parser sees it: the parser's tree (and dropping it) recurses, so hostile
/// input such as `1+1+1+...` or `((((...` could exhaust the stack.
pub fn parse(text: &str) -> Result<Expr, EvalError> {
    const MAX_OPERATORS: usize = 4_000;
    let (mut depth, mut operators) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(q), '\\') if q != '`' => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            (None, '+' | '-' | '*' | '/' | '%' | '^' | '<' | '>' | '=' | '!') => operators += 1,
            (None, _) => {}
        }
        if depth > eval::MAX_DEPTH {
            return Err(EvalError::Parse(format!(
                "expression nested deeper than {} levels",
                eval::MAX_DEPTH
            )));
        }
        if operators > MAX_OPERATORS {
            return Err(EvalError::Parse(format!(
                "expression has more than {MAX_OPERATORS} operators"
            )));
        }
    }
    if huge_duration(text) {
        return Err(EvalError::Parse("duration out of range".into()));
    }
    // The parser panics on some inputs (e.g. a duration too large for `Duration`); refuse
    // them instead of taking the console down.
    std::panic::catch_unwind(|| promql_parser::parser::parse(text))
        .unwrap_or_else(|_| Err("the PromQL parser failed on this input".into()))
        .map_err(EvalError::Parse)
}

/// Whether `text` has a duration (digits then a unit letter) of more than nine significant
/// digits: the parser converts such durations with `Duration::from_secs_f64`, which panics.
fn huge_duration(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes.get(i).is_some_and(u8::is_ascii_digit) {
            let start = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            let digits = text
                .get(start..i)
                .unwrap_or("")
                .trim_start_matches('0')
                .len();
            if digits > 9 && bytes.get(i).is_some_and(|b| b"smhdwy".contains(b)) {
                return true;
            }
        } else {
            i += 1;
        }
    }
    false
}

/// Evaluation settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Engine {
    pub compat: Compat,
    /// The instant-vector lookback (5 minutes by default).
    pub lookback_ms: i64,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            compat: Compat::V3,
            lookback_ms: 5 * 60 * 1000,
        }
    }
}

impl Engine {
    fn ctx<'a>(&self, q: &'a (dyn Queryable + 'a), start: i64, end: i64) -> eval::Ctx<'a> {
        eval::Ctx {
            q,
            compat: self.compat,
            lookback: self.lookback_ms.max(1),
            start,
            end,
            shared: None,
        }
    }

    /// Evaluates `expr` at `t_ms`. Features the evaluator lacks give
    /// [`EvalError::Unsupported`] (see [`check_supported`]), never a guessed answer.
    pub fn instant(&self, q: &dyn Queryable, expr: &Expr, t_ms: i64) -> Result<Value, EvalError> {
        self.instant_with(q, expr, t_ms, None)
    }

    /// [`Engine::instant`] reusing the values of subexpressions `shared` holds (the other rules
    /// of the same evaluation computed them; see [`ExprCache`]).
    pub fn instant_with(
        &self,
        q: &dyn Queryable,
        expr: &Expr,
        t_ms: i64,
        shared: Option<&ExprCache>,
    ) -> Result<Value, EvalError> {
        check_supported(expr)?;
        let ctx = eval::Ctx {
            shared,
            ..self.ctx(q, t_ms, t_ms)
        };
        Ok(match ctx.eval(expr, t_ms, 0)? {
            eval::V::Scalar(v) => Value::Scalar { t: t_ms, v },
            eval::V::Str(s) => Value::String { t: t_ms, s },
            eval::V::Vector(elems) => Value::Vector(
                eval::cleanup_vector(elems)?
                    .into_iter()
                    .map(|(labels, v)| Sample {
                        labels: owned_labels(labels),
                        t: t_ms,
                        v,
                    })
                    .collect(),
            ),
            eval::V::Matrix(series) => Value::Matrix(
                eval::cleanup_matrix(series)?
                    .into_iter()
                    .map(|s| SeriesData {
                        labels: owned_labels(s.labels),
                        samples: s.samples,
                    })
                    .collect(),
            ),
        })
    }

    /// [`Engine::instant_with`] for each of `exprs`, answers in the same order, evaluated on
    /// one thread per core (see [`workers`]): for expressions that do not read each other's
    /// results, such as the rules of a group that read nothing the group writes. `shared` and a
    /// [`Cached`] `q` are shared between the threads. The expressions are taken up in an order
    /// that starts the threads on different selections where it can (see [`cache::spread`]).
    pub fn instant_each(
        &self,
        q: &(dyn Queryable + Sync),
        exprs: &[&Expr],
        t_ms: i64,
        shared: Option<&ExprCache>,
    ) -> Vec<Result<Value, EvalError>> {
        let order: Vec<(usize, &Expr)> =
            cache::spread(self, exprs, t_ms, workers::count(exprs.len()))
                .into_iter()
                .filter_map(|i| Some((i, *exprs.get(i)?)))
                .collect();
        let mut answers =
            workers::each(&order, |&(i, e)| (i, self.instant_with(q, e, t_ms, shared)));
        answers.sort_unstable_by_key(|&(i, _)| i);
        answers.into_iter().map(|(_, answer)| answer).collect()
    }

    /// Evaluates `expr` at every step from `start_ms` to `end_ms` inclusive: a matrix, series
    /// sorted by labels (a scalar expression gives one series without labels).
    pub fn range(
        &self,
        q: &dyn Queryable,
        expr: &Expr,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Value, EvalError> {
        check_supported(expr)?;
        if step_ms <= 0 {
            return Err(EvalError::Runtime(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if end_ms < start_ms {
            return Err(EvalError::Runtime(
                "end timestamp must not be before start time".into(),
            ));
        }
        if (end_ms - start_ms) / step_ms > 11_000 {
            return Err(EvalError::Runtime(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
            ));
        }
        let ctx = self.ctx(q, start_ms, end_ms);
        let mut series: std::collections::BTreeMap<Labels, Vec<(i64, f64)>> =
            std::collections::BTreeMap::new();
        let mut t = start_ms;
        while t <= end_ms {
            match ctx.eval(expr, t, 0)? {
                eval::V::Scalar(v) => series.entry(Vec::new()).or_default().push((t, v)),
                eval::V::Vector(elems) => {
                    for (labels, v) in eval::cleanup_vector(elems)? {
                        series.entry(owned_labels(labels)).or_default().push((t, v));
                    }
                }
                other => {
                    return Err(EvalError::Runtime(format!(
                        "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                        other.type_name()
                    )));
                }
            }
            t += step_ms;
        }
        Ok(Value::Matrix(
            series
                .into_iter()
                .map(|(labels, samples)| SeriesData { labels, samples })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests;
