//! A profile's behaviour for one image tag: `normal` overridden field by field by the version,
//! with defaults per kind for what the profile leaves unset and nonsense (negative, NaN,
//! infinite) clamped, so no fleet file can make an app panic.

use super::maths::finite_or;
use super::profile::{Behaviour, Kind, Profile};

/// A profile's behaviour for one image tag, with defaults filled in and nonsense clamped.
#[derive(Clone, Debug, PartialEq)]
pub struct Tuned {
    pub error_rate: f64,
    /// Seconds.
    pub p50: f64,
    pub p95: f64,
    pub flapping: bool,
    pub startup: f64,
    /// Bytes.
    pub memory: f64,
    pub limit: f64,
    pub crash_after: Option<f64>,
    pub oom_after: Option<f64>,
    pub hang_after: Option<f64>,
    /// Requests (for a worker: jobs; for a datastore: queries or commands) per second.
    pub rps: f64,
    pub log_rate: f64,
}

/// How long a `-oom` tag takes to reach its limit when the profile does not say.
pub const DEFAULT_OOM_AFTER: f64 = 90.0;

pub const MIB: f64 = 1024.0 * 1024.0;

fn defaults(kind: Kind) -> (f64, f64, f64, f64, f64, f64, f64) {
    // error rate, p50 ms, p95 ms, startup s, memory MiB, rps, log lines/s
    match kind {
        Kind::Api => (0.001, 25.0, 120.0, 3.0, 180.0, 25.0, 2.0),
        Kind::Web => (0.0005, 8.0, 40.0, 2.0, 120.0, 30.0, 1.0),
        Kind::Worker => (0.002, 250.0, 1_200.0, 2.0, 220.0, 4.0, 1.0),
        Kind::Postgres => (0.0, 2.0, 15.0, 4.0, 256.0, 120.0, 0.05),
        Kind::Redis => (0.0, 0.3, 1.5, 1.0, 64.0, 400.0, 0.02),
    }
}

/// `over`'s fields where set, else `base`'s.
fn merge(base: &Behaviour, over: &Behaviour) -> Behaviour {
    Behaviour {
        error_rate: over.error_rate.or(base.error_rate),
        p50_ms: over.p50_ms.or(base.p50_ms),
        p95_ms: over.p95_ms.or(base.p95_ms),
        flapping_readiness: over.flapping_readiness.or(base.flapping_readiness),
        startup_seconds: over.startup_seconds.or(base.startup_seconds),
        memory_mib: over.memory_mib.or(base.memory_mib),
        crash_after_seconds: over.crash_after_seconds.or(base.crash_after_seconds),
        oom_after_seconds: over.oom_after_seconds.or(base.oom_after_seconds),
        hang_after_seconds: over.hang_after_seconds.or(base.hang_after_seconds),
    }
}

/// A positive, finite number of seconds, or None.
fn positive(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite() && *v >= 0.0).map(|v| v.min(1e9))
}

impl Tuned {
    /// `normal`, overridden field by field by `versions[tag]` (or, for `X-oom`, by
    /// `versions[X]`); a tag ending in `-oom` leaks memory whatever the profile says.
    pub fn resolve(profile: &Profile, tag: &str) -> Self {
        let oom_tag = tag.strip_suffix("-oom");
        let version = profile
            .versions
            .get(tag)
            .or_else(|| oom_tag.and_then(|t| profile.versions.get(t)));
        let b = match version {
            Some(v) => merge(&profile.normal, v),
            None => profile.normal.clone(),
        };
        let (err, p50, p95, startup, memory, rps, logs) = defaults(profile.kind);
        let p50 = finite_or(b.p50_ms.unwrap_or(p50), p50).clamp(0.1, 600_000.0);
        let p95 = finite_or(b.p95_ms.unwrap_or(p95.max(p50 * 1.5)), p95).clamp(p50, 3_600_000.0);
        let memory = finite_or(b.memory_mib.unwrap_or(memory), memory).clamp(1.0, 1e7);
        let limit = finite_or(
            profile
                .memory_limit_mib
                .unwrap_or((memory * 2.0).max(256.0)),
            memory * 2.0,
        )
        .clamp(memory * 1.05, 1e8);
        let oom_after = positive(b.oom_after_seconds)
            .or_else(|| oom_tag.map(|_| DEFAULT_OOM_AFTER))
            .map(|s| s.max(1.0));
        Self {
            error_rate: finite_or(b.error_rate.unwrap_or(err), err).clamp(0.0, 1.0),
            p50: p50 / 1000.0,
            p95: p95 / 1000.0,
            flapping: b.flapping_readiness.unwrap_or(false),
            startup: positive(b.startup_seconds).unwrap_or(startup).min(86_400.0),
            memory: memory * MIB,
            limit: limit * MIB,
            crash_after: positive(b.crash_after_seconds),
            oom_after,
            hang_after: positive(b.hang_after_seconds),
            rps: positive(profile.requests_per_second)
                .unwrap_or(rps)
                .min(1e6),
            log_rate: positive(profile.log_rate).unwrap_or(logs).min(1_000.0),
        }
    }
}
