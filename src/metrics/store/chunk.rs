//! Gorilla-style XOR chunks: delta-of-delta timestamps and XOR-ed float bits, as Prometheus's
//! `chunkenc.XORChunk` does (Pelkonen et al., VLDB 2015). Regular scrapes cost about 1–2 bytes a
//! sample instead of 16.
//!
//! No crate fit: `tsz` has been unmaintained since 2017 and the maintained codecs found are parts
//! of whole databases with block-at-once APIs, while the store needs an append-one-sample head
//! chunk. So this is a small bit-level encoder, tested by a property test for an exact round trip
//! of every f64 bit pattern (NaN payloads, so the staleness marker, included).
//!
//! Layout of a chunk's bit stream (most significant bit first):
//! - first sample: timestamp (64 bits), value bits (64 bits);
//! - each further sample: the delta-of-delta of the timestamp (`0` for none; `10` + 7 bits,
//!   `110` + 14 bits, `1110` + 20 bits, two's complement; else `1111` + 64 bits), then the value
//!   XOR-ed with the previous one (`0` when equal; `10` + the meaningful bits when they fit in the
//!   previous window of leading/trailing zeros; else `11` + 5 bits of leading zeros + 6 bits of
//!   length (0 meaning 64) + the meaningful bits).
//!
//! Arithmetic on timestamps wraps, on the encoder and decoder alike, so any i64 round-trips.
//!
//! A closed chunk whose values drop as a counter's do (rarely: at restarts) may keep 8 more bytes
//! after the stream, the exact sum of the values before its drops (see [`has_sum_tail`]).
//!
//! Reading a short window at the end of a head chunk (a `rate(x[5m])` at "now" wants the last 20
//! of up to 120 samples) would mean decoding the chunk from its start, as XOR chunks can only be
//! read forwards. So a head chunk takes a [`Checkpoint`] of the decoder state every
//! [`CHECKPOINT_EVERY`] samples, and a read starts at the last one before its window.
//!
//! Every chunk also keeps a [`Tally`] of its neighbours (changes, drops, staleness markers) and its
//! last value, and each checkpoint the tally so far, so the counter functions read a window
//! without decoding it (see the `window` module).
//!
//! Only the newest [`KEPT_CHECKPOINTS`] are kept, in the head only: they are for the windows at
//! "now" that rules read (a few minutes: 1 to 10 minutes at 15 s scrapes fit in 3 × 16 samples),
//! while the longer windows read most of a chunk anyway (or, for the counter functions, its
//! tally), and each checkpoint costs 24 bytes in every series. When a head closes, its last
//! [`TAIL_CHECKPOINTS`] go on to the next head for the windows that straddle the two, and give
//! way to the new head's own as they come.

mod decode;
mod window;

pub(super) use decode::{Checkpoint, ChunkIter};
pub(super) use window::{ChunkView, Tally};

/// Samples between two checkpoints of a head chunk: a window at the end decodes at most this
/// many samples before its start.
pub(super) const CHECKPOINT_EVERY: u16 = 16;

/// The checkpoints a head keeps: the newest three cover the last 33 to 48 samples. With the
/// boxed slice that holds them this is at most 88 bytes a series; keeping all seven of a full
/// chunk would be 184, about 10 % of what an hour of a series takes.
pub(super) const KEPT_CHECKPOINTS: usize = 3;

/// The checkpoints a closed chunk leaves to the next head: the last two cover the last 24 to 39
/// samples (6 to 10 minutes at 15 s scrapes), so a 5-minute window over a young head decodes
/// only about itself.
pub(super) const TAIL_CHECKPOINTS: usize = 2;

/// Bits appended to a byte vector, most significant bit first.
#[derive(Debug, Default, Clone)]
struct BitWriter {
    buf: Vec<u8>,
    /// Bits written so far (the last byte may be partly used).
    bits: u32,
}

impl BitWriter {
    /// Appends the low `n` bits of `value` (`n` ≤ 64).
    fn write(&mut self, value: u64, n: u32) {
        let mut remaining = n.min(64);
        while remaining > 0 {
            let used = self.bits % 8;
            if used == 0 {
                self.buf.push(0);
            }
            let free = 8 - used;
            let take = free.min(remaining);
            let shift = remaining - take;
            let part = ((value >> shift) & ((1u64 << take) - 1)) as u8;
            if let Some(last) = self.buf.last_mut() {
                *last |= part << (free - take);
            }
            self.bits += take;
            remaining -= take;
        }
    }
}

