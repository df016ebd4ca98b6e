//! Decoding a chunk's bit stream, and resuming it from a checkpoint.
//!
//! Decoding is most of what a rule evaluation costs, so the hot path is kept short: bits come out
//! of a 64-bit buffer refilled a whole word at a time, a read is a shift and a mask with no
//! `Option`, and the common cases (no change of delta, an unchanged value, an XOR that fits the
//! previous window) cost one peek and a table-free match. A stream that ends early is caught once
//! per sample: past the end the buffer supplies zero bits, and a sample that consumed any of them
//! ends the iteration (so truncated or garbage data stops, never panics).

/// Bits read back from a slice through a 64-bit buffer, most significant bit first.
#[derive(Debug, Clone)]
struct BitReader<'a> {
    buf: &'a [u8],
    /// Bytes loaded into `acc` so far, counting the zero bytes supplied past the end.
    next: usize,
    /// The next bits at the top. The first `avail` are exact; below them each bit is either the
    /// stream's own (a whole word is ORed in at a time) or zero, so ORing again is harmless.
    acc: u64,
    avail: u32,
}

impl<'a> BitReader<'a> {
    /// A reader at bit `pos` of `buf` (past the end: one that reads only zeros, and overruns).
    fn at(buf: &'a [u8], pos: u64) -> BitReader<'a> {
        let mut r = BitReader {
            buf,
            next: usize::try_from(pos / 8).unwrap_or(usize::MAX),
            acc: 0,
            avail: 0,
        };
        r.read((pos % 8) as u32);
        r
    }

    /// Tops the buffer up to at least 56 valid bits.
    #[inline(always)]
    fn refill(&mut self) {
        match self.buf.get(self.next..).and_then(<[u8]>::first_chunk::<8>) {
            Some(word) => {
                self.acc |= u64::from_be_bytes(*word) >> self.avail;
                let bytes = (63 - self.avail) / 8;
                self.next += bytes as usize;
                self.avail += bytes * 8;
            }
            None => self.refill_tail(),
        }
    }

    /// The last 7 bytes, then zeros.
    #[cold]
    fn refill_tail(&mut self) {
        while self.avail <= 56 {
            let byte = self.buf.get(self.next).copied().unwrap_or(0);
            self.acc |= u64::from(byte) << (56 - self.avail);
            self.next = self.next.saturating_add(1);
            self.avail += 8;
        }
    }

    /// The next `n` bits (`n` ≤ 56), without consuming them.
    #[inline(always)]
    fn peek(&mut self, n: u32) -> u64 {
        if self.avail < n {
            self.refill();
        }
        // Two shifts, so `n == 0` gives 0 rather than a shift by 64.
        (self.acc >> 1) >> (63 - n)
    }

    #[inline(always)]
    fn skip(&mut self, n: u32) {
        self.acc <<= n;
        self.avail -= n;
    }

    /// The next `n` bits, `n` ≤ 56.
    #[inline(always)]
    fn read(&mut self, n: u32) -> u64 {
        let bits = self.peek(n);
        self.skip(n);
        bits
    }

    /// The next `n` bits, `n` ≤ 64.
    #[inline(always)]
    fn read_long(&mut self, n: u32) -> u64 {
        if n <= 56 {
            self.read(n)
        } else {
            let high = self.read(n - 32);
            (high << 32) | self.read(32)
        }
    }

    /// The bit position of the next read.
    fn pos(&self) -> u64 {
        (self.next as u64)
            .saturating_mul(8)
            .saturating_sub(u64::from(self.avail))
    }

    /// Whether more bits were read than the stream holds (the cheap test first).
    #[inline(always)]
    fn overrun(&self) -> bool {
        self.next > self.buf.len() && self.pos() > (self.buf.len() as u64).saturating_mul(8)
    }
}

/// Sign-extends the low `n` bits of `raw` (`n` ≥ 1).
#[inline(always)]
fn sign_extend(raw: u64, n: u32) -> i64 {
    let shift = 64 - n;
    ((raw << shift) as i64) >> shift
}

/// The decoder's state right after one sample, kept every few samples of a head chunk so a read
/// near its end can start there instead of at the chunk's first sample.
///
/// 24 bytes: the timestamp is kept as an offset from the chunk's first (so a chunk spanning more
/// than 49 days, or a delta beyond ±24 days, simply gets no checkpoint), and the bit position,
/// sample index and XOR window are packed into one word (position < 2^14 bits, index < 128:
/// a full chunk of 120 regular samples is a few thousand bits; an odd chunk beyond that also just
/// goes without). It also keeps the chunk's [`super::Tally`] counts so far, so a window starting
/// after it can take the rest of the chunk from the chunk's own counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::metrics::store) struct Checkpoint {
    /// Bit position after the sample (14 bits), its index (7), leading (5) and trailing (6) zeros.
    packed: u32,
    t_off: u32,
    delta: i32,
    /// The value bits, as two halves so the struct needs 4-byte alignment only.
    v: [u32; 2],
    /// Changes and drops between neighbours up to this sample (each at most its index).
    counts: [u8; 2],
}

