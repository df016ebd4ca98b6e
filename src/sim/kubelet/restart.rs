//! Starting and restarting containers: image pulls, create and start (with the kubelet's event
//! wordings), and the crash back-off between restarts.

use jiff::{SignedDuration, Timestamp};

use super::lifecycle::{BACKOFF_INITIAL, BACKOFF_MAX, CState, CtrRt, Ctx, RECHECK, Shown, Step};
use super::probes::ProbeKind;
use super::runtime;

impl CtrRt {
    pub(super) fn start_step(
        &mut self,
        ctx: &mut Ctx<'_>,
        i: usize,
        step: Step,
        shown: Shown,
        t: Timestamp,
    ) -> bool {
        let Some(spec) = ctx.spec(i) else {
            self.state = CState::Done;
            return false;
        };
        let (always, image) = (
            runtime::pull_always(spec),
            spec.image.clone().unwrap_or_default(),
        );
        let next = |step, after: SignedDuration| CState::Creating {
            step,
            at: Some(t + after),
            shown,
        };
        self.state = match step {
            Step::Pull => {
                self.image = image;
                if always || !ctx.node.images.contains(&self.image) {
                    ctx.event(
                        t,
                        false,
                        "Pulling",
                        &self.name,
                        format!("Pulling image \"{}\"", self.image),
                    );
                    let took = runtime::pull_time(ctx.seed, ctx.uid(), &self.name, self.attempt);
                    next(Step::Pulled { began: t }, took)
                } else {
                    let msg = format!(
                        "Container image \"{}\" already present on machine",
                        self.image
                    );
                    ctx.event(t, false, "Pulled", &self.name, msg);
                    next(Step::Create, ctx.millis(&self.name, 11, 60, 250))
                }
            }
            Step::Pulled { began } => {
                let took = runtime::go_duration(t.duration_since(began));
                let size = runtime::image_size(&self.image);
                let msg = format!(
                    "Successfully pulled image \"{}\" in {took} ({took} including waiting). Image size: {size} bytes.",
                    self.image
                );
                ctx.event(t, false, "Pulled", &self.name, msg);
                ctx.node.images.insert(self.image.clone());
                next(Step::Create, ctx.millis(&self.name, 12, 100, 300))
            }
            Step::Create => {
                ctx.event(
                    t,
                    false,
                    "Created",
                    &self.name,
                    format!("Created container: {}", self.name),
                );
                next(Step::Start, ctx.millis(&self.name, 13, 50, 200))
            }
            Step::Start => return self.start(ctx, t),
        };
        false
    }

    pub(super) fn start(&mut self, ctx: &mut Ctx<'_>, t: Timestamp) -> bool {
        let first = self.ended.is_none() && self.last.is_none();
        if let Some(prev) = self.ended.take() {
            self.last = Some(prev);
            self.attempt += 1;
        }
        ctx.event(
            t,
            false,
            "Started",
            &self.name,
            format!("Started container {}", self.name),
        );
        let id = runtime::container_id(ctx.seed, ctx.uid(), &self.name, self.attempt);
        let exit = ctx.app.next_exit(&self.view(ctx, t), t);
        for p in &mut self.probes {
            p.reset();
            // The prober runs readiness at once when a started container is not ready yet.
            if p.kind == ProbeKind::Readiness {
                p.next_at = t;
            }
        }
        self.started = self.probe(ProbeKind::Startup).is_none();
        self.ready = self.readiness();
        self.state = CState::Running {
            id,
            since: t,
            exit,
            recheck: t + RECHECK,
            stop: None,
        };
        first
    }

    /// The sync after an exit: restart now, wait out the back-off, or stay down.
    pub(super) fn sync_exited(&mut self, ctx: &mut Ctx<'_>, t: Timestamp, forced: bool) {
        let code = self.ended.as_ref().map_or(0, |e| e.exit.code);
        let restart = forced
            || match ctx.restart_policy() {
                "Never" => false,
                "OnFailure" => code != 0,
                _ => true,
            };
        let finished = self.ended.as_ref().map_or(t, |e| e.finished_at);
        if !restart {
            self.state = CState::Done;
            return;
        }
        match self.backoff {
            Some((period, updated))
                if !expired(finished, updated) && t.duration_since(finished) < period =>
            {
                self.state = CState::BackOff {
                    period,
                    until: finished + period,
                    event_at: t,
                };
            }
            _ => {
                self.backoff_next(t);
                self.state = CState::Creating {
                    step: Step::Pull,
                    at: Some(t),
                    shown: Shown::Exited,
                };
            }
        }
    }

    pub(super) fn backoff_next(&mut self, t: Timestamp) {
        let finished = self.ended.as_ref().map_or(t, |e| e.finished_at);
        let period = match self.backoff {
            Some((p, updated)) if !expired(finished, updated) => (p * 2).min(BACKOFF_MAX),
            _ => BACKOFF_INITIAL,
        };
        self.backoff = Some((period, t));
    }
}

/// `hasExpired`: the back-off is forgotten once the container ran fine for twice the cap.
fn expired(finished: Timestamp, updated: Timestamp) -> bool {
    finished.duration_since(updated) > BACKOFF_MAX * 2
}
