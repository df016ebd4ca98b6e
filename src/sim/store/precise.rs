//! The sub-second parts of the times of objects kept as JSON alone (see `Stored`): JSON has whole
//! seconds, the simulator's own readers the times as written.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ContainerState, ContainerStatus, Event, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use crate::sim::object::SimObject;

/// The nanoseconds past the second of every time of `obj`, in visiting order; None when all are
/// whole seconds (then the JSON says it all).
pub(super) fn nanos<T: SimObject>(obj: &mut T) -> Option<Box<[u32]>> {
    let mut out = Vec::new();
    obj.times_mut(&mut |t| out.push(u32::try_from(t.0.subsec_nanosecond()).unwrap_or(0)));
    out.iter().any(|n| *n != 0).then(|| out.into_boxed_slice())
}

/// Puts the sub-second parts back into an object decoded from its JSON. The decoded object has
/// the same shape as the one they were taken from, so the times are visited in the same order.
pub(super) fn restore<T: SimObject>(obj: &mut T, nanos: &[u32]) {
    let mut nanos = nanos.iter();
    obj.times_mut(&mut |t| {
        if let Some(&n) = nanos.next()
            && n != 0
            && let Ok(precise) = Timestamp::new(t.0.as_second(), n as i32)
        {
            t.0 = precise;
        }
    });
}

fn meta_times(meta: &mut ObjectMeta, f: &mut dyn FnMut(&mut Time)) {
    meta.creation_timestamp.iter_mut().for_each(&mut *f);
    meta.deletion_timestamp.iter_mut().for_each(&mut *f);
    for entry in meta.managed_fields.iter_mut().flatten() {
        entry.time.iter_mut().for_each(&mut *f);
    }
}

fn state_times(state: &mut ContainerState, f: &mut dyn FnMut(&mut Time)) {
    if let Some(r) = &mut state.running {
        r.started_at.iter_mut().for_each(&mut *f);
    }
    if let Some(t) = &mut state.terminated {
        t.started_at.iter_mut().for_each(&mut *f);
        t.finished_at.iter_mut().for_each(&mut *f);
    }
}

fn container_times(statuses: &mut Option<Vec<ContainerStatus>>, f: &mut dyn FnMut(&mut Time)) {
    for s in statuses.iter_mut().flatten() {
        for state in [&mut s.state, &mut s.last_state].into_iter().flatten() {
            state_times(state, f);
        }
    }
}

/// Every `metav1.Time` of a pod (they are all in its metadata and status).
pub fn pod_times(pod: &mut Pod, f: &mut dyn FnMut(&mut Time)) {
    meta_times(&mut pod.metadata, f);
    let Some(status) = &mut pod.status else {
        return;
    };
    status.start_time.iter_mut().for_each(&mut *f);
    for c in status.conditions.iter_mut().flatten() {
        c.last_probe_time.iter_mut().for_each(&mut *f);
        c.last_transition_time.iter_mut().for_each(&mut *f);
    }
    container_times(&mut status.init_container_statuses, f);
    container_times(&mut status.container_statuses, f);
    container_times(&mut status.ephemeral_container_statuses, f);
}

/// Every `metav1.Time` of a core/v1 Event. Its `MicroTime`s keep microseconds in JSON, all the
/// precision any writer gives them.
pub fn event_times(event: &mut Event, f: &mut dyn FnMut(&mut Time)) {
    meta_times(&mut event.metadata, f);
    event.first_timestamp.iter_mut().for_each(&mut *f);
    event.last_timestamp.iter_mut().for_each(&mut *f);
}

#[cfg(test)]
mod tests {
    use super::super::Stored;
    use super::*;

    #[test]
    fn a_pod_decoded_from_its_json_keeps_its_milliseconds() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-1", "namespace": "shop",
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
            "status": {
                "startTime": "2026-01-01T00:00:01Z",
                "conditions": [{"type": "Ready", "status": "True",
                                "lastTransitionTime": "2026-01-01T00:00:02Z"}],
                "containerStatuses": [{"name": "app", "image": "web:1", "imageID": "", "ready": true,
                    "restartCount": 1,
                    "state": {"running": {"startedAt": "2026-01-01T00:00:03Z"}},
                    "lastState": {"terminated": {"exitCode": 1,
                        "startedAt": "2026-01-01T00:00:04Z", "finishedAt": "2026-01-01T00:00:05Z"}}}]
            }
        }))
        .unwrap();
        let mut precise = pod.clone();
        let mut ms = 100;
        pod_times(&mut precise, &mut |t| {
            t.0 += jiff::SignedDuration::from_millis(ms);
            ms += 111;
        });
        assert_eq!(ms, 100 + 6 * 111, "six times visited");
        assert_ne!(precise, pod);
        let mut stored = Stored::new(std::sync::Arc::new(precise.clone()));
        let mut copy = precise.clone();
        stored.nanos = nanos(&mut copy);
        stored.obj = None;
        assert_eq!(*stored.obj(), precise);
        // Whole seconds need nothing beside the JSON.
        assert_eq!(nanos(&mut pod.clone()), None);
    }
}
