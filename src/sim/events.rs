//! Recording core/v1 Events the way client-go's event recorder does: repeats of the same event bump
//! `count` and `lastTimestamp` instead of creating new objects.

use jiff::Timestamp;
use k8s_openapi::Resource;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use super::object::SimObject;
use super::store::Store;

/// Who reports an event: `("kubelet", Some(node))`, `("deployment-controller", None)`, ...
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    pub component: &'a str,
    pub host: Option<&'a str>,
}

/// How many events a cluster keeps; the oldest go first. The real server keeps every event for an
/// hour, which at fleet start-up can be six per pod; the simulator bounds its memory instead.
pub const MAX_EVENTS: usize = 5_000;

/// A reference to `obj` for `involvedObject`, optionally to one of its containers.
pub fn reference<T: SimObject>(obj: &T, field_path: Option<String>) -> ObjectReference {
    let meta = obj.metadata();
    ObjectReference {
        api_version: Some(<T as Resource>::API_VERSION.to_string()),
        kind: Some(<T as Resource>::KIND.to_string()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        field_path,
    }
}

/// Records an event, folding it into an identical earlier one (same object, reason, message,
/// source) by bumping its count, as the real recorder's aggregation does.
pub fn record(
    store: &mut Store,
    now: Timestamp,
    involved: ObjectReference,
    type_: &str,
    reason: &str,
    message: impl Into<String>,
    source: Source<'_>,
) {
    let message = message.into();
    let namespace = involved
        .namespace
        .clone()
        .unwrap_or_else(|| "default".to_string());
    let key = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            &namespace,
            &involved.uid,
            &involved.field_path,
            reason,
            &message,
            source.component,
        )
            .hash(&mut h);
        h.finish()
    };
    let same = store
        .event_index
        .get(&key)
        .filter(|(ns, name)| store.events.get(ns, name).is_some())
        .map(|(_, name)| name.clone());
    if let Some(name) = same {
        let _ = store.mutate::<Event>(&namespace, &name, |e| {
            e.count = Some(e.count.unwrap_or(1) + 1);
            e.last_timestamp = Some(Time(now));
        });
        return;
    }
    if store.event_index.len() > 2 * MAX_EVENTS {
        let events = &store.events;
        store
            .event_index
            .retain(|_, (ns, name)| events.get(ns, name).is_some());
    }
    let name = format!(
        "{}.{:x}",
        involved.name.clone().unwrap_or_default(),
        now.as_nanosecond() as u64 ^ store.resource_version()
    );
    let event = Event {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(namespace),
            ..Default::default()
        },
        involved_object: involved,
        type_: Some(type_.to_string()),
        reason: Some(reason.to_string()),
        message: Some(message),
        source: Some(EventSource {
            component: Some(source.component.to_string()),
            host: source.host.map(str::to_string),
        }),
        reporting_component: Some(source.component.to_string()),
        reporting_instance: Some(source.host.unwrap_or(source.component).to_string()),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        count: Some(1),
        ..Default::default()
    };
    // Events are best effort, as in a real cluster: a failure to record one never stops a controller.
    if let Ok(made) = store.create(event, now) {
        let made = made.obj();
        let m = &made.metadata;
        let made_key = (
            m.namespace.clone().unwrap_or_default(),
            m.name.clone().unwrap_or_default(),
        );
        store.event_order.push_back(made_key.clone());
        store.event_index.insert(key, made_key);
    }
    // Oldest first, as the real server's one-hour TTL would expire them; names already gone
    // (deleted through the API) are skipped.
    while store.events.len() > MAX_EVENTS {
        let Some((ns, name)) = store.event_order.pop_front() else {
            break;
        };
        let _ = store.remove::<Event>(&ns, &name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Namespace, Pod};

    #[test]
    fn repeats_bump_count() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut s = Store::new(1);
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some("shop".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        s.create(ns, now).unwrap();
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-1", "namespace": "shop", "uid": "u1"}
        }))
        .unwrap();
        let src = Source {
            component: "kubelet",
            host: Some("node-1"),
        };
        for _ in 0..3 {
            record(
                &mut s,
                now,
                reference(&pod, None),
                "Warning",
                "BackOff",
                "Back-off",
                src,
            );
        }
        record(
            &mut s,
            now,
            reference(&pod, None),
            "Normal",
            "Pulled",
            "pulled",
            src,
        );
        let events = s.list::<Event>(Some("shop"));
        assert_eq!(events.len(), 2);
        let backoff = events
            .iter()
            .find(|e| e.reason.as_deref() == Some("BackOff"))
            .unwrap();
        assert_eq!(backoff.count, Some(3));
        assert_eq!(backoff.involved_object.name.as_deref(), Some("web-1"));
    }
}
