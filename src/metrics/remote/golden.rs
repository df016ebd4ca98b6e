//! The golden signals of [`super::super::golden`] asked of an environment's own Prometheus:
//! per workload the request rate, 5xx ratio and p95 latency, per pod CPU and memory, in four
//! instant queries run at once.
//!
//! A real Prometheus differs from our scrapers in two ways, and the queries bridge both:
//! - it has no `workload` label, so one is derived from the pod name ([`WORKLOAD_FROM_POD`]);
//! - it usually has cAdvisor's container metrics, which describe a pod's CPU and memory better
//!   than the app's own process metrics; those are used where present, the process metrics
//!   (all our simulator has) otherwise.
//!
//! Series are placed by their `cluster` label, matched against the environment's kubeconfig
//! context names. Most setups run one Prometheus per cluster and carry no `cluster` label at
//! all: such series belong to the environment's cluster when it has exactly one, and are left
//! out otherwise (there is no telling which cluster they came from). A `cluster` value that
//! names no context of the environment is left out too, rather than guessed at.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;

use super::{InstantSeries, Labels, PromClient, RemoteError};
use crate::kube::{ClusterId, ObjKey};
use crate::metrics::golden::{CPU, DURATION_BUCKETS, MEMORY, REQUESTS};
use crate::metrics::signals::{Golden, Usage};

/// The label queries group workloads by; derived from `pod` by [`WORKLOAD_FROM_POD`].
pub const WORKLOAD: &str = "workload";

/// A Deployment's pod name, `<deployment>-<pod-template-hash>-<suffix>`, with the Deployment's
/// name captured (Prometheus anchors the regex at both ends).
///
/// Why this shape: the ReplicaSet is named `<deployment>-<hash>`, where the hash is the 32-bit
/// FNV hash of the pod template written in decimal (up to 10 digits) and mapped digit by digit
/// into `rand.SafeEncodeString`'s alphabet, so 1 to 10 characters of
/// `bcdfghjklmnpqrstvwxz2456789`; the pod's `generateName` then adds 5 random characters of the
/// same alphabet. That alphabet has no vowels and no 0, 1 or 3, which is what keeps other
/// controllers' pods out: a DaemonSet's or Job's `<name>-<5 chars>` (`kube-proxy-x7k2p`) would
/// fit a looser `[a-z0-9]{1,10}` as workload `kube` with hash `proxy`, but `proxy` has an `o`.
/// StatefulSet pods (`db-0`) do not fit at all. What can still fit is a DaemonSet or Job whose
/// name ends in a vowel-less, 0/1/3-less part (`fluent-bt-x7k2p` reads as workload `fluent`),
/// and a CronJob's Job (`<cronjob>-<minutes since epoch>`) whose minutes avoid 0, 1 and 3:
/// rare, and the workload then shows a little extra traffic rather than none. Names longer
/// than 58 characters are cut by `generateName` before the suffix, so a Deployment with a
/// name near the 63-character limit gets a truncated workload name and is not matched to its row.
pub const WORKLOAD_FROM_POD: &str =
    "(.+)-[bcdfghjklmnpqrstvwxz2456789]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5}";

/// cAdvisor's per-container series, without the pod-level cgroup (`container=""`) and the
/// pause container (`POD`, still reported by older runtimes): summed they are the pod's own.
pub(super) const CONTAINERS: &str = r#"container!="",container!="POD""#;

/// The environment's golden signals, keyed like the local side's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RemoteGolden {
    pub workloads: HashMap<(ClusterId, ObjKey), Golden>,
    pub pods: HashMap<(ClusterId, ObjKey), Usage>,
}

/// The four queries for a rate window; see [`queries`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queries {
    /// Request rate per workload and status `code` (total and 5xx are folded from it).
    pub requests: String,
    pub p95: String,
    pub cpu: String,
    pub memory: String,
}

