//! A serde `Deserializer` over the located YAML tree: typed fields are read with plain
//! `#[derive(Deserialize)]`, and every error carries the path and position of the node it is
//! about, in words meant for a person (`expected a number, got "three"`), not for serde.

use std::fmt::{self, Display};

use serde::de::{self, DeserializeSeed, Expected, IntoDeserializer, Unexpected, Visitor};

use super::suggest::did_you_mean;
use super::yaml::{Loc, Node, Path, Value};

/// The struct name that asks [`NodeDe`] to choose between one value for everywhere and a map of
/// environment to value (see [`super::values::PerEnv`]).
pub const PER_ENV: &str = "$watchfloor::PerEnv";

#[derive(Clone, Debug, PartialEq)]
pub struct DeError {
    pub message: String,
    /// Where: set by the innermost node the error passed through.
    pub at: Option<(Loc, Path)>,
}

impl DeError {
    fn locate(mut self, node: &Node, path: &Path) -> Self {
        if self.at.is_none() {
            self.at = Some((node.loc, path.clone()));
        }
        self
    }
}

impl Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

/// What serde's `expecting` texts mean, in words.
fn expected_words(exp: &dyn Expected) -> String {
    let text = exp.to_string();
    let words = match text.as_str() {
        "u8" => "a whole number from 0 to 255",
        "u16" => "a whole number from 0 to 65535",
        "u32" | "u64" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        "a sequence" => "a list",
        "a string" | "a borrowed string" | "string or map" => "a string",
        "unit" => "nothing",
        t if t.starts_with("struct ") || t.starts_with("a map") => "a map",
        t if t.starts_with("tuple") => "a list",
        _ => return text,
    };
    words.to_owned()
}

/// A value as the person wrote it.
pub fn unexpected_words(u: Unexpected<'_>) -> String {
    match u {
        Unexpected::Bool(b) => b.to_string(),
        Unexpected::Unsigned(n) => n.to_string(),
        Unexpected::Signed(n) => n.to_string(),
        Unexpected::Float(x) => x.to_string(),
        Unexpected::Char(c) => format!("{:?}", c.to_string()),
        Unexpected::Str(s) => format!("{s:?}"),
        Unexpected::Unit | Unexpected::Option => "nothing".to_owned(),
        Unexpected::Seq => "a list".to_owned(),
        Unexpected::Map => "a map".to_owned(),
        other => other.to_string(),
    }
}

fn one_of(items: &[&str]) -> String {
    items.join(", ")
}

impl de::Error for DeError {
    fn custom<T: Display>(msg: T) -> Self {
        Self {
            message: msg.to_string(),
            at: None,
        }
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Self::custom(format!(
            "expected {}, got {}",
            expected_words(exp),
            unexpected_words(unexp)
        ))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Self::invalid_type(unexp, exp)
    }

    fn invalid_length(len: usize, exp: &dyn Expected) -> Self {
        Self::custom(format!("expected {exp}, got {len} items"))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self::custom(format!(
            "{variant:?} is not one of: {}{}",
            one_of(expected),
            did_you_mean(variant, expected.iter().copied())
        ))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let hint = did_you_mean(field, expected.iter().copied());
        let known = if expected.is_empty() {
            "this map takes no keys".to_owned()
        } else {
            format!("known keys: {}", one_of(expected))
        };
        Self::custom(format!("unknown key `{field}`{hint} ({known})"))
    }

    fn missing_field(field: &'static str) -> Self {
        Self::custom(format!("missing key `{field}`"))
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::custom(format!("key `{field}` appears twice"))
    }
}

/// Reads a `T` from a node of the tree.
pub fn from_node<'a, T: de::Deserialize<'a>>(node: &'a Node, path: Path) -> Result<T, DeError> {
    T::deserialize(NodeDe { node, path })
}

pub struct NodeDe<'a> {
    node: &'a Node,
    path: Path,
}

