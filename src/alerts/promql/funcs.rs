//! PromQL functions over instant vectors and scalars, and the dispatch to the range functions
//! ([`super::over_time`]). Every function but `last_over_time`/`first_over_time`, the label
//! functions and `sort*` flags `__name__` for dropping, as Prometheus 3 does.

use promql_parser::parser::{Call, Expr};

use super::eval::{Ctx, Elem, V, get, set_label};
use super::math::{go_max, go_min};
use super::{EvalError, LabelRef, LabelsRef};

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest exact decimal, Go's spellings of the
/// special values.
pub(super) fn go_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

pub(super) fn eval_vector<'a>(
    ctx: &Ctx<'a>,
    e: &Expr,
    t: i64,
    depth: usize,
) -> Result<Vec<Elem<'a>>, EvalError> {
    match ctx.eval(e, t, depth)? {
        V::Vector(v) => Ok(v),
        other => Err(EvalError::Runtime(format!(
            "expected instant vector, got {}",
            other.type_name()
        ))),
    }
}

pub(super) fn eval_scalar<'a>(
    ctx: &Ctx<'a>,
    e: &Expr,
    t: i64,
    depth: usize,
) -> Result<f64, EvalError> {
    match ctx.eval(e, t, depth)? {
        V::Scalar(v) => Ok(v),
        other => Err(EvalError::Runtime(format!(
            "expected scalar, got {}",
            other.type_name()
        ))),
    }
}

pub(super) fn eval_string<'a>(
    ctx: &Ctx<'a>,
    e: &Expr,
    t: i64,
    depth: usize,
) -> Result<String, EvalError> {
    match ctx.eval(e, t, depth)? {
        V::Str(s) => Ok(s),
        other => Err(EvalError::Runtime(format!(
            "expected string, got {}",
            other.type_name()
        ))),
    }
}

/// Applies `f` to every value, flagging names for dropping.
fn map(elems: Vec<Elem<'_>>, f: impl Fn(f64) -> f64) -> V<'_> {
    V::Vector(
        elems
            .into_iter()
            .map(|e| Elem {
                labels: e.labels,
                v: f(e.v),
                drop_name: true,
            })
            .collect(),
    )
}

/// The functions of one float argument.
fn simple(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sgn" => |v: f64| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                v
            }
        },
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => |v: f64| v * 180.0 / std::f64::consts::PI,
        "rad" => |v: f64| v * std::f64::consts::PI / 180.0,
        _ => return None,
    })
}

/// The functions this evaluator implements (for [`super::check_supported`]).
pub(super) fn implemented(name: &str) -> bool {
    simple(name).is_some()
        || super::over_time::implemented(name)
        || super::date::implemented(name)
        || matches!(
            name,
            "round"
                | "clamp"
                | "clamp_min"
                | "clamp_max"
                | "scalar"
                | "vector"
                | "time"
                | "pi"
                | "timestamp"
                | "absent"
                | "label_replace"
                | "label_join"
                | "sort"
                | "sort_desc"
                | "sort_by_label"
                | "sort_by_label_desc"
                | "histogram_quantile"
        )
}

fn arg(c: &Call, i: usize) -> Result<&Expr, EvalError> {
    c.args
        .args
        .get(i)
        .map(|b| b.as_ref())
        .ok_or_else(|| EvalError::Runtime(format!("missing argument {} of {}", i + 1, c.func.name)))
}

pub(super) fn call<'a>(ctx: &Ctx<'a>, c: &Call, t: i64, depth: usize) -> Result<V<'a>, EvalError> {
    let name = c.func.name;
    if super::over_time::implemented(name) {
        return super::over_time::call(ctx, c, t, depth);
    }
    if super::date::implemented(name) {
        return super::date::call(ctx, c, t, depth);
    }
    if let Some(f) = simple(name) {
        return Ok(map(eval_vector(ctx, arg(c, 0)?, t, depth)?, f));
    }
    match name {
        "time" => Ok(V::Scalar(t as f64 / 1000.0)),
        "pi" => Ok(V::Scalar(std::f64::consts::PI)),
        "vector" => Ok(V::Vector(vec![Elem {
            labels: LabelsRef::default(),
            v: eval_scalar(ctx, arg(c, 0)?, t, depth)?,
            drop_name: false,
        }])),
        "scalar" => {
            let v = eval_vector(ctx, arg(c, 0)?, t, depth)?;
            Ok(V::Scalar(match v.as_slice() {
                [one] => one.v,
                _ => f64::NAN,
            }))
        }
        "round" => {
            let to = match c.args.args.get(1) {
                Some(e) => eval_scalar(ctx, e, t, depth)?,
                None => 1.0,
            };
            let inv = 1.0 / to;
            Ok(map(eval_vector(ctx, arg(c, 0)?, t, depth)?, |v| {
                (v * inv + 0.5).floor() / inv
            }))
        }
        "clamp" => {
            let v = eval_vector(ctx, arg(c, 0)?, t, depth)?;
            let lo = eval_scalar(ctx, arg(c, 1)?, t, depth)?;
            let hi = eval_scalar(ctx, arg(c, 2)?, t, depth)?;
            if hi < lo {
                return Ok(V::Vector(Vec::new()));
            }
            Ok(map(v, |x| go_max(lo, go_min(hi, x))))
        }
        "clamp_min" => {
            let v = eval_vector(ctx, arg(c, 0)?, t, depth)?;
            let lo = eval_scalar(ctx, arg(c, 1)?, t, depth)?;
            Ok(map(v, |x| go_max(lo, x)))
        }
        "clamp_max" => {
            let v = eval_vector(ctx, arg(c, 0)?, t, depth)?;
            let hi = eval_scalar(ctx, arg(c, 1)?, t, depth)?;
            Ok(map(v, |x| go_min(hi, x)))
        }
        "timestamp" => timestamp(ctx, arg(c, 0)?, t, depth),
        "absent" => {
            let v = eval_vector(ctx, arg(c, 0)?, t, depth)?;
            Ok(V::Vector(if v.is_empty() {
                vec![absent_elem(arg(c, 0)?)]
            } else {
                Vec::new()
            }))
        }
        "label_replace" => super::labels::label_replace(ctx, c, t, depth),
        "label_join" => super::labels::label_join(ctx, c, t, depth),
        "sort" | "sort_desc" => {
            let mut v = eval_vector(ctx, arg(c, 0)?, t, depth)?;
            let desc = name == "sort_desc";
            v.sort_by(|a, b| match (a.v.is_nan(), b.v.is_nan()) {
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => std::cmp::Ordering::Greater,
                (false, true) => std::cmp::Ordering::Less,
                _ if desc => b.v.total_cmp(&a.v),
                _ => a.v.total_cmp(&b.v),
            });
            Ok(V::Vector(v))
        }
        "sort_by_label" | "sort_by_label_desc" => super::labels::sort_by_label(ctx, c, t, depth),
        "histogram_quantile" => histogram_quantile(ctx, c, t, depth),
        _ => Err(EvalError::Unsupported(format!("function {name}"))),
    }
}

