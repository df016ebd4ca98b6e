//! Deleting: one object or a collection. Pods terminate gracefully (marked first, removed by the
//! kubelet); a namespace takes its contents along.

use http::{Response, StatusCode};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::api::Call;
use super::http::{self as h, Body};
use super::kinds::Res;
use super::object::SimObject;
use super::resource::{Filter, Served, fetch, list_body, respond};
use super::status::ApiError;
use super::store::{Key, Store, Stored};
use super::write::dry_run;

/// Grace period for a pod deletion: the request's, else the pod's terminationGracePeriodSeconds.
fn grace_seconds(call: &Call, pod_default: Option<i64>) -> Result<i64, ApiError> {
    if let Some(g) = call.query.int("gracePeriodSeconds")? {
        return Ok(g.max(0));
    }
    if !call.body.is_empty()
        && let Ok(opts) = serde_json::from_slice::<Value>(&call.body)
        && let Some(g) = opts["gracePeriodSeconds"].as_i64()
    {
        return Ok(g.max(0));
    }
    Ok(pod_default.unwrap_or(30))
}

/// Deletes one object in a locked store. Pods terminate gracefully: the first delete only marks
/// them (deletionTimestamp), and the kubelet removes them once the containers have stopped.
fn delete_one<T: Served>(
    store: &mut Store,
    now: Timestamp,
    ns: &str,
    name: &str,
    grace: Option<i64>,
) -> Result<(Stored<T>, bool), ApiError> {
    if T::RES == Res::Pods
        && let Some(g) = grace.filter(|g| *g > 0)
    {
        let current = T::table(store).get(ns, name).cloned();
        let Some(current) = current else {
            let info = T::info();
            return Err(ApiError::not_found(info.plural, info.group, name));
        };
        if current.obj().metadata().deletion_timestamp.is_some() {
            return Ok((current, false));
        }
        let when = now
            .saturating_add(SignedDuration::from_secs(g))
            .unwrap_or(now);
        let stored = store.mark_deleted::<T>(ns, name, when, g)?;
        return Ok((stored, false));
    }
    if T::RES == Res::Namespaces {
        remove_namespace_contents(store, name);
    }
    Ok((store.remove::<T>(ns, name)?, true))
}

/// A namespace takes everything in it along (the real one passes through Terminating first).
fn remove_namespace_contents(store: &mut Store, ns: &str) {
    fn clear<T: SimObject>(store: &mut Store, ns: &str) {
        let names: Vec<String> = T::table(store)
            .range(Some(ns), None)
            .map(|(k, _)| k.1.clone())
            .collect();
        for name in names {
            let _ = store.remove::<T>(ns, &name);
        }
    }
    use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    use k8s_openapi::api::core::v1::{Event, Pod, ResourceQuota, Service};
    clear::<HorizontalPodAutoscaler>(store, ns);
    clear::<Deployment>(store, ns);
    clear::<ReplicaSet>(store, ns);
    clear::<Pod>(store, ns);
    clear::<Service>(store, ns);
    clear::<ResourceQuota>(store, ns);
    clear::<Event>(store, ns);
}

fn deleted_status<T: SimObject>(call: &Call, obj: &T) -> Value {
    let info = call.path.info;
    let mut details = json!({"name": obj.metadata().name, "kind": info.plural});
    if !info.group.is_empty() {
        details["group"] = info.group.into();
    }
    details["uid"] = obj.metadata().uid.clone().into();
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}

pub fn delete<T: Served>(call: &Call) -> Result<Response<Body>, ApiError> {
    let current = fetch::<T>(call)?;
    let current_obj = current.obj();
    if let Ok(opts) = serde_json::from_slice::<Value>(&call.body)
        && let Some(uid) = opts["preconditions"]["uid"].as_str()
        && Some(uid) != current_obj.metadata().uid.as_deref()
    {
        let info = call.path.info;
        return Err(ApiError {
            code: 409,
            reason: "Conflict",
            message: format!(
                "Operation cannot be fulfilled on {} \"{}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                super::status::qualified(info.plural, info.group),
                call.name(),
                current_obj.metadata().uid.clone().unwrap_or_default()
            ),
            details: None,
        });
    }
    let pod_default = pod_grace(&*current_obj);
    let grace = Some(grace_seconds(call, pod_default)?);
    if dry_run(call) {
        return respond(call, StatusCode::OK, &current);
    }
    let (ns, name) = (call.namespace().to_string(), call.name().to_string());
    let (stored, gone) = call
        .cluster
        .write(|store, now| delete_one::<T>(store, now, &ns, &name, grace))?;
    if gone && T::RES != Res::Pods {
        return Ok(h::json_value(
            StatusCode::OK,
            &deleted_status(call, &*stored.obj()),
        ));
    }
    respond(call, StatusCode::OK, &stored)
}

fn pod_grace<T: SimObject>(obj: &T) -> Option<i64> {
    if T::RES != Res::Pods {
        return None;
    }
    serde_json::to_value(obj)
        .ok()
        .and_then(|v| v["spec"]["terminationGracePeriodSeconds"].as_i64())
}

pub fn delete_collection<T: Served>(call: &Call) -> Result<Response<Body>, ApiError> {
    let filter = Filter::from_call(call)?;
    filter.validate::<T>()?;
    let targets: Vec<(Key, Option<i64>)> = {
        let store = call.cluster.store();
        let mut out = Vec::new();
        for (key, stored) in T::table(&store).range(filter.namespace.as_deref(), None) {
            let obj = stored.obj();
            if filter.matches(&*obj)? {
                out.push((key.clone(), pod_grace(&*obj)));
            }
        }
        out
    };
    let mut items = Vec::new();
    for ((ns, name), default) in targets {
        let grace = Some(grace_seconds(call, default)?);
        if let Ok((stored, _)) = call
            .cluster
            .write(|store, now| delete_one::<T>(store, now, &ns, &name, grace))
        {
            items.push(stored);
        }
    }
    let rv = call.cluster.store().resource_version();
    Ok(list_body(call, rv, None, &items))
}
