//! The detail of one pod or workload: containers and images, probes (configuration next to the
//! latest result), conditions, the last termination, recent events and the owner chain.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::styles::symbol;
use super::{Styles, age};
use crate::kube::rows::{EventRow, PodRow, ProbeSpec, ProbeState, WorkloadRow};
use crate::kube::{Kind, ObjKey};
use crate::state::{ClusterState, DetailLoad, State};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, styles: &Styles, now: Timestamp) {
    let Some(target) = state.screen().detail.clone() else {
        return;
    };
    let cluster = &state.clusters[target.cluster];
    let where_ = state.cluster_name(target.cluster);
    let kind = if target.kind == Kind::Pod {
        "pod"
    } else {
        "deployment"
    };
    let title = format!(" {kind} {} in {where_} ", target.key);
    let mut lines = match target.kind {
        Kind::Pod => match cluster.pods.get(&target.key) {
            Some(p) => pod(state, cluster, p, styles, now),
            None => vec![gone(styles, cluster)],
        },
        _ => match cluster.workloads.get(&target.key) {
            Some(w) => workload(cluster, w, styles, now),
            None => vec![gone(styles, cluster)],
        },
    };
    if state.metrics.enabled {
        let panel = state.metrics.panel.as_ref().filter(|p| {
            p.cluster == target.cluster && p.kind == target.kind && p.key == target.key
        });
        lines.push(Line::default());
        lines.extend(super::metrics::panel_lines(
            panel, state, styles, area.width,
        ));
    }
    lines.push(Line::default());
    lines.push(heading("Conditions", styles));
    match &state.detail {
        Some(DetailLoad::Ready(d)) => {
            for c in &d.conditions {
                let ok = c.status == "True";
                let mut text = format!("  {:<18} {:<6}", c.kind, c.status);
                if let Some(r) = &c.reason {
                    text.push_str(&format!(" {r}"));
                }
                if let Some(m) = &c.message {
                    text.push_str(&format!(": {m}"));
                }
                if let Some(t) = c.last_transition {
                    text.push_str(&format!(" ({} ago)", age(Some(t), now)));
                }
                lines.push(Line::styled(
                    text,
                    if ok { styles.base } else { styles.warn },
                ));
            }
            for (k, v) in &d.facts {
                lines.push(Line::from(format!("  {k}: {v}")));
            }
        }
        Some(DetailLoad::Failed(e)) => {
            lines.push(Line::styled(format!("  could not fetch: {e}"), styles.crit));
        }
        _ => lines.push(Line::styled("  fetching…", styles.muted)),
    }
    lines.push(Line::default());
    lines.push(heading("Recent events", styles));
    let names = related_names(cluster, target.kind, &target.key);
    let mut events: Vec<&EventRow> = cluster
        .events
        .values()
        .filter(|e| e.key.namespace == target.key.namespace && names.contains(&e.object_name))
        .map(|e| e.as_ref())
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.last));
    if events.is_empty() {
        lines.push(Line::styled("  none in the last hour", styles.muted));
    }
    for e in events.iter().take(20) {
        let times = if e.count > 1 {
            format!(" ×{} over {}", e.count, age(e.first, now))
        } else {
            String::new()
        };
        let style = if e.warning { styles.warn } else { styles.base };
        lines.push(Line::from(vec![
            Span::styled(format!("  {:>6} ", age(e.last, now)), styles.muted),
            Span::styled(format!("{}{times}", e.reason), style),
            Span::raw(format!("  {}", e.message)),
        ]));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(styles.border)
        .title(Span::styled(title, styles.title));
    let para = Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((state.screen().scroll, 0));
    // With room, the panel's selected signal is charted under the text.
    let panel = state.metrics.panel.as_ref().filter(|p| {
        state.metrics.enabled
            && !p.rows.is_empty()
            && p.cluster == target.cluster
            && p.kind == target.kind
            && p.key == target.key
    });
    match panel {
        Some(panel) if area.height >= CHART_FROM_HEIGHT => {
            let [text, chart] =
                Layout::vertical([Constraint::Min(10), Constraint::Length(CHART_HEIGHT)])
                    .areas(area);
            frame.render_widget(para, text);
            super::metrics::draw_panel_chart(frame, chart, state, panel, styles);
        }
        _ => frame.render_widget(para, area),
    }
}

