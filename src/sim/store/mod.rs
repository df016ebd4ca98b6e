//! The in-memory object store of one simulated cluster: a table per kind (objects as JSON, typed too
//! where few), one global resourceVersion counter, a bounded per-kind history of changes for watches,
//! and a broadcast of live changes.

use std::collections::VecDeque;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod, ResourceQuota, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(super) mod precise;
mod stored;
mod table;

pub use stored::Stored;
pub use table::{EventType, Selection, Since, Table, WatchEvent};

use super::object::SimObject;
use super::status::ApiError;

/// `(namespace, name)`; the namespace is empty for cluster-scoped kinds.
pub type Key = (String, String);

/// One cluster's objects.
#[derive(Debug)]
pub struct Store {
    rv: u64,
    history_limit: usize,
    rng: ChaCha8Rng,
    pub namespaces: Table<Namespace>,
    pub nodes: Table<Node>,
    pub pods: Table<Pod>,
    pub services: Table<Service>,
    pub resourcequotas: Table<ResourceQuota>,
    pub events: Table<Event>,
    pub deployments: Table<Deployment>,
    pub replicasets: Table<ReplicaSet>,
    pub hpas: Table<HorizontalPodAutoscaler>,
    /// Event aggregation key -> event name, so a repeated event is found without a scan.
    pub event_index: std::collections::HashMap<u64, Key>,
    /// Events in the order they were created, so the oldest can be expired without a scan.
    pub event_order: VecDeque<Key>,
    /// What the controllers keep between passes: their cache of changes, work queues, HPA history.
    pub controllers: super::controllers::Memory,
}

/// Default number of changes kept per kind for watches that resume from a resourceVersion.
pub const DEFAULT_HISTORY: usize = 1000;

/// The alphabet kube uses for generated name suffixes (no vowels, no look-alike characters).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

impl Store {
    pub fn new(seed: u64) -> Self {
        Self {
            rv: 1000,
            history_limit: DEFAULT_HISTORY,
            rng: ChaCha8Rng::seed_from_u64(seed),
            namespaces: Table::new(),
            nodes: Table::new(),
            pods: Table::new(),
            services: Table::new(),
            resourcequotas: Table::new(),
            events: Table::new(),
            deployments: Table::new(),
            replicasets: Table::new(),
            hpas: Table::new(),
            event_index: std::collections::HashMap::new(),
            event_order: VecDeque::new(),
            controllers: Default::default(),
        }
    }

    pub fn set_history_limit(&mut self, limit: usize) {
        self.history_limit = limit.max(1);
    }

    /// The newest resourceVersion handed out.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Forgets all watch history, as etcd compaction does: watches resuming from an older
    /// resourceVersion get 410 Expired and must relist.
    pub fn compact(&mut self) {
        fn drop_history<T: SimObject>(t: &mut Table<T>, rv: u64) {
            t.history.clear();
            t.compacted_rv = rv;
        }
        let rv = self.rv;
        drop_history(&mut self.namespaces, rv);
        drop_history(&mut self.nodes, rv);
        drop_history(&mut self.pods, rv);
        drop_history(&mut self.services, rv);
        drop_history(&mut self.resourcequotas, rv);
        drop_history(&mut self.events, rv);
        drop_history(&mut self.deployments, rv);
        drop_history(&mut self.replicasets, rv);
        drop_history(&mut self.hpas, rv);
    }

