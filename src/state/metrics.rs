//! Metrics in the console: the snapshot of golden signals the tables show, the panel of a
//! detail screen (sparklines over a selectable window), and the series explorer (`:metrics`:
//! metric names, then one name's series, then a chart of one series).
//!
//! Pure like the rest of the state: the data comes from the metrics runner as [`MetricsMsg`]s,
//! and what to fetch goes out as [`Effect::Metrics`].

use std::sync::Arc;

use jiff::Timestamp;

use super::screen::{Item, Scope, Screen, ViewKind};
use super::{Effect, Level, State};
use crate::config::sources::ScrapingConfig;
use crate::kube::{ClusterId, Kind, ObjKey};
use crate::metrics::scrape::{Target, pod_targets};
use crate::metrics::signals::{MetricsSnapshot, Restarts};

/// The windows `MetricsWindow` cycles through, in seconds.
pub const WINDOWS: [u64; 4] = [300, 900, 3600, 10800];

/// `5m`, `1h`, `3h`.
pub fn window_text(secs: u64) -> String {
    if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else {
        format!("{}m", secs / 60)
    }
}

/// What to compute from the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetricsQuery {
    /// The golden signals (a workload) or CPU, memory and restarts (a pod) over the window.
    Panel {
        cluster: ClusterId,
        kind: Kind,
        key: ObjKey,
        window_secs: u64,
    },
    /// Every metric name with its number of series.
    Names,
    /// The series of one metric name (at most [`SERIES_LIMIT`]).
    Series { name: String },
    /// One series over the window.
    Chart {
        labels: Vec<(String, String)>,
        window_secs: u64,
    },
}

/// The explorer lists at most this many series of one name; the rest are counted.
pub const SERIES_LIMIT: usize = 5000;

/// How a panel row's numbers read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Rps,
    Ratio,
    Seconds,
    Cores,
    Bytes,
    Count,
}

/// One signal over the window: evenly spaced points (None where there was no data).
#[derive(Clone, Debug, PartialEq)]
pub struct PanelRow {
    pub label: &'static str,
    pub unit: Unit,
    pub points: Vec<Option<f64>>,
}

impl PanelRow {
    /// The newest point with data.
    pub fn last(&self) -> Option<f64> {
        self.points.iter().rev().find_map(|p| *p)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub cluster: ClusterId,
    pub kind: Kind,
    pub key: ObjKey,
    pub window_secs: u64,
    pub rows: Vec<PanelRow>,
    /// Why there is nothing to show, when there is nothing ("not scraped: no prometheus.io/scrape
    /// annotation and no port named metrics").
    pub empty_reason: Option<String>,
}

/// One series in the explorer.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesEntry {
    /// Sorted by label name, without `__name__`.
    pub labels: Vec<(String, String)>,
    /// Its value now (None when stale).
    pub last: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SeriesList {
    pub name: String,
    pub list: Vec<SeriesEntry>,
    /// Series beyond [`SERIES_LIMIT`].
    pub more: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub window_secs: u64,
    /// (unix ms, value), oldest first; stale markers left out.
    pub points: Vec<(i64, f64)>,
}

/// The metrics runner's answers.
#[derive(Clone, Debug)]
pub enum MetricsMsg {
    Snapshot(Arc<MetricsSnapshot>),
    Panel(Panel),
    Names(Vec<(String, usize)>),
    Series(SeriesList),
    Chart(Chart),
}

/// An environment's workload (in one cluster) with the worst error ratio, and with the worst p95.
pub type Worst = (Option<(ClusterId, ObjKey)>, Option<(ClusterId, ObjKey)>);

#[derive(Clone, Debug, Default)]
pub struct MetricsState {
    /// False when scraping is off (no clusters and no targets, or `watchfloor --no-metrics`).
    pub enabled: bool,
    pub snapshot: Arc<MetricsSnapshot>,
    /// Index into [`WINDOWS`].
    pub window: usize,
    /// The panel row the detail charts (modulo the rows there are).
    pub signal: usize,
    pub panel: Option<Panel>,
    pub names: Vec<(String, usize)>,
    pub series: Option<SeriesList>,
    pub chart: Option<Chart>,
    /// Per environment, the workload (in one cluster) with the worst error ratio, and the one
    /// with the worst p95 latency: the tables mark them.
    pub worst: Vec<Worst>,
    /// How pods are scraped (None: not at all).
    pub scraping: Option<Arc<ScrapingConfig>>,
    /// Clusters whose pods changed since their targets were last worked out.
    pub changed: Vec<bool>,
    /// The targets and restart counts last sent per cluster.
    pub sent: Vec<(Vec<Target>, Vec<Restarts>)>,
    pub targets_at: Option<Timestamp>,
}

impl MetricsState {
    pub fn window_secs(&self) -> u64 {
        WINDOWS[self.window.min(WINDOWS.len() - 1)]
    }

