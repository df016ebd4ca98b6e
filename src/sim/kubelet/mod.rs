//! The kubelet: container lifecycle, probes, restarts and events of every pod bound to a node.
//!
//! One [`Kubelet`] plays the kubelets of all nodes of a cluster. Like the real one it watches pods
//! (here: the store's change history since its last tick) rather than scanning them, and it keeps
//! a due-time index, so a tick touches only the pods whose state is due to change — cheap at
//! 10,000 pods. The pod status it writes is rendered from its own runtime state.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};

use super::app::{App, PodView};
use super::controllers::PodMetrics;
use super::events::{self, Source};
use super::store::{EventType, Key, Since, Store};

mod lifecycle;
mod pod;
pub mod probes;
mod restart;
mod running;
pub mod runtime;
mod status;
#[cfg(test)]
pub(crate) mod tests;

pub use probes::serves_port;

use lifecycle::Ctx;
use pod::PodRt;
use runtime::Nodes;

pub struct Kubelet {
    app: Arc<dyn App>,
    seed: u64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The store's resourceVersion after the last tick; None until the first (which lists all).
    synced_rv: Option<u64>,
    pods: HashMap<Key, PodRt>,
    /// `(due time, pod)`, so a tick pops exactly the pods with work to do.
    due: BTreeSet<(Timestamp, Key)>,
    nodes: Nodes,
}

fn node_of(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()?
        .node_name
        .as_deref()
        .filter(|n| !n.is_empty())
}

impl Kubelet {
    /// A kubelet whose pods run `app`; `seed` fixes IDs, timings and the apps' randomness.
    pub fn new(app: Arc<dyn App>, seed: u64) -> Self {
        Self {
            app,
            seed,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The app every pod runs (the proxy and the log endpoint ask it too).
    pub fn app(&self) -> &dyn App {
        &*self.app
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Catches up with the pods changed since the last tick, then runs every transition due by
    /// `now`. Called with the store locked, after the controllers.
    pub fn tick(&self, store: &mut Store, now: Timestamp) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let changed: BTreeSet<Key> = match inner.synced_rv.map(|rv| store.pods.since(rv)) {
            Some(Since::Events(events)) => events
                .iter()
                .filter(|e| e.ty != EventType::Deleted || inner.pods.contains_key(&e.key))
                .map(|e| e.key.clone())
                .collect(),
            // First tick, or the history no longer reaches back: relist, as a watch would.
            _ => store
                .pods
                .range(None, None)
                .map(|(k, _)| k.clone())
                .chain(inner.pods.keys().cloned())
                .collect(),
        };
        for key in changed {
            self.process(&mut inner, store, &key, now, true);
        }
        while let Some((t, key)) = inner.due.first().cloned() {
            if t > now {
                break;
            }
            inner.due.pop_first();
            if let Some(rt) = inner.pods.get_mut(&key) {
                rt.indexed = None;
            }
            self.process(&mut inner, store, &key, now, false);
        }
        inner.synced_rv = Some(store.resource_version());
    }

    /// Makes the kubelet ask the app about the pod's running containers again at its next tick,
    /// rather than at the periodic re-check: the app's world changed (a fault was injected).
    pub fn recheck(&self, namespace: &str, name: &str, now: Timestamp) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Inner { pods, due, .. } = &mut *inner;
        let key = (namespace.to_string(), name.to_string());
        let Some(rt) = pods.get_mut(&key) else { return };
        for c in &mut rt.containers {
            c.recheck_at(now);
        }
        if let Some(t) = rt.indexed.take() {
            due.remove(&(t, key.clone()));
        }
        if let Some(t) = rt.due() {
            due.insert((t, key));
            rt.indexed = Some(t);
        }
    }

    /// Brings one pod up to `now`; `observe` first compares it with the stored object.
    fn process(
        &self,
        inner: &mut Inner,
        store: &mut Store,
        key: &Key,
        now: Timestamp,
        observe: bool,
    ) {
        let Some(pod) = store.get::<Pod>(&key.0, &key.1) else {
            forget(inner, key);
            return;
        };
        let uid = pod.metadata.uid.as_deref().unwrap_or("");
        if inner.pods.get(key).is_some_and(|rt| rt.uid != uid) {
            forget(inner, key);
        }
        if !inner.pods.contains_key(key) {
            let Some(node_name) = node_of(&pod) else {
                // No kubelet owns an unbound pod, so the API server deletes it at once.
                if pod.metadata.deletion_timestamp.is_some() {
                    let _ = store.remove::<Pod>(&key.0, &key.1);
                }
                return;
            };
            let node = inner
                .nodes
                .get_or_add(node_name, store.get::<Node>("", node_name).as_deref());
            let rt = PodRt::new(&pod, node_name, node, self.seed, now);
            inner.pods.insert(key.clone(), rt);
        }
        let Inner {
            pods, due, nodes, ..
        } = inner;
        let Some(rt) = pods.get_mut(key) else { return };
        let node = nodes.get_or_add(&rt.node, None);
        let mut events = Vec::new();
        let mut ctx = Ctx {
            app: &*self.app,
            seed: self.seed,
            pod: &pod,
            pod_ip: "",
            node,
            events: &mut events,
        };
        if observe {
            rt.observe(&mut ctx, now);
        }
        rt.advance(&mut ctx, now);
        let source = Source {
            component: "kubelet",
            host: Some(&rt.node),
        };
        for e in events {
            let field = e.container.map(|c| format!("spec.containers{{{c}}}"));
            let type_ = if e.warning { "Warning" } else { "Normal" };
            events::record(
                store,
                e.at,
                events::reference(&*pod, field),
                type_,
                e.reason,
                e.message,
                source,
            );
        }
        if std::mem::take(&mut rt.dirty) {
            let status = status::render(rt, &pod);
            if pod.status.as_ref() != Some(&status) {
                let _ = store.mutate::<Pod>(&key.0, &key.1, |p| p.status = Some(status));
            }
        }
        if rt.finished() {
            let _ = store.remove::<Pod>(&key.0, &key.1);
            forget(inner, key);
            return;
        }
        if let Some(t) = rt.due() {
            due.insert((t, key.clone()));
            rt.indexed = Some(t);
        }
    }
}

/// Drops a pod the kubelet no longer runs, and frees its address.
fn forget(inner: &mut Inner, key: &Key) {
    let Some(rt) = inner.pods.remove(key) else {
        return;
    };
    if let Some(t) = rt.indexed {
        inner.due.remove(&(t, key.clone()));
    }
    if let (Some(slot), Some(node)) = (rt.slot, inner.nodes.get_mut(&rt.node)) {
        node.ips.release(slot);
    }
}

impl PodMetrics for Kubelet {
    /// Percent of the pod's CPU request in use, as metrics-server and the HPA compute it; None
    /// when a container has no CPU request or is not running.
    fn cpu_utilization(&self, pod: &Pod, now: Timestamp) -> Option<f64> {
        let (mut used, mut requested) = (0.0, 0.0);
        for c in &pod.spec.as_ref()?.containers {
            let request = c.resources.as_ref()?.requests.as_ref()?.get("cpu")?;
            requested += runtime::cpu_millis(&request.0)?;
            let (status, started) = runtime::running_since(pod, &c.name)?;
            let image = c.image.as_deref().unwrap_or("");
            let view = PodView::of(
                pod,
                &c.name,
                image,
                started,
                status.restart_count,
                self.seed,
            );
            used += self.app.cpu_millicores(&view, now);
        }
        (requested > 0.0).then(|| 100.0 * used / requested)
    }
}
