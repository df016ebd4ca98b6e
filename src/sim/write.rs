//! Writing a resource: create, update (PUT) and patch, each read-change-written under one store
//! lock, with the status subresource's rules and the real server's defaulting and validation.

use std::sync::Arc;

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::api::Call;
use super::defaults;
use super::http::Body;
use super::kinds::Res;
use super::patch::{self, PatchKind};
use super::resource::{Served, not_found, respond};
use super::status::ApiError;
use super::store::{Store, Stored};

fn parse_body(call: &Call) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(&call.body).map_err(|e| {
        ApiError::bad_request(format!(
            "the object provided is unrecognized: couldn't get version/kind; json parse error: {e}"
        ))
    })?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the object provided is unrecognized: couldn't get version/kind; json parse error: not an object",
        ));
    }
    Ok(value)
}

/// Checks kind, apiVersion, name and namespace of a request body against the URL, then decodes it.
fn decode<T: Served>(call: &Call, mut value: Value, name_from_url: bool) -> Result<T, ApiError> {
    let info = call.path.info;
    let kind = value["kind"].as_str().unwrap_or(info.kind);
    let api_version = value["apiVersion"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| info.api_version());
    if kind != info.kind || api_version != info.api_version() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            info.api_version()
        )));
    }
    value["kind"] = info.kind.into();
    value["apiVersion"] = info.api_version().into();
    if !value["metadata"].is_object() {
        value["metadata"] = json!({});
    }
    if info.namespaced {
        match value["metadata"]["namespace"].as_str() {
            Some(ns) if !ns.is_empty() && ns != call.namespace() => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => value["metadata"]["namespace"] = call.namespace().into(),
        }
    }
    if name_from_url {
        match value["metadata"]["name"].as_str() {
            Some(n) if n != call.name() => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({})",
                    call.name()
                )));
            }
            _ => value["metadata"]["name"] = call.name().into(),
        }
    }
    defaults::apply(info.res, &mut value);
    let name = value["metadata"]["name"].as_str().unwrap_or("").to_string();
    defaults::validate(info.res, &name, &value)?;
    let obj: T = serde_json::from_value(value).map_err(|e| {
        ApiError::bad_request(format!(
            "{}{} in version \"{}\" cannot be handled as a {}: {e}",
            info.kind,
            if info.group.is_empty() {
                String::new()
            } else {
                format!(".{}", info.group)
            },
            info.version,
            info.kind
        ))
    })?;
    Ok(obj)
}

pub(super) fn dry_run(call: &Call) -> bool {
    call.query.get("dryRun") == Some("All")
}

pub fn create<T: Served>(call: &Call) -> Result<Response<Body>, ApiError> {
    if call.path.name.is_some() {
        return Err(ApiError::method_not_allowed("POST"));
    }
    let mut value = parse_body(call)?;
    if T::HAS_STATUS || T::RES == Res::Pods {
        // Status is the controllers' to write; a client's create starts from nothing.
        value.as_object_mut().map(|o| o.remove("status"));
    }
    let obj = decode::<T>(call, value, false)?;
    if dry_run(call) {
        return respond(call, StatusCode::CREATED, &Stored::new(Arc::new(obj)));
    }
    let stored = call.cluster.write(|store, now| store.create(obj, now))?;
    respond(call, StatusCode::CREATED, &stored)
}

/// Puts `new` in place of the stored object, keeping what the endpoint may not change: the status
/// of kinds with a status subresource (main endpoint), or everything but the status (`/status`).
fn merge_for_endpoint<T: Served>(call: &Call, old: &T, new: Value) -> Result<Value, ApiError> {
    let status_only = call.path.sub.as_deref() == Some("status");
    let mut old_json = serde_json::to_value(old).map_err(|e| ApiError::internal(e.to_string()))?;
    if status_only {
        old_json["status"] = new.get("status").cloned().unwrap_or(Value::Null);
        if let Some(rv) = new["metadata"].get("resourceVersion") {
            old_json["metadata"]["resourceVersion"] = rv.clone();
        }
        return Ok(old_json);
    }
    let mut new = new;
    if T::HAS_STATUS || T::RES == Res::Pods {
        new["status"] = old_json.get("status").cloned().unwrap_or(Value::Null);
    }
    Ok(new)
}

/// The outcome of a write computed under the store lock.
enum Written<T> {
    Stored(Stored<T>),
    Created(Stored<T>),
    DryRun(T),
}

fn finish<T: Served>(call: &Call, written: Written<T>) -> Result<Response<Body>, ApiError> {
    match written {
        Written::Stored(stored) => respond(call, StatusCode::OK, &stored),
        Written::Created(stored) => respond(call, StatusCode::CREATED, &stored),
        Written::DryRun(obj) => respond(call, StatusCode::OK, &Stored::new(Arc::new(obj))),
    }
}

/// Read, change and write under one store lock, as the real server's guaranteed-update loop
/// makes a patch or unconditional update atomic: concurrent writers never lose each other's changes.
fn store_update<T: Served>(store: &mut Store, call: &Call, obj: T) -> Result<Written<T>, ApiError> {
    if dry_run(call) {
        return Ok(Written::DryRun(obj));
    }
    store.update(obj).map(Written::Stored)
}

fn current<T: Served>(store: &Store, call: &Call) -> Option<Stored<T>> {
    T::table(store).get(call.namespace(), call.name()).cloned()
}

pub fn update<T: Served>(call: &Call) -> Result<Response<Body>, ApiError> {
    let value = parse_body(call)?;
    let written = call.cluster.write(|store, _| {
        let old = current::<T>(store, call).ok_or_else(|| not_found(call))?;
        let merged = merge_for_endpoint(call, &*old.obj(), value)?;
        let obj = decode::<T>(call, merged, true)?;
        store_update(store, call, obj)
    })?;
    finish(call, written)
}

pub fn patch<T: Served>(call: &Call) -> Result<Response<Body>, ApiError> {
    let content_type = call
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let kind = PatchKind::from_content_type(content_type)
        .ok_or_else(|| ApiError::unsupported_media_type(content_type))?;
    let written = call.cluster.write(|store, now| {
        let Some(old) = current::<T>(store, call) else {
            // Server-side apply creates what does not exist yet.
            if kind == PatchKind::Apply && call.path.sub.is_none() {
                let obj = decode::<T>(call, parse_body(call)?, true)?;
                if dry_run(call) {
                    return Ok(Written::DryRun(obj));
                }
                return store.create(obj, now).map(Written::Created);
            }
            return Err(not_found(call));
        };
        let old = old.obj();
        let mut value: Value =
            serde_json::to_value(&*old).map_err(|e| ApiError::internal(e.to_string()))?;
        let rv_before = value["metadata"]["resourceVersion"].clone();
        patch::apply_patch(kind, &mut value, &call.body).map_err(|e| {
            let info = call.path.info;
            if e.status_code() == 422 {
                ApiError::invalid(info.kind, info.group, call.name(), &e.to_string())
            } else {
                ApiError::bad_request(e.to_string())
            }
        })?;
        // A patch that names a resourceVersion is a precondition; otherwise it applies to the latest.
        if value["metadata"]["resourceVersion"] == rv_before {
            value["metadata"]["resourceVersion"] = Value::Null;
        }
        let merged = merge_for_endpoint(call, &*old, value)?;
        let obj = decode::<T>(call, merged, true)?;
        store_update(store, call, obj)
    })?;
    finish(call, written)
}