/// `timestamp(x)`: the time of each sample; a plain selector argument gives the time the
/// sample was scraped, anything else the evaluation time.
fn timestamp<'a>(ctx: &Ctx<'a>, e: &Expr, t: i64, depth: usize) -> Result<V<'a>, EvalError> {
    let mut inner = e;
    while let Expr::Paren(p) = inner {
        inner = &p.expr;
    }
    if let Expr::VectorSelector(vs) = inner {
        return Ok(V::Vector(
            ctx.instant_selector(vs, t)?
                .into_iter()
                .map(|(labels, ts, _)| Elem {
                    labels,
                    v: ts as f64 / 1000.0,
                    drop_name: true,
                })
                .collect(),
        ));
    }
    Ok(map(eval_vector(ctx, e, t, depth)?, |_| t as f64 / 1000.0))
}

/// The element `absent`/`absent_over_time` return: the equality matchers of a plain selector
/// argument become labels (a label matched twice is left out, as Prometheus does).
pub(super) fn absent_elem(e: &Expr) -> Elem<'static> {
    let vs = match e {
        Expr::VectorSelector(vs) => Some(vs),
        Expr::MatrixSelector(m) => Some(&m.vs),
        _ => None,
    };
    let mut labels: Vec<LabelRef<'static>> = Vec::new();
    if let Some(vs) = vs {
        let mut has: Vec<&str> = Vec::new();
        for m in &vs.matchers.matchers {
            if m.name == "__name__" {
                continue;
            }
            if m.op == promql_parser::label::MatchOp::Equal && !has.contains(&m.name.as_str()) {
                set_label(&mut labels, &m.name, &m.value);
                has.push(&m.name);
            } else {
                labels.retain(|(k, _)| *k != m.name);
            }
        }
    }
    Elem {
        labels: labels.into(),
        v: 1.0,
        drop_name: false,
    }
}

/// `histogram_quantile` over classic buckets: series grouped by their labels without `le`.
fn histogram_quantile<'a>(
    ctx: &Ctx<'a>,
    c: &Call,
    t: i64,
    depth: usize,
) -> Result<V<'a>, EvalError> {
    let q = eval_scalar(ctx, arg(c, 0)?, t, depth)?;
    let v = eval_vector(ctx, arg(c, 1)?, t, depth)?;
    let mut groups: Vec<(LabelsRef<'a>, Vec<(f64, f64)>)> = Vec::new();
    let mut index: foldhash::HashMap<LabelsRef<'a>, usize> = foldhash::HashMap::default();
    for e in v {
        let Some(le) = get(&e.labels, "le").and_then(parse_le) else {
            continue;
        };
        let key: LabelsRef<'a> = e
            .labels
            .iter()
            .filter(|(k, _)| k != "le")
            .cloned()
            .collect();
        let i = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        if let Some(g) = groups.get_mut(i) {
            g.1.push((le, e.v));
        }
    }
    Ok(V::Vector(
        groups
            .into_iter()
            .map(|(labels, mut buckets)| Elem {
                labels,
                v: crate::metrics::store::functions::bucket_quantile(q, &mut buckets),
                drop_name: true,
            })
            .collect(),
    ))
}

/// An `le` label value as Go's `ParseFloat` reads it (`+Inf` included).
fn parse_le(s: &str) -> Option<f64> {
    match s.trim_start_matches('+').to_ascii_lowercase().as_str() {
        "inf" | "infinity" => Some(f64::INFINITY),
        _ => s.parse().ok(),
    }
}
