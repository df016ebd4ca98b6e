//! The horizontal pod autoscaler, after `pkg/controller/podautoscaler`: every 15 s it sizes each
//! target Deployment from its pods' CPU use (`ceil(replicas × usage / target)` outside a 10 %
//! tolerance), stabilizes and limits the result, writes `spec.replicas`, and reports its status
//! and conditions with the real reasons and messages.
//!
//! CPU is the only metric the simulated pods report; other metrics fail the way they do on a
//! cluster without the metrics API that would serve them.

use std::collections::{HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, HorizontalPodAutoscalerStatus,
    MetricSpec, MetricStatus,
};

use super::super::events::{self, Source};
use super::super::store::Store;
use super::{PodMetrics, time};

mod calc;
mod metric;
mod normalize;
#[cfg(test)]
mod tests;

const SOURCE: Source<'static> = Source {
    component: "horizontal-pod-autoscaler",
    host: None,
};

/// `--horizontal-pod-autoscaler-sync-period`.
const SYNC_PERIOD: SignedDuration = SignedDuration::from_secs(15);
/// `--horizontal-pod-autoscaler-downscale-stabilization`.
const DOWNSCALE_WINDOW: i64 = 300;
/// `--horizontal-pod-autoscaler-tolerance`.
const TOLERANCE: f64 = 0.1;
/// `--horizontal-pod-autoscaler-cpu-initialization-period`.
const CPU_INITIALIZATION: SignedDuration = SignedDuration::from_secs(300);
/// `--horizontal-pod-autoscaler-initial-readiness-delay`.
const INITIAL_READINESS_DELAY: SignedDuration = SignedDuration::from_secs(30);

/// What the real controller keeps per HPA between syncs.
#[derive(Debug, Default)]
pub(super) struct HpaMemory {
    last_sync: Option<Timestamp>,
    /// Unstabilized recommendations, for the stabilization windows.
    recommendations: Vec<(Timestamp, i32)>,
    /// Replicas added or removed by recent rescales, for `behavior` rate policies.
    scale_ups: Vec<(Timestamp, i32)>,
    scale_downs: Vec<(Timestamp, i32)>,
}

pub(super) fn reconcile(
    store: &mut Store,
    now: Timestamp,
    metrics: &dyn PodMetrics,
    memory: &mut HashMap<String, HpaMemory>,
) {
    let hpas = store.list::<HorizontalPodAutoscaler>(None);
    let live: HashSet<&str> = hpas
        .iter()
        .filter_map(|h| h.metadata.uid.as_deref())
        .collect();
    memory.retain(|uid, _| live.contains(uid.as_str()));
    for hpa in &hpas {
        let uid = hpa.metadata.uid.clone().unwrap_or_default();
        let mem = memory.entry(uid).or_default();
        if mem.last_sync.is_some_and(|t| now < t + SYNC_PERIOD) {
            continue;
        }
        mem.last_sync = Some(now);
        let status = hpa.status.clone().unwrap_or_default();
        let mut a = Autoscale {
            store,
            now,
            metrics,
            hpa,
            mem,
            status,
        };
        a.run();
        a.write();
    }
}

struct Autoscale<'a> {
    store: &'a mut Store,
    now: Timestamp,
    metrics: &'a dyn PodMetrics,
    hpa: &'a HorizontalPodAutoscaler,
    mem: &'a mut HpaMemory,
    status: HorizontalPodAutoscalerStatus,
}

/// One metric's proposal.
struct Proposal {
    replicas: i32,
    name: String,
    status: MetricStatus,
}

/// A failed metric: the condition reason and the error text.
struct MetricError {
    reason: &'static str,
    message: String,
}

