//! The pure parts of the ops: what kubectl would pick, skip, merge and send, the texts, and the
//! template diff.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::authorization::v1::SubjectAccessReviewStatus;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::{Value, json};

use super::access::{review, verdict};
use super::history::build;
use super::restart::{paused_refusal, restart_patch, restarted_at};
use super::rollback::{
    controlled, equal_ignore_hash, merged_annotations, pick, restorable, revision_of,
    rollback_patch, selector_query,
};
use super::scale::scale_patch;
use super::*;

const UID: &str = "d-uid-1";

fn template(image: &str, hash: &str) -> Value {
    json!({
        "metadata": {"labels": {"app": "web", "pod-template-hash": hash}},
        "spec": {"containers": [{"name": "app", "image": image}]}
    })
}

fn deployment(image: &str, annotations: Value) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "shop", "uid": UID, "annotations": annotations},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": image}]}
            }
        }
    }))
    .expect("a deployment")
}

fn replicaset(name: &str, revision: Option<&str>, image: &str, owner: &str) -> ReplicaSet {
    let mut annotations = json!({});
    if let Some(r) = revision {
        annotations["deployment.kubernetes.io/revision"] = r.into();
    }
    serde_json::from_value(json!({
        "metadata": {
            "name": name, "namespace": "shop", "annotations": annotations,
            "creationTimestamp": "2026-11-20T10:00:00Z",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                 "uid": owner, "controller": true}]
        },
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                 "template": template(image, name.trim_start_matches("web-"))},
        "status": {"replicas": 0, "readyReplicas": 0}
    }))
    .expect("a replica set")
}

fn history_sets() -> Vec<ReplicaSet> {
    // Listed in no particular order, as the API may.
    vec![
        replicaset("web-bbb", Some("2"), "web:1.5.0", UID),
        replicaset("web-ccc", Some("3"), "web:1.6.0", UID),
        replicaset("web-aaa", Some("1"), "web:1.4.2", UID),
    ]
}

fn name_of(rs: &ReplicaSet) -> &str {
    rs.metadata.name.as_deref().unwrap_or_default()
}

#[test]
fn verb_words_read_as_a_sentence() {
    assert_eq!(Op::Scale { replicas: 8 }.verb_words(), "scale to 8");
    assert_eq!(Op::Restart.verb_words(), "restart");
    let back = |to_revision| Op::Rollback { to_revision }.verb_words();
    assert_eq!(back(Some(6)), "roll back to revision 6");
    assert_eq!(back(None), "roll back to the previous revision");
}

#[test]
fn scale_needs_the_scale_subresource_and_the_others_the_deployment() {
    let scale = access(&Op::Scale { replicas: 3 });
    assert_eq!(
        (scale.verb, scale.group, scale.resource, scale.subresource),
        ("patch", "apps", "deployments", Some("scale"))
    );
    for op in [Op::Restart, Op::Rollback { to_revision: None }] {
        assert_eq!(access(&op).subresource, None);
        assert_eq!(access(&op).resource_words(), "deployments");
    }
    let attrs = review("shop", "web", &Op::Scale { replicas: 3 })
        .spec
        .resource_attributes
        .expect("resource attributes");
    assert_eq!(attrs.subresource.as_deref(), Some("scale"));
    assert_eq!(attrs.name.as_deref(), Some("web"));
    assert_eq!(attrs.namespace.as_deref(), Some("shop"));
    assert_eq!(attrs.verb.as_deref(), Some("patch"));
    assert_eq!(attrs.group.as_deref(), Some("apps"));
}

#[test]
fn a_refused_review_names_verb_resource_object_and_reason() {
    let op = Op::Scale { replicas: 3 };
    let status = |allowed, reason: Option<&str>| SubjectAccessReviewStatus {
        allowed,
        reason: reason.map(str::to_string),
        ..Default::default()
    };
    assert_eq!(
        verdict("shop", "web", &op, Some(&status(true, None))),
        Ok(())
    );
    assert_eq!(
        verdict(
            "shop",
            "web",
            &op,
            Some(&status(false, Some("no RBAC rule")))
        ),
        Err(AccessError::NotAllowed(
            "not allowed: you may not patch deployments/scale \"web\" in namespace \"shop\" \
             (SelfSubjectAccessReview said no: no RBAC rule)"
                .into()
        ))
    );
    let bare = verdict("shop", "web", &Op::Restart, Some(&status(false, None)));
    assert_eq!(
        bare.unwrap_err().text(),
        "not allowed: you may not patch deployments \"web\" in namespace \"shop\" \
         (SelfSubjectAccessReview said no)"
    );
    let denied = SubjectAccessReviewStatus {
        allowed: true,
        denied: Some(true),
        ..Default::default()
    };
    assert!(verdict("shop", "web", &op, Some(&denied)).is_err());
    assert!(verdict("shop", "web", &op, None).is_err());
}

