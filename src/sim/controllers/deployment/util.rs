//! The deployment controller's arithmetic and bookkeeping, after `deployment/util`: API defaults for
//! unset fields, maxSurge/maxUnavailable fenceposts, revisions and the annotations a ReplicaSet
//! carries.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, ReplicaSet};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub(super) const REVISION: &str = "deployment.kubernetes.io/revision";
pub(super) const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub(super) const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub(super) const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

/// Deployment annotations that never reach its ReplicaSets.
const NOT_COPIED: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];

/// The real controller caps `revision-history` at about a hundred entries.
const MAX_REVISION_HISTORY_CHARS: usize = 2000;

// Every `None` below reads as the value the API server would have defaulted it to.

fn spec(d: &Deployment) -> Option<&DeploymentSpec> {
    d.spec.as_ref()
}

pub(super) fn replicas(d: &Deployment) -> i32 {
    spec(d).and_then(|s| s.replicas).unwrap_or(1)
}

pub(super) fn paused(d: &Deployment) -> bool {
    spec(d).and_then(|s| s.paused).unwrap_or(false)
}

pub(super) fn min_ready_seconds(d: &Deployment) -> i32 {
    spec(d).and_then(|s| s.min_ready_seconds).unwrap_or(0)
}

pub(super) fn is_rolling(d: &Deployment) -> bool {
    spec(d)
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        != Some("Recreate")
}

/// `HasProgressDeadline`: the deadline in seconds, unless disabled with MaxInt32.
pub(super) fn progress_deadline(d: &Deployment) -> Option<i64> {
    let secs = spec(d)
        .and_then(|s| s.progress_deadline_seconds)
        .unwrap_or(600);
    (secs != i32::MAX).then_some(i64::from(secs))
}

/// `HasRevisionHistoryLimit`.
pub(super) fn revision_history_limit(d: &Deployment) -> Option<i32> {
    let limit = spec(d).and_then(|s| s.revision_history_limit).unwrap_or(10);
    (limit != i32::MAX).then_some(limit)
}

/// `intstrutil.GetScaledValueFromIntOrPercent`; a malformed percentage counts as zero.
fn scaled(value: &IntOrString, total: i32, round_up: bool) -> i32 {
    match value {
        IntOrString::Int(n) => *n,
        IntOrString::String(s) => {
            let Some(pct) = s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) else {
                return 0;
            };
            let exact = (pct * i64::from(total)) as f64 / 100.0;
            (if round_up {
                exact.ceil()
            } else {
                exact.floor()
            }) as i32
        }
    }
}

/// `ResolveFenceposts`: surge rounds up, unavailability down, and both zero means one may be down.
fn fenceposts(d: &Deployment) -> (i32, i32) {
    let pct = IntOrString::String("25%".into());
    let rolling = spec(d)
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    let surge = rolling.and_then(|r| r.max_surge.as_ref()).unwrap_or(&pct);
    let unavailable = rolling
        .and_then(|r| r.max_unavailable.as_ref())
        .unwrap_or(&pct);
    let total = replicas(d);
    let surge = scaled(surge, total, true);
    let unavailable = scaled(unavailable, total, false);
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

pub(super) fn max_surge(d: &Deployment) -> i32 {
    if is_rolling(d) { fenceposts(d).0 } else { 0 }
}

pub(super) fn max_unavailable(d: &Deployment) -> i32 {
    let total = replicas(d);
    if !is_rolling(d) || total == 0 {
        return 0;
    }
    fenceposts(d).1.min(total)
}

pub(super) fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub(super) fn rs_status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map_or(0, |s| s.replicas)
}

pub(super) fn rs_available(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

pub(super) fn rs_ready(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0)
}

fn annotation<'a>(rs: &'a ReplicaSet, key: &str) -> Option<&'a str> {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

/// The revision number; missing or malformed counts as 0, as the real controller logs and goes on.
pub(super) fn revision(rs: &ReplicaSet) -> i64 {
    annotation(rs, REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

pub(super) fn max_revision(rss: &[Arc<ReplicaSet>]) -> i64 {
    rss.iter().map(|rs| revision(rs)).max().unwrap_or(0)
}

fn int_annotation(rs: &ReplicaSet, key: &str) -> Option<i32> {
    annotation(rs, key).and_then(|v| v.parse().ok())
}

pub(super) fn desired_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    int_annotation(rs, DESIRED_REPLICAS)
}

pub(super) fn max_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    int_annotation(rs, MAX_REPLICAS)
}

