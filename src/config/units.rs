//! Values as written in config files: durations the way Prometheus writes them (`30s`, `5m`,
//! `1h30m`), sizes with binary or decimal units (`64MiB`, `500MB`), and http(s) URLs.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

/// A duration in Prometheus's notation: whole numbers with units `y`, `w`, `d`, `h`, `m`, `s`,
/// `ms`, largest first, each at most once (`1h30m`, not `90m30m`); `0` alone is zero. Kept the
/// same as Prometheus's so values can be copied between our config and theirs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PromDuration(pub Duration);

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

impl PromDuration {
    pub const fn from_secs(secs: u64) -> Self {
        PromDuration(Duration::from_secs(secs))
    }

    pub fn get(self) -> Duration {
        self.0
    }
}

impl FromStr for PromDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{s:?} is not a duration; write a number with a unit (ms, s, m, h, d, w, y), largest unit first, as in \"30s\", \"5m\" or \"1h30m\""
            )
        };
        if s == "0" {
            return Ok(PromDuration(Duration::ZERO));
        }
        if s.is_empty() {
            return Err("the duration is empty; write one like \"30s\" or \"5m\"".to_string());
        }
        let mut rest = s;
        let mut millis: u64 = 0;
        // Units must come in the table's order; `next_unit` moves past each one used.
        let mut next_unit = 0;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            // `ms` before `m`: the longest unit name that matches.
            let found = UNITS
                .iter()
                .enumerate()
                .filter(|(_, (name, _))| rest.starts_with(name))
                .max_by_key(|(_, (name, _))| name.len());
            let Some((index, (name, unit_ms))) = found else {
                return Err(bad());
            };
            if index < next_unit {
                return Err(bad());
            }
            next_unit = index + 1;
            rest = &rest[name.len()..];
            millis = number
                .checked_mul(*unit_ms)
                .and_then(|v| millis.checked_add(v))
                .ok_or_else(|| format!("{s:?} is too long a duration"))?;
        }
        Ok(PromDuration(Duration::from_millis(millis)))
    }
}

impl fmt::Display for PromDuration {
    /// As Prometheus prints durations: `1h30m`, `0s` for zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut millis = self.0.as_millis().min(u128::from(u64::MAX)) as u64;
        if millis == 0 {
            return f.write_str("0s");
        }
        for (name, unit) in UNITS {
            if millis >= unit {
                write!(f, "{}{name}", millis / unit)?;
                millis %= unit;
            }
        }
        Ok(())
    }
}

impl<'de> serde::Deserialize<'de> for PromDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FromStrVisitor::<PromDuration>::new(
            "a duration such as \"30s\" or \"5m\"",
            "has no unit; write durations as strings with a unit, such as \"30s\"",
        ))
    }
}

/// A number of bytes, written with a unit: `64MiB`, `512KiB`, `1GiB` (powers of 1024) or `500MB`,
/// `1GB`, `64kB` (powers of 1000), or `B`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub u64);

const SIZE_UNITS: [(&str, u64); 10] = [
    ("B", 1),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("kB", 1000),
    ("KB", 1000),
    ("MB", 1000 * 1000),
    ("GB", 1000 * 1000 * 1000),
    ("TB", 1000 * 1000 * 1000 * 1000),
];

impl ByteSize {
    pub const fn mib(n: u64) -> Self {
        ByteSize(n << 20)
    }
}

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{s:?} is not a size; write a whole number with a unit (B, KiB, MiB, GiB, TiB, or kB, MB, GB, TB), as in \"64MiB\""
            )
        };
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let number: u64 = s[..digits].parse().map_err(|_| bad())?;
        let unit = s[digits..].trim_start();
        let (_, multiplier) = SIZE_UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .ok_or_else(bad)?;
        number
            .checked_mul(*multiplier)
            .map(ByteSize)
            .ok_or_else(|| format!("{s:?} is too large a size"))
    }
}

impl fmt::Display for ByteSize {
    /// The largest binary unit that divides the size exactly: `64MiB`, `1500B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let binary = &SIZE_UNITS[..5];
        let (name, unit) = binary
            .iter()
            .rev()
            .find(|(_, unit)| self.0 >= *unit && self.0.is_multiple_of(*unit))
            .unwrap_or(&("B", 1));
        write!(f, "{}{name}", self.0 / unit)
    }
}

impl<'de> serde::Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FromStrVisitor::<ByteSize>::new(
            "a size such as \"64MiB\"",
            "has no unit; write sizes as strings with a unit, such as \"64MiB\"",
        ))
    }
}

/// An `http://` or `https://` URL with a host: where watchfloor sends requests.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HttpUrl(pub url::Url);

