//! Containers to rows: their state as `kubectl describe` words it, their last termination, and
//! their probes with the API's defaults filled in.

use k8s_openapi::api::core::v1::{Container, ContainerState, ContainerStatus, Pod, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::pod::{non_empty, restartable};
use super::{count, time};
use crate::kube::rows::{ContainerRow, ProbeSpec, Termination};

/// The containers (and sidecars) of the pod with their statuses, in spec order.
pub(super) fn containers(pod: &Pod) -> Vec<ContainerRow> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    let status = pod.status.as_ref();
    let find = |list: Option<&Vec<ContainerStatus>>, name: &str| {
        list.and_then(|l| l.iter().find(|s| s.name == name))
            .cloned()
    };
    let mut rows: Vec<ContainerRow> = spec
        .containers
        .iter()
        .map(|c| {
            container_row(
                c,
                find(status.and_then(|s| s.container_statuses.as_ref()), &c.name).as_ref(),
            )
        })
        .collect();
    let sidecars = spec.init_containers.as_deref().unwrap_or_default();
    rows.extend(sidecars.iter().filter(|c| restartable(Some(c))).map(|c| {
        container_row(
            c,
            find(
                status.and_then(|s| s.init_container_statuses.as_ref()),
                &c.name,
            )
            .as_ref(),
        )
    }));
    rows
}

fn container_row(c: &Container, status: Option<&ContainerStatus>) -> ContainerRow {
    let (state, state_message) = state(status.and_then(|s| s.state.as_ref()));
    let last_termination = status
        .and_then(|s| s.last_state.as_ref())
        .and_then(|s| s.terminated.as_ref())
        .map(|t| Termination {
            reason: non_empty(&t.reason).map_or_else(
                || match t.signal.filter(|s| *s != 0) {
                    Some(signal) => format!("Signal:{signal}"),
                    None => format!("ExitCode:{}", t.exit_code),
                },
                str::to_string,
            ),
            exit_code: t.exit_code,
            finished: time(&t.finished_at),
        });
    ContainerRow {
        name: c.name.clone(),
        // What was asked for; the status's image may be a resolved name or digest.
        image: c
            .image
            .clone()
            .or_else(|| status.map(|s| s.image.clone()))
            .unwrap_or_default(),
        ready: status.is_some_and(|s| s.ready),
        started: status.and_then(|s| s.started),
        restarts: status.map_or(0, |s| count(s.restart_count)),
        state,
        state_message,
        last_termination,
        liveness: c.liveness_probe.as_ref().map(|p| probe_spec(p, c)),
        readiness: c.readiness_probe.as_ref().map(|p| probe_spec(p, c)),
        startup: c.startup_probe.as_ref().map(|p| probe_spec(p, c)),
    }
}

/// `Running`, `Waiting: CrashLoopBackOff`, `Terminated: Error (exit code 1)`, and the message.
fn state(s: Option<&ContainerState>) -> (String, Option<String>) {
    let Some(s) = s else {
        // No status yet: the kubelet has not reported on this container.
        return ("Waiting".into(), None);
    };
    if s.running.is_some() {
        ("Running".into(), None)
    } else if let Some(t) = &s.terminated {
        let reason = non_empty(&t.reason).map(str::to_string);
        let text = match (reason, t.signal.filter(|s| *s != 0), t.exit_code) {
            (Some(r), _, 0) => format!("Terminated: {r}"),
            (Some(r), _, code) => format!("Terminated: {r} (exit code {code})"),
            (None, Some(signal), _) => format!("Terminated: Signal:{signal}"),
            (None, None, code) => format!("Terminated: ExitCode:{code}"),
        };
        (text, non_empty(&t.message).map(str::to_string))
    } else if let Some(w) = &s.waiting {
        let text = match non_empty(&w.reason) {
            Some(r) => format!("Waiting: {r}"),
            None => "Waiting".into(),
        };
        (text, non_empty(&w.message).map(str::to_string))
    } else {
        ("Waiting".into(), None)
    }
}

/// A probe's handler and timings, with the API's defaults (period 10 s, failure threshold 3,
/// initial delay 0 s, timeout 1 s) filled in. Named ports are resolved through the container's
/// ports, as the kubelet does.
pub fn probe_spec(p: &Probe, c: &Container) -> ProbeSpec {
    let positive = |v: Option<i32>, default: u32| match v {
        Some(n) if n > 0 => count(n),
        _ => default,
    };
    ProbeSpec {
        handler: handler(p, c),
        period_seconds: positive(p.period_seconds, 10),
        failure_threshold: positive(p.failure_threshold, 3),
        initial_delay_seconds: count(p.initial_delay_seconds.unwrap_or(0)),
        timeout_seconds: positive(p.timeout_seconds, 1),
    }
}

fn handler(p: &Probe, c: &Container) -> String {
    let host = |h: &Option<String>| h.clone().unwrap_or_default();
    if let Some(http) = &p.http_get {
        let scheme = match http.scheme.as_deref() {
            Some(s) if s.eq_ignore_ascii_case("https") => "HTTPS",
            _ => "HTTP",
        };
        let path = http.path.as_deref().unwrap_or("");
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!(
            "{scheme} GET {}:{}{slash}{path}",
            host(&http.host),
            port(&http.port, c)
        )
    } else if let Some(tcp) = &p.tcp_socket {
        format!("TCP {}:{}", host(&tcp.host), port(&tcp.port, c))
    } else if let Some(exec) = &p.exec {
        format!(
            "exec [{}]",
            exec.command.as_deref().unwrap_or_default().join(" ")
        )
    } else if let Some(grpc) = &p.grpc {
        match non_empty(&grpc.service) {
            Some(service) => format!("gRPC :{} {service}", grpc.port),
            None => format!("gRPC :{}", grpc.port),
        }
    } else {
        "no handler".into()
    }
}

fn port(p: &IntOrString, c: &Container) -> String {
    match p {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(name) => c
            .ports
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|port| port.name.as_deref() == Some(name.as_str()))
            .map_or_else(|| name.clone(), |port| port.container_port.to_string()),
    }
}
