//! Reports of a tail folded into the log view: sources registered with their labels, lines and
//! markers pushed, reports of a replaced tail ignored.

use jiff::Timestamp;

use super::LogView;
use crate::kube::logs::{LogEvent, LogEventKind};
use crate::logs::source::label;
use crate::logs::{LogLine, Marker};
use crate::state::{Level, State};

/// Folds a report of a tail into the view (reports of a replaced tail are ignored).
pub(in crate::state) fn event(state: &mut State, ev: LogEvent, now: Timestamp) {
    // A save is reported whatever became of its tail since.
    if let LogEventKind::Saved(result) = &ev.kind {
        match result {
            Ok(path) => state.notify(Level::Info, format!("logs saved to {path}"), now),
            Err(e) => state.notify(Level::Error, format!("logs not saved: {e}"), now),
        }
        return;
    }
    let several = state.logs.as_ref().is_some_and(|v| v.clusters.len() > 1);
    let Some(view) = state.logs.as_mut().filter(|v| v.session == ev.session) else {
        return;
    };
    let clusters = &state.clusters;
    let id_of = |view: &mut LogView, key: &crate::logs::SourceKey, containers: usize| {
        view.sources.id(key, || {
            let cluster = several.then(|| {
                clusters
                    .get(key.cluster)
                    .map_or_else(String::new, |c| c.short.clone())
            });
            label(key, containers > 1, cluster.as_deref())
        })
    };
    match ev.kind {
        LogEventKind::Added {
            source,
            containers,
            initial,
        } => {
            let id = id_of(view, &source, containers);
            if !initial {
                view.buffer.push_marker(Marker::Added(id));
            }
        }
        LogEventKind::Lines {
            source,
            lines,
            dropped,
        } => {
            let id = id_of(view, &source, 1);
            if dropped > 0 {
                view.buffer.push_marker(Marker::Behind {
                    source: Some(id),
                    lines: dropped,
                });
            }
            let lines = lines
                .into_iter()
                .map(|(ts, text)| LogLine {
                    source: id,
                    ts,
                    text,
                })
                .collect();
            view.buffer.push_lines(lines);
        }
        LogEventKind::Gap { source, after } => {
            let id = id_of(view, &source, 1);
            view.buffer.push_marker(Marker::Gap {
                source: id,
                after_secs: after.as_secs(),
            });
        }
        LogEventKind::Gone { source } => {
            let id = id_of(view, &source, 1);
            if let Some(s) = view.sources.get_mut(id) {
                s.gone = true;
            }
            view.buffer.push_marker(Marker::Gone(id));
        }
        LogEventKind::Note { source, text } => {
            let source = source.map(|s| id_of(view, &s, 1));
            view.buffer.push_marker(Marker::Note { source, text });
        }
        LogEventKind::Saved(_) => {}
    }
    state.dirty = true;
}