impl<'a> NodeDe<'a> {
    fn unexpected(&self) -> Unexpected<'a> {
        match &self.node.value {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Int(n) => Unexpected::Signed(*n),
            Value::Float(x) => Unexpected::Float(*x),
            Value::Str(s) => Unexpected::Str(s),
            Value::Seq(_) => Unexpected::Seq,
            Value::Map(_) => Unexpected::Map,
        }
    }

    fn fail<V>(&self, exp: &dyn Expected) -> Result<V, DeError> {
        Err(de::Error::invalid_type(self.unexpected(), exp))
    }

    fn locate(&self, e: DeError) -> DeError {
        e.locate(self.node, &self.path)
    }

    fn map<V: Visitor<'a>>(&self, visitor: V) -> Result<V::Value, DeError> {
        let entries: &'a [(Node, Node)] = match &self.node.value {
            Value::Map(entries) => entries,
            Value::Null => &[],
            _ => return self.fail(&visitor),
        };
        visitor.visit_map(MapDe {
            entries,
            next: 0,
            path: &self.path,
        })
    }

    fn string<V: Visitor<'a>>(&self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Bool(_) | Value::Int(_) | Value::Float(_) => match self.node.text() {
                Some(text) => visitor.visit_str(&text),
                None => self.fail(&visitor),
            },
            _ => self.fail(&visitor),
        }
    }
}

macro_rules! forward_to_any {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
                self.deserialize_any(visitor)
            }
        )*
    };
}

impl<'a> de::Deserializer<'a> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let out = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(n) => visitor.visit_i64(*n),
            Value::Float(x) => visitor.visit_f64(*x),
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Seq(items) => visitor.visit_seq(SeqDe {
                items,
                next: 0,
                path: &self.path,
            }),
            Value::Map(_) => self.map(visitor),
        };
        out.map_err(|e| self.locate(e))
    }

    forward_to_any! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_bytes
        deserialize_byte_buf
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.string(visitor).map_err(|e| self.locate(e))
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        // Keys are always names: `0: x` must not select the first field by its index.
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let out = match self.node.value {
            Value::Null => visitor.visit_none(),
            _ => {
                let (node, path) = (self.node, self.path.clone());
                return visitor.visit_some(self).map_err(|e| e.locate(node, &path));
            }
        };
        out.map_err(|e| self.locate(e))
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let out = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Map(m) if m.is_empty() => visitor.visit_unit(),
            _ => self.fail(&visitor),
        };
        out.map_err(|e| self.locate(e))
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (node, path) = (self.node, self.path.clone());
        visitor
            .visit_newtype_struct(self)
            .map_err(|e| e.locate(node, &path))
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let out = match &self.node.value {
            Value::Seq(items) => visitor.visit_seq(SeqDe {
                items,
                next: 0,
                path: &self.path,
            }),
            _ => self.fail(&visitor),
        };
        out.map_err(|e| self.locate(e))
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _len: usize, v: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.map(visitor).map_err(|e| self.locate(e))
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == PER_ENV {
            // One value for everywhere, unless this is a map none of whose keys belong to
            // that value's own type: then it maps environments (or clusters) to values.
            let per_env = match &self.node.value {
                Value::Map(entries) => !entries
                    .iter()
                    .any(|(k, _)| k.text().is_some_and(|t| fields.contains(&t.as_ref()))),
                _ => false,
            };
            if !matches!(self.node.value, Value::Map(_)) {
                // A scalar or a list: the visitor says what it wanted.
                return self.deserialize_any(visitor);
            }
            if !per_env {
                let (node, path) = (self.node, self.path.clone());
                return visitor
                    .visit_newtype_struct(self)
                    .map_err(|e| e.locate(node, &path));
            }
        }
        self.map(visitor).map_err(|e| self.locate(e))
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let out = match self.node.text() {
            Some(text) if !matches!(self.node.value, Value::Seq(_) | Value::Map(_)) => {
                let text: &str = &text;
                visitor.visit_enum(IntoDeserializer::<DeError>::into_deserializer(text))
            }
            _ => Err(de::Error::custom(format!(
                "expected one of: {}, got {}",
                one_of(variants),
                unexpected_words(self.unexpected())
            ))),
        };
        out.map_err(|e| self.locate(e))
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct SeqDe<'a, 'p> {
    items: &'a [Node],
    next: usize,
    path: &'p Path,
}

