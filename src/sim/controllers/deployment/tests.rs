//! Deployment controller tests: rollouts, rollbacks, revisions, scaling, deadlines and pausing,
//! driven pass by pass with the stand-in kubelet.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;

use super::super::hash::{POD_TEMPLATE_HASH, template_hash};
use super::super::testing::*;
use super::util::{REVISION, REVISION_HISTORY};

fn cond<'a>(d: &'a Deployment, type_: &str) -> &'a DeploymentCondition {
    let list = d.status.as_ref().unwrap().conditions.as_ref().unwrap();
    list.iter().find(|c| c.type_ == type_).unwrap()
}

fn reason(d: &Deployment, type_: &str) -> String {
    cond(d, type_).reason.clone().unwrap()
}

fn size(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().unwrap().replicas.unwrap()
}

fn name(rs: &ReplicaSet) -> String {
    rs.metadata.name.clone().unwrap()
}

/// What `kubectl rollout status` checks before it prints "successfully rolled out".
fn rolled_out(d: &Deployment) -> bool {
    let s = d.status.as_ref().unwrap();
    let want = d.spec.as_ref().unwrap().replicas.unwrap();
    s.observed_generation >= d.metadata.generation
        && s.updated_replicas.unwrap_or(0) == want
        && s.replicas.unwrap_or(0) == s.updated_replicas.unwrap_or(0)
        && s.available_replicas.unwrap_or(0) == s.updated_replicas.unwrap_or(0)
}

fn ready_pods(h: &Harness) -> usize {
    h.store
        .list::<Pod>(Some(NS))
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .count()
}

fn update(h: &mut Harness, f: impl FnOnce(&mut Deployment)) {
    h.store.mutate::<Deployment>(NS, "web", f).unwrap();
}

#[test]
fn first_rollout_names_labels_and_completes() {
    let mut h = Harness::new();
    h.create_deployment(deployment("web", 3));
    h.settle();

    let d = h.deployment("web");
    let rss = h.replicasets();
    assert_eq!(rss.len(), 1);
    let rs = &rss[0];
    let template = &d.spec.as_ref().unwrap().template;
    let hash = template_hash(template, None);
    assert_eq!(name(rs), format!("web-{hash}"));
    let labels = |m: &Option<std::collections::BTreeMap<String, String>>| {
        m.as_ref().unwrap()[POD_TEMPLATE_HASH].clone()
    };
    assert_eq!(labels(&rs.metadata.labels), hash);
    assert_eq!(
        labels(&rs.spec.as_ref().unwrap().selector.match_labels),
        hash
    );
    assert_eq!(
        labels(
            &rs.spec
                .as_ref()
                .unwrap()
                .template
                .as_ref()
                .unwrap()
                .metadata
                .as_ref()
                .unwrap()
                .labels
        ),
        hash
    );
    let owner = &rs.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.api_version.as_str()),
        ("Deployment", "apps/v1")
    );
    assert_eq!(
        (owner.controller, owner.block_owner_deletion),
        (Some(true), Some(true))
    );
    assert_eq!(owner.uid, d.metadata.uid.clone().unwrap());
    assert_eq!(annotation(&rs.metadata, REVISION), "1");
    assert_eq!(
        annotation(&rs.metadata, "deployment.kubernetes.io/desired-replicas"),
        "3"
    );
    assert_eq!(
        annotation(&rs.metadata, "deployment.kubernetes.io/max-replicas"),
        "4"
    );
    assert_eq!(annotation(&d.metadata, REVISION), "1");

    let pods = h.pods_of(rs);
    assert_eq!(pods.len(), 3);
    for p in &pods {
        let pname = p.metadata.name.clone().unwrap();
        assert!(
            pname.starts_with(&format!("{}-", name(rs))) && pname.len() == name(rs).len() + 6,
            "{pname}"
        );
        assert_eq!(labels(&p.metadata.labels), hash);
        assert_eq!(
            p.metadata.owner_references.as_ref().unwrap()[0].kind,
            "ReplicaSet"
        );
    }

    assert!(rolled_out(&d));
    let s = d.status.as_ref().unwrap();
    assert_eq!(
        (
            s.replicas,
            s.ready_replicas,
            s.available_replicas,
            s.unavailable_replicas
        ),
        (Some(3), Some(3), Some(3), None)
    );
    let types: Vec<_> = s
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| c.type_.as_str())
        .collect();
    assert_eq!(types, ["Available", "Progressing"]);
    assert_eq!(reason(&d, "Available"), "MinimumReplicasAvailable");
    assert_eq!(
        cond(&d, "Available").message.as_deref(),
        Some("Deployment has minimum availability.")
    );
    assert_eq!(reason(&d, "Progressing"), "NewReplicaSetAvailable");
    assert_eq!(
        cond(&d, "Progressing").message.clone().unwrap(),
        format!("ReplicaSet \"{}\" has successfully progressed.", name(rs))
    );
    assert_eq!(
        h.events("ScalingReplicaSet"),
        [format!("Scaled up replica set {} from 0 to 3", name(rs))]
    );
    assert_eq!(h.events("SuccessfulCreate").len(), 3);

    // Settled means idle: another pass writes nothing.
    let rv = h.store.resource_version();
    h.step();
    assert_eq!(h.store.resource_version(), rv);
}

