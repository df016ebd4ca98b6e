//! The Pod printer (`printPod`): READY, the STATUS kubectl users read first, and RESTARTS.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod, PodCondition};
use serde_json::{Value, json};

use super::{Column, Printable, age, name};
use crate::sim::duration::human_duration;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

impl Printable for Pod {
    fn column_definitions() -> Vec<Column> {
        vec![
            Column::name(),
            Column::new(
                "Ready",
                "string",
                "The aggregate readiness state of this pod for accepting traffic.",
            ),
            Column::new(
                "Status",
                "string",
                "The aggregate status of the containers in this pod.",
            ),
            Column::new(
                "Restarts",
                "string",
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            Column::age(),
            Column::new(
                "IP",
                "string",
                "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
            )
            .wide(),
            Column::new(
                "Node",
                "string",
                "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
            )
            .wide(),
            Column::new(
                "Nominated Node",
                "string",
                "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.",
            )
            .wide(),
            Column::new(
                "Readiness Gates",
                "string",
                "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
            )
            .wide(),
        ]
    }

    fn cells(&self, now: Timestamp) -> Vec<Value> {
        let summary = summarize(self);
        let restarts = match summary.last_restart {
            Some(t) if summary.restarts != 0 => {
                format!(
                    "{} ({} ago)",
                    summary.restarts,
                    human_duration(now.duration_since(t))
                )
            }
            _ => summary.restarts.to_string(),
        };
        let spec = self.spec.as_ref();
        let status = self.status.as_ref();
        // The v1 conversion makes podIP authoritative and copies it into an empty podIPs.
        let pod_ip = status
            .and_then(|s| s.pod_ip.as_deref())
            .filter(|ip| !ip.is_empty())
            .or_else(|| {
                status
                    .and_then(|s| s.pod_ips.as_ref())
                    .and_then(|ips| ips.first())
                    .map(|ip| ip.ip.as_str())
            });
        let node = spec.and_then(|s| s.node_name.as_deref());
        let nominated = status.and_then(|s| s.nominated_node_name.as_deref());
        vec![
            name(&self.metadata),
            format!("{}/{}", summary.ready, summary.total).into(),
            summary.reason.into(),
            restarts.into(),
            age(&self.metadata, now),
            or_none(pod_ip),
            or_none(node),
            or_none(nominated),
            readiness_gates(self).into(),
        ]
    }

    fn row_conditions(&self) -> Vec<Value> {
        match self.status.as_ref().and_then(|s| s.phase.as_deref()) {
            Some("Succeeded") => vec![json!({
                "type": "Completed",
                "status": "True",
                "reason": "Succeeded",
                "message": "The pod has completed successfully.",
            })],
            Some("Failed") => vec![json!({
                "type": "Completed",
                "status": "True",
                "reason": "Failed",
                "message": "The pod failed.",
            })],
            _ => Vec::new(),
        }
    }
}

fn or_none(s: Option<&str>) -> Value {
    match s {
        Some(s) if !s.is_empty() => s.into(),
        _ => "<none>".into(),
    }
}

/// What READY, STATUS and RESTARTS are computed from.
struct Summary {
    ready: usize,
    total: usize,
    reason: String,
    restarts: i64,
    last_restart: Option<Timestamp>,
}

/// A container's last termination, which is when it last restarted.
fn last_finished(cs: &ContainerStatus) -> Option<Timestamp> {
    cs.last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| t.finished_at.as_ref())
        .map(|t: &Time| t.0)
}

/// `lastRestartDate.Before(&terminatedDate)`: keep the newest.
fn newest(slot: &mut Option<Timestamp>, candidate: Option<Timestamp>) {
    if let Some(c) = candidate
        && slot.is_none_or(|s| s < c)
    {
        *slot = Some(c);
    }
}

