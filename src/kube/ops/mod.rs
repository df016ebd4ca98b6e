//! The cluster side of the mutating actions (scale, restart, rollback) on a Deployment, each
//! done the way kubectl does it, plus what the rollback dialog and the rows need to describe a
//! rollout: revision history, pod-template diffs and `kubectl rollout status` texts.
//!
//! Nothing here retries: a write that failed is reported, and the engineer decides.

mod access;
mod diff;
mod history;
mod restart;
mod rollback;
mod scale;
mod status;
#[cfg(test)]
mod tests;

use ::kube::Client;
use ::kube::api::Api;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;

pub use access::{Access, AccessError, access, check_access};
pub use diff::{Change, DiffLine, template_diff};
pub use history::{History, Revision, history};
pub use restart::RESTARTED_AT;
pub use rollback::equal_ignore_hash;
pub use status::{RolloutStatus, rollout_status};

use super::error::{Failure, from_kube};

/// What a mutation does to a Deployment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Op {
    Scale {
        replicas: u32,
    },
    Restart,
    Rollback {
        /// None: the previous revision, like `kubectl rollout undo` without `--to-revision`.
        to_revision: Option<u64>,
    },
}

impl Op {
    /// `scale to 8`, `restart`, `roll back to revision 6`, `roll back to the previous revision`.
    pub fn verb_words(&self) -> String {
        match self {
            Op::Scale { replicas } => format!("scale to {replicas}"),
            Op::Restart => "restart".to_string(),
            Op::Rollback {
                to_revision: Some(r),
            } => format!("roll back to revision {r}"),
            Op::Rollback { to_revision: None } => "roll back to the previous revision".to_string(),
        }
    }
}

/// What a finished op did, for a notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `scaled shop/web to 8 (was 2)`, `restarted shop/web`, `rolled back shop/web to revision 2`,
    /// `skipped rollback (current template already matches revision 2)`.
    pub text: String,
    /// True when nothing was written because there was nothing to do.
    pub skipped: bool,
}

impl Outcome {
    fn done(text: String) -> Self {
        Self {
            text,
            skipped: false,
        }
    }
}

/// Why an op did not happen (or may not have).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpError {
    /// Refused before anything was written, with kubectl's words (a paused deployment, a
    /// revision that is not in the history).
    Refused(String),
    /// The server answered no (forbidden, not found, conflict, invalid).
    Api(String),
    /// The server could not be reached or stopped answering: a write may or may not have landed.
    Transport(String),
}

impl OpError {
    pub fn text(&self) -> &str {
        match self {
            OpError::Refused(t) | OpError::Api(t) | OpError::Transport(t) => t,
        }
    }

    /// A kube error, with `prefix` before the readable text (`failed restoring revision 2: `).
    fn kube(prefix: &str, what: &str, e: &::kube::Error) -> Self {
        let Failure { transport, text } = from_kube(what, e);
        let text = format!("{prefix}{text}");
        if transport {
            OpError::Transport(text)
        } else {
            OpError::Api(text)
        }
    }
}

impl std::fmt::Display for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for OpError {}

/// Carries out `op` on Deployment `namespace/name`. `now` stamps a restart. Never retries.
pub async fn perform(
    client: &Client,
    namespace: &str,
    name: &str,
    op: &Op,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    match op {
        Op::Scale { replicas } => scale::scale(&api, namespace, name, *replicas).await,
        Op::Restart => restart::restart(&api, namespace, name, now).await,
        Op::Rollback { to_revision } => {
            rollback::rollback(client, &api, namespace, name, *to_revision).await
        }
    }
}

/// `deployment shop/web`: the subject of error texts.
fn subject(namespace: &str, name: &str) -> String {
    format!("deployment {namespace}/{name}")
}
