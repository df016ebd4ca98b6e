//! Golden signals from the series store, computed the way the PromQL an engineer would type
//! computes them, so the console's numbers can be checked against a real Prometheus:
//!
//! - rate: `sum by (cluster, namespace, workload) (rate(http_requests_total[w]))`
//! - error ratio: the same over `code=~"5.."`, divided by the rate
//! - p95: `histogram_quantile(0.95, sum by (…, le) (rate(http_request_duration_seconds_bucket[w])))`
//! - pod CPU: `sum by (cluster, namespace, pod) (rate(process_cpu_seconds_total[w]))`
//! - pod memory: `sum by (cluster, namespace, pod) (process_resident_memory_bytes)`
//!
//! Range selection is Prometheus 3's: samples in `(t - w, t]`, staleness markers left out.

use std::collections::HashMap;

use super::signals::{Golden, Usage};
use super::store::functions::{bucket_quantile, extrapolated_rate};
use super::store::{MatchOp, Matcher, SeriesId, Store, is_stale};
use crate::kube::{ClusterId, ObjKey};

pub const REQUESTS: &str = "http_requests_total";
pub const DURATION_BUCKETS: &str = "http_request_duration_seconds_bucket";
pub const CPU: &str = "process_cpu_seconds_total";
pub const MEMORY: &str = "process_resident_memory_bytes";

/// Prometheus's default lookback for instant selectors.
pub const LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// The labels the scrapers give every pod sample, and the cluster ids their `cluster` values
/// stand for.
pub struct Labels<'a> {
    pub clusters: &'a HashMap<String, ClusterId>,
}

/// Where a series belongs: its cluster and its namespace/name under `by` (`workload` or `pod`).
fn place(
    store: &Store,
    id: SeriesId,
    by: &str,
    labels: &Labels<'_>,
) -> Option<(ClusterId, ObjKey)> {
    let cluster = *labels.clusters.get(store.label(id, "cluster")?)?;
    let ns = store.label(id, "namespace")?;
    let name = store.label(id, by)?;
    Some((cluster, ObjKey::new(ns, name)))
}

fn named(store: &Store, name: &str, extra: &[Matcher]) -> Vec<SeriesId> {
    let Ok(m) = Matcher::new("__name__", MatchOp::Equal, name) else {
        return Vec::new();
    };
    let mut all = vec![m];
    all.extend(extra.iter().cloned());
    store.select(&all)
}

/// `rate(series[w])` at `at_ms`; None with fewer than two samples in the window.
pub fn rate_at(store: &Store, id: SeriesId, at_ms: i64, window_ms: i64) -> Option<f64> {
    let start = at_ms - window_ms;
    let points: Vec<(i64, f64)> = store
        .samples(id, start, at_ms)
        .into_iter()
        // Prometheus 3: the range is left-open.
        .filter(|(t, v)| *t > start && !is_stale(*v))
        .collect();
    extrapolated_rate(&points, start, at_ms, true, true)
}

/// Accumulates rates of requests and buckets per group.
#[derive(Default)]
struct Acc {
    total: Option<f64>,
    errors: f64,
    /// `le` text → summed bucket rate.
    buckets: HashMap<String, f64>,
}

impl Acc {
    fn golden(self) -> Golden {
        let rate = self.total;
        let error_ratio = rate.and_then(|t| (t > 0.0).then(|| self.errors / t));
        let mut b: Vec<(f64, f64)> = self
            .buckets
            .iter()
            .filter_map(|(le, v)| parse_le(le).map(|le| (le, *v)))
            .collect();
        let p95 = if b.is_empty() {
            None
        } else {
            let q = bucket_quantile(0.95, &mut b);
            q.is_finite().then_some(q)
        };
        Golden {
            rate,
            error_ratio,
            p95,
        }
    }
}

/// `le` as Prometheus reads it (`+Inf`, `0.25`).
fn parse_le(le: &str) -> Option<f64> {
    match le {
        "+Inf" | "Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        other => other.parse().ok(),
    }
}

