//! Test scaffolding for the controllers: a store with a namespace and nodes, a hand-driven clock,
//! and a stand-in kubelet that starts bound pods and finishes graceful deletions.

use std::collections::HashSet;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{
    ContainerStatus, Event, Namespace, Node, NodeCondition, NodeStatus, Pod, PodCondition,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use super::super::store::Store;
use super::{PodMetrics, reconcile};

pub(super) const NS: &str = "shop";

/// The same CPU utilization for every pod, or none.
struct Uniform(Option<f64>);

impl PodMetrics for Uniform {
    fn cpu_utilization(&self, _pod: &Pod, _now: Timestamp) -> Option<f64> {
        self.0
    }
}

pub(super) struct Harness {
    pub store: Store,
    pub now: Timestamp,
    /// What every pod reports to the HPA.
    pub cpu: Option<f64>,
    /// Pods running one of these images start but never become ready.
    pub unready_images: HashSet<String>,
    /// Whether the stand-in kubelet runs at all.
    pub kubelet: bool,
}

impl Harness {
    /// Names of the pods in the test namespace that are not being deleted.
    pub fn live_pod_names(&self) -> Vec<String> {
        self.store
            .list::<Pod>(Some(NS))
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .map(|p| p.metadata.name.clone().unwrap())
            .collect()
    }

    /// Three ready nodes.
    pub fn new() -> Self {
        Self::with_nodes(&["node-1", "node-2", "node-3"])
    }

    pub fn without_nodes() -> Self {
        Self::with_nodes(&[])
    }

    pub fn with_nodes(nodes: &[&str]) -> Self {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut store = Store::new(7);
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(NS.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        store.create(ns, now).unwrap();
        let mut h = Self {
            store,
            now,
            cpu: None,
            unready_images: HashSet::new(),
            kubelet: true,
        };
        for n in nodes {
            h.add_node(n);
        }
        h
    }

    pub fn add_node(&mut self, name: &str) {
        let mut node = Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        set_ready(&mut node, "True");
        self.store.create(node, self.now).unwrap();
    }

    pub fn create_deployment(&mut self, d: Deployment) {
        self.store.create(d, self.now).unwrap();
    }

    pub fn advance(&mut self, secs: i64) {
        self.now += SignedDuration::from_secs(secs);
    }

    /// One controller pass and one kubelet pass at the current time, then a second passes.
    pub fn step(&mut self) {
        reconcile(&mut self.store, self.now, &Uniform(self.cpu));
        if self.kubelet {
            self.run_kubelet();
        }
        self.advance(1);
    }

    /// Steps until a step writes nothing.
    pub fn settle(&mut self) {
        for _ in 0..200 {
            let before = self.store.resource_version();
            self.step();
            if self.store.resource_version() == before {
                return;
            }
        }
        panic!("the controllers never settled");
    }

    fn run_kubelet(&mut self) {
        let now = self.now;
        for pod in self.store.list::<Pod>(None) {
            let spec = pod.spec.as_ref().unwrap();
            if spec.node_name.is_none() {
                continue;
            }
            let (ns, name) = (
                pod.metadata.namespace.clone().unwrap(),
                pod.metadata.name.clone().unwrap(),
            );
            if let Some(deadline) = &pod.metadata.deletion_timestamp {
                // Marked in an earlier pass: the containers have stopped by now.
                let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0);
                if deadline.0 - SignedDuration::from_secs(grace) < now {
                    self.store.remove::<Pod>(&ns, &name).unwrap();
                }
                continue;
            }
            let ready = !spec.containers.iter().any(|c| {
                self.unready_images
                    .contains(c.image.as_deref().unwrap_or(""))
            });
            let phase = pod.status.as_ref().and_then(|s| s.phase.clone());
            if phase.as_deref() == Some("Running") {
                continue;
            }
            self.store
                .mutate::<Pod>(&ns, &name, |p| {
                    let status = p.status.get_or_insert_with(Default::default);
                    status.phase = Some("Running".into());
                    status.start_time = Some(Time(now));
                    status.container_statuses = Some(vec![ContainerStatus {
                        name: "app".into(),
                        ready,
                        ..Default::default()
                    }]);
                    let conditions = status.conditions.get_or_insert_with(Vec::new);
                    conditions.push(PodCondition {
                        type_: "Ready".into(),
                        status: if ready { "True" } else { "False" }.into(),
                        last_transition_time: Some(Time(now)),
                        ..Default::default()
                    });
                })
                .unwrap();
        }
    }

    pub fn deployment(&self, name: &str) -> Arc<Deployment> {
        self.store.get::<Deployment>(NS, name).unwrap()
    }

    /// The ReplicaSets, oldest revision first.
    pub fn replicasets(&self) -> Vec<Arc<ReplicaSet>> {
        let mut list = self.store.list::<ReplicaSet>(Some(NS));
        list.sort_by_key(|rs| {
            annotation(&rs.metadata, "deployment.kubernetes.io/revision")
                .parse::<i64>()
                .unwrap_or(0)
        });
        list
    }

    /// Active pods owned by the ReplicaSet.
    pub fn pods_of(&self, rs: &ReplicaSet) -> Vec<Arc<Pod>> {
        let uid = rs.metadata.uid.clone();
        self.store
            .list::<Pod>(Some(NS))
            .into_iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .filter(|p| {
                p.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|o| Some(&o.uid) == uid.as_ref())
            })
            .collect()
    }

    /// Event messages with this reason, oldest first.
    pub fn events(&self, reason: &str) -> Vec<String> {
        let mut list: Vec<_> = self
            .store
            .list::<Event>(Some(NS))
            .into_iter()
            .filter(|e| e.reason.as_deref() == Some(reason))
            .collect();
        list.sort_by_key(|e| {
            e.metadata
                .resource_version
                .as_deref()
                .unwrap_or("")
                .parse::<u64>()
                .unwrap_or(0)
        });
        list.into_iter()
            .map(|e| e.message.clone().unwrap_or_default())
            .collect()
    }
}

pub(super) fn annotation(meta: &ObjectMeta, key: &str) -> String {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .cloned()
        .unwrap_or_default()
}

pub(super) fn set_ready(node: &mut Node, status: &str) {
    node.status = Some(NodeStatus {
        conditions: Some(vec![NodeCondition {
            type_: "Ready".into(),
            status: status.into(),
            ..Default::default()
        }]),
        ..Default::default()
    });
}

/// A Deployment as a user writes it: everything the API server would default left unset.
pub(super) fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "web:1",
                                         "resources": {"requests": {"cpu": "100m"}}}]}
            }
        }
    }))
    .unwrap()
}

pub(super) fn set_image(d: &mut Deployment, image: &str) {
    d.spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0]
        .image = Some(image.into());
}
