//! The workloads, pods, events and clusters tables.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell as TableCell, Paragraph, Row};

use super::chrome::conn_chip;
use super::styles::symbol;
use super::table::{self, TableSpec};
use super::{Styles, age};
use crate::kube::ConnState;
use crate::kube::rows::{Health, ProbeState, Probes};
use crate::state::{Item, State};

/// A column as wide as its widest visible value, within bounds.
fn widest<'a>(values: impl Iterator<Item = &'a str>, title: &str, max: u16) -> Constraint {
    let w = values
        .map(|v| v.chars().count())
        .max()
        .unwrap_or(0)
        .max(title.len());
    Constraint::Length((w as u16).min(max))
}

/// The visible window of the current screen's items that are objects.
fn visible(state: &State) -> impl Iterator<Item = (usize, &crate::kube::ObjKey)> {
    let screen = state.screen();
    let end = (screen.offset + state.table_height()).min(screen.items.len());
    screen.items[screen.offset.min(end)..end]
        .iter()
        .filter_map(|i| match i {
            Item::Obj(c, k) => Some((*c, k)),
            _ => None,
        })
}

/// CLUSTER, ENV and NAMESPACE columns, as wide as their visible values.
fn location_widths(state: &State) -> [Constraint; 3] {
    [
        widest(
            visible(state).map(|(c, _)| state.clusters[c].context.as_str()),
            "CLUSTER",
            16,
        ),
        widest(visible(state).map(|(c, _)| state.env_name(c)), "ENV", 10),
        widest(
            visible(state).map(|(_, k)| k.namespace.as_str()),
            "NAMESPACE",
            20,
        ),
    ]
}

fn env_cell(state: &State, styles: &Styles, cluster: usize) -> TableCell<'static> {
    let (env, _) = state.cluster_label(cluster);
    TableCell::from(Span::styled(
        env,
        styles.env(&state.envs[state.clusters[cluster].env]),
    ))
}

pub fn workloads(frame: &mut Frame, area: Rect, state: &State, styles: &Styles, now: Timestamp) {
    let screen = state.screen();
    let mut spec = TableSpec {
        title: format!("{} workloads", screen.items.len()),
        headers: vec![
            "CLUSTER",
            "ENV",
            "NAMESPACE",
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "REV",
            "IMAGE",
            "STRATEGY",
            "HPA",
            "AGE",
        ],
        widths: [
            &location_widths(state)[..],
            &[
                widest(visible(state).map(|(_, k)| k.name.as_str()), "NAME", 40),
                Constraint::Length(9),
                Constraint::Length(10),
                Constraint::Length(9),
                Constraint::Length(4),
                Constraint::Min(16),
                Constraint::Max(21),
                Constraint::Length(6),
                Constraint::Length(6),
            ],
        ]
        .concat(),
    };
    let with_metrics = state.metrics.enabled;
    if with_metrics {
        super::metrics::insert_columns(&mut spec, 5, &["RPS", "5XX", "P95"], 8);
    }
    // Once an alert source has reported: firing alerts naming the workload (pending after a +).
    let with_alerts = state.alerts.loaded;
    if with_alerts {
        spec.headers.insert(5, "ALERTS");
        spec.widths.insert(5, Constraint::Length(6));
    }
    table::draw(frame, area, state, styles, spec, |i| {
        let Some(Item::Obj(c, key)) = screen.items.get(i) else {
            return Row::default();
        };
        let cluster = &state.clusters[*c];
        let Some(w) = cluster.workloads.get(key) else {
            return Row::default();
        };
        let health = state
            .cell(*c, key)
            .map(|c| c.health)
            .unwrap_or(Health::Unknown);
        let ready = format!("{} {}/{}", symbol(health), w.ready, w.desired);
        let hpa = cluster
            .hpa_for(key)
            .map(|h| format!("{}–{}", h.min, h.max))
            .unwrap_or_else(|| "–".into());
        let strategy = if w.paused {
            format!("{} (paused)", w.strategy)
        } else {
            w.strategy.clone()
        };
        let mut cells = vec![
            TableCell::from(cluster.context.clone()),
            env_cell(state, styles, *c),
            TableCell::from(key.namespace.clone()),
            TableCell::from(key.name.clone()),
            TableCell::from(Span::styled(ready, styles.health(health))),
        ];
        if with_alerts {
            cells.push(alerts_cell(state, styles, *c, key));
        }
        if with_metrics {
            cells.extend(super::metrics::golden_cells(state, styles, *c, key));
        }
        cells.extend([
            TableCell::from(w.updated.to_string()),
            TableCell::from(w.available.to_string()),
            TableCell::from(w.revision.map_or("–".into(), |r| r.to_string())),
            TableCell::from(w.images.join(",")),
            TableCell::from(strategy),
            TableCell::from(hpa),
            TableCell::from(age(w.created, now)),
        ]);
        Row::new(cells)
    });
}

