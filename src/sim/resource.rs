//! The verbs on a resource collection or object: list, get, create, update, patch, delete.

use std::sync::Arc;

use http::{Response, StatusCode};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::api::Call;
use super::defaults;
use super::http::{self as h, Body};
use super::kinds::Res;
use super::object::SimObject;
use super::patch::{self, PatchKind};
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::store::{Key, Selection, Store, Stored};
use super::table::{self, IncludeObject, TableObject};
use super::views;

pub use super::watch::watch;

/// The bounds every served kind meets.
pub trait Served: SimObject + TableObject {}
impl<T: SimObject + TableObject> Served for T {}

/// Which objects a list, watch or deletecollection selects.
pub struct Filter {
    pub res: Res,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filter {
    pub fn from_call(call: &Call) -> Result<Self, ApiError> {
        let labels = LabelSelector::parse(call.query.get("labelSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let mut raw_fields = call.query.get("fieldSelector").unwrap_or("").to_string();
        // `GET .../pods/x?watch=1` watches one object: the same as fieldSelector=metadata.name=x.
        if let Some(name) = &call.path.name {
            if !raw_fields.is_empty() {
                raw_fields.push(',');
            }
            raw_fields.push_str(&format!("metadata.name={name}"));
        }
        let fields =
            FieldSelector::parse(&raw_fields).map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(Self {
            res: call.path.info.res,
            namespace: call.path.namespace.clone(),
            labels,
            fields,
        })
    }

    /// Refuses a field selector naming a field `T` does not support, even when nothing would match.
    pub fn validate<T: SimObject>(&self) -> Result<(), ApiError> {
        let blank = T::default();
        self.fields
            .matches(|path| blank.field(&views::field_path(self.res, path)))
            .map(|_| ())
            .map_err(|field| ApiError::bad_request(format!("field label not supported: {field}")))
    }

    /// The same judgement on the selectable state kept in watch history (fields were validated
    /// up front, so an unsupported one cannot occur here).
    pub fn matches_selection<T: SimObject>(&self, sel: &Selection) -> bool {
        if let Some(ns) = &self.namespace
            && sel.namespace != *ns
        {
            return false;
        }
        self.labels.matches(sel.labels.as_ref())
            && self
                .fields
                .matches(|path| sel.field::<T>(&views::field_path(self.res, path)))
                .unwrap_or(false)
    }

    pub fn matches<T: SimObject>(&self, obj: &T) -> Result<bool, ApiError> {
        let meta = obj.metadata();
        if let Some(ns) = &self.namespace
            && meta.namespace.as_deref() != Some(ns.as_str())
        {
            return Ok(false);
        }
        if !self.labels.matches(meta.labels.as_ref()) {
            return Ok(false);
        }
        self.fields
            .matches(|path| obj.field(&views::field_path(self.res, path)))
            .map_err(|field| ApiError::bad_request(format!("field label not supported: {field}")))
    }
}

/// Continue tokens are opaque to clients; ours name the last key served.
fn encode_continue(rv: u64, key: &Key) -> String {
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    format!("{rv}-{}-{}", hex(&key.0), hex(&key.1))
}

fn decode_continue(token: &str) -> Result<Key, ApiError> {
    let bad = || ApiError::bad_request(format!("continue key is not valid: {token:?}"));
    let unhex = |s: &str| -> Option<String> {
        if !s.len().is_multiple_of(2) {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
            .collect();
        String::from_utf8(bytes?).ok()
    };
    let mut parts = token.splitn(3, '-');
    let (_rv, ns, name) = (parts.next(), parts.next(), parts.next());
    match (ns.and_then(unhex), name.and_then(unhex)) {
        (Some(ns), Some(name)) => Ok((ns, name)),
        _ => Err(bad()),
    }
}

pub fn list<T: Served>(call: &Call) -> Result<Response<Body>, ApiError> {
    let filter = Filter::from_call(call)?;
    filter.validate::<T>()?;
    let limit = call
        .query
        .int("limit")?
        .filter(|l| *l > 0)
        .map(|l| l as usize);
    let after = call
        .query
        .get("continue")
        .filter(|c| !c.is_empty())
        .map(decode_continue)
        .transpose()?;
    let (items, rv, next) = {
        let store = call.cluster.store();
        let rv = store.resource_version();
        let mut items: Vec<Stored<T>> = Vec::new();
        let mut next = None;
        for (_, stored) in T::table(&store).range(filter.namespace.as_deref(), after.as_ref()) {
            if !filter.matches(&*stored.obj)? {
                continue;
            }
            if limit.is_some_and(|l| items.len() >= l) {
                next = items.last().map(|s| key_of(&*s.obj));
                break;
            }
            items.push(stored.clone());
        }
        (items, rv, next)
    };
    let token = next.map(|k| encode_continue(rv, &k));
    if call.wants_table() {
        let include =
            IncludeObject::parse(call.query.get("includeObject")).map_err(ApiError::bad_request)?;
        let refs: Vec<&T> = items.iter().map(|s| &*s.obj).collect();
        let t = table::table(
            &refs,
            call.cluster.now(),
            include,
            &rv.to_string(),
            token.as_deref(),
        );
        return Ok(h::json_value(StatusCode::OK, &t));
    }
    let info = call.path.info;
    let mut body = Vec::with_capacity(items.iter().map(|s| s.json.len() + 1).sum::<usize>() + 256);
    body.extend_from_slice(
        format!(
            "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{{\"resourceVersion\":\"{rv}\"",
            info.kind,
            info.api_version()
        )
        .as_bytes(),
    );
    if let Some(token) = &token {
        body.extend_from_slice(format!(",\"continue\":\"{token}\"").as_bytes());
    }
    body.extend_from_slice(b"},\"items\":[");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&views::render(info.res, &s.json));
    }
    body.extend_from_slice(b"]}");
    Ok(h::json(StatusCode::OK, body))
}

fn key_of<T: SimObject>(obj: &T) -> Key {
    let m = obj.metadata();
    (
        m.namespace.clone().unwrap_or_default(),
        m.name.clone().unwrap_or_default(),
    )
}

fn not_found(call: &Call) -> ApiError {
    let info = call.path.info;
    ApiError::not_found(info.plural, info.group, call.name())
}

fn fetch<T: Served>(call: &Call) -> Result<Stored<T>, ApiError> {
    let store = call.cluster.store();
    T::table(&store)
        .get(call.namespace(), call.name())
        .cloned()
        .ok_or_else(|| not_found(call))
}

/// One object in the form the request asked for (JSON in the requested version, or a Table).
pub fn respond<T: Served>(
    call: &Call,
    code: StatusCode,
    stored: &Stored<T>,
) -> Result<Response<Body>, ApiError> {
    if call.wants_table() && call.method == http::Method::GET {
        let include =
            IncludeObject::parse(call.query.get("includeObject")).map_err(ApiError::bad_request)?;
        let t = table::table_for_object(&*stored.obj, call.cluster.now(), include, true);
        return Ok(h::json_value(code, &t));
    }
    Ok(h::json(
        code,
        views::render(call.path.info.res, &stored.json),
    ))
}

pub fn get<T: Served>(call: &Call) -> Result<Response<Body>, ApiError> {
    let stored = fetch::<T>(call)?;
    respond(call, StatusCode::OK, &stored)
}

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

fn dry_run(call: &Call) -> bool {
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
        let stored = Stored {
            obj: Arc::new(obj),
            json: Default::default(),
        };
        let json = serde_json::to_vec(&*stored.obj).unwrap_or_default();
        return respond(
            call,
            StatusCode::CREATED,
            &Stored {
                json: json.into(),
                ..stored
            },
        );
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
        Written::DryRun(obj) => {
            let json = serde_json::to_vec(&obj).unwrap_or_default();
            respond(
                call,
                StatusCode::OK,
                &Stored {
                    obj: Arc::new(obj),
                    json: json.into(),
                },
            )
        }
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
        let merged = merge_for_endpoint(call, &*old.obj, value)?;
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
        let mut value: Value =
            serde_json::from_slice(&old.json).map_err(|e| ApiError::internal(e.to_string()))?;
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
        let merged = merge_for_endpoint(call, &*old.obj, value)?;
        let obj = decode::<T>(call, merged, true)?;
        store_update(store, call, obj)
    })?;
    finish(call, written)
}

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
        if current.obj.metadata().deletion_timestamp.is_some() {
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
    use k8s_openapi::api::core::v1::{Event, Pod, Service};
    clear::<HorizontalPodAutoscaler>(store, ns);
    clear::<Deployment>(store, ns);
    clear::<ReplicaSet>(store, ns);
    clear::<Pod>(store, ns);
    clear::<Service>(store, ns);
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
    if let Ok(opts) = serde_json::from_slice::<Value>(&call.body)
        && let Some(uid) = opts["preconditions"]["uid"].as_str()
        && Some(uid) != current.obj.metadata().uid.as_deref()
    {
        let info = call.path.info;
        return Err(ApiError {
            code: 409,
            reason: "Conflict",
            message: format!(
                "Operation cannot be fulfilled on {} \"{}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                super::status::qualified(info.plural, info.group),
                call.name(),
                current.obj.metadata().uid.clone().unwrap_or_default()
            ),
            details: None,
        });
    }
    let pod_default = pod_grace(&*current.obj);
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
            &deleted_status(call, &*stored.obj),
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
            if filter.matches(&*stored.obj)? {
                out.push((key.clone(), pod_grace(&*stored.obj)));
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
    let info = call.path.info;
    let rv = call.cluster.store().resource_version();
    let mut body = format!(
        "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{{\"resourceVersion\":\"{rv}\"}},\"items\":[",
        info.kind,
        info.api_version()
    )
    .into_bytes();
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&views::render(info.res, &s.json));
    }
    body.extend_from_slice(b"]}");
    Ok(h::json(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let key = ("shop".to_string(), "web-1".to_string());
        let token = encode_continue(42, &key);
        assert_eq!(decode_continue(&token).unwrap(), key);
        assert!(decode_continue("garbage").is_err());
        assert!(decode_continue("1-zz-00").is_err());
    }
}
