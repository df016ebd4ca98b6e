//! Reading a window of a chunk: its samples, or what the counter functions need of them.
//!
//! `rate(x[1h])` over thousands of series would decode every sample of the hour, yet it needs
//! only the first and last sample in the window, how many there are and what happened between
//! neighbours (changes, drops and the values before drops). So every chunk keeps a [`Tally`] of
//! its neighbours as samples are appended, and its last value; its checkpoints keep the tally so
//! far. A window over a chunk then decodes only from the checkpoint (or first sample) before
//! its start to its first sample, and takes the rest from the counts. A chunk holding a
//! staleness marker (which a window leaves out, so its neighbours are not the chunk's), one cut
//! by the window's end, or one with drops when their values are wanted, is decoded as before.

use super::super::STALE_NAN_BITS;
use super::super::functions::{CounterTally, changed, exact_add};
use super::{Checkpoint, ChunkIter};

/// What a chunk's samples did between neighbours (each count saturates; a chunk holds at most a
/// few hundred samples).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(in crate::metrics::store) struct Tally {
    /// Neighbours whose values differ (two NaNs do not).
    pub(in crate::metrics::store) changes: u16,
    /// Neighbours where the value went down.
    pub(in crate::metrics::store) drops: u16,
    /// Some sample is a staleness marker: the counts do not describe a window's samples.
    pub(in crate::metrics::store) stale: bool,
    /// The values before the drops have no exact sum (see [`Tally::add`]).
    pub(in crate::metrics::store) inexact_drops: bool,
}

impl Tally {
    /// Counts a sample appended after `prev` (value bits; `None` for a chunk's first), adding
    /// the value before a drop to `drop_sum` while that sum is exact (see
    /// [`super::super::functions::EXACT_LIMIT`]: integer counters far beyond any real one).
    pub(in crate::metrics::store) fn add(
        &mut self,
        prev: Option<u64>,
        v_bits: u64,
        drop_sum: &mut f64,
    ) {
        self.stale |= v_bits == STALE_NAN_BITS;
        let Some(prev) = prev else {
            return;
        };
        let (prev, cur) = (f64::from_bits(prev), f64::from_bits(v_bits));
        if changed(prev, cur) {
            self.changes = self.changes.saturating_add(1);
        }
        if cur < prev {
            self.drops = self.drops.saturating_add(1);
            match exact_add(*drop_sum, prev) {
                Some(sum) if !self.inexact_drops => *drop_sum = sum,
                _ => self.inexact_drops = true,
            }
        }
    }
}

/// A chunk, closed or head, as a window reads it.
#[derive(Debug, Clone, Copy)]
pub(in crate::metrics::store) struct ChunkView<'a> {
    pub(in crate::metrics::store) data: &'a [u8],
    pub(in crate::metrics::store) count: u16,
    pub(in crate::metrics::store) min_t: i64,
    pub(in crate::metrics::store) max_t: i64,
    /// The last sample's value bits.
    pub(in crate::metrics::store) last_v: u64,
    pub(in crate::metrics::store) tally: Tally,
    /// The exact sum of the values before the drops (0 without drops); `None` when
    /// `tally.inexact_drops`.
    pub(in crate::metrics::store) drop_sum: Option<f64>,
    /// Checkpoints into this chunk, oldest first (a closed chunk's are the ones its next head
    /// kept, or none).
    pub(in crate::metrics::store) checkpoints: &'a [Checkpoint],
}

