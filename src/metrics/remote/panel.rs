//! The metrics panel of one workload or pod asked of an environment's own Prometheus: the same
//! rows as [`crate::metrics::queries::panel`] computes from the local store (requests/s, 5xx
//! ratio, p95 latency, for pods CPU and memory, restarts), from range queries whose steps land
//! exactly on the panel's [`PANEL_POINTS`] points.
//!
//! The series are chosen as [`super::golden`] places them, so the panel and the tables agree:
//! a workload's pods by their names (Prometheus has no `workload` label, see
//! [`super::golden::WORKLOAD_FROM_POD`]), a cluster by its `cluster` label, or by no label at all
//! when the environment has a single cluster. CPU and memory prefer cAdvisor's container series
//! and fall back on the app's process metrics, as there.

use std::time::Duration;

use jiff::Timestamp;

use super::golden::CONTAINERS;
use super::{PromClient, RangeSeries, RemoteError, RemoteErrorKind};
use crate::kube::{ClusterId, Kind, ObjKey};
use crate::metrics::golden::{CPU, DURATION_BUCKETS, MEMORY, REQUESTS};
use crate::metrics::ingest::RESTARTS;
use crate::metrics::queries::PANEL_POINTS;
use crate::state::metrics::{Panel, PanelRow, Unit};

/// The characters of a pod-template hash and of a pod name's random suffix
/// (`rand.SafeEncodeString`); see [`super::golden::WORKLOAD_FROM_POD`], which a test keeps equal
/// to the pattern built from these.
pub const POD_ALPHABET: &str = "[bcdfghjklmnpqrstvwxz2456789]";

/// The panel's range queries; `cpu` and `memory` only for a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanelQueries {
    /// The request rate by status `code`: the total and the 5xx ratio are both folded from it,
    /// so a workload with no 5xx series still has a ratio of 0 wherever it has traffic (a
    /// `…{code=~"5.."} / …` division would have no value there at all).
    pub requests: String,
    pub p95: String,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub restarts: String,
}

/// A string as a PromQL double-quoted literal's contents (Go escapes): `\`, `"` and line breaks.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str(r#"\""#),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            c => out.push(c),
        }
    }
    out
}

