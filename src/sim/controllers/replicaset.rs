//! The ReplicaSet controller, after `pkg/controller/replicaset`: keeps `spec.replicas` active pods,
//! creating them from the template and deleting the ones the real ranking prefers, and reports
//! their readiness and availability in the status.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::{Pod, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::super::defaults;
use super::super::events::{self, Source};
use super::super::kinds::Res;
use super::super::selector::LabelSelector;
use super::super::store::Store;
use super::cache::{Cache, pods_at};
use super::{
    controller_of, controller_ref, delete_pod, is_active, is_available, is_ready, nonzero, phase,
    ready_since,
};

const SOURCE: Source<'static> = Source {
    component: "replicaset-controller",
    host: None,
};

/// `burstReplicas`: the most pods one sync creates or deletes.
const BURST: usize = 500;

pub(super) fn reconcile(store: &mut Store, now: Timestamp, cache: &mut Cache) {
    let mut keys = std::mem::take(&mut cache.dirty_replicasets);
    keys.extend(cache.requeue_replicasets.iter().cloned());
    for (ns, name) in keys {
        let waiting = match store.get::<ReplicaSet>(&ns, &name) {
            Some(rs) => sync(store, now, &rs, cache),
            None => false,
        };
        if waiting {
            cache.requeue_replicasets.insert((ns, name));
        } else {
            cache.requeue_replicasets.remove(&(ns, name));
        }
    }
}

/// Syncs one ReplicaSet; true when it waits on time (pods ready but not yet for minReadySeconds).
fn sync(store: &mut Store, now: Timestamp, rs: &ReplicaSet, cache: &Cache) -> bool {
    let Some(spec) = rs.spec.as_ref() else {
        return false;
    };
    let Ok(selector) = LabelSelector::from_k8s(&spec.selector) else {
        return false;
    };
    let uid = rs.metadata.uid.clone().unwrap_or_default();
    let mut active: Vec<Arc<Pod>> = cache.owned_by(store, &uid);
    active.retain(|p| is_active(p));
    if rs.metadata.deletion_timestamp.is_none() && !selector.is_empty() {
        active.retain(|p| selector.matches(p.metadata.labels.as_ref()) || !release(store, p, &uid));
        adopt(store, rs, &selector, cache, &mut active);
        manage(store, now, rs, cache, &mut active);
    }
    let status = calculate_status(rs, &active, now);
    let waiting = status.ready_replicas.unwrap_or(0) > status.available_replicas.unwrap_or(0)
        && spec.min_ready_seconds.unwrap_or(0) > 0;
    if rs.status.as_ref() != Some(&status) {
        let (ns, name) = names(&rs.metadata);
        let _ = store.mutate::<ReplicaSet>(ns, name, |r| r.status = Some(status));
    }
    waiting
}

fn names(meta: &ObjectMeta) -> (&str, &str) {
    (
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or(""),
    )
}

/// Drops this ReplicaSet's ownership of a pod its selector no longer matches.
fn release(store: &mut Store, pod: &Pod, uid: &str) -> bool {
    let (ns, name) = names(&pod.metadata);
    store
        .mutate::<Pod>(ns, name, |p| {
            if let Some(refs) = p.metadata.owner_references.as_mut() {
                refs.retain(|r| r.uid != uid);
            }
        })
        .is_ok()
}

