//! Reading the servers' JSON with the path of any bad field in the error ("data.alerts[2].state:
//! expected a string, found 3"), so a proxy or an incompatible server is diagnosed at a glance.
//! Fields newer than the oldest supported server are read as optional.

use jiff::Timestamp;
use serde_json::Value;

use crate::alerts::model::Labels;

/// Go's zero `time.Time` (0001-01-01T00:00:00Z) in Unix seconds: what Prometheus writes for
/// "never".
const GO_ZERO_TIME_SECONDS: i64 = -62_135_596_800;

/// A value and where it sits in the answer.
#[derive(Clone)]
pub(crate) struct At<'a> {
    pub value: &'a Value,
    path: String,
}

/// What a value is, for "expected X, found Y".
fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

impl<'a> At<'a> {
    pub fn root(value: &'a Value) -> Self {
        At {
            value,
            path: String::new(),
        }
    }

    pub fn error(&self, what: &str) -> String {
        let path = if self.path.is_empty() {
            "the answer"
        } else {
            &self.path
        };
        format!("malformed answer: {path}: {what}")
    }

    fn expected(&self, what: &str) -> String {
        self.error(&format!("expected {what}, found {}", kind(self.value)))
    }

    /// A required field of an object.
    pub fn field(&self, name: &str) -> Result<At<'a>, String> {
        match self.value {
            Value::Object(map) => match map.get(name) {
                Some(v) => Ok(At {
                    value: v,
                    path: self.child_path(name),
                }),
                None => Err(self.error(&format!("no field {name:?}"))),
            },
            _ => Err(self.expected("an object")),
        }
    }

    /// An optional field: absent and `null` are both None.
    pub fn opt(&self, name: &str) -> Option<At<'a>> {
        match self.value.get(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(At {
                value: v,
                path: self.child_path(name),
            }),
        }
    }

    fn child_path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// The elements of an array, each with its path.
    pub fn items(&self) -> Result<Vec<At<'a>>, String> {
        match self.value {
            Value::Array(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| At {
                    value: v,
                    path: format!("{}[{i}]", self.path),
                })
                .collect()),
            _ => Err(self.expected("an array")),
        }
    }

    pub fn str(&self) -> Result<&'a str, String> {
        self.value.as_str().ok_or_else(|| self.expected("a string"))
    }

    pub fn bool(&self) -> Result<bool, String> {
        self.value
            .as_bool()
            .ok_or_else(|| self.expected("true or false"))
    }

    /// A list of strings (`silencedBy`, `inhibitedBy`).
    pub fn strings(&self) -> Result<Vec<String>, String> {
        match self.value {
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.expected("a list of strings")),
            _ => Err(self.expected("a list of strings")),
        }
    }

    /// A JSON object of string values, sorted by name.
    pub fn labels(&self) -> Result<Labels, String> {
        let Value::Object(map) = self.value else {
            return Err(self.expected("an object of label values"));
        };
        let mut out = Vec::with_capacity(map.len());
        for (k, v) in map {
            match v.as_str() {
                Some(s) => out.push((k.clone(), s.to_string())),
                None => {
                    return Err(self.error(&format!(
                        "label {k:?}: expected a string, found {}",
                        kind(v)
                    )));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// An RFC 3339 time. Go's zero time (`0001-01-01T00:00:00Z`, a rule never evaluated) is None.
    pub fn time(&self) -> Result<Option<Timestamp>, String> {
        let text = self.str()?;
        let t: Timestamp = text
            .parse()
            .map_err(|e| self.error(&format!("not a time: {text:?} ({e})")))?;
        Ok((t.as_second() > GO_ZERO_TIME_SECONDS).then_some(t))
    }

    /// A sample value as Prometheus writes it (Go's `%e`-style text, `+Inf`, `-Inf`, `NaN`).
    pub fn float_text(&self) -> Result<f64, String> {
        let text = self.str()?;
        parse_float(text).ok_or_else(|| self.error(&format!("not a number: {text:?}")))
    }
}

/// Go's float text: Rust's parser takes `1e+00` and `NaN` but not `+Inf` spelt that way in
/// every version, so the specials are matched first.
pub(crate) fn parse_float(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}
