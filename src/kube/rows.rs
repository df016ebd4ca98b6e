//! Compact rows: what the console keeps of each Kubernetes object. The I/O task converts watch
//! events into these (see `convert`), so the UI state never holds full objects.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjKey {
    pub namespace: String,
    pub name: String,
}

impl ObjKey {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for ObjKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// How bad a pod (or anything else) looks, worst last, so `max()` finds the worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Health {
    /// Running and ready, or completed as it should.
    #[default]
    Ok,
    /// On its way: pending, creating, starting, terminating.
    Progressing,
    /// Unknown: no data, or the kubelet lost contact.
    Unknown,
    /// Running but not ready, or a probe failing.
    Warning,
    /// Crash-looping, failed, OOM-killed, image pull errors.
    Critical,
}

/// One probe of one container, as the last status and events tell it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum ProbeState {
    /// No such probe in the spec.
    #[default]
    NotConfigured,
    /// Configured and, as far as the status and the recent events tell, passing.
    Passing,
    /// Configured, but the container is not running, so it is not being run.
    NotRunning,
    /// Failing: how many failures the kubelet reported (the Unhealthy event's count), the last
    /// message and when.
    Failing {
        count: u32,
        message: String,
        last: Option<Timestamp>,
    },
}

/// The three probes of a pod (all containers folded: the worst of each kind).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Probes {
    pub liveness: ProbeState,
    pub readiness: ProbeState,
    pub startup: ProbeState,
}

/// A probe's configuration, for the detail view and for telling a recent failure from an old one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeSpec {
    /// `HTTP GET :3001/api/v1/health`, `TCP :5432`, `exec [pg_isready]`, `gRPC :9000`.
    pub handler: String,
    pub period_seconds: u32,
    pub failure_threshold: u32,
    pub initial_delay_seconds: u32,
    pub timeout_seconds: u32,
}

/// One container of a pod: what the pods table and detail need.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ContainerRow {
    pub name: String,
    pub image: String,
    pub ready: bool,
    /// `status.containerStatuses[].started`.
    pub started: Option<bool>,
    pub restarts: u32,
    /// Running, Waiting: CrashLoopBackOff, Terminated: OOMKilled, ...
    pub state: String,
    /// The waiting or terminated message, if any (back-off text, ...).
    pub state_message: Option<String>,
    /// The last termination (`lastState.terminated`): reason, exit code, when it finished.
    pub last_termination: Option<Termination>,
    pub liveness: Option<ProbeSpec>,
    pub readiness: Option<ProbeSpec>,
    pub startup: Option<ProbeSpec>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Termination {
    pub reason: String,
    pub exit_code: i32,
    pub finished: Option<Timestamp>,
}

/// A pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodRow {
    pub key: ObjKey,
    /// The Deployment (or other top-level owner) it belongs to, from its ReplicaSet owner and
    /// `pod-template-hash` label; None for bare pods.
    pub workload: Option<String>,
    /// The owning ReplicaSet's name, if any.
    pub replicaset: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Ready containers / all containers.
    pub ready: (u16, u16),
    /// What `kubectl get pods` prints in STATUS (CrashLoopBackOff, Running, Terminating, ...).
    pub status: String,
    pub health: Health,
    /// Sum of the containers' restart counts.
    pub restarts: u32,
    /// When the most recent restart happened (the newest `lastState.terminated.finishedAt`).
    pub last_restart: Option<Timestamp>,
    pub node: String,
    pub created: Option<Timestamp>,
    pub deleting: bool,
    pub containers: Vec<ContainerRow>,
    /// Whether and where its `/metrics` may be scraped.
    pub scrape: Scrape,
}

/// What a pod says about scraping its metrics, the way Prometheus's Kubernetes examples read it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Scrape {
    /// Nothing: no `prometheus.io/scrape` annotation and no port named `metrics` or
    /// `http-metrics`. The configuration's default port may still apply.
    #[default]
    Unsaid,
    /// `prometheus.io/scrape: "false"`.
    OptedOut,
    /// Annotated `prometheus.io/scrape: "true"`, or a container port named `metrics` /
    /// `http-metrics`.
    At(ScrapeSpec),
}

/// Where a pod's metrics are: a port (number or container port name), path and scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScrapeSpec {
    /// A port number or a named container port; None when annotated without a port and the pod
    /// declares none (the configuration's default port applies).
    pub port: Option<String>,
    /// `prometheus.io/path`; None: the configuration's `pod_path` (default `/metrics`).
    pub path: Option<String>,
    /// `prometheus.io/scheme`: `http` or `https`.
    pub scheme: String,
}

