//! Container probes as the kubelet's prober runs them: specs with the API defaults, the
//! success/failure threshold bookkeeping of `prober/worker.go`, and the probe outputs the real
//! HTTP, TCP and exec probers put into `Unhealthy` events.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::sim::app::{App, AppRequest, PodView, Unreachable};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    Startup,
    Liveness,
    Readiness,
}

impl ProbeKind {
    /// How event messages name the probe: "Readiness probe failed: ...".
    pub fn label(self) -> &'static str {
        match self {
            ProbeKind::Startup => "Startup",
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
        }
    }
}

#[derive(Clone, Debug)]
enum Handler {
    Http {
        scheme: String,
        host: Option<String>,
        path: String,
        port: Result<u16, String>,
        headers: Vec<(String, String)>,
    },
    Tcp {
        port: Result<u16, String>,
    },
    Grpc {
        port: u16,
    },
    Exec {
        command: Vec<String>,
    },
}

/// One probe of one container, with the defaults the API server fills in.
#[derive(Clone, Debug)]
pub struct ProbeSpec {
    handler: Handler,
    pub initial_delay: i64,
    pub period: SignedDuration,
    pub timeout: SignedDuration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
    /// `terminationGracePeriodSeconds` of the probe, which overrides the pod's for kills it causes.
    pub termination_grace: Option<i64>,
}

/// A probe port: a number, or the name of one of the container's ports.
fn resolve_port(port: &IntOrString, container: &Container) -> Result<u16, String> {
    match port {
        IntOrString::Int(n) => u16::try_from(*n).map_err(|_| format!("invalid port number: {n}")),
        IntOrString::String(name) => container
            .ports
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| u16::try_from(p.container_port).ok())
            .ok_or_else(|| format!("couldn't find port: {name} in container {}", container.name)),
    }
}

impl ProbeSpec {
    pub fn new(probe: &Probe, container: &Container) -> Self {
        let handler = if let Some(h) = &probe.http_get {
            let path = h.path.clone().unwrap_or_default();
            Handler::Http {
                scheme: h.scheme.as_deref().unwrap_or("HTTP").to_ascii_lowercase(),
                host: h.host.clone().filter(|h| !h.is_empty()),
                path: if path.starts_with('/') {
                    path
                } else {
                    format!("/{path}")
                },
                port: resolve_port(&h.port, container),
                headers: h
                    .http_headers
                    .iter()
                    .flatten()
                    .map(|h| (h.name.clone(), h.value.clone()))
                    .collect(),
            }
        } else if let Some(t) = &probe.tcp_socket {
            Handler::Tcp {
                port: resolve_port(&t.port, container),
            }
        } else if let Some(g) = &probe.grpc {
            Handler::Grpc {
                port: u16::try_from(g.port).unwrap_or(0),
            }
        } else {
            Handler::Exec {
                command: probe
                    .exec
                    .as_ref()
                    .and_then(|e| e.command.clone())
                    .unwrap_or_default(),
            }
        };
        let secs = |v: Option<i32>, default: i64, min: i64| {
            SignedDuration::from_secs(v.map_or(default, i64::from).max(min))
        };
        Self {
            handler,
            initial_delay: probe.initial_delay_seconds.map_or(0, i64::from).max(0),
            period: secs(probe.period_seconds, 10, 1),
            timeout: secs(probe.timeout_seconds, 1, 1),
            success_threshold: probe.success_threshold.unwrap_or(1).max(1) as u32,
            failure_threshold: probe.failure_threshold.unwrap_or(3).max(1) as u32,
            termination_grace: probe.termination_grace_period_seconds,
        }
    }

    /// The port the probe connects to, if it connects to one.
    pub fn port(&self) -> Option<u16> {
        match &self.handler {
            Handler::Http { port, .. } | Handler::Tcp { port } => port.as_ref().ok().copied(),
            Handler::Grpc { port } => Some(*port),
            Handler::Exec { .. } => None,
        }
    }
}

