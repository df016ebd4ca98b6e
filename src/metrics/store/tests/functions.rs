//! The range functions against cases from Prometheus's promqltest `functions.test` (v3.5.0) and
//! `histograms.test`. A range `[r]` evaluated at `t` selects the samples in `(t - r, t]`
//! (Prometheus 3's left-open ranges), which `series` below does.

use super::super::functions::{bucket_quantile, extrapolated_rate, idelta, irate, resets};

const MIN: i64 = 60_000;

/// `load <step>` of `start+incxN` values, as promqltest expands them: N+1 points from t=0.
fn series(step: i64, values: &[f64]) -> Vec<(i64, f64)> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as i64 * step, v))
        .collect()
}

fn expand(start: f64, inc: f64, times: usize) -> Vec<f64> {
    (0..=times).map(|i| start + inc * i as f64).collect()
}

/// The samples of a range `[range]` at `at`: `(at - range, at]`.
fn window(samples: &[(i64, f64)], at: i64, range: i64) -> Vec<(i64, f64)> {
    samples
        .iter()
        .copied()
        .filter(|&(t, _)| t > at - range && t <= at)
        .collect()
}

fn eval(samples: &[(i64, f64)], at: i64, range: i64, counter: bool, rate: bool) -> Option<f64> {
    extrapolated_rate(&window(samples, at, range), at - range, at, counter, rate)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn increase_extrapolates_but_not_below_zero() {
    let foo = series(5 * MIN, &expand(0.0, 10.0, 10));
    let mut bar = expand(0.0, 18.0, 5);
    bar.extend(expand(0.0, 18.0, 5));
    let bar = series(5 * MIN, &bar);
    let dings = series(5 * MIN, &expand(10.0, 10.0, 10));
    let bumms = series(5 * MIN, &expand(1.0, 10.0, 10));
    let cases = [
        (&foo, 50, 100.0, 100),
        (&bar, 50, 160.0, 162),
        (&dings, 50, 100.0, 105),
        (&bumms, 50, 100.0, 101),
    ];
    for (s, at, want_50m, want_100m) in cases {
        let got = eval(s, at * MIN, 50 * MIN, true, false).unwrap();
        assert!(close(got, want_50m), "{got} != {want_50m}");
        let got = eval(s, at * MIN, 100 * MIN, true, false).unwrap();
        assert!(close(got, f64::from(want_100m)), "{got} != {want_100m}");
    }
}

#[test]
fn increase_over_a_counter_reset() {
    let s = series(5 * MIN, &[0.0, 1.0, 2.0, 3.0, 2.0, 3.0, 4.0]);
    assert_eq!(eval(&s, 30 * MIN, 30 * MIN, true, false), Some(7.0));
    assert_eq!(resets(&s), 1);
}

#[test]
fn rate_handles_resets_and_windows() {
    let mut middle = expand(0.0, 27.0, 4);
    middle.extend(expand(0.0, 27.0, 5));
    let middle = series(5 * MIN, &middle);
    let got = eval(&middle, 50 * MIN, 50 * MIN, true, true).unwrap();
    assert!(close(got, 0.08), "{got}");
    let mut end = expand(0.0, 10.0, 9);
    end.extend([0.0, 10.0]);
    let end = series(5 * MIN, &end);
    // [5m] holds one point: no result. [6m] holds two across a reset: 0.
    assert_eq!(eval(&end, 50 * MIN, 5 * MIN, true, true), None);
    assert_eq!(eval(&end, 50 * MIN, 6 * MIN, true, true), Some(0.0));
    let window_total = series(5 * MIN, &expand(0.0, 80.0, 10));
    let got = eval(&window_total, 50 * MIN, 50 * MIN, true, true).unwrap();
    assert!(close(got, 0.266_666_666_666_666_66), "{got}");
    // `offset 5m`: the range ends at 45m.
    let a = series(5 * MIN, &expand(0.0, 10.0, 10));
    let got = eval(&a, 45 * MIN, 10 * MIN, true, true).unwrap();
    assert!(close(got, 0.033_333_333_333_333_33), "{got}");
}

#[test]
fn rate_zero_cutoff_as_prometheus_3() {
    let starts = [0.0, 60.0, 120.0, 180.0, 240.0, 300.0];
    let at_10m = [0.5, 0.55, 0.6, 0.6, 0.6, 0.6];
    for (start, want) in starts.iter().zip(at_10m) {
        let s = series(4 * MIN, &expand(*start, 240.0, 10));
        let got = eval(&s, 10 * MIN, 20 * MIN, true, true).unwrap();
        assert!(close(got, want), "start {start}: {got} != {want}");
        let got = eval(&s, 50 * MIN, 20 * MIN, true, true).unwrap();
        assert!(close(got, 0.6), "start {start} at 50m: {got}");
    }
}

#[test]
fn delta_extrapolates_gauges_without_the_zero_rule() {
    // functions.test: delta(http_requests_total[50m]) at 50m over 0+10x10 on a 5m step is 100
    // ... and a gauge may go down.
    let s = series(5 * MIN, &expand(0.0, 10.0, 10));
    assert_eq!(eval(&s, 50 * MIN, 50 * MIN, false, false), Some(100.0));
    let down = series(5 * MIN, &expand(100.0, -10.0, 10));
    let got = eval(&down, 50 * MIN, 50 * MIN, false, false).unwrap();
    assert!(close(got, -100.0), "{got}");
    // Two points, extrapolated half an interval at the end: 2.5 → within 110% so to the end.
    let pts = [(0, 1.0), (10_000, 3.0)];
    assert_eq!(
        extrapolated_rate(&pts, -1, 10_000, false, false),
        Some(2.0 * 10_001.0 / 10_000.0)
    );
}

#[test]
fn fewer_than_two_points_give_nothing() {
    assert_eq!(extrapolated_rate(&[], 0, 1000, true, true), None);
    assert_eq!(extrapolated_rate(&[(5, 1.0)], 0, 1000, true, true), None);
    assert_eq!(irate(&[(5, 1.0)]), None);
    assert_eq!(idelta(&[]), None);
    assert_eq!(resets(&[]), 0);
}

#[test]
fn irate_uses_the_last_two_points() {
    let foo = series(5 * MIN, &expand(0.0, 10.0, 10));
    let got = irate(&window(&foo, 50 * MIN, 50 * MIN)).unwrap();
    assert!(close(got, 0.033_333_333_333_333_33), "{got}");
    let mut bar = expand(0.0, 10.0, 5);
    bar.extend(expand(0.0, 10.0, 5));
    let bar = series(5 * MIN, &bar);
    // At 30m the last two points straddle the reset (50 then 0): irate is 0/300.
    assert_eq!(irate(&window(&bar, 30 * MIN, 50 * MIN)), Some(0.0));
    assert_eq!(idelta(&[(0, 5.0), (1000, 2.0)]), Some(-3.0));
    assert_eq!(irate(&[(0, 5.0), (1000, 2.0)]), Some(2.0));
    assert_eq!(irate(&[(0, 5.0), (0, 2.0)]), None);
}

fn q(quantile: f64, buckets: &[(f64, f64)]) -> f64 {
    bucket_quantile(quantile, &mut buckets.to_vec())
}

#[test]
fn bucket_quantile_as_prometheus() {
    let inf = f64::INFINITY;
    // histograms.test, testhistogram_bucket{start="positive"} at 5m rate: 0.1 → 0.2, 0.2 → 0.4?
    // Use its load values directly: le 0.1: 50, 0.2: 70, +Inf: 100 (counts at one instant).
    let b = [(0.1, 50.0), (0.2, 70.0), (inf, 100.0)];
    assert!(close(q(0.5, &b), 0.1));
    assert!(close(q(0.6, &b), 0.15));
    assert!(close(q(0.25, &b), 0.05)); // the lowest bucket interpolates from 0
    assert_eq!(q(0.9, &b), 0.2); // in +Inf: the highest finite bound
    assert_eq!(q(-0.1, &b), f64::NEG_INFINITY);
    assert_eq!(q(1.1, &b), f64::INFINITY);
    assert!(q(f64::NAN, &b).is_nan());
    // Any order in.
    assert!(close(
        q(0.6, &[(inf, 100.0), (0.2, 70.0), (0.1, 50.0)]),
        0.15
    ));
    // No +Inf bucket, no observations, a single bucket: NaN.
    assert!(q(0.5, &[(0.1, 5.0), (0.2, 7.0)]).is_nan());
    assert!(q(0.5, &[(0.1, 0.0), (inf, 0.0)]).is_nan());
    assert!(q(0.5, &[(inf, 10.0)]).is_nan());
    assert!(q(0.5, &[]).is_nan());
    // A lowest bucket with a bound at or below 0 is returned as is.
    assert_eq!(q(0.1, &[(-1.0, 10.0), (0.0, 20.0), (inf, 30.0)]), -1.0);
    // Non-monotonic counts are fixed (the dip is raised to its predecessor).
    let dip = [(1.0, 10.0), (2.0, 8.0), (3.0, 20.0), (inf, 20.0)];
    assert!(close(q(0.5, &dip), 1.0));
    assert!(close(q(0.75, &dip), 2.5));
    // Same bound twice (e.g. le="1" and le="1.0") is merged.
    let dup = [(1.0, 5.0), (1.0, 5.0), (inf, 20.0)];
    assert!(close(q(0.25, &dup), 0.5));
}
