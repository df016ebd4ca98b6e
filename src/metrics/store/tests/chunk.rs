//! The XOR chunk round-trips exactly, compresses regular scrapes well, resumes exactly at its
//! checkpoints, and survives garbage.

use proptest::prelude::*;

use super::super::STALE_NAN_BITS;
use super::super::chunk::{CHECKPOINT_EVERY, Checkpoint, ChunkIter, HeadChunk, KEPT_CHECKPOINTS};

fn encode(samples: &[(i64, u64)]) -> HeadChunk {
    let mut head = HeadChunk::new();
    for &(t, v) in samples {
        head.append(t, v);
    }
    head
}

fn special_bits() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        Just(STALE_NAN_BITS),
        Just(f64::NAN.to_bits()),
        Just(0x7ff8_0000_0000_0001),
        Just(0xfff8_0000_0000_0000),
        Just(f64::INFINITY.to_bits()),
        Just(f64::NEG_INFINITY.to_bits()),
        Just((-0.0f64).to_bits()),
        Just(0.0f64.to_bits()),
        (0u32..1_000_000).prop_map(|n| f64::from(n).to_bits()),
        (0u32..1000).prop_map(|n| (f64::from(n) * 0.1).to_bits()),
    ]
}

fn timestamps() -> impl Strategy<Value = Vec<i64>> {
    prop_oneof![
        // Any values, any order: the encoding itself must not care.
        prop::collection::vec(any::<i64>(), 0..130),
        // Regular scrapes with jitter, the common case.
        (any::<i32>(), prop::collection::vec(-50i64..50, 0..130)).prop_map(|(start, jitter)| {
            jitter
                .iter()
                .enumerate()
                .map(|(i, j)| i64::from(start) + 15_000 * i as i64 + j)
                .collect()
        }),
        // Gaps of every size, so every delta-of-delta bucket is crossed.
        prop::collection::vec(0i64..(1 << 40), 0..130).prop_map(|gaps| {
            gaps.iter()
                .scan(0i64, |t, g| {
                    *t = t.wrapping_add(*g >> (g % 40));
                    Some(*t)
                })
                .collect()
        }),
    ]
}

proptest! {
    #[test]
    fn round_trip_is_exact(
        ts in timestamps(),
        vs in prop::collection::vec(special_bits(), 130),
    ) {
        let samples: Vec<(i64, u64)> = ts.iter().copied().zip(vs.iter().copied()).collect();
        let head = encode(&samples);
        prop_assert_eq!(head.iter().collect::<Vec<_>>(), samples.clone());
        let closed = head.close();
        prop_assert_eq!(closed.iter().collect::<Vec<_>>(), samples);
    }
}

#[test]
fn stale_marker_and_nan_stay_apart() {
    let samples = [
        (1000, 1.5f64.to_bits()),
        (2000, STALE_NAN_BITS),
        (3000, f64::NAN.to_bits()),
        (4000, STALE_NAN_BITS),
    ];
    let decoded: Vec<_> = encode(&samples).iter().collect();
    assert_eq!(decoded, samples);
    assert!(super::super::is_stale(f64::from_bits(decoded[1].1)));
    assert!(!super::super::is_stale(f64::from_bits(decoded[2].1)));
}

/// Bytes a sample for 120 samples at 15 s (with `jitter_ms` of timestamp noise) of `value(i)`.
fn bytes_per_sample(jitter_ms: i64, value: impl Fn(i64) -> f64) -> f64 {
    let samples: Vec<(i64, u64)> = (0..120)
        .map(|i| {
            let jitter = if jitter_ms == 0 {
                0
            } else {
                ((i * 2_654_435_761) >> 7) % (2 * jitter_ms + 1) - jitter_ms
            };
            (1_700_000_000_000 + i * 15_000 + jitter, value(i).to_bits())
        })
        .collect();
    encode(&samples).close().heap_bytes() as f64 / 120.0
}

#[test]
fn regular_scrapes_compress_well() {
    let counter = |i: i64| 123_456.0 + (0..=i).map(|k| ((k * 7919) % 41) as f64).sum::<f64>();
    let figures = [
        ("constant gauge", bytes_per_sample(0, |_| 42.0), 0.5),
        (
            "constant gauge, 5 ms jitter",
            bytes_per_sample(5, |_| 42.0),
            1.5,
        ),
        (
            "slow counter",
            bytes_per_sample(0, |i| (i / 10) as f64),
            1.0,
        ),
        ("busy counter", bytes_per_sample(0, counter), 3.0),
        (
            "busy counter, 5 ms jitter",
            bytes_per_sample(5, counter),
            4.0,
        ),
    ];
    for (what, got, bound) in figures {
        eprintln!("{what}: {got:.2} bytes a sample");
        assert!(got <= bound, "{what}: {got} bytes a sample > {bound}");
    }
}

#[test]
fn empty_and_truncated_chunks_decode_without_panic() {
    assert_eq!(HeadChunk::new().iter().count(), 0);
    let closed = encode(&[(1, 2), (5, 9), (70_000, 1 << 40)]).close();
    assert_eq!(closed.iter().count(), 3);
    let bytes: Vec<u8> = encode(&[(1, 2), (5, 9), (70_000, 1 << 40)])
        .close()
        .data_for_test();
    for cut in 0..bytes.len() {
        let decoded: Vec<_> = ChunkIter::new(&bytes[..cut], 3).collect();
        assert!(decoded.len() < 3, "cut at {cut}");
    }
    // A count larger than the data holds, and garbage.
    assert!(ChunkIter::new(&bytes, 1000).count() < 1000);
    assert!(ChunkIter::new(&[0xff; 40], 100).count() < 100);
}

