//! The alerts table (`:alerts`), the rules table (`:rules`) and an alert's detail. Every state is
//! a word (FIRING in capitals, pending, resolved) and every flag a symbol explained on the help
//! page and in words on the line under the table, so nothing depends on colour.

mod detail;

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell as TableCell, Paragraph, Row};

use super::table::{self, TableSpec};
use super::{Styles, age, fit};
use crate::action::Action;
use crate::alerts::model::{Alert, AlertState, Source};
use crate::state::alerts::{self as alerts_state, state_word};
use crate::state::{Item, State};

pub use detail::draw as detail;

/// Marks after the state word: silenced or inhibited, and sources that disagree.
pub const MUTED_MARK: &str = "⊘";
pub const DISAGREE_MARK: &str = "≠";

/// Below this width columns compact (severity abbreviated, no namespace, no source column).
const WIDE: u16 = 100;
/// From this width the source column is shown.
const WIDEST: u16 = 130;

/// An alert's value has no unit the console knows (a ratio is not shown as a percentage), so: three significant
/// digits and an SI suffix (`0.0723`, `1.3`, `1.93G`).
pub fn value_text(v: Option<f64>) -> String {
    let Some(v) = v else {
        return "–".into();
    };
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let a = v.abs();
    let (scaled, suffix) = match a {
        _ if a >= 1e12 => (v / 1e12, "T"),
        _ if a >= 1e9 => (v / 1e9, "G"),
        _ if a >= 1e6 => (v / 1e6, "M"),
        _ if a >= 1e4 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    if scaled == 0.0 {
        return "0".into();
    }
    if scaled.abs() < 1e-3 {
        return format!("{v:.2e}");
    }
    let digits = scaled.abs().log10().floor() as i32;
    let decimals = (2 - digits).clamp(0, 6) as usize;
    let mut text = format!("{scaled:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{text}{suffix}")
}

/// The severity label, abbreviated when narrow.
fn severity_text(a: &Alert, narrow: bool) -> String {
    let s = a.label("severity").unwrap_or("–");
    if !narrow {
        return s.to_string();
    }
    match s {
        "critical" => "crit".into(),
        "warning" => "warn".into(),
        other => fit(other, 5),
    }
}

/// An environment as headers print it (a protected one in capitals).
pub fn env_text(state: &State, env: &str) -> String {
    match state.envs.iter().find(|e| e.name == env) {
        Some(e) if e.protected => e.name.to_uppercase(),
        _ => env.to_string(),
    }
}

/// `PROD westus / arq`: the environment, the `cluster` label (as the column header names that
/// cluster when it is one of ours), and with room the namespace.
pub fn where_text(state: &State, a: &Alert, with_namespace: bool) -> String {
    let mut text = match a.label("cluster") {
        Some(label) => {
            let known = state.clusters.iter().position(|c| {
                state
                    .envs
                    .get(c.env)
                    .is_some_and(|e| e.name == a.environment)
                    && alerts_state::cluster_matches(c, Some(label))
            });
            match known {
                Some(id) => state.cluster_name(id),
                None => format!("{} {label}", env_text(state, &a.environment)),
            }
        }
        None => env_text(state, &a.environment),
    };
    if with_namespace && let Some(ns) = a.label("namespace") {
        text.push_str(&format!(" / {ns}"));
    }
    text
}

/// `FIRING ⊘≠`.
pub fn state_text(a: &Alert) -> String {
    let mut text = state_word(a.state).to_string();
    let muted = alerts_state::muted(a);
    if muted || a.disagreement.is_some() {
        text.push(' ');
    }
    if muted {
        text.push_str(MUTED_MARK);
    }
    if a.disagreement.is_some() {
        text.push_str(DISAGREE_MARK);
    }
    text
}

pub fn summary_text(a: &Alert) -> &str {
    let find = |name: &str| {
        a.annotations
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    find("summary")
        .or_else(|| find("description"))
        .unwrap_or("")
}

pub fn source_text(s: Source) -> &'static str {
    match s {
        Source::Local => "local",
        Source::Prometheus => "prometheus",
        Source::Alertmanager => "alertmanager",
    }
}

fn alert_style(styles: &Styles, a: &Alert) -> ratatui::style::Style {
    match a.state {
        AlertState::Firing if alerts_state::muted(a) => styles.muted,
        AlertState::Firing => styles.crit,
        AlertState::Pending => styles.warn,
        AlertState::Resolved => styles.muted,
    }
}

/// The visible alerts of the current screen.
fn visible(state: &State) -> Vec<&Alert> {
    let screen = state.screen();
    let end = (screen.offset + state.table_height()).min(screen.items.len());
    screen.items[screen.offset.min(end)..end]
        .iter()
        .filter_map(|i| match i {
            Item::Alert(k) => state.alerts.get(k),
            _ => None,
        })
        .collect()
}

fn widest(values: impl Iterator<Item = usize>, title: &str, max: usize) -> Constraint {
    Constraint::Length(values.max().unwrap_or(0).max(title.len()).min(max) as u16)
}

/// `5 FIRING (1 silenced) · 1 pending · 1 resolved · 1 rule failing (E)`, counting the alerts
/// listed (the scope and filter applied), so the title and the rows under it agree.
fn title(state: &State, narrow: bool) -> String {
    let listed = state.screen().items.iter().filter_map(|i| match i {
        Item::Alert(k) => state.alerts.get(k),
        _ => None,
    });
    let (firing, muted, pending, resolved) = alerts_state::counts(listed);
    let mut parts = Vec::new();
    if !narrow {
        parts.push(format!("{} alerts", state.screen().items.len()));
    }
    let mut f = format!("{firing} FIRING");
    if muted > 0 {
        f.push_str(&format!(" ({muted} silenced)"));
    }
    parts.extend([
        f,
        format!("{pending} pending"),
        format!("{resolved} resolved"),
    ]);
    let failing = state.alerts.failing_rules();
    if failing > 0 {
        let word = if failing == 1 { "rule" } else { "rules" };
        let key = state
            .keymap
            .hint(Action::AlertRules)
            .map(|k| format!(" ({k})"))
            .unwrap_or_default();
        parts.push(format!("{failing} {word} failing{key}"));
    }
    parts.join(" · ")
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    status: Rect,
    state: &State,
    styles: &Styles,
    now: Timestamp,
) {
    let screen = state.screen();
    let narrow = area.width < WIDE;
    let with_source = area.width >= WIDEST;
    let rows = visible(state);
    let mut headers = vec!["STATE", "ALERT", "SEV", "WHERE", "SINCE", "VALUE"];
    if !narrow {
        headers[2] = "SEVERITY";
    }
    let mut widths = vec![
        Constraint::Length(10),
        widest(
            rows.iter().map(|a| a.name.chars().count()),
            "ALERT",
            if narrow { 16 } else { 28 },
        ),
        Constraint::Length(if narrow { 4 } else { 8 }),
        widest(
            rows.iter()
                .map(|a| where_text(state, a, !narrow).chars().count()),
            "WHERE",
            if narrow { 14 } else { 26 },
        ),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Min(10),
    ];
    headers.push("SUMMARY");
    if with_source {
        headers.push("SOURCE");
        widths.push(Constraint::Length(12));
    }
    let spec = TableSpec {
        title: title(state, narrow),
        headers,
        widths,
    };
    table::draw(frame, area, state, styles, spec, |i| {
        let Some(Item::Alert(key)) = screen.items.get(i) else {
            return Row::default();
        };
        let Some(a) = state.alerts.get(key) else {
            return Row::default();
        };
        let mut cells = vec![
            TableCell::from(Span::styled(state_text(a), alert_style(styles, a))),
            TableCell::from(a.name.clone()),
            TableCell::from(severity_text(a, narrow)),
            TableCell::from(where_text(state, a, !narrow)),
            TableCell::from(age(a.active_at, now)),
            TableCell::from(value_text(a.value)),
            TableCell::from(summary_text(a).to_string()),
        ];
        if with_source {
            cells.push(TableCell::from(source_text(a.source)));
        }
        Row::new(cells)
    });
    frame.render_widget(status_line(state, styles), status);
}

/// The line under the table: sources that do not answer (they change what the table means),
/// else the selected alert's flags and summary in words.
fn status_line(state: &State, styles: &Styles) -> Paragraph<'static> {
    let errors: Vec<String> = state
        .alerts
        .source_errors()
        .map(|s| alerts_state::source_words(state, s))
        .collect();
    if !errors.is_empty() {
        return Paragraph::new(format!(" ⚠ {}", errors.join(" · "))).style(styles.warn);
    }
    if !state.alerts.loaded {
        return Paragraph::new(" no alert source has reported yet").style(styles.muted);
    }
    let Some(a) = alerts_state::alert_in_focus(state) else {
        return Paragraph::new(Line::default());
    };
    let mut words = vec![format!("{} ({})", a.name, source_text(a.source))];
    if !a.silenced_by.is_empty() {
        words.push(format!(
            "{MUTED_MARK} silenced by {}",
            a.silenced_by.join(", ")
        ));
    }
    if !a.inhibited_by.is_empty() {
        words.push(format!(
            "{MUTED_MARK} inhibited by {}",
            a.inhibited_by.join(", ")
        ));
    }
    if let Some(d) = &a.disagreement {
        words.push(format!("{DISAGREE_MARK} sources disagree: {d}"));
    }
    if let Some(r) = state.alerts.rule_error(a) {
        words.push(format!(
            "rule fails: {}",
            r.error.clone().unwrap_or_default()
        ));
    }
    let summary = summary_text(a);
    if !summary.is_empty() {
        words.push(summary.to_string());
    }
    Paragraph::new(format!(" {}", words.join(" · "))).style(styles.muted)
}

