use std::sync::Arc;

use crate::sim::app::testing::{at, fault, fleet, get, labels, view};
use crate::sim::app::{App, Unreachable};
use crate::sim::world::{FaultKind, World};

#[test]
fn datastores_accept_tcp_and_exec_probes_unless_down() {
    let world = Arc::new(World::new());
    world.add(fault(
        "postgres",
        FaultKind::DependencyDown,
        100.0,
        Some(200.0),
    ));
    let app = fleet(world);
    let l = labels("postgres");
    let pod = view(&l, "postgres:16.4-alpine", "postgres", at(0.0), 0);
    let isready = ["pg_isready".to_string(), "-U".into(), "postgres".into()];
    assert!(!app.tcp(&pod, 5432, at(1.0)), "starting");
    assert_eq!(app.exec(&pod, &isready, at(1.0)).code, 1);
    assert!(app.tcp(&pod, 5432, at(50.0)));
    let ok = app.exec(&pod, &isready, at(50.0));
    assert_eq!(
        (ok.code, ok.output.as_str()),
        (0, "/var/run/postgresql:5432 - accepting connections\n")
    );
    assert!(!app.tcp(&pod, 5432, at(150.0)));
    assert_eq!(app.exec(&pod, &isready, at(150.0)).code, 2);
    assert!(app.tcp(&pod, 5432, at(200.0)));
    // Not HTTP: the connection opens but no answer comes.
    assert_eq!(get(&app, &pod, "/", at(50.0)), Err(Unreachable::Timeout));
    assert_eq!(get(&app, &pod, "/", at(150.0)), Err(Unreachable::Refused));
    let mut lines = Vec::new();
    app.log_lines(&pod, at(0.0), at(300.0), &mut lines);
    assert!(lines.iter().any(|l| {
        l.text
            .contains("database system is ready to accept connections")
    }));
    assert!(
        lines
            .iter()
            .any(|l| l.text.contains("PANIC:  could not write"))
    );
    assert!(lines.iter().any(|l| {
        l.text
            .contains("FATAL:  the database system is not accepting connections")
    }));

    let r = labels("redis");
    let redis = view(&r, "redis:7", "redis", at(0.0), 0);
    let ping = app.exec(&redis, &["redis-cli".into(), "ping".into()], at(30.0));
    assert_eq!((ping.code, ping.output.as_str()), (0, "PONG\n"));
    assert!(app.tcp(&redis, 6379, at(30.0)));
    assert!(app.cpu_millicores(&redis, at(30.0)) > 0.0);
}

#[test]
fn the_exporter_logs_each_failed_scrape() {
    let world = Arc::new(World::new());
    world.add(fault(
        "postgres",
        FaultKind::DependencyDown,
        100.0,
        Some(160.0),
    ));
    let app = fleet(world);
    let l = labels("postgres");
    let pod = view(
        &l,
        "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
        "exporter",
        at(0.0),
        0,
    );
    let mut lines = Vec::new();
    app.log_lines(&pod, at(0.0), at(300.0), &mut lines);
    assert!(
        lines[0]
            .text
            .contains("msg=\"Listening on address\" address=:9187"),
        "{}",
        lines[0].text
    );
    let errors = lines
        .iter()
        .filter(|l| l.text.contains("level=error"))
        .count();
    assert!((3..=5).contains(&errors), "{errors} scrapes failed in 60 s");
    assert!(
        lines
            .iter()
            .filter(|l| l.text.contains("level=error"))
            .all(|l| l.at >= at(100.0) && l.at < at(160.0))
    );
    assert_eq!(get(&app, &pod, "/", at(10.0)).unwrap().status, 200);
    assert_eq!(get(&app, &pod, "/nope", at(10.0)).unwrap().status, 404);
    assert!(app.next_exit(&pod, at(0.0)).is_none());
}
