//! The date functions (`hour()`, `day_of_week(v)`, ...): UTC calendar fields of the argument's
//! values read as Unix seconds, or of the evaluation time without an argument.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use promql_parser::parser::Call;

use super::eval::{Ctx, Elem, V};
use super::funcs::eval_vector;
use super::{EvalError, LabelsRef};

pub(super) fn implemented(name: &str) -> bool {
    field(name, 0.0).is_some()
}

/// The calendar field `name` of Unix time `secs` (NaN for times jiff cannot represent).
fn field(name: &str, secs: f64) -> Option<f64> {
    let get = |f: fn(&jiff::Zoned) -> f64| -> f64 {
        if !secs.is_finite() {
            return f64::NAN;
        }
        Timestamp::from_second(secs.trunc() as i64)
            .map_or(f64::NAN, |ts| f(&ts.to_zoned(TimeZone::UTC)))
    };
    Some(match name {
        "day_of_month" => get(|z| f64::from(z.day())),
        "day_of_week" => get(|z| f64::from(z.weekday().to_sunday_zero_offset())),
        "day_of_year" => get(|z| f64::from(z.day_of_year())),
        "days_in_month" => get(|z| f64::from(z.days_in_month())),
        "hour" => get(|z| f64::from(z.hour())),
        "minute" => get(|z| f64::from(z.minute())),
        "month" => get(|z| f64::from(z.month())),
        "year" => get(|z| f64::from(z.year())),
        _ => return None,
    })
}

pub(super) fn call<'a>(ctx: &Ctx<'a>, c: &Call, t: i64, depth: usize) -> Result<V<'a>, EvalError> {
    let name = c.func.name;
    let Some(arg) = c.args.args.first() else {
        return Ok(V::Vector(vec![Elem {
            labels: LabelsRef::default(),
            v: field(name, t as f64 / 1000.0).unwrap_or(f64::NAN),
            drop_name: false,
        }]));
    };
    Ok(V::Vector(
        eval_vector(ctx, arg, t, depth)?
            .into_iter()
            .map(|e| Elem {
                labels: e.labels,
                v: field(name, e.v).unwrap_or(f64::NAN),
                drop_name: true,
            })
            .collect(),
    ))
}
