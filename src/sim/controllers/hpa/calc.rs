//! The replica calculator, after `replica_calculator.go`: groups the target's pods, computes the
//! usage ratio against the target and proposes a replica count.

use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::{CPU_INITIALIZATION, INITIAL_READINESS_DELAY, TOLERANCE};

/// One pod's CPU request and use, in millicores.
pub(super) struct Sample {
    pub(super) request: i64,
    pub(super) usage: Option<i64>,
}

#[derive(Clone, Copy)]
pub(super) enum Goal {
    Utilization(i32),
    AverageMillis(i64),
}

pub(super) struct Outcome {
    pub(super) replicas: i32,
    pub(super) utilization: i32,
    pub(super) average: i64,
}

/// How a pod counts: ignored (going away), unready (not counted yet), missing (no metric) or ready.
#[derive(PartialEq)]
enum Group {
    Ignored,
    Unready,
    Missing,
    Ready,
}

/// `groupPods`: CPU samples of pods still starting up are not trusted.
fn group(pod: &Pod, sample: &Sample, now: Timestamp) -> Group {
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref());
    if pod.metadata.deletion_timestamp.is_some() || phase == Some("Failed") {
        return Group::Ignored;
    }
    if phase == Some("Pending") {
        return Group::Unready;
    }
    if sample.usage.is_none() {
        return Group::Missing;
    }
    let ready = status
        .and_then(|s| s.conditions.as_deref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "Ready");
    let start = status.and_then(|s| s.start_time.as_ref()).map(|t| t.0);
    let (Some(ready), Some(start)) = (ready, start) else {
        return Group::Unready;
    };
    let transition = ready.last_transition_time.as_ref().map_or(start, |t| t.0);
    let unready = if start + CPU_INITIALIZATION > now {
        ready.status == "False"
    } else {
        ready.status == "False" && start + INITIAL_READINESS_DELAY > transition
    };
    if unready {
        Group::Unready
    } else {
        Group::Ready
    }
}

/// `GetResourceReplicas`: the usage ratio over ready pods, then a second look that assumes the
/// worst for missing and unready pods, so their absence never drives a scale in the wrong direction.
pub(super) fn replica_count(
    pods: &[Arc<Pod>],
    samples: &[Sample],
    goal: Goal,
    current: i32,
    now: Timestamp,
) -> Result<Outcome, String> {
    if pods.is_empty() {
        return Err("no pods returned by selector while calculating replica count".into());
    }
    let groups: Vec<Group> = pods
        .iter()
        .zip(samples)
        .map(|(p, s)| group(p, s, now))
        .collect();
    let ready_count = groups.iter().filter(|g| **g == Group::Ready).count() as i32;
    let ratio_of = |usages: &[(i64, i64)]| -> Option<(f64, i32, i64)> {
        let (used, requested): (i64, i64) =
            usages.iter().fold((0, 0), |(u, r), (a, b)| (u + a, r + b));
        if usages.is_empty() || requested == 0 {
            return None;
        }
        let average = used / usages.len() as i64;
        match goal {
            Goal::Utilization(target) => {
                let utilization = (used * 100 / requested) as i32;
                Some((
                    f64::from(utilization) / f64::from(target.max(1)),
                    utilization,
                    average,
                ))
            }
            Goal::AverageMillis(target) => {
                Some((average as f64 / target.max(1) as f64, 0, average))
            }
        }
    };
    let ready: Vec<(i64, i64)> = samples
        .iter()
        .zip(&groups)
        .filter(|(_, g)| **g == Group::Ready)
        .map(|(s, _)| (s.usage.unwrap_or(0), s.request))
        .collect();
    let Some((ratio, utilization, average)) = ratio_of(&ready) else {
        return Err("did not receive metrics for targeted pods (pods might be unready)".into());
    };
    let has_unready = groups.contains(&Group::Unready);
    let has_missing = groups.contains(&Group::Missing);
    let scale_up_with_unready = has_unready && ratio > 1.0;
    let result = |replicas| Outcome {
        replicas,
        utilization,
        average,
    };
    if !scale_up_with_unready && !has_missing {
        if (1.0 - ratio).abs() <= TOLERANCE {
            return Ok(result(current));
        }
        return Ok(result((ratio * f64::from(ready_count)).ceil() as i32));
    }
    let mut rebalanced = ready;
    for (s, g) in samples.iter().zip(&groups) {
        let usage = match g {
            // On a scale-down a silent pod is taken to use its full share, on a scale-up none.
            Group::Missing if ratio < 1.0 => match goal {
                Goal::Utilization(target) => s.request * i64::from(target.max(100)) / 100,
                Goal::AverageMillis(target) => target,
            },
            Group::Missing if ratio > 1.0 => 0,
            Group::Unready if scale_up_with_unready => 0,
            _ => continue,
        };
        rebalanced.push((usage, s.request));
    }
    let Some((new_ratio, _, _)) = ratio_of(&rebalanced) else {
        return Ok(result(current));
    };
    if (1.0 - new_ratio).abs() <= TOLERANCE
        || (ratio < 1.0 && new_ratio > 1.0)
        || (ratio > 1.0 && new_ratio < 1.0)
    {
        return Ok(result(current));
    }
    let replicas = (new_ratio * rebalanced.len() as f64).ceil() as i32;
    if (new_ratio < 1.0 && replicas > current) || (new_ratio > 1.0 && replicas < current) {
        return Ok(result(current));
    }
    Ok(result(replicas))
}

/// `resource.NewMilliQuantity(v, DecimalSI)` as a string: `250m`, `2`.
pub(super) fn millis(v: i64) -> Quantity {
    Quantity(if v % 1000 == 0 {
        (v / 1000).to_string()
    } else {
        format!("{v}m")
    })
}
