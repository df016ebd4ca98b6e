//! The functions over a range vector: rates and deltas (through the store's
//! [`crate::metrics::store::functions`]), `deriv`/`predict_linear`, `changes`/`resets` and the
//! `*_over_time` family.

use promql_parser::parser::{Call, Expr};

use super::EvalError;
use super::eval::{Ctx, Elem, Series, V, ms};
use super::funcs::{absent_elem, eval_scalar};
use super::math::{Mean, kahan_inc, linear_regression, quantile, stdvar};
use crate::metrics::store::functions::{extrapolated_rate, idelta, irate, resets};

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

/// The window `(start, end]` a range argument covers at `t` (after `offset` and `@`).
fn bounds(ctx: &Ctx, e: &Expr, t: i64) -> (i64, i64) {
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

pub(super) fn call(ctx: &Ctx, c: &Call, t: i64, depth: usize) -> Result<V, EvalError> {
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
            "rate" => extrapolated_rate(s, start, end, true, true),
            "increase" => extrapolated_rate(s, start, end, true, false),
            "delta" => extrapolated_rate(s, start, end, false, false),
            "irate" => irate(s),
            "idelta" => idelta(s),
            "deriv" => (s.len() >= 2).then(|| linear_regression(s, s[0].0).0),
            "predict_linear" => (s.len() >= 2).then(|| {
                let (slope, intercept) = linear_regression(s, t);
                slope * p0 + intercept
            }),
            "changes" => Some(
                s.windows(2)
                    .filter(|w| {
                        let (a, b) = (w[0].1, w[1].1);
                        !(a == b || (a.is_nan() && b.is_nan()))
                    })
                    .count() as f64,
            ),
            "resets" => Some(resets(s) as f64),
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
