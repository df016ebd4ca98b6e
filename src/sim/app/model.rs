//! One container instance of a profiled app as a function of time: when it listens, is ready,
//! hangs or exits; its load, errors, latency, memory and CPU at any instant; and the exact
//! integrals of those since it started, cut at the World's fault windows so that counters are
//! monotonic, agree with the rates at every instant and reset when the container restarts.
//!
//! All times are seconds since 2020 ([`maths::secs`]); an instance is built per call from the
//! pod, its profile and the World, and holds nothing between calls.

use jiff::Timestamp;

use super::maths::{self, Latency, Wave, between, finite_or, secs, unit};
use super::profile::{Kind, Profile};
pub use super::tuned::Tuned;
use super::{Exit, PodView, stable_hash};
use crate::sim::world::{FaultKind, World};

/// The histogram buckets of `http_request_duration_seconds` (client_golang's defaults).
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How long requests keep arriving (and failing with 503) after a dependency goes down, before
/// readiness has failed often enough for the endpoints controller to stop sending them.
pub const DRAIN_SECONDS: f64 = 30.0;

/// Readiness flaps in slots of this many seconds (four probe periods of 10 s).
pub const FLAP_SLOT_SECONDS: f64 = 40.0;
/// The share of slots in which a flapping app fails readiness.
pub const FLAP_SHARE: f64 = 0.3;

/// Salts keep the draws for different purposes independent.
pub mod salt {
    pub const EXIT: u64 = 0x11;
    pub const START: u64 = 0x12;
    pub const LOAD: u64 = 0x13;
    pub const MEMORY: u64 = 0x14;
    pub const FLAP: u64 = 0x15;
    pub const LINE: u64 = 0x16;
    pub const CALL: u64 = 0x17;
}

/// What a dependency is to the app that needs it, guessed from its service name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepRole {
    Database,
    Cache,
    Other,
}

impl DepRole {
    pub fn of(name: &str) -> Self {
        let n = name.to_ascii_lowercase();
        if ["postgres", "pg", "db", "database", "mysql", "mongo", "sql"]
            .iter()
            .any(|k| n.contains(k))
        {
            DepRole::Database
        } else if ["redis", "cache", "memcache", "valkey"]
            .iter()
            .any(|k| n.contains(k))
        {
            DepRole::Cache
        } else {
            DepRole::Other
        }
    }

    pub fn port(self) -> u16 {
        match self {
            DepRole::Database => 5432,
            DepRole::Cache => 6379,
            DepRole::Other => 80,
        }
    }
}

/// A window `[from, until)` of seconds with a value (an error rate, extra seconds).
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub from: f64,
    pub until: f64,
    pub value: f64,
}

impl Window {
    fn active(&self, t: f64) -> bool {
        self.from <= t && t < self.until
    }
}

/// A service this app needs, with the windows in which it is down or slow.
#[derive(Clone, Debug)]
pub struct Dep {
    pub name: String,
    pub role: DepRole,
    pub down: Vec<Window>,
    pub slow: Vec<Window>,
}

impl Dep {
    pub fn down_at(&self, t: f64) -> bool {
        self.down.iter().any(|w| w.active(t))
    }

    pub fn extra_latency(&self, t: f64) -> f64 {
        self.slow
            .iter()
            .filter(|w| w.active(t))
            .map(|w| w.value)
            .sum()
    }
}

/// Whether requests reach the instance in a stretch of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Traffic {
    /// Not ready (starting, hung, gone, or unready for a dependency): no requests.
    None,
    /// Serving with the stretch's error fraction.
    Normal,
    /// A dependency just went down: requests still arrive and all fail with 503.
    Draining,
}

/// One stretch `[a, b)` in which the instance's state is constant.
#[derive(Clone, Copy, Debug)]
pub struct Seg {
    pub a: f64,
    pub b: f64,
    pub traffic: Traffic,
    /// Fraction of requests failing with a 5xx.
    pub err: f64,
    pub latency: Latency,
}

/// Everything served since the instance started, by an instant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    pub requests: f64,
    /// 5xx from the app's own errors (500s and a few 503s).
    pub errors: f64,
    /// 503s while draining for a dependency that went down.
    pub unavailable: f64,
    /// `Σ requests × P(latency ≤ le)` per bucket of [`BUCKETS`].
    pub buckets: [f64; BUCKETS.len()],
    pub latency_sum: f64,
    pub cpu_seconds: f64,
}

