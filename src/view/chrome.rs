//! The header (where you are, each cluster's connection, the time) and the footer (hints from
//! the live keymap, the command or filter line, notices).

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Styles, age};
use crate::action::Action;
use crate::kube::ConnState;
use crate::state::{Level, Mode, State, ViewKind};

/// One cluster's connection as a symbol and words: `● ` synced, `◐ stale 14s`, `✗ down 2m`.
pub fn conn_chip(state: &State, id: usize, now: Timestamp) -> (String, Connish) {
    let c = &state.clusters[id];
    match &c.conn {
        ConnState::Connecting => ("… connecting".into(), Connish::Pending),
        ConnState::Synced => ("●".into(), Connish::Ok),
        ConnState::Degraded { .. } => (
            format!("◐ stale {}", age(Some(c.conn_since), now)),
            Connish::Degraded,
        ),
        ConnState::Unreachable { since, .. } => {
            (format!("✗ down {}", age(Some(*since), now)), Connish::Down)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connish {
    Pending,
    Ok,
    Degraded,
    Down,
}

fn conn_style(styles: &Styles, c: Connish) -> ratatui::style::Style {
    match c {
        Connish::Pending => styles.progressing,
        Connish::Ok => styles.ok,
        Connish::Degraded => styles.warn,
        Connish::Down => styles.crit,
    }
}

pub fn header(frame: &mut Frame, area: Rect, state: &State, styles: &Styles, now: Timestamp) {
    let mut spans = vec![Span::styled(" watchfloor", styles.title)];
    for part in breadcrumb(state) {
        spans.push(Span::styled(" ▸ ", styles.muted));
        spans.push(Span::styled(part, styles.base));
    }
    if state.readonly {
        spans.push(Span::styled(" [read-only]", styles.accent));
    }
    spans.push(Span::raw("   "));
    for id in crate::state::fleet::columns(&state.clusters) {
        let (env, short) = state.cluster_label(id);
        let e = &state.envs[state.clusters[id].env];
        spans.push(Span::styled(env, styles.env(e)));
        if !short.is_empty() {
            spans.push(Span::styled(format!(" {short}"), styles.base));
        }
        let (chip, c) = conn_chip(state, id, now);
        spans.push(Span::raw(" "));
        spans.push(Span::styled(chip, conn_style(styles, c)));
        spans.push(Span::raw("  "));
    }
    if !state.warnings.is_empty() {
        let n = state.warnings.len();
        let word = if n == 1 { "warning" } else { "warnings" };
        spans.push(Span::styled(
            format!("⚠ {n} config {word} (?) "),
            styles.warn,
        ));
    }
    let clock = now
        .to_zoned(state.tz.clone())
        .strftime("%H:%M:%S")
        .to_string();
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let pad = usize::from(area.width).saturating_sub(used + clock.len() + 1);
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(clock, styles.muted));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(styles.base), area);
}

fn breadcrumb(state: &State) -> Vec<String> {
    let screen = state.screen();
    let mut out = Vec::new();
    if let Some(e) = screen.scope.env {
        out.push(format!("env {}", state.envs[e].name));
    }
    if let Some(c) = screen.scope.cluster {
        out.push(state.cluster_name(c));
    }
    match (&screen.scope.namespace, &screen.scope.workload) {
        (Some(ns), Some(w)) => out.push(format!("{ns}/{w}")),
        (Some(ns), None) => out.push(ns.clone()),
        _ => {}
    }
    out.push(screen.kind.title().to_string());
    out
}

/// What each view offers now, in the order the hint bar shows them.
pub fn offered(kind: ViewKind) -> &'static [Action] {
    match kind {
        ViewKind::Fleet => &[
            Action::Open,
            Action::Detail,
            Action::Logs,
            Action::Scale,
            Action::Restart,
            Action::Rollback,
            Action::Filter,
            Action::Command,
            Action::FaultsOnly,
            Action::SortNext,
            Action::Help,
            Action::Quit,
        ],
        ViewKind::Workloads | ViewKind::Pods => &[
            Action::Open,
            Action::Detail,
            Action::Logs,
            Action::Scale,
            Action::Restart,
            Action::Rollback,
            Action::Back,
            Action::Filter,
            Action::Command,
            Action::FaultsOnly,
            Action::SortNext,
            Action::Help,
            Action::Quit,
        ],
        ViewKind::Events => &[
            Action::Detail,
            Action::Back,
            Action::Filter,
            Action::FaultsOnly,
            Action::SortNext,
            Action::Help,
            Action::Quit,
        ],
        ViewKind::Clusters => &[
            Action::Open,
            Action::Back,
            Action::Command,
            Action::Help,
            Action::Quit,
        ],
        ViewKind::Logs => &[
            Action::Back,
            Action::Filter,
            Action::LogFollow,
            Action::LogSince,
            Action::LogTail,
            Action::LogTimestamps,
            Action::LogWrap,
            Action::LogPrevious,
            Action::LogJson,
            Action::LogContainer,
            Action::LogClusters,
            Action::LogSave,
            Action::Help,
        ],
        ViewKind::Metrics => &[
            Action::Open,
            Action::Back,
            Action::Filter,
            Action::MetricsWindow,
            Action::Command,
            Action::Help,
            Action::Quit,
        ],
        ViewKind::Alerts => &[
            Action::Open,
            Action::AlertPods,
            Action::AlertRules,
            Action::Back,
            Action::Filter,
            Action::Command,
            Action::FaultsOnly,
            Action::SortNext,
            Action::Help,
            Action::Quit,
        ],
        ViewKind::AlertDetail => &[
            Action::AlertPods,
            Action::Back,
            Action::Down,
            Action::Up,
            Action::AlertRules,
            Action::Help,
            Action::Quit,
        ],
        ViewKind::AlertRules => &[
            Action::AlertRules,
            Action::Back,
            Action::Filter,
            Action::FaultsOnly,
            Action::Help,
            Action::Quit,
        ],
        ViewKind::Detail => &[
            Action::Back,
            Action::Down,
            Action::Up,
            Action::MetricsWindow,
            Action::MetricsSignal,
            Action::Logs,
            Action::Scale,
            Action::Restart,
            Action::Rollback,
            Action::Help,
            Action::Quit,
        ],
    }
}

