//! One series' samples: closed XOR chunks, oldest first, and an open head chunk.
//!
//! A head chunk is closed at [`CHUNK_SAMPLES`] samples (Prometheus's 120) or when it spans half
//! the retention, whichever comes first, so retention (which drops whole chunks) keeps at most
//! half the retention more than asked: with the default hour and 15 s scrapes (120 samples are
//! 30 minutes), data is kept for between 60 and 90 minutes. The memory cap, not the retention, is
//! what bounds memory.

use std::collections::VecDeque;

use super::chunk::{ChunkView, ClosedChunk, HeadChunk};
use super::functions::{CounterTally, CounterWindow};
use super::symbols::Sym;

/// Samples per chunk before it is closed (as Prometheus).
pub(super) const CHUNK_SAMPLES: u16 = 120;

#[derive(Debug)]
pub(super) struct Series {
    /// (name, value) symbols, sorted by the name's text; `__name__` included.
    pub(super) labels: Box<[(Sym, Sym)]>,
    pub(super) closed: VecDeque<ClosedChunk>,
    pub(super) head: Option<HeadChunk>,
    /// The newest sample, for the order and duplicate checks and for `instant` without decoding.
    pub(super) last: Option<(i64, u64)>,
}

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Appended {
    Yes,
    /// Same timestamp and same value bits as the newest sample: nothing to do.
    SameAgain,
    OutOfOrder,
    /// Same timestamp, other value.
    Duplicate,
}

impl Series {
    pub(super) fn new(labels: Box<[(Sym, Sym)]>) -> Series {
        Series {
            labels,
            closed: VecDeque::new(),
            head: None,
            last: None,
        }
    }

    pub(super) fn append(&mut self, t: i64, v_bits: u64, max_span_ms: i64) -> Appended {
        if let Some((last_t, last_v)) = self.last {
            if t < last_t {
                return Appended::OutOfOrder;
            }
            if t == last_t {
                return if v_bits == last_v {
                    Appended::SameAgain
                } else {
                    Appended::Duplicate
                };
            }
        }
        let full = self.head.as_ref().is_some_and(|h| {
            h.count() >= CHUNK_SAMPLES || t.saturating_sub(h.min_t()) >= max_span_ms
        });
        if full && let Some(head) = self.head.take() {
            let (chunk, next) = head.roll();
            self.closed.push_back(chunk);
            self.head = Some(next);
        }
        let head = self.head.get_or_insert_with(HeadChunk::new);
        head.set_checkpointing(max_span_ms > super::PRESSURE_SPAN_MS);
        head.append(t, v_bits);
        self.last = Some((t, v_bits));
        Appended::Yes
    }

    pub(super) fn sample_count(&self) -> usize {
        self.closed
            .iter()
            .map(|c| usize::from(c.count))
            .sum::<usize>()
            + self.head.as_ref().map_or(0, |h| usize::from(h.count()))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.closed.is_empty() && self.head.as_ref().is_none_or(|h| h.count() == 0)
    }

    /// Heap bytes this series holds, its own struct (in the store's slot vector) not included.
    pub(super) fn heap_bytes(&self) -> usize {
        self.labels.len() * size_of::<(Sym, Sym)>()
            + self.closed.capacity() * size_of::<ClosedChunk>()
            + self
                .closed
                .iter()
                .map(ClosedChunk::heap_bytes)
                .sum::<usize>()
            + self.head.as_ref().map_or(0, HeadChunk::heap_bytes)
    }

    /// Samples in `[start, end]`, oldest first, staleness markers included.
    #[cfg(test)]
    pub(super) fn range(&self, start: i64, end: i64) -> Vec<(i64, f64)> {
        let mut out = Vec::new();
        self.range_into(start, end, &mut out);
        out
    }

    /// Appends the samples in `[start, end]` to `out`, oldest first, staleness markers included,
    /// so a caller reading many series can reuse one buffer.
    ///
    /// Only the chunks overlapping the window are decoded, each from its last checkpoint at or
    /// before `start` when it has one (the head, and the newest closed chunk by the head's copy
    /// of its tail checkpoints): a window at the end of the head decodes about itself.
    pub(super) fn range_into(&self, start: i64, end: i64, out: &mut Vec<(i64, f64)>) {
        for c in self.chunks_in(start, end) {
            if !push_window(c.iter_window(start), start, end, out) {
                return;
            }
        }
    }

    /// What the counter functions need of the samples in `[start, end]` that are not staleness
    /// markers, from the chunks' summaries: only what precedes the window in its first chunk is
    /// decoded, unless a chunk must be read whole (see [`ChunkView::tally_into`]).
    pub(super) fn counter_window(
        &self,
        start: i64,
        end: i64,
        drop_values: bool,
    ) -> Option<CounterWindow> {
        let mut tally = CounterTally::summing(drop_values);
        self.tally_into(start, end, &mut tally);
        if !tally.exact() {
            // Summed drop values whose sum would not be Prometheus's to the bit (fractional or
            // huge values): list them instead, decoding the chunks with drops.
            tally = CounterTally::new(drop_values);
            self.tally_into(start, end, &mut tally);
        }
        tally.finish()
    }

    fn tally_into(&self, start: i64, end: i64, tally: &mut CounterTally) {
        for c in self.chunks_in(start, end) {
            if !c.tally_into(start, end, tally) {
                break;
            }
        }
    }

