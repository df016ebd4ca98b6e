//! The fleet file's schema: what each key means, its type and its default. Every map refuses keys
//! it does not know, so a typo is an error rather than a silently ignored setting.

use serde::Deserialize;

use super::durations::Dur;
use super::image::ImageRef;
use super::values::{PerEnv, Quantity, Shape, present};
use crate::sim::app::profile::{Kind, Profile};

/// The whole file, as written.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FleetConfig {
    /// The fleet's name (`seeds`).
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub clusters: Vec<ClusterConfig>,
    /// Who may use each cluster; default: `admin` and a read-only `viewer`.
    #[serde(default)]
    pub users: Option<Vec<UserConfig>>,
    /// Namespaces that need more than to exist: a quota, or fewer environments than everywhere.
    /// Namespaces the apps name are created anyway.
    #[serde(default)]
    pub namespaces: Vec<NamespaceConfig>,
    #[serde(default)]
    pub apps: Vec<AppConfig>,
    /// Named fault timelines. `calm` always exists and is empty.
    #[serde(default)]
    pub scenarios: Scenarios,
    /// The scenario the demo plays unless told otherwise; default: the first one, else `calm`.
    #[serde(default)]
    pub default_scenario: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ClusterConfig {
    pub name: String,
    pub environment: String,
    #[serde(default = "default_region")]
    pub region: String,
    /// For an environment spread over regions: which cluster takes traffic first.
    #[serde(default)]
    pub role: Option<Role>,
    /// Nodes at least; more are added when the pods need them.
    #[serde(default = "default_nodes")]
    pub nodes: u32,
}

fn default_region() -> String {
    "local".into()
}

