//! What the console shows of the metrics: golden signals per workload, CPU and memory per pod,
//! and the scrapers' and store's own health. Computed from the series store by
//! [`super::golden`] and handed to the state as one immutable snapshot.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::kube::{ClusterId, ObjKey};

/// One container's restart count, written to the store as kube-state-metrics'
/// `kube_pod_container_status_restarts_total` so panels (and alert rules) can use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restarts {
    pub namespace: String,
    pub pod: String,
    pub workload: Option<String>,
    pub container: String,
    pub count: u32,
}

/// A workload's golden signals over the rate window.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Golden {
    /// Requests per second, all codes (`sum(rate(http_requests_total[w]))`).
    pub rate: Option<f64>,
    /// 5xx responses / all responses, 0..=1; None without traffic.
    pub error_ratio: Option<f64>,
    /// 95th percentile latency in seconds, from the request-duration histogram.
    pub p95: Option<f64>,
}

impl Golden {
    pub fn is_empty(&self) -> bool {
        self.rate.is_none() && self.error_ratio.is_none() && self.p95.is_none()
    }
}

/// A pod's resource use, from its containers' process metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    /// CPU in cores (`rate(process_cpu_seconds_total[w])`, summed over the pod's targets).
    pub cpu: Option<f64>,
    /// Resident memory in bytes (`process_resident_memory_bytes`).
    pub memory: Option<f64>,
}

/// Scrape health of one cluster (or of the configured URLs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScrapeHealth {
    pub up: usize,
    pub targets: usize,
    /// Targets whose last scrape failed, with why (a few, for the status line).
    pub failing: Vec<(String, String)>,
    /// The API server answered 429: scrapes are backing off.
    pub throttled: bool,
    /// Lines the exposition parser skipped in the last cycle.
    pub bad_lines: usize,
}

/// One computation over the store, shown until the next.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsSnapshot {
    pub at: Option<Timestamp>,
    /// The rate window used (seconds).
    pub window_secs: u64,
    pub golden: HashMap<(ClusterId, ObjKey), Golden>,
    pub usage: HashMap<(ClusterId, ObjKey), Usage>,
    /// Indexed by cluster id; the URL targets are not in it.
    pub clusters: Vec<ScrapeHealth>,
    pub urls: ScrapeHealth,
    /// The store's size against its cap, and what it had to give up.
    pub store: super::store::Stats,
    /// Indexed by cluster id: None, the environment has no `[[prometheus]]`; Ok, its golden
    /// signals and pod usage came from that Prometheus; Err, it could not be asked (why), and
    /// the scraped ones are shown.
    pub remote: Vec<Option<Result<(), String>>>,
}

impl MetricsSnapshot {
    pub fn golden(&self, cluster: ClusterId, key: &ObjKey) -> Option<&Golden> {
        self.golden
            .get(&(cluster, key.clone()))
            .filter(|g| !g.is_empty())
    }

    pub fn usage(&self, cluster: ClusterId, key: &ObjKey) -> Option<&Usage> {
        self.usage.get(&(cluster, key.clone()))
    }
}

/// `240 rps`, `3.5 rps`, `0.02 rps`: rates keep two significant figures.
pub fn rate_text(rps: f64) -> String {
    if !rps.is_finite() {
        return "? rps".into();
    }
    let n = if rps >= 10.0 {
        format!("{rps:.0}")
    } else if rps >= 1.0 {
        format!("{rps:.1}")
    } else if rps == 0.0 {
        "0".into()
    } else {
        format!("{rps:.2}")
    };
    format!("{n} rps")
}

/// `7.2%`, `0.04%`, `0%`.
pub fn ratio_text(ratio: f64) -> String {
    if !ratio.is_finite() {
        return "?%".into();
    }
    let pct = ratio * 100.0;
    if pct == 0.0 {
        "0%".into()
    } else if pct < 0.1 {
        format!("{pct:.2}%")
    } else if pct < 10.0 {
        format!("{pct:.1}%")
    } else {
        format!("{pct:.0}%")
    }
}

/// `1.3s`, `240ms`, `0.8ms`.
pub fn seconds_text(s: f64) -> String {
    if !s.is_finite() {
        return if s.is_nan() { "?".into() } else { "∞".into() };
    }
    if s >= 10.0 {
        format!("{s:.0}s")
    } else if s >= 1.0 {
        format!("{s:.1}s")
    } else if s >= 0.01 {
        format!("{:.0}ms", s * 1000.0)
    } else {
        format!("{:.1}ms", s * 1000.0)
    }
}

/// CPU in cores as `kubectl top` writes it: `250m`, `1.5`.
pub fn cpu_text(cores: f64) -> String {
    if !cores.is_finite() || cores < 0.0 {
        return "?".into();
    }
    if cores >= 1.0 {
        format!("{cores:.2}")
    } else {
        format!("{:.0}m", (cores * 1000.0).round())
    }
}

/// Memory as `kubectl top` writes it: `512Mi`, `1.2Gi`.
pub fn bytes_text(bytes: f64) -> String {
    if !bytes.is_finite() || bytes < 0.0 {
        return "?".into();
    }
    const MI: f64 = 1024.0 * 1024.0;
    if bytes >= 1024.0 * MI {
        format!("{:.1}Gi", bytes / (1024.0 * MI))
    } else if bytes >= MI {
        format!("{:.0}Mi", bytes / MI)
    } else {
        format!("{:.0}Ki", bytes / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_the_wireframe() {
        assert_eq!(rate_text(240.4), "240 rps");
        assert_eq!(rate_text(3.46), "3.5 rps");
        assert_eq!(rate_text(0.0), "0 rps");
        assert_eq!(rate_text(0.016), "0.02 rps");
        assert_eq!(ratio_text(0.072), "7.2%");
        assert_eq!(ratio_text(0.0004), "0.04%");
        assert_eq!(ratio_text(0.0), "0%");
        assert_eq!(seconds_text(1.3), "1.3s");
        assert_eq!(seconds_text(0.24), "240ms");
        assert_eq!(seconds_text(f64::INFINITY), "∞");
        assert_eq!(cpu_text(0.25), "250m");
        assert_eq!(cpu_text(1.5), "1.50");
        assert_eq!(bytes_text(512.0 * 1024.0 * 1024.0), "512Mi");
        assert_eq!(bytes_text(1.25 * 1024.0 * 1024.0 * 1024.0), "1.2Gi");
        assert_eq!(ratio_text(f64::NAN), "?%");
    }
}
