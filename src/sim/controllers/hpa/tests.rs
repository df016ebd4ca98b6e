//! HPA tests: scaling on CPU within bounds, stabilization, rate policies and failures.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::{HorizontalPodAutoscaler, HorizontalPodAutoscalerStatus};

use super::super::testing::*;

fn hpa(target: &str, min: i32, max: i32) -> HorizontalPodAutoscaler {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web", "namespace": NS},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": min, "maxReplicas": max,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                         "target": {"type": "Utilization", "averageUtilization": 50}}}]
        }
    }))
    .unwrap()
}

fn status(h: &Harness) -> HorizontalPodAutoscalerStatus {
    h.store
        .get::<HorizontalPodAutoscaler>(NS, "web")
        .unwrap()
        .status
        .clone()
        .unwrap()
}

fn condition(h: &Harness, type_: &str) -> (String, String, String) {
    let s = status(h);
    let c = s
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == type_)
        .unwrap();
    (c.status, c.reason.unwrap(), c.message.unwrap())
}

fn replicas(h: &Harness) -> i32 {
    h.deployment("web").spec.as_ref().unwrap().replicas.unwrap()
}

#[test]
fn scales_up_within_bounds_and_down_after_stabilization() {
    let mut h = Harness::new();
    h.create_deployment(deployment("web", 2));
    h.settle();
    h.cpu = Some(100.0);
    h.store.create(hpa("web", 1, 5), h.now).unwrap();
    h.step();
    assert_eq!(replicas(&h), 4);
    assert_eq!(
        h.events("SuccessfulRescale"),
        ["New size: 4; reason: cpu resource utilization (percentage of request) above target"]
    );
    let s = status(&h);
    assert_eq!((s.current_replicas, s.desired_replicas), (Some(2), 4));
    assert!(s.last_scale_time.is_some());
    let current = &s.current_metrics.unwrap()[0]
        .resource
        .clone()
        .unwrap()
        .current;
    assert_eq!(current.average_utilization, Some(100));
    assert_eq!(current.average_value.as_ref().unwrap().0, "100m");
    assert_eq!(condition(&h, "AbleToScale").1, "SucceededRescale");
    assert_eq!(
        condition(&h, "ScalingActive"),
        (
            "True".into(),
            "ValidMetricFound".into(),
            "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)".into()
        )
    );
    assert_eq!(condition(&h, "ScalingLimited").1, "DesiredWithinRange");

    // Nothing happens between syncs, whatever the load.
    h.cpu = Some(300.0);
    h.step();
    assert_eq!(replicas(&h), 4);
    h.settle();
    for _ in 0..15 {
        h.step();
    }
    assert_eq!(replicas(&h), 5);
    assert_eq!(
        condition(&h, "ScalingLimited"),
        (
            "True".into(),
            "TooManyReplicas".into(),
            "the desired replica count is more than the maximum replica count".into()
        )
    );

    // A drop in load waits out the five-minute window before scaling down.
    h.cpu = Some(10.0);
    for _ in 0..120 {
        h.step();
    }
    assert_eq!(replicas(&h), 5);
    assert_eq!(condition(&h, "AbleToScale").1, "ScaleDownStabilized");
    for _ in 0..200 {
        h.step();
    }
    assert_eq!(replicas(&h), 1);
    assert_eq!(
        h.events("SuccessfulRescale").last().unwrap(),
        "New size: 1; reason: All metrics below target"
    );
    h.settle();
    assert_eq!(
        h.store
            .list::<k8s_openapi::api::core::v1::Pod>(Some(NS))
            .len(),
        1
    );
}

#[test]
fn without_metrics_scaling_is_inactive() {
    let mut h = Harness::new();
    h.create_deployment(deployment("web", 2));
    h.settle();
    h.store.create(hpa("web", 1, 5), h.now).unwrap();
    h.step();
    let err = "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API";
    assert_eq!(
        condition(&h, "ScalingActive"),
        (
            "False".into(),
            "FailedGetResourceMetric".into(),
            format!("the HPA was unable to compute the replica count: {err}")
        )
    );
    assert_eq!(condition(&h, "AbleToScale").1, "SucceededGetScale");
    assert_eq!(h.events("FailedGetResourceMetric"), [err]);
    assert_eq!(
        h.events("FailedComputeMetricsReplicas"),
        [format!(
            "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: {err}"
        )]
    );
    let s = status(&h);
    assert_eq!((s.current_replicas, s.desired_replicas), (Some(2), 0));
    assert_eq!(s.current_metrics.unwrap()[0].type_, "");
    assert_eq!(replicas(&h), 2);
}

#[test]
fn a_missing_target_is_reported() {
    let mut h = Harness::new();
    h.store.create(hpa("nope", 1, 5), h.now).unwrap();
    h.step();
    assert_eq!(
        condition(&h, "AbleToScale"),
        (
            "False".into(),
            "FailedGetScale".into(),
            "the HPA controller was unable to get the target's current scale: deployments/scale.apps \"nope\" not found".into()
        )
    );
    assert!(h.store.get::<Deployment>(NS, "nope").is_none());
}

#[test]
fn behavior_policies_limit_the_rate_of_scale_down() {
    let mut h = Harness::new();
    h.create_deployment(deployment("web", 4));
    h.settle();
    h.cpu = Some(10.0);
    let mut autoscaler = hpa("web", 1, 5);
    autoscaler.spec.as_mut().unwrap().behavior = Some(
        serde_json::from_value(serde_json::json!({
            "scaleDown": {"stabilizationWindowSeconds": 0,
                          "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}
        }))
        .unwrap(),
    );
    h.store.create(autoscaler, h.now).unwrap();
    h.step();
    assert_eq!(replicas(&h), 3);
    assert_eq!(
        condition(&h, "ScalingLimited"),
        (
            "True".into(),
            "ScaleDownLimit".into(),
            "the desired replica count is decreasing faster than the maximum scale rate".into()
        )
    );
    for _ in 0..45 {
        h.step();
    }
    assert_eq!(replicas(&h), 3, "one pod per minute");
    for _ in 0..30 {
        h.step();
    }
    assert_eq!(replicas(&h), 2);
}
