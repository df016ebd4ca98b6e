//! A series' reads agree with a naive filter of every sample it holds: windows anywhere (inside
//! the head, across closed chunks and the head, before and after chunks close or are evicted)
//! and `at_or_before`.

use proptest::prelude::*;

use super::super::STALE_NAN_BITS;
use super::super::series::{Appended, Series};

/// Strictly increasing timestamps: regular scrapes with jitter, bursts, gaps of a few minutes and
/// of months (which no checkpoint can hold).
fn timestamps() -> impl Strategy<Value = Vec<i64>> {
    let step = prop_oneof![
        8 => (-40i64..40).prop_map(|j| 15_000 + j),
        1 => 1i64..5,
        1 => 60_000i64..3_600_000,
        1 => Just(90 * 86_400_000i64),
    ];
    (any::<i32>(), prop::collection::vec(step, 0..400)).prop_map(|(start, steps)| {
        steps
            .iter()
            .scan(i64::from(start), |t, step| {
                *t += step;
                Some(*t)
            })
            .collect()
    })
}

fn values() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => (0u32..1_000).prop_map(|n| f64::from(n).to_bits()),
        2 => any::<u64>(),
        1 => Just(STALE_NAN_BITS),
        1 => Just(f64::NAN.to_bits()),
        1 => Just(0x7ff8_0000_0000_0001u64),
    ]
}

/// How long a head may span: unbounded (closes at 120 samples), the default hour's half, the
/// store's pressure span, and less than a minute (chunks of a few samples).
fn spans() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MAX),
        Just(1_800_000i64),
        Just(300_000i64),
        Just(50_000i64)
    ]
}

fn naive_range(all: &[(i64, u64)], start: i64, end: i64) -> Vec<(i64, u64)> {
    all.iter()
        .copied()
        .filter(|&(t, _)| start <= t && t <= end)
        .collect()
}

fn bits(samples: &[(i64, f64)]) -> Vec<(i64, u64)> {
    samples.iter().map(|&(t, v)| (t, v.to_bits())).collect()
}

/// Windows around the samples' own timestamps (±1 ms, so both inclusive ends are hit) and
/// beyond them.
fn windows(all: &[(i64, u64)], picks: &[(usize, usize, i64, i64)]) -> Vec<(i64, i64)> {
    let t = |i: usize| all.get(i % all.len().max(1)).map_or(0, |s| s.0);
    let mut out: Vec<(i64, i64)> = picks
        .iter()
        .map(|&(a, b, da, db)| (t(a) + da, t(b) + db))
        .collect();
    if let (Some(first), Some(last)) = (all.first(), all.last()) {
        out.push((first.0, last.0));
        out.push((last.0 - 300_000 + 1, last.0));
        out.push((last.0 - 60_000, last.0 + 1));
        out.push((i64::MIN, i64::MAX));
        out.push((last.0 + 1, i64::MAX));
        out.push((i64::MIN, first.0 - 1));
    }
    out
}

fn check(series: &Series, all: &[(i64, u64)], picks: &[(usize, usize, i64, i64)]) {
    let mut reused = vec![(-1, 0.5)];
    for (start, end) in windows(all, picks) {
        let want = naive_range(all, start, end);
        assert_eq!(bits(&series.range(start, end)), want, "[{start}, {end}]");
        reused.truncate(1);
        series.range_into(start, end, &mut reused);
        assert_eq!(reused.first(), Some(&(-1, 0.5)), "range_into appends");
        assert_eq!(
            bits(reused.get(1..).unwrap_or(&[])),
            want,
            "[{start}, {end}]"
        );
        for at in [start, end] {
            let naive = all.iter().copied().take_while(|&(t, _)| t <= at).last();
            assert_eq!(series.at_or_before(at), naive, "at {at}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn reads_agree_with_a_naive_filter(
        ts in timestamps(),
        vs in prop::collection::vec(values(), 400),
        span in spans(),
        split in any::<prop::sample::Index>(),
        evict in 0usize..4,
        picks in prop::collection::vec((any::<usize>(), any::<usize>(), -1i64..=1, -1i64..=1), 12),
    ) {
        let samples: Vec<(i64, u64)> = ts.iter().copied().zip(vs.iter().copied()).collect();
        let (early, late) = samples.split_at(split.index(samples.len() + 1));
        let mut series = Series::new(Box::new([]));
        let mut all = Vec::new();
        for (part, evict) in [(early, 0), (late, evict)] {
            for &(t, v) in part {
                prop_assert_eq!(series.append(t, v, span), Appended::Yes);
                all.push((t, v));
            }
            check(&series, &all, &picks);
            // Eviction drops the oldest closed chunks; the head's copy of the newest one's
            // checkpoints must still be right (or unused) after.
            for _ in 0..evict {
                if let Some((n, _)) = series.pop_oldest() {
                    all.drain(..n);
                }
            }
            check(&series, &all, &picks);
        }
    }
}

/// Near the memory cap (heads spanning at most `PRESSURE_SPAN_MS`) heads take and hand on no
/// checkpoints, so the cap holds as much history as before checkpoints existed; with the usual
/// half-hour heads they do, and reads agree either way.
#[test]
fn heads_take_no_checkpoints_under_memory_pressure() {
    let checkpoints = |span: i64| {
        let mut series = Series::new(Box::default());
        for i in 0..200i64 {
            assert_eq!(series.append(i * 15_000, i as u64, span), Appended::Yes);
        }
        let head = series.head.as_ref().expect("a head");
        let held = head.checkpoints().len() + head.prev_checkpoints().len();
        let all: Vec<u64> = series
            .range(0, i64::MAX)
            .iter()
            .map(|s| s.1.to_bits())
            .collect();
        assert_eq!(all, (0..200).collect::<Vec<u64>>(), "span {span}");
        let tail: Vec<u64> = series
            .range(190 * 15_000, i64::MAX)
            .iter()
            .map(|s| s.1.to_bits())
            .collect();
        assert_eq!(tail, (190..200).collect::<Vec<u64>>(), "span {span}");
        held
    };
    assert_eq!(checkpoints(super::super::PRESSURE_SPAN_MS), 0);
    assert!(checkpoints(30 * 60_000) > 0);
}
