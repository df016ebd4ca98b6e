//! Rule files in Prometheus's format (`groups:` of recording and alerting rules), read and checked
//! as strictly as `promtool check rules` (Prometheus 2.42's `rulefmt`): unknown keys, bad types,
//! bad durations, missing or doubled `record`/`alert`, invalid names, expressions and templates that
//! do not parse — each reported with the position and the words promtool uses, so a file that
//! promtool accepts is accepted here and one it refuses is refused for the same reason.
//!
//! Prometheus's checks run in two passes and both are kept: [`decode`] (types and unknown keys,
//! errors gathered as Go's YAML decoder gathers them) and [`validate`] (meaning). Where the words of
//! an error come from a different parser (PromQL via promql-parser, YAML syntax via serde-saphyr)
//! the prefix and position are promtool's and the rest is ours.
//!
//! Group `labels` and `query_offset` (Prometheus 3) are refused as unknown keys, as the reference
//! promtool 2.42 refuses them: a file checked here loads in the Prometheus the project targets.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::alerts::promql::{self, Labels};

mod check;
mod decode;
pub mod duration;
mod validate;
mod yaml;

pub use check::check_command;

/// A parsed and checked rule file.
#[derive(Clone, Debug)]
pub struct RuleFile {
    pub path: String,
    pub groups: Vec<Group>,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    /// `None`: the global evaluation interval applies.
    pub interval: Option<Duration>,
    /// The most alerts or series one rule may produce; 0 for no limit.
    pub limit: usize,
    pub rules: Vec<Rule>,
    /// Where the group starts (its `- name:` item).
    pub line: usize,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub kind: RuleKind,
    pub expr: String,
    pub parsed: promql::Expr,
    /// In file order.
    pub labels: Labels,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RuleKind {
    Record {
        name: String,
    },
    Alert {
        name: String,
        for_: Duration,
        keep_firing_for: Duration,
        /// In file order.
        annotations: Labels,
    },
}

impl Rule {
    /// The alert's or the recorded series' name.
    pub fn name(&self) -> &str {
        match &self.kind {
            RuleKind::Record { name } | RuleKind::Alert { name, .. } => name,
        }
    }
}

/// One problem in a rule file, as promtool reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    pub path: String,
    /// Where, 1-based; 0 when promtool gives no position (label and template errors).
    pub line: usize,
    pub column: usize,
    /// Everything promtool prints after `PATH: `, position prefix included (`4:17: group "g", ...`).
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for RuleError {}

/// Parses and checks the rule file `text` read from `path`; every problem is returned, in
/// promtool's order.
pub fn parse(path: &str, text: &str) -> Result<RuleFile, Vec<RuleError>> {
    let error = |line: usize, column: usize, message: String| RuleError {
        path: path.to_owned(),
        line,
        column,
        message,
    };
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err(e) => {
            // Prometheus reads the text twice and prints the syntax error once per read.
            let message = format!("yaml: line {}: {}", e.line, e.message);
            return Err(vec![
                error(e.line, e.column, message.clone()),
                error(e.line, e.column, message),
            ]);
        }
    };
    let raw = match decode::decode(root.as_ref()) {
        Ok(groups) => groups,
        Err(decode::DecodeError::Stopped(message)) => return Err(vec![error(0, 0, message)]),
        Err(decode::DecodeError::Gathered(first, second)) => {
            // One error per pass that failed, each listing its lines, as Go's decoder words it.
            let errors = [first, second]
                .into_iter()
                .filter(|lines| !lines.is_empty())
                .map(|lines| {
                    let line = lines
                        .first()
                        .and_then(|l| l.strip_prefix("line "))
                        .and_then(|l| l.split(':').next())
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                    let mut message = String::from("yaml: unmarshal errors:");
                    for l in &lines {
                        message.push_str("\n  ");
                        message.push_str(l);
                    }
                    error(line, 0, message)
                })
                .collect();
            return Err(errors);
        }
    };
    let (groups, problems) = validate::validate(raw);
    if problems.is_empty() {
        Ok(RuleFile {
            path: path.to_owned(),
            groups,
        })
    } else {
        Err(problems
            .into_iter()
            .map(|p| error(p.line, p.column, p.message))
            .collect())
    }
}

/// Reads and checks the rule file at `path`.
pub fn load(path: &Path) -> Result<RuleFile, Vec<RuleError>> {
    let shown = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => parse(&shown, &text),
            Err(_) => {
                // Prometheus reads the bytes twice and both reads refuse them.
                let e = RuleError {
                    path: shown,
                    line: 0,
                    column: 0,
                    message: "yaml: invalid leading UTF-8 octet".into(),
                };
                Err(vec![e.clone(), e])
            }
        },
        Err(e) => Err(vec![RuleError {
            message: format!("open {shown}: {e}"),
            path: shown,
            line: 0,
            column: 0,
        }]),
    }
}

/// Go's `%q`: a double-quoted string with Go's escapes, as promtool quotes group and rule names.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
