//! The console's questions to the series store: a detail's metrics panel, the explorer's names
//! and series, a chart. Pure functions of the store and the time.

use std::collections::HashMap;

use super::golden::{self, LOOKBACK_MS};
use super::store::{MatchOp, Matcher, Store, is_stale};
use crate::kube::{ClusterId, Kind, ObjKey};
use crate::state::metrics::{Chart, Panel, PanelRow, SERIES_LIMIT, SeriesEntry, SeriesList, Unit};

/// Points per panel row.
pub const PANEL_POINTS: usize = 60;

fn eq(name: &str, value: &str) -> Option<Matcher> {
    Matcher::new(name, MatchOp::Equal, value).ok()
}

/// The panel of a workload (golden signals) or a pod (its own golden signals, CPU and memory)
/// over `window_secs`, each point a rate over `rate_window_ms` as the tables show it.
#[allow(clippy::too_many_arguments)]
pub fn panel(
    store: &Store,
    context: &str,
    cluster: ClusterId,
    kind: Kind,
    key: &ObjKey,
    window_secs: u64,
    rate_window_ms: i64,
    now_ms: i64,
) -> Panel {
    let by = if kind == Kind::Pod { "pod" } else { "workload" };
    let matchers: Vec<Matcher> = [
        eq("cluster", context),
        eq("namespace", &key.namespace),
        eq(by, &key.name),
    ]
    .into_iter()
    .flatten()
    .collect();
    let window_ms = window_secs as i64 * 1000;
    let step = (window_ms / PANEL_POINTS as i64).max(1);
    let times: Vec<i64> = (0..PANEL_POINTS as i64)
        .map(|i| now_ms - window_ms + (i + 1) * step)
        .collect();
    let golden: Vec<_> = times
        .iter()
        .map(|&t| golden::one(store, &matchers, t, rate_window_ms))
        .collect();
    let mut rows = vec![
        PanelRow {
            label: "requests/s",
            unit: Unit::Rps,
            points: golden.iter().map(|g| g.rate).collect(),
        },
        PanelRow {
            label: "5xx ratio",
            unit: Unit::Ratio,
            points: golden.iter().map(|g| g.error_ratio).collect(),
        },
        PanelRow {
            label: "p95 latency",
            unit: Unit::Seconds,
            points: golden.iter().map(|g| g.p95).collect(),
        },
    ];
    if kind == Kind::Pod {
        let usage: Vec<_> = times
            .iter()
            .map(|&t| golden::usage(store, &matchers, t, rate_window_ms))
            .collect();
        rows.push(PanelRow {
            label: "cpu",
            unit: Unit::Cores,
            points: usage.iter().map(|u| u.cpu).collect(),
        });
        rows.push(PanelRow {
            label: "memory",
            unit: Unit::Bytes,
            points: usage.iter().map(|u| u.memory).collect(),
        });
    }
    rows.push(PanelRow {
        label: "restarts",
        unit: Unit::Count,
        points: times
            .iter()
            .map(|&t| restarts_at(store, &matchers, t))
            .collect(),
    });
    // Rows with no data at all are noise; say why when no scraped signal is left (restarts come
    // from the pods' statuses, not from scraping).
    let has_metrics = rows[..rows.len() - 1]
        .iter()
        .any(|r| r.points.iter().any(Option::is_some));
    rows.retain(|r| r.points.iter().any(Option::is_some));
    let empty_reason = (!has_metrics).then(|| {
        if store.select(&matchers).len() == restart_series(store, &matchers).len() {
            format!("no metrics scraped from this {by} (see the pod's prometheus.io annotations)")
        } else {
            "no HTTP request or process metrics in what this exposes".to_string()
        }
    });
    Panel {
        cluster,
        kind,
        key: key.clone(),
        window_secs,
        rows,
        empty_reason,
    }
}

fn restart_series(store: &Store, matchers: &[Matcher]) -> Vec<super::store::SeriesId> {
    let mut all: Vec<Matcher> = eq("__name__", super::ingest::RESTARTS)
        .into_iter()
        .collect();
    all.extend(matchers.iter().cloned());
    store.select(&all)
}

/// The containers' restarts summed at `at_ms` (kube-state-metrics' series, written from the
/// pods' statuses).
fn restarts_at(store: &Store, matchers: &[Matcher], at_ms: i64) -> Option<f64> {
    restart_series(store, matchers)
        .into_iter()
        .filter_map(|id| store.instant(id, at_ms, LOOKBACK_MS).map(|(_, v)| v))
        .fold(None, |sum, v| Some(sum.unwrap_or(0.0) + v))
}

/// Every metric name with its number of series.
pub fn names(store: &Store) -> Vec<(String, usize)> {
    store
        .metric_names()
        .into_iter()
        .map(|n| {
            let count = eq("__name__", n).map_or(0, |m| store.select(&[m]).len());
            (n.to_string(), count)
        })
        .collect()
}

/// The series of `name`, sorted by their labels, with their values now.
pub fn series(store: &Store, name: &str, now_ms: i64) -> SeriesList {
    let mut ids = eq("__name__", name).map_or_else(Vec::new, |m| store.select(&[m]));
    let total = ids.len();
    let mut list: Vec<SeriesEntry> = ids
        .drain(..)
        .map(|id| SeriesEntry {
            labels: store
                .labels(id)
                .into_iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            last: store.instant(id, now_ms, LOOKBACK_MS).map(|(_, v)| v),
        })
        .collect();
    list.sort_by(|a, b| a.labels.cmp(&b.labels));
    list.truncate(SERIES_LIMIT);
    SeriesList {
        name: name.to_string(),
        more: total.saturating_sub(list.len()),
        list,
    }
}

/// The series with exactly `labels` (including `__name__`) over the window.
pub fn chart(store: &Store, labels: &[(String, String)], window_secs: u64, now_ms: i64) -> Chart {
    let matchers: Vec<Matcher> = labels.iter().filter_map(|(k, v)| eq(k, v)).collect();
    let wanted: HashMap<&str, &str> = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let id = store.select(&matchers).into_iter().find(|&id| {
        let have = store.labels(id);
        have.len() == wanted.len() && have.iter().all(|(k, v)| wanted.get(k) == Some(v))
    });
    let window_ms = window_secs as i64 * 1000;
    let points = id.map_or_else(Vec::new, |id| {
        store
            .samples(id, now_ms - window_ms, now_ms)
            .into_iter()
            .filter(|(_, v)| !is_stale(*v))
            .collect()
    });
    let name = wanted
        .get("__name__")
        .copied()
        .unwrap_or_default()
        .to_string();
    Chart {
        name,
        labels: labels
            .iter()
            .filter(|(k, _)| k != "__name__")
            .cloned()
            .collect(),
        window_secs,
        points,
    }
}

#[cfg(test)]
mod tests;