/// The detail charts a signal when it is at least this tall, in a chart this tall.
const CHART_FROM_HEIGHT: u16 = 26;
const CHART_HEIGHT: u16 = 12;

fn gone(styles: &Styles, cluster: &ClusterState) -> Line<'static> {
    Line::styled(
        format!(
            "  no longer in {} (deleted, or not listed yet)",
            cluster.context
        ),
        styles.warn,
    )
}

fn heading(text: &str, styles: &Styles) -> Line<'static> {
    Line::styled(text.to_string(), styles.title)
}

/// The object and what it owns, by name: events about any of them belong here.
fn related_names(cluster: &ClusterState, kind: Kind, key: &ObjKey) -> Vec<String> {
    let mut names = vec![key.name.clone()];
    if kind == Kind::Deployment {
        names.extend(
            cluster
                .replicasets
                .values()
                .filter(|rs| {
                    rs.key.namespace == key.namespace && rs.workload.as_deref() == Some(&key.name)
                })
                .map(|rs| rs.key.name.clone()),
        );
    }
    names
}

fn probe_line(
    name: &str,
    spec: &Option<ProbeSpec>,
    result: &ProbeState,
    styles: &Styles,
    now: Timestamp,
) -> Line<'static> {
    let Some(spec) = spec else {
        return Line::styled(format!("    {name:<9} not configured"), styles.muted);
    };
    let config = format!(
        "{} every {}s, timeout {}s, fails after {}, delay {}s",
        spec.handler,
        spec.period_seconds,
        spec.timeout_seconds,
        spec.failure_threshold,
        spec.initial_delay_seconds
    );
    let (result, style) = match result {
        ProbeState::Passing => ("✓ passing".to_string(), styles.ok),
        ProbeState::NotRunning => ("· not running".to_string(), styles.muted),
        ProbeState::NotConfigured => ("–".to_string(), styles.muted),
        ProbeState::Failing {
            count,
            message,
            last,
        } => (
            format!(
                "✗ failing {count}×{}: {message}",
                last.map(|t| format!(", last {} ago", age(Some(t), now)))
                    .unwrap_or_default()
            ),
            styles.crit,
        ),
    };
    Line::from(vec![
        Span::raw(format!("    {name:<9} ")),
        Span::styled(result, style),
        Span::styled(format!("   ({config})"), styles.muted),
    ])
}

