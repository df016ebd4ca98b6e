//! Durations as Go writes them (`45s`, `3m`, `1h30m`, `250ms`): the timeline's `at` and `for`.

use std::fmt;

use jiff::SignedDuration;
use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A duration written as Go writes them: `45s`, `3m`, `1h30m`, `1.5s`, `250ms`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub SignedDuration);

impl Dur {
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_duration(s).map(Dur)
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 45s, 3m or 1h30m")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Dur, E> {
                Dur::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

const NANOS: [(&str, i128); 9] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

/// Go's `time.ParseDuration`, plus `d` for days; negative durations are refused.
pub fn parse_duration(s: &str) -> Result<SignedDuration, String> {
    let bad = |why: &str| {
        Err(format!(
            "{s:?} is not a duration ({why}); write it like 45s, 3m or 1h30m"
        ))
    };
    let text = s.trim();
    if text.is_empty() {
        return bad("it is empty");
    }
    if text.starts_with('-') {
        return bad("it is negative");
    }
    let text = text.strip_prefix('+').unwrap_or(text);
    if text == "0" {
        return Ok(SignedDuration::ZERO);
    }
    let mut rest = text;
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return bad("a number must come before each unit");
        }
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, after) = tail.split_at(unit_len);
        let Some((_, scale)) = NANOS.iter().find(|(u, _)| *u == unit) else {
            return if unit.is_empty() {
                bad("the number has no unit")
            } else {
                bad(&format!("unknown unit {unit:?}"))
            };
        };
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            match whole.parse() {
                Ok(n) => n,
                Err(_) => return bad("it is too long"),
            }
        };
        let mut nanos = whole.saturating_mul(*scale);
        let mut unit_scale = *scale;
        for c in frac.chars() {
            unit_scale /= 10;
            nanos += i128::from(c.to_digit(10).unwrap_or(0)) * unit_scale;
        }
        total = total.saturating_add(nanos);
        rest = after;
    }
    if total > i128::from(i64::MAX) {
        return bad("it is too long");
    }
    Ok(SignedDuration::from_nanos(total as i64))
}

/// The shortest text [`parse_duration`] reads back as `d`: `1h30m`, `45s`, `1m0.5s` is `1m500ms`.
pub fn format_duration(d: SignedDuration) -> String {
    let mut nanos = d.as_nanos().unsigned_abs();
    if nanos == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if d.is_negative() {
        out.push('-');
    }
    for (unit, scale) in [
        ("h", 3_600_000_000_000u128),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ] {
        if nanos >= scale {
            out.push_str(&format!("{}{unit}", nanos / scale));
            nanos %= scale;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_go_and_round_trip() {
        let secs = SignedDuration::from_secs;
        assert_eq!(parse_duration("45s"), Ok(secs(45)));
        assert_eq!(parse_duration("3m"), Ok(secs(180)));
        assert_eq!(parse_duration("1h30m"), Ok(secs(5400)));
        assert_eq!(
            parse_duration("1.5s"),
            Ok(SignedDuration::from_millis(1500))
        );
        assert_eq!(
            parse_duration("250ms"),
            Ok(SignedDuration::from_millis(250))
        );
        assert_eq!(parse_duration("0"), Ok(SignedDuration::ZERO));
        assert_eq!(parse_duration("2d"), Ok(secs(172_800)));
        for bad in ["", "45", "3x", "-5s", "m", "1..5s", "s5"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_duration("45").unwrap_err(),
            "\"45\" is not a duration (the number has no unit); write it like 45s, 3m or 1h30m"
        );
        for text in [
            "45s", "3m", "1h30m", "1h0m1s", "1m500ms", "2h", "0s", "1s1us1ns",
        ] {
            let d = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&format_duration(d)), Ok(d), "{text}");
        }
        assert_eq!(format_duration(secs(5400)), "1h30m");
        assert_eq!(
            format_duration(SignedDuration::from_millis(90_500)),
            "1m30s500ms"
        );
    }
}
