//! Starts the console's alert side: the `[rules]` files loaded once, each environment's clusters,
//! its `[[prometheus]]` and `[[alertmanager]]`, and the scraped series store to evaluate over.

use std::sync::{Arc, RwLock};

use tokio::sync::mpsc;

use super::console::Console;
use crate::alerts::runtime::{self, AlertsRuntime, EnvSetup, Setup};
use crate::kube::watch::Clock;
use crate::metrics::store::Store;
use crate::state::{Msg, State};

/// The alert side, or None when there is nothing to show: no rule files and no remote source.
/// Rule files that cannot be used are configuration warnings (the `?` page), each in words,
/// and the rest still run.
pub fn start_alerts(
    console: &Console,
    state: &mut State,
    store: Option<Arc<RwLock<Store>>>,
    ui: mpsc::UnboundedSender<Msg>,
    clock: Clock,
) -> Option<AlertsRuntime> {
    let config = &console.settings.loaded.config;
    let envs = environments(console);
    let remote = envs
        .iter()
        .any(|e| e.prometheus.is_some() || e.alertmanager.is_some());
    if config.rules.files.is_empty() && !remote {
        return None;
    }
    let rules = runtime::load_rules(&config.rules.files);
    for e in &rules.errors {
        state.warnings.push(format!("rules: {e}"));
    }
    Some(AlertsRuntime::start(
        Setup {
            rules,
            default_interval: config.rules.evaluation_interval.0,
            envs,
            store,
        },
        ui,
        clock,
    ))
}

/// Every watched environment with its clusters' contexts (the `cluster` label scraped series
/// carry), its remote sources, and the Prometheus semantics to evaluate with: the command
/// line's, else its `[[prometheus]]`'s `prometheus_compat`, else 3.
fn environments(console: &Console) -> Vec<EnvSetup> {
    let config = &console.settings.loaded.config;
    console
        .layout
        .environments
        .iter()
        .enumerate()
        .map(|(i, env)| {
            let prometheus = config
                .prometheus
                .iter()
                .find(|p| p.environment == env.name)
                .cloned();
            let alertmanager = config
                .alertmanager
                .iter()
                .find(|a| a.environment == env.name)
                .cloned();
            EnvSetup {
                name: env.name.clone(),
                clusters: console
                    .layout
                    .clusters
                    .iter()
                    .filter(|c| c.env == i)
                    .map(|c| c.context.clone())
                    .collect(),
                compat: console
                    .prometheus_compat
                    .or(prometheus.as_ref().map(|p| p.compat))
                    .unwrap_or_default(),
                prometheus,
                alertmanager,
            }
        })
        .collect()
}