    /// Whether this workload has its environment's worst (error ratio, p95 latency).
    pub fn worst_in_env(&self, cluster: ClusterId, key: &ObjKey) -> (bool, bool) {
        let is = |w: &Option<(ClusterId, ObjKey)>| {
            w.as_ref().is_some_and(|(c, k)| *c == cluster && k == key)
        };
        self.worst.iter().fold((false, false), |(e, p), (we, wp)| {
            (e || is(we), p || is(wp))
        })
    }
}

/// Per environment, the workloads with the worst error ratio (above 0) and the worst p95.
fn worst(state: &State) -> Vec<Worst> {
    type Found = Option<(ClusterId, ObjKey, f64)>;
    let mut out: Vec<(Found, Found)> = vec![(None, None); state.envs.len()];
    for ((cluster, key), g) in &state.metrics.snapshot.golden {
        let Some(env) = state.clusters.get(*cluster).map(|c| c.env) else {
            continue;
        };
        let Some(slot) = out.get_mut(env) else {
            continue;
        };
        if let Some(e) = g.error_ratio.filter(|e| *e > 0.0 && e.is_finite())
            && slot.0.as_ref().is_none_or(|w| e > w.2)
        {
            slot.0 = Some((*cluster, key.clone(), e));
        }
        if let Some(p) = g.p95.filter(|p| p.is_finite())
            && slot.1.as_ref().is_none_or(|w| p > w.2)
        {
            slot.1 = Some((*cluster, key.clone(), p));
        }
    }
    out.into_iter()
        .map(|(e, p)| (e.map(|(c, k, _)| (c, k)), p.map(|(c, k, _)| (c, k))))
        .collect()
}

/// Folds an answer in; a new snapshot also refreshes what the current screen shows.
pub fn update(state: &mut State, msg: MetricsMsg, now: Timestamp) -> Vec<Effect> {
    match msg {
        MetricsMsg::Snapshot(snapshot) => {
            let before = state.metrics.snapshot.store.evicted_samples;
            let figures = &snapshot.store;
            if before == 0 && figures.evicted_samples > 0 {
                let text = format!(
                    "metrics memory cap ({} MiB) reached: the oldest samples are being dropped (:metrics shows how many)",
                    figures.cap_bytes >> 20
                );
                state.notify(Level::Warning, text, now);
            }
            state.metrics.snapshot = snapshot;
            state.metrics.worst = worst(state);
            // The tables show the new numbers with the next frame; the open panel or explorer
            // is recomputed so it moves with them.
            state.dirty = true;
            return refresh_queries(state);
        }
        MetricsMsg::Panel(panel) => {
            let current = state.screen().detail.as_ref().is_some_and(|t| {
                t.cluster == panel.cluster && t.kind == panel.kind && t.key == panel.key
            });
            if current {
                state.metrics.panel = Some(panel);
            }
        }
        MetricsMsg::Names(names) => {
            state.metrics.names = names;
            state.refresh(now);
        }
        MetricsMsg::Series(list) => {
            if state.screen().scope.metric.as_deref() == Some(list.name.as_str()) {
                state.metrics.series = Some(list);
                state.refresh(now);
            }
        }
        MetricsMsg::Chart(chart) => state.metrics.chart = Some(chart),
    }
    state.dirty = true;
    Vec::new()
}

/// Targets are worked out at most this often (pods change all the time in a busy fleet).
const TARGETS_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_secs(5);

/// A batch of changes arrived for `cluster`: its targets may have changed.
pub fn pods_changed(state: &mut State, cluster: ClusterId) {
    let m = &mut state.metrics;
    if m.scraping.is_some() {
        if m.changed.len() <= cluster {
            m.changed.resize(cluster + 1, false);
        }
        m.changed[cluster] = true;
    }
}

/// The scrape targets and restart counts of each cluster whose pods changed, when they differ
/// from those last sent.
pub fn targets(state: &mut State, now: Timestamp) -> Vec<Effect> {
    let Some(config) = state.metrics.scraping.clone() else {
        return Vec::new();
    };
    if state
        .metrics
        .targets_at
        .is_some_and(|at| now.duration_since(at) < TARGETS_EVERY)
    {
        return Vec::new();
    }
    state.metrics.targets_at = Some(now);
    let mut out = Vec::new();
    for (id, cluster) in state.clusters.iter().enumerate() {
        let m = &mut state.metrics;
        if !m.changed.get(id).copied().unwrap_or(false) {
            continue;
        }
        m.changed[id] = false;
        let targets = pod_targets(
            &cluster.context,
            cluster.pods.values().map(|p| &**p),
            &config,
        );
        let restarts: Vec<Restarts> = cluster
            .pods
            .values()
            .flat_map(|p| {
                p.containers.iter().map(|c| Restarts {
                    namespace: p.key.namespace.clone(),
                    pod: p.key.name.clone(),
                    workload: p.workload.clone(),
                    container: c.name.clone(),
                    count: c.restarts,
                })
            })
            .collect();
        if m.sent.len() <= id {
            m.sent.resize(id + 1, (Vec::new(), Vec::new()));
        }
        if m.sent[id].0 != targets || m.sent[id].1 != restarts {
            m.sent[id] = (targets.clone(), restarts.clone());
            out.push(Effect::MetricsPods {
                cluster: id,
                targets,
                restarts,
            });
        }
    }
    out
}

/// What the current screen needs from the store.
pub fn refresh_queries(state: &State) -> Vec<Effect> {
    if !state.metrics.enabled {
        return Vec::new();
    }
    let screen = state.screen();
    let window_secs = state.metrics.window_secs();
    match screen.kind {
        ViewKind::Detail => panel_query(state).into_iter().collect(),
        ViewKind::Metrics => {
            let mut out = vec![match &screen.scope.metric {
                None => Effect::Metrics(MetricsQuery::Names),
                Some(name) => Effect::Metrics(MetricsQuery::Series { name: name.clone() }),
            }];
            if let Some(chart) = &state.metrics.chart {
                out.push(Effect::Metrics(MetricsQuery::Chart {
                    labels: with_name(&chart.name, &chart.labels),
                    window_secs,
                }));
            }
            out
        }
        _ => Vec::new(),
    }
}

/// The panel of the detail screen's pod or workload.
pub fn panel_query(state: &State) -> Option<Effect> {
    if !state.metrics.enabled {
        return None;
    }
    let t = state.screen().detail.as_ref()?;
    matches!(t.kind, Kind::Pod | Kind::Deployment).then(|| {
        Effect::Metrics(MetricsQuery::Panel {
            cluster: t.cluster,
            kind: t.kind,
            key: t.key.clone(),
            window_secs: state.metrics.window_secs(),
        })
    })
}

fn with_name(name: &str, labels: &[(String, String)]) -> Vec<(String, String)> {
    let mut all = vec![("__name__".to_string(), name.to_string())];
    all.extend(labels.iter().cloned());
    all
}

/// `:metrics` / `6`: the explorer's list of metric names.
pub fn open_explorer(state: &mut State, now: Timestamp) -> Vec<Effect> {
    if !state.metrics.enabled {
        state.notify(
            Level::Info,
            "metrics are off: nothing is scraped (see [scraping] in the config)".to_string(),
            now,
        );
        return Vec::new();
    }
    if state.screen().kind == ViewKind::Metrics && state.screen().scope.metric.is_none() {
        return Vec::new();
    }
    state.metrics.chart = None;
    super::input::push(state, Screen::new(ViewKind::Metrics, Scope::default()), now);
    vec![Effect::Metrics(MetricsQuery::Names)]
}

/// Enter in the explorer: a name opens its series; a series is charted below the list.
pub fn open(state: &mut State, item: Item, now: Timestamp) -> Vec<Effect> {
    match item {
        Item::Metric(name) => {
            let scope = Scope {
                metric: Some(name.clone()),
                ..Scope::default()
            };
            state.metrics.series = None;
            state.metrics.chart = None;
            super::input::push(state, Screen::new(ViewKind::Metrics, scope), now);
            vec![Effect::Metrics(MetricsQuery::Series { name })]
        }
        Item::Series(i) => {
            let Some(list) = &state.metrics.series else {
                return Vec::new();
            };
            let Some(entry) = list.list.get(i) else {
                return Vec::new();
            };
            let labels = with_name(&list.name, &entry.labels);
            vec![Effect::Metrics(MetricsQuery::Chart {
                labels,
                window_secs: state.metrics.window_secs(),
            })]
        }
        _ => Vec::new(),
    }
}

/// `M`: the next window for the panel and the chart.
pub fn cycle_window(state: &mut State) -> Vec<Effect> {
    let m = &mut state.metrics;
    m.window = (m.window + 1) % WINDOWS.len();
    refresh_queries(state)
}

/// The explorer's rows: names, or one name's series; the filter matches `name{labels}`.
pub fn items(state: &State, screen: &Screen, keep: impl Fn(&str) -> bool) -> Vec<Item> {
    match &screen.scope.metric {
        None => state
            .metrics
            .names
            .iter()
            .filter(|(name, _)| keep(name))
            .map(|(name, _)| Item::Metric(name.clone()))
            .collect(),
        Some(name) => {
            let Some(list) = state.metrics.series.as_ref().filter(|l| &l.name == name) else {
                return Vec::new();
            };
            list.list
                .iter()
                .enumerate()
                .filter(|(_, e)| keep(&series_text(name, &e.labels)))
                .map(|(i, _)| Item::Series(i))
                .collect()
        }
    }
}

/// `name{a="b", c="d"}`, as Prometheus writes a series.
pub fn series_text(name: &str, labels: &[(String, String)]) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", inner.join(", "))
}

#[cfg(test)]
mod tests;
