//! How the HPA turns a metric's proposal into the size it writes, after `horizontal.go`:
//! stabilization windows over recent recommendations, then min/max and the scale-rate limits.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::autoscaling::v2::HPAScalingRules;

use super::{Autoscale, DOWNSCALE_WINDOW};

impl Autoscale<'_> {
    /// `normalizeDesiredReplicas` (no `behavior`) or `normalizeDesiredReplicasWithBehaviors`.
    pub(super) fn normalize(&mut self, current: i32, proposed: i32, min: i32, max: i32) -> i32 {
        let behavior = self.hpa.spec.as_ref().and_then(|s| s.behavior.as_ref());
        let (up, down) = (
            behavior.and_then(|b| b.scale_up.as_ref()),
            behavior.and_then(|b| b.scale_down.as_ref()),
        );
        let down_window = down
            .and_then(|r| r.stabilization_window_seconds)
            .map_or(DOWNSCALE_WINDOW, i64::from);
        let stabilized = match behavior {
            None => self.stabilize(proposed, down_window),
            Some(_) => {
                let up_window = up.and_then(|r| r.stabilization_window_seconds).unwrap_or(0);
                self.stabilize_with_behavior(current, proposed, i64::from(up_window), down_window)
            }
        };
        if stabilized == proposed {
            self.condition(
                "AbleToScale",
                "True",
                "ReadyForNewScale",
                "recommended size matches current size".into(),
            );
        } else if behavior.is_some() && proposed >= current {
            let msg = "recent recommendations were lower than current one, applying the lowest recent recommendation";
            self.condition("AbleToScale", "True", "ScaleUpStabilized", msg.into());
        } else {
            let msg = "recent recommendations were higher than current one, applying the highest recent recommendation";
            self.condition("AbleToScale", "True", "ScaleDownStabilized", msg.into());
        }
        let (desired, reason, message) = match behavior {
            None => limit_without_behavior(current, stabilized, min, max),
            Some(_) => self.limit_with_behavior(current, stabilized, min, max, up, down),
        };
        let limited = if desired == stabilized {
            "False"
        } else {
            "True"
        };
        self.condition("ScalingLimited", limited, reason, message.into());
        desired
    }

    /// Records a recommendation, reusing the slot of one that aged out of every window.
    fn remember(&mut self, stale: Option<usize>, proposed: i32) {
        let entry = (self.now, proposed);
        match stale {
            Some(i) => self.mem.recommendations[i] = entry,
            None => self.mem.recommendations.push(entry),
        }
    }

    /// `stabilizeRecommendation`: the highest recommendation of the downscale window, so a short
    /// dip does not remove pods that will be needed again at once.
    fn stabilize(&mut self, proposed: i32, window: i64) -> i32 {
        let cutoff = self.now - SignedDuration::from_secs(window);
        let mut highest = proposed;
        let mut stale = None;
        for (i, &(at, n)) in self.mem.recommendations.iter().enumerate() {
            if at < cutoff {
                stale = Some(i);
            } else {
                highest = highest.max(n);
            }
        }
        self.remember(stale, proposed);
        highest
    }

    /// `stabilizeRecommendationWithBehaviors`: the current size, raised to the lowest
    /// recommendation of the scale-up window and lowered to the highest of the scale-down window.
    fn stabilize_with_behavior(
        &mut self,
        current: i32,
        proposed: i32,
        up_window: i64,
        down_window: i64,
    ) -> i32 {
        let up_cutoff = self.now - SignedDuration::from_secs(up_window);
        let down_cutoff = self.now - SignedDuration::from_secs(down_window);
        let (mut up, mut down) = (proposed, proposed);
        let mut stale = None;
        for (i, &(at, n)) in self.mem.recommendations.iter().enumerate() {
            if at > up_cutoff {
                up = up.min(n);
            }
            if at > down_cutoff {
                down = down.max(n);
            }
            if at < up_cutoff && at < down_cutoff {
                stale = Some(i);
            }
        }
        self.remember(stale, proposed);
        current.max(up).min(down)
    }

    /// `convertDesiredReplicasWithBehaviorRate`: the scale rate policies, then min/max.
    fn limit_with_behavior(
        &mut self,
        current: i32,
        desired: i32,
        min: i32,
        max: i32,
        up: Option<&HPAScalingRules>,
        down: Option<&HPAScalingRules>,
    ) -> (i32, &'static str, &'static str) {
        let now = self.now;
        let longest = |rules: Option<&HPAScalingRules>| {
            rules
                .and_then(|r| r.policies.as_ref())
                .into_iter()
                .flatten()
                .map(|p| i64::from(p.period_seconds))
                .max()
                .unwrap_or(15)
        };
        let (up_keep, down_keep) = (longest(up), longest(down));
        self.mem
            .scale_ups
            .retain(|(t, _)| *t + SignedDuration::from_secs(up_keep) > now);
        self.mem
            .scale_downs
            .retain(|(t, _)| *t + SignedDuration::from_secs(down_keep) > now);
        let changed_within = |events: &[(Timestamp, i32)], period: i32| -> i32 {
            let since = now - SignedDuration::from_secs(period.into());
            events
                .iter()
                .filter(|(t, _)| *t > since)
                .map(|(_, n)| n)
                .sum()
        };
        if desired > current {
            let limit = rate_limit(
                up,
                current,
                |period| current - changed_within(&self.mem.scale_ups, period),
                true,
            )
            .max(current);
            let (allowed, reason, message) = if max > limit {
                (
                    limit,
                    "ScaleUpLimit",
                    "the desired replica count is increasing faster than the maximum scale rate",
                )
            } else {
                (
                    max,
                    "TooManyReplicas",
                    "the desired replica count is more than the maximum replica count",
                )
            };
            if desired > allowed {
                return (allowed, reason, message);
            }
        } else if desired < current {
            let limit = rate_limit(
                down,
                current,
                |period| current + changed_within(&self.mem.scale_downs, period),
                false,
            )
            .min(current);
            let (allowed, reason, message) = if min < limit {
                (
                    limit,
                    "ScaleDownLimit",
                    "the desired replica count is decreasing faster than the maximum scale rate",
                )
            } else {
                (
                    min,
                    "TooFewReplicas",
                    "the desired replica count is less than the minimum replica count",
                )
            };
            if desired < allowed {
                return (allowed, reason, message);
            }
        }
        (
            desired,
            "DesiredWithinRange",
            "the desired count is within the acceptable range",
        )
    }
}

