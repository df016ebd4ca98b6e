//! One container as the kubelet tracks it, a state machine driven by due times: creating,
//! running, exited, backing off, done. Starting lives in `restart.rs`, probing and kills in
//! `running.rs`.
//!
//! Every transition happens at its own due time (never at "whenever the tick ran"), so a cluster
//! replays identically per seed however coarsely it is ticked.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{Container, Pod};

use super::probes::{ProbeKind, ProbeRt, ProbeSpec};
use super::runtime::{self, NodeRt};
use crate::sim::app::{App, Exit, PodView, pick, stable_hash};

/// The kubelet's back-off: 10 s, doubling per restart up to 5 min, forgotten after the container
/// ran for twice the cap (`flowcontrol.Backoff` as the kubelet configures it).
pub(super) const BACKOFF_INITIAL: SignedDuration = SignedDuration::from_secs(10);
pub(super) const BACKOFF_MAX: SignedDuration = SignedDuration::from_secs(300);
/// How often the kubelet re-syncs a pod that waits out a back-off (each sync records BackOff).
const BACKOFF_RESYNC: SignedDuration = SignedDuration::from_secs(10);
/// How long an exited container shows as terminated before the next sync restarts or backs off.
const SYNC_DELAY: SignedDuration = SignedDuration::from_secs(1);
/// How often a running container without due probes asks its app whether it will exit.
pub(super) const RECHECK: SignedDuration = SignedDuration::from_secs(60);

/// An event the kubelet records about the pod, or one of its containers.
#[derive(Clone, Debug)]
pub struct KEvent {
    pub at: Timestamp,
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
    pub container: Option<String>,
}

/// What a step needs besides the pod's own runtime state.
pub struct Ctx<'a> {
    pub app: &'a dyn App,
    pub seed: u64,
    pub pod: &'a Pod,
    pub pod_ip: &'a str,
    pub node: &'a mut NodeRt,
    pub events: &'a mut Vec<KEvent>,
}

impl<'a> Ctx<'a> {
    pub(super) fn event(
        &mut self,
        at: Timestamp,
        warning: bool,
        reason: &'static str,
        container: &str,
        message: String,
    ) {
        self.events.push(KEvent {
            at,
            warning,
            reason,
            message,
            container: Some(container.to_string()),
        });
    }

    pub(super) fn uid(&self) -> &str {
        self.pod.metadata.uid.as_deref().unwrap_or("")
    }

    pub(super) fn spec(&self, i: usize) -> Option<&'a Container> {
        self.pod.spec.as_ref()?.containers.get(i)
    }

    pub(super) fn restart_policy(&self) -> &str {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.as_deref())
            .unwrap_or("Always")
    }

    /// A jitter in `[lo, hi)` ms, fixed per pod, container and purpose.
    pub(super) fn millis(&self, container: &str, salt: u64, lo: i64, hi: i64) -> SignedDuration {
        let h = stable_hash(
            self.seed ^ salt,
            &[self.uid().as_bytes(), container.as_bytes()],
        );
        SignedDuration::from_millis(pick(h, lo, hi))
    }
}

/// One ended container instance: `state.terminated` or `lastState.terminated`.
#[derive(Clone, Debug)]
pub struct Term {
    pub exit: Exit,
    pub image: String,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub id: String,
}

/// What the status shows while a container is being (re)started.
#[derive(Clone, Copy, Debug)]
pub enum Shown {
    /// Never ran: waiting, ContainerCreating.
    Fresh,
    /// Restarting right after an exit: still the terminated instance.
    Exited,
    /// Restarting after a back-off of this length: still waiting, CrashLoopBackOff.
    BackOff(SignedDuration),
}

#[derive(Clone, Copy, Debug)]
pub enum Step {
    Pull,
    Pulled { began: Timestamp },
    Create,
    Start,
}

/// A kill in progress: the container stops at `at`.
#[derive(Clone, Copy, Debug)]
pub struct Stop {
    pub(super) at: Timestamp,
    pub(super) exit: Exit,
    pub(super) restart: bool,
}

#[derive(Clone, Debug)]
pub enum CState {
    /// `at` is None while queued behind the pod's earlier containers (they start one by one).
    Creating {
        step: Step,
        at: Option<Timestamp>,
        shown: Shown,
    },
    Running {
        id: String,
        since: Timestamp,
        exit: Option<(Timestamp, Exit)>,
        recheck: Timestamp,
        stop: Option<Stop>,
    },
    Exited {
        sync_at: Timestamp,
        forced: bool,
    },
    BackOff {
        period: SignedDuration,
        until: Timestamp,
        event_at: Timestamp,
    },
    /// Stopped for good: the restart policy says so, or the pod is being deleted.
    Done,
}

/// The kubelet's memory of one container.
#[derive(Clone, Debug)]
pub struct CtrRt {
    pub name: String,
    /// The image of the current (or last) instance; a spec change is noticed against it.
    pub image: String,
    /// `restartCount`: the attempt number of the newest instance.
    pub attempt: i32,
    pub state: CState,
    /// The newest instance, once it ended (shown as `state.terminated` until it is replaced).
    pub ended: Option<Term>,
    /// The instance before the current one: `lastState.terminated`.
    pub last: Option<Term>,
    /// `(period, last update)` of the crash back-off.
    pub(super) backoff: Option<(SignedDuration, Timestamp)>,
    pub probes: Vec<ProbeRt>,
    pub started: bool,
    pub ready: bool,
}

