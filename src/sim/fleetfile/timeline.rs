//! Fault timelines: what happens to the fleet, when and where, as plain data for the executor.
//!
//! Steps are resolved when the file is read: `cluster:` / `environment:` / nothing becomes the
//! list of clusters the step acts on (only those where its target runs), and every reference is
//! checked, so executing a step cannot fail for a reason the file could have caught.

use std::fmt;

use jiff::{SignedDuration, Timestamp};

use super::FleetFile;
use super::durations::format_duration;
use crate::sim::world::{Fault, FaultKind, Target};

/// The scenario every fleet has: nothing happens.
pub const CALM: &str = "calm";

#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    /// In time order (steps at the same time keep the file's order).
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Simulated time after the fleet starts.
    pub at: SignedDuration,
    /// The clusters it acts on, in the file's cluster order; never empty.
    pub clusters: Vec<String>,
    pub action: Action,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `kubectl set image`: a rollout of the Deployment to a new version.
    SetImage {
        namespace: String,
        deployment: String,
        container: String,
        image: String,
    },
    /// One pod dies (its containers exit 137, as after a SIGKILL); its controller replaces it.
    CrashPod {
        namespace: String,
        target: PodTarget,
    },
    /// A database or cache is down: its dependants fail readiness (a World fault).
    FailDependency {
        namespace: String,
        name: String,
        duration: Option<SignedDuration>,
    },
    /// Every request of the app takes longer (a World fault).
    AddLatency {
        namespace: String,
        app: String,
        extra: SignedDuration,
        duration: Option<SignedDuration>,
    },
    /// This fraction of the app's requests fail with a 5xx (a World fault).
    AddErrors {
        namespace: String,
        app: String,
        rate: f64,
        duration: Option<SignedDuration>,
    },
    /// The cluster's API server stops answering.
    Unreachable { duration: Option<SignedDuration> },
    /// The cluster's API server answers every request this much later.
    SlowApi {
        extra: SignedDuration,
        duration: Option<SignedDuration>,
    },
    /// Every open watch of the cluster ends; clients must resume or relist.
    DropWatches,
}

/// Which pod `crash-pod` kills.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PodTarget {
    /// One of the app's pods (label `app`), as the executor chooses.
    App(String),
    /// The pod of this name.
    Pod(String),
}

impl Action {
    /// The action's key in the file (`set-image`).
    pub fn key(&self) -> &'static str {
        match self {
            Action::SetImage { .. } => "set-image",
            Action::CrashPod { .. } => "crash-pod",
            Action::FailDependency { .. } => "fail-dependency",
            Action::AddLatency { .. } => "add-latency",
            Action::AddErrors { .. } => "add-errors",
            Action::Unreachable { .. } => "unreachable",
            Action::SlowApi { .. } => "slow-api",
            Action::DropWatches => "drop-watches",
        }
    }

    /// How long it lasts; None: to the end of the run (or, for one-off actions, not applicable).
    pub fn duration(&self) -> Option<SignedDuration> {
        match self {
            Action::FailDependency { duration, .. }
            | Action::AddLatency { duration, .. }
            | Action::AddErrors { duration, .. }
            | Action::Unreachable { duration }
            | Action::SlowApi { duration, .. } => *duration,
            Action::SetImage { .. } | Action::CrashPod { .. } | Action::DropWatches => None,
        }
    }

    /// The [`Fault`] to add to the cluster's `World` when the step runs at `now`, for the
    /// actions that are World faults (fail-dependency, add-latency, add-errors).
    pub fn world_fault(&self, now: Timestamp) -> Option<Fault> {
        let (namespace, name, kind) = match self {
            Action::FailDependency {
                namespace, name, ..
            } => (namespace, name, FaultKind::DependencyDown),
            Action::AddLatency {
                namespace,
                app,
                extra,
                ..
            } => (namespace, app, FaultKind::Latency { extra: *extra }),
            Action::AddErrors {
                namespace,
                app,
                rate,
                ..
            } => (namespace, app, FaultKind::Errors { rate: *rate }),
            _ => return None,
        };
        Some(Fault {
            target: Target::new(namespace.clone(), name.clone()),
            kind,
            from: now,
            until: self.duration().and_then(|d| now.checked_add(d).ok()),
        })
    }
}

impl fmt::Display for Step {
    /// `1m30s prod-westus: set-image arq/arq-backend app=ghcr.io/arq/arq-backend:2.5.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            format_duration(self.at),
            self.clusters.join(","),
            self.action.key()
        )?;
        let dur = |d: &Option<SignedDuration>| match d {
            Some(d) => format!(" for {}", format_duration(*d)),
            None => String::new(),
        };
        match &self.action {
            Action::SetImage {
                namespace,
                deployment,
                container,
                image,
            } => {
                write!(f, " {namespace}/{deployment} {container}={image}")
            }
            Action::CrashPod {
                namespace,
                target: PodTarget::App(a),
            } => write!(f, " {namespace}/{a} (one pod)"),
            Action::CrashPod {
                namespace,
                target: PodTarget::Pod(p),
            } => write!(f, " {namespace}/{p}"),
            Action::FailDependency {
                namespace,
                name,
                duration,
            } => write!(f, " {namespace}/{name}{}", dur(duration)),
            Action::AddLatency {
                namespace,
                app,
                extra,
                duration,
            } => {
                write!(
                    f,
                    " {namespace}/{app} +{}{}",
                    format_duration(*extra),
                    dur(duration)
                )
            }
            Action::AddErrors {
                namespace,
                app,
                rate,
                duration,
            } => {
                write!(
                    f,
                    " {namespace}/{app} {:.0}%{}",
                    rate * 100.0,
                    dur(duration)
                )
            }
            Action::Unreachable { duration } => write!(f, "{}", dur(duration)),
            Action::SlowApi { extra, duration } => {
                write!(f, " +{}{}", format_duration(*extra), dur(duration))
            }
            Action::DropWatches => Ok(()),
        }
    }
}

impl FleetFile {
    /// The scenario of this name (`calm` always exists).
    pub fn scenario(&self, name: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.name == name)
    }

    /// The scenario the demo plays when none is named.
    pub fn default_scenario(&self) -> &Scenario {
        self.scenario(&self.default_scenario)
            .unwrap_or_else(|| self.scenarios.last().expect("calm is always there"))
    }

    /// Every image repository the fleet's pods run.
    pub fn repositories(&self) -> Vec<String> {
        self.images(true).into_iter().map(|(r, _)| r).collect()
    }
}

impl Step {
    /// Whether the step acts on the cluster.
    pub fn acts_on(&self, cluster: &str) -> bool {
        self.clusters.iter().any(|c| c == cluster)
    }
}
