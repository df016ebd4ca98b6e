//! Restart, as `kubectl rollout restart` does it: refuse a paused Deployment, else stamp the pod
//! template with the time, which makes the controller roll every pod.

use ::kube::api::{Api, Patch, PatchParams};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;
use serde_json::{Value, json};

use super::{OpError, Outcome, subject};

/// The pod-template annotation kubectl writes (kube-rs's `Api::restart` writes another key).
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// `time.Now().Format(time.RFC3339)`: whole seconds; in UTC, so `Z`.
pub(super) fn restarted_at(now: Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The strategic merge patch kubectl computes for a restart.
pub(super) fn restart_patch(now: Timestamp) -> Value {
    json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: restarted_at(now)}}}}})
}

/// kubectl's refusal, with the `deployments.apps "NAME"` prefix its restart command adds.
pub(super) fn paused_refusal(name: &str) -> String {
    format!(
        "deployments.apps \"{name}\" can't restart paused deployment (run rollout resume first)"
    )
}

pub(super) async fn restart(
    api: &Api<Deployment>,
    namespace: &str,
    name: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let what = subject(namespace, name);
    let d = api
        .get(name)
        .await
        .map_err(|e| OpError::kube("", &what, &e))?;
    if d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) {
        return Err(OpError::Refused(paused_refusal(name)));
    }
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Strategic(restart_patch(now)),
    )
    .await
    .map_err(|e| OpError::kube("", &what, &e))?;
    Ok(Outcome::done(format!("restarted {namespace}/{name}")))
}
