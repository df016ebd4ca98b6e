use std::collections::BTreeMap;
use std::sync::Arc;

use crate::sim::app::maths::Latency;
use crate::sim::app::testing::{at, fault, fleet, get, labels, request, sample, scrape, sum, view};
use crate::sim::app::{App, PodView};
use crate::sim::world::{FaultKind, World};

/// Every sample of a page, by series.
fn series(page: &str) -> BTreeMap<String, f64> {
    page.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(s, v)| (s.to_string(), v.parse().unwrap()))
        .collect()
}

#[test]
fn counters_never_go_back_and_start_over_on_restart() {
    let world = Arc::new(World::new());
    world.add(fault(
        "arq-backend",
        FaultKind::Errors { rate: 0.4 },
        200.0,
        Some(300.0),
    ));
    world.add(fault(
        "arq-backend",
        FaultKind::Latency {
            extra: jiff::SignedDuration::from_millis(700),
        },
        250.0,
        Some(400.0),
    ));
    world.add(fault(
        "redis",
        FaultKind::DependencyDown,
        500.0,
        Some(560.0),
    ));
    let app = fleet(world);
    let l = labels("arq-backend");
    let pod = view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0);
    let mut last: BTreeMap<String, f64> = BTreeMap::new();
    for s in (5..700).step_by(7) {
        let now = series(&scrape(&app, &pod, "/api/v1/metrics", at(f64::from(s))));
        for (k, v) in &now {
            let counter = k.contains("_total")
                || k.contains("_bucket")
                || k.contains("_count")
                || k.contains("_sum");
            if counter && let Some(before) = last.get(k) {
                assert!(v >= before, "{k} went from {before} to {v} at {s}s");
            }
        }
        last = now;
    }
    let requests = sum(
        &scrape(&app, &pod, "/api/v1/metrics", at(700.0)),
        "http_requests_total",
        &[],
    );
    let restarted = view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(690.0), 1);
    let page = scrape(&app, &restarted, "/api/v1/metrics", at(700.0));
    assert!(sum(&page, "http_requests_total", &[]) < requests / 20.0);
    assert!(sample(&page, "process_cpu_seconds_total").unwrap() < 5.0);
    assert_eq!(
        sample(&page, "process_start_time_seconds"),
        Some(at(690.0).as_second() as f64)
    );
}

#[test]
fn the_histogram_follows_the_latency_distribution() {
    let app = fleet(Arc::new(World::new()));
    let l = labels("arq-backend");
    let pod = view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0);
    let page = scrape(&app, &pod, "/api/v1/metrics", at(3_600.0));
    let route = "route=\"/api/v1/projects/:id\"";
    let count = sum(&page, "http_request_duration_seconds_count", &[route]);
    let bucket = |le: &str| {
        sum(
            &page,
            "http_request_duration_seconds_bucket",
            &[route, &format!("le=\"{le}\"")],
        )
    };
    let total = sum(&page, "http_requests_total", &[route]);
    assert_eq!(
        count, total,
        "the histogram counts every request of the route"
    );
    assert_eq!(bucket("+Inf"), count);
    let expect = Latency::new(0.025, 0.120, 0.0);
    for le in ["0.01", "0.025", "0.1", "0.25"] {
        let got = bucket(le) / count;
        let want = expect.cdf(le.parse().unwrap());
        assert!((got - want).abs() < 0.002, "le={le}: {got} vs {want}");
    }
    let mean = sum(&page, "http_request_duration_seconds_sum", &[route]) / count;
    assert!((mean - expect.mean()).abs() < 0.001, "{mean}");
}

#[test]
fn openmetrics_when_asked() {
    let app = fleet(Arc::new(World::new()));
    let l = labels("web");
    let pod = view(&l, "shop/web:1", "app", at(0.0), 0);
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::ACCEPT,
        "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
            .parse()
            .unwrap(),
    );
    let r = app
        .http(
            &pod,
            &request("/metrics", &headers, &http::Method::GET),
            at(60.0),
        )
        .unwrap();
    assert_eq!(
        r.content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let body = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(body.contains("# TYPE http_requests counter\n"));
    assert!(body.contains("# TYPE process_cpu_seconds counter\nprocess_cpu_seconds_total "));
    assert!(body.ends_with("# EOF\n"));
    let text = get(&app, &pod, "/metrics", at(60.0)).unwrap();
    assert_eq!(
        text.content_type,
        "text/plain; version=0.0.4; charset=utf-8"
    );
}

