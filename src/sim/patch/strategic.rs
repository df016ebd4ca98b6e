//! Strategic merge patch: the part of Kubernetes' `application/strategic-merge-patch+json` that
//! kubectl sends (set image, rollout restart, scale, label, annotate, apply).
//!
//! The real implementation reads each field's patch strategy from the Go struct tags. Here the
//! strategy is chosen by field name alone, which is right for the fields of the kinds the simulator
//! serves; a list not named in [`list_strategy`] is replaced wholesale, as an atomic list would be.

use serde_json::{Map, Value};

use super::PatchError;

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";

/// Merges `patch` (a JSON object) into `target`.
pub(super) fn apply(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let Value::Object(patch) = patch else {
        return Err(bad("the patch must be an object"));
    };
    let mut object = match target.take() {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    // A top-level `$patch: delete` empties the object, as apimachinery does; it cannot vanish.
    if !merge_map(&mut object, patch)? {
        object.clear();
    }
    *target = Value::Object(object);
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListStrategy {
    /// Elements are maps matched by this key; unmatched patch elements are appended.
    MergeByKey(&'static str),
    /// A set of scalars: patch values are added (`metadata.finalizers`).
    MergePrimitives,
    Replace,
}

/// The patch strategy of a list field, from the `patchStrategy`/`patchMergeKey` tags of the
/// Kubernetes types that carry a field of this name.
fn list_strategy(field: &str, original: &[Value], patch: &[Value]) -> ListStrategy {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates" => ListStrategy::MergeByKey("name"),
        "volumeMounts" => ListStrategy::MergeByKey("mountPath"),
        "volumeDevices" => ListStrategy::MergeByKey("devicePath"),
        // A container's ports are keyed by containerPort, a Service's by port.
        "ports" => {
            let in_container = original
                .iter()
                .chain(patch)
                .any(|el| el.get("containerPort").is_some());
            ListStrategy::MergeByKey(if in_container {
                "containerPort"
            } else {
                "port"
            })
        }
        "conditions" => ListStrategy::MergeByKey("type"),
        "hostAliases" => ListStrategy::MergeByKey("ip"),
        "ownerReferences" => ListStrategy::MergeByKey("uid"),
        "topologySpreadConstraints" => ListStrategy::MergeByKey("topologyKey"),
        "finalizers" => ListStrategy::MergePrimitives,
        _ => ListStrategy::Replace,
    }
}

/// Merges `patch` into `original`; `false` means the patch asked for the whole map to be deleted.
fn merge_map(
    original: &mut Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<bool, PatchError> {
    match patch.get(PATCH) {
        None => {}
        Some(Value::String(d)) if d == "merge" => {}
        // Merging into nothing is a replacement that still honours the directives inside.
        Some(Value::String(d)) if d == "replace" => original.clear(),
        Some(Value::String(d)) if d == "delete" => return Ok(false),
        Some(other) => return Err(bad(format!("unknown patch type: {other} in map"))),
    }
    if let Some(retain) = patch.get(RETAIN_KEYS) {
        retain_keys(original, patch, retain)?;
    }
    for (key, value) in patch {
        let Some(field) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) else {
            continue;
        };
        let Value::Array(doomed) = value else {
            return Err(bad("invalid patch format of primitive list"));
        };
        if let Some(Value::Array(list)) = original.get_mut(field) {
            list.retain(|v| !doomed.contains(v));
        }
    }
    // The order directives need each list as it was before the merge.
    let mut orders = Vec::new();
    for (key, value) in patch {
        if let Some(field) = key.strip_prefix(SET_ELEMENT_ORDER) {
            let Value::Array(order) = value else {
                return Err(bad("invalid patch format of setElementOrder list"));
            };
            let before = match original.get(field) {
                Some(Value::Array(list)) => list.clone(),
                _ => Vec::new(),
            };
            orders.push((field, order, before));
        }
    }
    for (key, value) in patch {
        if [PATCH, RETAIN_KEYS].contains(&key.as_str())
            || key.starts_with(SET_ELEMENT_ORDER)
            || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
        {
            continue;
        }
        match merge_field(key, original.get_mut(key).map(Value::take), value)? {
            Some(merged) => original.insert(key.clone(), merged),
            None => original.remove(key),
        };
    }
    for (field, order, before) in orders {
        if let Some(Value::Array(list)) = original.get_mut(field) {
            apply_element_order(field, list, order, &before);
        }
    }
    Ok(true)
}

/// `$retainKeys`: the map keeps only the listed keys, and the patch may set no others.
fn retain_keys(
    original: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    retain: &Value,
) -> Result<(), PatchError> {
    let malformed = || bad("invalid patch format of retainKeys");
    let keep = retain
        .as_array()
        .ok_or_else(malformed)?
        .iter()
        .map(|k| k.as_str().ok_or_else(malformed))
        .collect::<Result<Vec<_>, _>>()?;
    let outside = patch
        .iter()
        .any(|(k, v)| !v.is_null() && !k.starts_with('$') && !keep.contains(&k.as_str()));
    if outside {
        return Err(malformed());
    }
    original.retain(|k, _| keep.contains(&k.as_str()));
    Ok(())
}

/// The new value of `field`, or `None` when the patch deletes it.
fn merge_field(
    field: &str,
    original: Option<Value>,
    patch: &Value,
) -> Result<Option<Value>, PatchError> {
    Ok(match patch {
        Value::Null => None,
        Value::Object(patch) => {
            let mut map = match original {
                Some(Value::Object(map)) => map,
                _ => Map::new(),
            };
            merge_map(&mut map, patch)?.then_some(Value::Object(map))
        }
        Value::Array(patch) => {
            let list = match original {
                Some(Value::Array(list)) => list,
                _ => Vec::new(),
            };
            Some(Value::Array(merge_list(field, list, patch)?))
        }
        scalar => Some(scalar.clone()),
    })
}

fn merge_list(
    field: &str,
    mut original: Vec<Value>,
    patch: &[Value],
) -> Result<Vec<Value>, PatchError> {
    // A `{"$patch": "replace"}` element makes the rest of the patch list the whole list.
    let replace = patch
        .iter()
        .any(|el| el.get(PATCH).and_then(Value::as_str) == Some("replace"));
    if replace {
        original.clear();
    }
    let strategy = list_strategy(field, &original, patch);
    let patch = patch
        .iter()
        .filter(|el| el.get(PATCH).is_none_or(|d| d != "replace"));
    match strategy {
        ListStrategy::Replace => patch
            .filter_map(|el| merge_field(field, None, el).transpose())
            .collect(),
        ListStrategy::MergePrimitives => {
            for el in patch {
                if !original.contains(el) {
                    original.push(el.clone());
                }
            }
            Ok(original)
        }
        ListStrategy::MergeByKey(merge_key) => {
            for el in patch {
                merge_keyed_element(&mut original, el, merge_key)?;
            }
            Ok(original)
        }
    }
}

fn merge_keyed_element(
    list: &mut Vec<Value>,
    patch: &Value,
    merge_key: &str,
) -> Result<(), PatchError> {
    let Value::Object(patch) = patch else {
        return Err(bad(format!(
            "{patch} is not a map, but its list is merged by the key {merge_key}"
        )));
    };
    let Some(key) = patch.get(merge_key) else {
        return Err(bad(format!(
            "map: {} does not contain declared merge key: {merge_key}",
            Value::Object(patch.clone())
        )));
    };
    if patch.get(PATCH).and_then(Value::as_str) == Some("delete") {
        list.retain(|el| el.get(merge_key) != Some(key));
        return Ok(());
    }
    let found = list.iter().position(|el| el.get(merge_key) == Some(key));
    let mut element = match found.map(|i| list[i].take()) {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    // `$patch: delete`, the one way to drop the element, was handled above.
    merge_map(&mut element, patch)?;
    match found {
        Some(i) => list[i] = Value::Object(element),
        None => list.push(Value::Object(element)),
    }
    Ok(())
}

/// `$setElementOrder/<field>`: the elements the order names come in that order; the others (which
/// only the server had) keep their places relative to them, as apimachinery's
/// `normalizeElementOrder` arranges it.
fn apply_element_order(field: &str, list: &mut Vec<Value>, order: &[Value], before: &[Value]) {
    let strategy = list_strategy(field, before, order);
    if strategy == ListStrategy::Replace {
        return;
    }
    let wanted: Vec<&Value> = order
        .iter()
        .filter_map(|el| element_id(strategy, el))
        .collect();
    let was: Vec<&Value> = before
        .iter()
        .filter_map(|el| element_id(strategy, el))
        .collect();
    let rank_in = |ids: &[&Value], el: &Value| {
        element_id(strategy, el).and_then(|id| ids.iter().position(|x| *x == id))
    };

    let (mut named, server_only): (Vec<Value>, Vec<Value>) = list
        .drain(..)
        .partition(|el| rank_in(&wanted, el).is_some());
    named.sort_by_key(|el| rank_in(&wanted, el));

    let mut named = named.into_iter().peekable();
    let mut server_only = server_only.into_iter().peekable();
    loop {
        let take_named = match (named.peek(), server_only.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            // Only two elements that were both on the server can be compared; otherwise the
            // server-only one goes first, as in apimachinery.
            (Some(n), Some(s)) => matches!(
                (rank_in(&was, n), rank_in(&was, s)),
                (Some(a), Some(b)) if a < b
            ),
        };
        let next = if take_named {
            named.next()
        } else {
            server_only.next()
        };
        list.extend(next);
    }
}

/// What identifies an element of a merged list: its merge key's value, or a scalar itself.
fn element_id(strategy: ListStrategy, el: &Value) -> Option<&Value> {
    match strategy {
        ListStrategy::MergeByKey(key) => el.get(key),
        ListStrategy::MergePrimitives => Some(el),
        ListStrategy::Replace => None,
    }
}

fn bad(why: impl Into<String>) -> PatchError {
    PatchError::Strategic(why.into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn merged(original: Value, patch: Value) -> Value {
        let mut target = original;
        apply(&mut target, &patch).unwrap_or_else(|e| panic!("{patch} should apply: {e}"));
        assert_no_directives(&target);
        target
    }

    fn refused(original: Value, patch: Value) -> String {
        let mut target = original;
        match apply(&mut target, &patch) {
            Ok(()) => panic!("{patch} should be refused, got {target}"),
            Err(e) => e.to_string(),
        }
    }

    fn assert_no_directives(v: &Value) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    assert!(!k.starts_with('$'), "directive {k} leaked into the object");
                    assert_no_directives(v);
                }
            }
            Value::Array(list) => list.iter().for_each(assert_no_directives),
            _ => {}
        }
    }

    fn names(list: &Value) -> Vec<&str> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|el| el["name"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn maps_merge_recursively_and_null_deletes() {
        let got = merged(
            json!({"a": {"b": 1, "c": {"d": 2, "e": 3}}, "f": "x", "g": 1}),
            json!({"a": {"c": {"d": 20, "e": null, "n": {"deep": true}}}, "f": null, "h": "new"}),
        );
        assert_eq!(
            got,
            json!({"a": {"b": 1, "c": {"d": 20, "n": {"deep": true}}}, "g": 1, "h": "new"})
        );
    }

    #[test]
    fn containers_merge_by_name_and_new_ones_are_appended() {
        let got = merged(
            json!({"containers": [
                {"name": "a", "image": "a:1", "args": ["--x", "--y"]},
                {"name": "b", "image": "b:1"}
            ]}),
            json!({"containers": [
                {"name": "b", "image": "b:2"},
                {"name": "c", "image": "c:1", "resources": null},
                {"name": "a", "args": ["--z"]}
            ]}),
        );
        assert_eq!(
            got["containers"],
            json!([
                {"name": "a", "image": "a:1", "args": ["--z"]},
                {"name": "b", "image": "b:2"},
                {"name": "c", "image": "c:1"}
            ]),
            "args are replaced, not merged; a null in a new element is dropped"
        );
    }

    #[test]
    fn merge_keys_by_field_name() {
        let got = merged(
            json!({"spec": {
                "initContainers": [{"name": "init", "image": "i:1"}],
                "volumes": [{"name": "data", "emptyDir": {}}],
                "imagePullSecrets": [{"name": "reg"}],
                "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["a"]}],
                "containers": [{
                    "name": "app",
                    "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                    "volumeMounts": [{"mountPath": "/data", "name": "data"}],
                    "ports": [{"containerPort": 80, "name": "http"}]
                }]
            }}),
            json!({"spec": {
                "initContainers": [{"name": "init", "image": "i:2"}],
                "volumes": [{"name": "cache", "emptyDir": {}}],
                "imagePullSecrets": [{"name": "reg2"}],
                "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["b"]}],
                "containers": [{
                    "name": "app",
                    "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
                    "volumeMounts": [{"mountPath": "/data", "readOnly": true}],
                    "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 9090}]
                }]
            }}),
        );
        let spec = &got["spec"];
        assert_eq!(
            spec["initContainers"],
            json!([{"name": "init", "image": "i:2"}])
        );
        assert_eq!(names(&spec["volumes"]), ["data", "cache"]);
        assert_eq!(names(&spec["imagePullSecrets"]), ["reg", "reg2"]);
        assert_eq!(
            spec["hostAliases"],
            json!([{"ip": "10.0.0.1", "hostnames": ["b"]}])
        );
        let app = &spec["containers"][0];
        assert_eq!(
            app["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "20"}, {"name": "C", "value": "3"}])
        );
        assert_eq!(
            app["volumeMounts"],
            json!([{"mountPath": "/data", "name": "data", "readOnly": true}])
        );
        assert_eq!(
            app["ports"],
            json!([{"containerPort": 80, "name": "http", "protocol": "TCP"}, {"containerPort": 9090}])
        );
    }

    #[test]
    fn service_ports_merge_by_port_and_conditions_by_type() {
        let got = merged(
            json!({
                "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]},
                "status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "Synced", "status": "True"}]}
            }),
            json!({
                "spec": {"ports": [{"port": 80, "targetPort": 9000}]},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]}
            }),
        );
        assert_eq!(
            got["spec"]["ports"],
            json!([{"port": 80, "targetPort": 9000}, {"port": 443}])
        );
        assert_eq!(
            got["status"]["conditions"],
            json!([{"type": "Ready", "status": "True"}, {"type": "Synced", "status": "True"}])
        );
    }

    #[test]
    fn other_lists_are_replaced() {
        let got = merged(
            json!({"tolerations": [{"key": "a"}], "command": ["sh", "-c"], "args": ["x"], "unknown": [{"name": "a"}]}),
            json!({"tolerations": [{"key": "b"}], "command": ["bash"], "args": [], "unknown": [{"name": "b"}]}),
        );
        assert_eq!(
            got,
            json!({"tolerations": [{"key": "b"}], "command": ["bash"], "args": [], "unknown": [{"name": "b"}]})
        );
    }

    #[test]
    fn patch_delete_in_a_list_removes_the_element() {
        let got = merged(
            json!({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}),
            json!({"env": [{"name": "A", "$patch": "delete"}, {"name": "Z", "$patch": "delete"}]}),
        );
        assert_eq!(got["env"], json!([{"name": "B", "value": "2"}]));
    }

    #[test]
    fn patch_replace_in_a_list_replaces_the_list() {
        let got = merged(
            json!({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}),
            json!({"env": [{"name": "C", "value": "3"}, {"$patch": "replace"}]}),
        );
        assert_eq!(got["env"], json!([{"name": "C", "value": "3"}]));
    }

    #[test]
    fn patch_replace_and_delete_on_maps() {
        let original = json!({"spec": {"selector": {"app": "web", "tier": "front"}, "strategy": {"type": "Recreate"}}});
        let got = merged(
            original.clone(),
            json!({"spec": {"selector": {"$patch": "replace", "app": "api"}, "strategy": {"$patch": "delete"}}}),
        );
        assert_eq!(got, json!({"spec": {"selector": {"app": "api"}}}));
        assert_eq!(merged(original, json!({"$patch": "delete"})), json!({}));
    }

    #[test]
    fn set_element_order_orders_the_merged_list() {
        let got = merged(
            json!({"containers": [{"name": "a"}, {"name": "b"}]}),
            json!({
                "$setElementOrder/containers": [{"name": "b"}, {"name": "c"}, {"name": "a"}],
                "containers": [{"name": "c", "image": "c:1"}]
            }),
        );
        assert_eq!(names(&got["containers"]), ["b", "c", "a"]);
    }

    #[test]
    fn set_element_order_keeps_server_only_elements_in_place() {
        let got = merged(
            json!({"env": [{"name": "A"}, {"name": "X"}, {"name": "B"}]}),
            json!({"$setElementOrder/env": [{"name": "A"}, {"name": "B"}], "env": [{"name": "B", "value": "2"}]}),
        );
        assert_eq!(
            got["env"],
            json!([{"name": "A"}, {"name": "X"}, {"name": "B", "value": "2"}])
        );
    }

    #[test]
    fn set_element_order_alone_reorders_and_never_lands_in_the_object() {
        let got = merged(
            json!({"metadata": {"finalizers": ["x", "y"]}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]}}),
            json!({
                "metadata": {"$setElementOrder/finalizers": ["y", "x"]},
                "spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}
            }),
        );
        assert_eq!(got["metadata"]["finalizers"], json!(["y", "x"]));
        assert_eq!(names(&got["spec"]["containers"]), ["b", "a"]);
    }

    #[test]
    fn directives_inside_new_elements_are_honoured_not_copied() {
        let got = merged(
            json!({"containers": []}),
            json!({"containers": [{
                "name": "new",
                "$setElementOrder/env": [{"name": "B"}, {"name": "A"}],
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                "securityContext": {"$patch": "replace", "runAsUser": 1}
            }]}),
        );
        let container = &got["containers"][0];
        assert_eq!(names(&container["env"]), ["B", "A"]);
        assert_eq!(container["securityContext"], json!({"runAsUser": 1}));
    }

    #[test]
    fn retain_keys_drops_unlisted_keys() {
        let got = merged(
            json!({"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}),
            json!({"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null}}),
        );
        assert_eq!(got, json!({"strategy": {"type": "Recreate"}}));
        let err = refused(
            json!({"strategy": {"type": "RollingUpdate"}}),
            json!({"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 2}}}),
        );
        assert_eq!(
            err,
            "invalid strategic merge patch: invalid patch format of retainKeys"
        );
        let err = refused(json!({}), json!({"strategy": {"$retainKeys": "type"}}));
        assert!(err.contains("retainKeys"), "{err}");
    }

    #[test]
    fn finalizers_are_a_set_and_can_be_deleted_from() {
        let got = merged(
            json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "z"], "finalizers": ["c", "d"]}}),
        );
        assert_eq!(got["metadata"]["finalizers"], json!(["a", "c", "d"]));
        let err = refused(
            json!({}),
            json!({"$deleteFromPrimitiveList/finalizers": "a"}),
        );
        assert!(
            err.contains("invalid patch format of primitive list"),
            "{err}"
        );
    }

    #[test]
    fn type_changes_and_odd_targets() {
        assert_eq!(
            merged(json!({"a": "scalar"}), json!({"a": {"b": 1}})),
            json!({"a": {"b": 1}})
        );
        assert_eq!(
            merged(json!({"a": {"b": 1}}), json!({"a": [1]})),
            json!({"a": [1]})
        );
        assert_eq!(merged(Value::Null, json!({"a": 1})), json!({"a": 1}));
    }

    #[test]
    fn malformed_strategic_patches() {
        let err = refused(
            json!({"containers": []}),
            json!({"containers": [{"image": "x"}]}),
        );
        assert!(
            err.contains("does not contain declared merge key: name"),
            "{err}"
        );
        let err = refused(json!({"containers": []}), json!({"containers": ["app"]}));
        assert!(err.contains("merged by the key name"), "{err}");
        let err = refused(json!({"a": {}}), json!({"a": {"$patch": "explode"}}));
        assert!(err.contains("unknown patch type: \"explode\""), "{err}");
        let err = refused(
            json!({}),
            json!({"$setElementOrder/containers": {"name": "a"}}),
        );
        assert!(err.contains("setElementOrder"), "{err}");
        assert!(refused(json!({}), json!([1])).contains("must be an object"));
    }
}
