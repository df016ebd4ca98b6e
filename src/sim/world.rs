//! What the fault timeline changes outside the Kubernetes objects: extra error rates and latency
//! of an app, and dependencies (a database, a cache) that are down.
//!
//! Apps stay pure functions of time: every fault is a window `[from, until)` of simulated time,
//! so an app can integrate its counters over the windows (`http_requests_total` stays monotonic
//! and agrees with the error rate at every instant) and the same seed and timeline give the same
//! answers whenever they are asked. One `World` per cluster: a fault in prod-westus stays there.

use std::sync::RwLock;

use jiff::{SignedDuration, Timestamp};

/// What a fault applies to: the pods of one app (their `app` label) in one namespace, a
/// dependency known by its service name in that namespace, or (for a crash) one container of a
/// pod, named `<pod>/<container>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub namespace: String,
    pub name: String,
}

impl Target {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    fn is(&self, namespace: &str, name: &str) -> bool {
        self.namespace == namespace && self.name == name
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultKind {
    /// This fraction of the app's requests fail with a 5xx (on top of its own error rate).
    Errors { rate: f64 },
    /// Every request of the app takes this much longer.
    Latency { extra: SignedDuration },
    /// The dependency is down: apps that depend on it fail readiness with it in error, and its
    /// own pods report it (`pg_up 0`, `redis_up 0`).
    DependencyDown,
    /// The target is one container of a pod (name `<pod>/<container>`): the instance running
    /// at `from` dies then.
    Crash,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub target: Target,
    pub kind: FaultKind,
    pub from: Timestamp,
    /// None: until the end of the run.
    pub until: Option<Timestamp>,
}

impl Fault {
    /// Whether the fault is in effect at `t`.
    pub fn active_at(&self, t: Timestamp) -> bool {
        self.from <= t && self.until.is_none_or(|u| t < u)
    }

    /// How long the fault overlaps `[from, to)`.
    pub fn overlap(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        let lo = from.max(self.from);
        let hi = match self.until {
            Some(u) => to.min(u),
            None => to,
        };
        if hi > lo {
            hi.duration_since(lo)
        } else {
            SignedDuration::ZERO
        }
    }
}

/// The faults of one cluster.
#[derive(Debug, Default)]
pub struct World {
    faults: RwLock<Vec<Fault>>,
}

impl World {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&self, fault: Fault) {
        self.faults
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(fault);
    }

    /// Every fault on the app or dependency `name` in `namespace`, in the order they were added.
    pub fn faults_on(&self, namespace: &str, name: &str) -> Vec<Fault> {
        self.faults
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|f| f.target.is(namespace, name))
            .cloned()
            .collect()
    }

    /// The extra 5xx fraction of the app at `t` (the largest of the active error faults).
    pub fn error_rate(&self, namespace: &str, app: &str, t: Timestamp) -> f64 {
        self.faults_on(namespace, app)
            .iter()
            .filter(|f| f.active_at(t))
            .filter_map(|f| match f.kind {
                FaultKind::Errors { rate } => Some(rate),
                _ => None,
            })
            .fold(0.0, f64::max)
    }

    /// The extra latency of the app at `t` (the active latency faults add up).
    pub fn extra_latency(&self, namespace: &str, app: &str, t: Timestamp) -> SignedDuration {
        self.faults_on(namespace, app)
            .iter()
            .filter(|f| f.active_at(t))
            .filter_map(|f| match f.kind {
                FaultKind::Latency { extra } => Some(extra),
                _ => None,
            })
            .fold(SignedDuration::ZERO, |a, b| a.saturating_add(b))
    }

    /// Whether the dependency `name` in `namespace` is down at `t`.
    pub fn dependency_down(&self, namespace: &str, name: &str, t: Timestamp) -> bool {
        self.faults_on(namespace, name)
            .iter()
            .any(|f| f.kind == FaultKind::DependencyDown && f.active_at(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    #[test]
    fn faults_apply_to_their_target_inside_their_window() {
        let w = World::new();
        w.add(Fault {
            target: Target::new("shop", "api"),
            kind: FaultKind::Errors { rate: 0.2 },
            from: at(10),
            until: Some(at(70)),
        });
        w.add(Fault {
            target: Target::new("shop", "postgres"),
            kind: FaultKind::DependencyDown,
            from: at(30),
            until: None,
        });
        assert_eq!(w.error_rate("shop", "api", at(9)), 0.0);
        assert_eq!(w.error_rate("shop", "api", at(10)), 0.2);
        assert_eq!(w.error_rate("shop", "api", at(70)), 0.0);
        assert_eq!(w.error_rate("other", "api", at(20)), 0.0);
        assert!(!w.dependency_down("shop", "postgres", at(29)));
        assert!(w.dependency_down("shop", "postgres", at(10_000)));
        let f = &w.faults_on("shop", "api")[0];
        assert_eq!(f.overlap(at(0), at(40)), SignedDuration::from_secs(30));
        assert_eq!(f.overlap(at(80), at(90)), SignedDuration::ZERO);
    }
}