/// Claims orphan pods the selector matches, as `ClaimPods` does.
fn adopt(
    store: &mut Store,
    rs: &ReplicaSet,
    selector: &LabelSelector,
    cache: &Cache,
    active: &mut Vec<Arc<Pod>>,
) {
    let ns = rs.metadata.namespace.as_deref().unwrap_or("");
    let Some(orphans) = cache.pod_orphans.get(ns) else {
        return;
    };
    let owner = controller_ref("apps/v1", "ReplicaSet", &rs.metadata);
    let orphans = pods_at(store, orphans);
    for pod in orphans
        .iter()
        .filter(|p| selector.matches(p.metadata.labels.as_ref()))
    {
        let (pns, name) = names(&pod.metadata);
        // Another ReplicaSet may have taken it earlier in this pass.
        let still_orphan = store
            .get::<Pod>(pns, name)
            .is_some_and(|p| is_active(&p) && controller_of(&p.metadata).is_none());
        if !still_orphan {
            continue;
        }
        let owner = owner.clone();
        if let Ok(stored) = store.mutate::<Pod>(pns, name, |p| {
            p.metadata
                .owner_references
                .get_or_insert_with(Vec::new)
                .push(owner);
        }) {
            active.push(stored.obj());
        }
    }
}

/// `manageReplicas`: creates or deletes pods until `spec.replicas` are active.
fn manage(
    store: &mut Store,
    now: Timestamp,
    rs: &ReplicaSet,
    cache: &Cache,
    active: &mut Vec<Arc<Pod>>,
) {
    let want = rs
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1)
        .max(0) as usize;
    let have = active.len();
    let involved = events::reference(rs, None);
    if have < want {
        for _ in 0..(want - have).min(BURST) {
            let Some(pod) = pod_from_template(rs) else {
                return;
            };
            match store.create(pod, now) {
                Ok(stored) => {
                    let pod = stored.obj();
                    let name = pod.metadata.name.clone().unwrap_or_default();
                    events::record(
                        store,
                        now,
                        involved.clone(),
                        "Normal",
                        "SuccessfulCreate",
                        format!("Created pod: {name}"),
                        SOURCE,
                    );
                    active.push(pod);
                }
                Err(e) => {
                    let msg = format!("Error creating: {}", e.message);
                    events::record(store, now, involved, "Warning", "FailedCreate", msg, SOURCE);
                    return;
                }
            }
        }
    } else if have > want {
        // Pods of the sibling ReplicaSets (same Deployment) count in the co-location ranking.
        let family = match controller_of(&rs.metadata) {
            Some(owner) => cache.replicasets_of(&owner.uid),
            None => Vec::new(),
        };
        let related: Vec<Arc<Pod>> = family
            .iter()
            .filter_map(|r| r.metadata.uid.as_deref())
            .flat_map(|uid| cache.owned_by(store, uid))
            .collect();
        let victims = pods_to_delete(active, &related, (have - want).min(BURST), now);
        for pod in &victims {
            let name = pod.metadata.name.clone().unwrap_or_default();
            if delete_pod(store, now, pod) {
                events::record(
                    store,
                    now,
                    involved.clone(),
                    "Normal",
                    "SuccessfulDelete",
                    format!("Deleted pod: {name}"),
                    SOURCE,
                );
            }
        }
        active.retain(|p| !victims.iter().any(|v| Arc::ptr_eq(v, p)));
    }
}

/// `GetPodFromTemplate`, plus what the API server adds on create (defaults, phase, QoS class).
fn pod_from_template(rs: &ReplicaSet) -> Option<Pod> {
    let template = rs.spec.as_ref()?.template.as_ref()?;
    let tmeta = template.metadata.clone().unwrap_or_default();
    let name = rs.metadata.name.as_deref().unwrap_or("");
    let pod = Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: rs.metadata.namespace.clone(),
            labels: tmeta.labels,
            annotations: tmeta.annotations,
            finalizers: tmeta.finalizers,
            owner_references: Some(vec![controller_ref("apps/v1", "ReplicaSet", &rs.metadata)]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    };
    let mut value = serde_json::to_value(&pod).ok()?;
    defaults::apply(Res::Pods, &mut value);
    let mut pod: Pod = serde_json::from_value(value).ok()?;
    let qos = qos_class(&pod);
    pod.status = Some(PodStatus {
        phase: Some("Pending".into()),
        qos_class: Some(qos.into()),
        ..Default::default()
    });
    Some(pod)
}

