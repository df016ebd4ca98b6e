//! Authorization: read-only users may read everything and change nothing; SelfSubjectAccessReview
//! answers the same question for clients that ask before they act.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::api::Call;
use super::http::{self as h, Body};
use super::status::ApiError;

const READ_VERBS: &[&str] = &["get", "list", "watch"];

fn allowed(readonly: bool, verb: &str) -> bool {
    !readonly || READ_VERBS.contains(&verb)
}

/// Refuses a request the user may not make, with the real Forbidden wording.
pub fn check(call: &Call, verb: &str) -> Result<(), ApiError> {
    // Anyone may ask what they are allowed to do.
    if call.path.info.res == super::kinds::Res::SelfSubjectAccessReviews
        || allowed(call.user.readonly, verb)
    {
        return Ok(());
    }
    Err(ApiError::forbidden(
        &call.user.name,
        verb,
        call.path.info.plural,
        call.path.sub.as_deref(),
        call.path.info.group,
        call.path.namespace.as_deref(),
        call.path.name.as_deref(),
    ))
}

/// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`.
pub fn self_subject_access_review(call: &Call) -> Result<Response<Body>, ApiError> {
    let mut review: Value = serde_json::from_slice(&call.body).map_err(|e| {
        ApiError::bad_request(format!("error decoding SelfSubjectAccessReview: {e}"))
    })?;
    if !review.is_object() {
        return Err(ApiError::bad_request(
            "a SelfSubjectAccessReview must be a JSON object",
        ));
    }
    let spec = &review["spec"];
    let (verb, attrs_ok) =
        if let Some(attrs) = spec.get("resourceAttributes").filter(|a| a.is_object()) {
            (attrs["verb"].as_str().unwrap_or("").to_string(), true)
        } else if let Some(attrs) = spec.get("nonResourceAttributes").filter(|a| a.is_object()) {
            (attrs["verb"].as_str().unwrap_or("").to_string(), true)
        } else {
            (String::new(), false)
        };
    if !attrs_ok {
        return Err(ApiError::invalid(
            "SelfSubjectAccessReview",
            "authorization.k8s.io",
            "",
            "spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
        ));
    }
    let ok = allowed(call.user.readonly, &verb);
    let mut status = json!({"allowed": ok});
    if ok {
        status["reason"] = format!(
            "RBAC: allowed by ClusterRoleBinding \"{0}\" of ClusterRole \"cluster-admin\" to User \"{0}\"",
            call.user.name
        )
        .into();
    }
    review["apiVersion"] = "authorization.k8s.io/v1".into();
    review["kind"] = "SelfSubjectAccessReview".into();
    review["metadata"] = json!({});
    review["status"] = status;
    Ok(h::json_value(StatusCode::CREATED, &review))
}
