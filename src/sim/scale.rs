//! The `scale` subresource of Deployments and ReplicaSets, as an autoscaling/v1 Scale.

use http::{Response, StatusCode};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as K8sSelector;
use serde_json::{Value, json};

use super::api::Call;
use super::http::{self as h, Body};
use super::object::SimObject;
use super::patch::{self, PatchKind};
use super::selector::LabelSelector;
use super::status::ApiError;

/// A workload with a replica count.
pub trait Scalable: SimObject {
    fn spec_replicas(&self) -> i32;
    fn set_spec_replicas(&mut self, n: i32);
    fn status_replicas(&self) -> i32;
    fn selector(&self) -> Option<&K8sSelector>;
}

impl Scalable for Deployment {
    fn spec_replicas(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }
    fn set_spec_replicas(&mut self, n: i32) {
        self.spec.get_or_insert_with(Default::default).replicas = Some(n);
    }
    fn status_replicas(&self) -> i32 {
        self.status.as_ref().and_then(|s| s.replicas).unwrap_or(0)
    }
    fn selector(&self) -> Option<&K8sSelector> {
        self.spec.as_ref().map(|s| &s.selector)
    }
}

impl Scalable for ReplicaSet {
    fn spec_replicas(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }
    fn set_spec_replicas(&mut self, n: i32) {
        self.spec.get_or_insert_with(Default::default).replicas = Some(n);
    }
    fn status_replicas(&self) -> i32 {
        self.status.as_ref().map(|s| s.replicas).unwrap_or(0)
    }
    fn selector(&self) -> Option<&K8sSelector> {
        self.spec.as_ref().map(|s| &s.selector)
    }
}

fn scale_of<T: Scalable>(obj: &T) -> Value {
    let m = obj.metadata();
    let selector = obj
        .selector()
        .and_then(|s| LabelSelector::from_k8s(s).ok())
        .map(|s| s.to_string())
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m.name,
            "namespace": m.namespace,
            "uid": m.uid,
            "resourceVersion": m.resource_version,
            "creationTimestamp": m.creation_timestamp,
        },
        "spec": {"replicas": obj.spec_replicas()},
        "status": {"replicas": obj.status_replicas(), "selector": selector},
    })
}

pub fn handle<T: Scalable>(call: &Call, verb: &str) -> Result<Response<Body>, ApiError> {
    let info = call.path.info;
    let (ns, name) = (call.namespace().to_string(), call.name().to_string());
    let current = call
        .cluster
        .store()
        .get::<T>(&ns, &name)
        .ok_or_else(|| ApiError::not_found(info.plural, info.group, &name))?;
    let mut scale = scale_of(&*current);
    match verb {
        "get" => return Ok(h::json_value(StatusCode::OK, &scale)),
        "update" => {
            let body: Value = serde_json::from_slice(&call.body)
                .map_err(|e| ApiError::bad_request(format!("error decoding Scale: {e}")))?;
            scale["spec"] = body["spec"].clone();
            scale["metadata"]["resourceVersion"] = body["metadata"]["resourceVersion"].clone();
        }
        "patch" => {
            let ct = call
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let kind = PatchKind::from_content_type(ct)
                .ok_or_else(|| ApiError::unsupported_media_type(ct))?;
            let rv_before = scale["metadata"]["resourceVersion"].clone();
            patch::apply_patch(kind, &mut scale, &call.body)
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            if scale["metadata"]["resourceVersion"] == rv_before {
                scale["metadata"]["resourceVersion"] = Value::Null;
            }
        }
        _ => return Err(ApiError::method_not_allowed(call.method.as_str())),
    }
    let replicas = scale["spec"]["replicas"].as_i64().unwrap_or(0);
    if replicas < 0 || replicas > i64::from(i32::MAX) {
        return Err(ApiError::invalid(
            "Scale",
            "autoscaling",
            &name,
            &format!(
                "spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0"
            ),
        ));
    }
    let precondition = scale["metadata"]["resourceVersion"]
        .as_str()
        .map(str::to_string);
    let stored = call.cluster.write(|store, _| {
        let mut obj = (*current).clone();
        if let Some(rv) = precondition {
            obj.metadata_mut().resource_version = Some(rv);
        } else {
            obj.metadata_mut().resource_version = None;
            if let Some(latest) = store.get::<T>(&ns, &name) {
                obj = (*latest).clone();
                obj.metadata_mut().resource_version = None;
            }
        }
        obj.set_spec_replicas(replicas as i32);
        store.update(obj)
    })?;
    Ok(h::json_value(StatusCode::OK, &scale_of(&*stored.obj())))
}
