//! How one kind of simulated workload behaves: the fleet file's `behaviour` of an app, keyed by
//! the image repository, so `kubectl set image` to another tag changes behaviour the way a new
//! release would.

use std::collections::BTreeMap;

use serde::Deserialize;

/// What the workload is; decides its metric families and its log lines.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An HTTP API: request counters and latency histogram, database pool use.
    #[default]
    Api,
    /// A web frontend: requests and latency, no database.
    Web,
    /// A queue worker: jobs processed and failed, queue depth.
    Worker,
    /// PostgreSQL with a postgres-exporter sidecar (`pg_up`, connections).
    Postgres,
    /// Redis with a redis-exporter sidecar (`redis_up`, `redis_connected_clients`).
    Redis,
}

/// The shape of the health endpoints (see `../shared/seeds/`).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum HealthStyle {
    /// `/healthz`, `/readyz`, `/metrics` with plain-text bodies.
    #[default]
    Plain,
    /// Arxos (seed 000): `/healthz`, `/readyz`, `/metrics`, `/info`, JSON bodies with system,
    /// uptime and database sections.
    Arxos,
    /// arQ (seed 001): `/api/v1/health`, `/api/v1/health/readiness` with `checks{database,
    /// redis}`, `/api/v1/metrics`.
    Arq,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// One JSON object per line (`{"ts", "level", "msg", ...}`).
    Json,
    /// Plain text (access-log style lines).
    #[default]
    Text,
}

/// Behaviour that a version may override; unset fields keep the profile's base behaviour.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Behaviour {
    /// Fraction of requests answered with a 5xx.
    pub error_rate: Option<f64>,
    /// Median request latency, in milliseconds.
    pub p50_ms: Option<f64>,
    /// 95th percentile request latency, in milliseconds.
    pub p95_ms: Option<f64>,
    /// Readiness fails intermittently (a few probe periods failing, then passing again).
    pub flapping_readiness: Option<bool>,
    /// Seconds after start before the app answers its health checks.
    pub startup_seconds: Option<f64>,
    /// Resident memory after start-up, in MiB.
    pub memory_mib: Option<f64>,
    /// Seconds after start at which the container crashes (exit 1 after a stack trace).
    pub crash_after_seconds: Option<f64>,
    /// Memory climbs from `memory-mib` to the limit over this many seconds, then OOMKilled (137).
    pub oom_after_seconds: Option<f64>,
    /// Seconds after start at which the process hangs: it stops answering HTTP (probes time
    /// out) and ignores SIGTERM, so the kubelet kills it after the grace period (137).
    pub hang_after_seconds: Option<f64>,
}

/// How a workload behaves, per image version.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Profile {
    #[serde(default)]
    pub kind: Kind,
    #[serde(default)]
    pub health: HealthStyle,
    #[serde(default)]
    pub logs: LogFormat,
    /// Log lines per second per container when serving normally.
    #[serde(default)]
    pub log_rate: Option<f64>,
    /// Requests per second per pod when serving normally.
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    /// Memory limit in MiB (the pod spec's limit; `oom-after-seconds` climbs to it).
    #[serde(default)]
    pub memory_limit_mib: Option<f64>,
    /// Service names in the same namespace this app needs (`postgres`, `redis`): when one is down
    /// (timeline `fail-dependency`) readiness fails with that check in error.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// The behaviour of every version not listed in `versions`.
    #[serde(default)]
    pub normal: Behaviour,
    /// Overrides per image tag (`"2.5.0": {error-rate: 0.2}`). A tag ending in `-oom` also leaks
    /// memory until OOMKilled, whatever is listed.
    #[serde(default)]
    pub versions: BTreeMap<String, Behaviour>,
}