/// Delta-of-delta buckets: (prefix, prefix length, payload bits).
/// Prometheus uses 14, 17 and 20 bits; a 7-bit first bucket (±64 ms) keeps the few milliseconds
/// of jitter of a real scrape loop at 9 bits instead of 16.
const DOD_BUCKETS: [(u64, u32, u32); 3] = [(0b10, 2, 7), (0b110, 3, 14), (0b1110, 4, 20)];

/// The open chunk of a series: samples are appended to its bit stream in place, so an append
/// costs a few bit operations and no re-encoding.
#[derive(Debug, Default, Clone)]
pub(super) struct HeadChunk {
    w: BitWriter,
    count: u16,
    min_t: i64,
    last_t: i64,
    last_delta: i64,
    last_v: u64,
    /// The current XOR window; `leading == u8::MAX` means no window yet.
    leading: u8,
    trailing: u8,
    /// How many of `checkpoints` are the previous (closed) chunk's tail.
    prev_checkpoints: u8,
    /// No checkpoints are taken or handed on (see [`HeadChunk::set_checkpointing`]).
    no_checkpoints: bool,
    /// The newest checkpoints, oldest first: the previous chunk's tail, then this chunk's. A boxed
    /// slice, 8 bytes smaller than a vector, reallocated once per [`CHECKPOINT_EVERY`] samples.
    checkpoints: Box<[Checkpoint]>,
    tally: Tally,
    /// The exact sum of the values before the drops, while `tally` says it is exact.
    drop_sum: f64,
}

impl HeadChunk {
    pub(super) fn new() -> HeadChunk {
        HeadChunk {
            w: BitWriter {
                buf: Vec::with_capacity(32),
                bits: 0,
            },
            leading: u8::MAX,
            ..HeadChunk::default()
        }
    }

    pub(super) fn count(&self) -> u16 {
        self.count
    }

    /// Turns checkpoints off (or back on) for what is appended from now on. Off while the store
    /// is near its memory cap: heads then close every few minutes, a window at their end reads
    /// a few samples anyway, and 24 bytes a checkpoint over heads of ~20 samples cost a sixth of
    /// the history the cap can hold.
    pub(super) fn set_checkpointing(&mut self, on: bool) {
        self.no_checkpoints = !on;
    }

    pub(super) fn min_t(&self) -> i64 {
        self.min_t
    }

    pub(super) fn max_t(&self) -> i64 {
        self.last_t
    }

    /// Heap bytes held (the vectors' capacity, not their length: that is what the allocator
    /// gave).
    pub(super) fn heap_bytes(&self) -> usize {
        self.w.buf.capacity() + size_of_val(&*self.checkpoints)
    }

    /// This chunk's own checkpoints, oldest first.
    pub(super) fn checkpoints(&self) -> &[Checkpoint] {
        self.checkpoints
            .get(usize::from(self.prev_checkpoints)..)
            .unwrap_or(&[])
    }

    /// The last checkpoints of the chunk closed before this one (the series' newest closed).
    pub(super) fn prev_checkpoints(&self) -> &[Checkpoint] {
        self.checkpoints
            .get(..usize::from(self.prev_checkpoints))
            .unwrap_or(&[])
    }

    /// Appends one sample. The caller guarantees `t` is newer than the last one; the encoding
    /// itself would round-trip any order, as its arithmetic wraps.
    pub(super) fn append(&mut self, t: i64, v_bits: u64) {
        self.tally.add(
            if self.count == 0 {
                None
            } else {
                Some(self.last_v)
            },
            v_bits,
            &mut self.drop_sum,
        );
        if self.count == 0 {
            self.w.write(t as u64, 64);
            self.w.write(v_bits, 64);
            self.min_t = t;
        } else {
            let delta = t.wrapping_sub(self.last_t);
            let dod = delta.wrapping_sub(self.last_delta);
            self.write_dod(dod);
            self.last_delta = delta;
            self.write_xor(v_bits ^ self.last_v);
        }
        self.last_t = t;
        self.last_v = v_bits;
        if self.count > 0 && self.count.is_multiple_of(CHECKPOINT_EVERY) && !self.no_checkpoints {
            self.checkpoint();
        }
        self.count = self.count.saturating_add(1);
    }