/// One container instance of a profiled app.
#[derive(Clone, Debug)]
pub struct Instance<'a> {
    pub pod: PodView<'a>,
    pub profile: &'a Profile,
    pub tuned: Tuned,
    /// The app's name as the World's faults know it (the pod's `app` label).
    pub app: &'a str,
    pub start: f64,
    /// Listening for connections from here on.
    pub listen_at: f64,
    /// Started up (ready unless something else is wrong) from here on.
    pub ready_at: f64,
    pub hang_at: f64,
    /// When and how the instance exits on its own.
    pub exit: Option<(f64, Exit)>,
    /// When the leak reaches the limit (also in `exit` unless a crash comes first).
    pub oom_at: Option<f64>,
    pub errors: Vec<Window>,
    pub slow: Vec<Window>,
    /// Windows in which this app itself is down (for datastores: `pg_up 0`).
    pub down: Vec<Window>,
    pub deps: Vec<Dep>,
    /// Same for every replica of the app: the shape of its load.
    pub app_hash: u64,
    wave: Wave,
    load_factor: f64,
}

/// The app name of a pod: its `app` label, else `app.kubernetes.io/name`, else the container.
pub fn app_name<'a>(pod: &PodView<'a>) -> &'a str {
    pod.labels
        .get("app")
        .or_else(|| pod.labels.get("app.kubernetes.io/name"))
        .map_or(pod.container, |s| s.as_str())
}

fn windows(world: &World, namespace: &str, name: &str) -> [Vec<Window>; 3] {
    let mut out: [Vec<Window>; 3] = Default::default();
    for f in world.faults_on(namespace, name) {
        let (from, until) = (secs(f.from), f.until.map_or(f64::INFINITY, secs));
        let (i, value) = match f.kind {
            FaultKind::Errors { rate } => (0, finite_or(rate, 0.0).clamp(0.0, 1.0)),
            FaultKind::Latency { extra } => (1, extra.as_secs_f64().clamp(0.0, 3_600.0)),
            FaultKind::DependencyDown => (2, 1.0),
            // A crash targets one pod and is played by the kubelet, not by the app's model.
            FaultKind::Crash => continue,
        };
        out[i].push(Window { from, until, value });
    }
    out
}

impl<'a> Instance<'a> {
    pub fn new(pod: PodView<'a>, profile: &'a Profile, world: &World) -> Self {
        let tuned = Tuned::resolve(profile, pod.tag());
        let app = app_name(&pod);
        let start = secs(pod.started_at);
        let h = |salt| pod.hash(salt);
        // Start-up, crash and leak times vary a little between instances, as real ones do.
        let ready_at = start + tuned.startup * between(h(salt::START), 0.9, 1.1);
        let listen_at = match profile.health {
            // Go-style servers bind first and report not ready while they start.
            super::profile::HealthStyle::Plain => start + (tuned.startup * 0.1).min(0.3),
            // NestJS and uvicorn bind once the application has started.
            _ => ready_at,
        };
        let jitter = between(h(salt::EXIT), 0.97, 1.03);
        let crash_at = tuned.crash_after.map(|s| start + s * jitter);
        let oom_at = tuned.oom_after.map(|s| start + s * jitter);
        let exit = match (crash_at, oom_at) {
            (Some(c), Some(o)) if o <= c => Some((o, Exit::oom_killed())),
            (Some(c), _) => Some((c, Exit::code(1))),
            (None, Some(o)) => Some((o, Exit::oom_killed())),
            (None, None) => None,
        };
        let [errors, slow, down] = windows(world, pod.namespace, app);
        let deps = profile
            .depends_on
            .iter()
            .map(|name| {
                let [_, slow, down] = windows(world, pod.namespace, name);
                Dep {
                    name: name.clone(),
                    role: DepRole::of(name),
                    down,
                    slow,
                }
            })
            .collect();
        let app_hash = stable_hash(pod.seed, &[pod.namespace.as_bytes(), app.as_bytes()]);
        Self {
            pod,
            profile,
            app,
            start,
            listen_at,
            ready_at,
            hang_at: tuned.hang_after.map_or(f64::INFINITY, |s| start + s),
            exit,
            oom_at,
            errors,
            slow,
            down,
            deps,
            app_hash,
            wave: Wave::of(app_hash),
            load_factor: between(h(salt::LOAD), 0.95, 1.05),
            tuned,
        }
    }

