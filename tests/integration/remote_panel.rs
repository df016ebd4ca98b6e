//! The remote panel against a real Prometheus (Debian's package) scraping the seeds fleet's
//! prod-eastus: `remote::panel::panel`'s newest points must agree with `remote::golden::golden`
//! at the same instant (the tables' numbers), and a pod's panel must have its CPU and memory.

use std::time::{Duration, Instant};

use watchfloor::kube::{Kind, ObjKey};
use watchfloor::metrics::queries::PANEL_POINTS;
use watchfloor::metrics::remote::golden::golden;
use watchfloor::metrics::remote::panel::panel;
use watchfloor::state::metrics::Panel;

use crate::prometheus::{Prometheus, settled_targets};
use crate::support::have;

const CLUSTER: &str = "prod-eastus";
/// The rate window: 30 one-second scrapes.
const RATE_WINDOW: Duration = Duration::from_secs(30);
const PANEL_WINDOW: u64 = 300;

fn close(what: &str, panel: Option<f64>, golden: Option<f64>) {
    match (panel, golden) {
        (Some(a), Some(b)) => {
            let tolerance = (b.abs() * 0.05).max(1e-6);
            assert!(
                (a - b).abs() <= tolerance,
                "{what}: panel() {a} vs golden() {b} (tolerance {tolerance})"
            );
        }
        (None, None) => {}
        other => panic!("{what}: panel() vs golden() {other:?}"),
    }
}

/// The newest point of a row (the one at `now`), None when the row was dropped or has no value
/// there.
fn newest(p: &Panel, label: &str) -> Option<f64> {
    let row = p.rows.iter().find(|r| r.label == label)?;
    assert_eq!(row.points.len(), PANEL_POINTS, "{label}");
    row.points.last().copied().flatten()
}

#[test]
fn remote_panel_newest_points_match_golden_at_the_same_instant() {
    if !have("prometheus") {
        return;
    }
    let fleet = crate::seeds::seeds();
    let targets = settled_targets(&fleet, CLUSTER);
    let mut prom = Prometheus::scraping(&fleet, CLUSTER, &targets);
    prom.until_all_up(targets.len());
    // A full rate window of samples after every target is up.
    std::thread::sleep(RATE_WINDOW + Duration::from_secs(10));
    let now = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(2);

    let client = prom.client("prod");
    let clusters = [(0, CLUSTER.to_string())];
    let tables = fleet
        .runtime
        .block_on(golden(&client, &clusters, now, RATE_WINDOW))
        .unwrap_or_else(|e| panic!("{e}\n{}", prom.log()));

    let workload = ObjKey::new("arq", "arq-backend");
    let began = Instant::now();
    let p = fleet
        .runtime
        .block_on(panel(
            &client,
            &clusters,
            0,
            Kind::Deployment,
            &workload,
            PANEL_WINDOW,
            RATE_WINDOW,
            now,
        ))
        .unwrap_or_else(|e| panic!("{e}\n{}", prom.log()));
    let labels: Vec<_> = p.rows.iter().map(|r| r.label).collect();
    eprintln!(
        "panel(arq/arq-backend): {labels:?} in {:?}, empty_reason {:?}",
        began.elapsed(),
        p.empty_reason
    );
    let g = tables
        .workloads
        .get(&(0, workload.clone()))
        .unwrap_or_else(|| panic!("golden() has no arq/arq-backend: {tables:?}"));
    eprintln!(
        "newest: rate {:?} vs {:?}, 5xx {:?} vs {:?}, p95 {:?} vs {:?}",
        newest(&p, "requests/s"),
        g.rate,
        newest(&p, "5xx ratio"),
        g.error_ratio,
        newest(&p, "p95 latency"),
        g.p95
    );
    assert!(g.rate.is_some_and(|r| r > 0.0), "{g:?}");
    close("requests/s", newest(&p, "requests/s"), g.rate);
    close("5xx ratio", newest(&p, "5xx ratio"), g.error_ratio);
    close("p95 latency", newest(&p, "p95 latency"), g.p95);
    assert!(
        labels.iter().all(|l| !["cpu", "memory"].contains(l)),
        "{labels:?}"
    );
    assert_eq!(p.empty_reason, None);
    // Prometheus has scraped for well under the 300 s window: the older points have no value,
    // the newer ones have (every 5 s since it came up, less the first rate window).
    let rate = p
        .rows
        .iter()
        .find(|r| r.label == "requests/s")
        .expect("row");
    let with_data = rate.points.iter().filter(|v| v.is_some()).count();
    eprintln!("requests/s: {with_data} of {PANEL_POINTS} points with data");
    assert!(
        (3..PANEL_POINTS / 2).contains(&with_data),
        "{:?}",
        rate.points
    );
    assert_eq!(rate.points.first(), Some(&None));

    // A pod of it: the same rows plus CPU and memory (process metrics: no cAdvisor here).
    let pod = tables
        .pods
        .iter()
        .find(|((_, k), u)| {
            k.namespace == "arq"
                && k.name.starts_with("arq-backend-")
                && u.cpu.is_some()
                && u.memory.is_some()
        })
        .map(|((_, k), u)| (k.clone(), *u))
        .unwrap_or_else(|| panic!("no arq-backend pod with usage: {:?}", tables.pods));
    let p = fleet
        .runtime
        .block_on(panel(
            &client,
            &clusters,
            0,
            Kind::Pod,
            &pod.0,
            PANEL_WINDOW,
            RATE_WINDOW,
            now,
        ))
        .unwrap_or_else(|e| panic!("{e}\n{}", prom.log()));
    let labels: Vec<_> = p.rows.iter().map(|r| r.label).collect();
    eprintln!(
        "panel({}): {labels:?}, cpu {:?} vs {:?}, memory {:?} vs {:?}",
        pod.0.name,
        newest(&p, "cpu"),
        pod.1.cpu,
        newest(&p, "memory"),
        pod.1.memory
    );
    for l in ["requests/s", "cpu", "memory"] {
        assert!(labels.contains(&l), "{l} missing: {labels:?}");
    }
    close("cpu", newest(&p, "cpu"), pod.1.cpu);
    close("memory", newest(&p, "memory"), pod.1.memory);
}
