//! The pod status the kubelet reports, rendered from its runtime state: phase (`getPhase`),
//! conditions (`status/generate.go`) and container statuses as containerd fills them.

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::lifecycle::{CState, CtrRt, Shown, Term};
use super::pod::{Cond, PodRt};
use super::runtime::{self, go_duration};

/// The condition types the kubelet owns, in the order it reports them.
const OWN: [&str; 4] = [
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
];

fn terminated(t: &Term) -> ContainerState {
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            container_id: Some(t.id.clone()),
            exit_code: t.exit.code,
            reason: Some(t.exit.reason.as_str().to_string()),
            started_at: Some(Time(t.started_at)),
            finished_at: Some(Time(t.finished_at)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_string()),
            message,
        }),
        ..Default::default()
    }
}

fn last_state(t: Option<&Term>) -> Option<ContainerState> {
    // The API always carries `lastState`, as `{}` when there is none.
    Some(t.map(terminated).unwrap_or_default())
}

fn backoff_message(c: &CtrRt, pod: &Pod, period: jiff::SignedDuration) -> Option<String> {
    Some(format!(
        "back-off {} restarting failed container={} pod={}",
        go_duration(period),
        c.name,
        runtime::pod_ref(pod)
    ))
}

fn container_status(c: &CtrRt, pod: &Pod) -> ContainerStatus {
    let ended = c.ended.as_ref();
    let (state, last, id) = match &c.state {
        CState::Running { id, since, .. } => {
            let running = ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: Some(Time(*since)),
                }),
                ..Default::default()
            };
            (running, c.last.as_ref(), Some(id.clone()))
        }
        CState::BackOff { period, .. }
        | CState::Creating {
            shown: Shown::BackOff(period),
            ..
        } => {
            let state = waiting("CrashLoopBackOff", backoff_message(c, pod, *period));
            (state, ended, ended.map(|e| e.id.clone()))
        }
        _ => match ended {
            Some(e) => (terminated(e), c.last.as_ref(), Some(e.id.clone())),
            None => (waiting("ContainerCreating", None), None, None),
        },
    };
    // A stopped instance keeps naming its own image while a new one is being pulled.
    let image = match &c.state {
        CState::Running { .. } => Some(&c.image),
        _ => ended.map(|e| &e.image),
    };
    ContainerStatus {
        name: c.name.clone(),
        image: image.map_or_else(|| c.image.clone(), |i| runtime::normalize_image(i)),
        image_id: image.map(|i| runtime::image_id(i)).unwrap_or_default(),
        container_id: id,
        ready: c.ready,
        started: Some(c.started && c.is_running()),
        restart_count: c.attempt,
        state: Some(state),
        last_state: last_state(last),
        ..Default::default()
    }
}

/// `getPhase` of the kubelet, plus the terminal phase it gives a deleted pod once it stopped.
fn phase(statuses: &[ContainerStatus], restart_policy: &str, finished: bool) -> &'static str {
    let (mut waiting, mut running, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for s in statuses {
        let state = s.state.as_ref();
        if state.is_some_and(|s| s.running.is_some()) {
            running += 1;
        } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
            stopped += 1;
            if t.exit_code == 0 {
                succeeded += 1;
            }
        } else if s
            .last_state
            .as_ref()
            .is_some_and(|l| l.terminated.is_some())
        {
            stopped += 1;
        } else {
            waiting += 1;
        }
    }
    if finished {
        return if waiting == 0 && stopped == succeeded {
            "Succeeded"
        } else {
            "Failed"
        };
    }
    match () {
        _ if waiting > 0 => "Pending",
        _ if running > 0 => "Running",
        _ if stopped > 0 => match restart_policy {
            "Always" => "Running",
            _ if stopped == succeeded => "Succeeded",
            "Never" => "Failed",
            _ => "Running",
        },
        _ => "Pending",
    }
}

fn condition(
    type_: &str,
    cond: Cond,
    reason: Option<&str>,
    message: Option<String>,
) -> PodCondition {
    let status = if cond.status { "True" } else { "False" };
    PodCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        last_transition_time: Some(Time(cond.since)),
        reason: reason.filter(|_| !cond.status).map(str::to_string),
        message: message.filter(|_| !cond.status),
        ..Default::default()
    }
}

/// The whole status: the kubelet's own fields replaced, everyone else's kept.
pub fn render(rt: &PodRt, pod: &Pod) -> PodStatus {
    let mut status = pod.status.clone().unwrap_or_default();
    let statuses: Vec<ContainerStatus> = rt
        .containers
        .iter()
        .map(|c| container_status(c, pod))
        .collect();
    let policy = pod
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always");
    let phase = phase(&statuses, policy, rt.finished());
    let unready: Vec<&str> = rt
        .containers
        .iter()
        .filter(|c| !c.ready)
        .map(|c| c.name.as_str())
        .collect();
    let (reason, message) = if phase == "Succeeded" {
        ("PodCompleted", None)
    } else {
        (
            "ContainersNotReady",
            Some(format!(
                "containers with unready status: [{}]",
                unready.join(" ")
            )),
        )
    };
    let initialized = Cond {
        status: true,
        since: rt.accepted_at,
    };
    let scheduled = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled")
        .cloned()
        .unwrap_or_else(|| condition("PodScheduled", initialized, None, None));
    let others = status
        .conditions
        .take()
        .into_iter()
        .flatten()
        .filter(|c| !OWN.contains(&c.type_.as_str()) && c.type_ != "PodScheduled");
    let mut conditions = vec![
        condition(OWN[0], rt.sandbox, None, None),
        condition(OWN[1], initialized, None, None),
        condition(OWN[2], rt.ready, Some(reason), message.clone()),
        condition(OWN[3], rt.ready, Some(reason), message),
        scheduled,
    ];
    conditions.extend(others);
    status.conditions = Some(conditions);
    status.phase = Some(phase.to_string());
    status.container_statuses = Some(statuses);
    status.host_ip = Some(rt.host_ip.clone());
    status.host_ips = Some(vec![HostIP {
        ip: rt.host_ip.clone(),
    }]);
    status.pod_ip.clone_from(&rt.pod_ip);
    status.pod_ips = rt.pod_ip.as_ref().map(|ip| vec![PodIP { ip: ip.clone() }]);
    status.start_time = Some(Time(rt.accepted_at));
    if status.qos_class.is_none() {
        status.qos_class = Some(runtime::qos_class(pod).to_string());
    }
    status
}