fn pod(
    state: &State,
    cluster: &ClusterState,
    p: &PodRow,
    styles: &Styles,
    now: Timestamp,
) -> Vec<Line<'static>> {
    let _ = state;
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} {}", symbol(p.health), p.status),
            styles.health(p.health),
        ),
        Span::raw(format!(
            "   ready {}/{} · restarts {} · node {} · age {}",
            p.ready.0,
            p.ready.1,
            p.restarts,
            if p.node.is_empty() { "–" } else { &p.node },
            age(p.created, now)
        )),
    ])];
    // Owner chain: Deployment -> ReplicaSet (revision) -> Pod.
    let mut chain = Vec::new();
    if let Some(w) = &p.workload {
        chain.push(format!("Deployment {w}"));
    }
    if let Some(rs) = &p.replicaset {
        let rev = cluster
            .replicasets
            .get(&ObjKey::new(p.key.namespace.clone(), rs.clone()))
            .and_then(|r| r.revision)
            .map(|r| format!(" (revision {r})"))
            .unwrap_or_default();
        chain.push(format!("ReplicaSet {rs}{rev}"));
    }
    chain.push(format!("Pod {}", p.key.name));
    lines.push(Line::from(format!("owner: {}", chain.join(" → "))));
    lines.push(Line::default());
    lines.push(heading("Containers", styles));
    for c in &p.containers {
        let one = PodRow {
            containers: vec![c.clone()],
            ..p.clone()
        };
        let probes = cluster.probes(&one, now);
        lines.push(Line::from(vec![
            Span::styled(format!("  {} ", c.name), styles.accent),
            Span::raw(format!("{}  ", c.image)),
            Span::styled(
                format!(
                    "{}{}",
                    c.state,
                    if c.ready { ", ready" } else { ", not ready" }
                ),
                if c.ready { styles.ok } else { styles.warn },
            ),
            Span::raw(format!(" · restarts {}", c.restarts)),
        ]));
        if let Some(m) = &c.state_message {
            lines.push(Line::styled(format!("    {m}"), styles.warn));
        }
        if let Some(t) = &c.last_termination {
            let when = t
                .finished
                .map(|f| format!(", {} ago", age(Some(f), now)))
                .unwrap_or_default();
            lines.push(Line::styled(
                format!(
                    "    last termination: {} (exit code {}){when}",
                    t.reason, t.exit_code
                ),
                if t.exit_code == 0 {
                    styles.base
                } else {
                    styles.crit
                },
            ));
        }
        lines.push(probe_line(
            "liveness",
            &c.liveness,
            &probes.liveness,
            styles,
            now,
        ));
        lines.push(probe_line(
            "readiness",
            &c.readiness,
            &probes.readiness,
            styles,
            now,
        ));
        lines.push(probe_line(
            "startup",
            &c.startup,
            &probes.startup,
            styles,
            now,
        ));
    }
    lines
}

fn workload(
    cluster: &ClusterState,
    w: &WorkloadRow,
    styles: &Styles,
    now: Timestamp,
) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(format!(
        "ready {}/{} · up-to-date {} · available {} · revision {} · {}{} · age {}",
        w.ready,
        w.desired,
        w.updated,
        w.available,
        w.revision.map_or("–".into(), |r| r.to_string()),
        w.strategy,
        if w.paused { " (paused)" } else { "" },
        age(w.created, now)
    ))];
    if let Some(reason) = &w.stalled {
        lines.push(Line::styled(
            format!("rollout stalled: {reason}"),
            styles.crit,
        ));
    } else if w.rolling_out {
        lines.push(Line::styled("rollout in progress", styles.progressing));
    }
    if let Some(h) = cluster.hpa_for(&w.key) {
        lines.push(Line::from(format!(
            "HPA {}: min {} · max {} · current {} · desired {}",
            h.key.name, h.min, h.max, h.current, h.desired
        )));
    }
    lines.push(Line::from(format!("images: {}", w.images.join(", "))));
    lines.push(Line::default());
    lines.push(heading("Revisions", styles));
    let mut rss: Vec<_> = cluster
        .replicasets
        .values()
        .filter(|rs| {
            rs.key.namespace == w.key.namespace && rs.workload.as_deref() == Some(&w.key.name)
        })
        .collect();
    rss.sort_by_key(|rs| std::cmp::Reverse(rs.revision));
    for rs in rss.iter().take(10) {
        let now_marker = if rs.revision == w.revision {
            " ◀ now"
        } else {
            ""
        };
        lines.push(Line::from(format!(
            "  {:>4}  {:<40} {}/{} ready  {}  {}{}{now_marker}",
            rs.revision.map_or("–".into(), |r| r.to_string()),
            rs.key.name,
            rs.ready,
            rs.desired,
            rs.images.join(","),
            age(rs.created, now),
            rs.change_cause
                .as_ref()
                .map(|c| format!("  {c}"))
                .unwrap_or_default(),
        )));
    }
    let pods: Vec<_> = cluster.pods_of(&w.key).collect();
    let bad = pods
        .iter()
        .filter(|p| p.health >= crate::kube::rows::Health::Warning)
        .count();
    lines.push(Line::default());
    lines.push(Line::from(format!(
        "pods: {} ({} with a problem)",
        pods.len(),
        bad
    )));
    lines
}
