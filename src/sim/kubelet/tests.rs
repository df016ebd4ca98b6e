//! Pure kubelet tests: a store, a manual clock, pods bound to a node, ticks, and assertions on
//! status, conditions and events over simulated time.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{ContainerStatus, Event, Namespace, Node, Pod, PodCondition};
use serde_json::{Value, json};

use super::Kubelet;
use crate::sim::app::{App, AppRequest, AppResponse, DefaultApp, PodView, Unreachable};
use crate::sim::clock::SimClock;
use crate::sim::cluster::{Cluster, ClusterSpec};
use crate::sim::controllers::PodMetrics;
use crate::sim::store::Store;

pub(crate) struct Harness {
    pub store: Store,
    pub kubelet: Kubelet,
    pub clock: SimClock,
}

pub(crate) fn t0() -> Timestamp {
    "2026-11-22T01:00:00Z".parse().unwrap()
}

impl Harness {
    pub fn new(app: Arc<dyn App>) -> Self {
        let clock = SimClock::manual(t0());
        let mut store = Store::new(1);
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "shop"}})).unwrap();
        store.create(ns, t0()).unwrap();
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": "node-1"},
            "spec": {"podCIDR": "10.244.1.0/24"},
            "status": {"addresses": [{"type": "InternalIP", "address": "172.18.0.3"}]}
        }))
        .unwrap();
        store.create(node, t0()).unwrap();
        Self {
            store,
            kubelet: Kubelet::new(app, 7),
            clock,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Creates a pod bound to node-1 with the given containers and extra spec fields.
    pub fn pod(&mut self, name: &str, containers: Value, spec: Value) -> Arc<Pod> {
        let mut s = json!({"nodeName": "node-1", "containers": containers});
        s.as_object_mut()
            .unwrap()
            .extend(spec.as_object().cloned().unwrap_or_default());
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "shop", "labels": {"app": "web"}},
            "spec": s
        }))
        .unwrap();
        let now = self.now();
        self.store.create(pod, now).unwrap().obj()
    }

    pub fn tick(&mut self) {
        let now = self.now();
        self.kubelet.tick(&mut self.store, now);
    }

    /// Ticks every 100 ms for `secs` simulated seconds, as the cluster loop does.
    pub fn run(&mut self, secs: f64) {
        for _ in 0..(secs * 10.0).round() as i64 {
            self.clock.advance(SignedDuration::from_millis(100));
            self.tick();
        }
    }

    /// Runs until `f` holds (at most `secs`), returning the time it first held.
    pub fn run_until(&mut self, secs: f64, mut f: impl FnMut(&Self) -> bool) -> Timestamp {
        for _ in 0..(secs * 10.0) as i64 {
            self.clock.advance(SignedDuration::from_millis(100));
            self.tick();
            if f(self) {
                return self.now();
            }
        }
        panic!("condition not reached within {secs}s");
    }

    pub fn get(&self, name: &str) -> Option<Arc<Pod>> {
        self.store.get::<Pod>("shop", name)
    }

    pub fn container(&self, name: &str) -> ContainerStatus {
        self.get(name)
            .unwrap()
            .status
            .clone()
            .unwrap()
            .container_statuses
            .unwrap()[0]
            .clone()
    }

    pub fn condition(&self, name: &str, type_: &str) -> PodCondition {
        let status = self.get(name).unwrap().status.clone().unwrap();
        status
            .conditions
            .unwrap()
            .into_iter()
            .find(|c| c.type_ == type_)
            .unwrap()
    }

    /// `(reason, message, count)` of the pod's events, oldest first.
    pub fn events(&self, name: &str) -> Vec<(String, String, i32)> {
        let mut events: Vec<Arc<Event>> = self
            .store
            .list::<Event>(Some("shop"))
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(name))
            .collect();
        events.sort_by_key(|e| e.first_timestamp.as_ref().map(|t| t.0));
        events
            .iter()
            .map(|e| {
                (
                    e.reason.clone().unwrap(),
                    e.message.clone().unwrap(),
                    e.count.unwrap(),
                )
            })
            .collect()
    }

    pub fn has_event(&self, name: &str, reason: &str, message: &str) -> bool {
        self.events(name)
            .iter()
            .any(|(r, m, _)| r == reason && m == message)
    }
}