/// `2!` for two firing alerts, `+1` for one pending, `2!+1` for both, `–` for none.
fn alerts_cell(
    state: &State,
    styles: &Styles,
    cluster: usize,
    key: &crate::kube::ObjKey,
) -> TableCell<'static> {
    let Some(w) = state.alerts.workloads.get(&(cluster, key.clone())) else {
        return TableCell::from(Span::styled("–", styles.muted));
    };
    let mut text = String::new();
    if w.firing > 0 {
        text.push_str(&format!("{}!", w.firing));
    }
    if w.pending > 0 {
        text.push_str(&format!("+{}", w.pending));
    }
    let style = if w.firing > 0 {
        styles.crit
    } else {
        styles.warn
    };
    TableCell::from(Span::styled(text, style))
}

/// `L✓ R✗ S–`: liveness, readiness, startup.
pub fn probes_text(p: &Probes) -> String {
    let one = |s: &ProbeState| match s {
        ProbeState::NotConfigured => "–",
        ProbeState::Passing => "✓",
        ProbeState::NotRunning => "·",
        ProbeState::Failing { .. } => "✗",
    };
    let mut text = format!(
        "{} {} {}",
        one(&p.liveness),
        one(&p.readiness),
        one(&p.startup)
    );
    let count = [&p.liveness, &p.readiness, &p.startup]
        .iter()
        .filter_map(|s| match s {
            ProbeState::Failing { count, .. } if *count > 0 => Some(*count),
            _ => None,
        })
        .max();
    if let Some(n) = count {
        text.push_str(&format!(" ({n}×)"));
    }
    text
}

fn probes_health(p: &Probes) -> Health {
    let failing = [&p.liveness, &p.readiness, &p.startup]
        .iter()
        .any(|s| matches!(s, ProbeState::Failing { .. }));
    if failing { Health::Warning } else { Health::Ok }
}

pub fn pods(
    frame: &mut Frame,
    area: Rect,
    status: Rect,
    state: &State,
    styles: &Styles,
    now: Timestamp,
) {
    let screen = state.screen();
    let mut spec = TableSpec {
        title: format!("{} pods", screen.items.len()),
        headers: vec![
            "CLUSTER",
            "ENV",
            "NAMESPACE",
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "PROBES L/R/S",
            "NODE",
            "AGE",
        ],
        widths: [
            &location_widths(state)[..],
            &[
                widest(visible(state).map(|(_, k)| k.name.as_str()), "NAME", 48),
                Constraint::Length(5),
                Constraint::Length(18),
                Constraint::Length(12),
                Constraint::Length(13),
                Constraint::Min(10),
                Constraint::Length(6),
            ],
        ]
        .concat(),
    };
    let with_metrics = state.metrics.enabled;
    if with_metrics {
        super::metrics::insert_columns(&mut spec, 7, &["CPU", "MEM"], 6);
    }
    table::draw(frame, area, state, styles, spec, |i| {
        let Some(Item::Obj(c, key)) = screen.items.get(i) else {
            return Row::default();
        };
        let cluster = &state.clusters[*c];
        let Some(p) = cluster.pods.get(key) else {
            return Row::default();
        };
        let probes = cluster.probes(p, now);
        let restarts = match p.last_restart {
            Some(t) if p.restarts > 0 => format!("{} ({} ago)", p.restarts, age(Some(t), now)),
            _ => p.restarts.to_string(),
        };
        let mut cells = vec![
            TableCell::from(cluster.context.clone()),
            env_cell(state, styles, *c),
            TableCell::from(key.namespace.clone()),
            TableCell::from(key.name.clone()),
            TableCell::from(format!("{}/{}", p.ready.0, p.ready.1)),
            TableCell::from(Span::styled(
                format!("{} {}", symbol(p.health), p.status),
                styles.health(p.health),
            )),
            TableCell::from(restarts),
        ];
        if with_metrics {
            cells.extend(super::metrics::usage_cells(state, *c, key));
        }
        cells.extend([
            TableCell::from(Span::styled(
                probes_text(&probes),
                styles.health(probes_health(&probes)),
            )),
            TableCell::from(p.node.clone()),
            TableCell::from(age(p.created, now)),
        ]);
        Row::new(cells)
    });
    frame.render_widget(
        Paragraph::new(pod_line(state, now)).style(styles.muted),
        status,
    );
}

/// The selected pod's failing probe in words, for the line under the table.
fn pod_line(state: &State, now: Timestamp) -> Line<'static> {
    let Some(Item::Obj(c, key)) = state.screen().selected_item() else {
        return Line::default();
    };
    let cluster = &state.clusters[*c];
    let Some(p) = cluster.pods.get(key) else {
        return Line::default();
    };
    let probes = cluster.probes(p, now);
    for (name, s) in [
        ("liveness", &probes.liveness),
        ("readiness", &probes.readiness),
        ("startup", &probes.startup),
    ] {
        if let ProbeState::Failing {
            count,
            message,
            last,
        } = s
        {
            let when = last
                .map(|t| format!(", last {} ago", age(Some(t), now)))
                .unwrap_or_default();
            let message = probe_message(message);
            return Line::from(format!(" {name} failing {count}×{when}: {message}"));
        }
    }
    if let Some(c) = p.containers.iter().find(|c| c.state_message.is_some()) {
        return Line::from(format!(
            " {}: {} — {}",
            c.name,
            c.state,
            c.state_message.clone().unwrap_or_default()
        ));
    }
    Line::from(format!(" {}: {} · node {}", key, p.status, p.node))
}

