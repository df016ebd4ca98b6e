//! What the store needs to know about each stored Kubernetes type.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod, ResourceQuota, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::{ListableResource, Metadata, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::kinds::{self, Res, ResInfo};
use super::store::{Store, Table, precise};

/// A Kubernetes type the simulator stores.
pub trait SimObject:
    Resource
    + ListableResource
    + Metadata<Ty = ObjectMeta>
    + Serialize
    + DeserializeOwned
    + Clone
    + Default
    + PartialEq
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// The endpoint family that owns the store (the storage version).
    const RES: Res;
    /// Spec changes bump `metadata.generation`, and `status` is written only through `/status`.
    const HAS_STATUS: bool;
    /// The table keeps the typed object beside its JSON. Kinds that number in the thousands (pods,
    /// events) are kept as JSON alone and decoded when read, for memory: see `store::Stored`.
    const TYPED: bool = true;

    fn table(store: &Store) -> &Table<Self>;
    fn table_mut(store: &mut Store) -> &mut Table<Self>;

    /// The field-selector paths this kind supports beyond `metadata.name` / `metadata.namespace`.
    const FIELDS: &'static [&'static str];

    /// Calls `f` on every `metav1.Time` of the object, in a fixed order. Needed by kinds that are
    /// not `TYPED`: their JSON has whole seconds, and the store keeps the rest beside it.
    fn times_mut(&mut self, _f: &mut dyn FnMut(&mut Time)) {}

    /// A field-selector value beyond `metadata.name` / `metadata.namespace`; None = unsupported field.
    fn extra_field(&self, _path: &str) -> Option<String> {
        None
    }

    fn info() -> &'static ResInfo {
        kinds::info(Self::RES)
    }

    fn field(&self, path: &str) -> Option<String> {
        let meta = self.metadata();
        match path {
            "metadata.name" => Some(meta.name.clone().unwrap_or_default()),
            "metadata.namespace" => Some(meta.namespace.clone().unwrap_or_default()),
            _ => self.extra_field(path),
        }
    }
}

macro_rules! sim_object {
    ($ty:ty, $res:expr, $status:expr, $field:ident, $fields:expr) => {
        sim_object!($ty, $res, $status, $field, $fields, |_, _| {}, true);
    };
    // Kept as JSON alone, with a function visiting its times.
    ($ty:ty, $res:expr, $status:expr, $field:ident, $fields:expr, $times:expr) => {
        sim_object!($ty, $res, $status, $field, $fields, $times, false);
    };
    ($ty:ty, $res:expr, $status:expr, $field:ident, $fields:expr, $times:expr, $typed:expr) => {
        impl SimObject for $ty {
            const RES: Res = $res;
            const FIELDS: &'static [&'static str] = $fields;
            const HAS_STATUS: bool = $status;
            const TYPED: bool = $typed;
            fn times_mut(&mut self, f: &mut dyn FnMut(&mut Time)) {
                let times: fn(&mut Self, &mut dyn FnMut(&mut Time)) = $times;
                times(self, f)
            }
            fn table(store: &Store) -> &Table<Self> {
                &store.$field
            }
            fn table_mut(store: &mut Store) -> &mut Table<Self> {
                &mut store.$field
            }
            fn extra_field(&self, path: &str) -> Option<String> {
                extra_field(self, path)
            }
        }
    };
}

sim_object!(
    Namespace,
    Res::Namespaces,
    false,
    namespaces,
    &["status.phase"]
);
sim_object!(Node, Res::Nodes, false, nodes, &["spec.unschedulable"]);
sim_object!(
    Pod,
    Res::Pods,
    false,
    pods,
    &[
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ],
    precise::pod_times
);
sim_object!(Service, Res::Services, false, services, &[]);
sim_object!(
    ResourceQuota,
    Res::ResourceQuotas,
    true,
    resourcequotas,
    &[]
);
sim_object!(
    Event,
    Res::Events,
    false,
    events,
    &[
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ],
    precise::event_times
);
sim_object!(Deployment, Res::Deployments, true, deployments, &[]);
sim_object!(
    ReplicaSet,
    Res::ReplicaSets,
    true,
    replicasets,
    &["status.replicas"]
);
sim_object!(HorizontalPodAutoscaler, Res::HpaV2, true, hpas, &[]);