#[test]
fn the_worker_queue_backs_up_while_its_dependency_is_down() {
    let world = Arc::new(World::new());
    world.add(fault(
        "redis",
        FaultKind::DependencyDown,
        300.0,
        Some(600.0),
    ));
    world.add(fault(
        "worker",
        FaultKind::Errors { rate: 0.5 },
        900.0,
        Some(1_000.0),
    ));
    let app = fleet(world);
    let l = labels("worker");
    let pod = view(&l, "code/worker:1", "app", at(0.0), 0);
    let depth = |s: f64| {
        sample(
            &scrape(&app, &pod, "/metrics", at(s)),
            "jobs_queue_depth{queue=\"default\"}",
        )
        .unwrap()
    };
    let (calm, down, after, drained) = (depth(250.0), depth(590.0), depth(650.0), depth(899.0));
    assert!(calm < 30.0, "{calm}");
    assert!(down > 2_000.0, "{down}");
    assert!(after < down && after > calm, "{after}");
    assert!(drained < 30.0, "{drained}");
    // Another replica sees the same queue.
    let other = PodView {
        uid: "uid-2",
        ..pod
    };
    assert_eq!(
        depth(590.0),
        sample(
            &scrape(&app, &other, "/metrics", at(590.0)),
            "jobs_queue_depth{queue=\"default\"}"
        )
        .unwrap()
    );
    let jobs = |s: f64, name: &str| {
        sample(
            &scrape(&app, &pod, "/metrics", at(s)),
            &format!("{name}{{queue=\"default\"}}"),
        )
        .unwrap()
    };
    assert_eq!(
        jobs(340.0, "jobs_processed_total"),
        jobs(590.0, "jobs_processed_total"),
        "nothing done while down"
    );
    let failed = jobs(1_000.0, "jobs_failed_total") - jobs(900.0, "jobs_failed_total");
    let done = jobs(1_000.0, "jobs_processed_total") - jobs(900.0, "jobs_processed_total");
    assert!((failed / done - 0.5).abs() < 0.05, "{failed}/{done}");
}

#[test]
fn the_db_pool_empties_when_the_database_is_down() {
    let world = Arc::new(World::new());
    world.add(fault(
        "postgres",
        FaultKind::DependencyDown,
        300.0,
        Some(400.0),
    ));
    let app = fleet(world);
    let l = labels("arq-backend");
    let pod = view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0);
    for s in [60.0, 200.0, 299.0] {
        let used = sample(
            &scrape(&app, &pod, "/api/v1/metrics", at(s)),
            "db_pool_connections_in_use",
        )
        .unwrap();
        assert!((1.0..=20.0).contains(&used), "{used}");
    }
    assert_eq!(
        sample(
            &scrape(&app, &pod, "/api/v1/metrics", at(350.0)),
            "db_pool_connections_in_use"
        ),
        Some(0.0)
    );
}

#[test]
fn exporters_report_their_datastore_down() {
    let world = Arc::new(World::new());
    world.add(fault(
        "postgres",
        FaultKind::DependencyDown,
        300.0,
        Some(400.0),
    ));
    world.add(fault("redis", FaultKind::DependencyDown, 300.0, None));
    let app = fleet(world);
    let pg = labels("postgres");
    let exporter = view(
        &pg,
        "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
        "exporter",
        at(0.0),
        0,
    );
    let page = scrape(&app, &exporter, "/metrics", at(200.0));
    assert_eq!(sample(&page, "pg_up"), Some(1.0));
    assert!(
        sample(
            &page,
            "pg_stat_database_numbackends{datid=\"16384\",datname=\"postgres\"}"
        )
        .unwrap()
            > 0.0
    );
    let page = scrape(&app, &exporter, "/metrics", at(350.0));
    assert_eq!(sample(&page, "pg_up"), Some(0.0));
    assert_eq!(sample(&page, "pg_exporter_last_scrape_error"), Some(1.0));
    assert!(!page.contains("pg_stat_database_numbackends"));
    assert_eq!(
        sample(&scrape(&app, &exporter, "/metrics", at(450.0)), "pg_up"),
        Some(1.0)
    );
    // The catalog's own image in a container named `exporter` is the sidecar too.
    let sidecar = view(&pg, "postgres:16", "exporter", at(0.0), 0);
    assert_eq!(
        sample(&scrape(&app, &sidecar, "/metrics", at(200.0)), "pg_up"),
        Some(1.0)
    );

    let rd = labels("redis");
    let exporter = view(
        &rd,
        "oliver006/redis_exporter:v1.58.0",
        "exporter",
        at(0.0),
        0,
    );
    let page = scrape(&app, &exporter, "/metrics", at(200.0));
    assert_eq!(sample(&page, "redis_up"), Some(1.0));
    assert!(sample(&page, "redis_connected_clients").unwrap() > 0.0);
    assert!(sample(&page, "redis_memory_used_bytes").unwrap() > 1e6);
    let before = sample(&page, "redis_commands_processed_total").unwrap();
    let page = scrape(&app, &exporter, "/metrics", at(900.0));
    assert_eq!(sample(&page, "redis_up"), Some(0.0));
    assert!(sample(&page, "redis_connected_clients").is_none());
    let later = scrape(&app, &exporter, "/metrics", at(299.0));
    assert!(sample(&later, "redis_commands_processed_total").unwrap() > before);
}
