//! The HTTP clients scrapes go out with: a kube client for the pod proxy, a reqwest client for
//! URLs and Prometheus.

use std::time::Duration;

use crate::kube::client::{CONNECT_TIMEOUT, WRITE_TIMEOUT};

/// No single read of a scrape waits longer than this; the scrape's own timeout (at most its
/// interval) normally ends it first. The watchers' 75 s read timeout is for quiet watches and
/// would only keep a dead connection around here.
const SCRAPE_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A kube client for scraping: the watchers' `Config` (same server, credentials, CA) with
/// timeouts fit for short requests, and without kube-client's default retry layer.
///
/// kube-client 5 retries 429, 503 and 504 answers by default (`Config::default_retry`, a
/// tower `RetryLayer` with exponential back-off honouring `Retry-After`). For scrapes that is
/// wrong: a retried scrape lands late with a misleading timestamp, outlives its timeout in
/// the retry sleeps, and hides from the scraper the 429 it must back off on for the whole
/// cluster. Must run inside a tokio runtime.
pub fn scrape_client(mut config: kube::Config) -> Result<kube::Client, String> {
    config.default_retry = false;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(SCRAPE_READ_TIMEOUT);
    config.write_timeout = Some(WRITE_TIMEOUT);
    // Time a pooled connection spent idle must not count against the next scrape's read.
    config.reset_reader_on_write = true;
    kube::Client::try_from(config).map_err(|e| format!("cannot make a scrape client: {e}"))
}

/// A reqwest client for URL targets and the Prometheus API: rustls with the ring provider and
/// the system's trusted roots, connect timeout as for clusters, no proxy from the environment
/// (a jump host's `HTTPS_PROXY` is for the outside world, not for monitoring endpoints; the
/// kube clients ignore it too). Per-request timeouts are set by each caller.
///
/// reqwest is built without a crypto provider of its own (its default would pull aws-lc-rs),
/// so this installs ring as the process default first; that is a no-op when one is already
/// installed.
pub fn http_client() -> Result<reqwest::Client, String> {
    ensure_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .no_proxy()
        .user_agent(concat!("watchfloor/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot make an HTTP client: {e}"))
}

/// Installs rustls's ring provider as the process default unless one is installed already.
/// Anything that builds a reqwest client itself (`reqwest::Client::new()`, the blocking one
/// in tests) must call this first: reqwest is built without a provider of its own and panics
/// when none is installed.
pub fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another thread installing the same provider is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