#[test]
fn rolling_update_never_exceeds_surge_or_unavailability() {
    let mut h = Harness::new();
    let mut d = deployment("web", 4);
    d.spec.as_mut().unwrap().strategy = Some(
        serde_json::from_value(serde_json::json!({
            "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}
        }))
        .unwrap(),
    );
    h.create_deployment(d);
    h.settle();
    let old = h.replicasets()[0].clone();

    update(&mut h, |d| set_image(d, "web:2"));
    for _ in 0..100 {
        h.step();
        let sizes: i32 = h.replicasets().iter().map(|rs| size(rs)).sum();
        assert!(
            sizes <= 5,
            "ReplicaSets sized {sizes} > replicas + maxSurge"
        );
        let active = h
            .replicasets()
            .iter()
            .map(|rs| h.pods_of(rs).len())
            .sum::<usize>();
        assert!(active <= 5, "{active} active pods > replicas + maxSurge");
        assert!(
            ready_pods(&h) >= 3,
            "fewer than replicas - maxUnavailable pods ready"
        );
    }
    let d = h.deployment("web");
    assert!(rolled_out(&d));
    let rss = h.replicasets();
    assert_eq!(rss.len(), 2);
    let new = &rss[1];
    assert_eq!((size(&rss[0]), size(new)), (0, 4));
    assert_eq!(annotation(&new.metadata, REVISION), "2");
    assert_eq!(annotation(&d.metadata, REVISION), "2");
    assert_eq!(reason(&d, "Progressing"), "NewReplicaSetAvailable");
    let scaling = h.events("ScalingReplicaSet");
    assert_eq!(
        scaling[1],
        format!("Scaled up replica set {} from 0 to 1", name(new))
    );
    assert_eq!(
        scaling[2],
        format!("Scaled down replica set {} from 4 to 3", name(&old))
    );
    assert_eq!(
        scaling.last().unwrap(),
        &format!("Scaled down replica set {} from 1 to 0", name(&old))
    );
}

#[test]
fn rollback_reuses_the_old_replicaset_with_a_new_revision() {
    let mut h = Harness::new();
    let mut d = deployment("web", 2);
    d.metadata.annotations = Some(
        [
            (
                "kubernetes.io/change-cause".to_string(),
                "first".to_string(),
            ),
            (
                "kubectl.kubernetes.io/last-applied-configuration".to_string(),
                "{}".to_string(),
            ),
        ]
        .into(),
    );
    h.create_deployment(d);
    h.settle();
    let first = h.replicasets()[0].clone();
    assert_eq!(
        annotation(&first.metadata, "kubernetes.io/change-cause"),
        "first"
    );
    assert!(
        !first
            .metadata
            .annotations
            .as_ref()
            .unwrap()
            .contains_key("kubectl.kubernetes.io/last-applied-configuration")
    );

    update(&mut h, |d| {
        set_image(d, "web:2");
        d.metadata
            .annotations
            .as_mut()
            .unwrap()
            .insert("kubernetes.io/change-cause".into(), "second".into());
    });
    h.settle();
    let second = h.replicasets()[1].clone();
    assert_eq!(
        annotation(&second.metadata, "kubernetes.io/change-cause"),
        "second"
    );
    assert_eq!(annotation(&second.metadata, REVISION), "2");

    // What `kubectl rollout undo` sends: the old template and the old change-cause.
    update(&mut h, |d| {
        set_image(d, "web:1");
        d.metadata
            .annotations
            .as_mut()
            .unwrap()
            .insert("kubernetes.io/change-cause".into(), "first".into());
    });
    h.settle();
    let rss = h.replicasets();
    assert_eq!(rss.len(), 2, "no new ReplicaSet for a template seen before");
    let back = &rss[1];
    assert_eq!(name(back), name(&first));
    assert_eq!(annotation(&back.metadata, REVISION), "3");
    assert_eq!(annotation(&back.metadata, REVISION_HISTORY), "1");
    assert_eq!(size(back), 2);
    assert_eq!(size(&rss[0]), 0);
    let d = h.deployment("web");
    assert_eq!(annotation(&d.metadata, REVISION), "3");
    assert!(rolled_out(&d));

    // Back to the second template: revision 4, with history "2".
    update(&mut h, |d| set_image(d, "web:2"));
    h.settle();
    let rss = h.replicasets();
    assert_eq!(annotation(&rss[1].metadata, REVISION), "4");
    assert_eq!(annotation(&rss[1].metadata, REVISION_HISTORY), "2");
}