/// Short words for the hint bar.
pub fn hint_word(a: Action) -> &'static str {
    match a {
        Action::Open => "open",
        Action::Detail => "detail",
        Action::Back => "back",
        Action::Filter => "filter",
        Action::Command => "command",
        Action::FaultsOnly => "faults",
        Action::SortNext => "sort",
        Action::Help => "help",
        Action::Quit => "quit",
        Action::Logs => "logs",
        Action::Scale => "scale",
        Action::Restart => "restart",
        Action::Rollback => "rollback",
        Action::Down => "scroll",
        Action::Up => "up",
        Action::LogFollow => "pause",
        Action::LogSince => "since",
        Action::LogTail => "tail",
        Action::LogTimestamps => "time",
        Action::LogWrap => "wrap",
        Action::LogPrevious => "previous",
        Action::LogJson => "json",
        Action::LogContainer => "container",
        Action::LogClusters => "clusters",
        Action::LogSave => "save",
        Action::MetricsWindow => "window",
        Action::MetricsSignal => "signal",
        Action::ViewMetrics => "metrics",
        Action::ViewAlerts => "alerts",
        Action::AlertRules => "rules",
        Action::AlertPods => "pods",
        _ => "",
    }
}

pub fn footer(frame: &mut Frame, area: Rect, state: &State, styles: &Styles) {
    let line = match &state.mode {
        Mode::Command(text) => Line::from(vec![
            Span::styled(":", styles.key),
            Span::raw(text.clone()),
            Span::styled("▌", styles.accent),
            Span::styled("   enter run · esc cancel", styles.muted),
        ]),
        Mode::Filter(text) => Line::from(vec![
            Span::styled("/", styles.key),
            Span::raw(text.clone()),
            Span::styled("▌", styles.accent),
            Span::styled(
                if state.screen().kind == ViewKind::Logs {
                    "   regex over the lines · !inverts · enter keep · esc clear"
                } else {
                    "   regex · !inverts · -l app=web · enter keep · esc clear"
                },
                styles.muted,
            ),
        ]),
        _ => match &state.notice {
            Some(n) => {
                let style = match n.level {
                    Level::Info => styles.accent,
                    Level::Warning => styles.warn,
                    Level::Error => styles.crit,
                };
                Line::from(Span::styled(format!(" {}", n.text), style))
            }
            // The dialog shows its own keys; the view's would not work now.
            None if state.dialog.is_some() => {
                Line::styled(" a dialog is open: esc cancels it", styles.muted)
            }
            None => hints(state, styles, usize::from(area.width)),
        },
    };
    frame.render_widget(Paragraph::new(line).style(styles.base), area);
}

/// The keys the focused view offers, as many as fit in `width`; help and quit always fit. In
/// read-only mode the changes are not offered.
fn hints(state: &State, styles: &Styles, width: usize) -> Line<'static> {
    let kind = if state.mode == Mode::Help {
        None
    } else {
        Some(state.screen().kind)
    };
    let actions: &[Action] = match kind {
        Some(k) => offered(k),
        None => &[Action::Back, Action::Quit],
    };
    // Hints come from the live keymap: an unbound action is not offered.
    let offered: Vec<(Action, String)> = actions
        .iter()
        .filter(|a| !(state.readonly && a.is_mutating()))
        .filter(|a| {
            state.metrics.enabled
                || !matches!(
                    a,
                    Action::MetricsWindow | Action::ViewMetrics | Action::MetricsSignal
                )
        })
        .filter_map(|&a| Some((a, state.keymap.hint(a)?)))
        .collect();
    let cost = |(a, key): &(Action, String)| key.chars().count() + hint_word(*a).len() + 3;
    let reserved: usize = offered
        .iter()
        .filter(|(a, _)| matches!(a, Action::Help | Action::Quit))
        .map(cost)
        .sum();
    let mut room = width.saturating_sub(1 + reserved);
    let mut spans = vec![Span::raw(" ")];
    for hint in &offered {
        if !matches!(hint.0, Action::Help | Action::Quit) {
            if cost(hint) > room {
                continue;
            }
            room -= cost(hint);
        }
        spans.push(Span::styled(hint.1.clone(), styles.key));
        spans.push(Span::styled(
            format!(" {}  ", hint_word(hint.0)),
            styles.muted,
        ));
    }
    Line::from(spans)
}
