use std::sync::Arc;

use super::*;
use crate::sim::app::testing::{at, fault, fleet, get, get_json, labels, scrape, sum, view};
use crate::sim::world::{FaultKind, World};

const ARQ: &str = "ghcr.io/arq/arq-backend";

#[test]
fn arq_health_and_readiness_follow_the_world() {
    let world = Arc::new(World::new());
    world.add(fault(
        "postgres",
        FaultKind::DependencyDown,
        100.0,
        Some(160.0),
    ));
    let app = fleet(Arc::clone(&world));
    let l = labels("arq-backend");
    let pod = view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0);
    // NestJS listens only once started.
    assert_eq!(
        get(&app, &pod, "/api/v1/health", at(0.5)),
        Err(Unreachable::Refused)
    );
    let (code, live) = get_json(&app, &pod, "/api/v1/health", at(10.0));
    assert_eq!(code, 200);
    assert_eq!(live["status"], "ok");
    assert_eq!(live["timestamp"], "2026-01-01T00:00:10.000Z");
    let (code, ready) = get_json(&app, &pod, "/api/v1/health/readiness", at(10.0));
    assert_eq!(code, 200, "{ready}");
    assert_eq!(ready["status"], "ok");
    assert_eq!(ready["checks"]["database"], "healthy");
    assert_eq!(ready["checks"]["redis"], "healthy");
    let (code, ready) = get_json(&app, &pod, "/api/v1/health/readiness", at(120.0));
    assert_eq!(code, 503);
    assert_eq!(ready["status"], "error");
    assert_eq!(
        ready["checks"]["database"],
        "connect ECONNREFUSED postgres:5432"
    );
    assert_eq!(ready["checks"]["redis"], "healthy");
    // Liveness does not depend on the database.
    assert_eq!(
        get(&app, &pod, "/api/v1/health", at(120.0)).unwrap().status,
        200
    );
    assert_eq!(
        get(&app, &pod, "/api/v1/health/readiness", at(160.0))
            .unwrap()
            .status,
        200
    );
    // Unknown paths and methods as NestJS answers them.
    let (code, nf) = get_json(&app, &pod, "/nope", at(10.0));
    assert_eq!(
        (code, nf["message"].as_str()),
        (404, Some("Cannot GET /nope"))
    );
    let headers = http::HeaderMap::new();
    let post = crate::sim::app::testing::request("/api/v1/health", &headers, &http::Method::POST);
    assert_eq!(app.http(&pod, &post, at(10.0)).unwrap().status, 404);
}

#[test]
fn arxos_bodies_have_the_seed_shape() {
    let world = Arc::new(World::new());
    world.add(fault("postgres", FaultKind::DependencyDown, 200.0, None));
    let app = fleet(Arc::clone(&world));
    let l = labels("export-service");
    let pod = view(&l, "arxos/export-service:1.0.0", "app", at(0.0), 0);
    let (code, body) = get_json(&app, &pod, "/readyz", at(3_600.0 - 3_500.0));
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["timestamp"], "2026-01-01T00:01:40Z");
    assert_eq!(body["uptime"]["uptime_seconds"], 100);
    assert_eq!(body["uptime"]["uptime_formatted"], "0:01:40");
    for part in ["memory", "cpu", "disk"] {
        let pct = body["system"][part]["percent"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&pct), "{part} {pct}");
        assert_eq!(body["system"][part]["status"], "ok");
    }
    assert_eq!(body["database"]["status"], "ok");
    let ms = body["database"]["response_time_ms"].as_f64().unwrap();
    assert!(ms > 0.0 && ms < 10.0);
    // Memory percent agrees with the metrics page.
    let page = scrape(&app, &pod, "/metrics", at(100.0));
    let rss = sum(&page, "process_resident_memory_bytes", &[]);
    let pct = body["system"]["memory"]["percent"].as_f64().unwrap();
    let limit = app
        .profile("arxos/export-service:1")
        .map(|p| crate::sim::app::model::Tuned::resolve(p, "1").limit)
        .unwrap();
    assert!((100.0 * rss / limit - pct).abs() < 0.2, "{pct} vs {rss}");

    let (code, down) = get_json(&app, &pod, "/readyz", at(300.0));
    assert_eq!(code, 503);
    assert_eq!(down["status"], "unhealthy");
    assert_eq!(down["database"]["status"], "error");
    let (code, live) = get_json(&app, &pod, "/healthz", at(300.0));
    assert_eq!(code, 200);
    assert_eq!(live["status"], "healthy");
    assert!(live.get("database").is_none());
    let (code, info) = get_json(&app, &pod, "/info", at(300.0));
    assert_eq!((code, &info["version"]), (200, &serde_json::json!("1.0.0")));
    assert_eq!(info["service"], "export-service");
    let (code, nf) = get_json(&app, &pod, "/api/v2/nothing", at(300.0));
    assert_eq!((code, nf["detail"].as_str()), (404, Some("Not Found")));
}