/// `convertDesiredReplicasWithRules`: min/max, and at most doubling (or 4) per step.
fn limit_without_behavior(
    current: i32,
    desired: i32,
    min: i32,
    max: i32,
) -> (i32, &'static str, &'static str) {
    let scale_up_limit = (2 * current).max(4);
    let (maximum, reason, message) = if max > scale_up_limit {
        (
            scale_up_limit,
            "ScaleUpLimit",
            "the desired replica count is increasing faster than the maximum scale rate",
        )
    } else {
        (
            max,
            "TooManyReplicas",
            "the desired replica count is more than the maximum replica count",
        )
    };
    if desired < min {
        return (
            min,
            "TooFewReplicas",
            "the desired replica count is less than the minimum replica count",
        );
    }
    if desired > maximum {
        return (maximum, reason, message);
    }
    (
        desired,
        "DesiredWithinRange",
        "the desired count is within the acceptable range",
    )
}

/// `calculateScaleUpLimitWithScalingRules` / `calculateScaleDownLimitWithBehaviors`, with the
/// defaults the API server fills into a `behavior` (up: 4 pods or 100 % per 15 s; down: 100 %).
fn rate_limit(
    rules: Option<&HPAScalingRules>,
    current: i32,
    period_start: impl Fn(i32) -> i32,
    up: bool,
) -> i32 {
    let select = rules
        .and_then(|r| r.select_policy.as_deref())
        .unwrap_or("Max");
    if select == "Disabled" {
        return current;
    }
    let defaults: Vec<(String, i32, i32)> = if up {
        vec![("Pods".into(), 4, 15), ("Percent".into(), 100, 15)]
    } else {
        vec![("Percent".into(), 100, 15)]
    };
    let policies: Vec<(String, i32, i32)> = rules
        .and_then(|r| r.policies.as_ref())
        .map(|ps| {
            ps.iter()
                .map(|p| (p.type_.clone(), p.value, p.period_seconds))
                .collect()
        })
        .unwrap_or(defaults);
    // "Max" picks the policy allowing the biggest change: the highest limit up, the lowest down.
    let biggest_change = select != "Min";
    let mut result: Option<i32> = None;
    for (kind, value, period) in policies {
        let start = period_start(period);
        let proposed = match (kind.as_str(), up) {
            ("Pods", true) => start + value,
            ("Pods", false) => start - value,
            (_, true) => (f64::from(start) * (1.0 + f64::from(value) / 100.0)).ceil() as i32,
            (_, false) => (f64::from(start) * (1.0 - f64::from(value) / 100.0)) as i32,
        };
        result = Some(match result {
            None => proposed,
            Some(r) if up == biggest_change => r.max(proposed),
            Some(r) => r.min(proposed),
        });
    }
    result.unwrap_or(current)
}
