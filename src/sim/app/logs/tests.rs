use std::sync::Arc;

use jiff::SignedDuration;

use crate::sim::app::testing::{at, ended_own_way, fault, fleet, labels, view};
use crate::sim::app::{App, Exit, FleetApp, LogLine};
use crate::sim::world::{FaultKind, World};

fn lines(app: &FleetApp, pod: &crate::sim::app::PodView<'_>, from: f64, to: f64) -> Vec<LogLine> {
    let mut out = Vec::new();
    app.log_lines(pod, at(from), at(to), &mut out);
    out
}

fn json(line: &LogLine) -> serde_json::Value {
    serde_json::from_str(&line.text).unwrap_or_else(|e| panic!("{e}: {}", line.text))
}

#[test]
fn json_lines_parse_and_errors_come_in_proportion() {
    let app = fleet(Arc::new(World::new()));
    let l = labels("arq-backend");
    let pod = view(&l, "ghcr.io/arq/arq-backend:2.5.0", "app", at(0.0), 0);
    let all = lines(&app, &pod, 0.0, 7_200.0);
    assert!(all.windows(2).all(|w| w[0].at <= w[1].at));
    let parsed: Vec<_> = all.iter().map(json).collect();
    assert!(
        all.iter()
            .all(|l| l.text.starts_with("{\"ts\":\"2026-01-01T")),
        "ts comes first"
    );
    for v in &parsed {
        for key in ["ts", "level", "logger", "msg"] {
            assert!(v[key].is_string(), "{key} in {v}");
        }
    }
    assert_eq!(parsed[0]["msg"], "Starting Nest application...");
    let access: Vec<_> = parsed.iter().filter(|v| v["status"].is_u64()).collect();
    let failed = access
        .iter()
        .filter(|v| v["status"].as_u64() >= Some(500))
        .count();
    let share = failed as f64 / access.len() as f64;
    assert!(
        access.len() > 12_000,
        "{} access lines at 2/s",
        access.len()
    );
    assert!(
        (share - 0.2).abs() < 0.02,
        "5xx share of the access log: {share}"
    );
    let errors = parsed.iter().filter(|v| v["level"] == "error").count();
    assert_eq!(errors, failed, "one ERROR line per failed request");

    let good = view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0);
    let calm = lines(&app, &good, 0.0, 7_200.0);
    let calm_errors = calm.iter().filter(|l| json(l)["level"] == "error").count();
    assert!(calm_errors < 60, "{calm_errors} errors at 0.1 %");
}

#[test]
fn any_split_of_a_window_gives_the_same_lines() {
    let world = Arc::new(World::new());
    world.add(fault(
        "postgres",
        FaultKind::DependencyDown,
        40.0,
        Some(90.0),
    ));
    let app = fleet(world);
    for (name, image) in [
        ("arq-backend", "ghcr.io/arq/arq-backend:2.5.0"),
        ("export-service", "arxos/export-service:1"),
        ("web", "shop/web:1"),
        ("worker", "code/worker:1"),
        ("postgres", "postgres:16"),
    ] {
        let l = labels(name);
        let container = "app";
        let pod = view(&l, image, container, at(0.0), 0);
        let whole = lines(&app, &pod, 0.0, 120.0);
        assert!(!whole.is_empty(), "{image}");
        for mid in [0.5, 1.7, 2.95, 33.3, 40.0, 71.25, 119.9] {
            let mut parts = lines(&app, &pod, 0.0, mid);
            parts.extend(lines(&app, &pod, mid, 120.0));
            assert_eq!(whole, parts, "{image} split at {mid}");
        }
    }
}

#[test]
fn a_late_window_costs_what_it_holds() {
    let app = fleet(Arc::new(World::new()));
    let l = labels("web");
    let pod = view(&l, "shop/web:1", "app", at(0.0), 0);
    let month = 30.0 * 86_400.0;
    let started = std::time::Instant::now();
    let late = lines(&app, &pod, month, month + 60.0);
    assert!(started.elapsed() < std::time::Duration::from_millis(500));
    assert!(
        (55..=65).contains(&late.len()),
        "{} lines at 1/s",
        late.len()
    );
    assert!(
        late.iter()
            .all(|l| l.at >= at(month) && l.at < at(month + 60.0))
    );
    // Text lines of the plain style: a timestamp, a level and the access line.
    assert!(
        late[0].text.starts_with("2026-01-31T00:0"),
        "{}",
        late[0].text
    );
}

