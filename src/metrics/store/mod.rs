//! The in-memory series store: what scrapes are ingested into and what the local alert evaluator
//! and the metrics panels read.
//!
//! - Labels are interned ([`symbols`]): a series is a sorted slice of (name, value) symbols, found
//!   by an index on that slice, and selected through postings (name=value → series ids).
//! - Samples live in Gorilla-style XOR chunks ([`chunk`]), a bounded ring per series
//!   ([`series`]): retention drops whole chunks (see there for the resolution).
//! - Staleness as Prometheus: a series a target exposed in its previous scrape and not in this one,
//!   or all of a target's series when its scrape fails or it goes away, get a staleness marker
//!   (a NaN with the bits [`STALE_NAN_BITS`], kept exactly through compression).
//! - A total memory cap ([`gc`]): the real heap bytes are counted and, when over, the oldest data
//!   is evicted first; what was evicted and when is in [`Stats`] for the UI.
//! - [`functions`] holds Prometheus's range functions (rate, increase, irate, resets, histogram
//!   quantiles) as pure functions over samples, for the evaluator.
//!
//! Ranges: [`Store::samples`] is inclusive at both ends. Prometheus 3 selects a range vector
//! left-open (`(t - range, t]`), Prometheus 2 closed; the evaluator picks by narrowing the start.

mod chunk;
pub mod functions;
mod gc;
mod matcher;
mod query;
mod series;
mod symbols;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

pub use matcher::{MatchOp, Matcher};
use series::{Appended, Series};
use symbols::{Sym, Symbols};

/// A series' number. Valid while the store is not mutated: after a `gc` that dropped a series its
/// number may name a new one.
pub type SeriesId = u32;
/// A scrape target's number, from [`Store::target`].
pub type TargetId = u32;

/// Prometheus's staleness marker: a NaN with this exact bit pattern (`value.StaleNaN`).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// How long a head chunk may span while the store is near its cap: long enough for every
/// `rate` the console computes (4 scrape intervals, at least a minute) to keep its samples when
/// older chunks go.
pub const PRESSURE_SPAN_MS: i64 = 5 * 60 * 1000;

/// Whether `v` is the staleness marker (and not any other NaN).
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// The store's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreConfig {
    /// How long samples are kept (at chunk resolution, see [`series`]).
    pub retention_ms: i64,
    /// The total heap the store may hold; enforced by [`Store::gc`].
    pub memory_cap_bytes: usize,
}

impl Default for StoreConfig {
    /// One hour, as the issue asks; 256 MiB.
    fn default() -> StoreConfig {
        StoreConfig {
            retention_ms: 3_600_000,
            memory_cap_bytes: 256 << 20,
        }
    }
}

/// One sample of a scrape, labels as parsed (any order; a label with an empty value is the same
/// as no label, as in Prometheus).
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub name: &'a str,
    pub labels: &'a [(&'a str, &'a str)],
    pub value: f64,
    /// The exposition's own timestamp, if any. Series with one are not marked stale when they
    /// disappear (Prometheus's default, `track_timestamps_staleness: false`).
    pub timestamp_ms: Option<i64>,
}

/// What one `ingest` did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct IngestReport {
    pub appended: usize,
    pub new_series: usize,
    /// Rejected: older than the series' newest sample.
    pub out_of_order: usize,
    /// Rejected: the series' newest timestamp again with another value. (The same value again is
    /// silently a no-op, as in Prometheus, and not counted.)
    pub duplicates: usize,
    pub stale_marked: usize,
    /// Rejected: an empty metric name or a label name given twice.
    pub invalid: usize,
}

/// Size and eviction figures, for the UI.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stats {
    pub series: usize,
    pub samples: usize,
    /// Heap bytes held now (chunks, series, index, postings, symbols, targets).
    pub bytes: usize,
    pub cap_bytes: usize,
    pub evicted_samples: u64,
    pub evicted_series: u64,
    /// The `now_ms` of the last `gc` that had to evict to honour the cap.
    pub last_eviction_ms: Option<i64>,
}

/// What the store remembers of a target: the series its last scrape exposed (sorted, without
/// those that carried their own timestamps).
#[derive(Debug, Default)]
struct TargetState {
    key: Box<str>,
    last: Vec<SeriesId>,
}

