//! The cluster's controllers: deployments, replica sets, the scheduler, HPAs, resource quotas and
//! garbage collection, re-expressing what kube-controller-manager and kube-scheduler do, over the
//! simulator's store.
//!
//! Like the real ones they work from a cache fed by changes (`cache.rs`) and only look at objects a
//! change or a timer points them to, so a pass over a settled cluster of 10,000 pods costs next to
//! nothing, and it writes nothing, or the cluster loop would never settle.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};

use super::store::Store;

mod cache;
mod deployment;
mod gc;
mod hash;
mod hpa;
mod quota;
mod replicaset;
mod scheduler;
#[cfg(test)]
mod testing;

use cache::Cache;

/// Simulated resource usage that the HPA reads (the kubelet/app model supplies it).
pub trait PodMetrics {
    /// Percent of the pod's CPU request in use, or None when the pod reports no metrics.
    fn cpu_utilization(&self, pod: &Pod, now: Timestamp) -> Option<f64>;
}

/// No metrics for any pod: HPAs report `FailedGetResourceMetric`, as with no metrics-server.
pub struct NoMetrics;

impl PodMetrics for NoMetrics {
    fn cpu_utilization(&self, _pod: &Pod, _now: Timestamp) -> Option<f64> {
        None
    }
}

/// What real controllers keep in process memory rather than in objects (informer caches, work
/// queues, HPA recommendations); it lives in the store so `reconcile` depends on nothing else.
#[derive(Debug, Default)]
pub struct Memory {
    cache: Cache,
    hpa: HashMap<String, hpa::HpaMemory>,
    quota: quota::QuotaMemory,
}

/// One pass of every controller. Each one sees the writes of those before it.
pub fn reconcile(store: &mut Store, now: Timestamp, metrics: &dyn PodMetrics) {
    let mut memory = std::mem::take(&mut store.controllers);
    let cache = &mut memory.cache;
    cache.refresh(store, now);
    gc::collect(store, now, cache);
    hpa::reconcile(store, now, metrics, &mut memory.hpa);
    cache.refresh(store, now);
    deployment::reconcile(store, now, cache);
    cache.refresh(store, now);
    replicaset::reconcile(store, now, cache);
    cache.refresh(store, now);
    scheduler::reconcile(store, now, cache);
    quota::reconcile(store, &mut memory.quota);
    store.controllers = memory;
}

/// Oldest first, then by name, as `controller.ReplicaSetsByCreationTimestamp` sorts.
pub(crate) fn by_age(a: &ObjectMeta, b: &ObjectMeta) -> std::cmp::Ordering {
    let ts = |m: &ObjectMeta| m.creation_timestamp.as_ref().map(|t| t.0);
    ts(a).cmp(&ts(b)).then_with(|| a.name.cmp(&b.name))
}

/// The owner reference with `controller: true`, if any.
pub(crate) fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_deref()?
        .iter()
        .find(|r| r.controller == Some(true))
}

/// A controller reference as `metav1.NewControllerRef` builds it.
pub(crate) fn controller_ref(api_version: &str, kind: &str, owner: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: owner.name.clone().unwrap_or_default(),
        uid: owner.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn is_finished(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

/// `controller.IsPodActive`: neither finished nor being deleted.
pub(crate) fn is_active(pod: &Pod) -> bool {
    !is_finished(pod) && pod.metadata.deletion_timestamp.is_none()
}

/// The time the pod's Ready condition turned True, if it is ready.
pub(crate) fn ready_since(pod: &Pod) -> Option<Option<Timestamp>> {
    let cond = pod
        .status
        .as_ref()?
        .conditions
        .as_deref()?
        .iter()
        .find(|c| c.type_ == "Ready")?;
    (cond.status == "True").then(|| cond.last_transition_time.as_ref().map(|t| t.0))
}

pub(crate) fn is_ready(pod: &Pod) -> bool {
    ready_since(pod).is_some()
}

/// `podutil.IsPodAvailable`: ready, and for at least `min_ready_seconds`.
pub(crate) fn is_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    match ready_since(pod) {
        None => false,
        Some(_) if min_ready_seconds <= 0 => true,
        Some(None) => false,
        Some(Some(since)) => since + SignedDuration::from_secs(min_ready_seconds.into()) < now,
    }
}

/// Deletes a pod as a controller's DELETE request would: at once when no kubelet runs it (unbound or
/// finished, where the API server uses a zero grace period), else gracefully, and the kubelet
/// removes it once its containers have stopped.
pub(crate) fn delete_pod(store: &mut Store, now: Timestamp, pod: &Pod) -> bool {
    let meta = &pod.metadata;
    if meta.deletion_timestamp.is_some() {
        return false;
    }
    let (ns, name) = (
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or(""),
    );
    let spec = pod.spec.as_ref();
    let bound = spec
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty());
    if !bound || is_finished(pod) {
        return store.remove::<Pod>(ns, name).is_ok();
    }
    let grace = spec
        .and_then(|s| s.termination_grace_period_seconds)
        .unwrap_or(30)
        .max(0);
    let deadline = now
        .saturating_add(SignedDuration::from_secs(grace))
        .unwrap_or(now);
    store.mark_deleted::<Pod>(ns, name, deadline, grace).is_ok()
}

pub(crate) fn time(t: Timestamp) -> Option<Time> {
    Some(Time(t))
}

/// Zero counts are left out, as Go's `omitempty` does for the status integers.
pub(crate) fn nonzero(n: i32) -> Option<i32> {
    (n != 0).then_some(n)
}

/// A resource quantity as a number (cores, bytes): `100m`, `0.5`, `2`, `128Mi`, `1G`, `1e3`.
pub(crate) fn quantity(s: &str) -> Option<f64> {
    super::quantity::value(s.trim())
}

#[cfg(test)]
mod tests {
    use super::quantity;

    #[test]
    fn quantities_parse_like_the_api() {
        assert_eq!(quantity("100m"), Some(0.1));
        assert_eq!(quantity("2"), Some(2.0));
        assert_eq!(quantity("0.5"), Some(0.5));
        assert_eq!(quantity("128Mi"), Some(134_217_728.0));
        assert_eq!(quantity("1e3"), Some(1000.0));
        assert_eq!(quantity("1E"), Some(1e18));
        assert_eq!(quantity("abc"), None);
    }
}
