//! `kubectl rollout status` for a Deployment (kubectl's `DeploymentStatusViewer`), as a pure
//! function of the object, so the rows can say what kubectl would be waiting for.

use k8s_openapi::api::apps::v1::Deployment;

pub use crate::kube::rows::RolloutStatus;

/// The Progressing condition's reason when the deadline passed (`deploymentutil.TimedOutReason`).
const TIMED_OUT: &str = "ProgressDeadlineExceeded";

/// What `kubectl rollout status` would print for `d` right now. Like kubectl, it does not look at
/// `spec.paused` (a paused rollout reads as waiting); the rows keep `paused` beside it.
pub fn rollout_status(d: &Deployment) -> RolloutStatus {
    let name = d.metadata.name.as_deref().unwrap_or_default();
    let status = d.status.clone().unwrap_or_default();
    let generation = d.metadata.generation.unwrap_or(0);
    if generation > status.observed_generation.unwrap_or(0) {
        return RolloutStatus::Progressing(
            "Waiting for deployment spec update to be observed...".to_string(),
        );
    }
    let timed_out = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing")
        .is_some_and(|c| c.reason.as_deref() == Some(TIMED_OUT));
    if timed_out {
        return RolloutStatus::Failed(format!(
            "deployment \"{name}\" exceeded its progress deadline"
        ));
    }
    let updated = status.updated_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let waiting = |what: String| {
        RolloutStatus::Progressing(format!(
            "Waiting for deployment \"{name}\" rollout to finish: {what}..."
        ))
    };
    // kubectl only compares when spec.replicas is set; the API always sets it.
    if let Some(desired) = d.spec.as_ref().and_then(|s| s.replicas)
        && updated < desired
    {
        return waiting(format!(
            "{updated} out of {desired} new replicas have been updated"
        ));
    }
    if total > updated {
        return waiting(format!(
            "{} old replicas are pending termination",
            total - updated
        ));
    }
    if available < updated {
        return waiting(format!(
            "{available} of {updated} updated replicas are available"
        ));
    }
    RolloutStatus::Complete
}