#[test]
fn plain_style_answers_503_while_starting() {
    let app = fleet(Arc::new(World::new()));
    let l = labels("web");
    let pod = view(&l, "shop/web:3.1", "app", at(0.0), 0);
    assert_eq!(
        get(&app, &pod, "/healthz", at(0.05)),
        Err(Unreachable::Refused)
    );
    assert_eq!(get(&app, &pod, "/healthz", at(1.0)).unwrap().status, 503);
    assert_eq!(get(&app, &pod, "/readyz", at(1.0)).unwrap().status, 503);
    assert_eq!(get(&app, &pod, "/healthz", at(5.0)).unwrap().status, 200);
    let ready = get(&app, &pod, "/readyz", at(5.0)).unwrap();
    assert_eq!((ready.status, &ready.body[..]), (200, &b"ok\n"[..]));
    assert_eq!(
        get(&app, &pod, "/metrics", at(1.0)).unwrap().status,
        200,
        "metrics while starting"
    );
    assert_eq!(get(&app, &pod, "/nope", at(5.0)).unwrap().status, 404);
    let page = get(&app, &pod, "/", at(5.0)).unwrap();
    assert!(page.status == 200 || page.status >= 500);
}

#[test]
fn a_latency_fault_slows_every_answer() {
    let world = Arc::new(World::new());
    world.add(fault(
        "web",
        FaultKind::Latency {
            extra: jiff::SignedDuration::from_secs(3),
        },
        100.0,
        Some(200.0),
    ));
    let app = fleet(Arc::clone(&world));
    let l = labels("web");
    let pod = view(&l, "shop/web:3.1", "app", at(0.0), 0);
    let before = get(&app, &pod, "/healthz", at(50.0)).unwrap().latency;
    let during = get(&app, &pod, "/healthz", at(150.0)).unwrap().latency;
    assert!(before < jiff::SignedDuration::from_millis(50));
    assert!(
        during > jiff::SignedDuration::from_secs(3),
        "a 1 s probe timeout fails: {during:?}"
    );
}

#[test]
fn versions_change_the_error_share_on_the_metrics_page() {
    let app = fleet(Arc::new(World::new()));
    let l = labels("arq-backend");
    let share = |tag: &str| {
        let image = format!("{ARQ}:{tag}");
        let pod = view(&l, &image, "app", at(0.0), 0);
        let page = scrape(&app, &pod, "/api/v1/metrics", at(4.0 * 3600.0));
        let all = sum(&page, "http_requests_total", &[]);
        let fivexx = sum(&page, "http_requests_total", &["code=\"5"]);
        assert!(all > 100_000.0);
        fivexx / all
    };
    let good = share("2.4.1");
    let bad = share("2.5.0");
    assert!(good < 0.002, "{good}");
    assert!((bad - 0.2).abs() < 0.002, "{bad}");
}

#[test]
fn oom_tags_exit_137_and_crashes_exit_1() {
    let app = fleet(Arc::new(World::new()));
    let l = labels("arq-backend");
    let pod = view(&l, "ghcr.io/arq/arq-backend:2.5.0-oom", "app", at(0.0), 0);
    let (when, exit) = app.next_exit(&pod, at(1.0)).unwrap();
    assert_eq!(
        (exit.code, exit.reason),
        (137, crate::sim::app::ExitReason::OomKilled)
    );
    let secs = when.duration_since(at(0.0)).as_secs_f64();
    assert!((87.0..93.0).contains(&secs), "{secs}");
    let early = sum(
        &scrape(&app, &pod, "/api/v1/metrics", at(20.0)),
        "process_resident_memory_bytes",
        &[],
    );
    let late = sum(
        &scrape(&app, &pod, "/api/v1/metrics", at(85.0)),
        "process_resident_memory_bytes",
        &[],
    );
    assert!(
        late > early * 1.8 && late <= 512.0 * 1024.0 * 1024.0,
        "{early} {late}"
    );
    assert!(
        app.next_exit(
            &view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0),
            at(1.0)
        )
        .is_none()
    );

    let mut catalog = crate::sim::app::testing::catalog();
    catalog[0].1.normal.crash_after_seconds = Some(30.0);
    let crashing = FleetApp::new(catalog, Arc::new(World::new()));
    let (_, exit) = crashing
        .next_exit(
            &view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0),
            at(0.0),
        )
        .unwrap();
    assert_eq!(exit, Exit::code(1));
}

#[test]
fn a_hung_process_times_out_and_ignores_sigterm() {
    let mut catalog = crate::sim::app::testing::catalog();
    catalog[2].1.normal.hang_after_seconds = Some(60.0);
    let app = FleetApp::new(catalog, Arc::new(World::new()));
    let l = labels("web");
    let pod = view(&l, "shop/web:3.1", "app", at(0.0), 0);
    assert_eq!(get(&app, &pod, "/healthz", at(59.0)).unwrap().status, 200);
    assert_eq!(
        get(&app, &pod, "/healthz", at(61.0)),
        Err(Unreachable::Timeout)
    );
    assert!(app.tcp(&pod, 8080, at(61.0)), "the kernel still accepts");
    assert_eq!(app.on_sigterm(&pod, at(61.0)), Exit::sigkilled());
    assert_eq!(app.on_sigterm(&pod, at(30.0)), Exit::code(0));
}

