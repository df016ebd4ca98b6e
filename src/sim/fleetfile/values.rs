//! The small value types of a fleet file, each checked as it is read: durations (`45s`, `1h30m`),
//! resource quantities (`250m`, `512Mi`), image references, and "one value, or one per
//! environment" ([`PerEnv`]).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    self, Deserialize, Deserializer, IntoDeserializer, MapAccess, Unexpected, Visitor,
};

use super::de::PER_ENV;

/// One value for every cluster, or values keyed by environment or cluster name (`default` for
/// the rest): `replicas: 3`, or `replicas: {dev: 1, staging: 2, prod: 5}`.
#[derive(Clone, Debug, PartialEq)]
pub enum PerEnv<T> {
    All(T),
    Each(Vec<(String, T)>),
}

/// The key of a [`PerEnv`] map that covers every environment not named.
pub const DEFAULT_KEY: &str = "default";

impl<T> PerEnv<T> {
    /// The value for a cluster: its own entry, else its environment's, else `default`'s.
    pub fn get(&self, cluster: &str, environment: &str) -> Option<&T> {
        match self {
            PerEnv::All(v) => Some(v),
            PerEnv::Each(entries) => [cluster, environment, DEFAULT_KEY]
                .iter()
                .find_map(|want| entries.iter().find(|(k, _)| k == want).map(|(_, v)| v)),
        }
    }

    /// The environment and cluster names it is keyed by (none for one value).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        let entries: &[(String, T)] = match self {
            PerEnv::All(_) => &[],
            PerEnv::Each(entries) => entries,
        };
        entries.iter().map(|(k, _)| k.as_str())
    }

    /// Every value with the key it is under (None for the single value).
    pub fn values(&self) -> Vec<(Option<&str>, &T)> {
        match self {
            PerEnv::All(v) => vec![(None, v)],
            PerEnv::Each(entries) => entries.iter().map(|(k, v)| (Some(k.as_str()), v)).collect(),
        }
    }
}

/// What a type looks like in a fleet file, for [`PerEnv`] to tell its forms apart and describe them.
pub trait Shape {
    /// The keys of a map-shaped value; empty for a scalar.
    const FIELDS: &'static [&'static str];
    /// "a number", "an autoscaler map".
    const WHAT: &'static str;
}

impl Shape for u32 {
    const FIELDS: &'static [&'static str] = &[];
    const WHAT: &'static str = "a number";
}

impl<'de, T: Deserialize<'de> + Shape> Deserialize<'de> for PerEnv<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(PER_ENV, T::FIELDS, PerEnvVisitor(PhantomData))
    }
}

struct PerEnvVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + Shape> PerEnvVisitor<T> {
    fn scalar<E: de::Error, D: IntoDeserializer<'de, E>>(
        self,
        v: D,
        unexp: Unexpected<'_>,
    ) -> Result<PerEnv<T>, E> {
        if !T::FIELDS.is_empty() {
            return Err(E::invalid_type(unexp, &self));
        }
        T::deserialize(v.into_deserializer())
            .map(PerEnv::All)
            .map_err(|_: E| E::invalid_type(unexp, &self))
    }
}

impl<'de, T: Deserialize<'de> + Shape> Visitor<'de> for PerEnvVisitor<T> {
    type Value = PerEnv<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = T::WHAT.trim_start_matches("a ").trim_start_matches("an ");
        write!(f, "{} or a map of environment to {what}", T::WHAT)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        T::deserialize(d).map(PerEnv::All)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            entries.push((key, map.next_value::<T>()?));
        }
        Ok(PerEnv::Each(entries))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.scalar(v, Unexpected::Signed(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.scalar(v, Unexpected::Unsigned(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.scalar(v, Unexpected::Float(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.scalar(v, Unexpected::Bool(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.scalar(v, Unexpected::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(E::invalid_type(Unexpected::Unit, &self))
    }
}

/// Reads an optional field whose presence counts even when it is empty (`drop-watches:`).
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

// ---- quantities ------------------------------------------------------------------------------

/// A Kubernetes resource quantity (`250m`, `2`, `512Mi`, `1.5Gi`), kept as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    pub text: String,
    /// In base units: cores, bytes.
    pub value: f64,
}

impl Quantity {
    pub fn parse(s: &str) -> Result<Self, String> {
        let value = crate::sim::quantity::value(s.trim()).ok_or_else(|| {
            format!("{s:?} is not a quantity; write CPU like 250m or 2, memory like 512Mi or 2Gi")
        })?;
        if value < 0.0 {
            return Err(format!("{s:?} is negative"));
        }
        Ok(Self {
            text: s.trim().to_owned(),
            value,
        })
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity such as 250m, 2 or 512Mi")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Quantity, E> {
                Quantity::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// CPU cores as the API server prints a canonical quantity: `2`, `1500m`.
pub fn format_cpu(cores: f64) -> String {
    let millis = (cores * 1000.0).round() as i64;
    if millis % 1000 == 0 {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    }
}

/// Bytes with the largest binary suffix that divides them: `768Mi`, `2Gi`.
pub fn format_bytes(bytes: f64) -> String {
    let mut n = bytes.round() as i64;
    if n == 0 {
        return "0".into();
    }
    for suffix in ["", "Ki", "Mi", "Gi", "Ti", "Pi"] {
        if n % 1024 != 0 || suffix == "Pi" {
            return format!("{n}{suffix}");
        }
        n /= 1024;
    }
    unreachable!("the loop returns by Pi")
}

// ---- names -----------------------------------------------------------------------------------

/// Whether `name` is a DNS-1123 label (namespaces, clusters, environments); why not, if it is not.
pub fn dns_label(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a name must not be empty".into());
    }
    if name.len() > 63 {
        return Err(format!(
            "{name:?} is {} characters long; 63 at most",
            name.len()
        ));
    }
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !name.chars().all(|c| ok(c) || c == '-') || !name.starts_with(ok) || !name.ends_with(ok) {
        return Err(format!(
            "{name:?} must be lowercase letters, digits and '-', starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

/// Whether `name` is a DNS-1035 label (Service names): a DNS-1123 label that starts with a letter.
pub fn dns_1035(name: &str) -> Result<(), String> {
    dns_label(name)?;
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!(
            "{name:?} must start with a letter (it names a Service)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_follow_the_api_grammar() {
        assert_eq!(Quantity::parse("250m").unwrap().value, 0.25);
        assert_eq!(Quantity::parse("16").unwrap().value, 16.0);
        assert_eq!(
            Quantity::parse("32Gi").unwrap().value,
            32.0 * 1024f64.powi(3)
        );
        assert_eq!(Quantity::parse("1e3").unwrap().value, 1000.0);
        assert_eq!(
            Quantity::parse("1E").unwrap().value,
            1e18,
            "E is exa, not an exponent"
        );
        for bad in ["", "abc", "12x", "Mi", "1.2.3", "-1"] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(format_cpu(1.5), "1500m");
        assert_eq!(format_cpu(16.0), "16");
        assert_eq!(format_bytes(768.0 * 1024.0 * 1024.0), "768Mi");
        assert_eq!(format_bytes(2.0 * 1024f64.powi(3)), "2Gi");
        assert_eq!(format_bytes(1000.0), "1000");
    }

    #[test]
    fn names() {
        assert!(dns_label("prod-westus").is_ok());
        assert!(dns_label("Prod").is_err());
        assert!(dns_label("-a").is_err());
        assert!(
            dns_label(&"a".repeat(64))
                .unwrap_err()
                .contains("63 at most")
        );
        assert!(dns_1035("3d-api").is_err());
        assert!(dns_1035("api-3d").is_ok());
    }
}