impl<'a> ChunkView<'a> {
    /// The newest checkpoint at or before `t`.
    fn checkpoint_before(&self, t: i64) -> Option<&'a Checkpoint> {
        let checkpoints = self.checkpoints;
        let after = checkpoints.partition_point(|cp| cp.t(self.min_t) <= t);
        let cp = checkpoints.get(after.checked_sub(1)?)?;
        (cp.index() < self.count).then_some(cp)
    }

    /// The newest checkpoint whose previous sample is before `start`: a window starting at
    /// `start` holds none of the samples before it, so reading may start there (even when the
    /// checkpoint's own sample is already in the window).
    fn checkpoint_for_window(&self, start: i64) -> Option<&'a Checkpoint> {
        let checkpoints = self.checkpoints;
        let after = checkpoints.partition_point(|cp| cp.prev_t(self.min_t) < start);
        let cp = checkpoints.get(after.checked_sub(1)?)?;
        (cp.index() < self.count).then_some(cp)
    }

    /// The samples from the newest one at or before `t` when a checkpoint is, else from the
    /// first.
    pub(in crate::metrics::store) fn iter_from(&self, t: i64) -> ChunkIter<'a> {
        self.resume(self.checkpoint_before(t))
    }

    /// Samples from which a window starting at `start` can be read: every one in it, and
    /// perhaps a few before it.
    pub(in crate::metrics::store) fn iter_window(&self, start: i64) -> ChunkIter<'a> {
        self.resume(self.checkpoint_for_window(start))
    }

    fn resume(&self, cp: Option<&Checkpoint>) -> ChunkIter<'a> {
        match cp {
            Some(cp) => ChunkIter::resume(self.data, self.count, self.min_t, cp),
            None => ChunkIter::new(self.data, self.count),
        }
    }

    /// Adds the samples in `[start, end]` that are not staleness markers to `out`; `false` when
    /// one is past `end` (later chunks need not be read).
    pub(in crate::metrics::store) fn tally_into(
        &self,
        start: i64,
        end: i64,
        out: &mut CounterTally,
    ) -> bool {
        let whole = self.min_t >= start;
        // Drop values are known for a whole chunk with an exact sum of them (a part of a chunk
        // has no sum: its checkpoints count drops but do not sum them).
        let drops_known = !(out.wants_drop_values() && self.tally.drops > 0)
            || (whole && out.sums_drops() && self.drop_sum.is_some());
        let summarised = !self.tally.stale && self.max_t <= end && drops_known;
        if !summarised {
            return self.decode_into(start, end, out);
        }
        let last = (self.max_t, f64::from_bits(self.last_v));
        if whole {
            // The whole chunk: its first sample is stored in full at the front.
            if let Some((t, v)) = self.first_sample() {
                out.push_run(
                    (t, v),
                    last,
                    usize::from(self.count),
                    usize::from(self.tally.changes),
                    (usize::from(self.tally.drops), self.drop_sum),
                );
            }
            return true;
        }
        let (iter, mut index, (mut changes, mut drops)) = match self.checkpoint_for_window(start) {
            Some(cp) => (
                ChunkIter::resume(self.data, self.count, self.min_t, cp),
                cp.index(),
                cp.counts(),
            ),
            _ => (ChunkIter::new(self.data, self.count), 0, (0, 0)),
        };
        // Decode up to the first sample in the window, counting the neighbours before it.
        let mut prev: Option<f64> = None;
        for (t, bits) in iter {
            let v = f64::from_bits(bits);
            if let Some(p) = prev {
                changes += u16::from(changed(p, v));
                drops += u16::from(v < p);
            }
            if t >= start {
                out.push_run(
                    (t, v),
                    last,
                    usize::from(self.count.saturating_sub(index)),
                    usize::from(self.tally.changes.saturating_sub(changes)),
                    (usize::from(self.tally.drops.saturating_sub(drops)), None),
                );
                return true;
            }
            prev = Some(v);
            index += 1;
        }
        true
    }

    /// The first sample, read straight from the stream's first 16 bytes (as the decoder would).
    fn first_sample(&self) -> Option<(i64, f64)> {
        let t = self.data.first_chunk::<8>()?;
        let v = self.data.get(8..)?.first_chunk::<8>()?;
        (self.count > 0).then(|| {
            let t = i64::from_be_bytes(*t);
            (t, f64::from_bits(u64::from_be_bytes(*v)))
        })
    }

    /// [`ChunkView::tally_into`] by decoding every sample from `start`.
    fn decode_into(&self, start: i64, end: i64, out: &mut CounterTally) -> bool {
        for (t, bits) in self.iter_window(start) {
            if t > end {
                return false;
            }
            if t >= start && bits != STALE_NAN_BITS {
                out.push(t, f64::from_bits(bits));
            }
        }
        true
    }
}