#[test]
fn same_seed_same_answers_and_unknown_images_run_the_default_app() {
    let app = fleet(Arc::new(World::new()));
    let l = labels("arq-backend");
    let pod = view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0);
    let a = scrape(&app, &pod, "/api/v1/metrics", at(500.0));
    let b = scrape(
        &fleet(Arc::new(World::new())),
        &pod,
        "/api/v1/metrics",
        at(500.0),
    );
    assert_eq!(a, b);
    let mut other = pod;
    other.seed = 8;
    assert_ne!(a, scrape(&app, &other, "/api/v1/metrics", at(500.0)));
    let mut logs_a = Vec::new();
    let mut logs_b = Vec::new();
    app.log_lines(&pod, at(0.0), at(300.0), &mut logs_a);
    fleet(Arc::new(World::new())).log_lines(&pod, at(0.0), at(300.0), &mut logs_b);
    assert_eq!(logs_a, logs_b);

    let unknown = view(&l, "nginx:1.27", "app", at(0.0), 0);
    for path in ["/healthz", "/readyz", "/metrics", "/nope"] {
        assert_eq!(
            get(&app, &unknown, path, at(30.0)),
            DefaultApp.http(
                &unknown,
                &crate::sim::app::testing::request(
                    path,
                    &http::HeaderMap::new(),
                    &http::Method::GET
                ),
                at(30.0)
            )
        );
    }
    assert_eq!(
        app.cpu_millicores(&unknown, at(30.0)),
        DefaultApp.cpu_millicores(&unknown, at(30.0))
    );
}

#[test]
fn the_hpa_sees_cpu_rise_with_errors() {
    let world = Arc::new(World::new());
    world.add(fault(
        "arq-backend",
        FaultKind::Errors { rate: 0.5 },
        600.0,
        None,
    ));
    let app = fleet(Arc::clone(&world));
    let l = labels("arq-backend");
    let pod = view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0);
    let calm = app.cpu_millicores(&pod, at(500.0));
    let hot = app.cpu_millicores(&pod, at(700.0));
    assert!(hot > calm * 1.4, "{calm} -> {hot}");
    assert_eq!(app.cpu_millicores(&pod, at(-1.0)), 0.0);
}

#[test]
fn nothing_panics_on_odd_requests_and_times() {
    let world = Arc::new(World::new());
    world.add(fault(
        "arq-backend",
        FaultKind::Latency {
            extra: jiff::SignedDuration::MAX,
        },
        0.0,
        None,
    ));
    world.add(fault(
        "arq-backend",
        FaultKind::Errors { rate: f64::NAN },
        0.0,
        None,
    ));
    let app = fleet(Arc::clone(&world));
    let l = labels("arq-backend");
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::ACCEPT,
        http::HeaderValue::from_static("application/openmetrics-text;q=nan, */*;q=-1"),
    );
    let images = [
        "ghcr.io/arq/arq-backend:2.4.1",
        "arxos/export-service",
        "shop/web:x-oom",
        "code/worker:1",
        "postgres:16",
        "redis:7",
        "",
        ":",
        "@",
    ];
    let times = [
        jiff::Timestamp::MIN,
        at(-1e6),
        at(0.0),
        at(5.0),
        at(1e7),
        jiff::Timestamp::MAX,
    ];
    for image in images {
        for container in ["app", "exporter"] {
            for &t in &times {
                let pod = view(&l, image, container, at(0.0), 0);
                for path in [
                    "/",
                    "/api/v1/metrics",
                    "/metrics",
                    "/readyz",
                    "/api/v1/projects/1",
                    "/info",
                    "//",
                    "/api/v1/projects/",
                ] {
                    for m in [http::Method::GET, http::Method::HEAD, http::Method::DELETE] {
                        let _ = app.http(
                            &pod,
                            &crate::sim::app::testing::request(path, &headers, &m),
                            t,
                        );
                    }
                }
                let _ = app.next_exit(&pod, t);
                let _ = app.on_sigterm(&pod, t);
                let _ = app.tcp(&pod, 5432, t);
                let _ = app.exec(&pod, &["pg_isready".into()], t);
                let c = app.cpu_millicores(&pod, t);
                assert!(c.is_finite() && c >= 0.0, "{image} {c}");
                let mut out = Vec::new();
                app.log_lines(
                    &pod,
                    t,
                    t.saturating_add(jiff::SignedDuration::from_secs(30))
                        .unwrap_or(t),
                    &mut out,
                );
            }
        }
    }
}