    /// Records the decoder state after the sample just appended (index `count`), if it fits.
    fn checkpoint(&mut self) {
        let window = if self.leading == u8::MAX {
            (0, 0)
        } else {
            (self.leading, self.trailing)
        };
        let cp = Checkpoint::new(
            self.min_t,
            self.count,
            u64::from(self.w.bits),
            self.last_t,
            self.last_delta,
            self.last_v,
            window,
            (self.tally.changes, self.tally.drops),
        );
        let Some(cp) = cp else {
            return;
        };
        let mut kept = std::mem::take(&mut self.checkpoints).into_vec();
        kept.push(cp);
        let drop = kept.len().saturating_sub(KEPT_CHECKPOINTS);
        kept.drain(..drop);
        self.prev_checkpoints = self
            .prev_checkpoints
            .saturating_sub(u8::try_from(drop).unwrap_or(u8::MAX));
        self.checkpoints = kept.into_boxed_slice();
    }

    fn write_dod(&mut self, dod: i64) {
        if dod == 0 {
            self.w.write(0, 1);
            return;
        }
        for (prefix, len, bits) in DOD_BUCKETS {
            let half = 1i64 << (bits - 1);
            if (-half..half).contains(&dod) {
                self.w.write(prefix, len);
                self.w.write(dod as u64, bits);
                return;
            }
        }
        self.w.write(0b1111, 4);
        self.w.write(dod as u64, 64);
    }

    fn write_xor(&mut self, x: u64) {
        if x == 0 {
            self.w.write(0, 1);
            return;
        }
        let lead = x.leading_zeros().min(31) as u8;
        let trail = x.trailing_zeros() as u8;
        if self.leading != u8::MAX && lead >= self.leading && trail >= self.trailing {
            self.w.write(0b10, 2);
            let sig = 64 - u32::from(self.leading) - u32::from(self.trailing);
            self.w.write(x >> self.trailing, sig);
        } else {
            self.leading = lead;
            self.trailing = trail;
            let sig = 64 - u32::from(lead) - u32::from(trail);
            self.w.write(0b11, 2);
            self.w.write(u64::from(lead), 5);
            self.w.write(u64::from(sig & 63), 6);
            self.w.write(x >> trail, sig);
        }
    }

    #[cfg(test)]
    pub(super) fn iter(&self) -> ChunkIter<'_> {
        ChunkIter::new(&self.w.buf, self.count)
    }

    /// From the newest sample at or before `t` (or the first sample, if none is), by way of the
    /// newest checkpoint at or before `t`.
    pub(super) fn iter_from(&self, t: i64) -> ChunkIter<'_> {
        self.view().iter_from(t)
    }

    /// Prefetch hints for the head's checkpoints and its bytes where a window from `start` begins
    /// to be read (see [`super::series::Series::prefetch_parts`]): the bytes are guessed from
    /// where `start` falls between the head's first and last sample, as scrapes are regular.
    pub(super) fn prefetch(&self, start: i64) {
        use super::series::prefetch;
        prefetch(self.checkpoints.as_ptr());
        let buf = &self.w.buf;
        let span = self.last_t.saturating_sub(self.min_t);
        let into = start.saturating_sub(self.min_t).clamp(0, span);
        let guess = if span > 0 {
            // A checkpoint is at most CHECKPOINT_EVERY samples before: a little way back.
            let at = u128::from(into.unsigned_abs()) * buf.len() as u128
                / u128::from(span.unsigned_abs());
            usize::try_from(at).unwrap_or(0).saturating_sub(32)
        } else {
            0
        };
        let last = buf.len().saturating_sub(1);
        for at in [guess, guess + 64, last] {
            prefetch(buf.as_ptr().wrapping_add(at.min(last)));
        }
    }

    /// The chunk as a window reads it (a head that has samples).
    pub(super) fn view(&self) -> ChunkView<'_> {
        ChunkView {
            data: &self.w.buf,
            count: self.count,
            min_t: self.min_t,
            max_t: self.last_t,
            last_v: self.last_v,
            tally: self.tally,
            drop_sum: (!self.tally.inexact_drops).then_some(self.drop_sum),
            checkpoints: self.checkpoints(),
        }
    }

    /// Closes the chunk: the bytes are shrunk to their length, the encoder state and the
    /// checkpoints dropped. A counter-like chunk with drops whose values have an exact sum keeps
    /// the sum in 8 bytes after its bit stream (see [`has_sum_tail`]).
    pub(super) fn close(self) -> ClosedChunk {
        let mut data = self.w.buf;
        if has_sum_tail(&self.tally, self.count) {
            data.extend_from_slice(&self.drop_sum.to_bits().to_le_bytes());
        }
        ClosedChunk {
            data: data.into_boxed_slice(),
            count: self.count,
            min_t: self.min_t,
            max_t: self.last_t,
            last_v: self.last_v,
            tally: self.tally,
        }
    }

    /// Closes the chunk and opens the next head, which keeps this one's last
    /// [`TAIL_CHECKPOINTS`] checkpoints (valid for the returned chunk while it is the series'
    /// newest closed one, which it stays as long as that head does).
    pub(super) fn roll(mut self) -> (ClosedChunk, HeadChunk) {
        let own = self.checkpoints();
        let tail = own.get(own.len().saturating_sub(TAIL_CHECKPOINTS)..);
        let mut next = HeadChunk::new();
        if !self.no_checkpoints {
            next.checkpoints = tail.map(Box::from).unwrap_or_default();
        }
        next.prev_checkpoints = u8::try_from(next.checkpoints.len()).unwrap_or(0);
        next.no_checkpoints = self.no_checkpoints;
        self.checkpoints = Box::default();
        (self.close(), next)
    }
}

