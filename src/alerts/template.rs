//! Prometheus's alert templates (`{{ $labels.instance }} is down ({{ $value | humanize }})`): a
//! hand-written subset of Go's text/template with Prometheus's functions, expanded as Prometheus
//! expands alert labels and annotations, with Go's number formatting digit for digit.
//!
//! Why hand-written: there is no maintained Rust crate implementing Go templates with
//! Prometheus's function set; `gtmpl` (the closest) has been unmaintained since 2021 and lacks the
//! humanize family and Go's float formatting. The subset covers what alert rules use: actions with
//! `-` trimming, variables, field access, pipelines, `if`/`else if`/`else`, `with`, `range` over
//! labels, Go's comparison and logic functions, `printf`, `index`, the humanize family, `title`,
//! `toUpper`, `toLower`, `match`, `reReplaceAll`. Anything else is refused (parse) or yields
//! `<error expanding template: ...>` (execution), never a guess. Oracle: promtool 2.42 (see the
//! tests).

use crate::alerts::rulefile::go_quote;

mod ast;
mod exec;
mod funcs;
pub mod gofmt;
mod lex;
mod parse;
mod printf;

#[cfg(test)]
mod oracle;

/// What an alert template sees: `$labels`/`.Labels`, `$externalLabels`, `$externalURL`, `$value`.
#[derive(Clone, Copy, Debug)]
pub struct TemplateData<'a> {
    pub labels: &'a [(String, String)],
    pub external_labels: &'a [(String, String)],
    pub external_url: &'a str,
    pub value: f64,
}

/// The variables Prometheus defines before every alert template; the template is parsed with
/// this text in front, so byte columns in errors match Prometheus's.
const PRELUDE: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// Go's `file:line` (and `:col` when asked) of byte offset `pos` in `text`.
fn location(text: &str, pos: usize, with_col: bool) -> String {
    let before = text.get(..pos.min(text.len())).unwrap_or(text);
    let line = 1 + before.matches('\n').count();
    if !with_col {
        return line.to_string();
    }
    let col = match before.rfind('\n') {
        Some(nl) => pos - nl - 1,
        None => pos,
    };
    format!("{line}:{col}")
}

fn parse_named(name: &str, text: &str) -> Result<Vec<ast::Node>, String> {
    let full = format!("{PRELUDE}{text}");
    let toks = lex::lex(&full)
        .map_err(|(m, p)| format!("template: {name}:{}: {m}", location(&full, p, false)))?;
    parse::Parser::new(&toks, full.len())
        .parse()
        .map_err(|(m, p)| format!("template: {name}:{}: {m}", location(&full, p, false)))
}

/// Checks that `text` parses as a template of alert `alert_name`; the error is Go's text
/// (`template: __alert_X:1: unexpected EOF`), as promtool prints it.
pub fn check_alert(alert_name: &str, text: &str) -> Result<(), String> {
    parse_named(&format!("__alert_{alert_name}"), text).map(|_| ())
}

/// Parse-only check used by rule-file validation (the template name in the message is empty; use
/// [`check_alert`] for Prometheus's exact text).
pub fn check(text: &str) -> Result<(), String> {
    check_alert("", text)
}

/// Expands one label or annotation value as Prometheus does for alert `alert_name` (its template
/// name is "__alert_" + name); on any error returns "<error expanding template: ...>" with
/// Prometheus's text.
pub fn expand(alert_name: &str, text: &str, data: &TemplateData) -> String {
    let name = format!("__alert_{alert_name}");
    // Prometheus skips the template engine for text without an action.
    if !text.contains("{{") {
        return text.to_owned();
    }
    let nodes = match parse_named(&name, text) {
        Ok(nodes) => nodes,
        Err(e) => return format!("<error expanding template: error parsing template {name}: {e}>"),
    };
    match exec::State::new(data).run(&nodes) {
        Ok(s) => s,
        Err(e) => {
            let full = format!("{PRELUDE}{text}");
            format!(
                "<error expanding template: error executing template {name}: template: {name}:{}: executing {} at <{}>: {}>",
                location(&full, e.pos, true),
                go_quote(&name),
                e.at,
                e.message
            )
        }
    }
}

#[cfg(test)]
mod tests;
