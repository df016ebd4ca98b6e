//! Errors from reading configuration, written for the person who has to fix the file: each names
//! the file, line and column, the key (`environments[1].protected`) and what is wrong.

use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A problem at one place in a file: `config.toml:12:5: environments[1].protected: ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Why configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file that must be there could not be read.
    #[error("{}: {}", path.display(), describe_io(source))]
    Read { path: PathBuf, source: io::Error },
    /// Problems at known places in a file, in file order; at least one.
    #[error("{}", join_lines(.0))]
    At(Vec<Located>),
    /// A problem with no place in a file (a flag naming a missing context, say).
    #[error("{0}")]
    Invalid(String),
}

impl ConfigError {
    pub(crate) fn read(path: &Path, source: io::Error) -> Self {
        ConfigError::Read {
            path: path.to_path_buf(),
            source,
        }
    }
}

fn describe_io(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::IsADirectory => "is a directory, not a file".to_string(),
        io::ErrorKind::InvalidData => "not UTF-8 text".to_string(),
        _ => e.to_string(),
    }
}

fn join_lines(problems: &[Located]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// One step of a key path: a table key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// Builds a key path: `keys!["environments", 1, "protected"]`.
impl From<&str> for Seg {
    fn from(key: &str) -> Self {
        Seg::Key(key.to_string())
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// Prints a key path as a person writes it: `environments[1].protected`, `env."a.b"`.
pub(crate) fn path_to_string(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let bare = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if bare {
                    out.push_str(k);
                } else {
                    out.push_str(&format!("{k:?}"));
                }
            }
        }
    }
    out
}

/// A parsed TOML file kept with its text and spans, so that problems found at any stage (syntax,
/// types, cross-checks) can be reported at their line and column.
pub(crate) struct SourceDoc<'a> {
    pub file: &'a Path,
    pub text: &'a str,
    pub root: Spanned<DeTable<'a>>,
}

impl<'a> SourceDoc<'a> {
    /// Parses the TOML syntax only.
    pub fn parse(file: &'a Path, text: &'a str) -> Result<Self, ConfigError> {
        let root = DeTable::parse(text).map_err(|e| {
            ConfigError::At(vec![locate(
                file,
                text,
                e.span().unwrap_or(0..0),
                e.message(),
            )])
        })?;
        Ok(Self { file, text, root })
    }

    /// Deserializes the document into `T`; a type error names the key it is about.
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<T, ConfigError> {
        T::deserialize(toml::de::Deserializer::from(self.root.clone())).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let mut path = self.path_at(span.start);
            let unknown = e.message().starts_with("unknown field");
            if unknown {
                // The message already names the key; the table it sits in is what helps.
                path.pop();
            }
            let mut message = e.message().to_string();
            if unknown {
                message.push_str(&secret_hint(e.message()));
            }
            ConfigError::At(vec![self.problem(span, &path, &message)])
        })
    }

    /// A problem with the value at `path`, for checks made after parsing. Placed at the deepest
    /// part of `path` that is in the file (a missing key: its table).
    pub fn at(&self, path: &[Seg], message: &str) -> Located {
        let span = self.span_of(path).unwrap_or(0..0);
        self.problem(span, path, message)
    }

    /// A problem with the key at `path` itself (an unknown name): placed at the key, and
    /// prefixed with the table it is in, as serde's unknown-field errors are.
    pub fn at_key(&self, path: &[Seg], message: &str) -> Located {
        let (parent, last) = match path.split_last() {
            Some((Seg::Key(k), parent)) => (parent, k.as_str()),
            _ => return self.at(path, message),
        };
        let table = match parent {
            [] => Some(self.root.get_ref()),
            _ => self.value_at(parent).and_then(|v| match v {
                DeValue::Table(t) => Some(t),
                _ => None,
            }),
        };
        let span = table
            .and_then(|t| t.iter().find(|(k, _)| k.get_ref().as_ref() == last))
            .map(|(k, _)| k.span());
        match span {
            Some(span) => self.problem(span, parent, message),
            None => self.at(path, message),
        }
    }

    fn value_at(&self, path: &[Seg]) -> Option<&DeValue<'a>> {
        let mut value: Option<&DeValue<'a>> = None;
        for seg in path {
            let next = match (seg, value) {
                (Seg::Key(k), None) => find_key(self.root.get_ref(), k),
                (Seg::Key(k), Some(DeValue::Table(t))) => find_key(t, k),
                (Seg::Index(i), Some(DeValue::Array(a))) => a.get(*i),
                _ => None,
            };
            value = Some(next?.get_ref());
        }
        value
    }

    fn problem(&self, span: Range<usize>, path: &[Seg], message: &str) -> Located {
        let message = if path.is_empty() {
            message.to_string()
        } else {
            format!("{}: {message}", path_to_string(path))
        };
        locate(self.file, self.text, span, &message)
    }

    /// The span of the value at `path`, or of the deepest part of it that is in the file.
    pub fn span_of(&self, path: &[Seg]) -> Option<Range<usize>> {
        let Some((Seg::Key(first), rest)) = path.split_first() else {
            return Some(self.root.span());
        };
        let found = self
            .root
            .get_ref()
            .iter()
            .find(|(key, _)| key.get_ref().as_ref() == first.as_str());
        Some(match found {
            Some((_, value)) => deepest_span(value, rest),
            None => self.root.span(),
        })
    }

    /// The deepest key path whose key or value covers byte `offset`.
    pub fn path_at(&self, offset: usize) -> Vec<Seg> {
        let mut path = Vec::new();
        walk_table(self.root.get_ref(), offset, &mut path);
        path
    }
}

fn find_key<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

fn deepest_span(value: &Spanned<DeValue<'_>>, path: &[Seg]) -> Range<usize> {
    let Some((first, rest)) = path.split_first() else {
        return value.span();
    };
    let child = match (first, value.get_ref()) {
        (Seg::Key(k), DeValue::Table(t)) => t
            .iter()
            .find(|(key, _)| key.get_ref().as_ref() == k.as_str())
            .map(|(_, v)| v),
        (Seg::Index(i), DeValue::Array(a)) => a.get(*i),
        _ => None,
    };
    child.map_or_else(|| value.span(), |c| deepest_span(c, rest))
}

fn walk_table(table: &DeTable<'_>, offset: usize, path: &mut Vec<Seg>) {
    for (key, value) in table.iter() {
        if key.span().contains(&offset) {
            path.push(Seg::Key(key.get_ref().to_string()));
            return;
        }
        if covers(&value.span(), offset) || contains_offset(value.get_ref(), offset) {
            path.push(Seg::Key(key.get_ref().to_string()));
            walk_value(value.get_ref(), offset, path);
            return;
        }
    }
}

fn walk_value(value: &DeValue<'_>, offset: usize, path: &mut Vec<Seg>) {
    match value {
        DeValue::Table(t) => walk_table(t, offset, path),
        DeValue::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                if covers(&item.span(), offset) || contains_offset(item.get_ref(), offset) {
                    path.push(Seg::Index(i));
                    walk_value(item.get_ref(), offset, path);
                    return;
                }
            }
        }
        _ => {}
    }
}

/// Tables written as `[section]` have a span covering only their header, so look inside too.
fn contains_offset(value: &DeValue<'_>, offset: usize) -> bool {
    match value {
        DeValue::Table(t) => t.iter().any(|(k, v)| {
            covers(&k.span(), offset)
                || covers(&v.span(), offset)
                || contains_offset(v.get_ref(), offset)
        }),
        DeValue::Array(a) => a
            .iter()
            .any(|v| covers(&v.span(), offset) || contains_offset(v.get_ref(), offset)),
        _ => false,
    }
}

fn covers(span: &Range<usize>, offset: usize) -> bool {
    span.contains(&offset) || (span.is_empty() && span.start == offset)
}

/// Secrets never go in the config file itself; say where they go instead.
fn secret_hint(message: &str) -> String {
    let named = |k: &str| message.starts_with(&format!("unknown field `{k}`"));
    if named("bearer_token") || named("token") {
        " (secrets are not written in the config file: use bearer_token_file or bearer_token_env)"
            .to_string()
    } else if named("password") {
        " (secrets are not written in the config file: use password_file or password_env)"
            .to_string()
    } else {
        String::new()
    }
}

/// Turns a byte span into a 1-based line and character column.
pub(crate) fn locate(file: &Path, text: &str, span: Range<usize>, message: &str) -> Located {
    let (line, column) = line_col(text, span.start);
    Located {
        file: file.to_path_buf(),
        line,
        column,
        message: message.to_string(),
    }
}

pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialized, to provoke errors")]
    struct Doc {
        environments: Vec<Env>,
        #[serde(default)]
        ui: Option<Ui>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialized, to provoke errors")]
    struct Env {
        name: String,
        #[serde(default)]
        protected: bool,
    }
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialized, to provoke errors")]
    struct Ui {
        theme: String,
    }

    fn err(text: &str) -> String {
        let file = Path::new("c.toml");
        let doc = match SourceDoc::parse(file, text) {
            Ok(doc) => doc,
            Err(e) => return e.to_string(),
        };
        doc.deserialize::<Doc>().unwrap_err().to_string()
    }

    #[test]
    fn type_errors_name_the_key_with_its_index() {
        let text = "[[environments]]\nname = \"a\"\n\n[[environments]]\nname = \"b\"\nprotected = \"yes\"\n";
        assert_eq!(
            err(text),
            "c.toml:6:13: environments[1].protected: invalid type: string \"yes\", expected a boolean"
        );
    }

    #[test]
    fn unknown_keys_name_their_table() {
        assert_eq!(
            err("environments = []\n[ui]\ntheme = \"x\"\ncolour = 1\n"),
            "c.toml:4:1: ui: unknown field `colour`, expected `theme`"
        );
        assert_eq!(
            err("environments = []\nbearer_token = \"x\"\n"),
            "c.toml:2:1: unknown field `bearer_token`, expected `environments` or `ui` (secrets are not written in the config file: use bearer_token_file or bearer_token_env)"
        );
    }

    #[test]
    fn syntax_and_missing_fields() {
        assert_eq!(
            err("[ui]\ntheme = \n"),
            "c.toml:2:9: string values must be quoted, expected literal string"
        );
        assert_eq!(
            err("[[environments]]\nprotected = true\n"),
            "c.toml:1:1: environments[0]: missing field `name`"
        );
    }

    #[test]
    fn spans_of_paths_fall_back_to_what_exists() {
        let file = Path::new("c.toml");
        let text = "[[environments]]\nname = \"a\"\n[[environments]]\nname = \"b\"\n";
        let doc = SourceDoc::parse(file, text).unwrap();
        let at = doc.at(&["environments".into(), 1.into(), "name".into()], "taken");
        assert_eq!(at.to_string(), "c.toml:4:8: environments[1].name: taken");
        let at = doc.at(
            &["environments".into(), 1.into(), "contexts".into()],
            "none",
        );
        assert_eq!((at.line, at.column), (3, 1));
        assert_eq!(line_col("ab\ncé\nx", 7), (3, 1));
        assert_eq!(line_col("ab\ncéd", 6), (2, 3));
    }
}