pub fn events(frame: &mut Frame, area: Rect, state: &State, styles: &Styles, now: Timestamp) {
    let screen = state.screen();
    let spec = TableSpec {
        title: format!("{} events", screen.items.len()),
        headers: vec![
            "CLUSTER", "ENV", "TYPE", "REASON", "OBJECT", "COUNT", "LAST", "FIRST", "MESSAGE",
        ],
        widths: vec![
            widest(
                visible(state).map(|(c, _)| state.clusters[c].context.as_str()),
                "CLUSTER",
                16,
            ),
            widest(visible(state).map(|(c, _)| state.env_name(c)), "ENV", 10),
            Constraint::Length(9),
            Constraint::Max(18),
            Constraint::Max(36),
            Constraint::Length(5),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Min(20),
        ],
    };
    table::draw(frame, area, state, styles, spec, |i| {
        let Some(Item::Obj(c, key)) = screen.items.get(i) else {
            return Row::default();
        };
        let cluster = &state.clusters[*c];
        let Some(e) = cluster.events.get(key) else {
            return Row::default();
        };
        let (ty, style) = if e.warning {
            ("! Warning", styles.warn)
        } else {
            ("Normal", styles.base)
        };
        Row::new(vec![
            TableCell::from(cluster.context.clone()),
            env_cell(state, styles, *c),
            TableCell::from(Span::styled(ty, style)),
            TableCell::from(e.reason.clone()),
            TableCell::from(format!(
                "{}/{}",
                e.object_kind.to_lowercase(),
                e.object_name
            )),
            TableCell::from(e.count.to_string()),
            TableCell::from(age(e.last, now)),
            TableCell::from(age(e.first, now)),
            TableCell::from(e.message.clone()),
        ])
    });
}

pub fn clusters(frame: &mut Frame, area: Rect, state: &State, styles: &Styles, now: Timestamp) {
    let screen = state.screen();
    let mut spec = TableSpec {
        title: format!("{} clusters", screen.items.len()),
        headers: vec![
            "CONTEXT",
            "ENV",
            "STATE",
            "VERSION",
            "RTT",
            "PODS",
            "WORKLOADS",
            "LAST ERROR",
        ],
        widths: vec![
            Constraint::Max(20),
            Constraint::Max(10),
            Constraint::Length(18),
            Constraint::Length(9),
            Constraint::Length(7),
            Constraint::Length(6),
            Constraint::Length(9),
            Constraint::Min(20),
        ],
    };
    let with_metrics = state.metrics.enabled;
    if with_metrics {
        super::metrics::insert_columns(&mut spec, 7, &["METRICS"], 16);
    }
    table::draw(frame, area, state, styles, spec, |i| {
        let Some(Item::Cluster(c)) = screen.items.get(i) else {
            return Row::default();
        };
        let cluster = &state.clusters[*c];
        let (chip, _) = conn_chip(state, *c, now);
        let (word, style, error) = match &cluster.conn {
            ConnState::Connecting => ("connecting".to_string(), styles.progressing, String::new()),
            ConnState::Synced => ("synced".to_string(), styles.ok, String::new()),
            ConnState::Degraded { error, retry_at } => (
                format!("degraded {}", chip.trim_start_matches("◐ stale ")),
                styles.warn,
                format!("{error} (retry in {})", age(Some(now), *retry_at)),
            ),
            ConnState::Unreachable {
                error, retry_at, ..
            } => (
                format!("✗ unreachable {}", chip.trim_start_matches("✗ down ")),
                styles.crit,
                format!("{error} (retry in {})", age(Some(now), *retry_at)),
            ),
        };
        let (version, rtt) = match &cluster.server {
            Some(s) => (s.version.clone(), format!("{}ms", s.rtt.as_millis())),
            None => ("–".into(), "–".into()),
        };
        let mut cells = vec![
            TableCell::from(cluster.context.clone()),
            env_cell(state, styles, *c),
            TableCell::from(Span::styled(word, style)),
            TableCell::from(version),
            TableCell::from(rtt),
            TableCell::from(cluster.pods.len().to_string()),
            TableCell::from(cluster.workloads.len().to_string()),
        ];
        let mut error = error;
        if with_metrics {
            let (cell, why) = super::metrics::scrape_cell(state, styles, *c);
            cells.push(cell);
            if error.is_empty() {
                error = why;
            }
        }
        cells.push(TableCell::from(Span::styled(error, styles.muted)));
        Row::new(cells)
    });
}

/// A kubelet probe message without its `Readiness probe failed: ` lead, which the line already
/// says.
pub fn probe_message(message: &str) -> &str {
    match message.split_once(" probe ") {
        Some((_, rest)) if rest.starts_with("failed: ") || rest.starts_with("errored: ") => {
            rest.split_once(": ").map_or(rest, |(_, m)| m)
        }
        _ => message,
    }
}
