//! Plays a fleet file's scenario on a running fleet, in simulated time: each step acts through
//! the faults of [`super::faults`], so what it does shows through the API as a real failure would.

use std::sync::{Arc, Weak};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::fleet::RunningFleet;
use super::fleetfile::{Action, Scenario, Step};

/// The steps of a scenario not played yet.
#[derive(Clone, Debug)]
pub struct Timeline {
    steps: Vec<Step>,
    next: usize,
    start: Timestamp,
}

impl Timeline {
    /// `scenario`'s steps, timed from `start` (when the fleet started).
    pub fn new(scenario: &Scenario, start: Timestamp) -> Self {
        let mut steps = scenario.steps.clone();
        // Stable: steps at the same time keep the file's order.
        steps.sort_by_key(|s| s.at);
        Self {
            steps,
            next: 0,
            start,
        }
    }

    /// When the next step is due; None when every step has been played.
    pub fn next_at(&self) -> Option<Timestamp> {
        let step = self.steps.get(self.next)?;
        Some(self.start.checked_add(step.at).unwrap_or(Timestamp::MAX))
    }

    /// The steps due by `now`, each handed out once, in order.
    pub fn due(&mut self, now: Timestamp) -> Vec<Step> {
        let mut out = Vec::new();
        while self.next_at().is_some_and(|t| t <= now) {
            out.push(self.steps[self.next].clone());
            self.next += 1;
        }
        out
    }
}

/// What a step did on one cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub cluster: String,
    pub result: Result<String, String>,
}

/// Plays `step` on each of its clusters now. An unreachable cluster comes back by itself after
/// the step's duration (a task holding only a weak reference, so it never keeps a stopped fleet
/// alive).
pub fn apply(fleet: &Arc<RunningFleet>, step: &Step) -> Vec<Outcome> {
    step.clusters
        .iter()
        .map(|name| Outcome {
            cluster: name.clone(),
            result: apply_one(fleet, name, &step.action),
        })
        .collect()
}

fn apply_one(fleet: &Arc<RunningFleet>, name: &str, action: &Action) -> Result<String, String> {
    let rc = fleet
        .cluster(name)
        .ok_or_else(|| format!("no cluster {name} in this fleet"))?;
    let now = rc.cluster.now();
    match action {
        Action::SetImage {
            namespace,
            deployment,
            container,
            image,
        } => {
            rc.set_image(namespace, deployment, Some(container), image)?;
            Ok(format!(
                "deployment {namespace}/{deployment} now runs {image}"
            ))
        }
        Action::CrashPod { namespace, target } => {
            let pod = rc.crash_pod(namespace, target)?;
            Ok(format!("killed pod {pod}"))
        }
        Action::FailDependency { .. } | Action::AddLatency { .. } | Action::AddErrors { .. } => {
            let fault = action
                .world_fault(now)
                .ok_or_else(|| "not a fault of the apps' world".to_string())?;
            rc.world.add(fault);
            Ok("in effect".into())
        }
        Action::Unreachable { duration } => {
            rc.server.stop();
            if let Some(d) = *duration {
                let weak = Arc::downgrade(fleet);
                let real = rc.cluster.clock.real_duration(d.unsigned_abs());
                tokio::spawn(come_back(weak, name.to_string(), real));
            }
            Ok(format!("refusing connections at {}", rc.server.url()))
        }
        Action::SlowApi { extra, duration } => {
            let span = duration.unwrap_or(SignedDuration::MAX);
            rc.slow_api(extra.unsigned_abs(), span);
            Ok("in effect".into())
        }
        Action::DropWatches => {
            rc.cluster.drop_watches();
            Ok("watches ended".into())
        }
    }
}

async fn come_back(fleet: Weak<RunningFleet>, name: String, after: Duration) {
    tokio::time::sleep(after).await;
    let Some(fleet) = fleet.upgrade() else { return };
    if let Some(rc) = fleet.cluster(&name)
        && let Err(e) = rc.come_back().await
    {
        eprintln!(
            "watchfloor demo: cluster {name} could not take back {}: {e}",
            rc.server.addr
        );
    }
}

/// Plays `scenario` from the fleet's start until its last step, reporting every step's outcomes.
pub async fn play(
    fleet: Arc<RunningFleet>,
    scenario: Scenario,
    mut report: impl FnMut(&Step, &[Outcome]) + Send + 'static,
) {
    let mut timeline = Timeline::new(&scenario, fleet.started_at);
    while let Some(next) = timeline.next_at() {
        let now = fleet.clock.now();
        if next > now {
            let wait = fleet
                .clock
                .real_duration(next.duration_since(now).unsigned_abs());
            // Wake at least twice a second: a manual clock (tests) moves without us sleeping.
            tokio::time::sleep(wait.min(Duration::from_millis(500))).await;
            continue;
        }
        for step in timeline.due(now) {
            let outcomes = apply(&fleet, &step);
            report(&step, &outcomes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fleetfile;

    #[test]
    fn steps_come_due_once_in_time_order() {
        let fleet = fleetfile::builtin();
        let scenario = fleet.scenario("incident").expect("incident");
        let start = Timestamp::from_second(1_790_000_000).unwrap();
        let mut tl = Timeline::new(scenario, start);
        assert_eq!(tl.next_at(), Some(start + scenario.steps[0].at));
        assert!(tl.due(start).is_empty());
        let first = tl.due(start + SignedDuration::from_secs(20));
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].action.key(), "set-image");
        assert!(tl.due(start + SignedDuration::from_secs(20)).is_empty());
        let rest = tl.due(start + SignedDuration::from_hours(1));
        assert_eq!(rest.len(), scenario.steps.len() - 1);
        assert!(rest.windows(2).all(|w| w[0].at <= w[1].at));
        assert_eq!(tl.next_at(), None);
    }
}
