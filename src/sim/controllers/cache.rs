//! The controllers' view of the store between passes, kept current from the store's change history
//! the way client-go informers follow a watch, with the work queues that history feeds.
//!
//! A pass then costs what changed, not what exists: with 10,000 settled pods an idle pass reads
//! nothing. Each change marks the objects whose controllers must look again (a pod → its ReplicaSet
//! and that one's Deployment; a ReplicaSet → its Deployment), and dependents whose owners are gone
//! are queued for the garbage collector. When the history no longer reaches back (compaction,
//! or more changes than it keeps) the cache is rebuilt from the tables and everything is resynced.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::super::object::SimObject;
use super::super::store::{EventType, Since, Store, Table, WatchEvent};
use super::{controller_of, is_active, is_finished};

pub(crate) type Key = (String, String);

/// A periodic full resync, as informers have, in case some change was never routed to its owner.
const RESYNC: SignedDuration = SignedDuration::from_secs(300);

pub(crate) fn key_of(meta: &ObjectMeta) -> Key {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// Where a pod is filed, so a later change can unfile it without the old object.
#[derive(Debug)]
struct PodEntry {
    owner: Option<String>,
    orphan: bool,
    /// The node it counts against (bound and unfinished).
    node: Option<String>,
    unscheduled: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Cache {
    /// The store resourceVersion the cache reflects.
    rv: Option<u64>,
    last_resync: Option<Timestamp>,
    /// Uids of the Deployments and ReplicaSets: the owners the garbage collector tracks.
    pub(crate) live: HashSet<String>,
    deployment_keys: HashMap<String, Key>,
    rs_keys: HashMap<String, Key>,
    /// ReplicaSet key → its controller's uid.
    rs_entries: HashMap<Key, Option<String>>,
    pub(crate) rs_owned: HashMap<String, BTreeMap<Key, Arc<ReplicaSet>>>,
    pub(crate) rs_orphans: HashMap<String, BTreeMap<Key, Arc<ReplicaSet>>>,
    pod_entries: HashMap<Key, PodEntry>,
    /// Pods by their controller's uid, active orphans by namespace, and pods waiting for a node:
    /// keys only, as the store keeps pods as JSON and a controller decodes the ones it reads.
    pods_owned: HashMap<String, BTreeSet<Key>>,
    pub(crate) pod_orphans: HashMap<String, BTreeSet<Key>>,
    pub(crate) unscheduled: BTreeSet<Key>,
    pub(crate) per_node: HashMap<String, usize>,
    pub(crate) dirty_deployments: BTreeSet<Key>,
    pub(crate) dirty_replicasets: BTreeSet<Key>,
    /// Objects waiting on time rather than on a change (progress deadline, minReadySeconds).
    pub(crate) requeue_deployments: BTreeSet<Key>,
    pub(crate) requeue_replicasets: BTreeSet<Key>,
    pub(crate) garbage_replicasets: BTreeSet<Key>,
    pub(crate) garbage_pods: BTreeSet<Key>,
    /// Pods the scheduler found no node for, left alone until nodes or their load change.
    pub(crate) unschedulable: HashSet<Key>,
    pub(crate) retry_unschedulable: bool,
}

/// The changes of one kind since `rv`, or None when the history no longer reaches back.
fn changes<T: SimObject>(table: &Table<T>, rv: u64) -> Option<Vec<Arc<WatchEvent<T>>>> {
    match table.since(rv) {
        Since::Events(events) => Some(events),
        Since::Expired { .. } => None,
    }
}

impl Cache {
    /// Brings the cache up to the store's current state.
    pub(crate) fn refresh(&mut self, store: &Store, now: Timestamp) {
        let current = store.resource_version();
        let due = self.last_resync.is_none_or(|t| now >= t + RESYNC);
        let Some(rv) = self.rv.filter(|_| !due) else {
            self.rebuild(store, now);
            return;
        };
        if rv == current {
            return;
        }
        let (Some(deployments), Some(replicasets), Some(pods), Some(nodes)) = (
            changes(&store.deployments, rv),
            changes(&store.replicasets, rv),
            changes(&store.pods, rv),
            changes(&store.nodes, rv),
        ) else {
            self.rebuild(store, now);
            return;
        };
        // Owners first, so their dependents are judged against the owners' latest state. History
        // carries no typed objects: a change means "look at the current state", as an informer's
        // resync would; a deletion's JSON is the final state.
        for e in deployments {
            if e.ty == EventType::Deleted {
                if let Some(gone) = e.decode() {
                    self.remove_deployment(&gone);
                }
            } else if let Some(current) = store.deployments.get(&e.key.0, &e.key.1) {
                self.upsert_deployment(&current.obj());
            }
        }
        for e in replicasets {
            if e.ty == EventType::Deleted {
                if let Some(gone) = e.decode() {
                    self.remove_rs(&gone);
                }
            } else if let Some(current) = store.replicasets.get(&e.key.0, &e.key.1) {
                self.upsert_rs(&current.obj());
            }
        }
        for e in pods {
            if e.ty == EventType::Deleted {
                self.remove_pod(&e.key);
            } else if let Some(current) = store.pods.get(&e.key.0, &e.key.1) {
                self.upsert_pod(&current.obj());
            }
        }
        if !nodes.is_empty() {
            self.retry_unschedulable = true;
        }
        self.rv = Some(current);
    }

    fn rebuild(&mut self, store: &Store, now: Timestamp) {
        let requeue = (
            std::mem::take(&mut self.requeue_deployments),
            std::mem::take(&mut self.requeue_replicasets),
        );
        *self = Cache {
            rv: Some(store.resource_version()),
            last_resync: Some(now),
            retry_unschedulable: true,
            requeue_deployments: requeue.0,
            requeue_replicasets: requeue.1,
            ..Default::default()
        };
        for d in store.deployments.objects() {
            self.upsert_deployment(&d);
        }
        for rs in store.replicasets.objects() {
            self.upsert_rs(&rs);
        }
        for pod in store.pods.objects() {
            self.upsert_pod(&pod);
        }
    }

    /// Whether every owner of the object is gone. An owner of a kind the simulator does not store
    /// counts as present: the real collector cannot resolve it either and leaves the object alone.
    pub(crate) fn is_garbage(&self, meta: &ObjectMeta) -> bool {
        let tracked = |o: &OwnerReference| {
            o.api_version == "apps/v1" && matches!(o.kind.as_str(), "Deployment" | "ReplicaSet")
        };
        match meta.owner_references.as_deref() {
            Some(refs) if !refs.is_empty() => refs
                .iter()
                .all(|o| tracked(o) && !self.live.contains(&o.uid)),
            _ => false,
        }
    }

    fn mark_deployment_of(&mut self, owner: Option<&str>) {
        if let Some(key) = owner.and_then(|uid| self.deployment_keys.get(uid)) {
            self.dirty_deployments.insert(key.clone());
        }
    }

    /// Marks a ReplicaSet (by uid) and its Deployment.
    fn mark_rs(&mut self, uid: Option<&str>) {
        let Some(key) = uid.and_then(|uid| self.rs_keys.get(uid)).cloned() else {
            return;
        };
        let owner = self.rs_entries.get(&key).cloned().flatten();
        self.dirty_replicasets.insert(key);
        self.mark_deployment_of(owner.as_deref());
    }

    fn upsert_deployment(&mut self, d: &Deployment) {
        let key = key_of(&d.metadata);
        if let Some(uid) = d.metadata.uid.clone() {
            self.live.insert(uid.clone());
            self.deployment_keys.insert(uid, key.clone());
        }
        self.dirty_deployments.insert(key);
    }

    fn remove_deployment(&mut self, d: &Deployment) {
        let key = key_of(&d.metadata);
        self.dirty_deployments.remove(&key);
        self.requeue_deployments.remove(&key);
        let Some(uid) = d.metadata.uid.as_deref() else {
            return;
        };
        self.live.remove(uid);
        self.deployment_keys.remove(uid);
        let owned: Vec<Key> = self
            .rs_owned
            .get(uid)
            .into_iter()
            .flat_map(|m| m.keys().cloned())
            .collect();
        self.garbage_replicasets.extend(owned);
    }

    fn unfile_rs(&mut self, key: &Key) -> Option<Option<String>> {
        let owner = self.rs_entries.remove(key)?;
        let bucket = match &owner {
            Some(uid) => self.rs_owned.get_mut(uid),
            None => self.rs_orphans.get_mut(&key.0),
        };
        if let Some(map) = bucket {
            map.remove(key);
        }
        Some(owner)
    }

    fn upsert_rs(&mut self, rs: &Arc<ReplicaSet>) {
        let meta = &rs.metadata;
        let key = key_of(meta);
        let previous = self.unfile_rs(&key);
        let owner = controller_of(meta).map(|o| o.uid.clone());
        match &owner {
            Some(uid) => {
                self.rs_owned
                    .entry(uid.clone())
                    .or_default()
                    .insert(key.clone(), Arc::clone(rs));
            }
            None if meta.deletion_timestamp.is_none() => {
                self.rs_orphans
                    .entry(key.0.clone())
                    .or_default()
                    .insert(key.clone(), Arc::clone(rs));
                // A new orphan may be adopted by any Deployment of its namespace.
                if !matches!(previous, Some(None)) {
                    let here: Vec<Key> = self
                        .deployment_keys
                        .values()
                        .filter(|k| k.0 == key.0)
                        .cloned()
                        .collect();
                    self.dirty_deployments.extend(here);
                }
            }
            None => {}
        }
        self.rs_entries.insert(key.clone(), owner.clone());
        if let Some(uid) = meta.uid.clone() {
            self.live.insert(uid.clone());
            self.rs_keys.insert(uid, key.clone());
        }
        self.dirty_replicasets.insert(key.clone());
        self.mark_deployment_of(previous.flatten().as_deref());
        self.mark_deployment_of(owner.as_deref());
        if self.is_garbage(meta) {
            self.garbage_replicasets.insert(key);
        }
    }

    fn remove_rs(&mut self, rs: &ReplicaSet) {
        let key = key_of(&rs.metadata);
        let owner = self.unfile_rs(&key).flatten();
        self.dirty_replicasets.remove(&key);
        self.requeue_replicasets.remove(&key);
        self.mark_deployment_of(owner.as_deref());
        let Some(uid) = rs.metadata.uid.as_deref() else {
            return;
        };
        self.live.remove(uid);
        self.rs_keys.remove(uid);
        // The collector checks each against the store before it deletes: a pod with another
        // owner still alive stays.
        let orphaned: Vec<Key> = self.owned_keys(uid).cloned().collect();
        self.garbage_pods.extend(orphaned);
    }

    fn unfile_pod(&mut self, key: &Key) -> Option<PodEntry> {
        let entry = self.pod_entries.remove(key)?;
        if let Some(map) = entry
            .owner
            .as_ref()
            .and_then(|uid| self.pods_owned.get_mut(uid))
        {
            map.remove(key);
        }
        if entry.orphan
            && let Some(map) = self.pod_orphans.get_mut(&key.0)
        {
            map.remove(key);
        }
        if entry.unscheduled {
            self.unscheduled.remove(key);
        }
        if let Some(node) = &entry.node
            && let Some(n) = self.per_node.get_mut(node)
        {
            *n -= 1;
            if *n == 0 {
                self.per_node.remove(node);
            }
        }
        Some(entry)
    }

    fn upsert_pod(&mut self, pod: &Pod) {
        let meta = &pod.metadata;
        let key = key_of(meta);
        let previous = self.unfile_pod(&key);
        let owner = controller_of(meta).map(|o| o.uid.clone());
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty());
        let active = is_active(pod);
        let entry = PodEntry {
            orphan: owner.is_none() && active,
            unscheduled: active && node.is_none(),
            node: node.filter(|_| !is_finished(pod)),
            owner,
        };
        if let Some(uid) = &entry.owner {
            self.pods_owned
                .entry(uid.clone())
                .or_default()
                .insert(key.clone());
        }
        if entry.orphan {
            self.pod_orphans
                .entry(key.0.clone())
                .or_default()
                .insert(key.clone());
            // A new orphan may be adopted by any ReplicaSet of its namespace.
            if !previous.as_ref().is_some_and(|p| p.orphan) {
                let here: Vec<Key> = self
                    .rs_entries
                    .keys()
                    .filter(|k| k.0 == key.0)
                    .cloned()
                    .collect();
                self.dirty_replicasets.extend(here);
            }
        }
        if entry.unscheduled {
            self.unscheduled.insert(key.clone());
        } else {
            self.unschedulable.remove(&key);
        }
        if let Some(node) = &entry.node {
            *self.per_node.entry(node.clone()).or_default() += 1;
        }
        // A pod leaving a node frees room there for a pod that found none.
        if previous
            .as_ref()
            .is_some_and(|p| p.node.is_some() && p.node != entry.node)
        {
            self.retry_unschedulable = true;
        }
        let old_owner = previous.and_then(|p| p.owner);
        if old_owner != entry.owner {
            self.mark_rs(old_owner.as_deref());
        }
        self.mark_rs(entry.owner.as_deref());
        self.pod_entries.insert(key.clone(), entry);
        if self.is_garbage(meta) {
            self.garbage_pods.insert(key);
        }
    }

    fn remove_pod(&mut self, key: &Key) {
        self.unschedulable.remove(key);
        if let Some(entry) = self.unfile_pod(key) {
            self.retry_unschedulable |= entry.node.is_some();
            self.mark_rs(entry.owner.as_deref());
        }
    }

    /// The keys of the pods a controller (by uid) owns, in name order.
    pub(crate) fn owned_keys(&self, uid: &str) -> impl Iterator<Item = &Key> {
        self.pods_owned.get(uid).into_iter().flatten()
    }

    /// The pods a controller (by uid) owns, in name order, as the store has them now.
    pub(crate) fn owned_by(&self, store: &Store, uid: &str) -> Vec<Arc<Pod>> {
        pods_at(store, self.owned_keys(uid))
    }

    /// The ReplicaSets a Deployment (by uid) owns.
    pub(crate) fn replicasets_of(&self, uid: &str) -> Vec<Arc<ReplicaSet>> {
        self.rs_owned
            .get(uid)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// The pods at these keys, as the store has them now (decoded); keys gone from it are skipped.
pub(crate) fn pods_at<'a>(store: &Store, keys: impl IntoIterator<Item = &'a Key>) -> Vec<Arc<Pod>> {
    keys.into_iter()
        .filter_map(|(ns, name)| store.get::<Pod>(ns, name))
        .collect()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Pod;

    use super::super::testing::*;

    #[test]
    fn a_lost_pod_is_replaced_from_the_history_or_after_a_rebuild() {
        let mut h = Harness::new();
        h.create_deployment(deployment("web", 2));
        h.settle();
        let before = h.live_pod_names();

        h.store.remove::<Pod>(NS, &before[0]).unwrap();
        h.step();
        let after = h.live_pod_names();
        assert_eq!(after.len(), 2);
        assert!(!after.contains(&before[0]));

        // Compaction leaves the cache nothing to follow: it relists, as an informer does on 410.
        h.store.compact();
        h.store.remove::<Pod>(NS, &after[1]).unwrap();
        h.step();
        let last = h.live_pod_names();
        assert_eq!(last.len(), 2);
        assert!(!last.contains(&after[1]));
        h.settle();
    }
}
