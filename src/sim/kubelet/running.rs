//! What happens to a running container: probes, and the kills they cause; image changes and
//! pod deletion, which stop it too.

use jiff::{SignedDuration, Timestamp};

use super::lifecycle::{CState, CtrRt, Ctx, RECHECK, Step, Stop};
use super::probes::{self, ProbeKind};
use crate::sim::app::Exit;

impl CtrRt {
    pub(super) fn run_probes(
        &mut self,
        ctx: &mut Ctx<'_>,
        i: usize,
        since: Timestamp,
        t: Timestamp,
    ) {
        let Some(spec) = ctx.spec(i) else {
            self.state = CState::Done;
            return;
        };
        let pod_ip = ctx.pod_ip.to_string();
        let mut killed = None;
        for n in 0..self.probes.len() {
            let p = &self.probes[n];
            if p.next_at > t || p.on_hold {
                continue;
            }
            // `int32(time.Since(startedAt).Seconds()) < initialDelaySeconds` skips the probe.
            let gated = t.duration_since(since).as_secs() < p.spec.initial_delay
                || (p.kind == ProbeKind::Startup) == self.started
                || killed.is_some();
            let kind = p.kind;
            let outcome = (!gated)
                .then(|| probes::run(ctx.app, &self.view(ctx, since), spec, &p.spec, &pod_ip, t));
            let p = &mut self.probes[n];
            p.advance_past(t);
            let Some(outcome) = outcome else { continue };
            if let Err(output) = &outcome {
                let msg = format!("{} probe failed: {output}", kind.label());
                ctx.event(t, true, "Unhealthy", &self.name, msg);
            }
            match (kind, p.record(outcome.is_ok())) {
                (ProbeKind::Startup, Some(true)) => {
                    self.started = true;
                    if let Some(r) = self
                        .probes
                        .iter_mut()
                        .find(|p| p.kind == ProbeKind::Readiness)
                    {
                        r.next_at = r.next_at.min(t);
                    }
                }
                (ProbeKind::Startup | ProbeKind::Liveness, Some(false)) => {
                    killed = Some((kind, p.spec.termination_grace));
                }
                _ => {}
            }
        }
        self.ready = self.readiness();
        let view = self.view(ctx, since);
        let exit = ctx.app.next_exit(&view, t);
        let sigterm = killed.map(|_| ctx.app.on_sigterm(&view, t));
        if let CState::Running {
            exit: e, recheck, ..
        } = &mut self.state
        {
            *e = exit;
            *recheck = t + RECHECK;
        }
        if let (Some((kind, grace)), Some(exit)) = (killed, sigterm) {
            let restart = ctx.restart_policy() != "Never";
            let what = if kind == ProbeKind::Liveness {
                "liveness"
            } else {
                "startup"
            };
            let mut msg = format!("Container {} failed {what} probe", self.name);
            if restart {
                msg.push_str(", will be restarted");
            }
            ctx.event(t, false, "Killing", &self.name, msg);
            let grace = grace.or_else(|| ctx.pod.spec.as_ref()?.termination_grace_period_seconds);
            self.stop(ctx, t, exit, grace.unwrap_or(30), restart);
        }
    }

    /// Sends SIGTERM: the container stops about a second later, or after the whole grace period
    /// if the app ignores the signal.
    fn stop(&mut self, ctx: &Ctx<'_>, t: Timestamp, exit: Exit, grace: i64, restart: bool) {
        let grace = SignedDuration::from_secs(grace.max(0));
        let delay = if exit == Exit::sigkilled() {
            grace
        } else {
            ctx.millis(&self.name, 14, 600, 1_400).min(grace)
        };
        if let CState::Running { stop, .. } = &mut self.state {
            *stop = Some(Stop {
                at: t + delay,
                exit,
                restart,
            });
        }
    }

    /// The pod is being deleted: running containers get SIGTERM, the others never start again.
    pub fn begin_deletion(&mut self, ctx: &mut Ctx<'_>, t: Timestamp, grace: i64) {
        for p in &mut self.probes {
            p.on_hold = true;
        }
        match &mut self.state {
            CState::Running { stop: Some(s), .. } => s.restart = false,
            CState::Running { since, .. } => {
                let since = *since;
                let exit = ctx.app.on_sigterm(&self.view(ctx, since), t);
                ctx.event(
                    t,
                    false,
                    "Killing",
                    &self.name,
                    format!("Stopping container {}", self.name),
                );
                self.stop(ctx, t, exit, grace, false);
            }
            _ => self.state = CState::Done,
        }
    }

    /// The pod spec now names another image: restart the container with it.
    pub fn change_image(&mut self, ctx: &mut Ctx<'_>, t: Timestamp) {
        match &mut self.state {
            CState::Running {
                stop: None, since, ..
            } => {
                let since = *since;
                let exit = ctx.app.on_sigterm(&self.view(ctx, since), t);
                let msg = format!(
                    "Container {} definition changed, will be restarted",
                    self.name
                );
                ctx.event(t, false, "Killing", &self.name, msg);
                let grace = ctx
                    .pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.termination_grace_period_seconds);
                self.stop(ctx, t, exit, grace.unwrap_or(30), true);
            }
            CState::Creating {
                step, at: Some(at), ..
            } => {
                *step = Step::Pull;
                *at = t;
            }
            _ => {}
        }
    }
}