/// Whether the container accepts connections on `port`: its declared ports and the ports its own
/// probes use. A container that declares no ports may listen anywhere, so it is taken to.
pub fn serves_port(container: &Container, port: u16) -> bool {
    let declared = container.ports.as_deref().unwrap_or(&[]);
    if declared.is_empty() {
        return true;
    }
    declared.iter().any(|p| p.container_port == i32::from(port))
        || [
            &container.startup_probe,
            &container.liveness_probe,
            &container.readiness_probe,
        ]
        .into_iter()
        .flatten()
        .any(|p| ProbeSpec::new(p, container).port() == Some(port))
}

/// Runs one probe against the app: Ok, or the output the real prober reports for the failure.
pub fn run(
    app: &dyn App,
    view: &PodView<'_>,
    container: &Container,
    spec: &ProbeSpec,
    pod_ip: &str,
    now: Timestamp,
) -> Result<(), String> {
    let dial =
        |host: &str, port: u16| format!("dial tcp {host}:{port}: connect: connection refused");
    match &spec.handler {
        Handler::Http {
            scheme,
            host,
            path,
            port,
            headers,
        } => {
            let port = port.clone()?;
            let host = host.as_deref().unwrap_or(pod_ip);
            let url = format!("{scheme}://{host}:{port}{path}");
            let (path_only, query) = match path.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (path.as_str(), None),
            };
            let mut header_map = http::HeaderMap::new();
            header_map.insert(
                http::header::USER_AGENT,
                http::HeaderValue::from_static("kube-probe/1.32"),
            );
            header_map.insert(http::header::ACCEPT, http::HeaderValue::from_static("*/*"));
            for (k, v) in headers {
                if let (Ok(k), Ok(v)) = (
                    http::HeaderName::try_from(k.as_str()),
                    http::HeaderValue::try_from(v.as_str()),
                ) {
                    header_map.insert(k, v);
                }
            }
            let timed_out = || {
                format!(
                    "Get \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
                )
            };
            if !serves_port(container, port) {
                return Err(format!("Get \"{url}\": {}", dial(host, port)));
            }
            let req = AppRequest {
                method: &http::Method::GET,
                path: path_only,
                query,
                headers: &header_map,
                body: &[],
                port,
            };
            match app.http(view, &req, now) {
                Err(Unreachable::Refused) => Err(format!("Get \"{url}\": {}", dial(host, port))),
                Err(Unreachable::Timeout) => Err(timed_out()),
                Ok(resp) if resp.latency > spec.timeout => Err(timed_out()),
                // The HTTP prober counts 2xx and 3xx as success (redirects only warn).
                Ok(resp) if (200..400).contains(&resp.status) => Ok(()),
                Ok(resp) => Err(format!(
                    "HTTP probe failed with statuscode: {}",
                    resp.status
                )),
            }
        }
        Handler::Tcp { port } => {
            let port = port.clone()?;
            if serves_port(container, port) && app.tcp(view, port, now) {
                Ok(())
            } else {
                Err(dial(pod_ip, port))
            }
        }
        Handler::Grpc { port } => {
            if serves_port(container, *port) && app.tcp(view, *port, now) {
                Ok(())
            } else {
                Err(format!(
                    "timeout: failed to connect service \"{pod_ip}:{port}\" within {}s",
                    spec.timeout.as_secs()
                ))
            }
        }
        Handler::Exec { command } => {
            let result = app.exec(view, command, now);
            if result.code == 0 {
                Ok(())
            } else {
                Err(result.output)
            }
        }
    }
}

/// The prober worker's state for one probe of one container.
#[derive(Clone, Debug)]
pub struct ProbeRt {
    pub kind: ProbeKind,
    pub spec: ProbeSpec,
    /// The next tick: workers tick every period from when the pod was admitted (`anchor`).
    pub next_at: Timestamp,
    anchor: Timestamp,
    last: Option<bool>,
    run: u32,
    /// What the results manager holds: None until a threshold is first crossed.
    pub result: Option<bool>,
    /// After a liveness/startup failure, probing pauses until the container restarts.
    pub on_hold: bool,
}