    pub fn exit_at(&self) -> f64 {
        self.exit.map_or(f64::INFINITY, |(t, _)| t)
    }

    /// The process exists at `t` (started, not yet exited).
    pub fn alive(&self, t: f64) -> bool {
        self.start <= t && t < self.exit_at()
    }

    pub fn hung(&self, t: f64) -> bool {
        t >= self.hang_at
    }

    pub fn starting(&self, t: f64) -> bool {
        t < self.ready_at
    }

    /// The extra 5xx fraction the World adds at `t` (the largest active fault).
    pub fn fault_error_rate(&self, t: f64) -> f64 {
        self.errors
            .iter()
            .filter(|w| w.active(t))
            .fold(0.0, |a, w| a.max(w.value))
    }

    pub fn error_fraction(&self, t: f64) -> f64 {
        (self.tuned.error_rate + self.fault_error_rate(t)).min(1.0)
    }

    /// Extra seconds every request takes at `t`.
    pub fn extra_latency(&self, t: f64) -> f64 {
        self.slow
            .iter()
            .filter(|w| w.active(t))
            .map(|w| w.value)
            .sum::<f64>()
            .min(3_600.0)
    }

    pub fn latency(&self, t: f64) -> Latency {
        Latency::new(self.tuned.p50, self.tuned.p95, self.extra_latency(t))
    }

    /// This app itself is down at `t` (a datastore under a `fail-dependency` fault).
    pub fn self_down(&self, t: f64) -> bool {
        self.down.iter().any(|w| w.active(t))
    }

    pub fn deps_down(&self, t: f64) -> impl Iterator<Item = &Dep> {
        self.deps.iter().filter(move |d| d.down_at(t))
    }

    /// In a flapping slot where readiness fails (only for a flapping profile).
    pub fn flap_failing(&self, t: f64) -> bool {
        if !self.tuned.flapping {
            return false;
        }
        let slot = (t / FLAP_SLOT_SECONDS).floor() as i64;
        let h = stable_hash(
            self.pod.seed ^ salt::FLAP,
            &[
                self.pod.uid.as_bytes(),
                self.pod.container.as_bytes(),
                &slot.to_le_bytes(),
            ],
        );
        unit(h) < FLAP_SHARE
    }

    /// Whether the readiness check passes at `t` (given the process answers at all).
    pub fn ready(&self, t: f64) -> bool {
        !self.starting(t)
            && !self.hung(t)
            && self.deps_down(t).next().is_none()
            && !self.flap_failing(t)
    }

    /// The app's load level at `t` relative to normal (the same for every replica).
    pub fn level(&self, t: f64) -> f64 {
        self.wave.level(t)
    }

    /// Requests (or jobs) per second arriving at `t` while serving.
    pub fn rps(&self, t: f64) -> f64 {
        self.tuned.rps * self.load_factor * self.wave.level(t)
    }

    /// Requests arriving over `[a, b)` while serving.
    pub fn requests_between(&self, a: f64, b: f64) -> f64 {
        self.tuned.rps * self.load_factor * self.wave.integral(a, b)
    }

    /// Whether requests reach the instance at `t`, and what fraction fails.
    pub fn traffic(&self, t: f64) -> (Traffic, f64) {
        if !self.alive(t) || self.starting(t) || self.hung(t) {
            return (Traffic::None, 0.0);
        }
        let mut draining = false;
        for d in &self.deps {
            for w in d.down.iter().filter(|w| w.active(t)) {
                // Down since before the instance was ready: it never got traffic.
                if w.from >= self.ready_at && t < w.from + DRAIN_SECONDS {
                    draining = true;
                } else {
                    return (Traffic::None, 0.0);
                }
            }
        }
        if draining {
            (Traffic::Draining, 1.0)
        } else {
            (Traffic::Normal, self.error_fraction(t))
        }
    }

    /// The instants at which anything that shapes traffic changes.
    fn breakpoints(&self) -> Vec<f64> {
        let mut cuts = vec![self.ready_at, self.hang_at, self.exit_at()];
        for w in self.errors.iter().chain(&self.slow) {
            cuts.extend([w.from, w.until]);
        }
        for w in self.deps.iter().flat_map(|d| &d.down) {
            cuts.extend([w.from, w.from + DRAIN_SECONDS, w.until]);
        }
        cuts
    }