#[test]
fn only_replica_sets_the_deployment_controls_are_history() {
    let d = deployment("web:1.6.0", json!({}));
    let mut all = history_sets();
    all.push(replicaset("other-1", Some("9"), "other:1", "someone-else"));
    let mut not_controller = replicaset("web-zzz", Some("8"), "web:0.1", UID);
    not_controller.metadata.owner_references.as_mut().unwrap()[0].controller = Some(false);
    all.push(not_controller);
    let kept: Vec<&str> = controlled(&d, &all).into_iter().map(name_of).collect();
    assert_eq!(kept, ["web-bbb", "web-ccc", "web-aaa"]);
}

#[test]
fn the_previous_revision_is_the_second_highest() {
    let sets = history_sets();
    let refs: Vec<&ReplicaSet> = sets.iter().collect();
    let (rs, revision) = pick("web", &refs, None).expect("a previous revision");
    assert_eq!((name_of(rs), revision), ("web-bbb", 2));
    // --to-revision=0 means the previous one too.
    assert_eq!(pick("web", &refs, Some(0)).unwrap().1, 2);
    let mut reversed = refs.clone();
    reversed.reverse();
    assert_eq!(pick("web", &reversed, None).unwrap().1, 2);
}

#[test]
fn a_chosen_revision_is_found_or_named_as_missing() {
    let sets = history_sets();
    let refs: Vec<&ReplicaSet> = sets.iter().collect();
    let (rs, revision) = pick("web", &refs, Some(1)).expect("revision 1");
    assert_eq!((name_of(rs), revision), ("web-aaa", 1));
    assert_eq!(
        pick("web", &refs, Some(42)).unwrap_err(),
        "unable to find specified revision 42 in history"
    );
}

#[test]
fn one_revision_is_no_history() {
    let sets = [replicaset("web-aaa", Some("1"), "web:1.4.2", UID)];
    let refs: Vec<&ReplicaSet> = sets.iter().collect();
    assert_eq!(
        pick("web", &refs, None).unwrap_err(),
        "no rollout history found for deployment \"web\""
    );
    assert_eq!(
        pick("web", &[], None).unwrap_err(),
        "no rollout history found for deployment \"web\""
    );
}

#[test]
fn revisions_are_read_like_deploymentutil() {
    assert_eq!(revision_of(&replicaset("a", None, "x", UID)), Some(0));
    assert_eq!(revision_of(&replicaset("a", Some("7"), "x", UID)), Some(7));
    assert_eq!(revision_of(&replicaset("a", Some("seven"), "x", UID)), None);
    // An unreadable revision is left out of the pick, not an error.
    let sets = [
        replicaset("web-aaa", Some("1"), "a", UID),
        replicaset("web-bad", Some("x"), "b", UID),
        replicaset("web-bbb", Some("2"), "c", UID),
    ];
    let refs: Vec<&ReplicaSet> = sets.iter().collect();
    assert_eq!(name_of(pick("web", &refs, None).unwrap().0), "web-aaa");
}

fn pod_template(v: Value) -> PodTemplateSpec {
    serde_json::from_value(v).expect("a pod template")
}

#[test]
fn templates_are_equal_when_only_the_hash_label_differs() {
    let a = pod_template(template("web:1.4.2", "aaa"));
    let b = pod_template(template("web:1.4.2", "bbb"));
    assert!(equal_ignore_hash(&a, &b));
    let d = deployment("web:1.4.2", json!({}));
    assert!(equal_ignore_hash(&a, &d.spec.unwrap().template));
    // nil and empty are the same to the API's semantic equality.
    let bare = pod_template(json!({"spec": {"containers": [{"name": "app", "image": "i"}]}}));
    let empty = pod_template(json!({
        "metadata": {"labels": {"pod-template-hash": "x"}, "annotations": {}},
        "spec": {"containers": [{"name": "app", "image": "i", "env": []}]}
    }));
    assert!(equal_ignore_hash(&bare, &empty));
    let c = pod_template(template("web:1.5.0", "aaa"));
    assert!(!equal_ignore_hash(&a, &c));
}

