//! The fleet file as a YAML tree in which every node, keys included, knows its line and column, so
//! a problem found at any stage (a wrong type, an unknown cluster in the timeline) can point at the
//! text that caused it.
//!
//! serde-saphyr reads the text (YAML 1.2 core schema with YAML 1.1 merge keys; `yes`/`no` stay
//! strings) and reports syntax errors with their position; duplicate keys are let through to here
//! so the message can say where the first one was.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, MessageFormatter, Spanned, UserMessageFormatter};

/// A position in the file, 1-based as editors count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loc {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

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
    pub loc: Loc,
    /// The source text of a scalar that is not a string (`1.10`, `0x1f`), so a field that wants a
    /// string gets what the user wrote rather than the number YAML read.
    pub raw: Option<String>,
    pub value: Value,
    span: Option<(usize, usize)>,
}

impl Node {
    /// The text of a scalar as a key or a string field sees it.
    pub fn text(&self) -> Option<Cow<'_, str>> {
        match &self.value {
            Value::Str(s) => Some(Cow::Borrowed(s)),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
            Value::Bool(b) => Some(self.raw_or(b)),
            Value::Int(i) => Some(self.raw_or(i)),
            Value::Float(x) => Some(self.raw_or(x)),
        }
    }

    fn raw_or(&self, v: &dyn fmt::Display) -> Cow<'_, str> {
        match &self.raw {
            Some(raw) => Cow::Borrowed(raw),
            None => Cow::Owned(v.to_string()),
        }
    }

    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.text().as_deref() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// The node at `path`, if there is one.
    pub fn at(&self, path: &Path) -> Option<&Node> {
        let mut node = self;
        for seg in &path.0 {
            node = match (seg, &node.value) {
                (Seg::Key(k), Value::Map(_)) => node.get(k)?,
                (Seg::Index(i), Value::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The node at `path`, or the deepest node on the way there that exists.
    pub fn find(&self, path: &Path) -> &Node {
        let mut node = self;
        for seg in &path.0 {
            let next = match (seg, &node.value) {
                (Seg::Key(k), Value::Map(_)) => node.get(k),
                (Seg::Index(i), Value::Seq(items)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node
    }

    /// Where the key at the end of `path` is written; for a list item, where the item is.
    pub fn key_loc(&self, path: &Path) -> Loc {
        if let Some((Seg::Key(k), parent)) = path.split_last()
            && let Some((key, _)) = self.at(&parent).and_then(|p| p.entry(k))
        {
            return key.loc;
        }
        self.find(path).loc
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
                    .and_then(|(at, len)| text.get(at..at + len))
                    .map(str::to_owned)
                    .filter(|s| !s.is_empty());
            }
        }
    }

    /// The first key that appears twice in one mapping: `(first, second)`.
    fn duplicate_key(&self) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Seq(items) => items.iter().find_map(Node::duplicate_key),
            Value::Map(entries) => {
                for (i, (k, _)) in entries.iter().enumerate() {
                    let text = k.text();
                    if let Some((first, _)) = entries[..i].iter().find(|(f, _)| f.text() == text) {
                        return Some((first, k));
                    }
                }
                entries.iter().find_map(|(_, v)| v.duplicate_key())
            }
            _ => None,
        }
    }
}

/// A place in the document: `apps[3].replicas.prod`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path(pub Vec<Seg>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl Path {
    pub fn key(&self, k: impl Into<String>) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.into()));
        p
    }

    pub fn index(&self, i: usize) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }

    fn split_last(&self) -> Option<(&Seg, Path)> {
        let (last, rest) = self.0.split_last()?;
        Some((last, Path(rest.to_vec())))
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(n) => write!(f, "[{n}]")?,
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let plain = !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                    if plain {
                        f.write_str(k)?;
                    } else {
                        write!(f, "{k:?}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A syntax error: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub loc: Option<Loc>,
    pub message: String,
}

/// Reads YAML text into a located tree.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.with_snippet = false;
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    let mut root = match serde_saphyr::from_str_with_options::<Node>(text, options) {
        Ok(root) => root,
        Err(e) => {
            let loc = e.location().filter(|l| l.line() > 0).map(|l| Loc {
                line: l.line() as usize,
                column: l.column() as usize,
            });
            let message = UserMessageFormatter.format_message(&e);
            // The message may quote the input: keep control characters out of the terminal.
            let message: String = message
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            return Err(SyntaxError { loc, message });
        }
    };
    if root.value == Value::Null {
        return Err(SyntaxError {
            loc: None,
            message: "the file is empty".into(),
        });
    }
    if let Some((first, second)) = root.duplicate_key() {
        return Err(SyntaxError {
            loc: Some(second.loc),
            message: format!(
                "key `{}` appears twice in one map (first at line {})",
                second.text().unwrap_or_default(),
                first.loc.line
            ),
        });
    }
    root.fill_raw(text);
    Ok(root)
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<Value>::deserialize(d)?;
        let at = s.referenced;
        let span = at.span();
        Ok(Node {
            loc: Loc {
                line: at.line() as usize,
                column: at.column() as usize,
            },
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

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        i64::try_from(n)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("the number {n} is too large")))
    }

    fn visit_i128<E: de::Error>(self, n: i128) -> Result<Value, E> {
        i64::try_from(n)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("the number {n} is too large")))
    }

    fn visit_u128<E: de::Error>(self, n: u128) -> Result<Value, E> {
        i64::try_from(n)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("the number {n} is too large")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_knows_where_it_is() {
        let root = parse("name: x\napps:\n  - {name: a, replicas: 3}\n  - name: b\n    v: 1.10\n")
            .unwrap();
        let p = Path::default().key("apps").index(1).key("v");
        let v = root.find(&p);
        assert_eq!(v.loc, Loc { line: 5, column: 8 });
        assert_eq!(v.text().as_deref(), Some("1.10"), "the text as written");
        assert_eq!(p.to_string(), "apps[1].v");
        let r = root.find(&Path::default().key("apps").index(0).key("replicas"));
        assert_eq!(
            (r.loc.line, r.loc.column, &r.value),
            (3, 25, &Value::Int(3))
        );
        // A missing tail finds the deepest node that exists.
        let missing = Path::default().key("apps").index(0).key("nope");
        assert_eq!(root.find(&missing).loc, Loc { line: 3, column: 5 });
        assert_eq!(
            Path::default().key("versions").key("2.5.0").to_string(),
            "versions.\"2.5.0\""
        );
    }

    #[test]
    fn yes_and_no_stay_strings() {
        let root = parse("a: yes\nb: no\nc: true\n").unwrap();
        assert_eq!(root.get("a").unwrap().value, Value::Str("yes".into()));
        assert_eq!(root.get("c").unwrap().value, Value::Bool(true));
    }

    #[test]
    fn syntax_errors_and_duplicates_say_where() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(e.loc.map(|l| l.line), Some(2));
        let e = parse("a: 1\nb:\n  c: 1\n  c: 2\n").unwrap_err();
        assert_eq!(e.loc, Some(Loc { line: 4, column: 3 }));
        assert_eq!(
            e.message,
            "key `c` appears twice in one map (first at line 3)"
        );
        assert_eq!(parse("").unwrap_err().message, "the file is empty");
        assert_eq!(
            parse("# only a comment\n").unwrap_err().message,
            "the file is empty"
        );
    }
}
#[cfg(test)]
mod hostile {
    use super::*;

    #[test]
    fn deep_nesting_and_alias_bombs_are_refused_not_crashed() {
        let deep = format!("a: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("recursion limit"), "{e:?}");
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
        let e = parse(bomb).unwrap_err();
        assert!(e.message.contains("too large or too complex"), "{e:?}");
        assert_eq!(e.loc.map(|l| l.line), Some(6));
    }
}