impl ProbeRt {
    pub fn new(kind: ProbeKind, spec: ProbeSpec, anchor: Timestamp) -> Self {
        let mut rt = Self {
            kind,
            spec,
            next_at: anchor,
            anchor,
            last: None,
            run: 0,
            result: None,
            on_hold: false,
        };
        rt.reset();
        rt
    }

    /// A new container instance: start over from the worker's initial value (readiness starts
    /// out failed, so a container is unready until its first successful readiness probe).
    pub fn reset(&mut self) {
        self.last = None;
        self.run = 0;
        self.on_hold = false;
        self.result = (self.kind == ProbeKind::Readiness).then_some(false);
    }

    /// Moves to the first tick after `t`. Ticks keep the worker's phase, even after a manual
    /// trigger ran the probe in between.
    pub fn advance_past(&mut self, t: Timestamp) {
        if self.next_at > t {
            return;
        }
        let period = self.spec.period.as_nanos();
        let ticks = t.duration_since(self.anchor).as_nanos().max(0) / period + 1;
        self.next_at = self
            .anchor
            .saturating_add(SignedDuration::from_nanos((ticks * period) as i64))
            .unwrap_or(t);
    }

    /// Counts one result; returns the new result when a threshold is crossed.
    pub fn record(&mut self, ok: bool) -> Option<bool> {
        if self.last == Some(ok) {
            self.run += 1;
        } else {
            self.last = Some(ok);
            self.run = 1;
        }
        let threshold = if ok {
            self.spec.success_threshold
        } else {
            self.spec.failure_threshold
        };
        if self.run < threshold {
            return None;
        }
        self.result = Some(ok);
        if !ok && self.kind != ProbeKind::Readiness {
            self.on_hold = true;
            self.run = 0;
        }
        Some(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(json: serde_json::Value) -> Container {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn named_ports_and_defaults() {
        let c = container(serde_json::json!({
            "name": "app", "image": "web:1",
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {"httpGet": {"path": "readyz", "port": "http"}},
            "livenessProbe": {"tcpSocket": {"port": "metrics"}}
        }));
        let spec = ProbeSpec::new(c.readiness_probe.as_ref().unwrap(), &c);
        assert_eq!(spec.port(), Some(8080));
        assert_eq!((spec.period.as_secs(), spec.timeout.as_secs()), (10, 1));
        assert_eq!((spec.success_threshold, spec.failure_threshold), (1, 3));
        let live = ProbeSpec::new(c.liveness_probe.as_ref().unwrap(), &c);
        assert_eq!(live.port(), None);
        assert!(serves_port(&c, 8080));
        assert!(!serves_port(&c, 9090));
    }

    #[test]
    fn thresholds_follow_the_worker() {
        let c = container(serde_json::json!({
            "name": "app",
            "readinessProbe": {"exec": {"command": ["true"]}, "successThreshold": 2, "failureThreshold": 2}
        }));
        let spec = ProbeSpec::new(c.readiness_probe.as_ref().unwrap(), &c);
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut p = ProbeRt::new(ProbeKind::Readiness, spec, t0);
        assert_eq!(p.result, Some(false));
        assert_eq!(p.record(true), None);
        assert_eq!(p.record(true), Some(true));
        assert_eq!(p.record(false), None);
        assert_eq!(
            p.record(true),
            None,
            "a single success after a failure restarts the run"
        );
        assert_eq!(p.record(false), None);
        assert_eq!(p.record(false), Some(false));
        p.advance_past(t0 + SignedDuration::from_secs(25));
        assert_eq!(p.next_at, t0 + SignedDuration::from_secs(30));
    }
}