/// `ReplicasAnnotationsNeedUpdate`.
pub(super) fn replicas_annotations_need_update(rs: &ReplicaSet, desired: i32, max: i32) -> bool {
    annotation(rs, DESIRED_REPLICAS) != Some(desired.to_string().as_str())
        || annotation(rs, MAX_REPLICAS) != Some(max.to_string().as_str())
}

/// `SetReplicasAnnotations`.
pub(super) fn set_replicas_annotations(
    ann: &mut BTreeMap<String, String>,
    desired: i32,
    max: i32,
) -> bool {
    let mut changed = false;
    for (key, value) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let value = value.to_string();
        if ann.get(key) != Some(&value) {
            ann.insert(key.to_string(), value);
            changed = true;
        }
    }
    changed
}

/// `SetNewReplicaSetAnnotations`: copies the deployment's annotations (that is how
/// `kubernetes.io/change-cause` reaches `rollout history`), raises the revision, and when an old
/// ReplicaSet comes back (a rollback) keeps its earlier numbers in `revision-history`.
pub(super) fn set_new_rs_annotations(
    d: &Deployment,
    ann: &mut BTreeMap<String, String>,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = false;
    for (key, value) in d.metadata.annotations.iter().flatten() {
        if NOT_COPIED.contains(&key.as_str()) || ann.get(key) == Some(value) {
            continue;
        }
        ann.insert(key.clone(), value.clone());
        changed = true;
    }
    let old_revision = ann.get(REVISION).cloned();
    let old_number = match old_revision.as_deref().map(str::parse::<i64>) {
        None => 0,
        Some(Ok(n)) => n,
        // The real controller gives up on a ReplicaSet whose revision it cannot read.
        Some(Err(_)) => return changed,
    };
    if old_number < new_revision {
        ann.insert(REVISION.to_string(), new_revision.to_string());
        changed = true;
        if let Some(old) = old_revision {
            let history = ann.get(REVISION_HISTORY).cloned().unwrap_or_default();
            ann.insert(REVISION_HISTORY.to_string(), append_history(&history, &old));
        }
    }
    if !exists && set_replicas_annotations(ann, replicas(d), replicas(d) + max_surge(d)) {
        changed = true;
    }
    changed
}

/// Appends `old` to the comma list, dropping the oldest entries beyond the length cap.
fn append_history(history: &str, old: &str) -> String {
    if history.is_empty() {
        return old.to_string();
    }
    let mut entries: Vec<&str> = history.split(',').collect();
    let mut total = history.len() + old.len() + 1;
    let mut start = 0;
    while total > MAX_REVISION_HISTORY_CHARS && start < entries.len() {
        total -= entries[start].len() + 1;
        start += 1;
    }
    if total > MAX_REVISION_HISTORY_CHARS {
        return history.to_string();
    }
    entries.drain(..start);
    entries.push(old);
    entries.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(
        replicas: i32,
        surge: serde_json::Value,
        unavailable: serde_json::Value,
    ) -> Deployment {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {},
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}},
                     "template": {}}
        }))
        .unwrap()
    }

    #[test]
    fn fenceposts_round_like_the_real_controller() {
        let d = deploy(10, "25%".into(), "25%".into());
        assert_eq!((max_surge(&d), max_unavailable(&d)), (3, 2));
        let d = deploy(3, "25%".into(), "25%".into());
        assert_eq!((max_surge(&d), max_unavailable(&d)), (1, 0));
        let d = deploy(3, 0.into(), 0.into());
        assert_eq!((max_surge(&d), max_unavailable(&d)), (0, 1));
        let d = deploy(2, 1.into(), 5.into());
        assert_eq!(max_unavailable(&d), 2);
        let d = deploy(0, "25%".into(), "25%".into());
        assert_eq!(max_unavailable(&d), 0);
        let defaults: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web"}, "spec": {"selector": {}, "template": {}}
        }))
        .unwrap();
        assert_eq!(
            (
                replicas(&defaults),
                max_surge(&defaults),
                max_unavailable(&defaults)
            ),
            (1, 1, 0)
        );
        assert_eq!(progress_deadline(&defaults), Some(600));
        assert_eq!(revision_history_limit(&defaults), Some(10));
    }

    #[test]
    fn revision_history_grows_and_is_capped() {
        assert_eq!(append_history("", "1"), "1");
        assert_eq!(append_history("1,3", "4"), "1,3,4");
        let long = (0..600)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let capped = append_history(&long, "999");
        assert!(capped.len() <= MAX_REVISION_HISTORY_CHARS && capped.ends_with(",999"));
    }
}
