//! The fleet: one row per workload, one column per cluster, each cell the workload's state there;
//! a line under the table says the selected cell in words.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell as TableCell, Paragraph, Row};

use super::styles::symbol;
use super::table::{self, TableSpec};
use super::{Styles, fit};
use crate::kube::ObjKey;
use crate::kube::rows::RolloutStatus;
use crate::state::{Cell, Item, State};

/// The text of a cell at `width` columns: the most important facts first, so a narrow column
/// keeps the symbol and the counts.
pub fn cell_text(cell: &Cell, signals: &Signals, width: usize) -> String {
    let mut text = format!("{} {}/{}", symbol(cell.health), cell.ready, cell.desired);
    // Firing alerts come right after the counts: an alert is what paged the reader. In words
    // when the state word still fits beside them, else `2!`.
    if signals.firing > 0 {
        let word_room = if cell.word == "ok" {
            0
        } else {
            cell.word.chars().count().min(5) + 1
        };
        let long = format!(" {} firing", signals.firing);
        let short = format!(" {}!", signals.firing);
        let used = text.chars().count();
        if used + long.chars().count() + word_room <= width {
            text.push_str(&long);
        } else if used + short.chars().count() <= width {
            text.push_str(&short);
        }
    }
    let mut extras = Vec::new();
    if cell.word != "ok" {
        extras.push(cell.word.clone());
    }
    if cell.restarts_1h > 0 {
        extras.push(format!("↻{}", cell.restarts_1h));
    }
    // A failing workload's error ratio is worth more than its HPA bounds.
    let urgent_at = extras.len();
    if let Some((min, max)) = cell.hpa {
        extras.push(format!("hpa {min}–{max}"));
    }
    for (i, extra) in extras.iter().enumerate() {
        if i == urgent_at {
            push_whole(&mut text, &signals.urgent, width);
        }
        let room = width.saturating_sub(text.chars().count() + 1);
        if extra.chars().count() > room {
            // The state word matters most: shortened beats dropped (`✗ 1/2 crash…`).
            if i == 0 && cell.word != "ok" && room >= 4 {
                text.push(' ');
                text.push_str(&fit(extra, room));
            }
            break;
        }
        text.push(' ');
        text.push_str(extra);
    }
    if urgent_at == extras.len() {
        push_whole(&mut text, &signals.urgent, width);
    }
    push_whole(&mut text, &signals.rest, width);
    fit(&text, width)
}

/// A column header with its firing count when it fits whole (`PROD westus 2 firing`, else
/// `PROD westus 2!`); a cut count would mislead, so none is better.
fn with_firing(label: String, firing: Option<u32>, width: usize) -> String {
    let Some(n) = firing.filter(|n| *n > 0) else {
        return label;
    };
    [format!("{label} {n} firing"), format!("{label} {n}!")]
        .into_iter()
        .find(|text| text.chars().count() <= width)
        .unwrap_or(label)
}

/// Appends each part that fits whole: a cut number misleads.
fn push_whole(text: &mut String, parts: &[String], width: usize) {
    for part in parts {
        if text.chars().count() + 3 + part.chars().count() <= width {
            text.push_str(" · ");
            text.push_str(part);
        }
    }
}

/// A fleet cell's golden signals: the error ratio of a failing workload (shown before the HPA
/// bounds), then latency and rate.
#[derive(Debug, Default)]
pub struct Signals {
    pub urgent: Vec<String>,
    pub rest: Vec<String>,
    /// Firing alerts (neither silenced nor inhibited) naming the workload there.
    pub firing: u32,
}

