//! One metric's proposal, after `computeStatusForResourceMetric`: the target's pods, their CPU
//! samples and requests, and the metric status the HPA reports.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::{
    MetricSpec, MetricStatus, MetricValueStatus, ResourceMetricStatus,
};
use k8s_openapi::api::core::v1::Pod;

use super::super::super::selector::LabelSelector;
use super::super::quantity;
use super::calc::{Goal, Sample, millis, replica_count};
use super::{Autoscale, MetricError, Proposal};

impl Autoscale<'_> {
    pub(super) fn metric_replicas(
        &self,
        d: &Deployment,
        spec: &MetricSpec,
        current: i32,
    ) -> Result<Proposal, MetricError> {
        let Some(resource) = spec.resource.as_ref().filter(|_| spec.type_ == "Resource") else {
            let (reason, api) = match spec.type_.as_str() {
                "External" => ("FailedGetExternalMetric", "external.metrics.k8s.io"),
                "Object" => ("FailedGetObjectMetric", "custom.metrics.k8s.io"),
                "ContainerResource" => ("FailedGetContainerResourceMetric", "metrics.k8s.io"),
                _ => ("FailedGetPodsMetric", "custom.metrics.k8s.io"),
            };
            return Err(MetricError {
                reason,
                message: format!(
                    "unable to fetch metrics from the API: no metrics API ({api}) registered"
                ),
            });
        };
        let name = resource.name.as_str();
        let no_metrics = || MetricError {
            reason: "FailedGetResourceMetric",
            message: format!(
                "failed to get {name} utilization: unable to get metrics for resource {name}: no metrics returned from resource metrics API"
            ),
        };
        if name != "cpu" {
            return Err(no_metrics());
        }
        let target = &resource.target;
        let goal = match (
            target.type_.as_str(),
            target.average_utilization,
            target.average_value.as_ref(),
        ) {
            ("Utilization", Some(pct), _) => Goal::Utilization(pct),
            ("AverageValue", _, Some(q)) => {
                Goal::AverageMillis(quantity(&q.0).map_or(0, |v| (v * 1000.0).round() as i64))
            }
            _ => return Err(no_metrics()),
        };
        let pods = self.target_pods(d);
        let samples = self.sample(&pods)?;
        let outcome =
            replica_count(&pods, &samples, goal, current, self.now).map_err(|message| {
                MetricError {
                    reason: "FailedGetResourceMetric",
                    message: format!("failed to get cpu utilization: {message}"),
                }
            })?;
        let (current_value, metric) = match goal {
            Goal::Utilization(_) => (
                MetricValueStatus {
                    average_utilization: Some(outcome.utilization),
                    average_value: Some(millis(outcome.average)),
                    value: None,
                },
                "cpu resource utilization (percentage of request)",
            ),
            Goal::AverageMillis(_) => (
                MetricValueStatus {
                    average_value: Some(millis(outcome.average)),
                    ..Default::default()
                },
                "cpu resource",
            ),
        };
        Ok(Proposal {
            replicas: outcome.replicas,
            name: metric.to_string(),
            status: MetricStatus {
                type_: "Resource".into(),
                resource: Some(ResourceMetricStatus {
                    name: "cpu".into(),
                    current: current_value,
                }),
                ..Default::default()
            },
        })
    }

    /// The pods the target's selector picks, as the HPA lists them (by label, not ownership).
    fn target_pods(&self, d: &Deployment) -> Vec<Arc<Pod>> {
        let Some(selector) = d
            .spec
            .as_ref()
            .and_then(|s| LabelSelector::from_k8s(&s.selector).ok())
        else {
            return Vec::new();
        };
        let ns = d.metadata.namespace.as_deref();
        self.store
            .pods
            .range(ns, None)
            .map(|(_, s)| s.obj())
            .filter(|p| selector.matches(p.metadata.labels.as_ref()))
            .collect()
    }

    /// Each pod's CPU use in millicores and its request, as metrics-server and the pod specs
    /// would give them; the errors are the real ones, in the real order.
    fn sample(&self, pods: &[Arc<Pod>]) -> Result<Vec<Sample>, MetricError> {
        let utilization: Vec<Option<f64>> = pods
            .iter()
            .map(|p| self.metrics.cpu_utilization(p, self.now))
            .collect();
        let failed = |message: String| MetricError {
            reason: "FailedGetResourceMetric",
            message: format!("failed to get cpu utilization: {message}"),
        };
        if utilization.iter().all(Option::is_none) {
            return Err(failed(
                "unable to get metrics for resource cpu: no metrics returned from resource metrics API".into(),
            ));
        }
        let mut samples = Vec::with_capacity(pods.len());
        for (pod, pct) in pods.iter().zip(utilization) {
            let mut request = 0i64;
            for c in pod.spec.iter().flat_map(|s| &s.containers) {
                let cpu = c
                    .resources
                    .as_ref()
                    .and_then(|r| r.requests.as_ref())
                    .and_then(|r| r.get("cpu"));
                let Some(cpu) = cpu.and_then(|q| quantity(&q.0)) else {
                    let pod_name = pod.metadata.name.as_deref().unwrap_or("");
                    return Err(failed(format!(
                        "missing request for cpu in container {} of Pod {pod_name}",
                        c.name
                    )));
                };
                request += (cpu * 1000.0).round() as i64;
            }
            let usage = pct.map(|p| (p / 100.0 * request as f64).round() as i64);
            samples.push(Sample { request, usage });
        }
        Ok(samples)
    }
}
