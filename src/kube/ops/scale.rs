//! Scale, as `kubectl scale` does it: a merge patch of `spec.replicas` on the scale subresource.

use ::kube::api::{Api, Patch, PatchParams};
use k8s_openapi::api::apps::v1::Deployment;
use serde_json::{Value, json};

use super::{OpError, Outcome, subject};

/// The body `kubectl scale --replicas=N` sends to `deployments/NAME/scale`.
pub(super) fn scale_patch(replicas: u32) -> Value {
    json!({"spec": {"replicas": replicas}})
}

pub(super) async fn scale(
    api: &Api<Deployment>,
    namespace: &str,
    name: &str,
    replicas: u32,
) -> Result<Outcome, OpError> {
    let what = subject(namespace, name);
    // Read first only to tell the engineer what it was; the write does not depend on it.
    let before = api
        .get_scale(name)
        .await
        .map_err(|e| OpError::kube("", &what, &e))?;
    let was = before.spec.and_then(|s| s.replicas);
    let after = api
        .patch_scale(
            name,
            &PatchParams::default(),
            &Patch::Merge(scale_patch(replicas)),
        )
        .await
        .map_err(|e| OpError::kube("", &what, &e))?;
    let now = after
        .spec
        .and_then(|s| s.replicas)
        .map_or(replicas.to_string(), |r| r.to_string());
    Ok(super::Outcome::done(match was {
        Some(was) => format!("scaled {namespace}/{name} to {now} (was {was})"),
        None => format!("scaled {namespace}/{name} to {now}"),
    }))
}