/// A workload's golden signals as short parts: errors when there are any, then latency and
/// rate. `▲` marks the environment's worst error ratio or latency.
pub fn signal_parts(state: &State, cluster: usize, key: &ObjKey) -> Signals {
    use crate::metrics::signals::{rate_text, ratio_text, seconds_text};
    let Some(g) = state.metrics.snapshot.golden(cluster, key) else {
        return Signals::default();
    };
    let (worst_err, worst_p95) = state.metrics.worst_in_env(cluster, key);
    let mark = |worst: bool| if worst { "▲" } else { "" };
    // No errors is the normal case: it is said in the line under the table, not in every cell.
    let err = g
        .error_ratio
        .filter(|r| *r > 0.0)
        .map(|r| format!("{}{} 5xx", mark(worst_err), ratio_text(r)));
    let p95 = g
        .p95
        .map(|s| format!("{}p95 {}", mark(worst_p95), seconds_text(s)));
    let rate = g.rate.map(rate_text);
    if g.error_ratio.is_some_and(|r| r >= URGENT_ERRORS) {
        Signals {
            urgent: err.into_iter().collect(),
            rest: [p95, rate].into_iter().flatten().collect(),
            firing: 0,
        }
    } else {
        Signals {
            urgent: Vec::new(),
            rest: [rate, p95, err].into_iter().flatten().collect(),
            firing: 0,
        }
    }
}

/// An error ratio from which a cell shows it before anything else but its state: 1% is already
/// beyond a 99% availability objective.
const URGENT_ERRORS: f64 = 0.01;

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    status: Rect,
    state: &State,
    styles: &Styles,
    now: Timestamp,
) {
    let screen = state.screen();
    let columns = state.columns();
    let ncols = columns.len().max(1);
    let inner = usize::from(area.width.saturating_sub(2));
    // The name column is as wide as the longest name, up to 30% of the width; cells share the rest.
    let longest = screen
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Workload(k) => Some(k.namespace.len() + 1 + k.name.len()),
            _ => None,
        })
        .max()
        .unwrap_or(8)
        .max(8);
    let name_width = longest.min(inner * 3 / 10).max(12);
    let cell_width = (inner.saturating_sub(name_width + 1) / ncols)
        .saturating_sub(1)
        .max(6);
    let labels: Vec<String> = columns
        .iter()
        .map(|&c| {
            let mut label = state.cluster_name(c);
            if state.clusters[c].stale_since().is_some() {
                label.push_str(" (stale)");
            }
            fit(
                &with_firing(
                    label,
                    state.alerts.cluster_firing.get(c).copied(),
                    cell_width,
                ),
                cell_width,
            )
        })
        .collect();
    let mut headers = vec!["WORKLOAD"];
    headers.extend(labels.iter().map(String::as_str));
    let mut widths = vec![Constraint::Length(name_width as u16)];
    widths.extend(
        columns
            .iter()
            .map(|_| Constraint::Length(cell_width as u16)),
    );
    let loading = state.clusters.iter().filter(|c| !c.loaded()).count();
    let mut title = format!(
        "{} workloads · {} clusters",
        screen.items.len(),
        columns.len()
    );
    if loading > 0 {
        title.push_str(&format!(" · {loading} loading"));
    }
    // "prod has 3 firing" at a glance, per environment in view.
    for (env, &n) in state.alerts.env_firing.iter().enumerate() {
        let shown = columns.iter().any(|&c| state.clusters[c].env == env);
        if n > 0
            && shown
            && let Some(e) = state.envs.get(env)
        {
            title.push_str(&format!(
                " · {} {n} firing",
                super::alerts::env_text(state, &e.name)
            ));
        }
    }
    let spec = TableSpec {
        title,
        headers,
        widths,
    };
    table::draw(frame, area, state, styles, spec, |i| {
        let Some(Item::Workload(key)) = screen.items.get(i) else {
            return Row::default();
        };
        let mut cells = vec![TableCell::from(fit(&key.to_string(), name_width))];
        for (col, &c) in columns.iter().enumerate() {
            let text_style = match state.cell(c, key) {
                Some(cell) => (
                    cell_text(
                        cell,
                        &Signals {
                            firing: state.alerts.firing(c, key),
                            ..signal_parts(state, c, key)
                        },
                        cell_width,
                    ),
                    styles.health(cell.health),
                ),
                None => ("·".to_string(), styles.muted),
            };
            let mut style = text_style.1;
            if i == screen.selected && col == screen.column {
                style = style.patch(styles.cursor);
            } else if state.clusters[c].stale_since().is_some() {
                style = style.patch(styles.muted);
            }
            cells.push(TableCell::from(Span::styled(text_style.0, style)));
        }
        Row::new(cells)
    });
    frame.render_widget(
        Paragraph::new(explain(state, now)).style(styles.muted),
        status,
    );
}

