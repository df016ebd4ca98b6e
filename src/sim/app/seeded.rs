//! The app of a fleet modelled on the seed systems: each container behaves as the [`Profile`]
//! of its image repository says, under the faults of its cluster's [`World`].
//!
//! # What the fleet builder creates
//!
//! The catalog maps an image repository (no tag: `ghcr.io/arq/arq-backend`) to a profile; the
//! tag picks the version (`versions`), and a tag ending in `-oom` leaks memory until OOMKilled.
//! A container whose image is not in the catalog runs the [`DefaultApp`].
//!
//! - **api / web / worker** (`kind`): one container serving HTTP on whatever port the pod
//!   declares (probes and the proxy only reach declared ports). Paths by `health` style:
//!   - `plain`: `/healthz`, `/readyz`, `/metrics`;
//!   - `arxos`: `/healthz`, `/readyz`, `/metrics`, `/info` (JSON bodies of seed 000);
//!   - `arq`: `/api/v1/health`, `/api/v1/health/readiness`, `/api/v1/metrics` (seed 001).
//!
//!   `plain` listens about 0.3 s after start and answers 503 while starting; `arxos` and `arq`
//!   refuse connections until started up (as uvicorn and NestJS do), so give them a
//!   startupProbe or an initialDelaySeconds. Readiness fails while starting, while a service
//!   named in `depends-on` is down (a `DependencyDown` fault on that name in the pod's namespace),
//!   and in the failing slots of a `flapping-readiness` profile. The World's faults are looked up
//!   by the pod's `app` label, which must therefore be the app's name.
//! - **postgres / redis**: a pod with two containers. The main container (any name but
//!   `exporter`, image in the catalog with `kind: postgres|redis`) speaks only TCP on its port
//!   (5432 / 6379) and answers the exec probes `pg_isready` / `redis-cli ping`; it refuses while
//!   the datastore is down (a `DependencyDown` fault on the pod's `app` label, the service name
//!   that other apps list in `depends-on`). The sidecar is a container named `exporter` (or any
//!   image whose repository ends in `postgres-exporter`, `postgres_exporter`, `redis_exporter` or
//!   `redis-exporter`) serving `/metrics` on its declared port: 9187 for postgres, 9121 for redis.
//!   Its `pg_up` / `redis_up` is 0 while the datastore is down; its counters count from the
//!   exporter's own start.
//!
//! # Behaviour worth knowing when writing a fleet
//!
//! - Load is per pod (`requests-per-second`, on a shared 15-minute and hourly wave): an app
//!   cannot see its replica count, so an HPA whose target is below the normal utilisation
//!   (`idle + rps × cost`, about 85m for an api at the default 25 rps) scales to its maximum.
//!   Errors raise CPU by up to 2.5×, which is what makes the HPA react to a bad release.
//! - A flapping app fails readiness in about 30 % of 40-second slots (four probe periods).
//! - When a dependency goes down, requests keep arriving and fail with 503 for 30 s (until
//!   readiness has failed three times), then the app gets no traffic until it recovers.
//! - `hang-after-seconds` stops HTTP answers (probes time out) and makes SIGTERM ineffective.
//! - Arxos' `uptime_formatted` is Python's `str(timedelta)`: `1:02:05`, `1 day, 0:00:07`.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;

use super::maths::secs;
use super::model::Instance;
use super::profile::{Kind, Profile};
use super::{
    App, AppRequest, AppResponse, DefaultApp, ExecResult, Exit, LogLine, PodView, Unreachable,
    health, image_repository, logs, store,
};
use crate::sim::world::World;

/// The app of every container of a simulated cluster.
pub struct FleetApp {
    catalog: HashMap<String, Profile>,
    world: Arc<World>,
    postgres_exporter: Profile,
    redis_exporter: Profile,
}

