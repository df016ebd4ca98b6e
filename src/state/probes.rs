//! Live probe results of a pod, read from what the API says: container readiness and `started`,
//! and the kubelet's `Unhealthy` events (with their counts and messages).

use jiff::Timestamp;

use crate::kube::rows::{ContainerRow, EventRow, PodRow, ProbeSpec, ProbeState, Probes};

/// Folds a pod's containers and its `Unhealthy` events into one result per probe kind.
pub fn probes(pod: &PodRow, unhealthy: &[impl AsRef<EventRow>], now: Timestamp) -> Probes {
    let latest = |prefix: &str| {
        unhealthy
            .iter()
            .map(AsRef::as_ref)
            .filter(|e| e.message.starts_with(prefix))
            .max_by_key(|e| e.last)
    };
    let running = |c: &ContainerRow| c.state == "Running";
    let mut out = Probes::default();
    for c in &pod.containers {
        let readiness = c.readiness.as_ref().map(|_| {
            if !running(c) {
                ProbeState::NotRunning
            } else if c.ready {
                ProbeState::Passing
            } else {
                failing(latest("Readiness probe"), "not ready yet")
            }
        });
        let liveness = c.liveness.as_ref().map(|spec| {
            if !running(c) {
                ProbeState::NotRunning
            } else {
                match latest("Liveness probe") {
                    Some(e) if recent(e, spec, now) => failing(Some(e), ""),
                    _ => ProbeState::Passing,
                }
            }
        });
        let startup = c.startup.as_ref().map(|_| match c.started {
            Some(true) => ProbeState::Passing,
            _ if !running(c) => ProbeState::NotRunning,
            _ => failing(latest("Startup probe"), "starting"),
        });
        out.readiness = worse(std::mem::take(&mut out.readiness), readiness);
        out.liveness = worse(std::mem::take(&mut out.liveness), liveness);
        out.startup = worse(std::mem::take(&mut out.startup), startup);
    }
    out
}

/// Within the probe's failure window: newer than period × (threshold + 1).
fn recent(e: &EventRow, spec: &ProbeSpec, now: Timestamp) -> bool {
    let window =
        i64::from(spec.period_seconds.max(1)) * i64::from(spec.failure_threshold.max(1) + 1);
    e.last
        .is_some_and(|t| now.as_second() - t.as_second() <= window)
}

fn failing(e: Option<&EventRow>, otherwise: &str) -> ProbeState {
    match e {
        Some(e) => ProbeState::Failing {
            count: e.count.max(1),
            message: e
                .message
                .split_once(": ")
                .map_or(e.message.as_str(), |(_, m)| m)
                .trim()
                .to_string(),
            last: e.last,
        },
        None => ProbeState::Failing {
            count: 0,
            message: otherwise.to_string(),
            last: None,
        },
    }
}

fn rank(p: &ProbeState) -> u8 {
    match p {
        ProbeState::NotConfigured => 0,
        ProbeState::Passing => 1,
        ProbeState::NotRunning => 2,
        ProbeState::Failing { .. } => 3,
    }
}

fn worse(a: ProbeState, b: Option<ProbeState>) -> ProbeState {
    match b {
        Some(b) if rank(&b) > rank(&a) => b,
        _ => a,
    }
}