/// Per-type field-selector support, following the fields kube-apiserver registers for each kind.
trait ExtraField {
    fn get(&self, path: &str) -> Option<String>;
}

fn extra_field<T: ExtraField>(obj: &T, path: &str) -> Option<String> {
    obj.get(path)
}

impl ExtraField for Namespace {
    fn get(&self, path: &str) -> Option<String> {
        match path {
            "status.phase" => Some(
                self.status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_default(),
            ),
            _ => None,
        }
    }
}

impl ExtraField for Node {
    fn get(&self, path: &str) -> Option<String> {
        match path {
            "spec.unschedulable" => Some(
                self.spec
                    .as_ref()
                    .and_then(|s| s.unschedulable)
                    .unwrap_or(false)
                    .to_string(),
            ),
            _ => None,
        }
    }
}

impl ExtraField for Pod {
    fn get(&self, path: &str) -> Option<String> {
        let spec = self.spec.as_ref();
        let status = self.status.as_ref();
        let s = |v: Option<&String>| Some(v.cloned().unwrap_or_default());
        match path {
            "spec.nodeName" => s(spec.and_then(|s| s.node_name.as_ref())),
            "spec.restartPolicy" => s(spec.and_then(|s| s.restart_policy.as_ref())),
            "spec.schedulerName" => s(spec.and_then(|s| s.scheduler_name.as_ref())),
            "spec.serviceAccountName" => s(spec.and_then(|s| s.service_account_name.as_ref())),
            "spec.hostNetwork" => Some(
                spec.and_then(|s| s.host_network)
                    .unwrap_or(false)
                    .to_string(),
            ),
            "status.phase" => s(status.and_then(|s| s.phase.as_ref())),
            "status.podIP" => s(status.and_then(|s| s.pod_ip.as_ref())),
            "status.nominatedNodeName" => s(status.and_then(|s| s.nominated_node_name.as_ref())),
            _ => None,
        }
    }
}

impl ExtraField for Service {
    fn get(&self, _path: &str) -> Option<String> {
        None
    }
}

impl ExtraField for ResourceQuota {
    fn get(&self, _path: &str) -> Option<String> {
        None
    }
}

impl ExtraField for Event {
    fn get(&self, path: &str) -> Option<String> {
        let o = &self.involved_object;
        let s = |v: &Option<String>| Some(v.clone().unwrap_or_default());
        match path {
            "involvedObject.kind" => s(&o.kind),
            "involvedObject.namespace" => s(&o.namespace),
            "involvedObject.name" => s(&o.name),
            "involvedObject.uid" => s(&o.uid),
            "involvedObject.apiVersion" => s(&o.api_version),
            "involvedObject.resourceVersion" => s(&o.resource_version),
            "involvedObject.fieldPath" => s(&o.field_path),
            "reason" => s(&self.reason),
            "reportingComponent" => s(&self.reporting_component),
            "source" => Some(
                self.source
                    .as_ref()
                    .and_then(|s| s.component.clone())
                    .unwrap_or_default(),
            ),
            "type" => s(&self.type_),
            _ => None,
        }
    }
}

impl ExtraField for Deployment {
    fn get(&self, _path: &str) -> Option<String> {
        None
    }
}

impl ExtraField for ReplicaSet {
    fn get(&self, path: &str) -> Option<String> {
        match path {
            "status.replicas" => Some(
                self.status
                    .as_ref()
                    .map(|s| s.replicas)
                    .unwrap_or(0)
                    .to_string(),
            ),
            _ => None,
        }
    }
}

impl ExtraField for HorizontalPodAutoscaler {
    fn get(&self, _path: &str) -> Option<String> {
        None
    }
}