    /// A random suffix of `n` characters in kube's name alphabet (deterministic per seed).
    pub fn random_suffix(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| NAME_ALPHABET[self.rng.random_range(0..NAME_ALPHABET.len())] as char)
            .collect()
    }

    pub fn random_uid(&mut self) -> String {
        let b: [u8; 16] = self.rng.random();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_be_bytes([b[4], b[5]]),
            u16::from_be_bytes([b[6], b[7]]) & 0x0fff,
            (u16::from_be_bytes([b[8], b[9]]) & 0x3fff) | 0x8000,
            u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]]),
        )
    }

    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    pub fn get<T: SimObject>(&self, namespace: &str, name: &str) -> Option<Arc<T>> {
        T::table(self).get(namespace, name).map(Stored::obj)
    }

    /// Every object of a kind, in one namespace or all, in key order.
    pub fn list<T: SimObject>(&self, namespace: Option<&str>) -> Vec<Arc<T>> {
        T::table(self)
            .range(namespace, None)
            .map(|(_, s)| s.obj())
            .collect()
    }

    /// Creates an object: fills in name (from generateName), uid, creationTimestamp, generation
    /// and resourceVersion, as the API server does.
    pub fn create<T: SimObject>(
        &mut self,
        mut obj: T,
        now: Timestamp,
    ) -> Result<Stored<T>, ApiError> {
        let info = T::info();
        let namespace = if info.namespaced {
            let ns = obj.metadata().namespace.clone().unwrap_or_default();
            if ns.is_empty() {
                return Err(ApiError::bad_request(
                    "the namespace of the object must be set",
                ));
            }
            if T::RES != super::kinds::Res::Namespaces && self.namespaces.get("", &ns).is_none() {
                return Err(ApiError::not_found("namespaces", "", &ns));
            }
            ns
        } else {
            obj.metadata_mut().namespace = None;
            String::new()
        };
        let name = match obj.metadata().name.clone().filter(|n| !n.is_empty()) {
            Some(n) => n,
            None => match obj
                .metadata()
                .generate_name
                .clone()
                .filter(|n| !n.is_empty())
            {
                Some(prefix) => format!("{prefix}{}", self.random_suffix(5)),
                None => {
                    return Err(ApiError::invalid(
                        info.kind,
                        info.group,
                        "",
                        "metadata.name: Required value: name or generateName is required",
                    ));
                }
            },
        };
        validate_name(info.kind, info.group, &name)?;
        let key = (namespace, name.clone());
        if T::table(self).items.contains_key(&key) {
            return Err(ApiError::already_exists(info.plural, info.group, &name));
        }
        let uid = self.random_uid();
        let meta = obj.metadata_mut();
        meta.name = Some(name);
        meta.uid = Some(uid);
        meta.creation_timestamp = Some(Time(now));
        meta.deletion_timestamp = None;
        meta.managed_fields = None;
        if T::HAS_STATUS {
            meta.generation = Some(1);
        }
        self.commit(key, obj, EventType::Added, None)
    }

    /// Replaces an object (PUT). A resourceVersion in `obj` must match the stored one (else 409
    /// Conflict); identity fields are kept; `generation` moves when the spec changes.
    pub fn update<T: SimObject>(&mut self, obj: T) -> Result<Stored<T>, ApiError> {
        let info = T::info();
        let key = key_of(&obj, info.namespaced);
        let Some(old) = T::table(self).items.get(&key).cloned() else {
            return Err(ApiError::not_found(info.plural, info.group, &key.1));
        };
        let old_obj = old.obj();
        self.replace(key, old, old_obj, obj)
    }

    /// Read-modify-write without a precondition: what controllers use.
    pub fn mutate<T: SimObject>(
        &mut self,
        namespace: &str,
        name: &str,
        f: impl FnOnce(&mut T),
    ) -> Result<Stored<T>, ApiError> {
        let info = T::info();
        let Some(old) = T::table(self).get(namespace, name).cloned() else {
            return Err(ApiError::not_found(info.plural, info.group, name));
        };
        let old_obj = old.obj();
        let mut obj = (*old_obj).clone();
        f(&mut obj);
        obj.metadata_mut().resource_version = None;
        let key = key_of(&obj, info.namespaced);
        self.replace(key, old, old_obj, obj)
    }

    /// `update` once the stored object is at hand (typed as well, so it is decoded only once).
    fn replace<T: SimObject>(
        &mut self,
        key: Key,
        old: Stored<T>,
        old_obj: Arc<T>,
        mut obj: T,
    ) -> Result<Stored<T>, ApiError> {
        let info = T::info();
        let old_meta = old_obj.metadata();
        if let Some(rv) = obj
            .metadata()
            .resource_version
            .as_deref()
            .filter(|rv| !rv.is_empty())
            && Some(rv) != old_meta.resource_version.as_deref()
        {
            return Err(ApiError::conflict(info.plural, info.group, &key.1));
        }
        let meta = obj.metadata_mut();
        meta.uid.clone_from(&old_meta.uid);
        meta.creation_timestamp
            .clone_from(&old_meta.creation_timestamp);
        meta.deletion_timestamp
            .clone_from(&old_meta.deletion_timestamp);
        meta.deletion_grace_period_seconds = old_meta.deletion_grace_period_seconds;
        meta.resource_version.clone_from(&old_meta.resource_version);
        meta.managed_fields = None;
        meta.generation = old_meta.generation;
        if T::HAS_STATUS && spec_of(&obj) != spec_of(&*old_obj) {
            obj.metadata_mut().generation = Some(old_meta.generation.unwrap_or(0) + 1);
        }
        // A write that changes nothing keeps its resourceVersion and sends no watch event.
        if obj == *old_obj {
            return Ok(old.with_obj(old_obj));
        }
        self.commit(key, obj, EventType::Modified, Some(&*old_obj))
    }

    /// Starts a graceful deletion as the API server does: the object stays, with `deletionTimestamp`
    /// (when it must be gone) and `deletionGracePeriodSeconds`, until whoever runs it removes it.
    /// `update` keeps both fields from the stored object, so this is the way to set them.
    pub fn mark_deleted<T: SimObject>(
        &mut self,
        namespace: &str,
        name: &str,
        deadline: Timestamp,
        grace_seconds: i64,
    ) -> Result<Stored<T>, ApiError> {
        let info = T::info();
        let Some(old) = T::table(self).get(namespace, name) else {
            return Err(ApiError::not_found(info.plural, info.group, name));
        };
        let old_obj = old.obj();
        if old_obj.metadata().deletion_timestamp.is_some() {
            return Ok(old.clone().with_obj(old_obj));
        }
        let mut obj = (*old_obj).clone();
        let meta = obj.metadata_mut();
        meta.deletion_timestamp = Some(Time(deadline));
        meta.deletion_grace_period_seconds = Some(grace_seconds);
        let key = (namespace.to_string(), name.to_string());
        self.commit(key, obj, EventType::Modified, Some(&*old_obj))
    }

    /// Removes an object at once and tells the watchers (DELETED carries the final state).
    pub fn remove<T: SimObject>(
        &mut self,
        namespace: &str,
        name: &str,
    ) -> Result<Stored<T>, ApiError> {
        let info = T::info();
        let key = (namespace.to_string(), name.to_string());
        let Some(old) = T::table_mut(self).items.remove(&key) else {
            return Err(ApiError::not_found(info.plural, info.group, name));
        };
        let mut obj = Arc::unwrap_or_clone(old.obj());
        self.rv += 1;
        obj.metadata_mut().resource_version = Some(self.rv.to_string());
        let sel = Selection::of(&obj);
        let stored = stored::serialize(obj)?;
        let (rv, limit) = (self.rv, self.history_limit);
        // The final state is the last one, so no filter can judge them apart: no `prev_sel`.
        let event = WatchEvent::new(rv, EventType::Deleted, key, stored.json(), sel, None);
        T::table_mut(self).record(event, limit);
        Ok(stored)
    }

    /// Stores a new state of an object; `prev` is the state it replaces (for filtered watches).
    fn commit<T: SimObject>(
        &mut self,
        key: Key,
        mut obj: T,
        ty: EventType,
        prev: Option<&T>,
    ) -> Result<Stored<T>, ApiError> {
        let rv = self.rv + 1;
        obj.metadata_mut().resource_version = Some(rv.to_string());
        let sel = Selection::of(&obj);
        let prev_sel = prev.map(Selection::of).filter(|old| *old != sel);
        let stored = stored::serialize(obj)?;
        self.rv = rv;
        let limit = self.history_limit;
        let table = T::table_mut(self);
        table.items.insert(key.clone(), stored.lean());
        table.record(
            WatchEvent::new(rv, ty, key, stored.json(), sel, prev_sel),
            limit,
        );
        Ok(stored)
    }
}