/// The selected cell in words, for the line under the table.
fn explain(state: &State, now: Timestamp) -> Line<'static> {
    let screen = state.screen();
    let Some(Item::Workload(key)) = screen.selected_item() else {
        return Line::default();
    };
    let columns = state.columns();
    let Some(&c) = columns.get(screen.column) else {
        return Line::default();
    };
    let where_ = state.cluster_name(c);
    let Some(cell) = state.cell(c, key) else {
        return Line::from(format!(" {key} does not run in {where_}"));
    };
    let mut words = format!(
        " {key} in {where_}: {} of {} ready",
        cell.ready, cell.desired
    );
    if cell.word != "ok" {
        words.push_str(&format!(", {}", cell.word));
    }
    if let Some(rev) = cell.revision {
        words.push_str(&format!(", revision {rev}"));
    }
    if cell.restarts_1h > 0 {
        words.push_str(&format!(", {} restarts in the last hour", cell.restarts_1h));
    }
    if let Some(w) = state.alerts.workloads.get(&(c, key.clone()))
        && w.firing > 0
    {
        let word = if w.firing == 1 { "alert" } else { "alerts" };
        words.push_str(&format!(
            ", {} {word} firing ({})",
            w.firing,
            w.names.join(", ")
        ));
    }
    if let Some((min, max)) = cell.hpa {
        words.push_str(&format!(", HPA {min}–{max}"));
    }
    if let Some(g) = state.metrics.snapshot.golden(c, key) {
        words.push_str(&golden_words(g, state.metrics.snapshot.window_secs));
        if let Some(Some(Ok(()))) = state.metrics.snapshot.remote.get(c) {
            words.push_str(" from Prometheus");
        }
    }
    if let Some(since) = state.clusters[c].stale_since() {
        words.push_str(&format!(
            " (stale: last synced {} ago)",
            super::age(Some(since), now)
        ));
    }
    if let Some(rollout) = rollout_words(state, c, key) {
        words.push_str(&format!(" · {rollout}"));
    }
    Line::from(words)
}

/// `kubectl rollout status`'s words for a workload whose rollout has not completed (after a
/// scale, restart or rollback this is where its progress shows).
fn rollout_words(state: &State, cluster: usize, key: &ObjKey) -> Option<String> {
    let w = state.clusters[cluster].workloads.get(key)?;
    match &w.rollout {
        RolloutStatus::Complete => None,
        other => Some(other.text(&key.name)),
    }
}

/// The line under the workloads table: the selected workload's rollout, while one is under way.
pub fn workload_status(state: &State, styles: &Styles) -> Line<'static> {
    let Some(Item::Obj(c, key)) = state.screen().selected_item() else {
        return Line::default();
    };
    let Some(w) = state.clusters[*c].workloads.get(key) else {
        return Line::default();
    };
    let style = match &w.rollout {
        RolloutStatus::Complete => return Line::default(),
        RolloutStatus::Progressing(_) => styles.progressing,
        RolloutStatus::Failed(_) => styles.crit,
    };
    let where_ = state.cluster_name(*c);
    Line::styled(format!(" {where_}: {}", w.rollout.text(&key.name)), style)
}

/// `, 240 requests/s, 7.2% 5xx, p95 1.3s (over 1m)` for the line under the table.
fn golden_words(g: &crate::metrics::signals::Golden, window_secs: u64) -> String {
    use crate::metrics::signals::{ratio_text, seconds_text};
    let mut out = String::new();
    if let Some(r) = g.rate {
        out.push_str(&format!(", {r:.1} requests/s"));
    }
    if let Some(e) = g.error_ratio {
        out.push_str(&format!(", {} of them 5xx", ratio_text(e)));
    }
    if let Some(p) = g.p95 {
        out.push_str(&format!(", p95 latency {}", seconds_text(p)));
    }
    if !out.is_empty() {
        out.push_str(&format!(
            " (over {})",
            crate::state::metrics::window_text(window_secs)
        ));
    }
    out
}
