//! One scrape into the store, as Prometheus appends it: the page parsed, the target's labels
//! attached (a scraped label that collides is kept as `exported_<name>`, Prometheus's
//! `honor_labels: false`), and the synthetic `up`, `scrape_duration_seconds`,
//! `scrape_samples_scraped` and `scrape_samples_post_metric_relabeling` series added. A failed
//! scrape appends only the synthetic series with `up` 0, so every series of the target's last
//! scrape goes stale, as in Prometheus.

use std::sync::RwLock;

use super::expo::{self, Format};
use super::scrape::ScrapeResult;
use super::signals::Restarts;
use super::store::{Incoming, IngestReport, Store, TargetId};

/// A sample with its full label set, borrowed from the page and the target.
type Owned<'a> = (&'a str, Vec<(&'a str, &'a str)>, f64, Option<i64>);

/// What one scrape added, for the scrape-health figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Appended {
    pub up: bool,
    pub samples: usize,
    /// Lines the parser skipped, with the first one's message.
    pub bad_lines: usize,
    pub first_error: Option<String>,
    pub report: IngestReport,
}

/// Parses `result` and appends it (with `target_labels`) to `store` under `target`. The page is
/// parsed before the store is locked: readers wait only for the append itself.
pub fn append(
    store: &RwLock<Store>,
    target: TargetId,
    target_labels: &[(String, String)],
    result: &ScrapeResult,
) -> Appended {
    let ts = result.started_ms;
    let duration = result.duration.as_secs_f64();
    let (parsed, error) = match &result.outcome {
        Ok(body) => (
            Some(expo::parse(
                &body.text,
                Format::from_content_type(body.content_type.as_deref()),
            )),
            None,
        ),
        Err(e) => (None, Some(e.to_string())),
    };
    let scraped = parsed.as_ref().map_or(0, |p| p.samples.len());
    // Label sets, kept alive while the store reads them.
    let mut sets: Vec<Owned<'_>> = Vec::with_capacity(scraped + 4);
    let renamed: Vec<String> = target_labels
        .iter()
        .map(|(k, _)| format!("exported_{k}"))
        .collect();
    if let Some(p) = &parsed {
        for s in &p.samples {
            let mut labels: Vec<(&str, &str)> =
                Vec::with_capacity(s.labels.len() + target_labels.len());
            for (k, v) in &s.labels {
                let name = match target_labels.iter().position(|(t, _)| t == k) {
                    Some(i) => renamed[i].as_str(),
                    None => k,
                };
                labels.push((name, v.as_ref()));
            }
            labels.extend(target_labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            sets.push((s.name, labels, s.value, s.timestamp_ms));
        }
    }
    let base: Vec<(&str, &str)> = target_labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // A page of nothing but bad lines (an HTML error page answered with 200, say) is a failed
    // scrape, as Prometheus would count it; a page with some bad lines still counts.
    let up = parsed
        .as_ref()
        .is_some_and(|p| !p.samples.is_empty() || p.errors.is_empty());
    let synthetic = [
        ("up", if up { 1.0 } else { 0.0 }),
        ("scrape_duration_seconds", duration),
        ("scrape_samples_scraped", scraped as f64),
        ("scrape_samples_post_metric_relabeling", scraped as f64),
    ];
    for (name, value) in synthetic {
        sets.push((name, base.clone(), value, None));
    }
    let incoming = sets.iter().map(|(name, labels, value, t)| Incoming {
        name,
        labels,
        value: *value,
        timestamp_ms: *t,
    });
    let report = match store.write() {
        Ok(mut s) => s.ingest(target, ts, incoming),
        // A panic elsewhere poisoned the lock; nothing more can be stored.
        Err(_) => IngestReport::default(),
    };
    let (bad_lines, first_error) = match &parsed {
        Some(p) => (p.errors.len(), p.errors.first().map(|e| e.to_string())),
        None => (0, error),
    };
    Appended {
        up,
        samples: scraped,
        bad_lines,
        first_error,
        report,
    }
}

/// kube-state-metrics' name for a container's restart count, so panels and alert rules written
/// for a real cluster's Prometheus read the same series here.
pub const RESTARTS: &str = "kube_pod_container_status_restarts_total";

/// Every container's restart count in `context` at `ts_ms`, as the series kube-state-metrics
/// exports (plus `cluster` and `workload`), under the cluster's own store target: a pod that
/// went away goes stale with its next append.
pub fn append_restarts(
    store: &RwLock<Store>,
    target: TargetId,
    context: &str,
    restarts: &[Restarts],
    ts_ms: i64,
) -> IngestReport {
    let sets: Vec<Vec<(&str, &str)>> = restarts
        .iter()
        .map(|r| {
            let mut l = vec![
                ("cluster", context),
                ("container", r.container.as_str()),
                ("job", "kube-state-metrics"),
                ("namespace", r.namespace.as_str()),
                ("pod", r.pod.as_str()),
            ];
            if let Some(w) = &r.workload {
                l.push(("workload", w.as_str()));
            }
            l
        })
        .collect();
    let incoming = restarts.iter().zip(&sets).map(|(r, labels)| Incoming {
        name: RESTARTS,
        labels,
        value: f64::from(r.count),
        timestamp_ms: None,
    });
    match store.write() {
        Ok(mut s) => s.ingest(target, ts_ms, incoming),
        Err(_) => IngestReport::default(),
    }
}

#[cfg(test)]
mod tests;
