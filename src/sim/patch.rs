//! The four PATCH content types the API server accepts, applied to an object's JSON.
//!
//! JSON patch and merge patch are delegated to the `json-patch` crate; strategic merge patch is our
//! own (see `strategic`), and server-side apply is approximated by it.

use serde_json::Value;

mod strategic;

/// A PATCH request's body format, named by its `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    /// RFC 6902, `application/json-patch+json`.
    Json,
    /// RFC 7386, `application/merge-patch+json`.
    Merge,
    /// Kubernetes' `application/strategic-merge-patch+json`.
    StrategicMerge,
    /// Server-side apply, `application/apply-patch+yaml`.
    Apply,
}

impl PatchKind {
    /// `None` for a media type the API server does not patch with (it answers 415).
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let media_type = ct.split(';').next().unwrap_or_default().trim();
        [
            ("application/json-patch+json", Self::Json),
            ("application/merge-patch+json", Self::Merge),
            (
                "application/strategic-merge-patch+json",
                Self::StrategicMerge,
            ),
            ("application/apply-patch+yaml", Self::Apply),
        ]
        .into_iter()
        .find(|(name, _)| media_type.eq_ignore_ascii_case(name))
        .map(|(_, kind)| kind)
    }

    fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Merge => "merge",
            Self::StrategicMerge => "strategic merge",
            Self::Apply => "apply",
        }
    }
}

/// Why a patch was refused. [`PatchError::status_code`] gives the HTTP status the API server uses.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The body is not JSON, or not JSON of the shape the patch type needs.
    #[error("error decoding patch: {0}")]
    Decode(String),
    /// A merge, strategic merge or apply body whose top level is not an object.
    #[error("error decoding patch: a {kind} patch must be a JSON object, not {found}")]
    NotAnObject {
        kind: &'static str,
        found: &'static str,
    },
    /// The real server takes YAML apply bodies; the simulator has no YAML parser.
    #[error(
        "YAML apply bodies are not supported by the simulator; send the apply configuration as \
         JSON ({0})"
    )]
    ApplyNotJson(String),
    /// A well-formed JSON patch whose operations do not fit the object (a failed `test`, a
    /// missing path).
    #[error("the json patch could not be applied: {0}")]
    JsonPatch(#[from] json_patch::PatchError),
    /// A strategic merge patch breaking the format's rules (unknown `$patch`, missing merge key).
    #[error("invalid strategic merge patch: {0}")]
    Strategic(String),
}

impl PatchError {
    /// 422 for a JSON patch that parsed but does not apply, as the API server answers; 400 otherwise.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::JsonPatch(_) => 422,
            _ => 400,
        }
    }
}

/// Applies `body` to `target`, the object's current JSON. On error `target` may be half-patched,
/// so callers patch a copy.
pub fn apply_patch(kind: PatchKind, target: &mut Value, body: &[u8]) -> Result<(), PatchError> {
    match kind {
        PatchKind::Json => {
            let patch: json_patch::Patch =
                serde_json::from_slice(body).map_err(|e| PatchError::Decode(e.to_string()))?;
            json_patch::patch(target, &patch)?;
        }
        PatchKind::Merge => {
            let patch = decode_object(kind, body)?;
            json_patch::merge(target, &patch);
        }
        PatchKind::StrategicMerge => {
            let patch = decode_object(kind, body)?;
            strategic::apply(target, &patch)?;
        }
        PatchKind::Apply => {
            // Approximation: real server-side apply tracks field managers, reports conflicts and
            // removes fields the applier owned but no longer sends. The simulator only merges the
            // applied configuration in, strategically, which is what a first apply or an apply
            // that adds or changes fields looks like from outside.
            let patch = decode_object(kind, body).map_err(|e| match e {
                PatchError::Decode(why) if !looks_like_json(body) => PatchError::ApplyNotJson(why),
                other => other,
            })?;
            strategic::apply(target, &patch)?;
        }
    }
    Ok(())
}

fn decode_object(kind: PatchKind, body: &[u8]) -> Result<Value, PatchError> {
    let patch: Value =
        serde_json::from_slice(body).map_err(|e| PatchError::Decode(e.to_string()))?;
    if !patch.is_object() {
        return Err(PatchError::NotAnObject {
            kind: kind.name(),
            found: json_type(&patch),
        });
    }
    Ok(patch)
}

