//! Cluster I/O: one client per kubeconfig context, watchers that turn objects into compact rows,
//! connection state, and the fetches the detail view makes. Results reach the UI as `KubeMsg`s.

pub mod batch;
pub mod client;
mod conn;
pub mod convert;
pub mod detail;
pub mod error;
pub mod logs;
pub mod ops;
pub mod probes;
pub mod rows;
mod supervisor;
pub mod watch;

use std::time::Duration;

use jiff::Timestamp;

pub use client::client_config;
pub use detail::fetch_detail;
pub use probes::probes;
pub use rows::{Change, Kind, ObjKey, Row};
pub use watch::{Clock, ClusterHandle, spawn_cluster};

/// Index of a cluster in the fleet (the order of the contexts chosen at start-up).
pub type ClusterId = usize;

/// How a cluster's connection looks from here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// The first list has not finished yet.
    Connecting,
    /// Every watcher has listed and is watching.
    Synced,
    /// Reachable, but a watcher failed (an API error, a timeout): it retries at `retry_at`.
    Degraded { error: String, retry_at: Timestamp },
    /// Not reachable at all since `since` (connection refused, TLS or DNS failure, no answer).
    Unreachable {
        since: Timestamp,
        error: String,
        retry_at: Timestamp,
    },
}

/// Facts about a cluster's API server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInfo {
    /// `v1.32.4`
    pub version: String,
    /// Round-trip time of the last `/version` request.
    pub rtt: Duration,
}

/// A condition of a pod or workload (`Ready True`, `Progressing False ProgressDeadlineExceeded`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub last_transition: Option<Timestamp>,
}

/// What the detail view fetches on demand (the rows keep only what tables need).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detail {
    pub cluster: ClusterId,
    pub kind: Kind,
    pub key: ObjKey,
    pub conditions: Vec<Condition>,
    /// Extra facts worth a line each: pod IP, QoS class, node, start time, strategy details.
    pub facts: Vec<(String, String)>,
}

/// What the cluster I/O tasks tell the UI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KubeMsg {
    /// Changes from the watchers, batched (about 50 ms or 1,000 changes).
    Changes {
        cluster: ClusterId,
        changes: Vec<Change>,
    },
    /// The connection changed state.
    Conn {
        cluster: ClusterId,
        state: ConnState,
        at: Timestamp,
    },
    /// The server answered `/version`.
    Server {
        cluster: ClusterId,
        info: ServerInfo,
    },
    /// A detail fetch finished.
    Detail(Result<Detail, DetailError>),
    /// A workload's revisions, for the rollback dialog.
    History {
        cluster: ClusterId,
        key: ObjKey,
        result: Result<ops::History, String>,
    },
    /// A mutation went through the dispatcher: done, skipped, refused or failed.
    Action(ActionResult),
    /// Lines and markers from a log tail.
    Logs(logs::LogEvent),
}

/// What became of one mutation the user confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionResult {
    pub cluster: ClusterId,
    pub key: ObjKey,
    pub op: ops::Op,
    pub outcome: Outcome,
}

/// The end of a mutation, in words for the notification and the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The cluster accepted it (`scaled shop/web to 8 (was 2)`).
    Done(String),
    /// Nothing to do (`skipped rollback (current template already matches revision 2)`).
    Skipped(String),
    /// Stopped before any write: read-only, not confirmed, not allowed (RBAC), no audit log.
    Refused(String),
    /// The cluster said no or could not be reached; not retried.
    Failed(String),
}

impl Outcome {
    /// `done`, `skipped`, `refused`, `failed`: the audit log's result field.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Done(_) => "done",
            Outcome::Skipped(_) => "skipped",
            Outcome::Refused(_) => "refused",
            Outcome::Failed(_) => "failed",
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Outcome::Done(t) | Outcome::Skipped(t) | Outcome::Refused(t) | Outcome::Failed(t) => t,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetailError {
    pub cluster: ClusterId,
    pub kind: Kind,
    pub key: ObjKey,
    pub message: String,
}
