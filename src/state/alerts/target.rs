//! Which workload an alert is about, from its labels: the environment, the `cluster` label when
//! set, `namespace`, and the first of `deployment`, `workload`, `pod`, `job`, `service` that names
//! a workload the console knows. Rules written for kube-state-metrics and for scraped pods carry
//! these labels; nothing else about an alert says where it comes from.

use crate::alerts::model::Alert;
use crate::kube::{ClusterId, ObjKey};
use crate::state::State;
use crate::state::cluster::ClusterState;

/// What the status line says when no label names a known workload.
pub const NO_WORKLOAD: &str = "no workload named by this alert's labels";

/// Labels tried in order. `pod` goes through the pod's owner; `job` and `service` are names
/// Prometheus scrape configs commonly set to the workload's (sometimes as `namespace/name`).
const NAMING: [&str; 5] = ["deployment", "workload", "pod", "job", "service"];

/// A workload an alert names, in one or more clusters of its environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub env: usize,
    /// Every cluster of the environment (or the labelled cluster) running it, in id order.
    pub clusters: Vec<ClusterId>,
    pub key: ObjKey,
    /// The label that named it.
    pub via: &'static str,
}

/// Whether a cluster is the one a `cluster` label names (its context or its short column name;
/// no label means every cluster of the environment).
pub fn cluster_matches(c: &ClusterState, label: Option<&str>) -> bool {
    label.is_none_or(|l| c.context.eq_ignore_ascii_case(l) || c.short.eq_ignore_ascii_case(l))
}

/// The workload `alert` names, or why there is none (in words for the status line).
pub fn resolve(state: &State, alert: &Alert) -> Result<Target, String> {
    let Some(env) = state.envs.iter().position(|e| e.name == alert.environment) else {
        return Err(format!(
            "{NO_WORKLOAD} (no environment is named {:?})",
            alert.environment
        ));
    };
    let clusters: Vec<ClusterId> = state
        .clusters
        .iter()
        .enumerate()
        .filter(|(_, c)| c.env == env && cluster_matches(c, alert.label("cluster")))
        .map(|(id, _)| id)
        .collect();
    let namespace = alert.label("namespace");
    for label in NAMING {
        let Some(value) = alert.label(label).filter(|v| !v.is_empty()) else {
            continue;
        };
        let found: Vec<(ClusterId, ObjKey)> = clusters
            .iter()
            .flat_map(|&id| {
                let c = &state.clusters[id];
                let keys = if label == "pod" {
                    owner_of_pod(c, namespace, value)
                } else {
                    workloads_named(c, namespace, value)
                };
                keys.into_iter().map(move |k| (id, k))
            })
            .collect();
        // Without a namespace label a name may exist in several namespaces: the first
        // (alphabetically) is taken, in every cluster that runs it.
        let Some(key) = found.iter().map(|(_, k)| k).min().cloned() else {
            continue;
        };
        let clusters = found
            .iter()
            .filter(|(_, k)| *k == key)
            .map(|(c, _)| *c)
            .collect();
        return Ok(Target {
            env,
            clusters,
            key,
            via: label,
        });
    }
    Err(NO_WORKLOAD.to_string())
}

/// Workloads called `value` (or the name part of `namespace/name`), in `namespace` if given.
fn workloads_named(c: &ClusterState, namespace: Option<&str>, value: &str) -> Vec<ObjKey> {
    let (ns_part, name) = match value.rsplit_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, value),
    };
    let namespace = namespace.or(ns_part);
    match namespace {
        Some(ns) => {
            let key = ObjKey::new(ns, name);
            c.workloads
                .contains_key(&key)
                .then_some(key)
                .into_iter()
                .collect()
        }
        None => c
            .workloads
            .keys()
            .filter(|k| k.name == name)
            .cloned()
            .collect(),
    }
}

/// The workload that owns pod `name`.
fn owner_of_pod(c: &ClusterState, namespace: Option<&str>, name: &str) -> Vec<ObjKey> {
    let pods: Vec<_> = match namespace {
        Some(ns) => c.pods.get(&ObjKey::new(ns, name)).into_iter().collect(),
        None => c.pods.values().filter(|p| p.key.name == name).collect(),
    };
    pods.into_iter()
        .filter_map(|p| {
            let key = ObjKey::new(p.key.namespace.clone(), p.workload.clone()?);
            c.workloads.contains_key(&key).then_some(key)
        })
        .collect()
}
