//! The series notation of `promtool test rules` input series and promqltest `load` blocks:
//! `metric{a="b"}` followed by values such as `1 2 _ stale 0+10x5 _x3`.
//!
//! The expansion follows Prometheus's series-description grammar (promql/parser's
//! `parseSeriesDesc`): `axN` and `a+bxN`/`a-bxN` give N+1 values (the extra one is the value at
//! time 0, so `0+1x10` over a 1m interval covers ten minutes), `_xN` gives N missing slots, and the
//! increments are accumulated by repeated float addition exactly as Prometheus does, so
//! `0.1+0.1x3` yields the same rounding errors as there.

use super::promql::Labels;

/// One step of an expanded series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Slot {
    Value(f64),
    /// A staleness marker (`stale`).
    Stale,
    /// No sample at this step (`_`).
    Missing,
}

/// Expands a values string (everything after the series description).
pub fn expand(values: &str) -> Result<Vec<Slot>, String> {
    let mut out = Vec::new();
    for item in values.split_whitespace() {
        expand_item(item, &mut out)?;
    }
    Ok(out)
}

/// The most slots one item may expand to: a typo such as `1x99999999999` would otherwise
/// allocate without bound.
const MAX_REPEAT: u64 = 10_000_000;

fn expand_item(item: &str, out: &mut Vec<Slot>) -> Result<(), String> {
    if item.starts_with("{{") {
        return Err(format!(
            "native histogram series values are not supported: {item}"
        ));
    }
    let (base, times) = split_times(item)?;
    if let Some(n) = times
        && n > MAX_REPEAT
    {
        return Err(format!("repeat count too large in {item:?}"));
    }
    if base == "_" {
        // `_xN`: N omitted values (no extra one for time 0, unlike values).
        let n = times.unwrap_or(1);
        out.extend((0..n).map(|_| Slot::Missing));
        return Ok(());
    }
    if base == "stale" {
        let n = times.map_or(1, |n| n + 1);
        out.extend((0..n).map(|_| Slot::Stale));
        return Ok(());
    }
    let (start, step) = split_step(base).ok_or_else(|| {
        format!("bad series value {item:?}: expected a number, \"_\" or \"stale\"")
    })?;
    match (step, times) {
        (None, None) => out.push(Slot::Value(start)),
        (None, Some(n)) => out.extend((0..=n).map(|_| Slot::Value(start))),
        (Some(step), Some(n)) => {
            let mut v = start;
            for _ in 0..=n {
                out.push(Slot::Value(v));
                v += step;
            }
        }
        (Some(_), None) => {
            return Err(format!(
                "bad series value {item:?}: an increment needs a repeat count (a+bxN)"
            ));
        }
    }
    Ok(())
}

/// Splits `base` and the repeat count of `basexN`. The `x` is the last one followed only by
/// digits (hex numbers such as `0x1f` are not valid series values, as in Prometheus's lexer).
fn split_times(item: &str) -> Result<(&str, Option<u64>), String> {
    if let Some(pos) = item.rfind('x') {
        let (base, rest) = item.split_at(pos);
        let digits = rest.get(1..).unwrap_or("");
        if !base.is_empty() && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            let n = digits
                .parse::<u64>()
                .map_err(|e| format!("bad repeat count in {item:?}: {e}"))?;
            return Ok((base, Some(n)));
        }
    }
    Ok((item, None))
}

/// `a`, `a+b` or `a-b` → (a, Some(±b)). The sign splitting `a` from `b` is the first `+`/`-`
/// after the first character that does not belong to an exponent (`1e-3+1`).
fn split_step(base: &str) -> Option<(f64, Option<f64>)> {
    if let Some(v) = number(base) {
        return Some((v, None));
    }
    let bytes = base.as_bytes();
    for (i, &b) in bytes.iter().enumerate().skip(1) {
        if b != b'+' && b != b'-' {
            continue;
        }
        if matches!(bytes.get(i - 1), Some(b'e' | b'E')) && !base[..i].contains(['i', 'I']) {
            continue;
        }
        let (a, step) = base.split_at(i);
        if let (Some(a), Some(step)) = (number(a), number(step)) {
            return Some((a, Some(step)));
        }
    }
    None
}

/// A PromQL number: decimal or scientific, `Inf`/`NaN` in any case, with an optional sign.
fn number(text: &str) -> Option<f64> {
    let (sign, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (-1.0, &text[1..]),
        Some(b'+') => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    let lower = unsigned.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" => f64::INFINITY,
        "nan" => f64::NAN,
        _ if !lower.is_empty()
            && lower
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
            && lower
                .as_bytes()
                .first()
                .is_some_and(|b| b.is_ascii_digit() || *b == b'.') =>
        {
            lower.parse::<f64>().ok()?
        }
        _ => return None,
    };
    Some(sign * v)
}

/// Parses a series description (`metric{a="b"}`, `{__name__="m", a="b"}`) into sorted labels,
/// `__name__` included. Values are PromQL strings (escapes as in PromQL); only `=` is allowed.
pub fn parse_series(desc: &str) -> Result<Labels, String> {
    use promql_parser::label::MatchOp as Op;
    use promql_parser::parser::Expr;
    if desc.trim() == "{}" {
        // The empty series (`vector(1)`'s result in promqltest expectations).
        return Ok(Vec::new());
    }
    let expr = promql_parser::parser::parse(desc.trim())
        .map_err(|e| format!("bad series {desc:?}: {e}"))?;
    let Expr::VectorSelector(vs) = expr else {
        return Err(format!("bad series {desc:?}: not a series description"));
    };
    if vs.offset.is_some() || vs.at.is_some() || !vs.matchers.or_matchers.is_empty() {
        return Err(format!("bad series {desc:?}: not a series description"));
    }
    let mut labels: Labels = Vec::new();
    if let Some(name) = vs.name {
        labels.push(("__name__".to_owned(), name));
    }
    for m in vs.matchers.matchers {
        if m.op != Op::Equal {
            return Err(format!(
                "bad series {desc:?}: label {} must use \"=\"",
                m.name
            ));
        }
        if labels.iter().any(|(k, _)| *k == m.name) {
            return Err(format!("bad series {desc:?}: label {} set twice", m.name));
        }
        if !m.value.is_empty() {
            labels.push((m.name, m.value));
        }
    }
    labels.sort();
    Ok(labels)
}

#[cfg(test)]
mod tests;