impl Checkpoint {
    /// The state after sample `index` of a chunk starting at `min_t`, if it fits. (One argument
    /// per packed field: the head passes its encoder state straight through.)
    #[allow(clippy::too_many_arguments)]
    pub(in crate::metrics::store) fn new(
        min_t: i64,
        index: u16,
        pos: u64,
        t: i64,
        delta: i64,
        v: u64,
        window: (u8, u8),
        counts: (u16, u16),
    ) -> Option<Checkpoint> {
        let (leading, trailing) = window;
        // A window is at most 31 leading and 63 trailing zeros of a non-zero XOR, so together
        // at most 63 (the decoder relies on it).
        if pos >= 1 << 14
            || index >= 128
            || leading >= 32
            || u16::from(leading) + u16::from(trailing) >= 64
        {
            return None;
        }
        let packed = (pos as u32) << 18
            | u32::from(index) << 11
            | u32::from(leading) << 6
            | u32::from(trailing);
        Some(Checkpoint {
            packed,
            t_off: u32::try_from(t.wrapping_sub(min_t)).ok()?,
            delta: i32::try_from(delta).ok()?,
            v: [(v >> 32) as u32, v as u32],
            counts: [u8::try_from(counts.0).ok()?, u8::try_from(counts.1).ok()?],
        })
    }

    /// The changes and drops between the chunk's neighbours up to this sample.
    pub(in crate::metrics::store) fn counts(&self) -> (u16, u16) {
        (u16::from(self.counts[0]), u16::from(self.counts[1]))
    }

    pub(in crate::metrics::store) fn index(&self) -> u16 {
        ((self.packed >> 11) & 0x7f) as u16
    }

    /// The sample's timestamp, given its chunk's first.
    pub(in crate::metrics::store) fn t(&self, min_t: i64) -> i64 {
        min_t.wrapping_add(i64::from(self.t_off))
    }

    /// The previous sample's timestamp (the checkpoint's sample minus its delta).
    pub(in crate::metrics::store) fn prev_t(&self, min_t: i64) -> i64 {
        self.t(min_t).wrapping_sub(i64::from(self.delta))
    }

    fn pos(&self) -> u64 {
        u64::from(self.packed >> 18)
    }
}

/// Where a [`ChunkIter`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing read: the first sample is stored in full.
    Start,
    /// Resumed at a checkpoint: its sample is the next to yield.
    Resumed,
    Running,
}

/// Decodes a chunk's samples, oldest first, as (timestamp, value bits). Stops early (rather
/// than panicking) on a truncated or garbled stream.
#[derive(Debug, Clone)]
pub(in crate::metrics::store) struct ChunkIter<'a> {
    r: BitReader<'a>,
    remaining: u16,
    phase: Phase,
    t: i64,
    delta: i64,
    v: u64,
    leading: u32,
    trailing: u32,
}

