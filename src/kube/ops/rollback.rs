//! Rollback, as `kubectl rollout undo` does it (kubectl's `DeploymentRollbacker`): find the
//! ReplicaSet of the wanted revision among those the Deployment controls, refuse a paused
//! Deployment, skip when the template already matches, else JSON-patch the ReplicaSet's template
//! and annotations back into the Deployment. The deployment controller then rolls it out like any
//! change, so this works while a rollout is stuck.

use std::collections::BTreeMap;

use ::kube::Client;
use ::kube::api::{Api, ListParams, Patch, PatchParams};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::{Value, json};

use super::{OpError, Outcome, subject};
use crate::kube::convert::REVISION;

/// The label the controller adds to each ReplicaSet's template; never part of a comparison.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// Annotations that belong to the Deployment, not to a revision: kept from the Deployment, never
/// copied from the ReplicaSet (kubectl's `annotationsToSkip`).
pub const ANNOTATIONS_TO_SKIP: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// A ReplicaSet's revision as `deploymentutil.Revision` reads it: a missing annotation is 0, an
/// unreadable one leaves the ReplicaSet out.
pub(super) fn revision_of(rs: &ReplicaSet) -> Option<u64> {
    match rs
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION))
    {
        None => Some(0),
        Some(v) => v.trim().parse().ok(),
    }
}

/// The ReplicaSets whose controller is the Deployment (same UID), as `GetAllReplicaSets` keeps.
pub(super) fn controlled<'a>(d: &Deployment, all: &'a [ReplicaSet]) -> Vec<&'a ReplicaSet> {
    let Some(uid) = d.metadata.uid.as_deref() else {
        return Vec::new();
    };
    all.iter()
        .filter(|rs| {
            rs.metadata
                .owner_references
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|o| o.controller == Some(true) && o.uid == uid)
        })
        .collect()
}

/// kubectl's `deploymentRevision`: the named revision, or (None or 0) the second-newest.
pub(super) fn pick<'a>(
    name: &str,
    rss: &[&'a ReplicaSet],
    to_revision: Option<u64>,
) -> Result<(&'a ReplicaSet, u64), String> {
    let to = to_revision.unwrap_or(0);
    let mut latest: Option<(&ReplicaSet, u64)> = None;
    let mut previous: Option<(&ReplicaSet, u64)> = None;
    for &rs in rss {
        let Some(v) = revision_of(rs) else { continue };
        if to == 0 {
            if latest.is_none_or(|(_, l)| l < v) {
                previous = latest;
                latest = Some((rs, v));
            } else if previous.is_none_or(|(_, p)| p < v) {
                previous = Some((rs, v));
            }
        } else if v == to {
            return Ok((rs, v));
        }
    }
    if to > 0 {
        return Err(format!("unable to find specified revision {to} in history"));
    }
    previous.ok_or_else(|| format!("no rollout history found for deployment \"{name}\""))
}

/// A template as JSON with the hash label gone and unset, null and empty values pruned, so two
/// templates compare the way `apiequality.Semantic.DeepEqual` (nil == empty) compares them.
pub(super) fn normalized(t: &PodTemplateSpec) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
    if let Some(labels) = v
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(POD_TEMPLATE_HASH);
    }
    prune(&mut v);
    v
}

/// Removes nulls, empty objects and empty arrays, recursively.
pub(super) fn prune(v: &mut Value) {
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    match v {
        Value::Object(m) => {
            for child in m.values_mut() {
                prune(child);
            }
            m.retain(|_, child| !empty(child));
        }
        Value::Array(a) => a.iter_mut().for_each(prune),
        _ => {}
    }
}

/// Whether two pod templates are the same apart from the `pod-template-hash` label.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    normalized(a) == normalized(b)
}