/// `qos.GetPodQOS`, for cpu and memory.
fn qos_class(pod: &Pod) -> &'static str {
    let Some(spec) = pod.spec.as_ref() else {
        return "BestEffort";
    };
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let res = c.resources.as_ref();
        let requests = res.and_then(|r| r.requests.as_ref());
        let limits = res.and_then(|r| r.limits.as_ref());
        for resource in ["cpu", "memory"] {
            let request = requests.and_then(|r| r.get(resource)).map(|q| q.0.as_str());
            let limit = limits.and_then(|l| l.get(resource)).map(|q| q.0.as_str());
            any |= request.is_some() || limit.is_some();
            let same = match (request, limit) {
                (Some(r), Some(l)) => super::quantity(r) == super::quantity(l),
                (None, Some(_)) => true,
                _ => false,
            };
            guaranteed &= same;
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

/// `getPodsToDelete`: the first `n` pods in the real deletion preference order.
fn pods_to_delete(
    active: &[Arc<Pod>],
    related: &[Arc<Pod>],
    n: usize,
    now: Timestamp,
) -> Vec<Arc<Pod>> {
    if n >= active.len() {
        return active.to_vec();
    }
    let mut on_node: HashMap<&str, usize> = HashMap::new();
    for p in related.iter().filter(|p| is_active(p)) {
        *on_node.entry(node_of(p)).or_default() += 1;
    }
    let mut ranked: Vec<(usize, &Arc<Pod>)> = active
        .iter()
        .map(|p| (on_node.get(node_of(p)).copied().unwrap_or(0), p))
        .collect();
    ranked.sort_by(|(ra, a), (rb, b)| deletion_order(a, *ra, b, *rb, now));
    ranked
        .into_iter()
        .take(n)
        .map(|(_, p)| Arc::clone(p))
        .collect()
}

fn node_of(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

fn phase_rank(pod: &Pod) -> u8 {
    match phase(pod) {
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    }
}

fn deletion_cost(pod: &Pod) -> i32 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("controller.kubernetes.io/pod-deletion-cost"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn max_restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .map(|c| c.restart_count)
        .max()
        .unwrap_or(0)
}

/// Compares two times the way LogarithmicScaleDown does: by the power of two of their age, so pods
/// of about the same age tie and the uid decides, spreading deletions pseudo-randomly.
fn newer_first(
    a: Option<Timestamp>,
    b: Option<Timestamp>,
    ua: &str,
    ub: &str,
    now: Timestamp,
) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) if a == b => Ordering::Equal,
        (Some(a), Some(b)) => {
            let bucket = |t: Timestamp| {
                let age = now.duration_since(t).as_nanos();
                if age > 0 {
                    (age as f64).log2() as i64
                } else {
                    -1
                }
            };
            bucket(a).cmp(&bucket(b)).then_with(|| ua.cmp(ub))
        }
    }
}

/// `ActivePodsWithRanks.Less`: unassigned, pending, not ready, cheap to delete, doubled up,
/// recently ready, often restarted and young pods go first.
fn deletion_order(a: &Pod, rank_a: usize, b: &Pod, rank_b: usize, now: Timestamp) -> Ordering {
    let (na, nb) = (node_of(a), node_of(b));
    if na != nb && (na.is_empty() || nb.is_empty()) {
        return nb.is_empty().cmp(&na.is_empty());
    }
    let (ua, ub) = (
        a.metadata.uid.as_deref().unwrap_or(""),
        b.metadata.uid.as_deref().unwrap_or(""),
    );
    let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
    phase_rank(a)
        .cmp(&phase_rank(b))
        .then_with(|| is_ready(a).cmp(&is_ready(b)))
        .then_with(|| deletion_cost(a).cmp(&deletion_cost(b)))
        .then_with(|| rank_b.cmp(&rank_a))
        .then_with(|| match (ready_since(a), ready_since(b)) {
            (Some(ta), Some(tb)) if ta != tb => newer_first(ta, tb, ua, ub, now),
            _ => Ordering::Equal,
        })
        .then_with(|| max_restarts(b).cmp(&max_restarts(a)))
        .then_with(|| newer_first(created(a), created(b), ua, ub, now))
}

