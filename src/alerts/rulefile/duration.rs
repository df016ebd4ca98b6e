//! Prometheus's duration syntax (`1h30m`, `1d`, `0`), exactly as its rule-file loader reads it:
//! units in descending order, each at most once, whole numbers only, no sign; the error texts are
//! Prometheus's, since `check_command` prints them verbatim.

use std::time::Duration;

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses `text`; the error is Prometheus's message.
pub fn parse(text: &str) -> Result<Duration, String> {
    if text.is_empty() {
        return Err("empty duration string".into());
    }
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let invalid = || format!("not a valid duration string: {}", super::go_quote(text));
    let mut rest = text;
    let mut next_unit = 0;
    let mut total_ms: u128 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let (number, tail) = rest.split_at(digits);
        // The longest unit that matches; `ms` must win over `m`.
        let unit_len = if tail.starts_with("ms") {
            2
        } else {
            tail.chars().next().map_or(0, char::len_utf8)
        };
        let unit = tail.get(..unit_len).unwrap_or("");
        let Some(pos) = UNITS[next_unit..].iter().position(|(u, _)| *u == unit) else {
            return Err(invalid());
        };
        let (_, mult) = UNITS[next_unit + pos];
        next_unit += pos + 1;
        let n: u128 = number
            .parse()
            .map_err(|_| "duration out of range".to_string())?;
        total_ms = total_ms.saturating_add(n.saturating_mul(u128::from(mult)));
        rest = &tail[unit_len..];
    }
    // Prometheus keeps durations as int64 nanoseconds.
    if total_ms.saturating_mul(1_000_000) > i64::MAX as u128 {
        return Err("duration out of range".into());
    }
    Ok(Duration::from_millis(total_ms as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_durations() {
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1d1ms"), Ok(Duration::from_millis(86_400_001)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse(""), Err("empty duration string".into()));
        for bad in ["1.5h", "30m1h", "-1m", "5", "5x", "1m1m", "h"] {
            assert_eq!(
                parse(bad),
                Err(format!("not a valid duration string: \"{bad}\"")),
                "{bad}"
            );
        }
        assert_eq!(parse("999999999999y"), Err("duration out of range".into()));
        assert_eq!(
            parse("99999999999999999999999999999999999999999s"),
            Err("duration out of range".into())
        );
    }
}
