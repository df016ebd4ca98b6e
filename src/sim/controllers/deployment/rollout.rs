//! The two rollout strategies, after `rolling.go` and `recreate.go`: RollingUpdate moves replicas
//! from the old ReplicaSets to the new one within maxSurge/maxUnavailable, counting only available
//! pods; Recreate scales everything old to zero, waits for the pods to go, then scales up the new.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::ReplicaSet;

use super::super::{by_age, is_finished};
use super::new_rs::new_rs_replicas;
use super::status::deployment_complete;
use super::util::*;
use super::{Sets, Sync};

fn total(rss: &[Arc<ReplicaSet>]) -> i32 {
    rss.iter().map(|rs| rs_replicas(rs)).sum()
}

fn oldest_first(mut rss: Vec<Arc<ReplicaSet>>) -> Vec<Arc<ReplicaSet>> {
    rss.sort_by(|a, b| by_age(&a.metadata, &b.metadata));
    rss
}

impl Sync<'_> {
    /// `rolloutRolling`: one step per sync; each step waits for the effect of the previous one.
    pub(super) fn rollout_rolling(&mut self, mut sets: Sets) {
        if sets.new.is_none() {
            match self.create_new_rs(&sets.old) {
                Some(rs) => sets.new = Some(rs),
                None => return,
            }
        }
        if self.reconcile_new_rs(&mut sets) || self.reconcile_old_rss(&mut sets) {
            self.sync_rollout_status(&sets);
            return;
        }
        if deployment_complete(self.d, &self.status) {
            self.cleanup(&sets.old);
        }
        self.sync_rollout_status(&sets);
    }

    /// `reconcileNewReplicaSet`: grows the new ReplicaSet as far as maxSurge allows.
    fn reconcile_new_rs(&mut self, sets: &mut Sets) -> bool {
        let Some(new) = sets.new.clone() else {
            return false;
        };
        let replicas = replicas(self.d);
        let size = rs_replicas(&new);
        if size == replicas {
            return false;
        }
        let to = if size > replicas {
            replicas
        } else {
            new_rs_replicas(self.d, total(&sets.all()), size)
        };
        let updated = self.scale_and_record(&new, to);
        let scaled = !Arc::ptr_eq(&updated, &new);
        sets.replace(updated);
        scaled
    }

    /// `reconcileOldReplicaSets`: shrinks old ReplicaSets as far as maxUnavailable allows, first
    /// by dropping their unhealthy replicas, then their available ones.
    fn reconcile_old_rss(&mut self, sets: &mut Sets) -> bool {
        let active_old = sets.active_old();
        if total(&active_old) == 0 {
            return false;
        }
        let d = self.d;
        let min_available = replicas(d) - max_unavailable(d);
        let new_unavailable = sets
            .new
            .as_deref()
            .map_or(0, |n| rs_replicas(n) - rs_available(n));
        let max_scaled_down = total(&sets.all()) - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return false;
        }
        let cleaned = self.cleanup_unhealthy_replicas(sets, active_old, max_scaled_down);
        let scaled = self.scale_down_old_for_rolling_update(sets, min_available);
        cleaned + scaled > 0
    }

    /// `cleanupUnhealthyReplicas`: unavailable replicas of old ReplicaSets cost no availability.
    fn cleanup_unhealthy_replicas(
        &mut self,
        sets: &mut Sets,
        old: Vec<Arc<ReplicaSet>>,
        max: i32,
    ) -> i32 {
        let mut done = 0;
        for rs in oldest_first(old) {
            if done >= max {
                break;
            }
            let (size, available) = (rs_replicas(&rs), rs_available(&rs));
            if size == 0 || size == available {
                continue;
            }
            let down = (max - done).min(size - available);
            let updated = self.scale_and_record(&rs, size - down);
            sets.replace(updated);
            done += down;
        }
        done
    }

    /// `scaleDownOldReplicaSetsForRollingUpdate`: removes available old replicas beyond what
    /// maxUnavailable requires to stay up, oldest ReplicaSet first.
    fn scale_down_old_for_rolling_update(&mut self, sets: &mut Sets, min_available: i32) -> i32 {
        let active_old = sets.active_old();
        let in_play = active_old.iter().chain(sets.new.as_ref());
        let available: i32 = in_play.map(|rs| rs_available(rs)).sum();
        if available <= min_available {
            return 0;
        }
        let wanted = available - min_available;
        let mut done = 0;
        for rs in oldest_first(active_old) {
            if done >= wanted {
                break;
            }
            let size = rs_replicas(&rs);
            let down = size.min(wanted - done);
            let updated = self.scale_and_record(&rs, size - down);
            sets.replace(updated);
            done += down;
        }
        done
    }

    /// `rolloutRecreate`.
    pub(super) fn rollout_recreate(&mut self, mut sets: Sets) {
        let active_old = sets.active_old();
        let mut scaled = false;
        for rs in active_old {
            let updated = self.scale_and_record(&rs, 0);
            scaled |= !Arc::ptr_eq(&updated, &rs);
            sets.replace(updated);
        }
        if scaled || self.old_pods_running(&sets) {
            self.sync_rollout_status(&sets);
            return;
        }
        if sets.new.is_none() {
            match self.create_new_rs(&sets.old) {
                Some(rs) => sets.new = Some(rs),
                None => return,
            }
        }
        if let Some(new) = sets.new.clone() {
            let updated = self.scale_and_record(&new, replicas(self.d));
            sets.replace(updated);
        }
        if deployment_complete(self.d, &self.status) {
            self.cleanup(&sets.old);
        }
        self.sync_rollout_status(&sets);
    }

    /// `oldPodsRunning`: any old pod not yet finished, terminating ones included.
    fn old_pods_running(&self, sets: &Sets) -> bool {
        if sets
            .old
            .iter()
            .map(|rs| rs_status_replicas(rs))
            .sum::<i32>()
            > 0
        {
            return true;
        }
        sets.old.iter().any(|rs| {
            let uid = rs.metadata.uid.as_deref().unwrap_or("");
            self.cache
                .owned_by(self.store, uid)
                .iter()
                .any(|p| !is_finished(p))
        })
    }
}