/// `calculateStatus` of the ReplicaSet controller, over its active pods.
fn calculate_status(rs: &ReplicaSet, active: &[Arc<Pod>], now: Timestamp) -> ReplicaSetStatus {
    let spec = rs.spec.as_ref();
    let min_ready = spec.and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let template_labels = spec
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.as_ref());
    let mut fully_labeled = 0;
    let mut ready = 0;
    let mut available = 0;
    for pod in active {
        let labels = pod.metadata.labels.as_ref();
        if template_labels
            .into_iter()
            .flatten()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        {
            fully_labeled += 1;
        }
        if is_ready(pod) {
            ready += 1;
            if is_available(pod, min_ready, now) {
                available += 1;
            }
        }
    }
    ReplicaSetStatus {
        replicas: active.len() as i32,
        fully_labeled_replicas: nonzero(fully_labeled),
        ready_replicas: nonzero(ready),
        available_replicas: nonzero(available),
        observed_generation: rs.metadata.generation,
        conditions: rs.status.as_ref().and_then(|s| s.conditions.clone()),
        terminating_replicas: None,
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;
    use k8s_openapi::api::apps::v1::ReplicaSet;
    use k8s_openapi::api::core::v1::{ContainerStatus, Pod, PodCondition};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::super::testing::*;
    use super::*;

    fn replicaset(replicas: i32) -> ReplicaSet {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "cache", "namespace": NS},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "cache"}},
                "template": {
                    "metadata": {"labels": {"app": "cache"}},
                    "spec": {"containers": [{"name": "app", "image": "cache:1"}]}
                }
            }
        }))
        .unwrap()
    }

    fn status(h: &Harness) -> ReplicaSetStatus {
        h.store
            .get::<ReplicaSet>(NS, "cache")
            .unwrap()
            .status
            .clone()
            .unwrap()
    }

    fn resize(h: &mut Harness, n: i32) {
        h.store
            .mutate::<ReplicaSet>(NS, "cache", |rs| {
                rs.spec.as_mut().unwrap().replicas = Some(n)
            })
            .unwrap();
        h.step();
    }

    /// Puts a pod on a node in a phase, ready since `ready_for` seconds ago (or not ready).
    fn place(h: &mut Harness, name: &str, phase: &str, ready_for: Option<i64>, restarts: i32) {
        let now = h.now;
        h.store
            .mutate::<Pod>(NS, name, |p| {
                p.spec.as_mut().unwrap().node_name = Some("node-1".into());
                let s = p.status.get_or_insert_with(Default::default);
                s.phase = Some(phase.into());
                s.container_statuses = Some(vec![ContainerStatus {
                    name: "app".into(),
                    restart_count: restarts,
                    ..Default::default()
                }]);
                s.conditions = Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready_for.is_some() { "True" } else { "False" }.into(),
                    last_transition_time: Some(Time(
                        now - SignedDuration::from_secs(ready_for.unwrap_or(0)),
                    )),
                    ..Default::default()
                }]);
            })
            .unwrap();
    }

    #[test]
    fn creates_pods_from_the_template_and_reports_them() {
        let mut h = Harness::new();
        h.store.create(replicaset(2), h.now).unwrap();
        h.step();
        let pods = h.store.list::<Pod>(Some(NS));
        assert_eq!(pods.len(), 2);
        let rs = h.store.get::<ReplicaSet>(NS, "cache").unwrap();
        for p in &pods {
            assert_eq!(p.metadata.generate_name.as_deref(), Some("cache-"));
            assert_eq!(p.metadata.labels.as_ref().unwrap()["app"], "cache");
            let owner = &p.metadata.owner_references.as_ref().unwrap()[0];
            assert_eq!(
                (owner.kind.as_str(), owner.uid.as_str()),
                ("ReplicaSet", rs.metadata.uid.as_deref().unwrap())
            );
            assert_eq!(
                p.spec.as_ref().unwrap().restart_policy.as_deref(),
                Some("Always")
            );
        }
        let created = h.events("SuccessfulCreate");
        assert_eq!(created.len(), 2);
        assert!(created.iter().all(|m| m.starts_with("Created pod: cache-")));
        h.step();
        let s = status(&h);
        assert_eq!(
            (
                s.replicas,
                s.fully_labeled_replicas,
                s.ready_replicas,
                s.available_replicas
            ),
            (2, Some(2), Some(2), Some(2))
        );
        assert_eq!(s.observed_generation, Some(1));
    }

    #[test]
    fn scale_down_deletes_in_the_real_preference_order() {
        let mut h = Harness::without_nodes();
        h.kubelet = false;
        h.store.create(replicaset(5), h.now).unwrap();
        h.step();
        let mut names = h.live_pod_names();
        names.sort();
        // names[0] stays unscheduled.
        place(&mut h, &names[1], "Pending", None, 0);
        place(&mut h, &names[2], "Running", None, 0);
        place(&mut h, &names[3], "Running", Some(100), 3);
        place(&mut h, &names[4], "Running", Some(100), 0);

        resize(&mut h, 4);
        // An unscheduled pod has no kubelet to stop it: it goes at once.
        assert!(h.store.get::<Pod>(NS, &names[0]).is_none());
        for (n, victim) in [(3, &names[1]), (2, &names[2]), (1, &names[3])] {
            resize(&mut h, n);
            let pod = h.store.get::<Pod>(NS, victim).unwrap();
            assert!(
                pod.metadata.deletion_timestamp.is_some(),
                "{victim} should be deleted at {n}"
            );
        }
        assert_eq!(h.live_pod_names(), [names[4].clone()]);
        let deleted = h.events("SuccessfulDelete");
        let expected: Vec<_> = names[..4]
            .iter()
            .map(|n| format!("Deleted pod: {n}"))
            .collect();
        assert_eq!(deleted, expected);
        assert_eq!(status(&h).replicas, 1);
    }

    #[test]
    fn recently_ready_pods_go_before_restarting_old_ones() {
        let mut h = Harness::without_nodes();
        h.kubelet = false;
        h.store.create(replicaset(2), h.now).unwrap();
        h.step();
        let mut names = h.live_pod_names();
        names.sort();
        place(&mut h, &names[0], "Running", Some(10), 0);
        place(&mut h, &names[1], "Running", Some(5000), 7);
        resize(&mut h, 1);
        assert_eq!(h.live_pod_names(), [names[1].clone()]);
    }

    #[test]
    fn adopts_matching_orphans_and_counts_availability_after_min_ready_seconds() {
        let mut h = Harness::new();
        let orphan: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "stray", "namespace": NS, "labels": {"app": "cache"}},
            "spec": {"containers": [{"name": "app", "image": "cache:1"}]}
        }))
        .unwrap();
        h.store.create(orphan, h.now).unwrap();
        let mut rs = replicaset(2);
        rs.spec.as_mut().unwrap().min_ready_seconds = Some(10);
        h.store.create(rs, h.now).unwrap();
        h.step();
        let stray = h.store.get::<Pod>(NS, "stray").unwrap();
        assert_eq!(
            stray.metadata.owner_references.as_ref().unwrap()[0].name,
            "cache"
        );
        assert_eq!(h.events("SuccessfulCreate").len(), 1);
        h.step();
        let s = status(&h);
        assert_eq!(
            (s.replicas, s.ready_replicas, s.available_replicas),
            (2, Some(2), None)
        );
        for _ in 0..11 {
            h.step();
        }
        assert_eq!(status(&h).available_replicas, Some(2));
    }
}
