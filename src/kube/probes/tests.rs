//! Probe states from pod rows and Unhealthy events, one case at a time.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::kube::rows::{Health, ObjKey};

fn now() -> Timestamp {
    "2025-03-01T12:00:00Z".parse().unwrap()
}

fn ago(secs: i64) -> Timestamp {
    now() - SignedDuration::from_secs(secs)
}

fn spec(period: u32, threshold: u32) -> ProbeSpec {
    ProbeSpec {
        handler: "HTTP GET :8080/healthz".into(),
        period_seconds: period,
        failure_threshold: threshold,
        initial_delay_seconds: 0,
        timeout_seconds: 1,
    }
}

fn container(state: &str, ready: bool, started: Option<bool>) -> ContainerRow {
    ContainerRow {
        name: "app".into(),
        image: "web:1".into(),
        ready,
        started,
        state: state.into(),
        ..Default::default()
    }
}

fn pod(containers: Vec<ContainerRow>) -> PodRow {
    PodRow {
        key: ObjKey::new("shop", "web-1"),
        workload: Some("web".into()),
        replicaset: None,
        labels: BTreeMap::new(),
        ready: (0, 1),
        status: "Running".into(),
        health: Health::Ok,
        restarts: 0,
        last_restart: None,
        node: "node-1".into(),
        created: None,
        deleting: false,
        containers,
        scrape: Default::default(),
    }
}

fn unhealthy(message: &str, count: u32, last: Timestamp) -> EventRow {
    EventRow {
        key: ObjKey::new("shop", format!("web-1.{count}")),
        warning: true,
        reason: "Unhealthy".into(),
        message: message.into(),
        object_kind: "Pod".into(),
        object_name: "web-1".into(),
        count,
        first: Some(last - SignedDuration::from_secs(600)),
        last: Some(last),
        source: "kubelet".into(),
    }
}

#[test]
fn nothing_configured() {
    let p = pod(vec![container("Running", true, Some(true))]);
    assert_eq!(probes(&p, &[], now()), Probes::default());
}

#[test]
fn readiness_passing_failing_and_not_running() {
    let with = |state: &str, ready: bool, started: Option<bool>| {
        let mut c = container(state, ready, started);
        c.readiness = Some(spec(5, 3));
        pod(vec![c])
    };
    assert_eq!(
        probes(&with("Running", true, Some(true)), &[], now()).readiness,
        ProbeState::Passing
    );
    // Not ready, no event seen yet.
    assert_eq!(
        probes(&with("Running", false, Some(true)), &[], now()).readiness,
        ProbeState::Failing {
            count: 0,
            message: "not ready".into(),
            last: None
        }
    );
    // The newest readiness event tells why.
    let old = unhealthy("Readiness probe failed: connection refused", 3, ago(300));
    let new = unhealthy(
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
        7,
        ago(5),
    );
    let live = unhealthy("Liveness probe failed: timeout", 9, ago(1));
    assert_eq!(
        probes(
            &with("Running", false, Some(true)),
            &[&old, &live, &new],
            now()
        )
        .readiness,
        ProbeState::Failing {
            count: 7,
            message: "Readiness probe failed: HTTP probe failed with statuscode: 503".into(),
            last: Some(ago(5))
        }
    );
    // "errored" counts as failing too.
    let errored = unhealthy(
        "Readiness probe errored: rpc error: code = Unknown",
        2,
        ago(3),
    );
    assert!(matches!(
        probes(&with("Running", false, None), &[&errored], now()).readiness,
        ProbeState::Failing { count: 2, .. }
    ));
    assert_eq!(
        probes(
            &with("Waiting: CrashLoopBackOff", false, Some(false)),
            &[&new],
            now()
        )
        .readiness,
        ProbeState::NotRunning
    );
    // Before the startup probe passes the kubelet does not run readiness.
    assert_eq!(
        probes(&with("Running", false, Some(false)), &[&new], now()).readiness,
        ProbeState::NotRunning
    );
}

