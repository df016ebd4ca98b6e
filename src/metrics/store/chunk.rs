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

/// Reads bits back from a slice; `None` past the end (never a panic on short data).
#[derive(Debug, Clone)]
struct BitReader<'a> {
    buf: &'a [u8],
    pos: u64,
}

impl BitReader<'_> {
    /// The next `n` bits (`n` ≤ 64), or `None` when fewer are left. Reads a whole big-endian
    /// word (and, when the bits straddle it, one more byte) instead of looping bit by bit:
    /// decoding is what evaluating a range selector over many series mostly costs.
    fn read(&mut self, n: u32) -> Option<u64> {
        let n = n.min(64);
        if n == 0 {
            return Some(0);
        }
        let end = self.pos.checked_add(u64::from(n))?;
        if end > (self.buf.len() as u64).saturating_mul(8) {
            return None;
        }
        let byte = usize::try_from(self.pos / 8).ok()?;
        let off = (self.pos % 8) as u32;
        let rest = self.buf.get(byte..).unwrap_or(&[]);
        let mut word = match rest.first_chunk::<8>() {
            Some(w) => u64::from_be_bytes(*w),
            None => {
                let mut w = [0u8; 8];
                for (dst, src) in w.iter_mut().zip(rest) {
                    *dst = *src;
                }
                u64::from_be_bytes(w)
            }
        } << off;
        if off + n > 64 {
            word |= u64::from(rest.get(8).copied().unwrap_or(0)) >> (8 - off);
        }
        self.pos = end;
        Some(word >> (64 - n))
    }

    fn bit(&mut self) -> Option<bool> {
        self.read(1).map(|b| b == 1)
    }
}

/// Sign-extends the low `n` bits of `raw`.
fn sign_extend(raw: u64, n: u32) -> i64 {
    let shift = 64 - n;
    ((raw << shift) as i64) >> shift
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

    pub(super) fn min_t(&self) -> i64 {
        self.min_t
    }

    pub(super) fn max_t(&self) -> i64 {
        self.last_t
    }

    /// Heap bytes held (the vector's capacity, not its length: that is what the allocator gave).
    pub(super) fn heap_bytes(&self) -> usize {
        self.w.buf.capacity()
    }

    /// Appends one sample. The caller guarantees `t` is newer than the last one; the encoding
    /// itself would round-trip any order, as its arithmetic wraps.
    pub(super) fn append(&mut self, t: i64, v_bits: u64) {
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
        self.count = self.count.saturating_add(1);
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

    pub(super) fn iter(&self) -> ChunkIter<'_> {
        ChunkIter::new(&self.w.buf, self.count)
    }

    /// Closes the chunk: the bytes are shrunk to their length, the encoder state dropped.
    pub(super) fn close(self) -> ClosedChunk {
        ClosedChunk {
            data: self.w.buf.into_boxed_slice(),
            count: self.count,
            min_t: self.min_t,
            max_t: self.last_t,
        }
    }
}

/// A full chunk, immutable, no spare capacity.
#[derive(Debug, Clone)]
pub(super) struct ClosedChunk {
    data: Box<[u8]>,
    pub(super) count: u16,
    pub(super) min_t: i64,
    pub(super) max_t: i64,
}

impl ClosedChunk {
    pub(super) fn heap_bytes(&self) -> usize {
        self.data.len()
    }

    pub(super) fn iter(&self) -> ChunkIter<'_> {
        ChunkIter::new(&self.data, self.count)
    }

    #[cfg(test)]
    pub(super) fn data_for_test(&self) -> Vec<u8> {
        self.data.to_vec()
    }
}

/// Decodes a chunk's samples, oldest first, as (timestamp, value bits). Stops early (rather
/// than panicking) on a truncated stream.
#[derive(Debug, Clone)]
pub(super) struct ChunkIter<'a> {
    r: BitReader<'a>,
    remaining: u16,
    started: bool,
    t: i64,
    delta: i64,
    v: u64,
    leading: u32,
    trailing: u32,
}

impl<'a> ChunkIter<'a> {
    pub(super) fn new(buf: &'a [u8], count: u16) -> ChunkIter<'a> {
        ChunkIter {
            r: BitReader { buf, pos: 0 },
            remaining: count,
            started: false,
            t: 0,
            delta: 0,
            v: 0,
            leading: 0,
            trailing: 0,
        }
    }

    fn read_dod(&mut self) -> Option<i64> {
        if !self.r.bit()? {
            return Some(0);
        }
        for (_, len, bits) in DOD_BUCKETS {
            // The prefix is `len - 1` ones then a zero; one `1` is already read.
            if len == 4 || !self.r.bit()? {
                if len == 4 && self.r.bit()? {
                    return Some(self.r.read(64)? as i64);
                }
                return Some(sign_extend(self.r.read(bits)?, bits));
            }
        }
        None
    }

    fn read_xor(&mut self) -> Option<u64> {
        if !self.r.bit()? {
            return Some(0);
        }
        if self.r.bit()? {
            self.leading = self.r.read(5)? as u32;
            let sig = match self.r.read(6)? as u32 {
                0 => 64,
                n => n,
            };
            self.trailing = 64u32.checked_sub(self.leading + sig)?;
        }
        let sig = 64u32.checked_sub(self.leading + self.trailing)?;
        let bits = self.r.read(sig)?;
        Some(bits.checked_shl(self.trailing).unwrap_or(0))
    }
}

impl Iterator for ChunkIter<'_> {
    type Item = (i64, u64);

    fn next(&mut self) -> Option<(i64, u64)> {
        if self.remaining == 0 {
            return None;
        }
        let decoded = if self.started {
            let dod = self.read_dod();
            let x = dod.and_then(|dod| {
                self.delta = self.delta.wrapping_add(dod);
                self.read_xor()
            });
            x.map(|x| {
                self.t = self.t.wrapping_add(self.delta);
                self.v ^= x;
            })
        } else {
            self.r.read(64).zip(self.r.read(64)).map(|(t, v)| {
                self.t = t as i64;
                self.v = v;
                self.started = true;
            })
        };
        if decoded.is_none() {
            self.remaining = 0;
            return None;
        }
        self.remaining -= 1;
        Some((self.t, self.v))
    }
}
