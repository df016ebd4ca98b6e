//! Deployment status and its conditions, after `sync.go`'s `calculateStatus` and `progress.go`:
//! the counts `kubectl rollout status` waits on, `Available`, and `Progressing` with its deadline.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};

use super::super::{nonzero, time};
use super::util::*;
use super::{Sets, Sync};

pub(super) const PROGRESSING: &str = "Progressing";
const AVAILABLE: &str = "Available";
const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
const TIMED_OUT: &str = "ProgressDeadlineExceeded";
const PAUSED: &str = "DeploymentPaused";

/// A condition about to be set; `at` stamps both times, as `NewDeploymentCondition` does.
pub(super) struct Cond {
    type_: &'static str,
    status: &'static str,
    reason: &'static str,
    message: String,
}

impl Cond {
    pub(super) fn new(
        type_: &'static str,
        status: &'static str,
        reason: &'static str,
        message: String,
    ) -> Self {
        Self {
            type_,
            status,
            reason,
            message,
        }
    }

    pub(super) fn at(self, now: Timestamp) -> DeploymentCondition {
        DeploymentCondition {
            type_: self.type_.into(),
            status: self.status.into(),
            reason: Some(self.reason.into()),
            message: Some(self.message),
            last_update_time: time(now),
            last_transition_time: time(now),
        }
    }
}

pub(super) fn condition<'s>(
    status: &'s DeploymentStatus,
    type_: &str,
) -> Option<&'s DeploymentCondition> {
    status
        .conditions
        .as_deref()?
        .iter()
        .find(|c| c.type_ == type_)
}

fn remove_condition(status: &mut DeploymentStatus, type_: &str) {
    if let Some(list) = status.conditions.as_mut() {
        list.retain(|c| c.type_ != type_);
    }
}

/// `SetDeploymentCondition`: nothing changes when status and reason are the same; a changed reason
/// with the same status keeps the transition time; the condition moves to the end of the list.
pub(super) fn set_condition(status: &mut DeploymentStatus, mut cond: DeploymentCondition) {
    if let Some(current) = condition(status, &cond.type_) {
        if current.status == cond.status && current.reason == cond.reason {
            return;
        }
        if current.status == cond.status {
            cond.last_transition_time
                .clone_from(&current.last_transition_time);
        }
    }
    remove_condition(status, &cond.type_);
    status.conditions.get_or_insert_with(Vec::new).push(cond);
}

/// Whether the Progressing condition still moves with time: a rollout under way, not finished,
/// failed or paused.
pub(super) fn in_progress(status: &DeploymentStatus) -> bool {
    condition(status, PROGRESSING).is_some_and(|c| {
        !matches!(
            c.reason.as_deref(),
            Some(NEW_RS_AVAILABLE | TIMED_OUT | PAUSED)
        )
    })
}

/// `DeploymentComplete`: every replica updated and available, and the spec observed.
pub(super) fn deployment_complete(d: &Deployment, status: &DeploymentStatus) -> bool {
    let replicas = replicas(d);
    status.updated_replicas.unwrap_or(0) == replicas
        && status.replicas.unwrap_or(0) == replicas
        && status.available_replicas.unwrap_or(0) == replicas
        && status.observed_generation >= d.metadata.generation
}

/// `DeploymentProgressing`: more updated, ready or available replicas, or fewer old ones.
fn deployment_progressing(old: &DeploymentStatus, new: &DeploymentStatus) -> bool {
    let n = |v: Option<i32>| v.unwrap_or(0);
    let old_old = n(old.replicas) - n(old.updated_replicas);
    let new_old = n(new.replicas) - n(new.updated_replicas);
    n(new.updated_replicas) > n(old.updated_replicas)
        || new_old < old_old
        || n(new.ready_replicas) > n(old.ready_replicas)
        || n(new.available_replicas) > n(old.available_replicas)
}

/// `DeploymentTimedOut`: no progress recorded for progressDeadlineSeconds.
fn deployment_timed_out(d: &Deployment, status: &DeploymentStatus, now: Timestamp) -> bool {
    let Some(deadline) = progress_deadline(d) else {
        return false;
    };
    let Some(cond) = condition(status, PROGRESSING) else {
        return false;
    };
    match cond.reason.as_deref() {
        Some(NEW_RS_AVAILABLE) => false,
        Some(TIMED_OUT) => true,
        _ => cond
            .last_update_time
            .as_ref()
            .is_some_and(|from| from.0 + SignedDuration::from_secs(deadline) < now),
    }
}

