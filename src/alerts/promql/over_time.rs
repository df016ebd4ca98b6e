//! The functions over a range vector: rates and deltas (through the store's
//! [`crate::metrics::store::functions`]), `deriv`/`predict_linear`, `changes`/`resets` and the
//! `*_over_time` family.

use promql_parser::parser::{Call, Expr, MatrixSelector};

use super::eval::{Ctx, Elem, Series, V, ms};
use super::funcs::{absent_elem, eval_scalar};
use super::math::{Mean, kahan_inc, linear_regression, quantile, stdvar};
use super::{Compat, EvalError};
use crate::metrics::store::functions::{CounterWindow, idelta, irate, window_rate};

pub(super) fn implemented(name: &str) -> bool {
    matches!(
        name,
        "rate"
            | "increase"
            | "delta"
            | "irate"
            | "idelta"
            | "deriv"
            | "predict_linear"
            | "changes"
            | "resets"
            | "avg_over_time"
            | "sum_over_time"
            | "count_over_time"
            | "min_over_time"
            | "max_over_time"
            | "last_over_time"
            | "first_over_time"
            | "ts_of_last_over_time"
            | "ts_of_first_over_time"
            | "quantile_over_time"
            | "stddev_over_time"
            | "stdvar_over_time"
            | "mad_over_time"
            | "present_over_time"
            | "absent_over_time"
            | "double_exponential_smoothing"
            | "holt_winters"
    )
}

/// The functions computed from a window's [`CounterWindow`], with whether they need the values
/// before drops (a counter's increase adds them back).
fn counter_function(name: &str) -> Option<bool> {
    match name {
        "rate" | "increase" => Some(true),
        "delta" | "changes" | "resets" => Some(false),
        _ => None,
    }
}

/// The range selector a call reads through [`super::Queryable::select_counter_ref`] (the store
/// then summarises each series' window instead of decoding it), with whether the drops' values
/// are needed. The evaluator and the selection cache's planner both ask this, so they agree on
/// which selections are read as samples.
pub(super) fn counter_selector(c: &Call) -> Option<(&MatrixSelector, bool)> {
    let values = counter_function(c.func.name)?;
    match c.args.args.first().map(|a| a.as_ref()) {
        Some(Expr::MatrixSelector(m)) if c.args.args.len() == 1 => Some((m, values)),
        _ => None,
    }
}

/// A counter function's value over a window `(start, end]`.
fn from_window(compat: Compat, name: &str, w: &CounterWindow, start: i64, end: i64) -> Option<f64> {
    match name {
        "rate" => rate(compat, w, start, end, true, true),
        "increase" => rate(compat, w, start, end, true, false),
        "delta" => rate(compat, w, start, end, false, false),
        "changes" => Some(w.changes as f64),
        "resets" => Some(w.drops as f64),
        _ => None,
    }
}

/// The window `(start, end]` a range argument covers at `t` (after `offset` and `@`).
fn bounds<'a>(ctx: &Ctx<'a>, e: &Expr, t: i64) -> (i64, i64) {
    match e {
        Expr::MatrixSelector(m) => {
            let end = ctx.at_time(t, &m.vs.offset, &m.vs.at);
            (end.saturating_sub(ms(&m.range)), end)
        }
        Expr::Subquery(sq) => {
            let end = ctx.at_time(t, &sq.offset, &sq.at);
            (end.saturating_sub(ms(&sq.range)), end)
        }
        Expr::Paren(p) => bounds(ctx, &p.expr, t),
        _ => (t, t),
    }
}