fn default_nodes() -> u32 {
    2
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Primary,
    Secondary,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Secondary => "secondary",
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    /// May read everything and change nothing.
    #[serde(default)]
    pub read_only: bool,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NamespaceConfig {
    pub name: String,
    #[serde(default)]
    pub quota: Option<QuotaConfig>,
    /// Where the namespace exists; default: every cluster.
    #[serde(default)]
    pub environments: Option<Vec<String>>,
}

/// A ResourceQuota: `cpu`/`memory` cap the pods' requests, `limits-*` their limits.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct QuotaConfig {
    #[serde(default)]
    pub cpu: Option<Quantity>,
    #[serde(default)]
    pub memory: Option<Quantity>,
    #[serde(default)]
    pub limits_cpu: Option<Quantity>,
    #[serde(default)]
    pub limits_memory: Option<Quantity>,
    #[serde(default)]
    pub pods: Option<u32>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AppConfig {
    pub name: String,
    pub namespace: String,
    pub image: ImageRef,
    /// The port the app serves on; default 8080, or 5432/6379 for postgres/redis.
    #[serde(default)]
    pub port: Option<u16>,
    /// Default 1, or the autoscaler's minimum.
    #[serde(default)]
    pub replicas: Option<PerEnv<u32>>,
    /// A HorizontalPodAutoscaler (autoscaling/v2); environments not listed get none.
    #[serde(default)]
    pub hpa: Option<PerEnv<HpaConfig>>,
    /// Requests and limits of the main container; default 100m CPU, 128Mi memory, 256Mi limit.
    #[serde(default)]
    pub resources: Option<PerEnv<ResourcesConfig>>,
    /// How new versions reach the pods; implied by a `canary:` or `blue-green:` block.
    #[serde(default)]
    pub release: Option<Release>,
    #[serde(default)]
    pub canary: Option<CanaryConfig>,
    #[serde(default, deserialize_with = "present")]
    pub blue_green: Option<BlueGreenConfig>,
    /// Where the app runs; default: every cluster its namespace is in.
    #[serde(default)]
    pub environments: Option<Vec<String>>,
    /// The metrics sidecar of a postgres or redis app; default: the usual community exporter.
    #[serde(default)]
    pub exporter: Option<ImageRef>,
    /// How the app behaves, per image version (see `sim::app::profile`). Without it the app runs
    /// the simulator's minimal app, whose faults are chosen by the image tag (`sim::app::DefaultApp`).
    #[serde(default)]
    pub behaviour: Option<Profile>,
}

impl AppConfig {
    /// The app's behaviour: its `behaviour:` block, or the defaults (the minimal app's shape:
    /// an API with plain health endpoints).
    pub fn behaviour(&self) -> &Profile {
        static MINIMAL: std::sync::LazyLock<Profile> = std::sync::LazyLock::new(Profile::default);
        self.behaviour.as_ref().unwrap_or(&MINIMAL)
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Release {
    Rolling,
    Canary,
    BlueGreen,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct HpaConfig {
    pub min: u32,
    pub max: u32,
    /// Target average CPU utilisation in percent of the request; default 70 when no target is set.
    #[serde(default)]
    pub cpu: Option<u32>,
    /// Target average memory utilisation in percent of the request.
    #[serde(default)]
    pub memory: Option<u32>,
}

impl Shape for HpaConfig {
    const FIELDS: &'static [&'static str] = &["min", "max", "cpu", "memory"];
    const WHAT: &'static str = "an autoscaler {min, max, cpu}";
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ResourcesConfig {
    #[serde(default)]
    pub cpu: Option<Quantity>,
    #[serde(default)]
    pub memory: Option<Quantity>,
    #[serde(default)]
    pub cpu_limit: Option<Quantity>,
    #[serde(default)]
    pub memory_limit: Option<Quantity>,
}

impl Shape for ResourcesConfig {
    const FIELDS: &'static [&'static str] = &["cpu", "memory", "cpu-limit", "memory-limit"];
    const WHAT: &'static str = "a resources map {cpu, memory, cpu-limit, memory-limit}";
}

/// A second Deployment `<name>-canary` with the same `app` label and `track: canary`, so the
/// Service sends it a share of the traffic.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CanaryConfig {
    pub image: ImageRef,
    /// Default 1.
    #[serde(default)]
    pub replicas: Option<PerEnv<u32>>,
    /// Where the canary runs; default: everywhere the app runs.
    #[serde(default)]
    pub environments: Option<Vec<String>>,
}

/// Two Deployments `<name>-blue` and `<name>-green`; the Service selects the live slot and
/// `<name>-preview` the idle one.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct BlueGreenConfig {
    /// The slot taking traffic, running the app's `image`; default blue.
    #[serde(default)]
    pub live: Slot,
    /// What the idle slot runs; default the app's image.
    #[serde(default)]
    pub idle_image: Option<ImageRef>,
    /// Default: as many as the live slot.
    #[serde(default)]
    pub idle_replicas: Option<PerEnv<u32>>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Slot {
    #[default]
    Blue,
    Green,
}

impl Slot {
    pub fn as_str(self) -> &'static str {
        match self {
            Slot::Blue => "blue",
            Slot::Green => "green",
        }
    }

    pub fn other(self) -> Slot {
        match self {
            Slot::Blue => Slot::Green,
            Slot::Green => Slot::Blue,
        }
    }
}

/// Scenarios in the order written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scenarios(pub Vec<(String, Vec<StepConfig>)>);

impl<'de> Deserialize<'de> for Scenarios {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Scenarios;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of scenario name to a list of steps")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Scenarios, A::Error> {
                let mut out = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    out.push((name, map.next_value::<Vec<StepConfig>>()?));
                }
                Ok(Scenarios(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// One step of a timeline as written: when, where, and exactly one action.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StepConfig {
    /// Simulated time after the fleet starts.
    pub at: Dur,
    /// One cluster; with neither this nor `environment`, every cluster.
    #[serde(default)]
    pub cluster: Option<String>,
    /// Every cluster of one environment.
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub set_image: Option<SetImageConfig>,
    #[serde(default)]
    pub crash_pod: Option<CrashPodConfig>,
    #[serde(default)]
    pub fail_dependency: Option<FailDependencyConfig>,
    #[serde(default)]
    pub add_latency: Option<AddLatencyConfig>,
    #[serde(default)]
    pub add_errors: Option<AddErrorsConfig>,
    #[serde(default, deserialize_with = "present")]
    pub unreachable: Option<ForConfig>,
    #[serde(default)]
    pub slow_api: Option<SlowApiConfig>,
    #[serde(default, deserialize_with = "present")]
    pub drop_watches: Option<EmptyConfig>,
}

/// The action keys of a step, in the order the docs list them.
pub const ACTIONS: &[&str] = &[
    "set-image",
    "crash-pod",
    "fail-dependency",
    "add-latency",
    "add-errors",
    "unreachable",
    "slow-api",
    "drop-watches",
];

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SetImageConfig {
    pub namespace: String,
    pub deployment: String,
    /// Default: the main container (`app`, or `postgres`/`redis`).
    #[serde(default)]
    pub container: Option<String>,
    pub image: ImageRef,
}

/// Kills one pod: one of an app's (chosen by the executor), or one by name.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CrashPodConfig {
    pub namespace: String,
    #[serde(default)]
    pub app: Option<String>,
    #[serde(default)]
    pub pod: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FailDependencyConfig {
    pub namespace: String,
    /// The dependency's app (and Service) name: `postgres`, `redis`.
    pub name: String,
    #[serde(default, rename = "for")]
    pub duration: Option<Dur>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AddLatencyConfig {
    pub namespace: String,
    pub app: String,
    pub ms: u32,
    #[serde(default, rename = "for")]
    pub duration: Option<Dur>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AddErrorsConfig {
    pub namespace: String,
    pub app: String,
    /// The fraction of requests answered with a 5xx, 0 to 1.
    pub rate: f64,
    #[serde(default, rename = "for")]
    pub duration: Option<Dur>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ForConfig {
    #[serde(default, rename = "for")]
    pub duration: Option<Dur>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SlowApiConfig {
    pub ms: u32,
    #[serde(default, rename = "for")]
    pub duration: Option<Dur>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmptyConfig {}

/// The main container's name, port and default image of each kind of app.
pub fn main_container(kind: Kind) -> &'static str {
    match kind {
        Kind::Postgres => "postgres",
        Kind::Redis => "redis",
        Kind::Api | Kind::Web | Kind::Worker => "app",
    }
}

pub fn default_port(kind: Kind) -> u16 {
    match kind {
        Kind::Postgres => 5432,
        Kind::Redis => 6379,
        Kind::Api | Kind::Web | Kind::Worker => 8080,
    }
}

/// The exporter sidecar of a database or cache: default image and metrics port.
pub fn exporter(kind: Kind) -> Option<(&'static str, u16)> {
    match kind {
        Kind::Postgres => Some((
            "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
            9187,
        )),
        Kind::Redis => Some(("docker.io/oliver006/redis_exporter:v1.62.0", 9121)),
        Kind::Api | Kind::Web | Kind::Worker => None,
    }
}