/// `podutil.IsRestartableInitContainer`: a sidecar.
fn is_restartable(c: Option<&Container>) -> bool {
    c.and_then(|c| c.restart_policy.as_deref()) == Some("Always")
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

fn condition_true(conditions: &[PodCondition], type_: &str) -> bool {
    conditions
        .iter()
        .any(|c| c.type_ == type_ && c.status == "True")
}

/// `isPodInitializedConditionTrue`: the first `Initialized` condition decides.
fn initialized(conditions: &[PodCondition]) -> bool {
    conditions
        .iter()
        .find(|c| c.type_ == "Initialized")
        .is_some_and(|c| c.status == "True")
}

/// The READY/STATUS/RESTARTS logic of `printPod`, step for step.
fn summarize(pod: &Pod) -> Summary {
    let empty_containers: &[Container] = &[];
    let containers = pod
        .spec
        .as_ref()
        .map_or(empty_containers, |s| s.containers.as_slice());
    let init_containers = pod
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default();
    let status = pod.status.as_ref();
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let init_statuses = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    let statuses = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("");
    let status_reason = status.and_then(|s| s.reason.as_deref()).unwrap_or("");

    let mut total = containers.len();
    let mut ready = 0;
    let mut restarts: i64 = 0;
    let mut sidecar_restarts: i64 = 0;
    let mut last_restart = None;
    let mut last_sidecar_restart = None;

    let mut reason = if status_reason.is_empty() {
        phase.to_owned()
    } else {
        status_reason.to_owned()
    };
    if conditions
        .iter()
        .any(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated"))
    {
        reason = "SchedulingGated".to_owned();
    }

    // Go looks init containers up in a map by name, so a later duplicate wins.
    let init_spec = |name: &str| init_containers.iter().rev().find(|c| c.name == name);
    total += init_containers
        .iter()
        .filter(|c| is_restartable(Some(c)))
        .count();

    let mut initializing = false;
    for (i, cs) in init_statuses.iter().enumerate() {
        restarts += i64::from(cs.restart_count);
        let finished = last_finished(cs);
        newest(&mut last_restart, finished);
        let sidecar = is_restartable(init_spec(&cs.name));
        if sidecar {
            sidecar_restarts += i64::from(cs.restart_count);
            newest(&mut last_sidecar_restart, finished);
        }
        let state = cs.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting = state.and_then(|s| s.waiting.as_ref());
        if terminated.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if sidecar && cs.started == Some(true) {
            if cs.ready {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = match non_empty(t.reason.as_deref()) {
                Some(r) => format!("Init:{r}"),
                None => match t.signal {
                    Some(sig) if sig != 0 => format!("Init:Signal:{sig}"),
                    _ => format!("Init:ExitCode:{}", t.exit_code),
                },
            };
        } else if let Some(r) = waiting
            .and_then(|w| non_empty(w.reason.as_deref()))
            .filter(|r| *r != "PodInitializing")
        {
            reason = format!("Init:{r}");
        } else {
            reason = format!("Init:{i}/{}", init_containers.len());
        }
        initializing = true;
        break;
    }

    if !initializing || initialized(conditions) {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        // Walked backwards, so the first container with a waiting or terminated reason wins.
        for cs in statuses.iter().rev() {
            restarts += i64::from(cs.restart_count);
            newest(&mut last_restart, last_finished(cs));
            let state = cs.state.as_ref();
            let terminated = state.and_then(|s| s.terminated.as_ref());
            let waiting_reason = non_empty(
                state
                    .and_then(|s| s.waiting.as_ref())
                    .and_then(|w| w.reason.as_deref()),
            );
            if let Some(r) = waiting_reason {
                reason = r.to_owned();
            } else if let Some(t) = terminated {
                reason = match (non_empty(t.reason.as_deref()), t.signal) {
                    (Some(r), _) => r.to_owned(),
                    (None, Some(sig)) if sig != 0 => format!("Signal:{sig}"),
                    (None, _) => format!("ExitCode:{}", t.exit_code),
                };
            } else if cs.ready && state.is_some_and(|s| s.running.is_some()) {
                has_running = true;
                ready += 1;
            }
        }
        // A pod whose main container completed while a sidecar still runs is not "Completed".
        if reason == "Completed" && has_running {
            reason = if condition_true(conditions, "Ready") {
                "Running".to_owned()
            } else {
                "NotReady".to_owned()
            };
        }
    }

    if pod.metadata.deletion_timestamp.is_some() {
        if status_reason == "NodeLost" {
            reason = "Unknown".to_owned();
        } else if phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".to_owned();
        }
    }

    Summary {
        ready,
        total,
        reason,
        restarts,
        last_restart,
    }
}

/// READINESS GATES: `true/total` of the gates' conditions, `<none>` without gates.
fn readiness_gates(pod: &Pod) -> String {
    let gates = pod
        .spec
        .as_ref()
        .and_then(|s| s.readiness_gates.as_deref())
        .unwrap_or_default();
    if gates.is_empty() {
        return "<none>".to_owned();
    }
    let conditions = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let true_count = gates
        .iter()
        .filter(|g| {
            conditions
                .iter()
                .find(|c| c.type_ == g.condition_type)
                .is_some_and(|c| c.status == "True")
        })
        .count();
    format!("{true_count}/{}", gates.len())
}