/// The label matchers of the object's series, without braces: `cluster` (a
/// [`cluster_matcher`], with its comma, or empty), the namespace, and the pod by name or, for a
/// workload, by [`super::golden::WORKLOAD_FROM_POD`]'s shape with the name in place of `(.+)`.
/// Names are escaped twice: as RE2 (`regex::escape`'s backslashes are RE2's too) and then as a
/// PromQL string.
pub fn selector(cluster: &str, kind: Kind, key: &ObjKey) -> String {
    let ns = quote(&key.namespace);
    let object = match kind {
        Kind::Pod => format!(r#"pod="{}""#, quote(&key.name)),
        // Anything else is a workload, as the local panel reads it: its pods by name.
        _ => format!(
            r#"pod=~"{}""#,
            quote(&format!(
                "{}-{POD_ALPHABET}{{1,10}}-{POD_ALPHABET}{{5}}",
                regex::escape(&key.name)
            ))
        ),
    };
    format!(r#"{cluster}namespace="{ns}",{object}"#)
}

/// The `cluster` matcher (with its trailing comma) for `cluster` of `clusters`, as golden.rs
/// places series: with several clusters only series labelled with its context; with one, also
/// those without the label (one Prometheus per cluster usually has none), but never another
/// context's. None when `cluster` is not one of the environment's.
pub fn cluster_matcher(clusters: &[(ClusterId, String)], cluster: ClusterId) -> Option<String> {
    let (_, context) = clusters.iter().find(|(id, _)| *id == cluster)?;
    Some(match clusters {
        [_] => format!(r#"cluster=~"|{}","#, quote(&regex::escape(context))),
        _ => format!(r#"cluster="{}","#, quote(context)),
    })
}

/// The PromQL of the panel for the series `sel` selects, with rates over `rate_window`.
///
/// Every query aggregates to one series (`code` aside), so `or` between cAdvisor's and the
/// process metrics compares two empty label sets: at each step the left side wins where it has
/// a value, the right side fills in where it has not.
pub fn queries(sel: &str, kind: Kind, rate_window: Duration) -> PanelQueries {
    let w = super::golden::range(rate_window);
    let pod = kind == Kind::Pod;
    PanelQueries {
        requests: format!("sum by (code) (rate({REQUESTS}{{{sel}}}[{w}]))"),
        p95: format!(
            "histogram_quantile(0.95, sum by (le) (rate({DURATION_BUCKETS}{{{sel}}}[{w}])))"
        ),
        cpu: pod.then(|| {
            format!(
                "sum(rate(container_cpu_usage_seconds_total{{{sel},{CONTAINERS}}}[{w}])) or sum(rate({CPU}{{{sel}}}[{w}]))"
            )
        }),
        memory: pod.then(|| {
            format!(
                "sum(container_memory_working_set_bytes{{{sel},{CONTAINERS}}}) or sum({MEMORY}{{{sel}}})"
            )
        }),
        restarts: format!("sum({RESTARTS}{{{sel}}})"),
    }
}

/// The panel's points in time: `PANEL_POINTS` of them `step_ms` apart, the last at now, the
/// same instants as the local panel's (point i at `now - window + (i + 1) * step`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    pub start_ms: i64,
    pub step_ms: i64,
}

impl Grid {
    pub fn new(window_secs: u64, now_ms: i64) -> Grid {
        let window_ms = i64::try_from(window_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let step_ms = (window_ms / PANEL_POINTS as i64).max(1);
        Grid {
            start_ms: now_ms.saturating_sub(window_ms).saturating_add(step_ms),
            step_ms,
        }
    }

    pub fn end_ms(&self) -> i64 {
        self.start_ms
            .saturating_add(self.step_ms.saturating_mul(PANEL_POINTS as i64 - 1))
    }

    /// The point a sample at `ts_ms` belongs to. Prometheus evaluates at `start + k * step`
    /// exactly; a sample off the grid by less than half a step (a server rounding times its own
    /// way) still finds its point, one outside the window none.
    pub fn index(&self, ts_ms: i64) -> Option<usize> {
        let offset = ts_ms.checked_sub(self.start_ms)?;
        let k = offset
            .checked_add(self.step_ms / 2)?
            .div_euclid(self.step_ms);
        usize::try_from(k).ok().filter(|&k| k < PANEL_POINTS)
    }

    /// Each series' finite values on the grid, folded per point with `fold` (None: no value).
    pub fn points<'a>(
        &self,
        series: impl IntoIterator<Item = &'a Vec<(i64, f64)>>,
        fold: fn(f64, f64) -> f64,
    ) -> Vec<Option<f64>> {
        let mut out = vec![None; PANEL_POINTS];
        for samples in series {
            for &(ts, v) in samples {
                if !v.is_finite() {
                    continue;
                }
                if let Some(p) = self.index(ts).and_then(|i| out.get_mut(i)) {
                    *p = Some(p.map_or(v, |old| fold(old, v)));
                }
            }
        }
        out
    }
}

fn sum(a: f64, b: f64) -> f64 {
    a + b
}

/// The request rate and 5xx ratio per point from the rate by `code`: a ratio only where there is
/// traffic, as the local side.
pub fn requests_rows(grid: &Grid, by_code: &RangeSeries) -> (Vec<Option<f64>>, Vec<Option<f64>>) {
    let all = grid.points(by_code.iter().map(|(_, s)| s), sum);
    let errors = grid.points(
        by_code
            .iter()
            .filter(|(labels, _)| {
                labels
                    .iter()
                    .any(|(k, v)| k == "code" && super::golden::is_5xx(v.as_str()))
            })
            .map(|(_, s)| s),
        sum,
    );
    let ratio = all
        .iter()
        .zip(&errors)
        .map(|(all, errors)| match *all {
            Some(total) if total > 0.0 => Some(errors.unwrap_or(0.0) / total),
            _ => None,
        })
        .collect();
    (all, ratio)
}

/// The panel of a workload (kind Deployment) or pod (kind Pod) from the environment's
/// Prometheus: range queries over the window at the panel's 60-point step, each point a rate
/// over `rate_window`. `clusters`: the environment's clusters (id, context).
///
/// The queries run concurrently; the first to fail is the error, as for the tables.
#[expect(
    clippy::too_many_arguments,
    reason = "the local panel's arguments, with the client and the environment's clusters"
)]
pub async fn panel(
    client: &PromClient,
    clusters: &[(ClusterId, String)],
    cluster: ClusterId,
    kind: Kind,
    key: &ObjKey,
    window_secs: u64,
    rate_window: Duration,
    now: Timestamp,
) -> Result<Panel, RemoteError> {
    let by = if kind == Kind::Pod { "pod" } else { "workload" };
    let mut out = Panel {
        cluster,
        kind,
        key: key.clone(),
        window_secs,
        rows: Vec::new(),
        empty_reason: None,
    };
    let Some(cluster_sel) = cluster_matcher(clusters, cluster) else {
        out.empty_reason = Some(format!(
            "prometheus.{} does not cover this {by}'s cluster",
            client.environment()
        ));
        return Ok(out);
    };
    let q = queries(&selector(&cluster_sel, kind, key), kind, rate_window);
    let grid = Grid::new(window_secs, now.as_millisecond());
    let at = |ms: i64| {
        Timestamp::from_millisecond(ms).map_err(|e| RemoteError {
            environment: client.environment().to_string(),
            kind: RemoteErrorKind::BadAnswer(format!("no such time: {e}")),
        })
    };
    let (start, end) = (at(grid.start_ms)?, at(grid.end_ms())?);
    let step = Duration::from_millis(grid.step_ms.unsigned_abs());
    let ask = |query: Option<String>| async move {
        match query {
            Some(query) => client.range(&query, start, end, step).await.map(Some),
            None => Ok(None),
        }
    };
    let (requests, p95, cpu, memory, restarts) = futures::try_join!(
        ask(Some(q.requests)),
        ask(Some(q.p95)),
        ask(q.cpu),
        ask(q.memory),
        ask(Some(q.restarts)),
    )?;
    let points = |series: Option<RangeSeries>, fold: fn(f64, f64) -> f64| {
        grid.points(series.iter().flatten().map(|(_, s)| s), fold)
    };
    let (rate, ratio) = requests_rows(&grid, &requests.unwrap_or_default());
    let row = |label, unit, points| PanelRow {
        label,
        unit,
        points,
    };
    out.rows = vec![
        row("requests/s", Unit::Rps, rate),
        row("5xx ratio", Unit::Ratio, ratio),
        // One series per query (`sum by (le)`); several p95s cannot be merged, keep the higher.
        row("p95 latency", Unit::Seconds, points(p95, f64::max)),
    ];
    if kind == Kind::Pod {
        out.rows.push(row("cpu", Unit::Cores, points(cpu, sum)));
        out.rows
            .push(row("memory", Unit::Bytes, points(memory, sum)));
    }
    let restarts = row("restarts", Unit::Count, points(restarts, sum));
    let has_restarts = restarts.last().is_some();
    out.rows.push(restarts);
    out.rows.retain(|r| r.last().is_some());
    // Restarts come from kube-state-metrics, not from the app: they do not count as signals.
    if out.rows.len() == usize::from(has_restarts) {
        let env = client.environment();
        out.empty_reason = Some(if has_restarts {
            format!("no HTTP request or process metrics of this {by} in prometheus.{env}")
        } else {
            format!("prometheus.{env} has no series of this {by} in the window")
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