/// What a container is, given its image and name.
#[derive(Clone, Copy)]
enum Role<'p> {
    Service(&'p Profile),
    Datastore(&'p Profile),
    Exporter(&'p Profile),
    Default,
}

fn last_segment(repo: &str) -> &str {
    repo.rsplit('/').next().unwrap_or(repo)
}

impl FleetApp {
    /// An app for `catalog` (`(image repository, profile)`; a repeated repository keeps its last
    /// profile) under the faults of `world`.
    pub fn new(catalog: Vec<(String, Profile)>, world: Arc<World>) -> Self {
        let exporter = |kind| Profile {
            kind,
            ..Profile::default()
        };
        Self {
            catalog: catalog.into_iter().collect(),
            world,
            postgres_exporter: exporter(Kind::Postgres),
            redis_exporter: exporter(Kind::Redis),
        }
    }

    /// The profile a container image runs with, if the catalog has its repository.
    pub fn profile(&self, image: &str) -> Option<&Profile> {
        self.catalog.get(image_repository(image))
    }

    fn role(&self, pod: &PodView<'_>) -> Role<'_> {
        let repo = image_repository(pod.image);
        let last = last_segment(repo);
        let sidecar = pod.container == "exporter" || last.contains("exporter");
        match self.catalog.get(repo) {
            Some(p) if matches!(p.kind, Kind::Postgres | Kind::Redis) => {
                if sidecar {
                    Role::Exporter(p)
                } else {
                    Role::Datastore(p)
                }
            }
            Some(p) => Role::Service(p),
            None => match last {
                "postgres-exporter" | "postgres_exporter" => {
                    Role::Exporter(&self.postgres_exporter)
                }
                "redis_exporter" | "redis-exporter" => Role::Exporter(&self.redis_exporter),
                _ => Role::Default,
            },
        }
    }

    fn instance<'a>(&self, pod: &PodView<'a>, profile: &'a Profile) -> Instance<'a> {
        Instance::new(*pod, profile, &self.world)
    }
}

impl App for FleetApp {
    fn http(
        &self,
        pod: &PodView<'_>,
        req: &AppRequest<'_>,
        now: Timestamp,
    ) -> Result<AppResponse, Unreachable> {
        match self.role(pod) {
            Role::Service(p) => health::http(&self.instance(pod, p), req, now),
            Role::Exporter(p) => store::exporter_http(&self.instance(pod, p), req, now),
            Role::Datastore(p) => {
                // A database port is not HTTP: the server drops the request unanswered.
                if store::accepts(&self.instance(pod, p), secs(now)) {
                    Err(Unreachable::Timeout)
                } else {
                    Err(Unreachable::Refused)
                }
            }
            Role::Default => DefaultApp.http(pod, req, now),
        }
    }

    fn next_exit(&self, pod: &PodView<'_>, now: Timestamp) -> Option<(Timestamp, Exit)> {
        match self.role(pod) {
            Role::Service(p) | Role::Datastore(p) => {
                let inst = self.instance(pod, p);
                inst.exit.map(|(t, e)| (inst.at(t), e))
            }
            Role::Exporter(_) => None,
            Role::Default => DefaultApp.next_exit(pod, now),
        }
    }

    fn on_sigterm(&self, pod: &PodView<'_>, now: Timestamp) -> Exit {
        match self.role(pod) {
            Role::Service(p) | Role::Datastore(p) => {
                if self.instance(pod, p).hung(secs(now)) {
                    Exit::sigkilled()
                } else {
                    Exit::code(0)
                }
            }
            Role::Exporter(_) => Exit::code(0),
            Role::Default => DefaultApp.on_sigterm(pod, now),
        }
    }

    fn tcp(&self, pod: &PodView<'_>, port: u16, now: Timestamp) -> bool {
        let t = secs(now);
        match self.role(pod) {
            // A hung process still has its socket: the kernel accepts for it.
            Role::Service(p) => {
                let inst = self.instance(pod, p);
                inst.alive(t) && t >= inst.listen_at
            }
            Role::Datastore(p) => store::accepts(&self.instance(pod, p), t),
            Role::Exporter(p) => self.instance(pod, p).alive(t),
            Role::Default => DefaultApp.tcp(pod, port, now),
        }
    }

    fn exec(&self, pod: &PodView<'_>, command: &[String], now: Timestamp) -> ExecResult {
        match self.role(pod) {
            Role::Datastore(p) => store::exec(&self.instance(pod, p), command, now),
            _ => DefaultApp.exec(pod, command, now),
        }
    }

    fn log_lines(&self, pod: &PodView<'_>, from: Timestamp, to: Timestamp, out: &mut Vec<LogLine>) {
        let from = from.max(pod.started_at);
        if from >= to {
            return;
        }
        match self.role(pod) {
            Role::Service(p) => logs::lines(&self.instance(pod, p), from, to, out),
            Role::Datastore(p) => store::main_lines(&self.instance(pod, p), from, to, out),
            Role::Exporter(p) => store::exporter_lines(&self.instance(pod, p), from, to, out),
            Role::Default => DefaultApp.log_lines(pod, from, to, out),
        }
    }

    fn cpu_millicores(&self, pod: &PodView<'_>, now: Timestamp) -> f64 {
        let t = secs(now);
        match self.role(pod) {
            Role::Service(p) => self.instance(pod, p).cpu_millicores(t),
            Role::Datastore(p) => store::main_cpu(&self.instance(pod, p), t),
            Role::Exporter(p) => {
                if self.instance(pod, p).alive(t) {
                    2.0
                } else {
                    0.0
                }
            }
            Role::Default => DefaultApp.cpu_millicores(pod, now),
        }
    }
}

#[cfg(test)]
mod tests;
