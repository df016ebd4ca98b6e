//! The first of Prometheus's two passes over a rule file: decoding into typed fields with unknown
//! keys refused. Go's YAML decoder gathers type errors (`line 3: cannot unmarshal !!str `x` into
//! int`) and keeps going, but stops at the first bad duration; promtool prints either the gathered
//! list or that one error, so this pass mirrors both behaviours and their wording.

use std::time::Duration;

use super::yaml::{Node, Value};

/// A scalar field kept with the position of its node (0:0 when absent, as Go prints it).
#[derive(Clone, Debug, Default)]
pub struct Located {
    pub text: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Default)]
pub struct RawRule {
    pub record: Located,
    pub alert: Located,
    pub expr: Located,
    pub for_: Duration,
    pub keep_firing_for: Duration,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    pub line: usize,
}

#[derive(Debug, Default)]
pub struct RawGroup {
    pub name: String,
    pub interval: Duration,
    pub limit: i64,
    pub rules: Vec<RawRule>,
    pub line: usize,
    pub column: usize,
}

/// Why decoding failed: Go's gathered type errors (of the first pass, and of the second pass
/// that reads positions), or the one error that stopped it.
pub enum DecodeError {
    Gathered(Vec<String>, Vec<String>),
    Stopped(String),
}

struct Decoder {
    errors: Vec<String>,
    second: Vec<String>,
}

/// Go's type-error text for `node` that does not fit `target`.
fn type_error(node: &Node, target: &str) -> String {
    let value = match &node.value {
        Value::Seq(_) | Value::Map(_) => String::new(),
        _ => {
            let text = node.text().unwrap_or_default();
            if text.len() > 10 {
                let mut end = 7;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                format!(" `{}...`", &text[..end])
            } else {
                format!(" `{text}`")
            }
        }
    };
    format!(
        "line {}: cannot unmarshal {}{value} into {target}",
        node.line,
        node.tag()
    )
}

/// A key as Go's parser holds it: the scalar's text as written.
fn key_text(n: &Node) -> String {
    match &n.value {
        Value::Str(s) => s.clone(),
        _ => n.raw.clone().unwrap_or_default(),
    }
}

/// Decodes the whole file; `None` (an empty document) is a file without groups.
pub fn decode(root: Option<&Node>) -> Result<Vec<RawGroup>, DecodeError> {
    let mut d = Decoder {
        errors: Vec::new(),
        second: Vec::new(),
    };
    let groups = match root {
        None => Vec::new(),
        Some(root) => d.top(root).map_err(DecodeError::Stopped)?,
    };
    if d.errors.is_empty() && d.second.is_empty() {
        Ok(groups)
    } else {
        Err(DecodeError::Gathered(d.errors, d.second))
    }
}

impl Decoder {
    /// Go's duplicate-key check, run before a mapping is decoded: every pair of equal keys is
    /// reported and, if there is one, the mapping is not decoded at all.
    fn duplicates(&mut self, entries: &[(Node, Node)]) -> bool {
        let before = self.errors.len();
        for (i, (a, _)) in entries.iter().enumerate() {
            for (b, _) in &entries[i + 1..] {
                let scalar = |n: &Node| !matches!(n.value, Value::Seq(_) | Value::Map(_));
                if scalar(a) && scalar(b) && key_text(a) == key_text(b) {
                    self.errors.push(format!(
                        "line {}: mapping key {} already defined at line {}",
                        b.line,
                        super::go_quote(&key_text(b)),
                        a.line
                    ));
                }
            }
        }
        self.errors.len() > before
    }

