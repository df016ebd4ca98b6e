//! Pure conversions from Kubernetes objects (k8s-openapi types, as the API returns them) to the
//! compact rows the console keeps. No I/O and no clock of their own; every field may be missing.

mod container;
mod pod;
mod scrape;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub use container::probe_spec;
pub use pod::pod_row;

use super::rows::{EventRow, HpaRow, ObjKey, ReplicaSetRow, WorkloadRow};

/// The annotation the deployment controller keeps the revision in, on Deployments and ReplicaSets.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// The annotation `kubectl rollout history` reads the CHANGE-CAUSE column from.
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// A Deployment as the workloads table needs it.
///
/// `strategy` reads `RollingUpdate <maxSurge>/<maxUnavailable>` (the API's defaults, 25%, filled in
/// when absent) or `Recreate`.
pub fn workload_row(d: &Deployment) -> WorkloadRow {
    let spec = d.spec.as_ref();
    let status = d.status.as_ref();
    let desired = count(spec.and_then(|s| s.replicas).unwrap_or(1));
    let updated = count(status.and_then(|s| s.updated_replicas).unwrap_or(0));
    let total = count(status.and_then(|s| s.replicas).unwrap_or(0));
    let paused = spec.and_then(|s| s.paused).unwrap_or(false);
    // The controller has not yet looked at the latest spec: whatever the status says is old.
    let unobserved = match (
        d.metadata.generation,
        status.and_then(|s| s.observed_generation),
    ) {
        (Some(generation), Some(observed)) => generation > observed,
        (Some(_), None) => true,
        (None, _) => false,
    };
    // A paused rollout is not under way, whatever its counts say; `kubectl rollout status`
    // agrees. Old pods still around (total > updated) are part of the rollout too.
    let rolling_out = !paused && (unobserved || updated < desired || total > updated);
    let stalled = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Progressing"))
        .filter(|c| c.status == "False")
        .map(|c| {
            c.reason
                .clone()
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "ProgressDeadlineExceeded".to_string())
        });
    WorkloadRow {
        key: key(&d.metadata),
        desired,
        ready: count(status.and_then(|s| s.ready_replicas).unwrap_or(0)),
        updated,
        available: count(status.and_then(|s| s.available_replicas).unwrap_or(0)),
        revision: revision(&d.metadata),
        images: spec.map(|s| images(&s.template)).unwrap_or_default(),
        strategy: spec
            .map(|s| strategy(s.strategy.as_ref()))
            .unwrap_or_else(|| strategy(None)),
        selector: spec
            .and_then(|s| s.selector.match_labels.clone())
            .unwrap_or_default(),
        paused,
        rolling_out,
        stalled,
        rollout: super::ops::rollout_status(d),
        created: time(&d.metadata.creation_timestamp),
    }
}

/// `RollingUpdate 25%/25%` (max surge / max unavailable) or `Recreate`.
pub(crate) fn strategy(s: Option<&k8s_openapi::api::apps::v1::DeploymentStrategy>) -> String {
    if s.and_then(|s| s.type_.as_deref()) == Some("Recreate") {
        return "Recreate".to_string();
    }
    let rolling = s.and_then(|s| s.rolling_update.as_ref());
    let surge = int_or_string(rolling.and_then(|r| r.max_surge.as_ref()), "25%");
    let unavailable = int_or_string(rolling.and_then(|r| r.max_unavailable.as_ref()), "25%");
    format!("RollingUpdate {surge}/{unavailable}")
}

/// A ReplicaSet: one revision of a Deployment.
pub fn replicaset_row(rs: &ReplicaSet) -> ReplicaSetRow {
    let spec = rs.spec.as_ref();
    ReplicaSetRow {
        key: key(&rs.metadata),
        workload: controller(&rs.metadata)
            .filter(|(kind, _)| *kind == "Deployment")
            .map(|(_, name)| name.to_string()),
        revision: revision(&rs.metadata),
        desired: count(spec.and_then(|s| s.replicas).unwrap_or(1)),
        ready: count(
            rs.status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0),
        ),
        images: spec
            .and_then(|s| s.template.as_ref())
            .map(images)
            .unwrap_or_default(),
        change_cause: annotation(&rs.metadata, CHANGE_CAUSE).map(str::to_string),
        created: time(&rs.metadata.creation_timestamp),
    }
}

