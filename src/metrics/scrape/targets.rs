//! Which pods and URLs to scrape, and the labels their samples get.
//!
//! Choices, made to match what a Prometheus with Kubernetes service discovery and the usual
//! `prometheus.io/*` relabelling would record for the same pods, so numbers can be compared:
//! - `job` is [`POD_JOB`] for every pod. A per-pod `prometheus.io/job` annotation is not a
//!   convention Prometheus's examples follow, and one job name keeps queries simple.
//! - `instance` is `<pod>:<port>`. Prometheus would say `<pod IP>:<port>`, but pod IPs change
//!   with every restart and mean nothing to a person; the pod name is what the console shows.
//! - URL targets: `job` is the configured name, `instance` the URL's `host:port`, as Prometheus
//!   derives it from a static target.

use std::time::Duration;

use super::{How, Target};
use crate::config::sources::ScrapingConfig;
use crate::kube::rows::{PodRow, Scrape};

/// The `job` label of every pod target.
pub const POD_JOB: &str = "pods";

/// The scrape targets among `pods` of cluster `cluster` (its label value), per the config:
/// pods that say where (`Scrape::At`; no port there means `pod_port`), pods that say nothing
/// when `pod_port` is set, never pods that opted out. Only pods that can answer are taken: not
/// being deleted, on a node, and running (or crash-looping: the pod is still there and its
/// failed scrapes are worth reporting, as Prometheus would report `up == 0`).
pub fn pod_targets<'a>(
    cluster: &str,
    pods: impl IntoIterator<Item = &'a PodRow>,
    config: &ScrapingConfig,
) -> Vec<Target> {
    let interval = config.interval.get();
    let timeout = config.timeout.get().min(interval);
    let mut out: Vec<Target> = pods
        .into_iter()
        .filter(|p| can_answer(p))
        .filter_map(|p| {
            let (port, path, scheme) = match &p.scrape {
                Scrape::OptedOut => return None,
                Scrape::At(spec) => (
                    spec.port
                        .clone()
                        .or_else(|| config.pod_port.map(|n| n.to_string()))?,
                    spec.path.clone().unwrap_or_else(|| config.pod_path.clone()),
                    spec.scheme.clone(),
                ),
                Scrape::Unsaid => (
                    config.pod_port?.to_string(),
                    config.pod_path.clone(),
                    "http".to_string(),
                ),
            };
            let namespace = p.key.namespace.clone();
            let pod = p.key.name.clone();
            let mut labels = vec![
                ("cluster".to_string(), cluster.to_string()),
                ("instance".to_string(), format!("{pod}:{port}")),
                ("job".to_string(), POD_JOB.to_string()),
                ("namespace".to_string(), namespace.clone()),
                ("pod".to_string(), pod.clone()),
            ];
            if let Some(w) = &p.workload {
                labels.push(("workload".to_string(), w.clone()));
            }
            Some(Target {
                key: format!("{cluster}/{namespace}/{pod}"),
                labels,
                how: How::PodProxy {
                    namespace,
                    pod,
                    port,
                    path,
                    scheme,
                },
                interval,
                timeout,
            })
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// Whether a pod's containers may be running: the statuses `kubectl get pods` prints for a
/// pod whose phase is Running.
fn can_answer(p: &PodRow) -> bool {
    if p.deleting || p.node.is_empty() {
        return false;
    }
    match p.status.as_str() {
        "Running" | "NotReady" => true,
        // Restarted by the kubelet: the pod stays, its scrapes fail until it comes back.
        "CrashLoopBackOff" | "Error" | "OOMKilled" => p.restarts > 0,
        _ => false,
    }
}

/// The `[[scraping.targets]]`, each at its own interval or the section's.
pub fn url_targets(config: &ScrapingConfig) -> Vec<Target> {
    config
        .targets
        .iter()
        .map(|t| {
            let interval = t.interval.unwrap_or(config.interval).get();
            let url = t.url.0.clone();
            let instance = match (url.host_str(), url.port_or_known_default()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                _ => url.to_string(),
            };
            Target {
                key: format!("url:{}", t.name),
                labels: vec![
                    ("instance".to_string(), instance),
                    ("job".to_string(), t.name.clone()),
                ],
                how: How::Url(url),
                interval,
                timeout: t.timeout.unwrap_or(config.timeout).get().min(interval),
            }
        })
        .collect()
}

/// A stable offset in `[0, interval)` for `key`, so a target is scraped at the same phase of
/// its interval every time and thousands of targets spread evenly instead of firing together
/// (Prometheus does the same from a hash of the target). FNV-1a: stable across runs and Rust
/// releases, unlike `DefaultHasher`.
pub(crate) fn offset(key: &str, interval: Duration) -> Duration {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let ns = interval.as_nanos().max(1);
    let off = u128::from(h) % ns;
    Duration::from_nanos(u64::try_from(off).unwrap_or(0))
}