    /// The entries of a struct-like map in order; an unknown key is its error, which the caller
    /// records in turn so errors keep Go's order.
    fn fields<'a>(
        &mut self,
        node: &'a Node,
        known: &[&str],
        go_type: &str,
    ) -> Vec<Result<(&'a str, &'a Node), String>> {
        let Value::Map(entries) = &node.value else {
            return Vec::new();
        };
        if self.duplicates(entries) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (k, v) in entries {
            let name = match &k.value {
                // Go's decoder passes over a null key without a word.
                Value::Null => continue,
                Value::Str(s) => s.as_str(),
                Value::Seq(_) | Value::Map(_) => {
                    out.push(Err(type_error(k, "string")));
                    continue;
                }
                _ => k.raw.as_deref().unwrap_or(""),
            };
            if known.contains(&name) {
                out.push(Ok((name, v)));
            } else {
                out.push(Err(format!(
                    "line {}: field {name} not found in type {go_type}",
                    k.line
                )));
            }
        }
        out
    }

    fn top(&mut self, root: &Node) -> Result<Vec<RawGroup>, String> {
        if !matches!(root.value, Value::Map(_)) {
            // Prometheus decodes twice (values, then positions) and both fail here.
            self.errors.push(type_error(root, "rulefmt.RuleGroups"));
            self.second.push(type_error(root, "rulefmt.ruleGroups"));
            return Ok(Vec::new());
        }
        let mut groups = Vec::new();
        for field in self.fields(root, &["groups"], "rulefmt.RuleGroups") {
            let (_, v) = match field {
                Ok(f) => f,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            groups = match &v.value {
                Value::Null => Vec::new(),
                Value::Seq(items) => {
                    let mut gs = Vec::new();
                    for item in items {
                        gs.push(self.group(item)?);
                    }
                    gs
                }
                _ => {
                    self.errors.push(type_error(v, "[]rulefmt.RuleGroup"));
                    self.second.push(type_error(v, "[]yaml.Node"));
                    Vec::new()
                }
            };
        }
        Ok(groups)
    }

    fn group(&mut self, node: &Node) -> Result<RawGroup, String> {
        let mut g = RawGroup {
            line: node.line,
            column: node.column,
            ..RawGroup::default()
        };
        if !matches!(node.value, Value::Map(_) | Value::Null) {
            self.errors.push(type_error(node, "rulefmt.RuleGroup"));
            return Ok(g);
        }
        let known = ["name", "interval", "limit", "rules"];
        for field in self.fields(node, &known, "rulefmt.RuleGroup") {
            let (key, v) = match field {
                Ok(f) => f,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            match key {
                "name" => g.name = self.string(v),
                "interval" => g.interval = self.duration(v)?,
                "limit" => g.limit = self.int(v),
                _ => {
                    g.rules = match &v.value {
                        Value::Null => Vec::new(),
                        Value::Seq(items) => items
                            .iter()
                            .map(|r| self.rule(r))
                            .collect::<Result<_, _>>()?,
                        _ => {
                            self.errors.push(type_error(v, "[]rulefmt.RuleNode"));
                            Vec::new()
                        }
                    }
                }
            }
        }
        Ok(g)
    }

    fn rule(&mut self, node: &Node) -> Result<RawRule, String> {
        let mut r = RawRule {
            line: node.line,
            ..RawRule::default()
        };
        if !matches!(node.value, Value::Map(_) | Value::Null) {
            self.errors.push(type_error(node, "rulefmt.RuleNode"));
            return Ok(r);
        }
        let known = [
            "record",
            "alert",
            "expr",
            "for",
            "keep_firing_for",
            "labels",
            "annotations",
        ];
        for field in self.fields(node, &known, "rulefmt.RuleNode") {
            let (key, v) = match field {
                Ok(f) => f,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            // record, alert and expr are kept as raw YAML nodes by Prometheus: any node fits, and
            // its text is what was written (`~` included); a list or map reads as empty.
            let located = || Located {
                text: match &v.value {
                    Value::Null => v.raw.clone().unwrap_or_default(),
                    _ => v.text().unwrap_or_default(),
                },
                line: v.line,
                column: v.column,
            };
            match key {
                "record" => r.record = located(),
                "alert" => r.alert = located(),
                "expr" => r.expr = located(),
                "for" => r.for_ = self.duration(v)?,
                "keep_firing_for" => r.keep_firing_for = self.duration(v)?,
                "labels" => r.labels = self.string_map(v),
                _ => r.annotations = self.string_map(v),
            }
        }
        Ok(r)
    }

    fn string(&mut self, node: &Node) -> String {
        node.text().unwrap_or_else(|| {
            self.errors.push(type_error(node, "string"));
            String::new()
        })
    }

    fn int(&mut self, node: &Node) -> i64 {
        match node.value {
            Value::Null => 0,
            Value::Int(i) => i,
            // Go accepts a float that fits an int, dropping the fraction.
            Value::Float(x) if x.is_finite() && x.abs() < 9.2e18 => x as i64,
            _ => {
                self.errors.push(type_error(node, "int"));
                0
            }
        }
    }

    /// A duration field: read as a string (type errors gathered), then parsed (errors stop).
    fn duration(&mut self, node: &Node) -> Result<Duration, String> {
        match &node.value {
            Value::Null => Ok(Duration::ZERO),
            Value::Seq(_) | Value::Map(_) => {
                self.errors.push(type_error(node, "string"));
                Ok(Duration::ZERO)
            }
            _ => super::duration::parse(&node.text().unwrap_or_default()),
        }
    }

    fn string_map(&mut self, node: &Node) -> Vec<(String, String)> {
        match &node.value {
            Value::Null => Vec::new(),
            Value::Map(entries) => {
                if self.duplicates(entries) {
                    return Vec::new();
                }
                entries
                    .iter()
                    .map(|(k, v)| (self.string(k), self.string(v)))
                    .collect()
            }
            _ => {
                self.errors.push(type_error(node, "map[string]string"));
                Vec::new()
            }
        }
    }
}
