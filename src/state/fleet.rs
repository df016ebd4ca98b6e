//! The fleet: one row per workload (namespace/name) with one cell per cluster, folded from the
//! clusters' rows. Rebuilt when rows change, not when a frame is drawn.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;

use super::cluster::ClusterState;
use crate::kube::rows::Health;
use crate::kube::{ClusterId, ObjKey};

/// One workload in one cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    pub ready: u32,
    pub desired: u32,
    /// The worst state among its pods and its rollout.
    pub health: Health,
    /// One word for it: `ok`, `crashloop`, `unready`, `rollout`, `stalled`, `pending`, ...
    pub word: String,
    pub restarts_1h: u32,
    /// `(min, max)` of the HPA that scales it.
    pub hpa: Option<(u32, u32)>,
    pub rolling_out: bool,
    pub revision: Option<u64>,
}

/// One workload across the fleet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetRow {
    pub key: ObjKey,
    /// Indexed by cluster id; None where the workload does not exist.
    pub cells: Vec<Option<Cell>>,
}

impl FleetRow {
    /// The worst cell's health.
    pub fn worst(&self) -> Health {
        self.cells
            .iter()
            .flatten()
            .map(|c| c.health)
            .max()
            .unwrap_or_default()
    }
}

/// Folds every cluster's workloads into fleet rows, sorted by namespace/name.
pub fn build(clusters: &[ClusterState], now: Timestamp) -> Vec<FleetRow> {
    let mut rows: BTreeMap<ObjKey, Vec<Option<Cell>>> = BTreeMap::new();
    for (id, cluster) in clusters.iter().enumerate() {
        for (key, cell) in cells(cluster, now) {
            rows.entry(key)
                .or_insert_with(|| vec![None; clusters.len()])[id] = Some(cell);
        }
    }
    rows.into_iter()
        .map(|(key, cells)| FleetRow { key, cells })
        .collect()
}

/// Pod facts folded per workload.
#[derive(Default)]
struct PodFold {
    worst: Health,
    worst_status: String,
    restarts_1h: u32,
}

fn cells(cluster: &ClusterState, now: Timestamp) -> Vec<(ObjKey, Cell)> {
    // One pass over the pods, grouped by owner (borrowed keys: no allocation per pod), so the cost
    // is pods + workloads.
    let mut folds: HashMap<(&str, &str), PodFold> = HashMap::new();
    for pod in cluster.pods.values() {
        let Some(workload) = &pod.workload else {
            continue;
        };
        let fold = folds
            .entry((pod.key.namespace.as_str(), workload.as_str()))
            .or_default();
        fold.restarts_1h += cluster.restarts_last_hour(&pod.key, now);
        if pod.health > fold.worst || fold.worst_status.is_empty() {
            fold.worst = pod.health;
            fold.worst_status = pod_word(&pod.status, pod.health);
        }
    }
    cluster
        .workloads
        .values()
        .map(|w| {
            let fold = folds
                .remove(&(w.key.namespace.as_str(), w.key.name.as_str()))
                .unwrap_or_default();
            let mut health = fold.worst;
            let mut word = if fold.worst_status.is_empty() || health == Health::Ok {
                "ok".to_string()
            } else {
                fold.worst_status
            };
            if w.stalled.is_some() {
                health = Health::Critical.max(health);
                word = "stalled".into();
            } else if w.ready < w.desired && health <= Health::Progressing {
                health = health.max(Health::Warning);
                word = if w.rolling_out { "rollout" } else { "unready" }.into();
            } else if w.rolling_out && health == Health::Ok {
                health = Health::Progressing;
                word = "rollout".into();
            }
            if w.paused && health == Health::Ok {
                word = "paused".into();
            }
            let cell = Cell {
                ready: w.ready,
                desired: w.desired,
                health,
                word,
                restarts_1h: fold.restarts_1h,
                hpa: cluster.hpa_for(&w.key).map(|h| (h.min, h.max)),
                rolling_out: w.rolling_out,
                revision: w.revision,
            };
            (w.key.clone(), cell)
        })
        .collect()
}

/// A pod status as one short word for a fleet cell.
pub fn pod_word(status: &str, health: Health) -> String {
    match status {
        "CrashLoopBackOff" => "crashloop".into(),
        "OOMKilled" => "oomkilled".into(),
        "ImagePullBackOff" | "ErrImagePull" => "imagepull".into(),
        "Running" if health >= Health::Warning => "unready".into(),
        "Running" => "ok".into(),
        "Pending" | "ContainerCreating" | "PodInitializing" => "pending".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// Which cluster ids belong to which column of the fleet, in order.
pub fn columns(clusters: &[ClusterState]) -> Vec<ClusterId> {
    let mut ids: Vec<ClusterId> = (0..clusters.len()).collect();
    ids.sort_by_key(|&i| clusters[i].env);
    ids
}
