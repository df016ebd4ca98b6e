//! The one protobuf request body the simulator decodes: kubectl sends SelfSubjectAccessReviews
//! (`kubectl auth can-i`) as `application/vnd.kubernetes.protobuf`. Messages are declared with
//! prost for just the fields the server reads; unknown fields are skipped by prost.

use prost::Message;
use serde_json::{Value, json};

/// Kubernetes' protobuf envelope: the magic prefix, then a `runtime.Unknown`.
const MAGIC: &[u8] = b"k8s\0";

#[derive(Clone, PartialEq, Message)]
struct Unknown {
    #[prost(message, optional, tag = "1")]
    type_meta: Option<TypeMeta>,
    #[prost(bytes = "vec", optional, tag = "2")]
    raw: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, Message)]
struct TypeMeta {
    #[prost(string, optional, tag = "1")]
    api_version: Option<String>,
    #[prost(string, optional, tag = "2")]
    kind: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct SelfSubjectAccessReview {
    #[prost(message, optional, tag = "2")]
    spec: Option<Spec>,
}

#[derive(Clone, PartialEq, Message)]
struct Spec {
    #[prost(message, optional, tag = "1")]
    resource_attributes: Option<ResourceAttributes>,
    #[prost(message, optional, tag = "2")]
    non_resource_attributes: Option<NonResourceAttributes>,
}

#[derive(Clone, PartialEq, Message)]
struct ResourceAttributes {
    #[prost(string, optional, tag = "1")]
    namespace: Option<String>,
    #[prost(string, optional, tag = "2")]
    verb: Option<String>,
    #[prost(string, optional, tag = "3")]
    group: Option<String>,
    #[prost(string, optional, tag = "4")]
    version: Option<String>,
    #[prost(string, optional, tag = "5")]
    resource: Option<String>,
    #[prost(string, optional, tag = "6")]
    subresource: Option<String>,
    #[prost(string, optional, tag = "7")]
    name: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct NonResourceAttributes {
    #[prost(string, optional, tag = "1")]
    path: Option<String>,
    #[prost(string, optional, tag = "2")]
    verb: Option<String>,
}

pub fn is_protobuf(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim() == "application/vnd.kubernetes.protobuf")
}

/// Decodes a protobuf SelfSubjectAccessReview into its JSON form.
pub fn self_subject_access_review(body: &[u8]) -> Result<Value, String> {
    let inner = body
        .strip_prefix(MAGIC)
        .ok_or("the protobuf body lacks the k8s envelope prefix")?;
    let unknown = Unknown::decode(inner).map_err(|e| e.to_string())?;
    let kind = unknown
        .type_meta
        .as_ref()
        .and_then(|t| t.kind.as_deref())
        .unwrap_or("");
    if kind != "SelfSubjectAccessReview" {
        return Err(format!("expected a SelfSubjectAccessReview, got {kind:?}"));
    }
    let review = SelfSubjectAccessReview::decode(unknown.raw.as_deref().unwrap_or_default())
        .map_err(|e| e.to_string())?;
    let spec = review.spec.unwrap_or_default();
    let mut out = json!({});
    if let Some(r) = spec.resource_attributes {
        out["resourceAttributes"] = json!({
            "namespace": r.namespace, "verb": r.verb, "group": r.group, "version": r.version,
            "resource": r.resource, "subresource": r.subresource, "name": r.name,
        });
    }
    if let Some(n) = spec.non_resource_attributes {
        out["nonResourceAttributes"] = json!({"path": n.path, "verb": n.verb});
    }
    Ok(
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": out}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_kubectl_sends() {
        let review = SelfSubjectAccessReview {
            spec: Some(Spec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some("shop".into()),
                    verb: Some("patch".into()),
                    group: Some("apps".into()),
                    resource: Some("deployments".into()),
                    ..Default::default()
                }),
                non_resource_attributes: None,
            }),
        };
        let envelope = Unknown {
            type_meta: Some(TypeMeta {
                api_version: Some("authorization.k8s.io/v1".into()),
                kind: Some("SelfSubjectAccessReview".into()),
            }),
            raw: Some(review.encode_to_vec()),
        };
        let mut body = MAGIC.to_vec();
        body.extend(envelope.encode_to_vec());
        let v = self_subject_access_review(&body).unwrap();
        assert_eq!(v["spec"]["resourceAttributes"]["verb"], "patch");
        assert_eq!(v["spec"]["resourceAttributes"]["resource"], "deployments");
        assert!(self_subject_access_review(b"nope").is_err());
        assert!(is_protobuf(
            "application/vnd.kubernetes.protobuf; charset=x"
        ));
    }
}