#[test]
fn events_about_other_pods_or_reasons_do_not_count() {
    let mut c = container("Running", false, Some(true));
    c.readiness = Some(spec(5, 3));
    let p = pod(vec![c]);
    let mut other_pod = unhealthy("Readiness probe failed: 503", 4, ago(1));
    other_pod.object_name = "web-2".into();
    let mut other_ns = unhealthy("Readiness probe failed: 503", 5, ago(1));
    other_ns.key.namespace = "staging".into();
    let mut other_reason = unhealthy("Readiness probe failed: 503", 6, ago(1));
    other_reason.reason = "BackOff".into();
    let unrelated = unhealthy("Probe of something else failed: x", 8, ago(1));
    assert_eq!(
        probes(
            &p,
            &[&other_pod, &other_ns, &other_reason, &unrelated],
            now()
        )
        .readiness,
        ProbeState::Failing {
            count: 0,
            message: "not ready".into(),
            last: None
        }
    );
}

#[test]
fn liveness_fails_only_while_the_failure_is_recent() {
    let mut c = container("Running", true, Some(true));
    c.liveness = Some(spec(10, 3)); // news for 10 × (3 + 1) = 40 s
    let p = pod(vec![c]);
    let recent = unhealthy(
        "Liveness probe failed: HTTP probe failed with statuscode: 500",
        2,
        ago(40),
    );
    assert_eq!(
        probes(&p, &[&recent], now()).liveness,
        ProbeState::Failing {
            count: 2,
            message: "Liveness probe failed: HTTP probe failed with statuscode: 500".into(),
            last: Some(ago(40))
        }
    );
    let old = unhealthy(
        "Liveness probe failed: HTTP probe failed with statuscode: 500",
        2,
        ago(41),
    );
    assert_eq!(probes(&p, &[&old], now()).liveness, ProbeState::Passing);
    assert_eq!(probes(&p, &[], now()).liveness, ProbeState::Passing);

    // Killed for failing liveness and waiting to restart: still news, and the reason why.
    let mut dead = container("Waiting: CrashLoopBackOff", false, Some(false));
    dead.liveness = Some(spec(10, 3));
    let p = pod(vec![dead]);
    assert!(matches!(
        probes(&p, &[&recent], now()).liveness,
        ProbeState::Failing { .. }
    ));
    assert_eq!(probes(&p, &[&old], now()).liveness, ProbeState::NotRunning);
}

#[test]
fn startup_passes_once_started() {
    let with = |state: &str, started: Option<bool>| {
        let mut c = container(state, false, started);
        c.startup = Some(spec(10, 30));
        pod(vec![c])
    };
    let failed = unhealthy(
        "Startup probe failed: HTTP probe failed with statuscode: 503",
        5,
        ago(2),
    );
    assert_eq!(
        probes(&with("Running", Some(true)), &[&failed], now()).startup,
        ProbeState::Passing
    );
    assert_eq!(
        probes(&with("Running", Some(false)), &[&failed], now()).startup,
        ProbeState::Failing {
            count: 5,
            message: "Startup probe failed: HTTP probe failed with statuscode: 503".into(),
            last: Some(ago(2))
        }
    );
    assert_eq!(
        probes(&with("Running", Some(false)), &[], now()).startup,
        ProbeState::NotRunning
    );
    assert_eq!(
        probes(&with("Waiting: ContainerCreating", None), &[], now()).startup,
        ProbeState::NotRunning
    );
}

#[test]
fn the_worst_container_wins() {
    let mut a = container("Running", true, Some(true));
    a.readiness = Some(spec(5, 3));
    let mut b = container("Running", false, Some(true));
    b.name = "sidecar".into();
    b.readiness = Some(spec(5, 3));
    let mut c = container("Waiting: CrashLoopBackOff", false, Some(false));
    c.name = "third".into();
    c.readiness = Some(spec(5, 3));
    assert!(matches!(
        probes(&pod(vec![a.clone(), b]), &[], now()).readiness,
        ProbeState::Failing { .. }
    ));
    assert_eq!(
        probes(&pod(vec![a, c]), &[], now()).readiness,
        ProbeState::NotRunning
    );
}
