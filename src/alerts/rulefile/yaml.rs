//! A rule file as a YAML tree whose every node (keys included) knows its line and column, read with
//! serde-saphyr as the fleet file is: Prometheus reports most rule errors at a node's position
//! (`4:17: group "g", rule 1, ...`), so the tree must keep them.
//!
//! Only the first document of a multi-document file counts, as with Prometheus's decoder.
//! serde-saphyr's budgets refuse alias bombs and deep nesting with an error instead of a hang.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Spanned};

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// 1-based, as editors and Prometheus count.
    pub line: usize,
    pub column: usize,
    /// The source text of a scalar that is not a string: a string field sees `1.10`, not `1.1`.
    pub raw: Option<String>,
    pub value: Value,
    span: Option<(usize, usize)>,
}

impl Node {
    /// The scalar's text as a Go string field would read it (`None` for lists and maps); null is
    /// the empty string, as in Go.
    pub fn text(&self) -> Option<String> {
        let raw = |v: &dyn fmt::Display| self.raw.clone().unwrap_or_else(|| v.to_string());
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Null => Some(String::new()),
            Value::Seq(_) | Value::Map(_) => None,
            Value::Bool(b) => Some(raw(b)),
            Value::Int(i) => Some(raw(i)),
            Value::Float(x) => Some(raw(x)),
        }
    }

    /// The YAML tag Go's decoder names in its type errors.
    pub fn tag(&self) -> &'static str {
        match self.value {
            Value::Null => "!!null",
            Value::Bool(_) => "!!bool",
            Value::Int(_) => "!!int",
            Value::Float(_) => "!!float",
            Value::Str(_) => "!!str",
            Value::Seq(_) => "!!seq",
            Value::Map(_) => "!!map",
        }
    }

    fn fill_raw(&mut self, text: &str) {
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|n| n.fill_raw(text)),
            Value::Map(entries) => {
                for (k, v) in entries {
                    k.fill_raw(text);
                    v.fill_raw(text);
                }
            }
            Value::Str(_) => {}
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
                self.raw = self
                    .span
                    .and_then(|(at, len)| text.get(at..at.saturating_add(len)))
                    .map(str::to_owned)
                    // A node that came through an alias or a merge key spans the alias, not
                    // the value: then the value's own text is the best there is.
                    .filter(|s| !s.is_empty() && !s.starts_with(['*', '<', '&']));
                // An empty value (`expr:`): Go's YAML parser places it just after the colon,
                // serde-saphyr on the colon.
                if self.value == Value::Null && self.raw.is_none() {
                    self.column += 1;
                }
            }
        }
    }
}

/// A YAML syntax error, worded by serde-saphyr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Reads the first document of `text`; `Ok(None)` when there is none (an empty file, comments
/// only), which Prometheus accepts as a file with no groups.
pub fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    let docs = serde_saphyr::from_multiple_with_options::<Option<Node>>(text, options);
    let mut docs = match docs {
        Ok(docs) => docs,
        Err(e) => {
            let (line, column) = e
                .location()
                .map(|l| (l.line() as usize, l.column() as usize))
                .unwrap_or((0, 0));
            let message = serde_saphyr::UserMessageFormatter.format_message(&e);
            // The message may quote the input: keep control characters out of the terminal.
            let message = message
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            return Err(SyntaxError {
                line,
                column,
                message,
            });
        }
    };
    let first = if docs.is_empty() {
        None
    } else {
        docs.swap_remove(0)
    };
    Ok(first.filter(|n| n.value != Value::Null).map(|mut n| {
        n.fill_raw(text);
        n
    }))
}

use serde_saphyr::MessageFormatter as _;

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<Value>::deserialize(d)?;
        let at = s.referenced;
        let span = at.span();
        Ok(Node {
            line: at.line() as usize,
            column: at.column() as usize,
            raw: None,
            value: s.value,
            span: span
                .byte_offset()
                .zip(span.byte_len())
                .map(|(o, l)| (o as usize, l as usize)),
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Int(n))
    }

    // Numbers beyond i64 stay readable as text (a rule name may be all digits); Go would refuse
    // them only where an int is wanted.
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(i64::try_from(n).map_or(Value::Float(n as f64), Value::Int))
    }

    fn visit_i128<E: de::Error>(self, n: i128) -> Result<Value, E> {
        Ok(i64::try_from(n).map_or(Value::Float(n as f64), Value::Int))
    }

    fn visit_u128<E: de::Error>(self, n: u128) -> Result<Value, E> {
        Ok(i64::try_from(n).map_or(Value::Float(n as f64), Value::Int))
    }

    fn visit_f64<E>(self, x: f64) -> Result<Value, E> {
        Ok(Value::Float(x))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            items.push(n);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = map.next_key::<Node>()? {
            let v = map.next_value::<Node>()?;
            entries.push((k, v));
        }
        Ok(Value::Map(entries))
    }
}