/// A Deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadRow {
    pub key: ObjKey,
    pub desired: u32,
    pub ready: u32,
    pub updated: u32,
    pub available: u32,
    /// `deployment.kubernetes.io/revision`.
    pub revision: Option<u64>,
    /// The pod template's images, in container order.
    pub images: Vec<String>,
    /// `RollingUpdate 25%/25%`, `Recreate`.
    pub strategy: String,
    pub selector: BTreeMap<String, String>,
    pub paused: bool,
    /// True while `metadata.generation` is ahead of `status.observedGeneration` or a rollout is
    /// under way (updated < desired, or old pods still running).
    pub rolling_out: bool,
    /// The Progressing condition's reason when it is False (`ProgressDeadlineExceeded`).
    pub stalled: Option<String>,
    /// What `kubectl rollout status` would say (see `kube::ops::rollout_status`).
    pub rollout: RolloutStatus,
    pub created: Option<Timestamp>,
}

/// A Deployment's rollout as `kubectl rollout status` reports it, with kubectl's texts.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum RolloutStatus {
    /// `deployment "x" successfully rolled out`.
    #[default]
    Complete,
    /// What kubectl is waiting for: `Waiting for deployment "x" rollout to finish: 1 out of 3
    /// new replicas have been updated...`.
    Progressing(String),
    /// `deployment "x" exceeded its progress deadline`.
    Failed(String),
}

impl RolloutStatus {
    /// kubectl's line for this status; `name` is only needed for `Complete`.
    pub fn text(&self, name: &str) -> String {
        match self {
            RolloutStatus::Complete => format!("deployment \"{name}\" successfully rolled out"),
            RolloutStatus::Progressing(t) | RolloutStatus::Failed(t) => t.clone(),
        }
    }
}

/// A ReplicaSet: a revision of a workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaSetRow {
    pub key: ObjKey,
    /// The owning Deployment's name.
    pub workload: Option<String>,
    pub revision: Option<u64>,
    pub desired: u32,
    pub ready: u32,
    pub images: Vec<String>,
    pub change_cause: Option<String>,
    pub created: Option<Timestamp>,
}

/// A HorizontalPodAutoscaler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HpaRow {
    pub key: ObjKey,
    /// `Deployment/name` it scales.
    pub target_kind: String,
    pub target_name: String,
    pub min: u32,
    pub max: u32,
    pub current: u32,
    pub desired: u32,
}

/// An event (core/v1), folded like `kubectl get events`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    pub key: ObjKey,
    pub warning: bool,
    pub reason: String,
    pub message: String,
    /// `Pod`, `Deployment`, ... and its name (in the event's namespace).
    pub object_kind: String,
    pub object_name: String,
    pub count: u32,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// Who reported it (`kubelet`, `deployment-controller`).
    pub source: String,
}

/// What kind a change is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Pod,
    Deployment,
    ReplicaSet,
    Hpa,
    Event,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Pod,
        Kind::Deployment,
        Kind::ReplicaSet,
        Kind::Hpa,
        Kind::Event,
    ];

    pub fn plural(self) -> &'static str {
        match self {
            Kind::Pod => "pods",
            Kind::Deployment => "deployments",
            Kind::ReplicaSet => "replicasets",
            Kind::Hpa => "horizontalpodautoscalers",
            Kind::Event => "events",
        }
    }
}

/// One row, of any kind. Rows are shared (`Arc`) so a batch can be cloned cheaply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Row {
    Pod(Arc<PodRow>),
    Deployment(Arc<WorkloadRow>),
    ReplicaSet(Arc<ReplicaSetRow>),
    Hpa(Arc<HpaRow>),
    Event(Arc<EventRow>),
}

impl Row {
    pub fn kind(&self) -> Kind {
        match self {
            Row::Pod(_) => Kind::Pod,
            Row::Deployment(_) => Kind::Deployment,
            Row::ReplicaSet(_) => Kind::ReplicaSet,
            Row::Hpa(_) => Kind::Hpa,
            Row::Event(_) => Kind::Event,
        }
    }

    pub fn key(&self) -> &ObjKey {
        match self {
            Row::Pod(r) => &r.key,
            Row::Deployment(r) => &r.key,
            Row::ReplicaSet(r) => &r.key,
            Row::Hpa(r) => &r.key,
            Row::Event(r) => &r.key,
        }
    }
}

/// One change from a watcher, in the order the watcher saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A (re)list of `Kind` begins: rows applied until `Listed` are the whole set.
    Relisting(Kind),
    /// The (re)list is complete: rows of `Kind` not applied since `Relisting` are gone.
    Listed(Kind),
    /// Added or modified.
    Apply(Row),
    Delete(Kind, ObjKey),
}