/// The series store. `Send + Sync`; the application keeps it in an `Arc<RwLock<Store>>`.
#[derive(Debug)]
pub struct Store {
    config: StoreConfig,
    syms: Symbols,
    /// The symbol of `__name__`, held for the store's life.
    name_sym: Sym,
    /// Indexed by SeriesId; `None` slots are on `free_series`.
    series: Vec<Option<Series>>,
    free_series: Vec<SeriesId>,
    index: HashMap<Box<[(Sym, Sym)]>, SeriesId>,
    /// name=value → series ids, ascending.
    postings: HashMap<(Sym, Sym), Vec<SeriesId>>,
    targets: Vec<Option<TargetState>>,
    target_keys: HashMap<Box<str>, TargetId>,
    free_targets: Vec<TargetId>,
    evicted_samples: u64,
    evicted_series: u64,
    last_eviction_ms: Option<i64>,
    /// Near the cap: head chunks close after [`PRESSURE_SPAN_MS`], so the oldest history can be
    /// dropped a few minutes at a time instead of whole series (which would lose every rate
    /// until they had two samples again).
    pressure: bool,
    /// Reused between samples so an ingest allocates only for new series.
    scratch: Vec<(Sym, Sym)>,
}

impl Store {
    pub fn new(config: StoreConfig) -> Store {
        let mut syms = Symbols::default();
        let name_sym = syms.intern("__name__");
        syms.retain(name_sym);
        Store {
            config,
            syms,
            name_sym,
            series: Vec::new(),
            free_series: Vec::new(),
            index: HashMap::new(),
            postings: HashMap::new(),
            targets: Vec::new(),
            target_keys: HashMap::new(),
            free_targets: Vec::new(),
            evicted_samples: 0,
            evicted_series: 0,
            last_eviction_ms: None,
            pressure: false,
            scratch: Vec::new(),
        }
    }

    pub fn config(&self) -> StoreConfig {
        self.config
    }

    /// Changes the limits (a configuration reload); the next `gc` applies them.
    pub fn set_config(&mut self, config: StoreConfig) {
        self.config = config;
    }

    /// Register (or look up) a scrape target by a stable key such as
    /// "prod-eastus/shop/api-7f9c4-abcde" or a URL.
    pub fn target(&mut self, key: &str) -> TargetId {
        if let Some(&id) = self.target_keys.get(key) {
            return id;
        }
        let state = TargetState {
            key: key.into(),
            last: Vec::new(),
        };
        let id = match self.free_targets.pop() {
            Some(id) => {
                if let Some(slot) = self.targets.get_mut(id as usize) {
                    *slot = Some(state);
                }
                id
            }
            None => {
                self.targets.push(Some(state));
                TargetId::try_from(self.targets.len() - 1).unwrap_or(TargetId::MAX)
            }
        };
        self.target_keys.insert(key.into(), id);
        id
    }

    /// Samples longer than this close a head chunk: half the retention. (A quarter was tried:
    /// at 15 s scrapes it halves the chunks to 60 samples, and the per-chunk costs, a 16-byte
    /// first sample and a 40-byte chunk record, then add about a byte a sample.)
    fn max_chunk_span(&self) -> i64 {
        let span = (self.config.retention_ms / 2).max(1);
        if self.pressure {
            span.min(PRESSURE_SPAN_MS)
        } else {
            span
        }
    }

