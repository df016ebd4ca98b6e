//! What the console knows of one cluster: its rows by kind, its connection state, and the
//! indexes the views need (pods by workload, Unhealthy events by pod, restarts seen).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::kube::rows::{EventRow, HpaRow, PodRow, ReplicaSetRow, WorkloadRow};
use crate::kube::{Change, ConnState, Kind, ObjKey, Row, ServerInfo};

/// How long restarts count towards "restarts in the last hour".
pub const RESTART_WINDOW: SignedDuration = SignedDuration::from_secs(3600);

/// One cluster's rows and connection.
#[derive(Clone, Debug)]
pub struct ClusterState {
    pub context: String,
    pub env: usize,
    /// What a column header prints for it within its environment.
    pub short: String,
    pub conn: ConnState,
    /// When `conn` last changed.
    pub conn_since: Timestamp,
    /// When the cluster was last known synced (its rows are that old when it is not).
    pub last_synced: Option<Timestamp>,
    pub server: Option<ServerInfo>,
    pub pods: BTreeMap<ObjKey, Arc<PodRow>>,
    pub workloads: BTreeMap<ObjKey, Arc<WorkloadRow>>,
    pub replicasets: BTreeMap<ObjKey, Arc<ReplicaSetRow>>,
    pub hpas: BTreeMap<ObjKey, Arc<HpaRow>>,
    pub events: BTreeMap<ObjKey, Arc<EventRow>>,
    /// Per kind, while a relist is under way: the keys applied since it began.
    relisting: HashMap<Kind, HashSet<ObjKey>>,
    /// Kinds that have been listed at least once.
    listed: HashSet<Kind>,
    /// Restarts observed while watching: pod -> times a restart count went up. A pod seen for the
    /// first time with restarts contributes its last restart only (the older ones are unknown).
    restarts_seen: HashMap<ObjKey, Vec<Timestamp>>,
    /// `Unhealthy` events by the pod they are about.
    unhealthy: HashMap<ObjKey, Vec<Arc<EventRow>>>,
}

impl ClusterState {
    pub fn new(context: String, env: usize, short: String, now: Timestamp) -> Self {
        Self {
            context,
            env,
            short,
            conn: ConnState::Connecting,
            conn_since: now,
            last_synced: None,
            server: None,
            pods: BTreeMap::new(),
            workloads: BTreeMap::new(),
            replicasets: BTreeMap::new(),
            hpas: BTreeMap::new(),
            events: BTreeMap::new(),
            relisting: HashMap::new(),
            listed: HashSet::new(),
            restarts_seen: HashMap::new(),
            unhealthy: HashMap::new(),
        }
    }

    /// True once every kind has been listed once (tables are complete, if perhaps stale).
    pub fn loaded(&self) -> bool {
        self.listed.len() == Kind::ALL.len()
    }

    /// The rows are not live: the cluster is degraded or unreachable after having synced.
    pub fn stale_since(&self) -> Option<Timestamp> {
        match self.conn {
            ConnState::Degraded { .. } | ConnState::Unreachable { .. } => {
                self.last_synced.map(|_| self.conn_since)
            }
            _ => None,
        }
    }

    pub fn set_conn(&mut self, conn: ConnState, at: Timestamp) {
        if conn == ConnState::Synced {
            self.last_synced = Some(at);
        }
        // An outage keeps its start: Unreachable -> Unreachable with a new retry time is the same
        // outage.
        let same_kind = std::mem::discriminant(&conn) == std::mem::discriminant(&self.conn);
        if !same_kind {
            self.conn_since = at;
        }
        self.conn = conn;
    }

    pub fn apply(&mut self, change: Change, now: Timestamp) {
        match change {
            Change::Relisting(kind) => {
                self.relisting.insert(kind, HashSet::new());
            }
            Change::Listed(kind) => {
                if let Some(seen) = self.relisting.remove(&kind) {
                    let gone: Vec<ObjKey> = self
                        .keys(kind)
                        .filter(|k| !seen.contains(*k))
                        .cloned()
                        .collect();
                    for key in gone {
                        self.delete(kind, &key);
                    }
                }
                self.listed.insert(kind);
            }
            Change::Apply(row) => {
                let kind = row.kind();
                if let Some(seen) = self.relisting.get_mut(&kind) {
                    seen.insert(row.key().clone());
                }
                self.upsert(row, now);
            }
            Change::Delete(kind, key) => self.delete(kind, &key),
        }
    }