impl<'a> ChunkIter<'a> {
    /// From the first of the `count` samples in `buf`.
    pub(in crate::metrics::store) fn new(buf: &'a [u8], count: u16) -> ChunkIter<'a> {
        ChunkIter {
            r: BitReader::at(buf, 0),
            remaining: count,
            phase: Phase::Start,
            t: 0,
            delta: 0,
            v: 0,
            leading: 0,
            trailing: 0,
        }
    }

    /// From the checkpoint's sample (yielded first) of a chunk starting at `min_t`; a checkpoint
    /// past the chunk's `count` yields nothing.
    pub(in crate::metrics::store) fn resume(
        buf: &'a [u8],
        count: u16,
        min_t: i64,
        cp: &Checkpoint,
    ) -> ChunkIter<'a> {
        ChunkIter {
            r: BitReader::at(buf, cp.pos()),
            remaining: count.saturating_sub(cp.index()),
            phase: Phase::Resumed,
            t: cp.t(min_t),
            delta: i64::from(cp.delta),
            v: u64::from(cp.v[0]) << 32 | u64::from(cp.v[1]),
            leading: (cp.packed >> 6) & 0x1f,
            trailing: cp.packed & 0x3f,
        }
    }

    #[cold]
    fn first(&mut self) -> Option<(i64, u64)> {
        if self.phase == Phase::Start {
            self.t = self.r.read_long(64) as i64;
            self.v = self.r.read_long(64);
        }
        self.phase = Phase::Running;
        Some((self.t, self.v))
    }

    #[inline(always)]
    fn read_dod(&mut self) -> i64 {
        // `0`, `10`, `110`, `1110` or `1111`: at most four bits decide.
        match self.r.peek(4) {
            0b0000..=0b0111 => {
                self.r.skip(1);
                0
            }
            0b1000..=0b1011 => {
                self.r.skip(2);
                sign_extend(self.r.read(7), 7)
            }
            0b1100..=0b1101 => {
                self.r.skip(3);
                sign_extend(self.r.read(14), 14)
            }
            0b1110 => {
                self.r.skip(4);
                sign_extend(self.r.read(20), 20)
            }
            _ => {
                self.r.skip(4);
                self.r.read_long(64) as i64
            }
        }
    }

    /// The XOR with the previous value, or `None` for a window wider than 64 bits (garbage).
    #[inline(always)]
    fn read_xor(&mut self) -> Option<u64> {
        match self.r.peek(2) {
            0b00 | 0b01 => {
                self.r.skip(1);
                return Some(0);
            }
            0b10 => self.r.skip(2),
            _ => {
                self.r.skip(2);
                let window = self.r.read(11) as u32;
                self.leading = window >> 6;
                let sig = match window & 0x3f {
                    0 => 64,
                    n => n,
                };
                self.trailing = 64u32.checked_sub(self.leading + sig)?;
            }
        }
        // `leading + trailing` ≤ 63 here: both come from a checked window (or are 0).
        let sig = 64 - self.leading - self.trailing;
        Some(self.r.read_long(sig) << self.trailing)
    }
}

impl Iterator for ChunkIter<'_> {
    type Item = (i64, u64);

    #[inline]
    fn next(&mut self) -> Option<(i64, u64)> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let decoded = if self.phase == Phase::Running {
            let dod = self.read_dod();
            self.read_xor().map(|x| {
                self.delta = self.delta.wrapping_add(dod);
                self.t = self.t.wrapping_add(self.delta);
                self.v ^= x;
                (self.t, self.v)
            })
        } else {
            self.first()
        };
        if decoded.is_none() || self.r.overrun() {
            self.remaining = 0;
            return None;
        }
        decoded
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize::from(self.remaining)))
    }
}