impl Autoscale<'_> {
    fn event(&mut self, type_: &str, reason: &str, message: String) {
        let involved = events::reference(self.hpa, None);
        events::record(
            self.store, self.now, involved, type_, reason, message, SOURCE,
        );
    }

    /// `setCondition`: the transition time moves only when the status does.
    fn condition(&mut self, type_: &str, status: &str, reason: &str, message: String) {
        let list = self.status.conditions.get_or_insert_with(Vec::new);
        let index = match list.iter().position(|c| c.type_ == type_) {
            Some(i) => i,
            None => {
                list.push(HorizontalPodAutoscalerCondition {
                    type_: type_.into(),
                    ..Default::default()
                });
                list.len() - 1
            }
        };
        let c = &mut list[index];
        if c.status != status {
            c.last_transition_time = time(self.now);
        }
        c.status = status.into();
        c.reason = Some(reason.into());
        c.message = Some(message);
    }

    /// `reconcileAutoscaler`.
    fn run(&mut self) {
        let Some(spec) = self.hpa.spec.as_ref() else {
            return;
        };
        let ns = self.hpa.metadata.namespace.as_deref().unwrap_or("");
        let target = &spec.scale_target_ref;
        let group = target
            .api_version
            .as_deref()
            .unwrap_or("")
            .split('/')
            .next()
            .unwrap_or("");
        let deployment = (target.kind == "Deployment" && group == "apps")
            .then(|| self.store.get::<Deployment>(ns, &target.name))
            .flatten();
        let Some(d) = deployment else {
            let err = if target.kind == "Deployment" {
                format!("deployments/scale.apps {:?} not found", target.name)
            } else {
                format!("no matches for kind {:?} in group {group:?}", target.kind)
            };
            self.event("Warning", "FailedGetScale", err.clone());
            let msg =
                format!("the HPA controller was unable to get the target's current scale: {err}");
            self.condition("AbleToScale", "False", "FailedGetScale", msg);
            return;
        };
        let msg = "the HPA controller was able to get the target's current scale".to_string();
        self.condition("AbleToScale", "True", "SucceededGetScale", msg);
        let current = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        if self.mem.recommendations.is_empty() {
            self.mem.recommendations.push((self.now, current));
        }
        let min = spec.min_replicas.unwrap_or(1);
        let max = spec.max_replicas;
        let mut metric_statuses = Vec::new();
        let (desired, reason) = if current == 0 && min != 0 {
            let msg =
                "scaling is disabled since the replica count of the target is zero".to_string();
            self.condition("ScalingActive", "False", "ScalingDisabled", msg);
            (None, String::new())
        } else if current > max {
            (
                Some(max),
                "Current number of replicas above Spec.MaxReplicas".to_string(),
            )
        } else if current < min {
            (
                Some(min),
                "Current number of replicas below Spec.MinReplicas".to_string(),
            )
        } else {
            let Some((proposed, metric, statuses)) = self.compute_replicas(&d, current) else {
                return;
            };
            metric_statuses = statuses;
            let reason = match proposed.cmp(&current) {
                std::cmp::Ordering::Greater => format!("{metric} above target"),
                std::cmp::Ordering::Less => "All metrics below target".to_string(),
                std::cmp::Ordering::Equal => String::new(),
            };
            (Some(self.normalize(current, proposed, min, max)), reason)
        };
        let rescale = desired.filter(|&n| n != current);
        self.status.current_replicas = Some(current);
        self.status.current_metrics = (!metric_statuses.is_empty()).then_some(metric_statuses);
        self.status.desired_replicas = rescale.unwrap_or(current);
        if let Some(n) = rescale {
            let name = d.metadata.name.as_deref().unwrap_or("");
            if self
                .store
                .mutate::<Deployment>(ns, name, |o| {
                    o.spec.get_or_insert_with(Default::default).replicas = Some(n)
                })
                .is_err()
            {
                return;
            }
            let msg = format!("the HPA controller was able to update the target scale to {n}");
            self.condition("AbleToScale", "True", "SucceededRescale", msg);
            self.event(
                "Normal",
                "SuccessfulRescale",
                format!("New size: {n}; reason: {reason}"),
            );
            let change = (self.now, (n - current).abs());
            if spec.behavior.is_some() {
                if n > current {
                    self.mem.scale_ups.push(change);
                } else {
                    self.mem.scale_downs.push(change);
                }
            }
            self.status.last_scale_time = time(self.now);
        }
    }

    /// `computeReplicasForMetrics`: the largest proposal over the valid metrics; `None` when
    /// they all failed (the status then says why).
    fn compute_replicas(
        &mut self,
        d: &Deployment,
        current: i32,
    ) -> Option<(i32, String, Vec<MetricStatus>)> {
        let default_cpu: Vec<MetricSpec> = vec![serde_json::from_value(serde_json::json!({
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}
        }))
        .expect("a valid metric spec")];
        let specs = self
            .hpa
            .spec
            .as_ref()
            .and_then(|s| s.metrics.clone())
            .filter(|m| !m.is_empty())
            .unwrap_or(default_cpu);
        let mut statuses = Vec::with_capacity(specs.len());
        let mut best: Option<(i32, String)> = None;
        let mut invalid = 0;
        let mut first_error = None;
        for spec in &specs {
            match self.metric_replicas(d, spec, current) {
                Ok(p) => {
                    let msg = format!(
                        "the HPA was able to successfully calculate a replica count from {}",
                        p.name
                    );
                    self.condition("ScalingActive", "True", "ValidMetricFound", msg);
                    statuses.push(p.status);
                    if best.as_ref().is_none_or(|(n, _)| p.replicas > *n) {
                        best = Some((p.replicas, p.name));
                    }
                }
                Err(e) => {
                    invalid += 1;
                    statuses.push(MetricStatus::default());
                    self.event("Warning", e.reason, e.message.clone());
                    let msg = format!(
                        "the HPA was unable to compute the replica count: {}",
                        e.message
                    );
                    self.condition("ScalingActive", "False", e.reason, msg);
                    let kind = spec.type_.to_lowercase();
                    let what = match spec.resource.as_ref() {
                        Some(r) => format!("{} resource", r.name),
                        None => kind,
                    };
                    first_error
                        .get_or_insert(format!("failed to get {what} metric value: {}", e.message));
                }
            }
        }
        // As the real controller: a failed metric blocks scaling down, since it might have
        // wanted more replicas than the valid ones do.
        let proposed = best.as_ref().map_or(-1, |(n, _)| *n);
        if invalid > 0 && (invalid >= specs.len() || proposed < current) {
            let msg = format!(
                "invalid metrics ({invalid} invalid out of {}), first error is: {}",
                specs.len(),
                first_error.unwrap_or_default()
            );
            // The desired count stays what it was, as `setCurrentReplicasAndMetricsInStatus` keeps it.
            self.status.current_replicas = Some(current);
            self.status.current_metrics = Some(statuses);
            self.event("Warning", "FailedComputeMetricsReplicas", msg);
            return None;
        }
        best.map(|(n, name)| (n, name, statuses))
    }

    fn write(self) {
        if self.hpa.status.as_ref() == Some(&self.status) {
            return;
        }
        let (ns, name) = (
            self.hpa.metadata.namespace.as_deref().unwrap_or(""),
            self.hpa.metadata.name.as_deref().unwrap_or(""),
        );
        let status = self.status;
        let _ = self
            .store
            .mutate::<HorizontalPodAutoscaler>(ns, name, |h| h.status = Some(status));
    }
}
