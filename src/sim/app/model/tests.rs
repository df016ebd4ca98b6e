use std::sync::Arc;

use super::*;
use crate::sim::app::profile::Behaviour;
use crate::sim::app::testing::{at, catalog, fault, labels, view};
use crate::sim::app::tuned::{DEFAULT_OOM_AFTER, MIB};
use crate::sim::world::{FaultKind, World};

fn arq() -> Profile {
    catalog().remove(0).1
}

#[test]
fn versions_override_the_normal_behaviour_field_by_field() {
    let mut p = arq();
    p.normal.p50_ms = Some(40.0);
    p.normal.flapping_readiness = Some(true);
    let normal = Tuned::resolve(&p, "2.4.1");
    assert!(
        (normal.error_rate - 0.001).abs() < 1e-12,
        "the default error rate"
    );
    assert!((normal.p50 - 0.040).abs() < 1e-12);
    assert!(normal.flapping && normal.oom_after.is_none());
    let bad = Tuned::resolve(&p, "2.5.0");
    assert_eq!(bad.error_rate, 0.2);
    assert!(
        (bad.p50 - 0.040).abs() < 1e-12,
        "unset fields keep the normal value"
    );
    // `-oom` tags leak, and still take their base version's overrides.
    let oom = Tuned::resolve(&p, "2.5.0-oom");
    assert_eq!(oom.error_rate, 0.2);
    assert_eq!(oom.oom_after, Some(DEFAULT_OOM_AFTER));
    assert_eq!(oom.limit, 512.0 * MIB);
}

#[test]
fn nonsense_in_the_profile_is_clamped() {
    let mut p = arq();
    p.normal = Behaviour {
        error_rate: Some(f64::NAN),
        p50_ms: Some(-5.0),
        p95_ms: Some(f64::INFINITY),
        startup_seconds: Some(-1.0),
        memory_mib: Some(1e300),
        crash_after_seconds: Some(f64::NAN),
        oom_after_seconds: Some(-3.0),
        ..Behaviour::default()
    };
    p.memory_limit_mib = Some(-1.0);
    p.requests_per_second = Some(f64::NAN);
    let t = Tuned::resolve(&p, "x");
    assert!(t.error_rate.is_finite() && (0.0..=1.0).contains(&t.error_rate));
    assert!(t.p50 > 0.0 && t.p95 >= t.p50 && t.p95.is_finite());
    assert!(t.limit > t.memory && t.memory.is_finite());
    assert!(t.crash_after.is_none() && t.oom_after.is_none());
    assert!(t.rps.is_finite() && t.rps > 0.0);
}

#[test]
fn counters_are_monotonic_across_fault_windows_and_reset_on_restart() {
    let world = World::new();
    world.add(fault(
        "arq-backend",
        FaultKind::Errors { rate: 0.5 },
        100.0,
        Some(200.0),
    ));
    world.add(fault(
        "arq-backend",
        FaultKind::Latency {
            extra: jiff::SignedDuration::from_secs(2),
        },
        150.0,
        Some(260.0),
    ));
    world.add(fault(
        "postgres",
        FaultKind::DependencyDown,
        300.0,
        Some(400.0),
    ));
    let l = labels("arq-backend");
    let p = arq();
    let pod = view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0);
    let inst = Instance::new(pod, &p, &world);
    let mut last = Totals::default();
    for s in (0..=600).map(|i| f64::from(i) * 1.0) {
        let tot = inst.totals(secs(at(s)));
        assert!(tot.requests >= last.requests - 1e-9, "requests at {s}");
        assert!(tot.errors >= last.errors - 1e-9, "errors at {s}");
        assert!(tot.unavailable >= last.unavailable - 1e-9);
        assert!(tot.cpu_seconds >= last.cpu_seconds - 1e-12);
        for (a, b) in tot.buckets.iter().zip(&last.buckets) {
            assert!(a >= &(b - 1e-9));
        }
        assert!(tot.buckets.windows(2).all(|w| w[0] <= w[1] + 1e-9));
        assert!(tot.buckets[BUCKETS.len() - 1] <= tot.requests + 1e-9);
        last = tot;
    }
    // The error window adds errors at its rate; the dependency window drains, then stops traffic.
    let d = |a: f64, b: f64| {
        let (x, y) = (inst.totals(secs(at(a))), inst.totals(secs(at(b))));
        (
            y.requests - x.requests,
            y.errors - x.errors,
            y.unavailable - x.unavailable,
        )
    };
    let (reqs, errs, _) = d(110.0, 190.0);
    assert!((errs / reqs - 0.501).abs() < 1e-6, "{}", errs / reqs);
    let (reqs, errs, _) = d(20.0, 90.0);
    assert!((errs / reqs - 0.001).abs() < 1e-9);
    let (reqs, _, unavailable) = d(300.0, 330.0);
    assert!(
        reqs > 0.0 && (unavailable - reqs).abs() < 1e-9,
        "draining: all 503"
    );
    let (reqs, _, _) = d(331.0, 399.0);
    assert_eq!(reqs, 0.0, "unready while the database is down");
    // Latency: most requests are slower than 2 s while the latency fault is on.
    let (x, y) = (inst.totals(secs(at(200.0))), inst.totals(secs(at(250.0))));
    let under_1s = y.buckets[7] - x.buckets[7];
    assert!(
        under_1s < 1e-9 * y.requests,
        "le=1 over the window: {under_1s}"
    );
    assert!(
        y.buckets[8] - x.buckets[8] > 0.9 * (y.requests - x.requests),
        "le=2.5"
    );

    // A restart starts over.
    let again = view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(500.0), 1);
    let fresh = Instance::new(again, &p, &world);
    assert!(fresh.totals(secs(at(510.0))).requests < last.requests / 10.0);
    assert_eq!(fresh.totals(secs(at(500.0))).requests, 0.0);
}