/// The rules table: failing first, with the error in words.
pub fn rules(frame: &mut Frame, area: Rect, state: &State, styles: &Styles, now: Timestamp) {
    let screen = state.screen();
    let all = &state.alerts.snapshot.rules;
    let spec = TableSpec {
        title: format!(
            "{} rules · {} failing",
            screen.items.len(),
            state.alerts.failing_rules()
        ),
        headers: vec![
            "STATE",
            "ENV",
            "RULE",
            "ORIGIN",
            "EVAL",
            "ERROR / EXPRESSION",
        ],
        widths: vec![
            Constraint::Length(7),
            Constraint::Max(10),
            Constraint::Max(24),
            Constraint::Max(30),
            Constraint::Length(6),
            Constraint::Min(20),
        ],
    };
    table::draw(frame, area, state, styles, spec, |i| {
        let Some(Item::Rule(r)) = screen.items.get(i) else {
            return Row::default();
        };
        let Some(r) = all.get(*r) else {
            return Row::default();
        };
        let (word, style, text) = match &r.error {
            Some(e) => ("✗ error", styles.crit, e.clone()),
            None => ("✓ ok", styles.ok, r.expr.clone()),
        };
        Row::new(vec![
            TableCell::from(Span::styled(word, style)),
            TableCell::from(env_text(state, &r.environment)),
            TableCell::from(r.name.clone()),
            TableCell::from(r.origin.clone()),
            TableCell::from(age(r.last_eval, now)),
            TableCell::from(text),
        ])
    });
}

#[cfg(test)]
mod tests;