proptest! {
    /// Resuming at any checkpoint yields exactly the samples from its index on.
    #[test]
    fn checkpoints_resume_exactly(
        ts in timestamps(),
        vs in prop::collection::vec(special_bits(), 130),
    ) {
        let samples: Vec<(i64, u64)> = ts.iter().copied().zip(vs.iter().copied()).collect();
        let head = encode(&samples);
        let data = head.clone().close().data_for_test();
        let count = head.count();
        prop_assert!(head.checkpoints().len() <= KEPT_CHECKPOINTS);
        for cp in head.checkpoints() {
            let index = usize::from(cp.index());
            prop_assert_eq!(index % usize::from(CHECKPOINT_EVERY), 0);
            let resumed: Vec<_> = ChunkIter::resume(&data, count, head.min_t(), cp).collect();
            prop_assert_eq!(&resumed[..], samples.get(index..).unwrap_or(&[]));
            // Truncated anywhere, a resumed read stops short instead of panicking.
            for cut in [0, data.len() / 2, data.len().saturating_sub(1)] {
                let short = data.get(..cut).unwrap_or(&[]);
                let n = ChunkIter::resume(short, count, head.min_t(), cp).count();
                prop_assert!(n <= count.into());
            }
        }
    }

    /// Any bytes, any count, any checkpoint: decoding ends without a panic.
    #[test]
    fn garbage_never_panics(
        data in prop::collection::vec(any::<u8>(), 0..300),
        count in any::<u16>(),
        pos in 0u64..(1 << 14),
        index in 0u16..128,
        window in (0u8..32, 0u8..64),
        t in any::<i64>(),
        v in any::<u64>(),
    ) {
        prop_assert!(ChunkIter::new(&data, count).count() <= count.into());
        if let Some(cp) = Checkpoint::new(t, index, pos, t, 15_000, v, window, (0, 0)) {
            let n = ChunkIter::resume(&data, count, t, &cp).count();
            prop_assert!(n <= count.into());
        }
    }
}

#[test]
fn regular_scrapes_keep_the_newest_checkpoints() {
    let samples: Vec<(i64, u64)> = (0..120)
        .map(|i| {
            (
                1_700_000_000_000 + i * 15_000 + i % 3,
                (i as f64 * 1.7).to_bits(),
            )
        })
        .collect();
    let indices = |cps: &[Checkpoint]| cps.iter().map(|cp| cp.index()).collect::<Vec<_>>();
    let head = encode(&samples[..60]);
    assert_eq!(indices(head.checkpoints()), [16, 32, 48]);
    let head = encode(&samples);
    // Only the newest three are kept.
    assert_eq!(indices(head.checkpoints()), [80, 96, 112]);
    // A 5-minute window at the end starts decoding at the checkpoint before it.
    let start = samples[100].0;
    let from: Vec<_> = head.iter_from(start).collect();
    assert_eq!(from, samples[96..]);
    // Before the oldest checkpoint kept: from the first sample.
    assert_eq!(head.iter_from(samples[79].0).count(), 120);
    assert_eq!(head.iter_from(i64::MIN).count(), 120);
    // The next head keeps the last two, and a closed chunk reads from them.
    let (closed, mut next) = head.roll();
    assert_eq!(indices(next.prev_checkpoints()), [96, 112]);
    assert!(next.checkpoints().is_empty());
    let from: Vec<_> = closed.iter_from(start, next.prev_checkpoints()).collect();
    assert_eq!(from, samples[96..]);
    assert_eq!(closed.iter_from(start, &[]).count(), 120);
    // They give way to the new head's own.
    let t0 = samples[0].0;
    for i in 120..153 {
        next.append(t0 + i * 15_000, 0);
    }
    assert_eq!(indices(next.prev_checkpoints()), [112]);
    assert_eq!(indices(next.checkpoints()), [16, 32]);
    for i in 153..170 {
        next.append(t0 + i * 15_000, 0);
    }
    assert!(next.prev_checkpoints().is_empty());
    assert_eq!(indices(next.checkpoints()), [16, 32, 48]);
}

#[test]
fn checkpoints_that_do_not_fit_are_skipped() {
    // Gaps of 40 days: a delta beyond ±24 days does not fit a checkpoint (nor, later, an offset
    // beyond 49 days from the first sample); the reads fall back to the first sample.
    let day = 86_400_000;
    let samples: Vec<(i64, u64)> = (0..40).map(|i| (i * 40 * day, i as u64)).collect();
    let head = encode(&samples);
    let indices: Vec<u16> = head.checkpoints().iter().map(|cp| cp.index()).collect();
    assert!(indices.is_empty(), "{indices:?}");
    assert_eq!(head.iter_from(samples[35].0).collect::<Vec<_>>(), samples);
}

/// The sizes the module docs and the memory figures rely on.
#[test]
fn checkpoints_stay_24_bytes() {
    assert_eq!(size_of::<Checkpoint>(), 24);
}
