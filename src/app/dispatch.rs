//! The one door every change to a cluster goes through. For each confirmed [`Mutation`] it
//! checks, in order: read-only (the whole console, then the environment), environment
//! protection (the workload's name typed), that the audit log can take a line, and RBAC (a
//! SelfSubjectAccessReview, so a forbidden change is refused before it is tried); then it sends
//! the change once (never retried silently) and writes one audit line with the outcome.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jiff::Timestamp;
use kube::Client;
use serde_json::json;

use super::audit::{AuditLog, Entry};
use crate::kube::ops::{self, Op};
use crate::kube::watch::Clock;
use crate::kube::{ActionResult, ClusterId, ObjKey, Outcome};
use crate::state::Mutation;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the cluster said to a change it accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Performed {
    pub text: String,
    /// Nothing needed doing (a rollback to the template already running).
    pub skipped: bool,
}

/// Talks to the clusters for the dispatcher; tests put a recording one in its place.
pub trait Executor: Send + Sync {
    /// The RBAC pre-check: Ok when the cluster says this user may make this change.
    fn check<'a>(
        &'a self,
        cluster: ClusterId,
        key: &'a ObjKey,
        op: &'a Op,
    ) -> BoxFuture<'a, Result<(), String>>;

    /// Makes the change, once.
    fn perform<'a>(
        &'a self,
        cluster: ClusterId,
        key: &'a ObjKey,
        op: &'a Op,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Performed, String>>;
}

/// The clusters' clients.
pub struct KubeExecutor {
    pub clients: Vec<Option<Client>>,
}

impl KubeExecutor {
    fn client(&self, cluster: ClusterId) -> Result<&Client, String> {
        match self.clients.get(cluster) {
            Some(Some(c)) => Ok(c),
            _ => Err("this cluster has no client (see the clusters view)".into()),
        }
    }
}

impl Executor for KubeExecutor {
    fn check<'a>(
        &'a self,
        cluster: ClusterId,
        key: &'a ObjKey,
        op: &'a Op,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let client = self.client(cluster)?;
            ops::check_access(client, &key.namespace, &key.name, op)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn perform<'a>(
        &'a self,
        cluster: ClusterId,
        key: &'a ObjKey,
        op: &'a Op,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Performed, String>> {
        Box::pin(async move {
            let client = self.client(cluster)?;
            ops::perform(client, &key.namespace, &key.name, op, now)
                .await
                .map(|o| Performed {
                    text: o.text,
                    skipped: o.skipped,
                })
                .map_err(|e| e.to_string())
        })
    }
}

/// What the dispatcher knows of a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterFacts {
    pub context: String,
    /// The kubeconfig user of the context, for the audit log.
    pub user: String,
    pub environment: String,
    pub protected: bool,
    pub readonly: bool,
}

pub struct Dispatcher {
    pub clusters: Vec<ClusterFacts>,
    /// `--readonly`, or `readonly = true` at the top of the config.
    pub readonly: bool,
    /// The audit log, or why it could not be opened (then nothing is changed).
    pub audit: Result<AuditLog, String>,
    pub executor: Arc<dyn Executor>,
    pub clock: Clock,
}

impl Dispatcher {
    /// Takes one confirmed mutation through every check, makes it, and audits it.
    pub async fn dispatch(&self, m: Mutation) -> ActionResult {
        let started = (self.clock)();
        let outcome = match self.gate(&m) {
            Err(why) => Outcome::Refused(why),
            Ok(()) => match self.executor.check(m.cluster, &m.key, &m.op).await {
                Err(why) => Outcome::Refused(why),
                Ok(()) => match self
                    .executor
                    .perform(m.cluster, &m.key, &m.op, started)
                    .await
                {
                    Ok(p) if p.skipped => Outcome::Skipped(p.text),
                    Ok(p) => Outcome::Done(p.text),
                    Err(e) => Outcome::Failed(e),
                },
            },
        };
        let outcome = self.record(&m, outcome, started);
        ActionResult {
            cluster: m.cluster,
            key: m.key,
            op: m.op,
            outcome,
        }
    }

    /// The checks that need no cluster.
    fn gate(&self, m: &Mutation) -> Result<(), String> {
        let Some(facts) = self.clusters.get(m.cluster) else {
            return Err("no such cluster".into());
        };
        if self.readonly {
            return Err("read-only: watchfloor runs with --readonly (or readonly = true in the config), so nothing can be changed".into());
        }
        if facts.readonly {
            return Err(format!(
                "read-only: environment {} is readonly in the config",
                facts.environment
            ));
        }
        if facts.protected && m.typed_name() != Some(m.key.name.as_str()) {
            return Err(format!(
                "{} is protected and the workload's name was not typed to confirm",
                facts.environment.to_uppercase()
            ));
        }
        if let Err(e) = &self.audit {
            return Err(format!("{e}; nothing is changed without a record"));
        }
        Ok(())
    }

    /// Writes the attempt's line; a line that cannot be written is said in the outcome.
    fn record(&self, m: &Mutation, outcome: Outcome, at: Timestamp) -> Outcome {
        let Ok(log) = &self.audit else {
            return outcome;
        };
        let Some(facts) = self.clusters.get(m.cluster) else {
            return outcome;
        };
        let (action, parameters) = match &m.op {
            Op::Scale { replicas } => ("scale", json!({ "replicas": replicas })),
            Op::Restart => ("restart", json!({})),
            Op::Rollback { to_revision } => ("rollback", json!({ "to_revision": to_revision })),
        };
        let entry = Entry {
            time: Entry::stamp(at),
            user: &facts.user,
            context: &facts.context,
            environment: &facts.environment,
            namespace: &m.key.namespace,
            kind: "Deployment",
            name: &m.key.name,
            action,
            parameters,
            result: outcome.word(),
            message: outcome.text(),
        };
        match log.record(&entry) {
            Ok(()) => outcome,
            Err(e) => {
                let text = format!("{} (and {e})", outcome.text());
                match outcome {
                    Outcome::Done(_) => Outcome::Done(text),
                    Outcome::Skipped(_) => Outcome::Skipped(text),
                    Outcome::Refused(_) => Outcome::Refused(text),
                    Outcome::Failed(_) => Outcome::Failed(text),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