    /// Whether a window from `start` starts in the head (or after it): then no closed chunk
    /// reaches it.
    fn head_holds_start(&self, start: i64) -> bool {
        self.head
            .as_ref()
            .is_some_and(|h| h.count() > 0 && h.min_t() <= start)
    }

    /// The chunks overlapping `[start, end]`, oldest first, each with the checkpoints known
    /// into it (the head's own; the newest closed chunk's tail, which the head keeps).
    fn chunks_in(&self, start: i64, end: i64) -> impl Iterator<Item = ChunkView<'_>> {
        // Closed chunks are in time order: skip those ending before the window. None of them
        // reaches a window starting in the head, and not searching them saves a cache miss in
        // the usual read at "now".
        let first = if self.head_holds_start(start) {
            self.closed.len()
        } else {
            self.closed.partition_point(|c| c.max_t < start)
        };
        let newest = self.closed.len().saturating_sub(1);
        let closed = self
            .closed
            .range(first.min(self.closed.len())..)
            .enumerate()
            .map(move |(i, c)| {
                let checkpoints = match &self.head {
                    Some(h) if first + i == newest => h.prev_checkpoints(),
                    _ => &[],
                };
                c.view(checkpoints)
            });
        let head = self
            .head
            .as_ref()
            .filter(|h| h.count() > 0 && h.max_t() >= start)
            .map(HeadChunk::view);
        closed
            .chain(head)
            .take_while(move |c| start <= end && c.min_t <= end)
    }

    /// The newest sample at or before `at`.
    pub(super) fn at_or_before(&self, at: i64) -> Option<(i64, u64)> {
        let (last_t, last_v) = self.last?;
        if last_t <= at {
            return Some((last_t, last_v));
        }
        if let Some(h) = &self.head
            && h.count() > 0
            && h.min_t() <= at
        {
            return newest_at_or_before(h.iter_from(at), at);
        }
        let i = self
            .closed
            .partition_point(|c| c.min_t <= at)
            .checked_sub(1)?;
        let c = self.closed.get(i)?;
        let checkpoints = match &self.head {
            Some(h) if i + 1 == self.closed.len() => h.prev_checkpoints(),
            _ => &[],
        };
        newest_at_or_before(c.iter_from(at, checkpoints), at)
    }

    /// Drops closed chunks that end before `cutoff`, and the head too when it does; returns the
    /// samples dropped.
    pub(super) fn drop_before(&mut self, cutoff: i64) -> usize {
        let mut dropped = 0;
        while let Some(c) = self.closed.front() {
            if c.max_t >= cutoff {
                break;
            }
            dropped += usize::from(c.count);
            self.closed.pop_front();
        }
        if self.closed.is_empty()
            && let Some(h) = &self.head
            && h.max_t() < cutoff
        {
            dropped += usize::from(h.count());
            self.head = None;
        }
        if self.closed.capacity() > 2 * self.closed.len() + 2 {
            self.closed.shrink_to_fit();
        }
        dropped
    }

    /// Drops the oldest closed chunk (eviction); returns (samples, heap bytes) freed. The ring's
    /// own capacity is not given back here, so the bytes are a lower bound.
    pub(super) fn pop_oldest(&mut self) -> Option<(usize, usize)> {
        let c = self.closed.pop_front()?;
        Some((usize::from(c.count), c.heap_bytes()))
    }

    /// The end time of the oldest closed chunk, the eviction order key.
    pub(super) fn oldest_closed_end(&self) -> Option<i64> {
        self.closed.front().map(|c| c.max_t)
    }
}

/// Appends the samples of `samples` in `[start, end]` to `out`; `false` once one is past `end`
/// (so later chunks need not be read).
fn push_window(
    samples: impl Iterator<Item = (i64, u64)>,
    start: i64,
    end: i64,
    out: &mut Vec<(i64, f64)>,
) -> bool {
    for (t, v) in samples {
        if t > end {
            return false;
        }
        if t >= start {
            out.push((t, f64::from_bits(v)));
        }
    }
    true
}

/// The last of `samples` at or before `at`.
fn newest_at_or_before(samples: impl Iterator<Item = (i64, u64)>, at: i64) -> Option<(i64, u64)> {
    samples.take_while(|&(t, _)| t <= at).last()
}

impl Series {
    /// Asks the CPU to start loading what reading the window from `start` touches once this
    /// record is in the cache: its labels, the head's bytes around where the window starts and
    /// its checkpoints, and the closed chunks' records when the window reaches before the head.
    /// Only hints: nothing is read but the record (see [`super::Store::for_each_prefetched`]).
    pub(super) fn prefetch_parts(&self, start: i64) {
        prefetch(self.labels.as_ptr());
        if let Some(h) = self.head.as_ref().filter(|h| h.count() > 0) {
            h.prefetch(start);
        }
        if !self.head_holds_start(start) {
            let (front, back) = self.closed.as_slices();
            prefetch(front.as_ptr());
            prefetch(back.as_ptr());
        }
    }

    /// The next stage of [`Series::prefetch_parts`], once the closed chunks' records are in: the
    /// start of each closed chunk the window from `start` reaches (the newest few).
    pub(super) fn prefetch_chunks(&self, start: i64) {
        if self.head_holds_start(start) {
            return;
        }
        for c in self.closed.iter().rev().take(4) {
            if c.max_t < start {
                break;
            }
            c.prefetch();
        }
    }
}

/// A prefetch hint for the cache line at `p` (no-op off x86-64).
#[inline(always)]
pub(super) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of x86-64's baseline, and a prefetch is only a hint: it reads
        // nothing and never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