/// The Deployment's annotations after the rollback: its own among the skip list, plus the
/// ReplicaSet's that are not in it.
pub(super) fn merged_annotations(
    deployment: Option<&BTreeMap<String, String>>,
    replicaset: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(d) = deployment {
        for k in ANNOTATIONS_TO_SKIP {
            if let Some(v) = d.get(k) {
                out.insert(k.to_string(), v.clone());
            }
        }
    }
    if let Some(rs) = replicaset {
        for (k, v) in rs {
            if !ANNOTATIONS_TO_SKIP.contains(&k.as_str()) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// The ReplicaSet's template without the hash label (and without a labels map it emptied, as
/// Go's `omitempty` would drop it).
pub(super) fn restorable(template: &PodTemplateSpec) -> PodTemplateSpec {
    let mut t = template.clone();
    if let Some(meta) = t.metadata.as_mut()
        && let Some(labels) = meta.labels.as_mut()
    {
        labels.remove(POD_TEMPLATE_HASH);
        if labels.is_empty() {
            meta.labels = None;
        }
    }
    t
}

/// kubectl's `getDeploymentPatch`: replace the template and the annotations.
pub(super) fn rollback_patch(
    template: &PodTemplateSpec,
    annotations: &BTreeMap<String, String>,
) -> Value {
    json!([
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ])
}

/// `key=value,key in (a,b),!key`: a label selector in the list-query syntax.
pub(super) fn selector_query(s: &LabelSelector) -> String {
    let mut parts: Vec<String> = s
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in s.match_expressions.iter().flatten() {
        let values = e.values.as_deref().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            other => format!("{} {other} ({values})", e.key),
        });
    }
    parts.join(",")
}

/// GETs the Deployment and the ReplicaSets it controls. Errors are readable.
pub(super) async fn deployment_and_replicasets(
    client: &Client,
    api: &Api<Deployment>,
    namespace: &str,
    name: &str,
) -> Result<(Deployment, Vec<ReplicaSet>), OpError> {
    let d = api
        .get(name)
        .await
        .map_err(|e| OpError::kube("", &subject(namespace, name), &e))?;
    let selector = d
        .spec
        .as_ref()
        .map(|s| selector_query(&s.selector))
        .unwrap_or_default();
    let rs_api: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace);
    let list = rs_api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| {
            let what = format!("replica sets of {}", subject(namespace, name));
            OpError::kube("", &what, &e)
        })?;
    let owned = controlled(&d, &list.items).into_iter().cloned().collect();
    Ok((d, owned))
}

pub(super) async fn rollback(
    client: &Client,
    api: &Api<Deployment>,
    namespace: &str,
    name: &str,
    to_revision: Option<u64>,
) -> Result<Outcome, OpError> {
    let (d, owned) = deployment_and_replicasets(client, api, namespace, name).await?;
    let refs: Vec<&ReplicaSet> = owned.iter().collect();
    // kubectl's order: find the revision, then refuse a paused deployment, then skip.
    let (rs, revision) = pick(name, &refs, to_revision).map_err(OpError::Refused)?;
    let spec = d.spec.as_ref();
    if spec.and_then(|s| s.paused).unwrap_or(false) {
        return Err(OpError::Refused(
            "you cannot rollback a paused deployment; resume it first with 'kubectl rollout \
             resume' and try again"
                .to_string(),
        ));
    }
    let Some(rs_template) = rs.spec.as_ref().and_then(|s| s.template.as_ref()) else {
        return Err(OpError::Refused(format!(
            "revision {revision} has no pod template to restore"
        )));
    };
    let current = spec.map(|s| s.template.clone()).unwrap_or_default();
    if equal_ignore_hash(rs_template, &current) {
        return Ok(Outcome {
            text: format!(
                "skipped rollback (current template already matches revision {revision})"
            ),
            skipped: true,
        });
    }
    let annotations = merged_annotations(
        d.metadata.annotations.as_ref(),
        rs.metadata.annotations.as_ref(),
    );
    let patch = rollback_patch(&restorable(rs_template), &annotations);
    let patch: json_patch::Patch = serde_json::from_value(patch)
        .map_err(|e| OpError::Refused(format!("failed restoring revision {revision}: {e}")))?;
    api.patch(name, &PatchParams::default(), &Patch::<()>::Json(patch))
        .await
        .map_err(|e| {
            let prefix = format!("failed restoring revision {revision}: ");
            OpError::kube(&prefix, &subject(namespace, name), &e)
        })?;
    Ok(Outcome {
        text: format!("rolled back {namespace}/{name} to revision {revision}"),
        skipped: false,
    })
}