/// `30s`, or `1500ms` for a window that is not whole seconds (at least 1ms).
pub(super) fn range(window: Duration) -> String {
    let ms = window.as_millis().max(1);
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// The PromQL for `window`.
///
/// The request rate is grouped by `code` as well, so one query gives both the total and the 5xx
/// part (`errors / all` is then the same division as
/// `sum(rate(…{code=~"5.."}[w])) / sum(rate(…[w]))`, one round trip fewer).
///
/// `or` keeps every series of its left side and those of its right side whose label set no
/// left series has. Both sides are therefore aggregated with the same `by` first: a pod that
/// has cAdvisor series then hides its process series, one that has not keeps them.
pub fn queries(window: Duration) -> Queries {
    let w = range(window);
    let workload = |inner: String| {
        format!(r#"label_replace({inner}, "{WORKLOAD}", "$1", "pod", "{WORKLOAD_FROM_POD}")"#)
    };
    let by_pod = "sum by (cluster, namespace, pod)";
    Queries {
        requests: format!(
            "sum by (cluster, namespace, {WORKLOAD}, code) ({})",
            workload(format!("rate({REQUESTS}[{w}])"))
        ),
        p95: format!(
            "histogram_quantile(0.95, sum by (cluster, namespace, {WORKLOAD}, le) ({}))",
            workload(format!("rate({DURATION_BUCKETS}[{w}])"))
        ),
        cpu: format!(
            "{by_pod} (rate(container_cpu_usage_seconds_total{{{CONTAINERS}}}[{w}])) or {by_pod} (rate({CPU}[{w}]))"
        ),
        memory: format!(
            "{by_pod} (container_memory_working_set_bytes{{{CONTAINERS}}}) or {by_pod} ({MEMORY})"
        ),
    }
}

/// The environment's golden signals from its Prometheus at `at` over `window`.
/// `clusters`: the environment's clusters as (id, kubeconfig context name).
///
/// The queries run concurrently, each within the client's own timeout; the first to fail is the
/// error (a Prometheus that answers one query and not another is not one to show half of).
pub async fn golden(
    client: &PromClient,
    clusters: &[(ClusterId, String)],
    at: Timestamp,
    window: Duration,
) -> Result<RemoteGolden, RemoteError> {
    let q = queries(window);
    let (requests, p95, cpu, memory) = futures::try_join!(
        client.instant(&q.requests, Some(at)),
        client.instant(&q.p95, Some(at)),
        client.instant(&q.cpu, Some(at)),
        client.instant(&q.memory, Some(at)),
    )?;
    let places = Places::new(clusters);
    Ok(RemoteGolden {
        workloads: fold_workloads(&places, &requests, &p95),
        pods: fold_pods(&places, &cpu, &memory),
    })
}

/// Which cluster a series belongs to, from its `cluster` label.
pub struct Places<'a> {
    by_context: HashMap<&'a str, ClusterId>,
    /// The environment's only cluster, for series without a `cluster` label.
    only: Option<ClusterId>,
}

impl<'a> Places<'a> {
    pub fn new(clusters: &'a [(ClusterId, String)]) -> Places<'a> {
        let only = match clusters {
            [(id, _)] => Some(*id),
            _ => None,
        };
        Places {
            by_context: clusters.iter().map(|(id, c)| (c.as_str(), *id)).collect(),
            only,
        }
    }

    /// The cluster of a series; None when it cannot be told (see the module's note).
    pub fn cluster(&self, labels: &Labels) -> Option<ClusterId> {
        match label(labels, "cluster") {
            Some(name) => self.by_context.get(name).copied(),
            None => self.only,
        }
    }

    /// Where a series belongs: its cluster and `namespace`/`<by>` (`workload` or `pod`).
    pub fn place(&self, labels: &Labels, by: &str) -> Option<(ClusterId, ObjKey)> {
        let cluster = self.cluster(labels)?;
        let namespace = label(labels, "namespace")?;
        let name = label(labels, by)?;
        Some((cluster, ObjKey::new(namespace, name)))
    }
}

/// A label's value; Prometheus never returns empty labels, but one given is treated as absent.
fn label<'l>(labels: &'l Labels, name: &str) -> Option<&'l str> {
    labels
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// A value as the console takes it: NaN and ±Inf (an empty histogram, 0/0) are no value.
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// A 5xx status code, as `code=~"5.."` reads it (the regex is anchored: three characters).
pub(super) fn is_5xx(code: &str) -> bool {
    code.len() == 3 && code.starts_with('5')
}

/// Per workload: the request rate (all codes), its 5xx ratio, and the p95.
///
/// Series of one workload that still meet under one key (one cluster's series with and without
/// a `cluster` label) are summed for rates; their p95s cannot be merged, so the higher is kept,
/// the one an on-call engineer would want to see.
pub fn fold_workloads(
    places: &Places<'_>,
    requests: &InstantSeries,
    p95: &InstantSeries,
) -> HashMap<(ClusterId, ObjKey), Golden> {
    let mut sums: HashMap<(ClusterId, ObjKey), (f64, f64)> = HashMap::new();
    for (labels, (_, v)) in requests {
        let (Some(key), Some(v)) = (places.place(labels, WORKLOAD), finite(*v)) else {
            continue;
        };
        let (total, errors) = sums.entry(key).or_default();
        *total += v;
        if label(labels, "code").is_some_and(is_5xx) {
            *errors += v;
        }
    }
    let mut out: HashMap<(ClusterId, ObjKey), Golden> = sums
        .into_iter()
        .map(|(key, (total, errors))| {
            let golden = Golden {
                rate: Some(total),
                // As the local side: no ratio without traffic.
                error_ratio: (total > 0.0).then(|| errors / total),
                p95: None,
            };
            (key, golden)
        })
        .collect();
    for (labels, (_, v)) in p95 {
        let (Some(key), Some(v)) = (places.place(labels, WORKLOAD), finite(*v)) else {
            continue;
        };
        let g = out.entry(key).or_default();
        g.p95 = Some(g.p95.map_or(v, |p| p.max(v)));
    }
    out
}

/// Per pod: CPU in cores and memory in bytes.
pub fn fold_pods(
    places: &Places<'_>,
    cpu: &InstantSeries,
    memory: &InstantSeries,
) -> HashMap<(ClusterId, ObjKey), Usage> {
    let mut out: HashMap<(ClusterId, ObjKey), Usage> = HashMap::new();
    for (labels, (_, v)) in cpu {
        if let (Some(key), Some(v)) = (places.place(labels, "pod"), finite(*v)) {
            let u = out.entry(key).or_default();
            u.cpu = Some(u.cpu.unwrap_or(0.0) + v);
        }
    }
    for (labels, (_, v)) in memory {
        if let (Some(key), Some(v)) = (places.place(labels, "pod"), finite(*v)) {
            let u = out.entry(key).or_default();
            u.memory = Some(u.memory.unwrap_or(0.0) + v);
        }
    }
    out
}

#[cfg(test)]
mod tests;
