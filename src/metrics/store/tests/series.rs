//! A series' reads agree with a naive filter of every sample it holds: windows anywhere (inside
//! the head, across closed chunks and the head, before and after chunks close or are evicted)
//! and `at_or_before`.

use proptest::prelude::*;

use super::super::STALE_NAN_BITS;
use super::super::functions::CounterWindow;
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
        // Windows starting at (or just after) each of the newest samples, to the newest: so at
        // and around every checkpoint a head keeps, and its predecessor.
        for &(t, _) in all.iter().rev().take(64) {
            out.push((t, last.0));
            out.push((t + 1, last.0));
        }
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
        for drop_values in [false, true] {
            let samples = want
                .iter()
                .filter(|&&(_, v)| v != STALE_NAN_BITS)
                .map(|&(t, v)| (t, f64::from_bits(v)));
            let naive = CounterWindow::from_samples(samples, drop_values);
            let got = series.counter_window(start, end, drop_values);
            let same = match (&got, &naive) {
                (Some(got), Some(naive)) => got.same_as(naive),
                (got, naive) => got.is_none() && naive.is_none(),
            };
            assert!(
                same,
                "counter window [{start}, {end}] (drop values: {drop_values}): \
                 {got:?}, from the samples {naive:?}"
            );
        }
    }
}

/// Counter values: mostly rising, sometimes flat, now and then reset, with the odd NaN and, in
/// some series, staleness markers. Rare enough that most chunks have none of the last three, so
/// the summarised path of a counter window runs as well as the decoded one. Some series reset
/// often instead of staying flat (their drops are then counted from summaries).
fn counter_values() -> impl Strategy<Value = Vec<u64>> {
    let step = prop_oneof![
        150 => (1u32..100).prop_map(|n| Some(f64::from(n))),
        50 => Just(Some(0.0)),
        1 => Just(Some(-1.0)),
        1 => Just(None),
        1 => Just(Some(f64::NAN)),
    ];
    let steps = prop::collection::vec(step, 400);
    let flags = (prop::bool::weighted(0.3), prop::bool::weighted(0.3));
    (steps, flags).prop_map(|(steps, (stale, bumpy))| {
        let mut v = 0.0f64;
        steps
            .into_iter()
            .map(|step| match step {
                None if stale => STALE_NAN_BITS,
                None => v.to_bits(),
                Some(d) if d == 0.0 && bumpy => {
                    v = 3.0;
                    v.to_bits()
                }
                Some(d) if d.is_nan() => f64::NAN.to_bits(),
                Some(d) if d < 0.0 => {
                    v = 3.0;
                    v.to_bits()
                }
                Some(d) => {
                    v += d;
                    v.to_bits()
                }
            })
            .collect()
    })
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
        reads_agree(&ts, &vs, span, split, evict, &picks)?;
    }

    #[test]
    fn counter_windows_agree_with_the_samples(
        ts in timestamps(),
        vs in counter_values(),
        span in spans(),
        split in any::<prop::sample::Index>(),
        evict in 0usize..4,
        picks in prop::collection::vec((any::<usize>(), any::<usize>(), -1i64..=1, -1i64..=1), 12),
    ) {
        reads_agree(&ts, &vs, span, split, evict, &picks)?;
    }
}

/// Appends the samples in two parts, checking every read after each part and after evicting
/// the oldest chunks.
fn reads_agree(
    ts: &[i64],
    vs: &[u64],
    span: i64,
    split: prop::sample::Index,
    evict: usize,
    picks: &[(usize, usize, i64, i64)],
) -> Result<(), TestCaseError> {
    {
        let samples: Vec<(i64, u64)> = ts.iter().copied().zip(vs.iter().copied()).collect();
        let (early, late) = samples.split_at(split.index(samples.len() + 1));
        let mut series = Series::new(Box::new([]));
        let mut all = Vec::new();
        for (part, evict) in [(early, 0), (late, evict)] {
            for &(t, v) in part {
                prop_assert_eq!(series.append(t, v, span), Appended::Yes);
                all.push((t, v));
            }
            check(&series, &all, picks);
            // Eviction drops the oldest closed chunks; the head's copy of the newest one's
            // checkpoints must still be right (or unused) after.
            for _ in 0..evict {
                if let Some((n, _)) = series.pop_oldest() {
                    all.drain(..n);
                }
            }
            check(&series, &all, picks);
        }
    }
    Ok(())
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

/// A window over whole chunks with drops takes their values from the chunks' exact sums, which
/// must give Prometheus's answer to the bit: `(last - first) + d1 + d2 + ...`, added in order.
/// Where a sum in another order would round differently (fractional values, or values past the
/// exact limit), the window lists the values instead.
#[test]
fn summed_drop_values_give_the_sequential_answer() {
    let counter = |drops: &[f64], last: f64| {
        let mut values = vec![0.0];
        for &d in drops {
            values.extend([d, 0.0]);
        }
        values.extend((1..=190).map(f64::from));
        values.push(last);
        let mut series = Series::new(Box::default());
        for (i, v) in values.iter().enumerate() {
            let t = i as i64 * 15_000;
            assert_eq!(series.append(t, v.to_bits(), i64::MAX), Appended::Yes);
        }
        assert!(!series.closed.is_empty(), "the drops are in a closed chunk");
        let got = series.counter_window(0, i64::MAX, true).expect("a window");
        let samples = values
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as i64 * 15_000, v));
        let naive = CounterWindow::from_samples(samples, true).expect("a window");
        assert!(got.same_as(&naive), "{got:?} vs {naive:?}");
        got
    };
    let sequential = |base: f64, drops: &[f64]| drops.iter().fold(base, |acc, d| acc + d);
    // Integers: summed, and the same as adding them one by one.
    let whole = counter(&[7.0, 12.0, 3.0], 1000.0);
    assert_eq!(whole.summed_drops, Some(22.0));
    assert_eq!(
        whole.add_drops(1000.0),
        sequential(1000.0, &[7.0, 12.0, 3.0])
    );
    // A chunk dropping as a gauge does (every other sample) keeps no sum: it is decoded, and
    // its values listed.
    let gauge = counter(&[5.0; 40], 1000.0);
    assert_eq!((gauge.drops, gauge.summed_drops), (40, None));
    assert_eq!(gauge.drop_values, vec![5.0; 40]);
    // 1000 + 0.1 + 0.2 is not 1000 + (0.1 + 0.2): listed.
    let fractional = counter(&[0.1, 0.2], 1000.0);
    assert_eq!(fractional.summed_drops, None);
    assert_eq!(
        fractional.add_drops(1000.0).to_bits(),
        sequential(1000.0, &[0.1, 0.2]).to_bits()
    );
    // Fractions adding up to an integer: 2^51 + 0.25 + 0.25 + 0.5 rounds to 2^51 + 0.5, while
    // 2^51 + 1 is exact. The chunk's sum is not exact (its terms are not integers): listed.
    let limit = super::super::functions::EXACT_LIMIT;
    let halves = counter(&[0.25, 0.25, 0.5], limit);
    assert_eq!(halves.summed_drops, None);
    assert_eq!(halves.add_drops(limit), limit + 0.5);
    // 2^53 + 1 + 1 rounds to 2^53 twice, 2^53 + 2 does not: a last value past the limit lists.
    let huge = 9_007_199_254_740_992.0;
    let past = counter(&[1.0, 1.0], huge);
    assert_eq!(past.summed_drops, None);
    assert_eq!(past.add_drops(huge).to_bits(), huge.to_bits());
    assert_eq!(past.drop_sum(), 2.0);
}