#[test]
fn annotations_keep_the_deployments_own_and_take_the_revisions_others() {
    let d: BTreeMap<String, String> = [
        ("deployment.kubernetes.io/revision", "3"),
        ("kubectl.kubernetes.io/last-applied-configuration", "{}"),
        ("kubernetes.io/change-cause", "set image 1.6.0"),
        ("team", "shop"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let rs: BTreeMap<String, String> = [
        ("deployment.kubernetes.io/revision", "1"),
        ("deployment.kubernetes.io/revision-history", "0"),
        ("deployment.kubernetes.io/desired-replicas", "2"),
        ("deployment.kubernetes.io/max-replicas", "3"),
        ("kubernetes.io/change-cause", "first deploy"),
        ("owner", "alice"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let merged = merged_annotations(Some(&d), Some(&rs));
    let expect: BTreeMap<String, String> = [
        ("deployment.kubernetes.io/revision", "3"),
        ("kubectl.kubernetes.io/last-applied-configuration", "{}"),
        ("kubernetes.io/change-cause", "first deploy"),
        ("owner", "alice"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(
        merged, expect,
        "the deployment's `team` goes, as with kubectl"
    );
    assert!(merged_annotations(None, None).is_empty());
}

#[test]
fn the_rollback_patch_is_kubectls_json_patch() {
    let rs = replicaset("web-aaa", Some("1"), "web:1.4.2", UID);
    let t = restorable(rs.spec.as_ref().unwrap().template.as_ref().unwrap());
    let annotations = BTreeMap::from([("deployment.kubernetes.io/revision".into(), "3".into())]);
    assert_eq!(
        rollback_patch(&t, &annotations),
        json!([
            {"op": "replace", "path": "/spec/template", "value": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "web:1.4.2"}]}
            }},
            {"op": "replace", "path": "/metadata/annotations",
             "value": {"deployment.kubernetes.io/revision": "3"}}
        ])
    );
    // A template whose only label was the hash loses the emptied map, as Go's omitempty would.
    let only_hash = pod_template(json!({"metadata": {"labels": {"pod-template-hash": "a"}}}));
    assert_eq!(
        serde_json::to_value(restorable(&only_hash)).unwrap(),
        json!({"metadata": {}})
    );
}

#[test]
fn scale_and_restart_send_kubectls_bodies() {
    assert_eq!(scale_patch(8), json!({"spec": {"replicas": 8}}));
    let now: Timestamp = "2026-11-22T08:57:03.734Z".parse().unwrap();
    assert_eq!(restarted_at(now), "2026-11-22T08:57:03Z");
    assert_eq!(
        restart_patch(now),
        json!({"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": "2026-11-22T08:57:03Z"}}}}})
    );
    assert_eq!(
        paused_refusal("web"),
        "deployments.apps \"web\" can't restart paused deployment (run rollout resume first)"
    );
}

#[test]
fn selectors_become_list_queries() {
    let s = serde_json::from_value(json!({
        "matchLabels": {"app": "web", "tier": "front"},
        "matchExpressions": [
            {"key": "track", "operator": "In", "values": ["stable", "canary"]},
            {"key": "legacy", "operator": "DoesNotExist"}
        ]
    }))
    .unwrap();
    assert_eq!(
        selector_query(&s),
        "app=web,tier=front,track in (stable,canary),!legacy"
    );
}

fn status_of(generation: i64, observed: i64, status: Value) -> RolloutStatus {
    let mut s = status;
    s["observedGeneration"] = observed.into();
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web", "generation": generation},
        "spec": {"replicas": 3, "selector": {}, "template": {}},
        "status": s
    }))
    .unwrap();
    rollout_status(&d)
}

