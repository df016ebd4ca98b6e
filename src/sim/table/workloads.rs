//! Printers for the apps/v1 workloads (Deployment, ReplicaSet) and the autoscaling/v2 HPA.

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscaler, MetricSpec, MetricStatus, MetricTarget, MetricValueStatus,
    ResourceMetricSource,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::Value;

use super::{
    CONTAINERS_DESC, Column, IMAGES_DESC, Printable, age, format_label_selector, layout_containers,
    name, selector_string,
};

/// Both apps printers use `replicas` after defaulting, which makes an unset count 1.
const DEFAULT_REPLICAS: i32 = 1;

impl Printable for Deployment {
    fn column_definitions() -> Vec<Column> {
        // The descriptions are those of extensions/v1beta1, which the Go printer cites.
        vec![
            Column::name(),
            Column::new("Ready", "string", "Number of the pod with ready state"),
            Column::new(
                "Up-to-date",
                "string",
                "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
            ),
            Column::new(
                "Available",
                "string",
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
            ),
            Column::age(),
            Column::new("Containers", "string", CONTAINERS_DESC).wide(),
            Column::new("Images", "string", IMAGES_DESC).wide(),
            Column::new(
                "Selector",
                "string",
                "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
            )
            .wide(),
        ]
    }

    fn cells(&self, now: Timestamp) -> Vec<Value> {
        let spec = self.spec.as_ref();
        let status = self.status.as_ref();
        let desired = spec.and_then(|s| s.replicas).unwrap_or(DEFAULT_REPLICAS);
        let ready = status.and_then(|s| s.ready_replicas).unwrap_or(0);
        let updated = status.and_then(|s| s.updated_replicas).unwrap_or(0);
        let available = status.and_then(|s| s.available_replicas).unwrap_or(0);
        let containers = spec
            .and_then(|s| s.template.spec.as_ref())
            .map(|p| p.containers.as_slice())
            .unwrap_or_default();
        let (names, images) = layout_containers(containers);
        // Unlike the ReplicaSet printer, an empty selector stays empty here.
        let selector =
            selector_string(spec.map(|s| &s.selector)).unwrap_or_else(|()| "<invalid>".to_owned());
        vec![
            name(&self.metadata),
            format!("{ready}/{desired}").into(),
            i64::from(updated).into(),
            i64::from(available).into(),
            age(&self.metadata, now),
            names,
            images,
            selector.into(),
        ]
    }
}

impl Printable for ReplicaSet {
    fn column_definitions() -> Vec<Column> {
        vec![
            Column::name(),
            Column::new(
                "Desired",
                "integer",
                "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller",
            ),
            Column::new(
                "Current",
                "integer",
                "Replicas is the most recently oberved number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller",
            ),
            Column::new(
                "Ready",
                "integer",
                "The number of ready replicas for this replica set.",
            ),
            Column::age(),
            Column::new("Containers", "string", CONTAINERS_DESC).wide(),
            Column::new("Images", "string", IMAGES_DESC).wide(),
            Column::new(
                "Selector",
                "string",
                "Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
            )
            .wide(),
        ]
    }

    fn cells(&self, now: Timestamp) -> Vec<Value> {
        let spec = self.spec.as_ref();
        let status = self.status.as_ref();
        let desired = spec.and_then(|s| s.replicas).unwrap_or(DEFAULT_REPLICAS);
        let current = status.map_or(0, |s| s.replicas);
        let ready = status.and_then(|s| s.ready_replicas).unwrap_or(0);
        let containers = spec
            .and_then(|s| s.template.as_ref())
            .and_then(|t| t.spec.as_ref())
            .map(|p| p.containers.as_slice())
            .unwrap_or_default();
        let (names, images) = layout_containers(containers);
        vec![
            name(&self.metadata),
            i64::from(desired).into(),
            i64::from(current).into(),
            i64::from(ready).into(),
            age(&self.metadata, now),
            names,
            images,
            format_label_selector(spec.map(|s| &s.selector)).into(),
        ]
    }
}

impl Printable for HorizontalPodAutoscaler {
    fn column_definitions() -> Vec<Column> {
        // The descriptions are those of autoscaling/v2beta1, which the Go printer cites.
        vec![
            Column::name(),
            Column::new(
                "Reference",
                "string",
                "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.",
            ),
            Column::new(
                "Targets",
                "string",
                "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond.",
            ),
            Column::new(
                "MinPods",
                "string",
                "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.",
            ),
            Column::new(
                "MaxPods",
                "string",
                "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.",
            ),
            Column::new(
                "Replicas",
                "string",
                "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.",
            ),
            Column::age(),
        ]
    }

    fn cells(&self, now: Timestamp) -> Vec<Value> {
        let spec = self.spec.as_ref();
        let status = self.status.as_ref();
        let reference = spec.map_or_else(
            || "/".to_owned(),
            |s| format!("{}/{}", s.scale_target_ref.kind, s.scale_target_ref.name),
        );
        let specs = spec.and_then(|s| s.metrics.as_deref()).unwrap_or_default();
        let default_metrics;
        let specs = if specs.is_empty() {
            default_metrics = [default_cpu_metric()];
            &default_metrics[..]
        } else {
            specs
        };
        let metrics = format_hpa_metrics(
            specs,
            status
                .and_then(|s| s.current_metrics.as_deref())
                .unwrap_or_default(),
        );
        // Defaulting always sets minReplicas, so Go's "<unset>" never reaches a client.
        let min_pods = spec.and_then(|s| s.min_replicas).unwrap_or(1).to_string();
        let max_pods = spec.map_or(0, |s| s.max_replicas);
        let current = status.and_then(|s| s.current_replicas).unwrap_or(0);
        vec![
            name(&self.metadata),
            reference.into(),
            metrics.into(),
            min_pods.into(),
            i64::from(max_pods).into(),
            i64::from(current).into(),
            age(&self.metadata, now),
        ]
    }
}