/// An autoscaling/v2 HorizontalPodAutoscaler.
pub fn hpa_row(hpa: &HorizontalPodAutoscaler) -> HpaRow {
    let spec = hpa.spec.as_ref();
    let status = hpa.status.as_ref();
    HpaRow {
        key: key(&hpa.metadata),
        target_kind: spec
            .map(|s| s.scale_target_ref.kind.clone())
            .unwrap_or_default(),
        target_name: spec
            .map(|s| s.scale_target_ref.name.clone())
            .unwrap_or_default(),
        // The API defaults minReplicas to 1.
        min: count(spec.and_then(|s| s.min_replicas).unwrap_or(1)),
        max: count(spec.map(|s| s.max_replicas).unwrap_or(0)),
        current: count(status.and_then(|s| s.current_replicas).unwrap_or(0)),
        desired: count(status.map(|s| s.desired_replicas).unwrap_or(0)),
    }
}

/// A core/v1 Event. Old-style events carry `count`, `firstTimestamp` and `lastTimestamp`; those
/// written through events.k8s.io carry `eventTime` and a `series` instead: both are read.
pub fn event_row(e: &Event) -> EventRow {
    let created = time(&e.metadata.creation_timestamp);
    let event_time = e.event_time.as_ref().map(|t| t.0);
    let first = time(&e.first_timestamp).or(event_time).or(created);
    let series = e.series.as_ref();
    let last = time(&e.last_timestamp)
        .or_else(|| {
            series
                .and_then(|s| s.last_observed_time.as_ref())
                .map(|t| t.0)
        })
        .or(event_time)
        .or(first);
    let count = e
        .count
        .or_else(|| series.and_then(|s| s.count))
        .map_or(1, |c| count(c).max(1));
    let source = e
        .source
        .as_ref()
        .and_then(|s| s.component.clone())
        .filter(|c| !c.is_empty())
        .or_else(|| e.reporting_component.clone())
        .unwrap_or_default();
    EventRow {
        key: key(&e.metadata),
        warning: e.type_.as_deref() == Some("Warning"),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default(),
        object_kind: e.involved_object.kind.clone().unwrap_or_default(),
        object_name: e.involved_object.name.clone().unwrap_or_default(),
        count,
        first,
        last,
        source,
    }
}

pub(crate) fn key(meta: &ObjectMeta) -> ObjKey {
    ObjKey::new(
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

pub(crate) fn time(t: &Option<Time>) -> Option<Timestamp> {
    t.as_ref().map(|t| t.0)
}

/// API counts are `int32`; a negative one is nonsense and reads as 0.
pub(crate) fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

fn annotation<'a>(meta: &'a ObjectMeta, name: &str) -> Option<&'a str> {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(name))
        .map(String::as_str)
}

fn revision(meta: &ObjectMeta) -> Option<u64> {
    annotation(meta, REVISION).and_then(|r| r.trim().parse().ok())
}

/// The controlling owner's kind and name (the one marked `controller: true`, else the first).
pub(crate) fn controller(meta: &ObjectMeta) -> Option<(&str, &str)> {
    let owners = meta.owner_references.as_deref().unwrap_or_default();
    owners
        .iter()
        .find(|o| o.controller == Some(true))
        .or_else(|| owners.first())
        .map(|o| (o.kind.as_str(), o.name.as_str()))
}

pub(crate) fn images(template: &PodTemplateSpec) -> Vec<String> {
    template
        .spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .map(|c| c.image.clone().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn int_or_string(v: Option<&IntOrString>, default: &str) -> String {
    match v {
        Some(IntOrString::Int(n)) => n.to_string(),
        Some(IntOrString::String(s)) => s.clone(),
        None => default.to_string(),
    }
}

/// Labels of an object, for rows that keep them.
pub(crate) fn labels(meta: &ObjectMeta) -> BTreeMap<String, String> {
    meta.labels.clone().unwrap_or_default()
}