    fn keys(&self, kind: Kind) -> Box<dyn Iterator<Item = &ObjKey> + '_> {
        match kind {
            Kind::Pod => Box::new(self.pods.keys()),
            Kind::Deployment => Box::new(self.workloads.keys()),
            Kind::ReplicaSet => Box::new(self.replicasets.keys()),
            Kind::Hpa => Box::new(self.hpas.keys()),
            Kind::Event => Box::new(self.events.keys()),
        }
    }

    fn upsert(&mut self, row: Row, now: Timestamp) {
        match row {
            Row::Pod(pod) => {
                let old = self.pods.get(&pod.key).map(|p| p.restarts);
                self.note_restarts(&pod, old, now);
                self.pods.insert(pod.key.clone(), pod);
            }
            Row::Deployment(w) => {
                self.workloads.insert(w.key.clone(), w);
            }
            Row::ReplicaSet(rs) => {
                self.replicasets.insert(rs.key.clone(), rs);
            }
            Row::Hpa(h) => {
                self.hpas.insert(h.key.clone(), h);
            }
            Row::Event(ev) => {
                self.unindex_event(&ev.key);
                if ev.reason == "Unhealthy" && ev.object_kind == "Pod" {
                    let pod = ObjKey::new(ev.key.namespace.clone(), ev.object_name.clone());
                    self.unhealthy.entry(pod).or_default().push(Arc::clone(&ev));
                }
                self.events.insert(ev.key.clone(), ev);
            }
        }
    }

    fn delete(&mut self, kind: Kind, key: &ObjKey) {
        match kind {
            Kind::Pod => {
                self.pods.remove(key);
                self.restarts_seen.remove(key);
            }
            Kind::Deployment => {
                self.workloads.remove(key);
            }
            Kind::ReplicaSet => {
                self.replicasets.remove(key);
            }
            Kind::Hpa => {
                self.hpas.remove(key);
            }
            Kind::Event => {
                self.unindex_event(key);
                self.events.remove(key);
            }
        }
    }

    fn unindex_event(&mut self, key: &ObjKey) {
        let Some(old) = self.events.get(key) else {
            return;
        };
        if old.reason != "Unhealthy" {
            return;
        }
        let pod = ObjKey::new(old.key.namespace.clone(), old.object_name.clone());
        if let Some(list) = self.unhealthy.get_mut(&pod) {
            list.retain(|e| e.key != *key);
            if list.is_empty() {
                self.unhealthy.remove(&pod);
            }
        }
    }

    fn note_restarts(&mut self, pod: &PodRow, old: Option<u32>, now: Timestamp) {
        let marks = self.restarts_seen.entry(pod.key.clone()).or_default();
        match old {
            None if pod.restarts > 0 => marks.extend(pod.last_restart),
            Some(old) if pod.restarts > old => {
                let when = pod.last_restart.unwrap_or(now);
                for _ in old..pod.restarts {
                    marks.push(when);
                }
            }
            _ => {}
        }
        let cutoff = now - RESTART_WINDOW;
        marks.retain(|t| *t >= cutoff);
    }

    /// Restarts of `pod` seen in the last hour.
    pub fn restarts_last_hour(&self, pod: &ObjKey, now: Timestamp) -> u32 {
        let cutoff = now - RESTART_WINDOW;
        self.restarts_seen
            .get(pod)
            .map(|m| m.iter().filter(|t| **t >= cutoff).count() as u32)
            .unwrap_or(0)
    }

    /// The `Unhealthy` events about `pod`, newest last.
    pub fn unhealthy_events(&self, pod: &ObjKey) -> &[Arc<EventRow>] {
        self.unhealthy.get(pod).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The live probe results of `pod`, from its status and its `Unhealthy` events.
    pub fn probes(&self, pod: &PodRow, now: Timestamp) -> crate::kube::rows::Probes {
        let events: Vec<&EventRow> = self
            .unhealthy_events(&pod.key)
            .iter()
            .map(|e| e.as_ref())
            .collect();
        crate::kube::probes(pod, &events, now)
    }

    /// Pods of workload `ns/name`, found by their owner.
    pub fn pods_of<'a>(
        &'a self,
        workload: &'a ObjKey,
    ) -> impl Iterator<Item = &'a Arc<PodRow>> + 'a {
        let start = ObjKey::new(workload.namespace.clone(), String::new());
        self.pods
            .range(start..)
            .take_while(move |(k, _)| k.namespace == workload.namespace)
            .map(|(_, p)| p)
            .filter(move |p| p.workload.as_deref() == Some(workload.name.as_str()))
    }

    /// The HPA that scales Deployment `key`, if any.
    pub fn hpa_for(&self, key: &ObjKey) -> Option<&Arc<HpaRow>> {
        let start = ObjKey::new(key.namespace.clone(), String::new());
        self.hpas
            .range(start..)
            .take_while(|(k, _)| k.namespace == key.namespace)
            .map(|(_, h)| h)
            .find(|h| h.target_kind == "Deployment" && h.target_name == key.name)
    }
}