/// Golden signals of every workload at `at_ms` over `window_ms`.
pub fn workloads(
    store: &Store,
    labels: &Labels<'_>,
    at_ms: i64,
    window_ms: i64,
) -> HashMap<(ClusterId, ObjKey), Golden> {
    let mut acc: HashMap<(ClusterId, ObjKey), Acc> = HashMap::new();
    fold(store, labels, "workload", &[], at_ms, window_ms, &mut acc);
    acc.into_iter().map(|(k, a)| (k, a.golden())).collect()
}

/// The golden signals of the series matching `extra` (one workload or one pod), as one group.
pub fn one(store: &Store, extra: &[Matcher], at_ms: i64, window_ms: i64) -> Golden {
    let mut acc = Acc::default();
    for id in named(store, REQUESTS, extra) {
        add_request(store, id, at_ms, window_ms, &mut acc);
    }
    for id in named(store, DURATION_BUCKETS, extra) {
        add_bucket(store, id, at_ms, window_ms, &mut acc);
    }
    acc.golden()
}

fn add_request(store: &Store, id: SeriesId, at_ms: i64, window_ms: i64, acc: &mut Acc) {
    if let Some(r) = rate_at(store, id, at_ms, window_ms) {
        acc.total = Some(acc.total.unwrap_or(0.0) + r);
        if store.label(id, "code").is_some_and(|c| c.starts_with('5')) {
            acc.errors += r;
        }
    }
}

fn add_bucket(store: &Store, id: SeriesId, at_ms: i64, window_ms: i64, acc: &mut Acc) {
    let Some(le) = store.label(id, "le") else {
        return;
    };
    if let Some(r) = rate_at(store, id, at_ms, window_ms) {
        *acc.buckets.entry(le.to_string()).or_default() += r;
    }
}

fn fold(
    store: &Store,
    labels: &Labels<'_>,
    by: &str,
    extra: &[Matcher],
    at_ms: i64,
    window_ms: i64,
    acc: &mut HashMap<(ClusterId, ObjKey), Acc>,
) {
    for id in named(store, REQUESTS, extra) {
        if let Some(place) = place(store, id, by, labels) {
            add_request(store, id, at_ms, window_ms, acc.entry(place).or_default());
        }
    }
    for id in named(store, DURATION_BUCKETS, extra) {
        if let Some(place) = place(store, id, by, labels) {
            add_bucket(store, id, at_ms, window_ms, acc.entry(place).or_default());
        }
    }
}

/// CPU (cores) and memory (bytes) of every pod at `at_ms`.
pub fn pods(
    store: &Store,
    labels: &Labels<'_>,
    at_ms: i64,
    window_ms: i64,
) -> HashMap<(ClusterId, ObjKey), Usage> {
    let mut out: HashMap<(ClusterId, ObjKey), Usage> = HashMap::new();
    for id in named(store, CPU, &[]) {
        if let (Some(place), Some(r)) = (
            place(store, id, "pod", labels),
            rate_at(store, id, at_ms, window_ms),
        ) {
            let u = out.entry(place).or_default();
            u.cpu = Some(u.cpu.unwrap_or(0.0) + r);
        }
    }
    for id in named(store, MEMORY, &[]) {
        if let (Some(place), Some((_, v))) = (
            place(store, id, "pod", labels),
            store.instant(id, at_ms, LOOKBACK_MS),
        ) {
            let u = out.entry(place).or_default();
            u.memory = Some(u.memory.unwrap_or(0.0) + v);
        }
    }
    out
}

/// One pod's CPU and memory (the series matching `extra`).
pub fn usage(store: &Store, extra: &[Matcher], at_ms: i64, window_ms: i64) -> Usage {
    let mut u = Usage::default();
    for id in named(store, CPU, extra) {
        if let Some(r) = rate_at(store, id, at_ms, window_ms) {
            u.cpu = Some(u.cpu.unwrap_or(0.0) + r);
        }
    }
    for id in named(store, MEMORY, extra) {
        if let Some((_, v)) = store.instant(id, at_ms, LOOKBACK_MS) {
            u.memory = Some(u.memory.unwrap_or(0.0) + v);
        }
    }
    u
}

#[cfg(test)]
mod tests;
