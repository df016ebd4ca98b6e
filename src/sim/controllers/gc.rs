//! Garbage collection: dependents whose owners are gone are deleted, so deleting a Deployment takes
//! its ReplicaSets and then their pods along, as kubectl's default background cascade does. The
//! cache queues the candidates as owners disappear; each is checked again against the store.

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;

use super::super::store::Store;
use super::cache::Cache;
use super::delete_pod;

pub(super) fn collect(store: &mut Store, now: Timestamp, cache: &mut Cache) {
    for (ns, name) in std::mem::take(&mut cache.garbage_replicasets) {
        let Some(rs) = store.get::<ReplicaSet>(&ns, &name) else {
            continue;
        };
        if !cache.is_garbage(&rs.metadata) || store.remove::<ReplicaSet>(&ns, &name).is_err() {
            continue;
        }
        // Its pods go in the same pass rather than after the cache has seen the removal.
        if let Some(uid) = rs.metadata.uid.as_deref() {
            cache.live.remove(uid);
            let pods: Vec<_> = cache.owned_keys(uid).cloned().collect();
            cache.garbage_pods.extend(pods);
        }
    }
    for (ns, name) in std::mem::take(&mut cache.garbage_pods) {
        if let Some(pod) = store.get::<Pod>(&ns, &name)
            && cache.is_garbage(&pod.metadata)
        {
            delete_pod(store, now, &pod);
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
    use k8s_openapi::api::core::v1::Pod;

    use super::super::testing::*;

    #[test]
    fn deleting_a_deployment_cascades_to_replicasets_and_pods() {
        let mut h = Harness::new();
        h.create_deployment(deployment("web", 3));
        h.settle();
        assert_eq!(h.store.list::<ReplicaSet>(Some(NS)).len(), 1);
        assert_eq!(h.store.list::<Pod>(Some(NS)).len(), 3);

        h.store.remove::<Deployment>(NS, "web").unwrap();
        h.step();
        assert!(h.store.list::<ReplicaSet>(Some(NS)).is_empty());
        // Bound pods terminate gracefully: marked first, then removed by the (test) kubelet.
        let pods = h.store.list::<Pod>(Some(NS));
        assert_eq!(pods.len(), 3);
        for p in &pods {
            assert!(p.metadata.deletion_timestamp.is_some());
            assert_eq!(p.metadata.deletion_grace_period_seconds, Some(30));
        }
        h.settle();
        assert!(h.store.list::<Pod>(Some(NS)).is_empty());
    }

    #[test]
    fn unbound_orphans_go_at_once_and_foreign_owners_are_left_alone() {
        let mut h = Harness::without_nodes();
        h.create_deployment(deployment("web", 2));
        h.step();
        h.step();
        let pods = h.store.list::<Pod>(Some(NS));
        assert_eq!(pods.len(), 2);
        assert!(
            pods.iter()
                .all(|p| p.spec.as_ref().unwrap().node_name.is_none())
        );

        // A pod owned by something the simulator does not store (a Job) is never collected.
        let mut job_pod = (*pods[0]).clone();
        job_pod.metadata.name = Some("batch-1".into());
        job_pod.metadata.owner_references.as_mut().unwrap()[0].kind = "Job".into();
        job_pod.metadata.owner_references.as_mut().unwrap()[0].api_version = "batch/v1".into();
        h.store.create(job_pod, h.now).unwrap();

        h.store.remove::<Deployment>(NS, "web").unwrap();
        h.step();
        let left: Vec<_> = h
            .store
            .list::<Pod>(Some(NS))
            .iter()
            .map(|p| p.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(left, ["batch-1"]);
    }
}
