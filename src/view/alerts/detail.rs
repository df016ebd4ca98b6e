//! One alert in full: its state and times, where it comes from, the verdicts of the other
//! sources, the rule's evaluation error, the expression, every label and annotation, and the
//! workload its labels name (Enter goes there).

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{DISAGREE_MARK, MUTED_MARK, Styles, env_text, source_text, value_text, where_text};
use crate::action::Action;
use crate::alerts::model::{Alert, AlertState};
use crate::state::State;
use crate::state::alerts::{self as alerts_state, resolve, state_word};
use crate::view::age;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, styles: &Styles, now: Timestamp) {
    let key = state.screen().scope.alert.as_ref();
    let alert = key.and_then(|k| state.alerts.get(k));
    let (title, lines) = match alert {
        Some(a) => (
            format!(" alert {} in {} ", a.name, where_text(state, a, true)),
            lines(state, a, styles, now),
        ),
        None => (
            " alert ".to_string(),
            vec![Line::styled(
                "  no longer reported by any source (resolved more than 15 minutes ago, or its rule was removed)",
                styles.warn,
            )],
        ),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(styles.border)
        .title(Span::styled(title, styles.title));
    let para = Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((state.screen().scroll, 0));
    frame.render_widget(para, area);
}

/// A time as `14:02:31 (4m12s ago)` in the console's zone.
fn when(state: &State, t: Option<Timestamp>, now: Timestamp) -> String {
    match t {
        Some(t) => format!(
            "{} ({} ago)",
            t.to_zoned(state.tz.clone()).strftime("%Y-%m-%d %H:%M:%S"),
            age(Some(t), now)
        ),
        None => "–".into(),
    }
}

fn field(name: &str, value: String, styles: &Styles) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("  {name:<13}"), styles.muted),
        Span::raw(value),
    ])
}

fn heading(text: &str, styles: &Styles) -> Line<'static> {
    Line::styled(text.to_string(), styles.title)
}

fn lines(state: &State, a: &Alert, styles: &Styles, now: Timestamp) -> Vec<Line<'static>> {
    let state_style = match a.state {
        AlertState::Firing => styles.crit,
        AlertState::Pending => styles.warn,
        AlertState::Resolved => styles.muted,
    };
    let since = match a.state {
        AlertState::Resolved => "was active",
        _ => "for",
    };
    let mut out = vec![Line::from(vec![
        Span::styled(format!("  {}", state_word(a.state)), state_style),
        Span::raw(format!(
            " {since} {} · severity {} · value {}",
            age(a.active_at, now),
            a.label("severity").unwrap_or("–"),
            value_text(a.value)
        )),
    ])];
    out.push(field("active since", when(state, a.active_at, now), styles));
    if a.state == AlertState::Resolved || a.resolved_at.is_some() {
        out.push(field("resolved", when(state, a.resolved_at, now), styles));
    }
    out.push(field(
        "environment",
        env_text(state, &a.environment),
        styles,
    ));
    out.push(field("source", source_name(a), styles));
    out.push(field(
        "origin",
        a.origin.clone().unwrap_or_else(|| "–".into()),
        styles,
    ));
    if !a.silenced_by.is_empty() {
        let text = format!("{MUTED_MARK} {}", a.silenced_by.join(", "));
        out.push(field("silenced by", text, styles));
    }
    if !a.inhibited_by.is_empty() {
        let text = format!("{MUTED_MARK} {}", a.inhibited_by.join(", "));
        out.push(field("inhibited by", text, styles));
    }
    if let Some(d) = &a.disagreement {
        out.push(Line::from(vec![
            Span::styled(format!("  {:<13}", "disagreement"), styles.muted),
            Span::styled(format!("{DISAGREE_MARK} {d}"), styles.warn),
        ]));
    }
    if let Some(r) = state.alerts.rule_error(a) {
        out.push(Line::from(vec![
            Span::styled(format!("  {:<13}", "rule error"), styles.muted),
            Span::styled(
                format!(
                    "✗ {} (local evaluation of {}, {} ago)",
                    r.error.clone().unwrap_or_default(),
                    r.origin,
                    age(r.last_eval, now)
                ),
                styles.crit,
            ),
        ]));
    }
    for s in state
        .alerts
        .snapshot
        .sources
        .iter()
        .filter(|s| s.environment == a.environment && s.error.is_some())
    {
        out.push(Line::styled(
            format!("  ⚠ {}", alerts_state::source_words(state, s)),
            styles.warn,
        ));
    }
    out.push(workload_line(state, a, styles));
    out.push(Line::default());
    out.push(heading("Expression", styles));
    let expr = a
        .expr
        .clone()
        .or_else(|| {
            state
                .alerts
                .snapshot
                .rules
                .iter()
                .find(|r| r.environment == a.environment && r.name == a.name)
                .map(|r| r.expr.clone())
        })
        .unwrap_or_else(|| "– (the source did not say)".into());
    out.push(Line::from(format!("  {expr}")));
    out.push(Line::default());
    out.push(heading("Labels", styles));
    out.extend(pairs(&a.labels, styles));
    out.push(Line::default());
    out.push(heading("Annotations", styles));
    if a.annotations.is_empty() {
        out.push(Line::styled("  none", styles.muted));
    }
    out.extend(pairs(&a.annotations, styles));
    out
}

fn source_name(a: &Alert) -> String {
    let name = match a.source {
        crate::alerts::model::Source::Local => "local evaluation (watchfloor)",
        crate::alerts::model::Source::Prometheus => "Prometheus",
        crate::alerts::model::Source::Alertmanager => "Alertmanager",
    };
    format!("{name} [{}]", source_text(a.source))
}

fn pairs(list: &[(String, String)], styles: &Styles) -> Vec<Line<'static>> {
    let width = list
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    list.iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("  {k:<width$} "), styles.muted),
                Span::raw(v.clone()),
            ])
        })
        .collect()
}

/// Where Enter goes: the workload the labels name, or why there is none.
fn workload_line(state: &State, a: &Alert, styles: &Styles) -> Line<'static> {
    match resolve(state, a) {
        Ok(t) => {
            let where_: Vec<String> = t.clusters.iter().map(|&c| state.cluster_name(c)).collect();
            let keys = [Action::Open, Action::AlertPods]
                .iter()
                .filter_map(|&a| state.keymap.hint(a))
                .collect::<Vec<_>>()
                .join(" or ");
            Line::from(vec![
                Span::styled(format!("  {:<13}", "workload"), styles.muted),
                Span::raw(format!(
                    "{} in {} (its {} label) — {keys} shows its pods",
                    t.key,
                    where_.join(", "),
                    t.via
                )),
            ])
        }
        Err(why) => Line::from(vec![
            Span::styled(format!("  {:<13}", "workload"), styles.muted),
            Span::styled(why, styles.muted),
        ]),
    }
}
