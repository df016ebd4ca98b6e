//! Scraping pods through the API server's pod proxy, and direct URLs: which targets there are
//! ([`pod_targets`], [`url_targets`]), fetching one body ([`fetch`]), and running them all on
//! their intervals ([`Scraper`]). Bodies are handed on as text: parsing and storing them is the
//! exposition parser's and the series store's job.

mod backoff;
mod client;
mod error;
mod fetch;
mod scheduler;
mod targets;

#[cfg(test)]
mod tests;

use std::time::Duration;

pub use client::{ensure_crypto_provider, http_client, scrape_client};
pub use error::ScrapeError;
pub(crate) use error::excerpt as error_excerpt;
pub use fetch::{ACCEPT, BODY_LIMIT, fetch_pod, fetch_url, proxy_path};
pub use scheduler::Scraper;
pub use targets::{POD_JOB, pod_targets, url_targets};

/// How a target is reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum How {
    /// Through the API server: `/api/v1/namespaces/NS/pods/[https:]POD:PORT/proxy/PATH`.
    PodProxy {
        namespace: String,
        pod: String,
        /// A port number (or a name, passed on as the pod said it).
        port: String,
        /// Starts with `/`; may carry a query.
        path: String,
        /// `http` or `https`.
        scheme: String,
    },
    /// Directly, with the console's own HTTP client.
    Url(url::Url),
}

/// One endpoint to scrape on an interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Stable across target-list updates: `<cluster>/<ns>/<pod>` or `url:<name>`.
    pub key: String,
    /// Labels the glue adds to every sample of this target, sorted by name: `job`, `instance`,
    /// and for pods `cluster`, `namespace`, `pod` and `workload` (when the pod has one).
    pub labels: Vec<(String, String)>,
    pub how: How,
    pub interval: Duration,
    /// Never longer than `interval` (a scrape that outlasts its interval would pile up).
    pub timeout: Duration,
}

/// One scrape's outcome.
#[derive(Debug)]
pub struct ScrapeResult {
    pub key: String,
    /// Wall-clock milliseconds at the scrape's start: the timestamp of its samples, as
    /// Prometheus stamps a scrape.
    pub started_ms: i64,
    pub duration: Duration,
    pub outcome: Result<Body, ScrapeError>,
}

/// A scraped body, not parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    pub text: String,
    /// The `Content-Type` answered: tells OpenMetrics from the 0.0.4 text format.
    pub content_type: Option<String>,
}

/// What a [`Scraper`] reports.
#[derive(Debug)]
pub enum ScrapeEvent {
    Result(ScrapeResult),
    /// The target left the set (see [`Scraper::set_targets`]): its series go stale at `at_ms`
    /// (wall clock).
    Gone {
        key: String,
        at_ms: i64,
    },
}