/// A whole cluster on a manual clock, for the log and proxy endpoints.
pub(crate) fn cluster(app: Arc<dyn App>) -> Arc<Cluster> {
    let h = Harness::new(Arc::clone(&app));
    let spec = ClusterSpec {
        name: "test".into(),
        seed: 1,
        users: Vec::new(),
    };
    let cluster = Cluster::new(spec, h.clock.clone(), Kubelet::new(app, 7));
    *cluster.store() = h.store;
    cluster
}

/// Creates a pod bound to node-1 in a cluster.
pub(crate) fn cluster_pod(cluster: &Cluster, name: &str, containers: Value) -> Arc<Pod> {
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"nodeName": "node-1", "containers": containers}
    }))
    .unwrap();
    cluster.write(|store, now| store.create(pod, now).unwrap().obj())
}

/// Moves a cluster's clock on in 100 ms steps, ticking the kubelet after each.
pub(crate) fn cluster_run(cluster: &Cluster, secs: f64) {
    for _ in 0..(secs * 10.0).round() as i64 {
        cluster.clock.advance(SignedDuration::from_millis(100));
        let now = cluster.now();
        cluster.kubelet.tick(&mut cluster.store(), now);
    }
}

pub(crate) fn app_container(image: &str, extra: Value) -> Value {
    let mut c =
        json!({"name": "app", "image": image, "ports": [{"name": "http", "containerPort": 8080}]});
    c.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    json!([c])
}

fn phase(h: &Harness, name: &str) -> String {
    h.get(name).unwrap().status.clone().unwrap().phase.unwrap()
}