#[test]
fn scaling_resizes_the_replicaset_and_says_so() {
    let mut h = Harness::new();
    h.create_deployment(deployment("web", 3));
    h.settle();
    let rs = name(&h.replicasets()[0]);
    update(&mut h, |d| d.spec.as_mut().unwrap().replicas = Some(5));
    h.settle();
    update(&mut h, |d| d.spec.as_mut().unwrap().replicas = Some(2));
    h.settle();
    assert_eq!(
        h.events("ScalingReplicaSet"),
        [
            format!("Scaled up replica set {rs} from 0 to 3"),
            format!("Scaled up replica set {rs} from 3 to 5"),
            format!("Scaled down replica set {rs} from 5 to 2"),
        ]
    );
    let rss = h.replicasets();
    assert_eq!(
        annotation(
            &rss[0].metadata,
            "deployment.kubernetes.io/desired-replicas"
        ),
        "2"
    );
    assert_eq!(h.pods_of(&rss[0]).len(), 2);
    assert_eq!(h.events("SuccessfulDelete").len(), 3);
    assert!(rolled_out(&h.deployment("web")));
}

#[test]
fn progress_deadline_is_reported_when_pods_never_get_ready() {
    let mut h = Harness::new();
    h.unready_images.insert("web:bad".into());
    let mut d = deployment("web", 2);
    set_image(&mut d, "web:bad");
    d.spec.as_mut().unwrap().progress_deadline_seconds = Some(30);
    h.create_deployment(d);
    for _ in 0..20 {
        h.step();
    }
    let d = h.deployment("web");
    assert_eq!(reason(&d, "Progressing"), "ReplicaSetUpdated");
    assert_eq!(reason(&d, "Available"), "MinimumReplicasUnavailable");
    assert_eq!(cond(&d, "Available").status, "False");
    for _ in 0..20 {
        h.step();
    }
    let d = h.deployment("web");
    let progressing = cond(&d, "Progressing");
    assert_eq!(
        (progressing.status.as_str(), progressing.reason.as_deref()),
        ("False", Some("ProgressDeadlineExceeded"))
    );
    let rs = name(&h.replicasets()[0]);
    assert_eq!(
        progressing.message.clone().unwrap(),
        format!("ReplicaSet \"{rs}\" has timed out progressing.")
    );
    assert!(!rolled_out(&d));
    // The failure is sticky and quiet.
    let rv = h.store.resource_version();
    h.step();
    assert_eq!(h.store.resource_version(), rv);
}

#[test]
fn a_paused_deployment_scales_but_does_not_roll() {
    let mut h = Harness::new();
    h.create_deployment(deployment("web", 2));
    h.settle();
    update(&mut h, |d| {
        d.spec.as_mut().unwrap().paused = Some(true);
        set_image(d, "web:2");
    });
    h.settle();
    let d = h.deployment("web");
    assert_eq!(h.replicasets().len(), 1);
    let progressing = cond(&d, "Progressing");
    assert_eq!(
        (progressing.status.as_str(), progressing.reason.as_deref()),
        ("Unknown", Some("DeploymentPaused"))
    );
    assert_eq!(progressing.message.as_deref(), Some("Deployment is paused"));

    update(&mut h, |d| d.spec.as_mut().unwrap().replicas = Some(3));
    h.settle();
    assert_eq!(size(&h.replicasets()[0]), 3);
    assert_eq!(h.replicasets().len(), 1);

    update(&mut h, |d| d.spec.as_mut().unwrap().paused = None);
    h.settle();
    let rss = h.replicasets();
    assert_eq!(rss.len(), 2);
    assert_eq!((size(&rss[0]), size(&rss[1])), (0, 3));
    let d = h.deployment("web");
    assert!(rolled_out(&d));
    assert_eq!(reason(&d, "Progressing"), "NewReplicaSetAvailable");
}

