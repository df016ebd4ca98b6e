//! Scaling without a rollout, after `sync.go`: scaling events and paused deployments, with
//! proportional scaling mid-rollout, the scale writes and their events, and history cleanup.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use super::super::by_age;
use super::util::*;
use super::{Sets, Sync};

impl Sync<'_> {
    /// `isScalingEvent`: an active ReplicaSet was sized for a different replica count.
    pub(super) fn is_scaling_event(&self, sets: &Sets) -> bool {
        let replicas = replicas(self.d);
        sets.all()
            .iter()
            .filter(|rs| rs_replicas(rs) > 0)
            .filter_map(|rs| desired_replicas_annotation(rs))
            .any(|desired| desired != replicas)
    }

    /// `sync`: scaling and cleanup for paused deployments and scaling events, without rollout.
    pub(super) fn sync(&mut self, mut sets: Sets) {
        self.scale(&mut sets);
        if paused(self.d) {
            self.cleanup(&sets.old);
        }
        self.status = self.calculate_status(&sets);
    }

    /// `scale`: brings the ReplicaSets to the deployment's size; mid-rollout, proportionally.
    pub(super) fn scale(&mut self, sets: &mut Sets) {
        let d = self.d;
        let replicas = replicas(d);
        if let Some(target) = active_or_latest(sets) {
            if rs_replicas(&target) != replicas {
                let updated = self.scale_and_record(&target, replicas);
                sets.replace(updated);
            }
            return;
        }
        if sets.new.as_ref().is_some_and(|n| is_saturated(d, n)) {
            let active = sets.active_old();
            for rs in active {
                let updated = self.scale_and_record(&rs, 0);
                sets.replace(updated);
            }
            return;
        }
        if !is_rolling(d) {
            return;
        }
        let mut active: Vec<_> = sets
            .all()
            .into_iter()
            .filter(|rs| rs_replicas(rs) > 0)
            .collect();
        let current: i32 = active.iter().map(|rs| rs_replicas(rs)).sum();
        let allowed = if replicas > 0 {
            replicas + max_surge(d)
        } else {
            0
        };
        let to_add = allowed - current;
        let operation = match to_add.signum() {
            1 => {
                // Largest first; among equals, scale the newer up first.
                active.sort_by(|a, b| {
                    rs_replicas(b)
                        .cmp(&rs_replicas(a))
                        .then_with(|| by_age(&b.metadata, &a.metadata))
                });
                "up"
            }
            -1 => {
                // Largest first; among equals, scale the older down first.
                active.sort_by(|a, b| {
                    rs_replicas(b)
                        .cmp(&rs_replicas(a))
                        .then_with(|| by_age(&a.metadata, &b.metadata))
                });
                "down"
            }
            _ => "",
        };
        let mut added = 0;
        let mut sizes: Vec<i32> = Vec::with_capacity(active.len());
        for rs in &active {
            let size = rs_replicas(rs);
            if to_add == 0 {
                sizes.push(size);
                continue;
            }
            let p = self.proportion(rs, to_add, added);
            sizes.push(size + p);
            added += p;
        }
        if to_add != 0
            && let Some(first) = sizes.first_mut()
        {
            *first = (*first + to_add - added).max(0);
        }
        for (rs, size) in active.iter().zip(sizes) {
            if let Some(updated) = self.scale_rs(rs, size, operation) {
                sets.replace(updated);
            }
        }
    }

    /// `GetProportion`: this ReplicaSet's share of the replicas being added or removed.
    pub(super) fn proportion(&self, rs: &ReplicaSet, to_add: i32, added: i32) -> i32 {
        let size = rs_replicas(rs);
        if size == 0 || to_add == 0 || to_add == added {
            return 0;
        }
        let d = self.d;
        let fraction = if replicas(d) == 0 {
            -size
        } else {
            let deployment_replicas = replicas(d) + max_surge(d);
            let annotated =
                max_replicas_annotation(rs).unwrap_or(self.status.replicas.unwrap_or(0));
            if annotated == 0 {
                0
            } else {
                let scaled =
                    f64::from(size) * f64::from(deployment_replicas) / f64::from(annotated);
                scaled.round() as i32 - size
            }
        };
        let allowed = to_add - added;
        if to_add > 0 {
            fraction.min(allowed)
        } else {
            fraction.max(allowed)
        }
    }

    /// `scaleReplicaSetAndRecordEvent`.
    pub(super) fn scale_and_record(&mut self, rs: &Arc<ReplicaSet>, to: i32) -> Arc<ReplicaSet> {
        let from = rs_replicas(rs);
        if from == to {
            return Arc::clone(rs);
        }
        let operation = if from < to { "up" } else { "down" };
        self.scale_rs(rs, to, operation)
            .unwrap_or_else(|| Arc::clone(rs))
    }

    /// `scaleReplicaSet`: writes the size and the replica annotations; `None` if nothing changed.
    pub(super) fn scale_rs(
        &mut self,
        rs: &Arc<ReplicaSet>,
        to: i32,
        operation: &str,
    ) -> Option<Arc<ReplicaSet>> {
        let d = self.d;
        let (desired, max) = (replicas(d), replicas(d) + max_surge(d));
        let from = rs_replicas(rs);
        let resize = from != to;
        if !resize && !replicas_annotations_need_update(rs, desired, max) {
            return None;
        }
        let name = rs.metadata.name.clone().unwrap_or_default();
        let stored = self
            .store
            .mutate::<ReplicaSet>(self.namespace(), &name, |r| {
                r.spec.get_or_insert_with(Default::default).replicas = Some(to);
                set_replicas_annotations(
                    r.metadata.annotations.get_or_insert_with(Default::default),
                    desired,
                    max,
                );
            })
            .ok()?;
        if resize {
            self.event(
                "Normal",
                "ScalingReplicaSet",
                format!("Scaled {operation} replica set {name} from {from} to {to}"),
            );
        }
        Some(stored.obj())
    }

    /// `cleanupDeployment`: deletes the oldest scaled-down ReplicaSets beyond revisionHistoryLimit.
    pub(super) fn cleanup(&mut self, old: &[Arc<ReplicaSet>]) {
        let Some(limit) = revision_history_limit(self.d) else {
            return;
        };
        let mut alive: Vec<_> = old
            .iter()
            .filter(|rs| rs.metadata.deletion_timestamp.is_none())
            .collect();
        let excess = alive.len() as i64 - i64::from(limit);
        if excess <= 0 {
            return;
        }
        alive.sort_by(|a, b| {
            revision(a)
                .cmp(&revision(b))
                .then_with(|| by_age(&a.metadata, &b.metadata))
        });
        for rs in alive.into_iter().take(excess as usize) {
            let observed = rs.status.as_ref().and_then(|s| s.observed_generation);
            if rs_status_replicas(rs) != 0
                || rs_replicas(rs) != 0
                || rs.metadata.generation > observed
            {
                continue;
            }
            let name = rs.metadata.name.clone().unwrap_or_default();
            let _ = self.store.remove::<ReplicaSet>(self.namespace(), &name);
        }
    }
}

/// `FindActiveOrLatest`: the only ReplicaSet with replicas, else the newest if none has any.
fn active_or_latest(sets: &Sets) -> Option<Arc<ReplicaSet>> {
    let mut old = sets.old.clone();
    old.sort_by(|a, b| by_age(&b.metadata, &a.metadata));
    let active: Vec<_> = old
        .iter()
        .chain(sets.new.as_ref())
        .filter(|rs| rs_replicas(rs) > 0)
        .collect();
    match active.len() {
        0 => sets.new.clone().or_else(|| old.first().cloned()),
        1 => Some(Arc::clone(active[0])),
        _ => None,
    }
}

/// `IsSaturated`: the new ReplicaSet runs all the deployment's replicas, all available.
fn is_saturated(d: &Deployment, rs: &ReplicaSet) -> bool {
    let replicas = replicas(d);
    desired_replicas_annotation(rs) == Some(replicas)
        && rs_replicas(rs) == replicas
        && rs_available(rs) == replicas
}