impl<'a> de::SeqAccess<'a> for SeqDe<'a, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.items.get(self.next) else {
            return Ok(None);
        };
        let path = self.path.index(self.next);
        self.next += 1;
        seed.deserialize(NodeDe { node, path }).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.next)
    }
}

struct MapDe<'a, 'p> {
    entries: &'a [(Node, Node)],
    next: usize,
    path: &'p Path,
}

impl MapDe<'_, '_> {
    fn key_path(&self, i: usize) -> Path {
        let key = &self.entries[i].0;
        self.path.key(key.text().unwrap_or_default())
    }
}

impl<'a> de::MapAccess<'a> for MapDe<'a, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, _)) = self.entries.get(self.next) else {
            return Ok(None);
        };
        let path = self.key_path(self.next);
        if matches!(key.value, Value::Seq(_) | Value::Map(_) | Value::Null) {
            return Err(
                <DeError as de::Error>::custom("a key must be a plain name").locate(key, &path)
            );
        }
        seed.deserialize(NodeDe { node: key, path }).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let i = self.next;
        self.next += 1;
        let path = self.key_path(i);
        seed.deserialize(NodeDe {
            node: &self.entries[i].1,
            path,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len() - self.next)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::super::yaml::parse;
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "kebab-case", deny_unknown_fields)]
    struct Doc {
        name: String,
        #[serde(default)]
        items: Vec<Item>,
        #[serde(default)]
        tags: BTreeMap<String, u32>,
        #[serde(default)]
        mode: Option<Mode>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "kebab-case", deny_unknown_fields)]
    struct Item {
        replicas: u32,
        #[serde(default)]
        rate: Option<f64>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "kebab-case")]
    enum Mode {
        Rolling,
        BlueGreen,
    }

    fn read(text: &str) -> Result<Doc, DeError> {
        let root = parse(text).unwrap();
        from_node::<Doc>(&root, Path::default())
    }

    fn at(e: &DeError) -> String {
        let (loc, path) = e.at.clone().unwrap();
        format!("{loc}: {path}: {}", e.message)
    }

    #[test]
    fn reads_typed_values_and_coerces_scalars_to_strings_as_written() {
        let doc =
            read("name: 1.10\nitems: [{replicas: 2, rate: 1}]\ntags: {a: 1}\nmode: blue-green\n")
                .unwrap();
        assert_eq!(doc.name, "1.10");
        assert_eq!(doc.items[0].rate, Some(1.0));
        assert_eq!(doc.mode, Some(Mode::BlueGreen));
    }

    #[test]
    fn errors_name_the_place_and_say_what_was_expected() {
        let e = read("name: x\nitems:\n  - replicas: 1\n  - replicas: three\n").unwrap_err();
        assert_eq!(
            at(&e),
            "4:15: items[1].replicas: expected a whole number, 0 or more, got \"three\""
        );
        let e = read("name: x\nitems:\n  - replicas: -1\n").unwrap_err();
        assert_eq!(
            at(&e),
            "3:15: items[0].replicas: expected a whole number, 0 or more, got -1"
        );
        let e = read("name: x\nitems:\n  - {replicas: 1, rat: 0.5}\n").unwrap_err();
        assert_eq!(
            at(&e),
            "3:19: items[0].rat: unknown key `rat` (did you mean `rate`?) (known keys: replicas, rate)"
        );
        let e = read("name: x\nitems:\n  - rate: 0.5\n").unwrap_err();
        assert_eq!(at(&e), "3:5: items[0]: missing key `replicas`");
        let e = read("name: x\nmode: blue-gren\n").unwrap_err();
        assert_eq!(
            at(&e),
            "2:7: mode: \"blue-gren\" is not one of: rolling, blue-green (did you mean `blue-green`?)"
        );
        let e = read("name: x\nitems: {replicas: 1}\n").unwrap_err();
        assert_eq!(at(&e), "2:8: items: expected a list, got a map");
        let e = read("name: [a]\n").unwrap_err();
        assert_eq!(at(&e), "1:7: name: expected a string, got a list");
        let e = read("0: x\nname: y\n").unwrap_err();
        assert!(e.message.starts_with("unknown key `0`"), "{}", e.message);
    }
}