impl FromStr for HttpUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let url = url::Url::parse(s).map_err(|e| {
            format!(
                "{s:?} is not a URL ({e}); write one like \"http://prometheus.monitoring:9090\""
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return Err(format!(
                "{s:?} is not an http:// or https:// URL with a host"
            ));
        }
        Ok(HttpUrl(url))
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> serde::Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FromStrVisitor::<HttpUrl>::new(
            "an http:// or https:// URL",
            "is not a URL; write URLs as strings, such as \"http://prometheus:9090\"",
        ))
    }
}

/// Deserializes a string through `FromStr`, with the parse error as the message; a bare number
/// gets `number_hint` after it instead of serde's "invalid type".
pub(crate) struct FromStrVisitor<T> {
    expecting: &'static str,
    number_hint: &'static str,
    _t: std::marker::PhantomData<T>,
}

impl<T> FromStrVisitor<T> {
    pub(crate) fn new(expecting: &'static str, number_hint: &'static str) -> Self {
        Self {
            expecting,
            number_hint,
            _t: std::marker::PhantomData,
        }
    }
}

impl<T: FromStr<Err = String>> Visitor<'_> for FromStrVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Err(E::custom(format!("{v} {}", self.number_hint)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Err(E::custom(format!("{v} {}", self.number_hint)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Err(E::custom(format!("{v} {}", self.number_hint)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Result<u128, String> {
        s.parse::<PromDuration>().map(|d| d.0.as_millis())
    }

    #[test]
    fn durations_read_as_prometheus_reads_them() {
        assert_eq!(d("30s"), Ok(30_000));
        assert_eq!(d("5m"), Ok(300_000));
        assert_eq!(d("1h30m"), Ok(5_400_000));
        assert_eq!(d("1d2h"), Ok(93_600_000));
        assert_eq!(d("1w"), Ok(604_800_000));
        assert_eq!(d("1y"), Ok(31_536_000_000));
        assert_eq!(d("1s500ms"), Ok(1_500));
        assert_eq!(d("250ms"), Ok(250));
        assert_eq!(d("0"), Ok(0));
        assert_eq!(d("0s"), Ok(0));
        // Prometheus refuses these too: out of order, repeated, fractional, no unit, spaces.
        for bad in [
            "30m1h", "1m1m", "1.5s", "30", "", "s", "1 s", "-1s", "1S", "1sec",
        ] {
            assert!(d(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            d("30"),
            Err("\"30\" is not a duration; write a number with a unit (ms, s, m, h, d, w, y), largest unit first, as in \"30s\", \"5m\" or \"1h30m\"".to_string())
        );
        assert!(d("99999999999y").unwrap_err().contains("too long"));
    }

    #[test]
    fn durations_print_as_prometheus_prints_them() {
        for s in ["30s", "5m", "1h30m", "1d2h", "1w", "1s500ms", "0s", "1y1d"] {
            assert_eq!(s.parse::<PromDuration>().unwrap().to_string(), s);
        }
        assert_eq!(PromDuration::from_secs(90).to_string(), "1m30s");
    }

    #[test]
    fn sizes() {
        let b = |s: &str| s.parse::<ByteSize>().map(|b| b.0);
        assert_eq!(b("64MiB"), Ok(64 << 20));
        assert_eq!(b("512KiB"), Ok(512 << 10));
        assert_eq!(b("1GiB"), Ok(1 << 30));
        assert_eq!(b("500MB"), Ok(500_000_000));
        assert_eq!(b("64kB"), Ok(64_000));
        assert_eq!(b("100B"), Ok(100));
        assert_eq!(b("64 MiB"), Ok(64 << 20));
        for bad in ["64", "MiB", "64mib", "1.5GiB", "-1MiB", "64 M"] {
            assert!(b(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(b("99999999999TiB").unwrap_err().contains("too large"));
        assert_eq!(ByteSize::mib(64).to_string(), "64MiB");
        assert_eq!(ByteSize(1500).to_string(), "1500B");
        assert_eq!(ByteSize(3 << 30).to_string(), "3GiB");
    }

    #[test]
    fn urls_are_http_with_a_host() {
        assert!(
            "http://prometheus.monitoring:9090"
                .parse::<HttpUrl>()
                .is_ok()
        );
        assert!("https://am.example/".parse::<HttpUrl>().is_ok());
        assert_eq!(
            "prometheus:9090".parse::<HttpUrl>().unwrap_err(),
            "\"prometheus:9090\" is not an http:// or https:// URL with a host"
        );
        assert!("ftp://x/".parse::<HttpUrl>().is_err());
        assert!(
            "http//x"
                .parse::<HttpUrl>()
                .unwrap_err()
                .contains("is not a URL (relative URL without a base)")
        );
    }

    #[test]
    fn bare_numbers_get_a_hint() {
        #[derive(serde::Deserialize)]
        struct T {
            #[expect(dead_code, reason = "only the error matters")]
            every: PromDuration,
        }
        let e = toml::from_str::<T>("every = 30").err().unwrap();
        assert_eq!(
            e.message(),
            "30 has no unit; write durations as strings with a unit, such as \"30s\""
        );
    }
}
