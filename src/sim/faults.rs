//! The faults a timeline plays on a running cluster. Each acts the way the real failure would and
//! shows through the API, never through a side channel: a new image is a Deployment update (the
//! controllers roll it out), a crashed pod is a container that exits (the kubelet restarts it and
//! records it), an unreachable cluster refuses connections, a slow one answers late.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;

use super::app::{App, AppRequest, AppResponse, ExecResult, Exit, LogLine, PodView, Unreachable};
use super::fleet::RunningCluster;
use super::fleetfile::PodTarget;
use super::world::{Fault, FaultKind, Target, World};

impl RunningCluster {
    /// `kubectl set image deployment/<deployment> <container>=<image>`: the Deployment's pod
    /// template changes and the deployment controller rolls it out. `container` None means every
    /// container (as `*=` does).
    pub fn set_image(
        &self,
        namespace: &str,
        deployment: &str,
        container: Option<&str>,
        image: &str,
    ) -> Result<(), String> {
        self.cluster.write(|store, _| {
            store
                .mutate::<Deployment>(namespace, deployment, |d| {
                    let containers = d
                        .spec
                        .as_mut()
                        .and_then(|s| s.template.spec.as_mut())
                        .map(|s| s.containers.as_mut_slice())
                        .unwrap_or_default();
                    for c in containers {
                        if container.is_none_or(|n| n == c.name) {
                            c.image = Some(image.to_string());
                        }
                    }
                })
                .map(|_| ())
                .map_err(|e| format!("{namespace}/{deployment}: {}", e.message))
        })
    }

    /// Kills the pod's first container at once (exit code 137 after a fatal log line), as when
    /// its main process dies; the kubelet sees it exit and restarts it as its restart policy
    /// says. Returns the pod's name.
    pub fn crash_pod(&self, namespace: &str, pick: &PodTarget) -> Result<String, String> {
        let (name, container) = {
            let store = self.cluster.store();
            let pod = match pick {
                PodTarget::Pod(name) => store
                    .get::<Pod>(namespace, name)
                    .ok_or_else(|| format!("no pod {namespace}/{name}"))?,
                PodTarget::App(app) => {
                    let mut running: Vec<_> = store
                        .list::<Pod>(Some(namespace))
                        .into_iter()
                        .filter(|p| {
                            p.metadata.deletion_timestamp.is_none()
                                && p.metadata
                                    .labels
                                    .as_ref()
                                    .and_then(|l| l.get("app"))
                                    .is_some_and(|a| a == app)
                                && p.status.as_ref().and_then(|s| s.phase.as_deref())
                                    == Some("Running")
                        })
                        .collect();
                    running.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
                    running
                        .into_iter()
                        .next()
                        .ok_or_else(|| format!("no running pod of app {app} in {namespace}"))?
                }
            };
            let container = pod
                .spec
                .as_ref()
                .and_then(|s| s.containers.first())
                .map(|c| c.name.clone())
                .ok_or_else(|| format!("pod {namespace}/{pick:?} has no containers"))?;
            (pod.metadata.name.clone().unwrap_or_default(), container)
        };
        self.world.add(Fault {
            target: Target::new(namespace, crash_target(&name, &container)),
            kind: FaultKind::Crash,
            from: self.cluster.now(),
            until: None,
        });
        // Have the kubelet look now rather than at its next periodic re-check of the container.
        self.cluster
            .kubelet
            .recheck(namespace, &name, self.cluster.now());
        self.cluster.changed.notify_one();
        Ok(name)
    }

    /// Serves again on the cluster's own address after it was made unreachable. The port was
    /// ours a moment ago, but another process may have taken it in between: retry a little
    /// before giving up.
    pub async fn come_back(&self) -> std::io::Result<()> {
        let mut last = Ok(());
        for _ in 0..20 {
            last = self.server.resume().await;
            if last.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        last
    }

    /// Every API request waits `delay` (real time) for `span` of simulated time.
    pub fn slow_api(&self, delay: Duration, span: SignedDuration) {
        let until = self
            .cluster
            .now()
            .checked_add(span)
            .unwrap_or(Timestamp::MAX);
        self.cluster.slow_down(delay, until);
    }
}

/// The World target of a crash: one container of one pod (`<pod>/<container>`).
fn crash_target(pod: &str, container: &str) -> String {
    format!("{pod}/{container}")
}

/// Wraps a fleet's app with the crashes the timeline injects (the app's own behaviour is its
/// business; a crash can hit any app).
pub struct Crashable {
    inner: Arc<dyn App>,
    world: Arc<World>,
}

impl Crashable {
    pub fn new(inner: Arc<dyn App>, world: Arc<World>) -> Self {
        Self { inner, world }
    }

    /// When a crash fault kills this instance: the first crash injected while it ran.
    fn crash(&self, pod: &PodView<'_>) -> Option<Timestamp> {
        self.world
            .faults_on(pod.namespace, &crash_target(pod.name, pod.container))
            .iter()
            .filter(|f| f.kind == FaultKind::Crash && f.from > pod.started_at)
            .map(|f| f.from)
            .min()
    }
}

const CRASH_EXIT: Exit = Exit {
    code: 137,
    reason: super::app::ExitReason::Error,
};

impl App for Crashable {
    fn http(
        &self,
        pod: &PodView<'_>,
        req: &AppRequest<'_>,
        now: Timestamp,
    ) -> Result<AppResponse, Unreachable> {
        self.inner.http(pod, req, now)
    }

    fn next_exit(&self, pod: &PodView<'_>, now: Timestamp) -> Option<(Timestamp, Exit)> {
        let own = self.inner.next_exit(pod, now);
        match (self.crash(pod), own) {
            (Some(at), Some((t, _))) if at < t => Some((at, CRASH_EXIT)),
            (Some(at), None) => Some((at, CRASH_EXIT)),
            (_, own) => own,
        }
    }

    fn on_sigterm(&self, pod: &PodView<'_>, now: Timestamp) -> Exit {
        self.inner.on_sigterm(pod, now)
    }

    fn tcp(&self, pod: &PodView<'_>, port: u16, now: Timestamp) -> bool {
        self.inner.tcp(pod, port, now)
    }

    fn exec(&self, pod: &PodView<'_>, command: &[String], now: Timestamp) -> ExecResult {
        self.inner.exec(pod, command, now)
    }

    fn log_lines(&self, pod: &PodView<'_>, from: Timestamp, to: Timestamp, out: &mut Vec<LogLine>) {
        self.inner.log_lines(pod, from, to, out);
        if let (Some(at), Some((ended, exit))) = (self.crash(pod), pod.ended)
            && at == ended
            && exit == CRASH_EXIT
            && from <= at
            && at < to
        {
            out.push(LogLine {
                at,
                text: "fatal: process killed (crash injected by the demo's fault timeline)"
                    .to_string(),
            });
        }
    }

    fn cpu_millicores(&self, pod: &PodView<'_>, now: Timestamp) -> f64 {
        self.inner.cpu_millicores(pod, now)
    }
}