fn rs_name(rs: Option<&Arc<ReplicaSet>>) -> Option<&str> {
    rs.and_then(|r| r.metadata.name.as_deref())
}

impl Sync<'_> {
    /// `calculateStatus`: counts from the ReplicaSets' own status, and the `Available` condition.
    pub(super) fn calculate_status(&self, sets: &Sets) -> DeploymentStatus {
        let d = self.d;
        let all = sets.all();
        let sum = |f: fn(&ReplicaSet) -> i32| all.iter().map(|rs| f(rs)).sum::<i32>();
        let available = sum(rs_available);
        let unavailable = (sum(rs_replicas) - available).max(0);
        let mut status = DeploymentStatus {
            observed_generation: d.metadata.generation,
            replicas: nonzero(sum(rs_status_replicas)),
            updated_replicas: nonzero(sets.new.as_deref().map_or(0, rs_status_replicas)),
            ready_replicas: nonzero(sum(rs_ready)),
            available_replicas: nonzero(available),
            unavailable_replicas: nonzero(unavailable),
            collision_count: self.status.collision_count,
            conditions: self.status.conditions.clone(),
            terminating_replicas: None,
        };
        let cond = if available >= replicas(d) - max_unavailable(d) {
            Cond::new(
                AVAILABLE,
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.".into(),
            )
        } else {
            Cond::new(
                AVAILABLE,
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.".into(),
            )
        };
        set_condition(&mut status, cond.at(self.now));
        status
    }

    /// `checkPausedConditions`: Progressing turns Unknown while paused, so the time spent paused
    /// never counts against the progress deadline.
    pub(super) fn check_paused_conditions(&mut self) {
        if progress_deadline(self.d).is_none() {
            return;
        }
        let reason = condition(&self.status, PROGRESSING).and_then(|c| c.reason.as_deref());
        if reason == Some(TIMED_OUT) {
            return;
        }
        let paused_cond = reason == Some(PAUSED);
        let cond = match (paused(self.d), paused_cond) {
            (true, false) => Cond::new(
                PROGRESSING,
                "Unknown",
                PAUSED,
                "Deployment is paused".into(),
            ),
            (false, true) => Cond::new(
                PROGRESSING,
                "Unknown",
                "DeploymentResumed",
                "Deployment is resumed".into(),
            ),
            _ => return,
        };
        set_condition(&mut self.status, cond.at(self.now));
    }

    /// `syncRolloutStatus`: the status plus the Progressing condition, which moves on progress,
    /// turns NewReplicaSetAvailable when complete and ProgressDeadlineExceeded when stuck.
    pub(super) fn sync_rollout_status(&mut self, sets: &Sets) {
        let d = self.d;
        let mut status = self.calculate_status(sets);
        let deadline = progress_deadline(d);
        if deadline.is_none() {
            remove_condition(&mut status, PROGRESSING);
        }
        let current = condition(&self.status, PROGRESSING);
        let complete_already = status.replicas == status.updated_replicas
            && current.is_some_and(|c| c.reason.as_deref() == Some(NEW_RS_AVAILABLE));
        if deadline.is_some() && !complete_already {
            let new_name = rs_name(sets.new.as_ref());
            let subject = |what: &str| match new_name {
                Some(rs) => format!("ReplicaSet {rs:?} {what}"),
                None => format!(
                    "Deployment {:?} {what}",
                    d.metadata.name.as_deref().unwrap_or("")
                ),
            };
            if deployment_complete(d, &status) {
                let cond = Cond::new(
                    PROGRESSING,
                    "True",
                    NEW_RS_AVAILABLE,
                    subject("has successfully progressed."),
                );
                set_condition(&mut status, cond.at(self.now));
            } else if deployment_progressing(&self.status, &status) {
                // Progress refreshes lastUpdateTime even with an unchanged reason, which
                // set_condition would not do; a True condition keeps its transition time.
                let mut cond = Cond::new(
                    PROGRESSING,
                    "True",
                    "ReplicaSetUpdated",
                    subject("is progressing."),
                )
                .at(self.now);
                if let Some(current) = current {
                    if current.status == "True" {
                        cond.last_transition_time
                            .clone_from(&current.last_transition_time);
                    }
                    remove_condition(&mut status, PROGRESSING);
                }
                set_condition(&mut status, cond);
            } else if deployment_timed_out(d, &status, self.now) {
                let cond = Cond::new(
                    PROGRESSING,
                    "False",
                    TIMED_OUT,
                    subject("has timed out progressing."),
                );
                set_condition(&mut status, cond.at(self.now));
            }
        }
        self.status = status;
    }
}
