//! Probe state of a pod, from its row and the kubelet's `Unhealthy` events. The pod status only
//! says whether a container is ready and started; why, and whether liveness is failing right now,
//! is only in the events.

#[cfg(test)]
mod tests;

use jiff::Timestamp;

use super::rows::{ContainerRow, EventRow, PodRow, ProbeSpec, ProbeState, Probes};

#[derive(Clone, Copy, PartialEq, Eq)]
enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

/// Which probe an `Unhealthy` event is about, from the kubelet's message prefix
/// (`Readiness probe failed: ...`, `Liveness probe errored: ...`).
fn kind_of(message: &str) -> Option<ProbeKind> {
    let (label, rest) = message.split_once(" probe ")?;
    if !(rest.starts_with("failed:") || rest.starts_with("errored:")) {
        return None;
    }
    match label {
        "Liveness" => Some(ProbeKind::Liveness),
        "Readiness" => Some(ProbeKind::Readiness),
        "Startup" => Some(ProbeKind::Startup),
        _ => None,
    }
}

/// The three probes of `pod`, each folded over its containers (the worst wins).
///
/// `unhealthy` may hold any events; only `Unhealthy` ones about this pod count. Readiness:
/// failing when a started, running container is not ready. Liveness: failing when the kubelet
/// reported a failure within `period × (failureThreshold + 1)` of `now` (it probes every period,
/// so an older report means the probe has passed since). Startup: passing once the container has
/// started, failing while it has not and the kubelet reported a failure.
pub fn probes(pod: &PodRow, unhealthy: &[&EventRow], now: Timestamp) -> Probes {
    let mut events: Vec<(&EventRow, ProbeKind)> = unhealthy
        .iter()
        .filter(|e| {
            e.reason == "Unhealthy"
                && e.object_kind == "Pod"
                && e.object_name == pod.key.name
                && e.key.namespace == pod.key.namespace
        })
        .filter_map(|e| kind_of(&e.message).map(|k| (*e, k)))
        .collect();
    // Newest first, so `find` picks the latest report of each kind.
    events.sort_by_key(|(e, _)| std::cmp::Reverse(e.last.or(e.first)));
    let newest = |kind: ProbeKind| events.iter().find(|(_, k)| *k == kind).map(|(e, _)| *e);
    Probes {
        liveness: liveness(&pod.containers, newest(ProbeKind::Liveness), now),
        readiness: readiness(&pod.containers, newest(ProbeKind::Readiness)),
        startup: startup(&pod.containers, newest(ProbeKind::Startup)),
    }
}

fn failing(event: Option<&EventRow>, fallback: &str) -> ProbeState {
    match event {
        Some(e) => ProbeState::Failing {
            count: e.count,
            message: e.message.clone(),
            last: e.last.or(e.first),
        },
        None => ProbeState::Failing {
            count: 0,
            message: fallback.to_string(),
            last: None,
        },
    }
}

fn rank(s: &ProbeState) -> u8 {
    match s {
        ProbeState::NotConfigured => 0,
        ProbeState::Passing => 1,
        ProbeState::NotRunning => 2,
        ProbeState::Failing { .. } => 3,
    }
}

fn worst(states: impl Iterator<Item = ProbeState>) -> ProbeState {
    states.max_by_key(rank).unwrap_or(ProbeState::NotConfigured)
}

fn running(c: &ContainerRow) -> bool {
    c.state == "Running"
}

fn readiness(containers: &[ContainerRow], event: Option<&EventRow>) -> ProbeState {
    worst(
        containers
            .iter()
            .filter(|c| c.readiness.is_some())
            .map(|c| {
                // The kubelet runs no readiness probe before the startup probe has passed.
                if !running(c) || c.started == Some(false) {
                    ProbeState::NotRunning
                } else if c.ready {
                    ProbeState::Passing
                } else {
                    failing(event, "not ready")
                }
            }),
    )
}

/// How long a liveness failure stays news: one period per allowed failure, and one more.
fn window(p: &ProbeSpec) -> i64 {
    i64::from(p.period_seconds) * (i64::from(p.failure_threshold) + 1)
}

fn liveness(containers: &[ContainerRow], event: Option<&EventRow>, now: Timestamp) -> ProbeState {
    let configured: Vec<&ContainerRow> =
        containers.iter().filter(|c| c.liveness.is_some()).collect();
    if configured.is_empty() {
        return ProbeState::NotConfigured;
    }
    // Events do not say which container (the row keeps no field path): the widest window wins.
    let widest = configured
        .iter()
        .filter_map(|c| c.liveness.as_ref().map(window))
        .max()
        .unwrap_or(0);
    let recent = event.filter(|e| {
        e.last
            .or(e.first)
            .is_some_and(|at| now.duration_since(at).as_secs() <= widest)
    });
    if recent.is_some() {
        return failing(recent, "");
    }
    worst(configured.iter().map(|c| {
        if running(c) && c.started != Some(false) {
            ProbeState::Passing
        } else {
            ProbeState::NotRunning
        }
    }))
}

fn startup(containers: &[ContainerRow], event: Option<&EventRow>) -> ProbeState {
    worst(
        containers
            .iter()
            .filter(|c| c.startup.is_some())
            .map(|c| match (c.started, event) {
                (Some(true), _) => ProbeState::Passing,
                // Also when the kubelet has since killed it for failing: that is the news.
                (_, Some(_)) => failing(event, ""),
                _ => ProbeState::NotRunning,
            }),
    )
}