/// `(namespace, name)` of an object; the namespace is empty for cluster-scoped kinds.
fn key_of<T: SimObject>(obj: &T, namespaced: bool) -> Key {
    let meta = obj.metadata();
    let namespace = match namespaced {
        true => meta.namespace.clone().unwrap_or_default(),
        false => String::new(),
    };
    (namespace, meta.name.clone().unwrap_or_default())
}

fn spec_of<T: SimObject>(obj: &T) -> serde_json::Value {
    serde_json::to_value(obj)
        .ok()
        .and_then(|mut v| v.get_mut("spec").map(serde_json::Value::take))
        .unwrap_or_default()
}

/// DNS-1123 subdomain rules, worded as the API server words them.
fn validate_name(kind: &str, group: &str, name: &str) -> Result<(), ApiError> {
    let ok = name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            kind,
            group,
            name,
            &format!(
                "metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of \
                 lower case alphanumeric characters, '-' or '.', and must start and end with an \
                 alphanumeric character"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn now() -> Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn ns(name: &str) -> Namespace {
        Namespace {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn deploy(name: &str, replicas: i32) -> Deployment {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "web:1"}]}}}
        }))
        .unwrap()
    }

    #[test]
    fn create_update_conflict_and_generation() {
        let mut s = Store::new(1);
        s.create(ns("shop"), now()).unwrap();
        let created = s.create(deploy("web", 2), now()).unwrap();
        assert_eq!(created.obj().metadata.generation, Some(1));
        let rv1 = created.obj().metadata.resource_version.clone().unwrap();

        // Stale resourceVersion: conflict with the real wording.
        let mut stale = (*created.obj()).clone();
        stale.metadata.resource_version = Some("1".into());
        let err = s.update(stale).unwrap_err();
        assert_eq!(err.code, 409);
        assert!(
            err.message
                .starts_with("Operation cannot be fulfilled on deployments.apps \"web\"")
        );

        // A label change keeps the generation; a spec change bumps it.
        let labelled = s
            .mutate::<Deployment>("shop", "web", |d| {
                d.metadata.labels = Some([("team".to_string(), "a".to_string())].into());
            })
            .unwrap();
        assert_eq!(labelled.obj().metadata.generation, Some(1));
        assert_ne!(
            labelled.obj().metadata.resource_version.as_deref(),
            Some(rv1.as_str())
        );
        let scaled = s
            .mutate::<Deployment>("shop", "web", |d| {
                d.spec.as_mut().unwrap().replicas = Some(5)
            })
            .unwrap();
        assert_eq!(scaled.obj().metadata.generation, Some(2));

        // A no-op write keeps the resourceVersion.
        let before = s.resource_version();
        s.mutate::<Deployment>("shop", "web", |_| {}).unwrap();
        assert_eq!(s.resource_version(), before);
    }

    #[test]
    fn create_needs_namespace_and_unique_name() {
        let mut s = Store::new(1);
        let err = s.create(deploy("web", 1), now()).unwrap_err();
        assert_eq!(err.message, "namespaces \"shop\" not found");
        s.create(ns("shop"), now()).unwrap();
        s.create(deploy("web", 1), now()).unwrap();
        let err = s.create(deploy("web", 1), now()).unwrap_err();
        assert_eq!(err.message, "deployments.apps \"web\" already exists");
        let err = s.create(deploy("Bad_Name", 1), now()).unwrap_err();
        assert_eq!(err.code, 422);
    }

    #[test]
    fn history_and_compaction() {
        let mut s = Store::new(1);
        s.create(ns("shop"), now()).unwrap();
        let start = s.resource_version();
        s.create(deploy("a", 1), now()).unwrap();
        s.create(deploy("b", 1), now()).unwrap();
        s.remove::<Deployment>("shop", "a").unwrap();
        let Since::Events(events) = s.deployments.since(start) else {
            panic!("history should reach back")
        };
        let kinds: Vec<_> = events.iter().map(|e| e.ty).collect();
        assert_eq!(
            kinds,
            [EventType::Added, EventType::Added, EventType::Deleted]
        );
        s.compact();
        assert!(matches!(s.deployments.since(start), Since::Expired { .. }));
        assert!(
            matches!(s.deployments.since(s.resource_version()), Since::Events(e) if e.is_empty())
        );
    }

    #[test]
    fn generate_name_and_namespace_ranges() {
        let mut s = Store::new(7);
        s.create(ns("a"), now()).unwrap();
        s.create(ns("b"), now()).unwrap();
        let mut d = deploy("x", 1);
        d.metadata.name = None;
        d.metadata.generate_name = Some("web-".into());
        d.metadata.namespace = Some("a".into());
        let made = s.create(d, now()).unwrap();
        let name = made.obj().metadata.name.clone().unwrap();
        assert!(name.starts_with("web-") && name.len() == 9, "{name}");
        let mut d = deploy("y", 1);
        d.metadata.namespace = Some("b".into());
        s.create(d, now()).unwrap();
        assert_eq!(s.list::<Deployment>(Some("a")).len(), 1);
        assert_eq!(s.list::<Deployment>(Some("b")).len(), 1);
        assert_eq!(s.list::<Deployment>(None).len(), 2);
        // The same seed gives the same names.
        let mut again = Store::new(7);
        assert_eq!(again.random_suffix(5), Store::new(7).random_suffix(5));
        assert_ne!(again.random_uid(), "");
    }
}
