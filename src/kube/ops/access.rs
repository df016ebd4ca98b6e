//! The RBAC pre-check: which API request an op makes, and whether the server lets this user make
//! it (a SelfSubjectAccessReview, which writes nothing).

use ::kube::Client;
use ::kube::api::{Api, PostParams};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    SubjectAccessReviewStatus,
};

use super::Op;
use crate::kube::error::from_kube;

/// The API request an op makes, for the RBAC pre-check and the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: Option<&'static str>,
}

impl Access {
    /// `deployments/scale`, `deployments`.
    pub fn resource_words(&self) -> String {
        match self.subresource {
            Some(sub) => format!("{}/{sub}", self.resource),
            None => self.resource.to_string(),
        }
    }
}

/// Scale patches `deployments/scale` (as `kubectl scale` does); restart and rollback patch the
/// Deployment itself.
pub fn access(op: &Op) -> Access {
    Access {
        verb: "patch",
        group: "apps",
        resource: "deployments",
        subresource: match op {
            Op::Scale { .. } => Some("scale"),
            Op::Restart | Op::Rollback { .. } => None,
        },
    }
}

/// Why the pre-check did not say yes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessError {
    /// The server said this user may not: `not allowed: you may not patch deployments/scale
    /// "web" in namespace "shop" (SelfSubjectAccessReview said no: ...)`.
    NotAllowed(String),
    /// The question could not be asked or answered (network, server error): nothing is known.
    CouldNotCheck(String),
}

impl AccessError {
    pub fn text(&self) -> &str {
        match self {
            AccessError::NotAllowed(t) | AccessError::CouldNotCheck(t) => t,
        }
    }
}

impl std::fmt::Display for AccessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for AccessError {}

/// The review to send for `op` on `namespace/name`.
pub(super) fn review(namespace: &str, name: &str, op: &Op) -> SelfSubjectAccessReview {
    let a = access(op);
    SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.to_string()),
                name: Some(name.to_string()),
                verb: Some(a.verb.to_string()),
                group: Some(a.group.to_string()),
                resource: Some(a.resource.to_string()),
                subresource: a.subresource.map(str::to_string),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Reads the review's answer: Ok when allowed, else the sentence saying who may not do what.
pub(super) fn verdict(
    namespace: &str,
    name: &str,
    op: &Op,
    status: Option<&SubjectAccessReviewStatus>,
) -> Result<(), AccessError> {
    if status.is_some_and(|s| s.allowed && s.denied != Some(true)) {
        return Ok(());
    }
    let a = access(op);
    let mut why: Vec<String> = Vec::new();
    if let Some(s) = status {
        why.extend(s.reason.clone().filter(|r| !r.trim().is_empty()));
        why.extend(
            s.evaluation_error
                .clone()
                .filter(|e| !e.trim().is_empty())
                .map(|e| format!("evaluation error: {e}")),
        );
    }
    let said = if status.is_none() {
        "SelfSubjectAccessReview gave no answer".to_string()
    } else if why.is_empty() {
        "SelfSubjectAccessReview said no".to_string()
    } else {
        format!("SelfSubjectAccessReview said no: {}", why.join("; "))
    };
    Err(AccessError::NotAllowed(format!(
        "not allowed: you may not {} {} \"{name}\" in namespace \"{namespace}\" ({said})",
        a.verb,
        a.resource_words()
    )))
}

/// Asks the server whether this client may make `op`'s request on `namespace/name`.
pub async fn check_access(
    client: &Client,
    namespace: &str,
    name: &str,
    op: &Op,
) -> Result<(), AccessError> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let answer = api
        .create(&PostParams::default(), &review(namespace, name, op))
        .await
        .map_err(|e| {
            let failure = from_kube("permission check (SelfSubjectAccessReview)", &e);
            AccessError::CouldNotCheck(failure.text)
        })?;
    verdict(namespace, name, op, answer.status.as_ref())
}