    /// `[start, to)` cut into stretches of constant state.
    pub fn segments(&self, to: f64) -> Vec<Seg> {
        let mut cuts: Vec<f64> = self
            .breakpoints()
            .into_iter()
            .filter(|&c| c > self.start && c < to)
            .collect();
        cuts.push(self.start);
        cuts.push(to);
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        cuts.windows(2)
            .filter(|w| w[1] > w[0])
            .map(|w| {
                let mid = w[0] + (w[1] - w[0]) / 2.0;
                let (traffic, err) = self.traffic(mid);
                Seg {
                    a: w[0],
                    b: w[1],
                    traffic,
                    err,
                    latency: self.latency(mid),
                }
            })
            .collect()
    }

    /// Millicores per request (or job) handled.
    fn cost(&self) -> f64 {
        match self.profile.kind {
            Kind::Api => 3.0,
            Kind::Web => 1.5,
            Kind::Worker => 12.0,
            Kind::Postgres => 0.4,
            Kind::Redis => 0.05,
        }
    }

    fn idle(&self) -> f64 {
        5.0 + 10.0 * unit(self.pod.hash(salt::LOAD) >> 7)
    }

    const BOOT_MILLICORES: f64 = 250.0;

    /// CPU in use at `t` in millicores: start-up work, then idle plus a cost per request that
    /// grows with the error fraction (exceptions, retries, logging).
    pub fn cpu_millicores(&self, t: f64) -> f64 {
        if !self.alive(t) {
            return 0.0;
        }
        if self.starting(t) {
            return Self::BOOT_MILLICORES;
        }
        if self.hung(t) {
            return 1.0;
        }
        match self.traffic(t) {
            (Traffic::None, _) => self.idle() * 1.5,
            (_, err) => self.idle() + self.cost() * self.rps(t) * (1.0 + 1.5 * err),
        }
    }

    /// Everything served from the start up to `to` (the instance's counters at `to`).
    pub fn totals(&self, to: f64) -> Totals {
        let mut tot = Totals::default();
        for s in self.segments(to) {
            let span = s.b - s.a;
            if s.a < self.ready_at {
                tot.cpu_seconds += Self::BOOT_MILLICORES * span / 1000.0;
                continue;
            }
            if s.a >= self.hang_at {
                tot.cpu_seconds += span / 1000.0;
                continue;
            }
            if s.traffic == Traffic::None {
                tot.cpu_seconds += self.idle() * 1.5 * span / 1000.0;
                continue;
            }
            let n = self.requests_between(s.a, s.b);
            tot.requests += n;
            match s.traffic {
                Traffic::Draining => tot.unavailable += n,
                _ => tot.errors += n * s.err,
            }
            for (b, le) in tot.buckets.iter_mut().zip(BUCKETS) {
                *b += n * s.latency.cdf(le);
            }
            tot.latency_sum += n * s.latency.mean();
            tot.cpu_seconds +=
                (self.idle() * span + self.cost() * n * (1.0 + 1.5 * s.err)) / 1000.0;
        }
        tot
    }

    /// Resident memory at `t` in bytes: warming up during start-up, a slow wobble, and the
    /// leak of an `-oom` version climbing to the limit.
    pub fn memory(&self, t: f64) -> f64 {
        let age = (t - self.start).max(0.0);
        let phase = 2.0 * std::f64::consts::PI * unit(self.pod.hash(salt::MEMORY));
        let wobble = 1.0 + 0.03 * (2.0 * std::f64::consts::PI * t / 1_200.0 + phase).sin();
        let warm = if t < self.ready_at {
            0.4 + 0.6 * age / (self.ready_at - self.start).max(1e-3)
        } else {
            1.0
        };
        let mut rss = self.tuned.memory * wobble * warm;
        if let Some(oom_at) = self.oom_at {
            let span = (oom_at - self.start).max(1e-3);
            rss += (self.tuned.limit - self.tuned.memory) * (age / span).min(1.0);
        }
        rss.min(self.tuned.limit)
    }

    /// The timestamp of `t`.
    pub fn at(&self, t: f64) -> Timestamp {
        maths::stamp(t)
    }
}

#[cfg(test)]
mod tests;
