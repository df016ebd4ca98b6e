//! `:` commands in the k9s grammar: a view name, then optional namespace, `@cluster` and
//! `env:NAME` scope words (`:pods arq @prod-eastus`, `:deploy env:prod`).

use super::State;
use super::screen::{Scope, ViewKind};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Show(ViewKind, Scope),
    Quit,
    Help,
    /// The series explorer.
    Metrics,
}

/// Parses a command line (without the `:`). Errors are shown to the user as written.
pub fn parse(state: &State, line: &str) -> Result<Command, String> {
    let mut words = line.split_whitespace();
    let Some(name) = words.next() else {
        return Err(
            "type a command: fleet, deploy, pods, events, clusters, metrics, alerts, rules, quit"
                .into(),
        );
    };
    let kind = match name.to_ascii_lowercase().as_str() {
        "q" | "q!" | "quit" => return Ok(Command::Quit),
        "help" | "h" | "?" => return Ok(Command::Help),
        "fleet" | "f" => ViewKind::Fleet,
        "deploy" | "deployment" | "deployments" | "dp" | "workloads" | "wl" => ViewKind::Workloads,
        "pods" | "pod" | "po" => ViewKind::Pods,
        "events" | "event" | "ev" => ViewKind::Events,
        "clusters" | "cluster" | "ctx" | "contexts" => ViewKind::Clusters,
        "metrics" | "metric" | "m" => return Ok(Command::Metrics),
        "alerts" | "alert" | "al" => ViewKind::Alerts,
        "rules" | "rule" => ViewKind::AlertRules,
        other => {
            return Err(format!(
                "unknown command {other:?}: try fleet, deploy, pods, events, clusters, metrics, alerts, rules, quit"
            ));
        }
    };
    let mut scope = Scope::default();
    for word in words {
        if let Some(cluster) = word.strip_prefix('@') {
            let found = state.clusters.iter().position(|c| c.context == cluster);
            let Some(id) = found else {
                let known: Vec<&str> = state.clusters.iter().map(|c| c.context.as_str()).collect();
                return Err(format!(
                    "no cluster {cluster:?}; clusters: {}",
                    known.join(", ")
                ));
            };
            scope.cluster = Some(id);
        } else if let Some(env) = word.strip_prefix("env:") {
            let found = state
                .envs
                .iter()
                .position(|e| e.name.eq_ignore_ascii_case(env));
            let Some(id) = found else {
                let known: Vec<&str> = state.envs.iter().map(|e| e.name.as_str()).collect();
                return Err(format!(
                    "no environment {env:?}; environments: {}",
                    known.join(", ")
                ));
            };
            scope.env = Some(id);
        } else if scope.namespace.is_none() {
            scope.namespace = Some(word.to_string());
        } else {
            return Err(format!(
                "{word:?}: give at most one namespace, plus @cluster and env:NAME"
            ));
        }
    }
    Ok(Command::Show(kind, scope))
}
