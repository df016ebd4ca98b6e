//! The config sections for how watchfloor gathers health and metrics itself: `[probes]`,
//! `[scraping]` and `[rules]`. The servers it asks instead are in `endpoints.rs`.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::file::{Checker, keys};
use super::units::{ByteSize, HttpUrl, PromDuration};

/// `[probes]`: active HTTP health checks of the pods' probe endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbesConfig {
    pub enabled: bool,
    pub interval: PromDuration,
    pub timeout: PromDuration,
    /// Probes in flight at once, per cluster.
    pub concurrency: u32,
}

impl Default for ProbesConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval: PromDuration::from_secs(10),
            timeout: PromDuration::from_secs(2),
            concurrency: 4,
        }
    }
}

impl ProbesConfig {
    pub(crate) fn check(&self, c: &mut Checker<'_>) {
        check_period(c, "probes", self.interval, self.timeout, self.concurrency);
    }
}

/// `[scraping]`: reading `/metrics` from pods and from the listed targets.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScrapingConfig {
    /// Scrape pods and targets at all (through the API servers: a request per pod per interval).
    pub enabled: bool,
    pub interval: PromDuration,
    pub timeout: PromDuration,
    /// Scrapes in flight at once, per cluster.
    pub concurrency: u32,
    /// How long samples are kept in memory.
    pub retention: PromDuration,
    /// The most memory the series store may use; the oldest samples go first.
    pub memory_cap: ByteSize,
    /// The port scraped on pods that neither annotate `prometheus.io/scrape` nor name a port
    /// `metrics`/`http-metrics`; unset, such pods are not scraped.
    pub pod_port: Option<u16>,
    /// The path for `pod_port`, and for annotated pods without `prometheus.io/path`.
    pub pod_path: String,
    pub targets: Vec<ScrapeTarget>,
}

impl Default for ScrapingConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval: PromDuration::from_secs(15),
            timeout: PromDuration::from_secs(5),
            concurrency: 4,
            retention: PromDuration::from_secs(3600),
            memory_cap: ByteSize::mib(64),
            pod_port: None,
            pod_path: "/metrics".to_string(),
            targets: Vec::new(),
        }
    }
}

/// One `[[scraping.targets]]`: an endpoint outside the clusters' pods (a node exporter, say).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeTarget {
    pub name: String,
    pub url: HttpUrl,
    /// Overrides `scraping.interval` for this target.
    #[serde(default)]
    pub interval: Option<PromDuration>,
    /// Overrides `scraping.timeout` for this target.
    #[serde(default)]
    pub timeout: Option<PromDuration>,
}

impl ScrapingConfig {
    pub(crate) fn check(&self, c: &mut Checker<'_>) {
        check_period(c, "scraping", self.interval, self.timeout, self.concurrency);
        if self.retention < self.interval {
            c.error(
                keys!["scraping", "retention"],
                format!(
                    "retention {} is shorter than the scrape interval {}: no sample would be kept",
                    self.retention, self.interval
                ),
            );
        }
        if !self.pod_path.starts_with('/') {
            c.error(
                keys!["scraping", "pod_path"],
                format!("pod_path {:?} must start with /", self.pod_path),
            );
        }
        if self.pod_port == Some(0) {
            c.error(
                keys!["scraping", "pod_port"],
                "must be a port from 1 to 65535",
            );
        }
        if self.memory_cap.0 == 0 {
            c.error(
                keys!["scraping", "memory_cap"],
                "memory_cap must be above 0",
            );
        }
        let mut names: HashMap<&str, usize> = HashMap::new();
        for (i, target) in self.targets.iter().enumerate() {
            if target.name.trim().is_empty() {
                c.error(keys!["scraping", "targets", i, "name"], "the name is empty");
            } else if let Some(&first) = names.get(target.name.as_str()) {
                let line = c.line_of(keys!["scraping", "targets", first, "name"]);
                c.error(
                    keys!["scraping", "targets", i, "name"],
                    format!("target {:?} is already defined at line {line}", target.name),
                );
            } else {
                names.insert(&target.name, i);
            }
            let interval = target.interval.unwrap_or(self.interval);
            if let Some(timeout) = target.timeout {
                if timeout.0.is_zero() {
                    c.error(
                        keys!["scraping", "targets", i, "timeout"],
                        "must be above 0",
                    );
                } else if timeout > interval {
                    c.error(
                        keys!["scraping", "targets", i, "timeout"],
                        format!(
                            "timeout {timeout} is longer than the target's interval {interval}"
                        ),
                    );
                }
            }
            if let Some(interval) = target.interval {
                if interval.0.is_zero() {
                    c.error(
                        keys!["scraping", "targets", i, "interval"],
                        "must be above 0",
                    );
                } else if target.timeout.is_none() && interval < self.timeout {
                    c.error(
                        keys!["scraping", "targets", i, "interval"],
                        format!(
                            "interval {interval} is shorter than scraping.timeout {}",
                            self.timeout
                        ),
                    );
                }
            }
        }
    }
}

/// An interval, its timeout and a concurrency, as `[probes]` and `[scraping]` both have.
fn check_period(
    c: &mut Checker<'_>,
    section: &str,
    interval: PromDuration,
    timeout: PromDuration,
    concurrency: u32,
) {
    if interval.0.is_zero() {
        c.error(keys![section, "interval"], "must be above 0");
    }
    if timeout.0.is_zero() {
        c.error(keys![section, "timeout"], "must be above 0");
    } else if timeout > interval && !interval.0.is_zero() {
        // As Prometheus: a check that may outlast its interval would pile up.
        c.error(
            keys![section, "timeout"],
            format!("timeout {timeout} is longer than the interval {interval}"),
        );
    }
    if concurrency == 0 {
        c.error(keys![section, "concurrency"], "must be at least 1");
    }
}

/// `[rules]`: alerting and recording rule files in Prometheus's format.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesConfig {
    /// Glob patterns; relative ones are taken from the config file's directory.
    pub files: Vec<String>,
    pub evaluation_interval: PromDuration,
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            files: Vec::new(),
            evaluation_interval: PromDuration::from_secs(15),
        }
    }
}

impl RulesConfig {
    pub(crate) fn check(self, c: &mut Checker<'_>, base: &Path) -> RulesConfig {
        if self.evaluation_interval.0.is_zero() {
            c.error(keys!["rules", "evaluation_interval"], "must be above 0");
        }
        let mut files = Vec::new();
        for (i, pattern) in self.files.into_iter().enumerate() {
            if pattern.trim().is_empty() {
                c.error(keys!["rules", "files", i], "the pattern is empty");
                continue;
            }
            let full = base.join(super::expand_home(&pattern));
            let is_glob = pattern.contains(['*', '?', '[']);
            if !is_glob && !full.is_file() {
                c.warn(
                    keys!["rules", "files", i],
                    format!("{} does not exist (yet)", full.display()),
                );
            }
            files.push(full.to_string_lossy().into_owned());
        }
        RulesConfig {
            files,
            evaluation_interval: self.evaluation_interval,
        }
    }
}