#[test]
fn rollout_status_says_what_kubectl_waits_for() {
    let waiting = |t: &str| RolloutStatus::Progressing(t.to_string());
    let full = json!({"replicas": 3, "updatedReplicas": 3, "availableReplicas": 3});
    assert_eq!(status_of(2, 2, full.clone()), RolloutStatus::Complete);
    assert_eq!(
        status_of(3, 2, full.clone()),
        waiting("Waiting for deployment spec update to be observed...")
    );
    assert_eq!(
        status_of(
            2,
            2,
            json!({"replicas": 4, "updatedReplicas": 1, "availableReplicas": 3})
        ),
        waiting(
            "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated..."
        )
    );
    assert_eq!(
        status_of(
            2,
            2,
            json!({"replicas": 4, "updatedReplicas": 3, "availableReplicas": 3})
        ),
        waiting(
            "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination..."
        )
    );
    assert_eq!(
        status_of(
            2,
            2,
            json!({"replicas": 3, "updatedReplicas": 3, "availableReplicas": 2})
        ),
        waiting(
            "Waiting for deployment \"web\" rollout to finish: 2 of 3 updated replicas are available..."
        )
    );
    let stuck = json!({"replicas": 4, "updatedReplicas": 1, "availableReplicas": 3,
        "conditions": [{"type": "Progressing", "status": "False",
                        "reason": "ProgressDeadlineExceeded"}]});
    assert_eq!(
        status_of(2, 2, stuck.clone()),
        RolloutStatus::Failed("deployment \"web\" exceeded its progress deadline".into())
    );
    // An unobserved spec comes first, as in kubectl.
    assert!(matches!(
        status_of(3, 2, stuck),
        RolloutStatus::Progressing(_)
    ));
    assert_eq!(
        RolloutStatus::Complete.text("web"),
        "deployment \"web\" successfully rolled out"
    );
}

#[test]
fn the_workload_row_carries_the_rollout_status() {
    let mut d = deployment("web:1", json!({}));
    d.metadata.generation = Some(5);
    d.status = Some(serde_json::from_value(json!({"observedGeneration": 4})).unwrap());
    let row = crate::kube::convert::workload_row(&d);
    assert_eq!(
        row.rollout,
        RolloutStatus::Progressing("Waiting for deployment spec update to be observed...".into())
    );
    assert!(row.rolling_out);
}

#[test]
fn history_is_newest_first_with_the_current_revision_marked() {
    let d = deployment(
        "web:1.6.0",
        json!({"deployment.kubernetes.io/revision": "3"}),
    );
    let mut sets = history_sets();
    sets[0]
        .metadata
        .annotations
        .as_mut()
        .unwrap()
        .insert("kubernetes.io/change-cause".into(), "bump to 1.5.0".into());
    let h = build(&d, &sets);
    assert_eq!(h.current, Some(3));
    assert!(!h.paused);
    let seen: Vec<(u64, bool, Vec<String>)> = h
        .revisions
        .iter()
        .map(|r| (r.revision, r.current, r.images.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            (3, true, vec!["web:1.6.0".to_string()]),
            (2, false, vec!["web:1.5.0".to_string()]),
            (1, false, vec!["web:1.4.2".to_string()]),
        ]
    );
    assert_eq!(
        h.revisions[1].change_cause.as_deref(),
        Some("bump to 1.5.0")
    );
    assert!(h.revisions[0].diff.is_empty(), "{:?}", h.revisions[0].diff);
    assert_eq!(
        h.revisions[1].diff,
        [
            DiffLine {
                change: Change::Removed,
                text: "image app: web:1.6.0".into()
            },
            DiffLine {
                change: Change::Added,
                text: "image app: web:1.5.0".into()
            },
        ]
    );
    assert_eq!(
        h.revisions[2].created,
        Some("2026-11-20T10:00:00Z".parse().unwrap())
    );
}

fn api_error(code: u16, reason: &str, message: &str) -> ::kube::Error {
    let mut s = ::kube::core::Status::failure(message, reason);
    s.code = code;
    ::kube::Error::Api(Box::new(s))
}

#[test]
fn server_refusals_read_as_sentences_and_are_not_transport_errors() {
    let conflict = api_error(
        409,
        "Conflict",
        "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified",
    );
    assert_eq!(
        OpError::kube(
            "failed restoring revision 2: ",
            "deployment shop/web",
            &conflict
        ),
        OpError::Api(
            "failed restoring revision 2: deployment shop/web: conflict: Operation cannot be \
             fulfilled on deployments.apps \"web\": the object has been modified"
                .into()
        )
    );
    let gone = api_error(404, "NotFound", "deployments.apps \"web\" not found");
    assert_eq!(
        OpError::kube("", "deployment shop/web", &gone).text(),
        "deployment shop/web: deployments.apps \"web\" not found"
    );
    let invalid = api_error(
        422,
        "Invalid",
        "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    );
    assert!(
        OpError::kube("", "deployment shop/web", &invalid)
            .text()
            .contains("spec.replicas: Invalid value: -1"),
    );
}
