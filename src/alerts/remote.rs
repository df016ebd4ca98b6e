//! An environment's alert state from its own Prometheus (`/api/v1/alerts`, `/api/v1/rules`) and
//! Alertmanager (`/api/v2/alerts`, `/api/v2/silences`), and the merge with the local evaluator's
//! alerts: when a remote answers it is the truth, and a local verdict that differs is flagged.
//!
//! Every request has a total timeout ([`REQUEST_TIMEOUT`]), so a dead server costs one status
//! line, never a hung console; each source's failure is reported on its own, in words.

mod alertmanager;
mod http;
mod json;
mod merge;
mod prometheus;

#[cfg(test)]
mod tests;

use std::time::Duration;

use jiff::Timestamp;

use crate::alerts::model::{Alert, RuleStatus, Source, SourceStatus};
use crate::config::endpoints::{AlertmanagerConfig, PrometheusConfig};
pub use alertmanager::{Silence, SilenceMatcher, SilenceState};
pub use http::ANSWER_LIMIT;
pub use merge::merge;

/// How long one request may take, connecting included. Alert state is polled every few
/// seconds; an answer later than this is stale anyway.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn prometheus_endpoint(cfg: &PrometheusConfig, timeout: Duration) -> http::Endpoint<'_> {
    http::Endpoint {
        url: &cfg.url.0,
        auth: &cfg.auth,
        timeout,
        section: "[[prometheus]]",
    }
}

fn alertmanager_endpoint(cfg: &AlertmanagerConfig, timeout: Duration) -> http::Endpoint<'_> {
    http::Endpoint {
        url: &cfg.url.0,
        auth: &cfg.auth,
        timeout,
        section: "[[alertmanager]]",
    }
}

/// Prometheus's active alerts (pending and firing), for `cfg.environment`.
pub async fn prometheus_alerts(
    client: &reqwest::Client,
    cfg: &PrometheusConfig,
) -> Result<Vec<Alert>, String> {
    let body = http::get_json(
        client,
        &prometheus_endpoint(cfg, REQUEST_TIMEOUT),
        "api/v1/alerts",
    )
    .await?;
    prometheus::alerts(&body, &cfg.environment)
}

/// Prometheus's rules (health, last error, last evaluation) and the active alerts of its
/// alerting rules, which — unlike `/api/v1/alerts` — carry the rule's expression and group.
pub async fn prometheus_rules(
    client: &reqwest::Client,
    cfg: &PrometheusConfig,
) -> Result<(Vec<RuleStatus>, Vec<Alert>), String> {
    rules_for(client, cfg, &cfg.environment, REQUEST_TIMEOUT).await
}

async fn rules_for(
    client: &reqwest::Client,
    cfg: &PrometheusConfig,
    environment: &str,
    timeout: Duration,
) -> Result<(Vec<RuleStatus>, Vec<Alert>), String> {
    let body = http::get_json(client, &prometheus_endpoint(cfg, timeout), "api/v1/rules").await?;
    prometheus::rules(&body, environment)
}

/// Alertmanager's unresolved alerts (all firing), each with its silenced/inhibited verdict.
pub async fn alertmanager_alerts(
    client: &reqwest::Client,
    cfg: &AlertmanagerConfig,
) -> Result<Vec<Alert>, String> {
    am_alerts_for(client, cfg, &cfg.environment, REQUEST_TIMEOUT).await
}

async fn am_alerts_for(
    client: &reqwest::Client,
    cfg: &AlertmanagerConfig,
    environment: &str,
    timeout: Duration,
) -> Result<Vec<Alert>, String> {
    let ep = alertmanager_endpoint(cfg, timeout);
    let body = http::get_json(client, &ep, "api/v2/alerts").await?;
    alertmanager::alerts(&body, environment)
}

/// Alertmanager's silences: active, pending (future) and recently expired.
pub async fn alertmanager_silences(
    client: &reqwest::Client,
    cfg: &AlertmanagerConfig,
) -> Result<Vec<Silence>, String> {
    silences_for(client, cfg, &cfg.environment, REQUEST_TIMEOUT).await
}

async fn silences_for(
    client: &reqwest::Client,
    cfg: &AlertmanagerConfig,
    environment: &str,
    timeout: Duration,
) -> Result<Vec<Silence>, String> {
    let ep = alertmanager_endpoint(cfg, timeout);
    let body = http::get_json(client, &ep, "api/v2/silences").await?;
    alertmanager::silences(&body, environment)
}

/// One poll of an environment's remote sources.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RemoteState {
    /// Prometheus's pending and firing alerts; None when it is not configured or did not answer
    /// (the distinction [`merge`] needs: an empty answer means "nothing is firing").
    pub alerts: Option<Vec<Alert>>,
    pub rules: Vec<RuleStatus>,
    /// Alertmanager's alerts; None when it is not configured or did not answer.
    pub am_alerts: Option<Vec<Alert>>,
    pub silences: Vec<Silence>,
    /// One per configured source: answered (error None) or why not.
    pub statuses: Vec<SourceStatus>,
}

/// Polls `environment`'s Prometheus (its rules, which carry the alerts too: one request) and
/// Alertmanager (alerts and silences) concurrently. Each source fails on its own; a source
/// that is not configured has no status.
pub async fn poll(
    client: &reqwest::Client,
    environment: &str,
    prometheus: Option<&PrometheusConfig>,
    alertmanager: Option<&AlertmanagerConfig>,
) -> RemoteState {
    poll_with(
        client,
        environment,
        prometheus,
        alertmanager,
        REQUEST_TIMEOUT,
    )
    .await
}

pub(crate) async fn poll_with(
    client: &reqwest::Client,
    environment: &str,
    prometheus: Option<&PrometheusConfig>,
    alertmanager: Option<&AlertmanagerConfig>,
    timeout: Duration,
) -> RemoteState {
    let prom = async {
        match prometheus {
            Some(cfg) => Some(rules_for(client, cfg, environment, timeout).await),
            None => None,
        }
    };
    let am = async {
        match alertmanager {
            Some(cfg) => Some(tokio::join!(
                am_alerts_for(client, cfg, environment, timeout),
                silences_for(client, cfg, environment, timeout)
            )),
            None => None,
        }
    };
    let (prom, am) = tokio::join!(prom, am);
    let now = Timestamp::now();
    let mut state = RemoteState::default();
    let status = |source, error| SourceStatus {
        environment: environment.to_string(),
        source,
        error,
        at: Some(now),
    };
    if let Some(answer) = prom {
        match answer {
            Ok((rules, alerts)) => {
                state.rules = rules;
                state.alerts = Some(alerts);
                state.statuses.push(status(Source::Prometheus, None));
            }
            Err(e) => state.statuses.push(status(Source::Prometheus, Some(e))),
        }
    }
    if let Some((alerts, silences)) = am {
        // The alerts are what the merge needs; silences failing alone still counts as an
        // answer, with the error shown.
        let mut errors = Vec::new();
        match alerts {
            Ok(a) => state.am_alerts = Some(a),
            Err(e) => errors.push(format!("alerts: {e}")),
        }
        match silences {
            Ok(s) => state.silences = s,
            Err(e) => errors.push(format!("silences: {e}")),
        }
        let error = (!errors.is_empty()).then(|| errors.join("; "));
        state.statuses.push(status(Source::Alertmanager, error));
    }
    state
}