#[test]
fn crashes_end_with_a_stack_trace_oom_in_silence_sigterm_gracefully() {
    let mut catalog = crate::sim::app::testing::catalog();
    catalog[0].1.normal.crash_after_seconds = Some(50.0);
    catalog[1].1.normal.crash_after_seconds = Some(50.0);
    let app = FleetApp::new(catalog, Arc::new(World::new()));
    // JSON: one line with the stack.
    let l = labels("arq-backend");
    let pod = ended_own_way(
        &app,
        &view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0),
    );
    let (end, exit) = pod.ended.unwrap();
    assert_eq!(exit, Exit::code(1));
    let mut out = Vec::new();
    app.log_lines(&pod, at(0.0), end + SignedDuration::from_nanos(1), &mut out);
    let last = json(out.last().unwrap());
    assert_eq!(last["level"], "error");
    assert!(
        last["stack"]
            .as_str()
            .unwrap()
            .contains("at Connection.<anonymous>")
    );
    assert_eq!(out.last().unwrap().at, end);
    assert!(
        lines(&app, &pod, 0.0, 200.0).iter().all(|l| l.at <= end),
        "nothing after the end"
    );
    // Text: the traceback line by line.
    let l = labels("export-service");
    let pod = ended_own_way(&app, &view(&l, "arxos/export-service:1", "app", at(0.0), 0));
    let text = lines(&app, &pod, 0.0, 200.0);
    assert!(
        text.last().unwrap().text.starts_with("asyncpg.exceptions."),
        "{:?}",
        text.last()
    );
    assert!(
        text.iter()
            .any(|l| l.text == "Traceback (most recent call last):")
    );

    // OOM: the leak warns, then nothing.
    let app = fleet(Arc::new(World::new()));
    let l = labels("arq-backend");
    let pod = ended_own_way(
        &app,
        &view(&l, "ghcr.io/arq/arq-backend:2.4.1-oom", "app", at(0.0), 0),
    );
    let (end, exit) = pod.ended.unwrap();
    assert_eq!(exit, Exit::oom_killed());
    let out = lines(&app, &pod, 0.0, 200.0);
    assert!(
        out.iter()
            .all(|l| l.at < end && json(l).get("stack").is_none())
    );
    assert!(out.iter().any(|l| {
        json(l)["msg"]
            .as_str()
            .unwrap()
            .starts_with("high memory usage")
    }));
    assert!(end.duration_since(out.last().unwrap().at) < SignedDuration::from_secs(5));

    // SIGTERM: the shutdown lines at the stop.
    let mut stopped = view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0);
    stopped.ended = Some((at(30.0), Exit::code(0)));
    let out = lines(&app, &stopped, 0.0, 100.0);
    let tail: Vec<_> = out
        .iter()
        .rev()
        .take(2)
        .map(|l| json(l)["msg"].clone())
        .collect();
    assert_eq!(
        tail,
        [
            "Nest application closed",
            "Received SIGTERM, closing the application"
        ]
    );
    assert!(out.iter().all(|l| l.at <= at(30.0)));
    // Killed after ignoring SIGTERM: silent.
    stopped.ended = Some((at(30.0), Exit::sigkilled()));
    let killed = lines(&app, &stopped, 0.0, 100.0);
    assert!(!killed.is_empty());
    assert!(
        killed
            .iter()
            .all(|l| !l.text.contains("SIGTERM") && !l.text.contains("closed"))
    );
}

#[test]
fn workers_log_jobs_and_a_down_dependency_shows() {
    let world = Arc::new(World::new());
    world.add(fault(
        "redis",
        FaultKind::DependencyDown,
        100.0,
        Some(200.0),
    ));
    let app = fleet(world);
    let l = labels("worker");
    let pod = view(&l, "code/worker:1", "app", at(0.0), 0);
    let calm: Vec<_> = lines(&app, &pod, 10.0, 100.0).iter().map(json).collect();
    assert!(calm.iter().filter(|v| v["job_id"].is_u64()).count() > 60);
    let down: Vec<_> = lines(&app, &pod, 135.0, 200.0).iter().map(json).collect();
    assert!(
        down.iter().all(|v| v["job_id"].is_null()),
        "no jobs while redis is down"
    );
    assert!(
        down.iter()
            .any(|v| v["msg"].as_str().unwrap().contains("redis unavailable"))
    );
    let draining: Vec<_> = lines(&app, &pod, 100.0, 129.0).iter().map(json).collect();
    assert!(
        draining
            .iter()
            .filter(|v| v["job_id"].is_u64())
            .all(|v| v["level"] == "error")
    );
}
