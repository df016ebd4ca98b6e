use std::sync::Arc;

use crate::sim::app::testing::{at, catalog, fault, fleet, get, get_json, labels, request, view};
use crate::sim::app::{App, FleetApp};
use crate::sim::world::{FaultKind, World};

#[test]
fn flapping_readiness_fails_in_slots_and_names_a_check() {
    let mut c = catalog();
    c[0].1.normal.flapping_readiness = Some(true);
    let app = FleetApp::new(c, Arc::new(World::new()));
    let l = labels("arq-backend");
    let pod = view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0);
    let codes: Vec<u16> = (0..600)
        .map(|i| {
            get(
                &app,
                &pod,
                "/api/v1/health/readiness",
                at(10.0 + 10.0 * f64::from(i)),
            )
            .unwrap()
            .status
        })
        .collect();
    let failing = codes.iter().filter(|&&c| c == 503).count();
    assert!(
        (120..240).contains(&failing),
        "{failing} of 600 probes fail"
    );
    // Failures come in runs (a slot is four probe periods), as the kubelet would see them.
    let runs = codes.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(runs < failing, "{runs} changes for {failing} failures");
    let slot = (0..600)
        .map(|i| 10.0 + 10.0 * f64::from(i))
        .find(|&s| {
            get(&app, &pod, "/api/v1/health/readiness", at(s))
                .unwrap()
                .status
                == 503
        })
        .unwrap();
    let (_, body) = get_json(&app, &pod, "/api/v1/health/readiness", at(slot));
    assert_eq!(
        body["checks"]["database"],
        "timeout exceeded when trying to connect"
    );
    assert_eq!(
        get(&app, &pod, "/api/v1/health", at(slot)).unwrap().status,
        200,
        "liveness holds"
    );
}

#[test]
fn a_slow_database_degrades_arxos_and_slows_its_readiness() {
    let world = Arc::new(World::new());
    world.add(fault(
        "postgres",
        FaultKind::Latency {
            extra: jiff::SignedDuration::from_millis(400),
        },
        100.0,
        None,
    ));
    let app = fleet(world);
    let l = labels("export-service");
    let pod = view(&l, "arxos/export-service:1", "app", at(0.0), 0);
    let (code, body) = get_json(&app, &pod, "/readyz", at(200.0));
    assert_eq!(
        (code, &body["status"]),
        (200, &serde_json::json!("degraded"))
    );
    assert_eq!(body["database"]["status"], "slow");
    assert!(body["database"]["response_time_ms"].as_f64().unwrap() > 400.0);
    let latency = get(&app, &pod, "/readyz", at(200.0)).unwrap().latency;
    assert!(latency > jiff::SignedDuration::from_millis(400));
    assert!(
        get(&app, &pod, "/healthz", at(200.0)).unwrap().latency
            < jiff::SignedDuration::from_millis(50)
    );
}

#[test]
fn methods_head_and_business_routes() {
    let app = fleet(Arc::new(World::new()));
    let l = labels("export-service");
    let pod = view(&l, "arxos/export-service:1", "app", at(0.0), 0);
    let headers = http::HeaderMap::new();
    let post = app
        .http(
            &pod,
            &request("/healthz", &headers, &http::Method::POST),
            at(60.0),
        )
        .unwrap();
    assert_eq!(
        (post.status, &post.body[..]),
        (405, &br#"{"detail":"Method Not Allowed"}"#[..])
    );
    let head = app
        .http(
            &pod,
            &request("/readyz", &headers, &http::Method::HEAD),
            at(60.0),
        )
        .unwrap();
    assert_eq!((head.status, head.body.len()), (200, 0));
    let delete = app
        .http(
            &pod,
            &request("/api/v1/buildings/7", &headers, &http::Method::DELETE),
            at(60.0),
        )
        .unwrap();
    assert_eq!(delete.status, 405);

    // The 2.5.0 arQ backend fails a fifth of its requests, at its latency.
    let l = labels("arq-backend");
    let bad = view(&l, "ghcr.io/arq/arq-backend:2.5.0", "app", at(0.0), 0);
    let answers: Vec<_> = (0..4_000)
        .map(|i| {
            get(
                &app,
                &bad,
                "/api/v1/projects/42",
                at(60.0 + 0.013 * f64::from(i)),
            )
            .unwrap()
        })
        .collect();
    let failed = answers.iter().filter(|r| r.status >= 500).count() as f64 / answers.len() as f64;
    assert!((failed - 0.2).abs() < 0.03, "{failed}");
    let mut ms: Vec<i128> = answers.iter().map(|r| r.latency.as_millis()).collect();
    ms.sort_unstable();
    let (p50, p95) = (ms[ms.len() / 2], ms[ms.len() * 95 / 100]);
    assert!(
        (20..=31).contains(&p50) && (95..=150).contains(&p95),
        "p50 {p50} p95 {p95}"
    );
    let ok = answers.iter().find(|r| r.status == 200).unwrap();
    let body: serde_json::Value = serde_json::from_slice(&ok.body).unwrap();
    assert_eq!(body["id"], 42);
}