/// The metric autoscaling/v2 defaulting gives an HPA without any: 80% average CPU utilization.
fn default_cpu_metric() -> MetricSpec {
    MetricSpec {
        type_: "Resource".to_owned(),
        resource: Some(ResourceMetricSource {
            name: "cpu".to_owned(),
            target: MetricTarget {
                type_: "Utilization".to_owned(),
                average_utilization: Some(80),
                ..MetricTarget::default()
            },
        }),
        ..MetricSpec::default()
    }
}

/// `Quantity.String()` of a possibly-nil pointer; Go prints a nil one as `<nil>`.
///
/// The stored text is printed as is: the store keeps quantities in their canonical form.
fn quantity(q: Option<&Quantity>) -> String {
    q.map_or_else(|| "<nil>".to_owned(), |q| q.0.clone())
}

/// `formatHPAMetrics`: each metric as `current/target`, at most two, then `+ N more...`.
fn format_hpa_metrics(specs: &[MetricSpec], statuses: &[MetricStatus]) -> String {
    if specs.is_empty() {
        return "<none>".to_owned();
    }
    const MAX: usize = 2;
    const UNKNOWN: &str = "<unknown>";
    let mut list: Vec<String> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let status = statuses.get(i);
        let entry = match spec.type_.as_str() {
            "External" => {
                let target = spec.external.as_ref().map(|e| &e.target);
                let current = status.and_then(|s| s.external.as_ref()).map(|e| &e.current);
                match target.and_then(|t| t.average_value.as_ref()) {
                    Some(avg) => {
                        let current = current
                            .and_then(|c| c.average_value.as_ref())
                            .map_or_else(|| UNKNOWN.to_owned(), |q| q.0.clone());
                        format!("{current}/{} (avg)", avg.0)
                    }
                    None => {
                        let current = current
                            .map_or_else(|| UNKNOWN.to_owned(), |c| quantity(c.value.as_ref()));
                        let target = quantity(target.and_then(|t| t.value.as_ref()));
                        format!("{current}/{target}")
                    }
                }
            }
            "Pods" => {
                let current = status.and_then(|s| s.pods.as_ref()).map_or_else(
                    || UNKNOWN.to_owned(),
                    |p| quantity(p.current.average_value.as_ref()),
                );
                let target = quantity(
                    spec.pods
                        .as_ref()
                        .and_then(|p| p.target.average_value.as_ref()),
                );
                format!("{current}/{target}")
            }
            "Object" => {
                let target = spec.object.as_ref().map(|o| &o.target);
                let current = status.and_then(|s| s.object.as_ref()).map(|o| &o.current);
                match target.and_then(|t| t.average_value.as_ref()) {
                    Some(avg) => {
                        let current = current
                            .and_then(|c| c.average_value.as_ref())
                            .map_or_else(|| UNKNOWN.to_owned(), |q| q.0.clone());
                        format!("{current}/{} (avg)", avg.0)
                    }
                    None => {
                        let current = current
                            .map_or_else(|| UNKNOWN.to_owned(), |c| quantity(c.value.as_ref()));
                        let target = quantity(target.and_then(|t| t.value.as_ref()));
                        format!("{current}/{target}")
                    }
                }
            }
            "Resource" => {
                let source = spec.resource.as_ref();
                let current = status.and_then(|s| s.resource.as_ref()).map(|r| &r.current);
                resource_entry(
                    source.map_or("", |r| r.name.as_str()),
                    source.map(|r| &r.target),
                    current,
                )
            }
            "ContainerResource" => {
                let source = spec.container_resource.as_ref();
                let current = status
                    .and_then(|s| s.container_resource.as_ref())
                    .map(|r| &r.current);
                resource_entry(
                    source.map_or("", |r| r.name.as_str()),
                    source.map(|r| &r.target),
                    current,
                )
            }
            _ => "<unknown type>".to_owned(),
        };
        list.push(entry);
    }
    let count = list.len();
    if count > MAX {
        list.truncate(MAX);
        return format!("{} + {} more...", list.join(", "), count - MAX);
    }
    list.join(", ")
}

/// A Resource or ContainerResource metric: `cpu: 45%/70%`, or `memory: 200Mi/500Mi` for an
/// average-value target.
fn resource_entry(
    resource: &str,
    target: Option<&MetricTarget>,
    current: Option<&MetricValueStatus>,
) -> String {
    if let Some(avg) = target.and_then(|t| t.average_value.as_ref()) {
        let current = current.map_or_else(
            || "<unknown>".to_owned(),
            |c| quantity(c.average_value.as_ref()),
        );
        return format!("{resource}: {current}/{}", avg.0);
    }
    let current = current
        .and_then(|c| c.average_utilization)
        .map_or_else(|| "<unknown>".to_owned(), |u| format!("{u}%"));
    let target = target
        .and_then(|t| t.average_utilization)
        .map_or_else(|| "<auto>".to_owned(), |u| format!("{u}%"));
    format!("{resource}: {current}/{target}")
}
