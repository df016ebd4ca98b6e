//! A Deployment's revisions for the rollback dialog, newest first, each with what rolling back to
//! it would change (`kubectl rollout history`, with the diff kubectl leaves to the reader).

use ::kube::Client;
use ::kube::api::Api;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use super::diff::{DiffLine, template_diff};
use super::rollback::{deployment_and_replicasets, equal_ignore_hash, revision_of};
use crate::kube::convert::{CHANGE_CAUSE, REVISION, count};

/// The Deployment's rollout history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    pub paused: bool,
    /// The Deployment's own `deployment.kubernetes.io/revision`.
    pub current: Option<u64>,
    /// Newest first.
    pub revisions: Vec<Revision>,
}

/// One revision: a ReplicaSet the Deployment controls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    pub revision: u64,
    pub created: Option<Timestamp>,
    pub images: Vec<String>,
    /// `kubernetes.io/change-cause`.
    pub change_cause: Option<String>,
    pub ready: u32,
    pub desired: u32,
    /// Its template equals the Deployment's (ignoring `pod-template-hash`).
    pub current: bool,
    /// From the Deployment's current template to this revision's: what a rollback would change.
    pub diff: Vec<DiffLine>,
}

/// GETs the Deployment and its ReplicaSets and describes each revision. Errors are readable.
pub async fn history(client: &Client, namespace: &str, name: &str) -> Result<History, String> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let (d, owned) = deployment_and_replicasets(client, &api, namespace, name)
        .await
        .map_err(|e| e.text().to_string())?;
    Ok(build(&d, &owned))
}

/// Pure: the history of `d` from the ReplicaSets it controls.
pub(super) fn build(d: &Deployment, owned: &[ReplicaSet]) -> History {
    let spec = d.spec.as_ref();
    let template = spec.map(|s| s.template.clone()).unwrap_or_default();
    let mut revisions: Vec<Revision> = owned
        .iter()
        .filter_map(|rs| {
            let revision = revision_of(rs)?;
            let rs_spec = rs.spec.as_ref();
            let rs_template = rs_spec.and_then(|s| s.template.clone()).unwrap_or_default();
            Some(Revision {
                revision,
                created: rs.metadata.creation_timestamp.as_ref().map(|t| t.0),
                images: crate::kube::convert::images(&rs_template),
                change_cause: rs
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(CHANGE_CAUSE).cloned()),
                ready: count(
                    rs.status
                        .as_ref()
                        .and_then(|s| s.ready_replicas)
                        .unwrap_or(0),
                ),
                desired: count(rs_spec.and_then(|s| s.replicas).unwrap_or(1)),
                current: equal_ignore_hash(&rs_template, &template),
                diff: template_diff(&template, &rs_template),
            })
        })
        .collect();
    revisions.sort_by_key(|r| std::cmp::Reverse(r.revision));
    History {
        paused: spec.and_then(|s| s.paused).unwrap_or(false),
        current: d
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(REVISION))
            .and_then(|r| r.trim().parse().ok()),
        revisions,
    }
}
