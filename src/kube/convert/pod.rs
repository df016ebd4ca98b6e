//! Pods to rows: STATUS and READY exactly as `kubectl get pods` prints them (a port of `printPod`
//! in kubernetes/pkg/printers/internalversion/printers.go) and a health judgement on top.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod, PodCondition, PodStatus};

use super::container::containers;
use super::{controller, count, key, labels, time};
use crate::kube::rows::{ContainerRow, Health, PodRow};

/// A pod as the pods table needs it.
///
/// The row depends on the object alone. `_now` is accepted so callers pass the clock the same way
/// to every conversion, but nothing here is judged against it: a row is recomputed only when its
/// object changes, so anything relative to "now" (a restart that is recent, a probe that has
/// failed for long) would go stale in the table. Those judgements belong to [`super::super::probes`]
/// and to the state's tick.
pub fn pod_row(pod: &Pod, _now: Timestamp) -> PodRow {
    let meta = &pod.metadata;
    let printed = print(pod);
    let containers = containers(pod);
    let health = health(pod, &printed.status, &containers);
    let (workload, replicaset) = owner(pod);
    PodRow {
        key: key(meta),
        workload,
        replicaset,
        labels: labels(meta),
        ready: (clamp16(printed.ready), clamp16(printed.total)),
        status: printed.status,
        health,
        restarts: printed.restarts,
        last_restart: printed.last_restart,
        node: pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default(),
        created: time(&meta.creation_timestamp),
        deleting: meta.deletion_timestamp.is_some(),
        containers,
        scrape: super::scrape::scrape(pod),
    }
}

fn clamp16(n: u32) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// The workload (Deployment name, or another controller's) and the ReplicaSet, from the owner.
fn owner(pod: &Pod) -> (Option<String>, Option<String>) {
    let Some((kind, name)) = controller(&pod.metadata) else {
        return (None, None);
    };
    if kind != "ReplicaSet" {
        return (Some(name.to_string()), None);
    }
    // A Deployment names its ReplicaSets `<deployment>-<pod-template-hash>`; a ReplicaSet made
    // by hand has no such suffix and is its own workload.
    let hash = pod
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("pod-template-hash"))
        .filter(|h| !h.is_empty());
    let workload = hash
        .and_then(|h| name.strip_suffix(h.as_str()))
        .and_then(|rest| rest.strip_suffix('-'))
        .filter(|w| !w.is_empty())
        .unwrap_or(name);
    (Some(workload.to_string()), Some(name.to_string()))
}

struct Printed {
    status: String,
    ready: u32,
    total: u32,
    restarts: u32,
    last_restart: Option<Timestamp>,
}

pub(super) fn restartable(c: Option<&Container>) -> bool {
    c.and_then(|c| c.restart_policy.as_deref()) == Some("Always")
}

fn last_finished(c: &ContainerStatus) -> Option<Timestamp> {
    c.last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| time(&t.finished_at))
}

fn condition_true(status: Option<&PodStatus>, kind: &str) -> bool {
    conditions(status).any(|c| c.type_ == kind && c.status == "True")
}

fn conditions(status: Option<&PodStatus>) -> impl Iterator<Item = &PodCondition> {
    status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
}

