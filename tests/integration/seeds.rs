//! The built-in seeds fleet seen from outside: the seed-shaped health endpoints through the API
//! server's proxies, and the timeline's faults the way kubectl shows them on a real cluster.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{Event, Pod};
use serde_json::Value;
use watchfloor::sim::fleet::{FleetOptions, RunningFleet};
use watchfloor::sim::fleetfile::{self, Action, Scenario, Step};
use watchfloor::sim::timeline::{self, Timeline};

use crate::kube_client::config;
use crate::support::{Kubectl, TestFleet, have, rows};

const WAIT: Duration = Duration::from_secs(60);

pub fn seeds() -> TestFleet {
    TestFleet::start_with(
        &fleetfile::builtin(),
        FleetOptions {
            speed: 20.0,
            ..Default::default()
        },
    )
}

/// GETs `path` on the cluster's API server as its admin: (status, body). kube-rs retries 503s
/// with back-off by default, for minutes; a health check must see the 503 at once.
fn get(fleet: &TestFleet, context: &str, path: &str) -> (u16, String) {
    fleet.runtime.block_on(async {
        let mut config = config(fleet, context).await;
        config.default_retry = false;
        let client = kube::Client::try_from(config).expect("client");
        let req = http::Request::get(path).body(Vec::new()).expect("request");
        let resp = client.send(req.map(Into::into)).await.expect("answered");
        let status = resp.status().as_u16();
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_default();
        (status, body)
    })
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Polls until every pod of `app` in `namespace` is running and ready; returns their names.
fn ready_pods(kubectl: &Kubectl<'_>, namespace: &str, app: &str) -> Vec<String> {
    let out = kubectl.until(
        &[
            "get",
            "pods",
            "-n",
            namespace,
            "-l",
            &format!("app={app}"),
            "--no-headers",
        ],
        WAIT,
        |out| {
            let rows = rows(out);
            !rows.is_empty()
                && rows.iter().all(|r| {
                    let (ready, total) = r[1].split_once('/').unwrap_or(("0", "1"));
                    ready == total && r[2] == "Running"
                })
        },
    );
    rows(&out).into_iter().map(|r| r[0].clone()).collect()
}

/// The first step of the seeds' `incident` scenario with this action key on this cluster.
fn incident_step(key: &str, cluster: &str) -> Step {
    let fleet = fleetfile::builtin();
    let scenario = fleet.scenario("incident").expect("incident scenario");
    scenario
        .steps
        .iter()
        .find(|s| s.action.key() == key && s.clusters.iter().any(|c| c == cluster))
        .map(|s| Step {
            clusters: vec![cluster.to_string()],
            ..s.clone()
        })
        .unwrap_or_else(|| panic!("incident has no {key} on {cluster}"))
}

#[test]
fn health_endpoints_of_each_style_answer_through_the_proxies() {
    if !have("kubectl") {
        return;
    }
    let fleet = seeds();
    let dev = Kubectl::new(&fleet, "dev");

    // Arxos (seed 000): JSON health with uptime, system and database sections.
    let pod = &ready_pods(&dev, "arxos", "export-service")[0];
    let (status, body) = get(
        &fleet,
        "dev",
        &format!("/api/v1/namespaces/arxos/pods/{pod}:8080/proxy/healthz"),
    );
    assert_eq!(status, 200, "{body}");
    let health = json(&body);
    assert_eq!(health["status"], "healthy", "{body}");
    assert!(
        health["uptime"]["uptime_seconds"].as_f64().is_some(),
        "{body}"
    );
    assert!(health["uptime"]["uptime_formatted"].is_string(), "{body}");
    for part in ["memory", "cpu", "disk"] {
        assert!(health["system"][part]["percent"].is_number(), "{body}");
        assert_eq!(health["system"][part]["status"], "ok", "{body}");
    }
    // Readiness adds the database check (liveness leaves it out: a database outage must not
    // restart the app).
    let (status, body) = get(
        &fleet,
        "dev",
        &format!("/api/v1/namespaces/arxos/pods/{pod}:8080/proxy/readyz"),
    );
    assert_eq!(status, 200, "{body}");
    let ready = json(&body);
    assert_eq!(ready["status"], "healthy", "{body}");
    assert_eq!(ready["database"]["status"], "ok", "{body}");
    assert!(ready["database"]["response_time_ms"].is_number(), "{body}");
    let (status, _) = get(
        &fleet,
        "dev",
        &format!("/api/v1/namespaces/arxos/pods/{pod}:8080/proxy/info"),
    );
    assert_eq!(status, 200);

    // arQ (seed 001), through the Service: readiness checks its database and cache.
    let backend = &ready_pods(&dev, "arq", "arq-backend")[0];
    let via_service =
        "/api/v1/namespaces/arq/services/arq-backend:http/proxy/api/v1/health/readiness";
    let (status, body) = get(&fleet, "dev", via_service);
    assert_eq!(status, 200, "{body}");
    let ready = json(&body);
    assert_eq!(ready["status"], "ok", "{body}");
    assert_eq!(ready["checks"]["database"], "healthy", "{body}");
    assert_eq!(ready["checks"]["redis"], "healthy", "{body}");
    assert!(ready["timestamp"].is_string(), "{body}");
    let (status, body) = get(
        &fleet,
        "dev",
        "/api/v1/namespaces/arq/services/arq-backend:http/proxy/api/v1/health",
    );
    assert_eq!((status, json(&body)["status"].clone()), (200, "ok".into()));

    // Plain style (CovetPy, seed 002): text bodies.
    let pod = &ready_pods(&dev, "covetpy", "covet-api")[0];
    let (status, body) = get(
        &fleet,
        "dev",
        &format!("/api/v1/namespaces/covetpy/pods/{pod}:8080/proxy/readyz"),
    );
    assert_eq!(status, 200, "{body}");

    // The database goes down: arQ's readiness says so with 503, kubectl sees the pods unready
    // and the kubelet's Unhealthy events, and the Service has no endpoints left.
    let readiness =
        format!("/api/v1/namespaces/arq/pods/{backend}:3001/proxy/api/v1/health/readiness");
    let step = Step {
        at: SignedDuration::ZERO,
        clusters: vec!["dev".into()],
        action: Action::FailDependency {
            namespace: "arq".into(),
            name: "postgres".into(),
            duration: None,
        },
    };
    let outcomes = fleet
        .runtime
        .block_on(async { timeline::apply(&fleet.fleet, &step) });
    assert!(outcomes.iter().all(|o| o.result.is_ok()), "{outcomes:?}");
    let deadline = Instant::now() + WAIT;
    let body = loop {
        let (status, body) = get(&fleet, "dev", &readiness);
        if status == 503 {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "readiness still {status}: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let ready = json(&body);
    assert_ne!(ready["status"], "ok", "{body}");
    assert_ne!(ready["checks"]["database"], "healthy", "{body}");
    assert_eq!(ready["checks"]["redis"], "healthy", "{body}");
    dev.until(
        &[
            "get",
            "pods",
            "-n",
            "arq",
            "-l",
            "app=arq-backend",
            "--no-headers",
        ],
        WAIT,
        |out| rows(out).iter().all(|r| r[1] == "0/1"),
    );
    let events = dev.until(
        &[
            "get",
            "events",
            "-n",
            "arq",
            "--field-selector",
            "reason=Unhealthy",
        ],
        WAIT,
        |out| out.contains("Readiness probe failed: HTTP probe failed with statuscode: 503"),
    );
    assert!(events.contains("arq-backend-"), "{events}");
    let (status, body) = get(&fleet, "dev", via_service);
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("no endpoints available for service"),
        "{body}"
    );
}

#[test]
fn a_bad_release_from_the_timeline_crash_loops_as_kubectl_shows_it() {
    if !have("kubectl") {
        return;
    }
    let fleet = seeds();
    let staging = Kubectl::new(&fleet, "staging");
    ready_pods(&staging, "arxos", "export-service");
    let step = incident_step("set-image", "staging");
    let outcomes = fleet
        .runtime
        .block_on(async { timeline::apply(&fleet.fleet, &step) });
    assert!(outcomes.iter().all(|o| o.result.is_ok()), "{outcomes:?}");
    let pods = staging.until(
        &[
            "get",
            "pods",
            "-n",
            "arxos",
            "-l",
            "app=export-service",
            "--no-headers",
        ],
        WAIT,
        |out| out.contains("CrashLoopBackOff"),
    );
    let crashing: Vec<Vec<String>> = rows(&pods)
        .into_iter()
        .filter(|r| r[2] == "CrashLoopBackOff")
        .collect();
    assert!(!crashing.is_empty());
    // The old ReplicaSet keeps serving: a rolling update stops at maxUnavailable.
    assert!(rows(&pods).iter().any(|r| r[1] == "1/1"), "{pods}");
    let previous = staging.ok(&["logs", "-n", "arxos", &crashing[0][0], "--previous"]);
    assert!(previous.contains("Traceback"), "{previous}");
    let events = staging.ok(&[
        "get",
        "events",
        "-n",
        "arxos",
        "--field-selector",
        "reason=BackOff",
    ]);
    assert!(
        events.contains("Back-off restarting failed container"),
        "{events}"
    );
}

#[test]
fn prometheus_scrapes_every_app_kind_of_the_seeds_fleet() {
    if !have("prometheus") {
        return;
    }
    let fleet = seeds();
    crate::prometheus::scrape_all_until_up(&fleet, "prod-eastus");
}

/// What an observer of the fleet sees at a moment: every pod with its status, every event.
fn observe(fleet: &RunningFleet) -> Vec<String> {
    let mut seen = Vec::new();
    for rc in &fleet.clusters {
        let store = rc.cluster.store();
        for pod in store.list::<Pod>(None) {
            seen.push(format!(
                "{} {}",
                rc.def.name,
                serde_json::to_string(&*pod).unwrap_or_default()
            ));
        }
        for e in store.list::<Event>(None) {
            seen.push(format!(
                "{} {:?} {:?} {:?} {:?}",
                rc.def.name, e.involved_object.name, e.reason, e.message, e.count
            ));
        }
    }
    seen
}

/// Plays the seeds fleet's `incident` scenario on a manual clock for `minutes`, one second at a
/// time, and returns what an observer saw every 30 simulated seconds, plus one pod's logs.
fn replay(seed: u64, minutes: i64) -> Vec<String> {
    let file = fleetfile::builtin();
    let scenario: Scenario = file.scenario("incident").expect("incident").clone();
    let start = Timestamp::from_second(1_790_000_000).expect("a time");
    let fleet = TestFleet::start_with(
        &file,
        FleetOptions {
            seed,
            manual_start: Some(start),
            ..Default::default()
        },
    );
    let running = &fleet.fleet;
    let mut timeline = Timeline::new(&scenario, running.started_at);
    let mut seen = Vec::new();
    fleet.runtime.block_on(async {
        for second in 1..=minutes * 60 {
            running.clock.advance(SignedDuration::from_secs(1));
            for step in timeline.due(running.clock.now()) {
                for o in timeline::apply(running, &step) {
                    seen.push(format!("{step}: {:?}", o.result));
                }
            }
            for rc in &running.clusters {
                rc.cluster.reconcile();
            }
            if second % 30 == 0 {
                seen.extend(observe(running));
            }
        }
    });
    seen
}

#[test]
fn the_same_seed_replays_the_same_incident() {
    let a = replay(7, 3);
    let b = replay(7, 3);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    // The scenario did happen: the staging release crash-loops within three minutes.
    assert!(a.iter().any(|l| l.contains("CrashLoopBackOff")));
    // And the seed matters: another seed names and times things differently.
    let c = replay(8, 1);
    assert_ne!(a[..c.len().min(a.len())], c[..c.len().min(a.len())]);
}