#[test]
fn error_share_over_a_long_window_follows_the_error_rate() {
    let world = World::new();
    let l = labels("arq-backend");
    let p = arq();
    for (tag, rate) in [("2.4.1", 0.001), ("2.5.0", 0.2)] {
        let image = format!("ghcr.io/arq/arq-backend:{tag}");
        let pod = view(&l, &image, "app", at(0.0), 0);
        let inst = Instance::new(pod, &p, &world);
        let tot = inst.totals(secs(at(6.0 * 3600.0)));
        assert!(tot.requests > 400_000.0, "{}", tot.requests);
        assert!((tot.errors / tot.requests - rate).abs() < 1e-9);
    }
}

#[test]
fn cpu_follows_load_and_errors_and_integrates_to_the_counter() {
    let world = World::new();
    world.add(fault(
        "arq-backend",
        FaultKind::Errors { rate: 0.6 },
        300.0,
        None,
    ));
    let l = labels("arq-backend");
    let p = arq();
    let pod = view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0);
    let inst = Instance::new(pod, &p, &world);
    assert_eq!(
        inst.cpu_millicores(secs(at(1.0))),
        Instance::BOOT_MILLICORES
    );
    let calm = inst.cpu_millicores(secs(at(200.0)));
    let failing = inst.cpu_millicores(secs(at(400.0)));
    assert!(calm > 50.0 && failing > calm * 1.5, "{calm} {failing}");
    // The counter is the integral of the gauge.
    let (a, b) = (secs(at(100.0)), secs(at(700.0)));
    let riemann: f64 = (0..6000)
        .map(|i| inst.cpu_millicores(a + (f64::from(i) + 0.5) * 0.1) * 0.1 / 1000.0)
        .sum();
    let counter = inst.totals(b).cpu_seconds - inst.totals(a).cpu_seconds;
    assert!(
        (riemann - counter).abs() < 1e-3 * counter,
        "{riemann} vs {counter}"
    );
}

#[test]
fn memory_leaks_to_the_limit_for_oom_tags() {
    let world = World::new();
    let l = labels("arq-backend");
    let p = arq();
    let pod = view(&l, "ghcr.io/arq/arq-backend:2.4.1-oom", "app", at(0.0), 0);
    let inst = Instance::new(pod, &p, &world);
    let (oom_at, exit) = inst.exit.unwrap();
    assert_eq!(exit, Exit::oom_killed());
    let age = oom_at - inst.start;
    assert!((87.0..93.0).contains(&age), "{age}");
    let m = |s: f64| inst.memory(inst.start + s);
    assert!(m(10.0) < m(40.0) && m(40.0) < m(80.0));
    assert!(m(age - 0.01) > 0.99 * inst.tuned.limit);
    assert!(m(age) <= inst.tuned.limit);
    let healthy = Instance::new(
        view(&l, "ghcr.io/arq/arq-backend:2.4.1", "app", at(0.0), 0),
        &p,
        &world,
    );
    assert!(healthy.exit.is_none());
    assert!(healthy.memory(healthy.start + 600.0) < 0.5 * healthy.tuned.limit);
    let _ = Arc::new(world);
}

#[test]
fn flapping_fails_about_a_third_of_its_slots() {
    let world = World::new();
    let l = labels("arq-backend");
    let mut p = arq();
    p.normal.flapping_readiness = Some(true);
    let inst = Instance::new(
        view(&l, "ghcr.io/arq/arq-backend:1", "app", at(0.0), 0),
        &p,
        &world,
    );
    let slots = 2_000;
    let failing = (0..slots)
        .filter(|i| inst.flap_failing(inst.start + 20.0 + FLAP_SLOT_SECONDS * f64::from(*i)))
        .count();
    let share = failing as f64 / f64::from(slots);
    assert!((share - FLAP_SHARE).abs() < 0.05, "{share}");
    // Constant within a slot.
    let t = inst.start + 4_000.0;
    let slot = (t / FLAP_SLOT_SECONDS).floor() * FLAP_SLOT_SECONDS;
    assert_eq!(
        inst.flap_failing(slot + 0.1),
        inst.flap_failing(slot + 39.9)
    );
}