/// Whether a closed chunk of `count` samples with this tally keeps the exact sum of its drop
/// values after its bit stream (a reader never needs to find where the stream ends, as the
/// decoder stops after `count` samples).
///
/// Only a chunk with drops pays the 8 bytes, and only one that drops as a counter does: at a
/// restart, so rarely (at most one neighbour in [`COUNTER_DROPS_EVERY`]). A gauge drops about
/// every other sample; nobody adds up the values before its drops, and near the memory cap,
/// where chunks hold about 20 samples, 8 bytes on every gauge chunk cost a few percent of the
/// history the cap holds. Its windows decode the chunk instead, as before the sums.
fn has_sum_tail(tally: &Tally, count: u16) -> bool {
    tally.drops > 0
        && !tally.inexact_drops
        && tally.drops.saturating_mul(COUNTER_DROPS_EVERY) <= count
}

/// See [`has_sum_tail`]: a crash-looping pod restarting every 5 minutes (the kubelet's longest
/// back-off) drops 6 times in a 120-sample chunk of 15 s scrapes, which is within this.
const COUNTER_DROPS_EVERY: u16 = 16;

/// A full chunk, immutable, no spare capacity.
#[derive(Debug, Clone)]
pub(super) struct ClosedChunk {
    /// The bit stream, then (see [`has_sum_tail`]) the exact sum of the values before the
    /// chunk's drops as 8 bytes (the float's bits, little-endian).
    data: Box<[u8]>,
    pub(super) count: u16,
    pub(super) min_t: i64,
    pub(super) max_t: i64,
    /// The last sample's value bits (its time is `max_t`).
    last_v: u64,
    tally: Tally,
}

impl ClosedChunk {
    pub(super) fn heap_bytes(&self) -> usize {
        self.data.len()
    }

    /// A prefetch hint for the start of the chunk's bytes (its first sample, and where a
    /// window over it starts decoding).
    pub(super) fn prefetch(&self) {
        super::series::prefetch(self.data.as_ptr());
    }

    #[cfg(test)]
    pub(super) fn iter(&self) -> ChunkIter<'_> {
        ChunkIter::new(&self.data, self.count)
    }

    /// As [`HeadChunk::iter_from`], with the checkpoints a head kept of this chunk (or none).
    pub(super) fn iter_from<'a>(&'a self, t: i64, checkpoints: &'a [Checkpoint]) -> ChunkIter<'a> {
        self.view(checkpoints).iter_from(t)
    }

    /// The chunk as a window reads it, with the checkpoints a head kept of it (or none).
    pub(super) fn view<'a>(&'a self, checkpoints: &'a [Checkpoint]) -> ChunkView<'a> {
        ChunkView {
            data: &self.data,
            count: self.count,
            min_t: self.min_t,
            max_t: self.max_t,
            last_v: self.last_v,
            tally: self.tally,
            drop_sum: self.drop_sum(),
            checkpoints,
        }
    }

    /// The exact sum of the values before the drops (0 without drops), if there is one.
    fn drop_sum(&self) -> Option<f64> {
        if self.tally.drops == 0 {
            return Some(0.0);
        }
        if !has_sum_tail(&self.tally, self.count) {
            return None;
        }
        let tail = self
            .data
            .len()
            .checked_sub(8)
            .and_then(|at| self.data.get(at..))?;
        Some(f64::from_bits(u64::from_le_bytes(tail.try_into().ok()?)))
    }

    /// The bit stream (without the tail a chunk with drops may keep).
    #[cfg(test)]
    pub(super) fn data_for_test(&self) -> Vec<u8> {
        let tail = if has_sum_tail(&self.tally, self.count) {
            8
        } else {
            0
        };
        let stream = self.data.len().saturating_sub(tail);
        self.data.get(..stream).unwrap_or_default().to_vec()
    }
}