    /// One scrape's samples. `ts_ms` is the scrape time, used for samples without their own
    /// timestamp. Series this target exposed in its previous scrape and not in this one get a
    /// staleness marker at `ts_ms`, as Prometheus does.
    pub fn ingest<'a>(
        &mut self,
        target: TargetId,
        ts_ms: i64,
        samples: impl IntoIterator<Item = Incoming<'a>>,
    ) -> IngestReport {
        let mut report = IngestReport::default();
        let span = self.max_chunk_span();
        let mut seen = Vec::new();
        for s in samples {
            let Some(id) = self.series_for(&s, &mut report) else {
                report.invalid += 1;
                continue;
            };
            let t = s.timestamp_ms.unwrap_or(ts_ms);
            let Some(Some(series)) = self.series.get_mut(id as usize) else {
                continue;
            };
            match series.append(t, s.value.to_bits(), span) {
                Appended::Yes => report.appended += 1,
                Appended::SameAgain => {}
                Appended::OutOfOrder => report.out_of_order += 1,
                Appended::Duplicate => report.duplicates += 1,
            }
            if s.timestamp_ms.is_none() {
                seen.push(id);
            }
        }
        seen.sort_unstable();
        seen.dedup();
        let previous = match self.targets.get_mut(target as usize) {
            Some(Some(state)) => std::mem::replace(&mut state.last, seen),
            _ => Vec::new(),
        };
        let mut current = match self.targets.get(target as usize) {
            Some(Some(state)) => state.last.iter().copied().peekable(),
            _ => [].iter().copied().peekable(),
        };
        let mut gone = Vec::new();
        for id in previous {
            while current.next_if(|&c| c < id).is_some() {}
            if current.peek() != Some(&id) {
                gone.push(id);
            }
        }
        for id in gone {
            if self.mark_stale(id, ts_ms) {
                report.stale_marked += 1;
            }
        }
        report
    }

    /// A failed scrape or a target that went away: staleness markers for all its series at
    /// `ts_ms`, as Prometheus writes on a failed scrape and on target removal. `forget` also drops
    /// the target's bookkeeping (its series stay until they age out). Returns the markers written.
    pub fn target_down(&mut self, target: TargetId, ts_ms: i64, forget: bool) -> usize {
        let last = match self.targets.get_mut(target as usize) {
            Some(Some(state)) => std::mem::take(&mut state.last),
            _ => return 0,
        };
        let marked = last
            .iter()
            .filter(|&&id| self.mark_stale(id, ts_ms))
            .count();
        if forget {
            if let Some(slot) = self.targets.get_mut(target as usize)
                && let Some(state) = slot.take()
            {
                self.target_keys.remove(&state.key);
                self.free_targets.push(target);
            }
        } else if let Some(Some(state)) = self.targets.get_mut(target as usize) {
            // Kept: if the next scrape succeeds without some of these, they are already stale.
            state.last = last;
        }
        marked
    }

    /// Appends a staleness marker unless the series is already stale or has newer data.
    fn mark_stale(&mut self, id: SeriesId, ts_ms: i64) -> bool {
        let span = self.max_chunk_span();
        let Some(Some(series)) = self.series.get_mut(id as usize) else {
            return false;
        };
        match series.last {
            Some((t, v)) if v == STALE_NAN_BITS || t >= ts_ms => false,
            _ => series.append(ts_ms, STALE_NAN_BITS, span) == Appended::Yes,
        }
    }

    /// The series of a sample, created if new; `None` for an invalid label set.
    fn series_for(&mut self, s: &Incoming<'_>, report: &mut IngestReport) -> Option<SeriesId> {
        if s.name.is_empty() {
            return None;
        }
        let mut key = std::mem::take(&mut self.scratch);
        key.clear();
        key.push((self.name_sym, self.syms.intern(s.name)));
        for &(n, v) in s.labels {
            if !v.is_empty() {
                key.push((self.syms.intern(n), self.syms.intern(v)));
            }
        }
        let syms = &self.syms;
        let by_name = |a: &(Sym, Sym), b: &(Sym, Sym)| syms.resolve(a.0).cmp(syms.resolve(b.0));
        if !key.is_sorted_by(|a, b| by_name(a, b).is_le()) {
            key.sort_unstable_by(by_name);
        }
        let id = if key.windows(2).any(|w| w[0].0 == w[1].0) {
            None
        } else if let Some(&id) = self.index.get(&key[..]) {
            Some(id)
        } else {
            report.new_series += 1;
            Some(self.create_series(&key))
        };
        self.scratch = key;
        id
    }

    fn create_series(&mut self, key: &[(Sym, Sym)]) -> SeriesId {
        for &(n, v) in key {
            self.syms.retain(n);
            self.syms.retain(v);
        }
        let series = Series::new(key.into());
        let id = match self.free_series.pop() {
            Some(id) => {
                if let Some(slot) = self.series.get_mut(id as usize) {
                    *slot = Some(series);
                }
                id
            }
            None => {
                self.series.push(Some(series));
                SeriesId::try_from(self.series.len() - 1).unwrap_or(SeriesId::MAX)
            }
        };
        self.index.insert(key.into(), id);
        for &pair in key {
            let list = self.postings.entry(pair).or_default();
            if let Err(at) = list.binary_search(&id) {
                list.insert(at, id);
            }
        }
        id
    }
}