#[test]
fn recreate_stops_every_old_pod_before_starting_new_ones() {
    let mut h = Harness::new();
    let mut d = deployment("web", 3);
    d.spec.as_mut().unwrap().strategy =
        Some(serde_json::from_value(serde_json::json!({"type": "Recreate"})).unwrap());
    h.create_deployment(d);
    h.settle();
    update(&mut h, |d| set_image(d, "web:2"));
    let mut saw_gap = false;
    for _ in 0..30 {
        h.step();
        let images: std::collections::HashSet<String> = h
            .store
            .list::<Pod>(Some(NS))
            .iter()
            .map(|p| {
                p.spec.as_ref().unwrap().containers[0]
                    .image
                    .clone()
                    .unwrap()
            })
            .collect();
        assert!(images.len() <= 1, "old and new pods at once: {images:?}");
        saw_gap |= images.is_empty();
    }
    assert!(saw_gap);
    let rss = h.replicasets();
    assert_eq!((size(&rss[0]), size(&rss[1])), (0, 3));
    assert!(rolled_out(&h.deployment("web")));
    let scaling = h.events("ScalingReplicaSet");
    assert_eq!(
        scaling[1],
        format!("Scaled down replica set {} from 3 to 0", name(&rss[0]))
    );
    assert_eq!(
        scaling[2],
        format!("Scaled up replica set {} from 0 to 3", name(&rss[1]))
    );
}

#[test]
fn old_replicasets_beyond_the_history_limit_are_deleted() {
    let mut h = Harness::new();
    let mut d = deployment("web", 1);
    d.spec.as_mut().unwrap().revision_history_limit = Some(1);
    h.create_deployment(d);
    h.settle();
    for image in ["web:2", "web:3", "web:4"] {
        update(&mut h, |d| set_image(d, image));
        h.settle();
    }
    let revisions: Vec<_> = h
        .replicasets()
        .iter()
        .map(|rs| annotation(&rs.metadata, REVISION))
        .collect();
    assert_eq!(revisions, ["3", "4"]);
}

#[test]
fn scaling_mid_rollout_is_proportional() {
    let mut h = Harness::new();
    h.unready_images.insert("web:2".into());
    h.create_deployment(deployment("web", 10));
    h.settle();
    update(&mut h, |d| set_image(d, "web:2"));
    for _ in 0..5 {
        h.step();
    }
    // 10 replicas, surge 3, unavailable 2: 13 at most, the old scaled to 8 and the new (never
    // ready) grown to the rest.
    let sizes: Vec<i32> = h.replicasets().iter().map(|rs| size(rs)).collect();
    assert_eq!(sizes, [8, 5]);
    update(&mut h, |d| d.spec.as_mut().unwrap().replicas = Some(20));
    h.step();
    let sizes: Vec<i32> = h.replicasets().iter().map(|rs| size(rs)).collect();
    // 20 + 5 surge = 25 allowed: the 12 new replicas are shared by size, leftovers to the largest.
    assert_eq!(sizes.iter().sum::<i32>(), 25);
    assert_eq!(sizes, [15, 10]);
}

#[test]
fn an_orphan_replicaset_matching_the_selector_is_adopted() {
    let mut h = Harness::new();
    let d = deployment("web", 2);
    let template = d.spec.as_ref().unwrap().template.clone();
    let orphan = ReplicaSet {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some("web-legacy".into()),
            namespace: Some(NS.into()),
            labels: Some([("app".to_string(), "web".to_string())].into()),
            ..Default::default()
        },
        spec: Some(k8s_openapi::api::apps::v1::ReplicaSetSpec {
            replicas: Some(2),
            selector: d.spec.as_ref().unwrap().selector.clone(),
            template: Some(template),
            ..Default::default()
        }),
        status: None,
    };
    h.store.create(orphan, h.now).unwrap();
    h.create_deployment(d);
    h.settle();
    let rss = h.replicasets();
    assert_eq!(
        rss.len(),
        1,
        "the orphan runs the current template: no new ReplicaSet"
    );
    assert_eq!(name(&rss[0]), "web-legacy");
    assert_eq!(
        rss[0].metadata.owner_references.as_ref().unwrap()[0].kind,
        "Deployment"
    );
    assert_eq!(annotation(&rss[0].metadata, REVISION), "1");
    assert!(rolled_out(&h.deployment("web")));
}