pub(super) fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// `printPod`, step by step; the comments name the kubectl behaviour each step keeps.
fn print(pod: &Pod) -> Printed {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let init_specs = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default();
    let phase = status.and_then(|s| non_empty(&s.phase)).unwrap_or("");
    let mut reason = status
        .and_then(|s| non_empty(&s.reason))
        .unwrap_or(phase)
        .to_string();
    if conditions(status)
        .any(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated"))
    {
        reason = "SchedulingGated".into();
    }
    // Sidecars (restartable init containers) count among the pod's containers.
    let total = spec.map_or(0, |s| s.containers.len())
        + init_specs.iter().filter(|c| restartable(Some(c))).count();
    let mut ready = 0usize;
    let (mut restarts, mut sidecar_restarts) = (0u32, 0u32);
    let (mut last, mut sidecar_last) = (None, None);

    let mut initializing = false;
    let init_statuses = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    for (i, c) in init_statuses.iter().enumerate() {
        restarts += count(c.restart_count);
        last = last.max(last_finished(c));
        let is_sidecar = restartable(init_specs.iter().find(|s| s.name == c.name));
        if is_sidecar {
            sidecar_restarts += count(c.restart_count);
            sidecar_last = sidecar_last.max(last_finished(c));
        }
        let state = c.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting = state.and_then(|s| s.waiting.as_ref());
        if terminated.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if is_sidecar && c.started == Some(true) {
            ready += usize::from(c.ready);
            continue;
        }
        reason = if let Some(t) = terminated {
            match non_empty(&t.reason) {
                Some(r) => format!("Init:{r}"),
                None => match t.signal.filter(|s| *s != 0) {
                    Some(signal) => format!("Init:Signal:{signal}"),
                    None => format!("Init:ExitCode:{}", t.exit_code),
                },
            }
        } else if let Some(r) =
            waiting.and_then(|w| non_empty(&w.reason).filter(|r| *r != "PodInitializing"))
        {
            format!("Init:{r}")
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }

    if !initializing || condition_true(status, "Initialized") {
        // Once initialised, only the sidecars' restarts count with the containers'.
        restarts = sidecar_restarts;
        last = sidecar_last;
        let mut has_running = false;
        let statuses = status
            .and_then(|s| s.container_statuses.as_deref())
            .unwrap_or_default();
        // In reverse, so the first container with something to say has the last word.
        for c in statuses.iter().rev() {
            restarts += count(c.restart_count);
            last = last.max(last_finished(c));
            let state = c.state.as_ref();
            let waiting = state.and_then(|s| s.waiting.as_ref());
            let terminated = state.and_then(|s| s.terminated.as_ref());
            if let Some(r) = waiting.and_then(|w| non_empty(&w.reason)) {
                reason = r.to_string();
            } else if let Some(t) = terminated {
                reason = match (non_empty(&t.reason), t.signal.filter(|s| *s != 0)) {
                    (Some(r), _) => r.to_string(),
                    (None, Some(signal)) => format!("Signal:{signal}"),
                    (None, None) => format!("ExitCode:{}", t.exit_code),
                };
            } else if c.ready && state.is_some_and(|s| s.running.is_some()) {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_true(status, "Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }

    if pod.metadata.deletion_timestamp.is_some() {
        if status.and_then(|s| s.reason.as_deref()) == Some("NodeLost") {
            reason = "Unknown".into();
        } else if phase != "Failed" && phase != "Succeeded" {
            reason = "Terminating".into();
        }
    }
    if reason.is_empty() {
        // The API server defaults the phase to Pending; a pod without one has not been seen by it.
        reason = "Pending".into();
    }
    Printed {
        status: reason,
        ready: u32::try_from(ready).unwrap_or(u32::MAX),
        total: u32::try_from(total).unwrap_or(u32::MAX),
        restarts,
        last_restart: last,
    }
}

/// Reasons that mean the pod is broken and will not mend by itself.
const CRITICAL: &[&str] = &[
    "CrashLoopBackOff",
    "Error",
    "OOMKilled",
    "ImagePullBackOff",
    "ErrImagePull",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "ContainerCannotRun",
    "StartError",
    "PreStartHookError",
    "PostStartHookError",
    "Evicted",
    "Failed",
    "DeadlineExceeded",
];

/// Reasons that mean the pod is on its way to running.
const PROGRESSING: &[&str] = &[
    "Pending",
    "ContainerCreating",
    "PodInitializing",
    "SchedulingGated",
    "Terminating",
];

fn critical_reason(reason: &str) -> bool {
    let reason = reason.strip_prefix("Init:").unwrap_or(reason);
    CRITICAL.contains(&reason)
        || reason
            .strip_prefix("ExitCode:")
            .is_some_and(|code| code != "0")
        || reason.starts_with("Signal:")
}

fn health(pod: &Pod, status: &str, containers: &[ContainerRow]) -> Health {
    let pod_status = pod.status.as_ref();
    let phase = pod_status.and_then(|s| s.phase.as_deref()).unwrap_or("");
    if phase == "Unknown" || status == "Unknown" || status == "NodeLost" {
        return Health::Unknown;
    }
    // Going away: whatever its containers do, it is about to stop mattering.
    if status == "Terminating" {
        return Health::Progressing;
    }
    // STATUS shows one container's reason; another may be the broken one.
    let broken_container = pod_status
        .into_iter()
        .flat_map(|s| {
            let main = s.container_statuses.as_deref().unwrap_or_default();
            let init = s.init_container_statuses.as_deref().unwrap_or_default();
            main.iter().chain(init)
        })
        .filter_map(|c| c.state.as_ref())
        .any(|s| {
            let waiting = s.waiting.as_ref().and_then(|w| non_empty(&w.reason));
            let terminated = s.terminated.as_ref().filter(|t| t.exit_code != 0);
            waiting.is_some_and(critical_reason)
                || terminated.is_some_and(|t| non_empty(&t.reason).is_none_or(critical_reason))
        });
    if phase == "Failed" || critical_reason(status) || broken_container {
        return Health::Critical;
    }
    let unschedulable = conditions(pod_status).any(|c| {
        c.type_ == "PodScheduled"
            && c.status == "False"
            && c.reason.as_deref() == Some("Unschedulable")
    });
    if status == "Pending" && unschedulable {
        return Health::Warning;
    }
    if PROGRESSING.contains(&status) || status.starts_with("Init:") {
        return Health::Progressing;
    }
    match status {
        "Running" => {
            let not_ready: Vec<&ContainerRow> = containers.iter().filter(|c| !c.ready).collect();
            if not_ready.is_empty() {
                Health::Ok
            } else if not_ready
                .iter()
                .any(|c| c.state == "Running" && c.started != Some(false))
            {
                // Started (its startup probe, if any, passed) and running, yet not ready.
                Health::Warning
            } else {
                Health::Progressing
            }
        }
        "Completed" | "Succeeded" => Health::Ok,
        // NotReady, and any reason we do not know: worth a look, not an alarm.
        _ => Health::Warning,
    }
}