/// Tells broken JSON (reported as such) from YAML (reported as unsupported) in an apply body.
fn looks_like_json(body: &[u8]) -> bool {
    matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::Deployment;
    use serde_json::json;

    use super::*;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "shop",
                "labels": {"app": "web", "team": "storefront"},
                "annotations": {"deployment.kubernetes.io/revision": "2"}
            },
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {"name": "app", "image": "img:1", "ports": [{"containerPort": 8080}],
                             "env": [{"name": "MODE", "value": "prod"}]},
                            {"name": "sidecar", "image": "proxy:1"}
                        ]
                    }
                }
            }
        })
    }

    fn patched(kind: PatchKind, body: Value) -> Value {
        let mut target = deployment();
        apply_patch(kind, &mut target, body.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{kind:?} patch {body} should apply: {e}"));
        serde_json::from_value::<Deployment>(target.clone())
            .unwrap_or_else(|e| panic!("the patched object is no longer a Deployment: {e}"));
        target
    }

    fn refused(kind: PatchKind, body: &[u8]) -> PatchError {
        let mut target = deployment();
        match apply_patch(kind, &mut target, body) {
            Ok(()) => panic!(
                "{kind:?} patch {} should be refused",
                String::from_utf8_lossy(body)
            ),
            Err(e) => e,
        }
    }

    #[test]
    fn content_types() {
        let cases = [
            ("application/json-patch+json", Some(PatchKind::Json)),
            ("application/merge-patch+json", Some(PatchKind::Merge)),
            (
                "application/strategic-merge-patch+json",
                Some(PatchKind::StrategicMerge),
            ),
            ("application/apply-patch+yaml", Some(PatchKind::Apply)),
            (
                "application/merge-patch+json; charset=utf-8",
                Some(PatchKind::Merge),
            ),
            (
                " Application/Apply-Patch+YAML ;charset=utf-8",
                Some(PatchKind::Apply),
            ),
            ("application/json", None),
            ("application/yaml", None),
            ("", None),
        ];
        for (ct, kind) in cases {
            assert_eq!(PatchKind::from_content_type(ct), kind, "{ct:?}");
        }
    }

    #[test]
    fn json_patch_as_rollout_undo_sends_it() {
        let template = json!({"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "app", "image": "img:0"}]}});
        let annotations = json!({"deployment.kubernetes.io/revision": "3"});
        let got = patched(
            PatchKind::Json,
            json!([
                {"op": "replace", "path": "/spec/template", "value": template},
                {"op": "replace", "path": "/metadata/annotations", "value": annotations},
            ]),
        );
        assert_eq!(got["spec"]["template"], template);
        assert_eq!(got["metadata"]["annotations"], annotations);
        assert_eq!(got["spec"]["replicas"], 2);
    }

    #[test]
    fn json_patch_operations() {
        let got = patched(
            PatchKind::Json,
            json!([
                {"op": "test", "path": "/spec/replicas", "value": 2},
                {"op": "add", "path": "/metadata/labels/tier", "value": "front"},
                {"op": "remove", "path": "/metadata/labels/team"},
                {"op": "copy", "from": "/metadata/labels/app", "path": "/metadata/labels/copy"},
                {"op": "move", "from": "/metadata/labels/copy", "path": "/metadata/labels/moved"},
                {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "x", "image": "x:1"}},
                {"op": "replace", "path": "/spec/replicas", "value": 5},
            ]),
        );
        assert_eq!(
            got["metadata"]["labels"],
            json!({"app": "web", "tier": "front", "moved": "web"})
        );
        assert_eq!(
            got["spec"]["template"]["spec"]["containers"][2]["name"],
            "x"
        );
        assert_eq!(got["spec"]["replicas"], 5);
    }

    #[test]
    fn json_patch_that_does_not_apply_is_422() {
        let body = json!([{"op": "test", "path": "/spec/replicas", "value": 9}]).to_string();
        let err = refused(PatchKind::Json, body.as_bytes());
        assert!(matches!(err, PatchError::JsonPatch(_)), "{err:?}");
        assert_eq!(err.status_code(), 422);
        assert!(err.to_string().contains("/spec/replicas"), "{err}");
        let missing = json!([{"op": "replace", "path": "/spec/nope/x", "value": 1}]).to_string();
        assert_eq!(
            refused(PatchKind::Json, missing.as_bytes()).status_code(),
            422
        );
    }

    #[test]
    fn json_patch_that_does_not_decode_is_400() {
        for body in [
            &b"[{\"op\":"[..],
            b"{\"op\":\"add\"}",
            b"[{\"op\":\"frobnicate\",\"path\":\"/a\"}]",
        ] {
            let err = refused(PatchKind::Json, body);
            assert!(matches!(err, PatchError::Decode(_)), "{err:?}");
            assert_eq!(err.status_code(), 400);
            assert!(
                err.to_string().starts_with("error decoding patch: "),
                "{err}"
            );
        }
    }

    #[test]
    fn merge_patch_replaces_lists_and_deletes_nulls() {
        let got = patched(
            PatchKind::Merge,
            json!({
                "metadata": {"labels": {"team": null, "tier": "front"}},
                "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "img:2"}]}}}
            }),
        );
        assert_eq!(
            got["metadata"]["labels"],
            json!({"app": "web", "tier": "front"})
        );
        assert_eq!(
            got["spec"]["template"]["spec"]["containers"],
            json!([{"name": "app", "image": "img:2"}]),
            "RFC 7386 replaces lists; the sidecar and the ports go"
        );
        assert_eq!(got["spec"]["replicas"], 2);
    }

    #[test]
    fn strategic_set_image_touches_one_container() {
        let got = patched(
            PatchKind::StrategicMerge,
            json!({"spec":{"template":{"spec":{"containers":[{"image":"img:2","name":"app"}]}}}}),
        );
        let mut want = deployment();
        want["spec"]["template"]["spec"]["containers"][0]["image"] = json!("img:2");
        assert_eq!(got, want);
    }

    #[test]
    fn strategic_rollout_restart_adds_a_template_annotation() {
        let at = "2026-11-22T01:02:03Z";
        let body = json!({"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":at}}}}});
        let got = patched(PatchKind::StrategicMerge, body);
        let mut want = deployment();
        want["spec"]["template"]["metadata"]["annotations"] =
            json!({"kubectl.kubernetes.io/restartedAt": at});
        assert_eq!(got, want);
    }

    #[test]
    fn strategic_scale_label_and_annotate() {
        let got = patched(PatchKind::StrategicMerge, json!({"spec": {"replicas": 3}}));
        assert_eq!(got["spec"]["replicas"], 3);
        assert_eq!(got["spec"]["template"], deployment()["spec"]["template"]);

        let got = patched(
            PatchKind::StrategicMerge,
            json!({"metadata": {"labels": {"tier": "front", "team": null}}}),
        );
        assert_eq!(
            got["metadata"]["labels"],
            json!({"app": "web", "tier": "front"})
        );

        let got = patched(
            PatchKind::StrategicMerge,
            json!({"metadata": {"annotations": {"oncall": "alice"}}}),
        );
        assert_eq!(
            got["metadata"]["annotations"],
            json!({"deployment.kubernetes.io/revision": "2", "oncall": "alice"})
        );
    }

    #[test]
    fn apply_merges_a_json_body_strategically() {
        let body = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"managed": "yes"}},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "img:3"}]}}}
        });
        let got = patched(PatchKind::Apply, body);
        let containers = &got["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["image"], "img:3");
        assert_eq!(containers[0]["ports"], json!([{"containerPort": 8080}]));
        assert_eq!(containers[1]["name"], "sidecar");
        assert_eq!(got["metadata"]["labels"]["managed"], "yes");
        assert_eq!(got["metadata"]["labels"]["app"], "web");
    }

    #[test]
    fn apply_refuses_yaml_but_reports_broken_json_as_json() {
        let yaml = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";
        let err = refused(PatchKind::Apply, yaml);
        assert!(matches!(err, PatchError::ApplyNotJson(_)), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("YAML apply bodies are not supported by the simulator")
        );
        assert_eq!(err.status_code(), 400);
        let err = refused(PatchKind::Apply, b"  {\"metadata\": ");
        assert!(matches!(err, PatchError::Decode(_)), "{err:?}");
        assert!(matches!(
            refused(PatchKind::Apply, b"[1]"),
            PatchError::NotAnObject { .. }
        ));
    }

    #[test]
    fn merge_and_strategic_bodies_must_be_json_objects() {
        for kind in [PatchKind::Merge, PatchKind::StrategicMerge] {
            let err = refused(kind, b"[{\"op\":\"add\"}]");
            assert!(
                matches!(
                    err,
                    PatchError::NotAnObject {
                        found: "an array",
                        ..
                    }
                ),
                "{err:?}"
            );
            assert!(
                err.to_string().starts_with("error decoding patch: a "),
                "{err}"
            );
            for broken in [&b"{\"spec\": "[..], b"", b"not json"] {
                let err = refused(kind, broken);
                assert!(
                    err.to_string().starts_with("error decoding patch: "),
                    "{err}"
                );
                assert_eq!(err.status_code(), 400);
            }
        }
        assert!(
            refused(PatchKind::Merge, b"null")
                .to_string()
                .contains("not null")
        );
    }
}
