//! The PromQL evaluator: expressions parsed by `promql-parser`, evaluated here over any
//! [`Queryable`] with Prometheus's semantics (3.x by default, 2.x on request; see [`Compat`]).
//!
//! CONTRACT (session 6): the types and signatures below are what the other alert modules build
//! on; the bodies are being written by the evaluator's owner.

use std::fmt;

pub use crate::config::endpoints::PrometheusCompat as Compat;
pub use crate::metrics::store::{MatchOp, Matcher};

pub mod mem;
pub use mem::MemStore;

/// Label pairs sorted by name, `__name__` included when the series has a name.
pub type Labels = Vec<(String, String)>;

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
pub fn parse(text: &str) -> Result<Expr, EvalError> {
    promql_parser::parser::parse(text).map_err(EvalError::Parse)
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
    /// Evaluates `expr` at `t_ms`.
    pub fn instant(
        &self,
        _q: &dyn Queryable,
        _expr: &Expr,
        _t_ms: i64,
    ) -> Result<Value, EvalError> {
        Err(EvalError::Unsupported("the evaluator (being built)".into()))
    }

    /// Evaluates `expr` at every step from `start_ms` to `end_ms` inclusive: a matrix.
    pub fn range(
        &self,
        _q: &dyn Queryable,
        _expr: &Expr,
        _start_ms: i64,
        _end_ms: i64,
        _step_ms: i64,
    ) -> Result<Value, EvalError> {
        Err(EvalError::Unsupported("the evaluator (being built)".into()))
    }
}