#[test]
fn a_bound_pod_starts_with_the_real_events_and_conditions() {
    let mut h = Harness::new(Arc::new(DefaultApp));
    let probe = json!({"readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}}});
    h.pod("web-1", app_container("web:1.0", probe), json!({}));
    h.tick();
    let pod = h.get("web-1").unwrap();
    let status = pod.status.clone().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    assert_eq!(status.host_ip.as_deref(), Some("172.18.0.3"));
    assert_eq!(status.qos_class.as_deref(), Some("BestEffort"));
    assert!(
        status.pod_ip.is_none(),
        "no address before the sandbox exists"
    );
    let c = h.container("web-1");
    assert_eq!(
        c.state.unwrap().waiting.unwrap().reason.as_deref(),
        Some("ContainerCreating")
    );
    assert_eq!(
        (c.image.as_str(), c.image_id.as_str(), c.started),
        ("web:1.0", "", Some(false))
    );
    let types: Vec<String> = status
        .conditions
        .unwrap()
        .iter()
        .map(|c| c.type_.clone())
        .collect();
    assert_eq!(
        types,
        [
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled"
        ]
    );
    let ready = h.condition("web-1", "Ready");
    assert_eq!(ready.reason.as_deref(), Some("ContainersNotReady"));
    assert_eq!(
        ready.message.as_deref(),
        Some("containers with unready status: [app]")
    );

    let ready_at = h.run_until(10.0, |h| h.condition("web-1", "Ready").status == "True");
    assert!(
        ready_at.duration_since(t0()) < SignedDuration::from_secs(5),
        "ready after {ready_at}"
    );
    assert_eq!(phase(&h, "web-1"), "Running");
    let c = h.container("web-1");
    assert!(
        c.container_id
            .as_deref()
            .unwrap()
            .starts_with("containerd://")
    );
    assert_eq!(c.image, "docker.io/library/web:1.0");
    assert!(c.image_id.starts_with("docker.io/library/web@sha256:"));
    assert_eq!((c.ready, c.started, c.restart_count), (true, Some(true), 0));
    assert_eq!(
        h.get("web-1")
            .unwrap()
            .status
            .clone()
            .unwrap()
            .pod_ip
            .as_deref(),
        Some("10.244.1.2")
    );
    let reasons: Vec<String> = h.events("web-1").into_iter().map(|e| e.0).collect();
    assert_eq!(reasons, ["Pulling", "Pulled", "Created", "Started"]);
    let pulled = &h.events("web-1")[1].1;
    assert!(
        pulled.starts_with("Successfully pulled image \"web:1.0\" in "),
        "{pulled}"
    );
    assert!(pulled.contains(" including waiting). Image size: ") && pulled.ends_with(" bytes."));
    assert!(h.has_event("web-1", "Created", "Created container: app"));
    assert!(h.has_event("web-1", "Started", "Started container app"));

    // The node has the image now: the next pod skips the pull.
    h.pod("web-2", app_container("web:1.0", json!({})), json!({}));
    h.run(5.0);
    assert!(h.has_event(
        "web-2",
        "Pulled",
        "Container image \"web:1.0\" already present on machine"
    ));
    assert_eq!(
        h.get("web-2")
            .unwrap()
            .status
            .clone()
            .unwrap()
            .pod_ip
            .as_deref(),
        Some("10.244.1.3")
    );
}

#[test]
fn crash_loop_backs_off_10s_20s_40s() {
    let mut h = Harness::new(Arc::new(DefaultApp));
    let pod = h.pod("web-1", app_container("web:crash", json!({})), json!({}));
    let uid = pod.metadata.uid.clone().unwrap();
    let mut gaps = Vec::new();
    let mut seen_backoff = None;
    let mut restarts = 0;
    while restarts < 4 {
        h.run(0.1);
        assert!(h.now() < t0() + SignedDuration::from_mins(5), "too slow");
        let c = h.container("web-1");
        if let Some(w) = c
            .state
            .as_ref()
            .unwrap()
            .waiting
            .as_ref()
            .filter(|_| seen_backoff.is_none())
            && w.reason.as_deref() == Some("CrashLoopBackOff")
        {
            seen_backoff = w.message.clone();
        }
        if c.restart_count > restarts {
            restarts = c.restart_count;
            let last = c.last_state.unwrap().terminated.unwrap();
            assert_eq!((last.exit_code, last.reason.as_deref()), (1, Some("Error")));
            let started = c.state.unwrap().running.unwrap().started_at.unwrap().0;
            gaps.push(
                started
                    .duration_since(last.finished_at.unwrap().0)
                    .as_millis(),
            );
        }
    }
    let expect = [1_000, 10_000, 20_000, 40_000];
    for (gap, want) in gaps.iter().zip(expect) {
        assert!((want..want + 600).contains(gap), "gaps {gaps:?}");
    }
    assert_eq!(
        seen_backoff.unwrap(),
        format!("back-off 10s restarting failed container=app pod=web-1_shop({uid})")
    );
    let backoff = format!("Back-off restarting failed container app in pod web-1_shop({uid})");
    let count = h
        .events("web-1")
        .into_iter()
        .find(|e| e.1 == backoff)
        .unwrap()
        .2;
    assert!(count >= 3, "BackOff recorded on every sync, got {count}");
    assert_eq!(phase(&h, "web-1"), "Running");
    assert!(h.has_event(
        "web-1",
        "Pulled",
        "Container image \"web:crash\" already present on machine"
    ));
}

#[test]
fn oom_killed_containers_report_137() {
    let mut h = Harness::new(Arc::new(DefaultApp));
    h.pod("web-1", app_container("web:1-oom", json!({})), json!({}));
    h.run_until(30.0, |h| h.container("web-1").restart_count == 1);
    let last = h.container("web-1").last_state.unwrap().terminated.unwrap();
    assert_eq!(
        (last.exit_code, last.reason.as_deref()),
        (137, Some("OOMKilled"))
    );
}

#[test]
fn failing_liveness_restarts_the_container() {
    let mut h = Harness::new(Arc::new(DefaultApp));
    let probe = json!({"livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5}});
    h.pod("web-1", app_container("web:1-slowstart", probe), json!({}));
    h.run_until(30.0, |h| h.container("web-1").restart_count == 1);
    assert!(h.has_event(
        "web-1",
        "Unhealthy",
        "Liveness probe failed: HTTP probe failed with statuscode: 503"
    ));
    assert!(h.has_event(
        "web-1",
        "Killing",
        "Container app failed liveness probe, will be restarted"
    ));
    let unhealthy = h
        .events("web-1")
        .into_iter()
        .find(|e| e.0 == "Unhealthy")
        .unwrap();
    assert_eq!(
        unhealthy.2, 3,
        "one event per failed probe, up to the failure threshold"
    );
    let last = h.container("web-1").last_state.unwrap().terminated.unwrap();
    assert_eq!(
        (last.exit_code, last.reason.as_deref()),
        (0, Some("Completed"))
    );

    // A hung app ignores SIGTERM: it is killed after the grace period, with 137.
    let probe = json!({"livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "failureThreshold": 1}});
    h.pod(
        "web-2",
        app_container("web:1-hang", probe),
        json!({"terminationGracePeriodSeconds": 4}),
    );
    h.run_until(60.0, |h| h.container("web-2").restart_count == 1);
    let last = h.container("web-2").last_state.unwrap().terminated.unwrap();
    assert_eq!(
        (last.exit_code, last.reason.as_deref()),
        (137, Some("Error"))
    );
    let timeout = "Liveness probe failed: Get \"http://10.244.1.3:8080/healthz\": context deadline exceeded \
                   (Client.Timeout exceeded while awaiting headers)";
    assert!(
        h.has_event("web-2", "Unhealthy", timeout),
        "{:?}",
        h.events("web-2")
    );
    let ran = last
        .finished_at
        .unwrap()
        .0
        .duration_since(last.started_at.unwrap().0);
    assert!(
        ran.as_secs() >= 34,
        "killed {ran:?} after start, not after the grace period"
    );
}

/// Ready for the first 30 s of every minute of the wall clock, unready for the rest.
struct Flapping;

impl App for Flapping {
    fn http(
        &self,
        _: &PodView<'_>,
        req: &AppRequest<'_>,
        now: Timestamp,
    ) -> Result<AppResponse, Unreachable> {
        let ready = now.as_second() % 60 < 30;
        match req.path {
            "/readyz" if !ready => Ok(AppResponse::text(503, "no")),
            _ => Ok(AppResponse::text(200, "ok")),
        }
    }
}

#[test]
fn readiness_follows_the_app_over_time() {
    let mut h = Harness::new(Arc::new(Flapping));
    let probe = json!({"readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}, "periodSeconds": 2, "failureThreshold": 2}});
    h.pod("web-1", app_container("web:1", probe), json!({}));
    let up = h.run_until(10.0, |h| h.condition("web-1", "Ready").status == "True");
    let down = h.run_until(60.0, |h| h.condition("web-1", "Ready").status == "False");
    let cond = h.condition("web-1", "Ready");
    assert_eq!(
        cond.message.as_deref(),
        Some("containers with unready status: [app]")
    );
    assert_eq!(cond.last_transition_time.unwrap().0, down);
    assert!(down.as_second() % 60 >= 30 && down > up);
    assert!(!h.container("web-1").ready);
    let again = h.run_until(60.0, |h| h.condition("web-1", "Ready").status == "True");
    assert!(again.as_second() % 60 < 30);
    let failed = "Readiness probe failed: HTTP probe failed with statuscode: 503";
    let count = h
        .events("web-1")
        .into_iter()
        .find(|e| e.1 == failed)
        .unwrap()
        .2;
    assert!(count >= 10, "repeats bump the count: {count}");
    assert_eq!(
        h.container("web-1").restart_count,
        0,
        "readiness never restarts"
    );
}

#[test]
fn graceful_deletion_stops_containers_then_removes_the_pod() {
    let mut h = Harness::new(Arc::new(DefaultApp));
    h.pod("web-1", app_container("web:1", json!({})), json!({}));
    h.run(5.0);
    let now = h.now();
    h.store
        .mark_deleted::<Pod>("shop", "web-1", now + SignedDuration::from_secs(30), 30)
        .unwrap();
    h.tick();
    assert!(h.has_event("web-1", "Killing", "Stopping container app"));
    assert!(h.get("web-1").is_some(), "still terminating");
    let gone = h.run_until(5.0, |h| h.get("web-1").is_none());
    assert!(
        gone.duration_since(now) <= SignedDuration::from_millis(1_600),
        "took until {gone}"
    );

    // An unbound pod has no kubelet: its deletion is immediate.
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "lost", "namespace": "shop"},
        "spec": {"containers": [{"name": "app", "image": "web:1"}]}
    }))
    .unwrap();
    h.store.create(pod, now).unwrap();
    h.store
        .mark_deleted::<Pod>("shop", "lost", now, 30)
        .unwrap();
    h.tick();
    assert!(h.get("lost").is_none());
}

#[test]
fn a_new_image_restarts_the_container() {
    let mut h = Harness::new(Arc::new(DefaultApp));
    h.pod("web-1", app_container("web:1", json!({})), json!({}));
    h.run(5.0);
    h.store
        .mutate::<Pod>("shop", "web-1", |p| {
            p.spec.as_mut().unwrap().containers[0].image = Some("web:2".into());
        })
        .unwrap();
    h.run_until(10.0, |h| {
        h.container("web-1").image == "docker.io/library/web:2"
    });
    assert!(h.has_event(
        "web-1",
        "Killing",
        "Container app definition changed, will be restarted"
    ));
    assert!(h.has_event("web-1", "Pulling", "Pulling image \"web:2\""));
    assert_eq!(h.container("web-1").restart_count, 1);
}

#[test]
fn containers_start_one_after_another() {
    let mut h = Harness::new(Arc::new(DefaultApp));
    let containers =
        json!([{"name": "app", "image": "web:1"}, {"name": "sidecar", "image": "proxy:1"}]);
    h.pod("web-1", containers, json!({}));
    h.tick();
    let ready = h.condition("web-1", "ContainersReady");
    assert_eq!(
        ready.message.as_deref(),
        Some("containers with unready status: [app sidecar]")
    );
    h.run_until(10.0, |h| h.condition("web-1", "Ready").status == "True");
    let events = h.events("web-1");
    let started: Vec<&str> = events
        .iter()
        .filter(|e| e.0 == "Started")
        .map(|e| e.1.as_str())
        .collect();
    assert_eq!(
        started,
        ["Started container app", "Started container sidecar"]
    );
    let pulling_sidecar = events
        .iter()
        .position(|e| e.1 == "Pulling image \"proxy:1\"")
        .unwrap();
    let started_app = events
        .iter()
        .position(|e| e.1 == "Started container app")
        .unwrap();
    assert!(started_app < pulling_sidecar);
}

#[test]
fn the_same_seed_replays_the_same_cluster() {
    let run = || {
        let mut h = Harness::new(Arc::new(DefaultApp));
        h.pod("web-1", app_container("web:crash", json!({})), json!({}));
        h.pod("web-2", app_container("web:1", json!({})), json!({}));
        h.run(45.0);
        let pods: Vec<Value> = ["web-1", "web-2"]
            .iter()
            .map(|n| serde_json::to_value(&*h.get(n).unwrap()).unwrap())
            .collect();
        (pods, h.events("web-1"))
    };
    assert_eq!(run(), run());
}

#[test]
fn quiet_ticks_write_nothing_and_history_gaps_relist() {
    let mut h = Harness::new(Arc::new(DefaultApp));
    for i in 0..200 {
        h.pod(
            &format!("web-{i}"),
            app_container("web:1", json!({})),
            json!({}),
        );
    }
    h.run(5.0);
    let before = h.store.resource_version();
    h.run(30.0);
    assert_eq!(
        h.store.resource_version(),
        before,
        "running pods without probes need no writes"
    );
    // A pod whose creation was compacted out of the history is still found, by relisting.
    h.pod("late", app_container("web:1", json!({})), json!({}));
    h.store.compact();
    h.run_until(5.0, |h| {
        h.get("late")
            .unwrap()
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .as_deref()
            == Some("Running")
    });
}

#[test]
fn cpu_utilization_is_relative_to_the_request() {
    let mut h = Harness::new(Arc::new(DefaultApp));
    let res = json!({"resources": {"requests": {"cpu": "100m"}}});
    h.pod("web-1", app_container("web:1", res), json!({}));
    h.pod("web-2", app_container("web:1", json!({})), json!({}));
    assert_eq!(
        h.kubelet.cpu_utilization(&h.get("web-1").unwrap(), h.now()),
        None,
        "not running yet"
    );
    h.run(5.0);
    let pct = h
        .kubelet
        .cpu_utilization(&h.get("web-1").unwrap(), h.now())
        .unwrap();
    assert!((10.0..80.0).contains(&pct), "{pct}");
    assert_eq!(
        h.kubelet.cpu_utilization(&h.get("web-2").unwrap(), h.now()),
        None,
        "no request"
    );
    assert_eq!(
        h.get("web-1")
            .unwrap()
            .status
            .clone()
            .unwrap()
            .qos_class
            .as_deref(),
        Some("Burstable")
    );
}