pub(super) fn call<'a>(ctx: &Ctx<'a>, c: &Call, t: i64, depth: usize) -> Result<V<'a>, EvalError> {
    let name = c.func.name;
    let args: Vec<&Expr> = c.args.args.iter().map(|b| b.as_ref()).collect();
    // The range argument is first except for quantile_over_time.
    let (range_arg, scalars): (&Expr, Vec<&Expr>) = match (name, args.as_slice()) {
        ("quantile_over_time", [q, m]) => (m, vec![q]),
        (_, [m, rest @ ..]) => (m, rest.to_vec()),
        _ => return Err(EvalError::Runtime(format!("{name} needs an argument"))),
    };
    let mut params = Vec::with_capacity(scalars.len());
    for s in scalars {
        params.push(eval_scalar(ctx, s, t, depth)?);
    }
    if matches!(name, "double_exponential_smoothing" | "holt_winters") {
        for &f in &params {
            if !(f > 0.0 && f < 1.0) {
                return Err(EvalError::Runtime(format!(
                    "invalid {} factor. Expected: 0 < {} < 1, got: {f}",
                    if Some(&f) == params.first() {
                        "smoothing"
                    } else {
                        "trend"
                    },
                    if Some(&f) == params.first() {
                        "sf"
                    } else {
                        "tf"
                    },
                )));
            }
        }
    }
    if let Some((m, values)) = counter_selector(c) {
        let (start, end) = bounds(ctx, range_arg, t);
        let windows = ctx.counter_selector(&m.vs, ms(&m.range), t, values)?;
        return Ok(V::Vector(
            windows
                .into_iter()
                .filter_map(|(labels, w)| {
                    let v = from_window(ctx.compat, name, &w, start, end)?;
                    Some(Elem {
                        labels,
                        v,
                        drop_name: true,
                    })
                })
                .collect(),
        ));
    }
    let series = match ctx.eval(range_arg, t, depth)? {
        V::Matrix(m) => m,
        other => {
            return Err(EvalError::Runtime(format!(
                "expected range vector, got {}",
                other.type_name()
            )));
        }
    };
    if name == "absent_over_time" {
        return Ok(V::Vector(if series.is_empty() {
            vec![absent_elem(range_arg)]
        } else {
            Vec::new()
        }));
    }
    let (start, end) = bounds(ctx, range_arg, t);
    let p0 = params.first().copied().unwrap_or(f64::NAN);
    let p1 = params.get(1).copied().unwrap_or(f64::NAN);
    let mut out = Vec::with_capacity(series.len());
    for Series {
        labels,
        samples,
        drop_name,
    } in series
    {
        let s = samples.as_slice();
        let v = match name {
            _ if let Some(values) = counter_function(name) => {
                CounterWindow::from_samples(s.iter().copied(), values)
                    .and_then(|w| from_window(ctx.compat, name, &w, start, end))
            }
            "irate" => irate(s),
            "idelta" => idelta(s),
            "deriv" => match s {
                [(first_t, _), _, ..] => Some(linear_regression(s, *first_t).0),
                _ => None,
            },
            "predict_linear" => (s.len() >= 2).then(|| {
                let (slope, intercept) = linear_regression(s, t);
                slope * p0 + intercept
            }),
            "avg_over_time" => {
                let mut m = Mean::default();
                s.iter().for_each(|&(_, v)| m.add(v));
                Some(m.value())
            }
            "sum_over_time" => {
                let (sum, c) = s
                    .iter()
                    .fold((0.0, 0.0), |(a, c), &(_, v)| kahan_inc(v, a, c));
                Some(sum + c)
            }
            "count_over_time" => Some(s.len() as f64),
            "min_over_time" => s
                .iter()
                .map(|p| p.1)
                .reduce(|acc, v| if acc > v || acc.is_nan() { v } else { acc }),
            "max_over_time" => s
                .iter()
                .map(|p| p.1)
                .reduce(|acc, v| if acc < v || acc.is_nan() { v } else { acc }),
            "last_over_time" => s.last().map(|p| p.1),
            "first_over_time" => s.first().map(|p| p.1),
            "ts_of_last_over_time" => s.last().map(|p| p.0 as f64 / 1000.0),
            "ts_of_first_over_time" => s.first().map(|p| p.0 as f64 / 1000.0),
            "quantile_over_time" => Some(quantile(p0, s.iter().map(|p| p.1).collect())),
            "stddev_over_time" => Some(stdvar(s).sqrt()),
            "stdvar_over_time" => Some(stdvar(s)),
            "mad_over_time" => {
                let median = quantile(0.5, s.iter().map(|p| p.1).collect());
                Some(quantile(
                    0.5,
                    s.iter().map(|p| (p.1 - median).abs()).collect(),
                ))
            }
            "present_over_time" => Some(1.0),
            "double_exponential_smoothing" | "holt_winters" => smoothing(s, p0, p1),
            _ => return Err(EvalError::Unsupported(format!("function {name}"))),
        };
        if let Some(v) = v {
            let keeps_name = matches!(name, "last_over_time" | "first_over_time");
            out.push(Elem {
                labels,
                v,
                drop_name: drop_name || !keeps_name,
            });
        }
    }
    Ok(V::Vector(out))
}

/// `extrapolatedRate` in the flavour of `compat`.
fn rate(
    compat: Compat,
    w: &CounterWindow,
    start: i64,
    end: i64,
    counter: bool,
    per_second: bool,
) -> Option<f64> {
    match compat {
        Compat::V3 => window_rate(w, start, end, counter, per_second),
        Compat::V2 => extrapolated_rate_v2(w, start, end, counter, per_second),
    }
}

/// Prometheus 2.x's `extrapolatedRate`: the zero point of a counter limits the extrapolation
/// to the start *before* the choice between "to the boundary" and "half an interval" (3.x
/// decides first; see [`crate::metrics::store::functions::extrapolated_rate`]).
fn extrapolated_rate_v2(
    w: &CounterWindow,
    start: i64,
    end: i64,
    counter: bool,
    per_second: bool,
) -> Option<f64> {
    let ((first_t, first_v), (last_t, last_v)) = (w.first, w.last);
    if w.count < 2 {
        return None;
    }
    let mut result = last_v - first_v;
    if counter {
        result += w.drop_sum();
    }
    let mut to_start = (first_t - start) as f64 / 1000.0;
    let to_end = (end - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let average = sampled / (w.count - 1) as f64;
    if counter && result > 0.0 && first_v >= 0.0 {
        to_start = to_start.min(sampled * (first_v / result));
    }
    let threshold = average * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        average / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        average / 2.0
    };
    result *= interval / sampled;
    if per_second {
        result /= (end - start) as f64 / 1000.0;
    }
    Some(result)
}

/// Prometheus's `funcDoubleExponentialSmoothing` (Holt's linear method).
fn smoothing(s: &[(i64, f64)], sf: f64, tf: f64) -> Option<f64> {
    let [(_, first), (_, second), ..] = s else {
        return None;
    };
    let (mut s0, mut s1, mut b) = (0.0, *first, second - first);
    for (i, &(_, v)) in s.iter().enumerate().skip(1) {
        let x = sf * v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Some(s1)
}