impl CtrRt {
    pub fn new(spec: &Container, anchor: Timestamp) -> Self {
        let kinds = [
            (ProbeKind::Startup, &spec.startup_probe),
            (ProbeKind::Liveness, &spec.liveness_probe),
            (ProbeKind::Readiness, &spec.readiness_probe),
        ];
        // Exactly as long as needed (`collect` would make room for all three kinds): the kubelet
        // keeps one of these per container of every pod.
        let mut probes = Vec::with_capacity(kinds.iter().filter(|(_, p)| p.is_some()).count());
        probes.extend(
            kinds.into_iter().filter_map(|(k, p)| {
                Some(ProbeRt::new(k, ProbeSpec::new(p.as_ref()?, spec), anchor))
            }),
        );
        Self {
            name: spec.name.clone(),
            image: spec.image.clone().unwrap_or_default(),
            attempt: 0,
            state: CState::Creating {
                step: Step::Pull,
                at: None,
                shown: Shown::Fresh,
            },
            ended: None,
            last: None,
            backoff: None,
            probes,
            started: false,
            ready: false,
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self.state, CState::Running { .. })
    }

    pub(super) fn probe(&self, kind: ProbeKind) -> Option<&ProbeRt> {
        self.probes.iter().find(|p| p.kind == kind)
    }

    pub(super) fn readiness(&self) -> bool {
        self.started
            && self
                .probe(ProbeKind::Readiness)
                .is_none_or(|p| p.result == Some(true))
    }

    /// Brings a running container's periodic re-check forward to `t`.
    pub fn recheck_at(&mut self, t: Timestamp) {
        if let CState::Running { recheck, .. } = &mut self.state {
            *recheck = (*recheck).min(t);
        }
    }

    /// The next time this container needs the kubelet.
    pub fn due(&self) -> Option<Timestamp> {
        match &self.state {
            CState::Creating { at, .. } => *at,
            CState::Running {
                exit,
                recheck,
                stop,
                ..
            } => {
                let probes = self
                    .probes
                    .iter()
                    .filter(|p| !p.on_hold && (p.kind != ProbeKind::Startup || !self.started))
                    .map(|p| p.next_at);
                let stop = stop.map(|s| s.at);
                probes
                    .chain(
                        [Some(*recheck), exit.map(|e| e.0), stop]
                            .into_iter()
                            .flatten(),
                    )
                    .min()
            }
            CState::Exited { sync_at, .. } => Some(*sync_at),
            CState::BackOff {
                until, event_at, ..
            } => Some((*until).min(*event_at)),
            CState::Done => None,
        }
    }

    /// The view the app gets of the running instance.
    pub(super) fn view<'a>(&'a self, ctx: &'a Ctx<'_>, since: Timestamp) -> PodView<'a> {
        PodView::of(
            ctx.pod,
            &self.name,
            &self.image,
            since,
            self.attempt,
            ctx.seed,
        )
    }

    /// Does what is due at `t`; returns true when the container just started for the first time.
    pub fn step(&mut self, ctx: &mut Ctx<'_>, i: usize, t: Timestamp) -> bool {
        match self.state.clone() {
            CState::Creating { step, at, shown } if at.is_some_and(|a| a <= t) => {
                return self.start_step(ctx, i, step, shown, t);
            }
            CState::Running { stop: Some(s), .. } if s.at <= t => {
                self.end(s.exit, t);
                self.state = CState::Exited {
                    sync_at: t,
                    forced: s.restart,
                };
                if !s.restart {
                    self.state = CState::Done;
                }
            }
            CState::Running {
                exit: Some((at, exit)),
                ..
            } if at <= t => {
                self.end(exit, t);
                self.state = CState::Exited {
                    sync_at: t + SYNC_DELAY,
                    forced: false,
                };
            }
            CState::Running { since, .. } => self.run_probes(ctx, i, since, t),
            CState::Exited { sync_at, forced } if sync_at <= t => self.sync_exited(ctx, t, forced),
            CState::BackOff { period, until, .. } if until <= t => {
                self.backoff_next(t);
                self.state = CState::Creating {
                    step: Step::Pull,
                    at: Some(t),
                    shown: Shown::BackOff(period),
                };
            }
            CState::BackOff {
                period,
                until,
                event_at,
            } if event_at <= t => {
                let pod = runtime::pod_ref(ctx.pod);
                let msg = format!(
                    "Back-off restarting failed container {} in pod {pod}",
                    self.name
                );
                ctx.event(t, true, "BackOff", &self.name, msg);
                let jitter = ctx.millis(&self.name, t.as_second() as u64, 0, 5_000);
                self.state = CState::BackOff {
                    period,
                    until,
                    event_at: t + BACKOFF_RESYNC + jitter,
                };
            }
            _ => {}
        }
        false
    }

    fn end(&mut self, exit: Exit, t: Timestamp) {
        if let CState::Running { id, since, .. } = &self.state {
            self.ended = Some(Term {
                exit,
                image: self.image.clone(),
                started_at: *since,
                finished_at: t,
                id: id.clone(),
            });
        }
        self.started = false;
        self.ready = false;
    }
}
