//! The second of Prometheus's passes: what the decoded fields mean (rulefmt's `Validate`), in its
//! order and words, and the typed [`Group`]s when nothing is wrong.

use std::collections::HashSet;
use std::time::Duration;

use super::decode::{Located, RawGroup, RawRule};
use super::{Group, Rule, RuleKind, go_quote};
use crate::alerts::{promql, template};

pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Prometheus 2.x's metric-name rule (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Prometheus 2.x's label-name rule (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks every group; the typed groups are complete only when there are no problems.
pub fn validate(raw: Vec<RawGroup>) -> (Vec<Group>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut groups = Vec::new();
    for g in raw {
        let at = |message: String| Problem {
            line: g.line,
            column: g.column,
            message: format!("{}:{}: {message}", g.line, g.column),
        };
        if g.name.is_empty() {
            problems.push(at("Groupname must not be empty".into()));
        }
        if !seen.insert(g.name.clone()) {
            problems.push(at(format!(
                "groupname: \"{}\" is repeated in the same file",
                g.name
            )));
        }
        let mut rules = Vec::new();
        for (i, r) in g.rules.into_iter().enumerate() {
            let name = if r.alert.text.is_empty() {
                &r.record.text
            } else {
                &r.alert.text
            };
            let prefix = format!(
                "group {}, rule {}, {}: ",
                go_quote(&g.name),
                i + 1,
                go_quote(name)
            );
            let (rule, found) = rule(&r);
            for (line, alt, what) in found {
                let message = match (line, alt) {
                    (Some((l, c)), Some((al, ac))) => format!("{l}:{c}: {al}:{ac}: {prefix}{what}"),
                    (Some((l, c)), None) => format!("{l}:{c}: {prefix}{what}"),
                    _ => format!("{prefix}{what}"),
                };
                let (line, column) = line.unwrap_or((0, 0));
                problems.push(Problem {
                    line,
                    column,
                    message,
                });
            }
            rules.extend(rule);
        }
        groups.push(Group {
            name: g.name,
            interval: (g.interval > Duration::ZERO).then_some(g.interval),
            limit: usize::try_from(g.limit).unwrap_or(0),
            rules,
            line: g.line,
        });
    }
    (groups, problems)
}

type Pos = Option<(usize, usize)>;

fn pos(l: &Located) -> Pos {
    Some((l.line, l.column))
}

/// One rule's problems (position, second position, words) and the rule when it has none.
fn rule(r: &RawRule) -> (Option<Rule>, Vec<(Pos, Pos, String)>) {
    let mut found: Vec<(Pos, Pos, String)> = Vec::new();
    let mut add = |p: Pos, alt: Pos, what: String| found.push((p, alt, what));
    let (record, alert) = (&r.record.text, &r.alert.text);
    if !record.is_empty() && !alert.is_empty() {
        add(
            pos(&r.record),
            pos(&r.alert),
            "only one of 'record' and 'alert' must be set".into(),
        );
    }
    if record.is_empty() && alert.is_empty() {
        add(
            pos(&r.record),
            None,
            "one of 'record' or 'alert' must be set".into(),
        );
    }
    let mut parsed = None;
    if r.expr.text.is_empty() {
        add(
            pos(&r.expr),
            None,
            "field 'expr' must be set in rule".into(),
        );
    } else {
        match promql::parse(&r.expr.text) {
            Ok(e) => parsed = Some(e),
            Err(e) => add(
                pos(&r.expr),
                None,
                format!("could not parse expression: {e}"),
            ),
        }
    }
    if !record.is_empty() {
        if !r.annotations.is_empty() {
            add(
                pos(&r.record),
                None,
                "invalid field 'annotations' in recording rule".into(),
            );
        }
        if !r.for_.is_zero() {
            add(
                pos(&r.record),
                None,
                "invalid field 'for' in recording rule".into(),
            );
        }
        if !r.keep_firing_for.is_zero() {
            add(
                pos(&r.record),
                None,
                "invalid field 'keep_firing_for' in recording rule".into(),
            );
        }
        if !is_metric_name(record) {
            add(
                pos(&r.record),
                None,
                format!("invalid recording rule name: {record}"),
            );
        }
    }
    for (k, _) in &r.labels {
        if !is_label_name(k) || k == "__name__" {
            add(None, None, format!("invalid label name: {k}"));
        }
    }
    for (k, _) in &r.annotations {
        if !is_label_name(k) {
            add(None, None, format!("invalid annotation name: {k}"));
        }
    }
    if !alert.is_empty() {
        for (what, entries) in [("label", &r.labels), ("annotation", &r.annotations)] {
            for (k, v) in entries {
                if let Err(e) = template::check_alert(alert, v) {
                    add(None, None, format!("{what} {}: {e}", go_quote(k)));
                }
            }
        }
    }
    let rule = match (found.is_empty(), parsed) {
        (true, Some(parsed)) => Some(Rule {
            kind: if alert.is_empty() {
                RuleKind::Record {
                    name: record.clone(),
                }
            } else {
                RuleKind::Alert {
                    name: alert.clone(),
                    for_: r.for_,
                    keep_firing_for: r.keep_firing_for,
                    annotations: r.annotations.clone(),
                }
            },
            expr: r.expr.text.clone(),
            parsed,
            labels: r.labels.clone(),
            line: r.line,
        }),
        _ => None,
    };
    (rule, found)
}
