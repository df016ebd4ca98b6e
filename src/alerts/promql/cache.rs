//! Sharing selections between the expressions of one evaluation.
//!
//! The rules of a group run at the same instant over the same scraped series, and they select
//! the same series over and over: `max_over_time(queue_depth[15m])` in an alert and in the
//! recording rule beside it, `up` in half the rules. Selecting means decoding each series' samples
//! from its chunks, so a [`SelectionCache`] keeps a selection from its first read until its last
//! one and hands the later reads a copy (one vector; each series' labels are shared, not
//! copied). The counter functions (`rate`, `increase`, `delta`, `resets`, `changes`) read
//! their range selectors as windows the store summarises from per-chunk counts; those are shared
//! too (by whether the drops' values are listed: `rate` and `increase` read the same windows),
//! since a rule group reads `x[5m]` under `sum by (a)` in one rule and `sum by (b)` in the next,
//! and copying a window (its labels borrowed) costs less than reading it again from the store's
//! scattered records (`benches/rule_eval.rs`' cycle: 3–13% faster with them shared).
//!
//! The cache is planned: [`SelectionCache::plan`] walks the expressions first and counts, for
//! every selector, the exact window it will read at the evaluation time. Only selections read
//! more than once are kept, and each is dropped after its last read, so the cache never holds
//! more than the selections still to be shared (a one-off `sum(increase(x[1h]))` over a big
//! fleet is never held). Selectors inside subqueries read at other times and are not cached.
//! What is held at once is bounded by [`MAX_HELD_SAMPLES`]: a selection that would pass it is
//! read again instead (slower, not wrong).
//!
//! The cache must only front data that does not change during the evaluation: the runtime puts
//! it in front of the scraped store (read-locked for the evaluation), not in front of what the
//! rules write back, which later rules of the same group must see.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use foldhash::HashMap;
use promql_parser::parser::Expr;

use super::eval::Ctx;
use super::{
    CounterWindow, Engine, LabelsRef, Matcher, MemStore, Queryable, SeriesData, SeriesRef,
};

/// How a selection is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Read {
    /// A range selector's samples.
    Range,
    /// An instant selector's newest samples.
    Newest,
    /// A counter function's summarised windows, with the drops' values listed or not.
    Counter { drop_values: bool },
}

/// What a selection read: how, the matchers, the inclusive window.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    read: Read,
    /// (name, operator, value) in the selector's order.
    matchers: Vec<(String, u8, String)>,
    start: i64,
    end: i64,
}

impl Key {
    fn new(read: Read, matchers: &[Matcher], start: i64, end: i64) -> Key {
        Key {
            read,
            matchers: matchers
                .iter()
                .map(|m| (m.name.clone(), m.op as u8, m.value.clone()))
                .collect(),
            start,
            end,
        }
    }
}

/// The most samples the cache holds at once (16 MiB of samples, plus their series' label
/// vectors): an hour of 15 s samples of 4,000 series. Sharing a bigger selection would save its
/// decoding at the price of holding it while the group's rules run, on a console that should stay
/// light.
pub const MAX_HELD_SAMPLES: usize = 1 << 20;

type Newest<'s> = Vec<(LabelsRef<'s>, i64, f64)>;
type Counters<'s> = Vec<(LabelsRef<'s>, CounterWindow)>;

#[derive(Debug, Clone)]
enum Held<'s> {
    Range(Vec<SeriesRef<'s>>),
    Newest(Newest<'s>),
    Counter(Counters<'s>),
}

impl Held<'_> {
    /// What the held selection counts against [`MAX_HELD_SAMPLES`]: its samples, one per series
    /// for the newest samples, and [`counter_size`] for counter windows.
    fn samples(&self) -> usize {
        match self {
            Held::Range(v) => v.samples(),
            Held::Newest(v) => v.samples(),
            Held::Counter(v) => v.samples(),
        }
    }
}

/// What counter windows count against [`MAX_HELD_SAMPLES`]: as many samples as their records
/// and listed drop values take bytes (a window is several samples' worth).
fn counter_size(windows: &Counters<'_>) -> usize {
    const RECORD: usize =
        size_of::<(LabelsRef<'_>, CounterWindow)>().div_ceil(size_of::<(i64, f64)>());
    windows
        .iter()
        .map(|(_, w)| RECORD + w.drop_values.len().div_ceil(2))
        .sum()
}

#[derive(Debug)]
struct Entry<'s> {
    /// Reads still to come.
    remaining: usize,
    held: Option<Held<'s>>,
}

/// What a shared selection is, in [`Held`] and out of it, and what it counts against
/// [`MAX_HELD_SAMPLES`].
trait Holdable<'s>: Clone {
    fn hold(self) -> Held<'s>;
    fn unhold(held: Held<'s>) -> Option<Self>;
    fn samples(&self) -> usize;
}

/// `Holdable` for the selection `$t`, held as `Held::$variant`, counting `$samples` of it.
macro_rules! holdable {
    ($t:ty, $variant:ident, $samples:expr) => {
        impl<'s> Holdable<'s> for $t {
            fn hold(self) -> Held<'s> {
                Held::$variant(self)
            }
            fn unhold(held: Held<'s>) -> Option<Self> {
                match held {
                    Held::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn samples(&self) -> usize {
                $samples(self)
            }
        }
    };
}

holdable!(Vec<SeriesRef<'s>>, Range, range_size);
holdable!(Newest<'s>, Newest, Vec::len);
holdable!(Counters<'s>, Counter, counter_size);

/// What a range selection counts against [`MAX_HELD_SAMPLES`]: its samples (an instant
/// selection counts one per series).
fn range_size(series: &Vec<SeriesRef<'_>>) -> usize {
    series.iter().map(|s| s.samples.len()).sum()
}

/// Selections shared between the expressions of one evaluation (see the module doc). The
/// expressions may be evaluated on several threads at once: each planned selection has its own
/// lock, held while it is read, so a second read of a selection being read waits for the first
/// instead of reading it again.
#[derive(Debug, Default)]
pub struct SelectionCache<'s> {
    entries: HashMap<Key, Mutex<Entry<'s>>>,
    /// Samples held now, and the most that may be ([`MAX_HELD_SAMPLES`]).
    held_samples: AtomicUsize,
    budget: usize,
}

/// The entry behind `lock`, even if a thread panicked holding it (the entry is then as that
/// read left it: at worst not held, and read again).
fn lock<'m, T>(lock: &'m Mutex<T>) -> MutexGuard<'m, T> {
    lock.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<'s> SelectionCache<'s> {
    /// A cache for evaluating `exprs` at `t_ms` with `engine`: it will keep the selections
    /// read more than once.
    pub fn plan<'e>(engine: &Engine, exprs: impl IntoIterator<Item = &'e Expr>, t_ms: i64) -> Self {
        let nothing = MemStore::new();
        let ctx = engine.ctx(&nothing, t_ms, t_ms);
        let mut counts: HashMap<Key, usize> = HashMap::default();
        for e in exprs {
            count(&ctx, e, t_ms, &mut counts);
        }
        let entries = counts
            .into_iter()
            .filter(|&(_, n)| n > 1)
            .map(|(key, remaining)| {
                let entry = Entry {
                    remaining,
                    held: None,
                };
                (key, Mutex::new(entry))
            })
            .collect();
        SelectionCache {
            entries,
            held_samples: AtomicUsize::new(0),
            budget: MAX_HELD_SAMPLES,
        }
    }

    /// How many planned selections have reads to come and how many are held now (for tests).
    pub fn sizes(&self) -> (usize, usize) {
        self.entries.values().fold((0, 0), |(live, held), entry| {
            let entry = lock(entry);
            (
                live + usize::from(entry.remaining > 0),
                held + usize::from(entry.held.is_some()),
            )
        })
    }

    /// The series of a range read: from the cache when an earlier read kept them, else from
    /// `fetch` (and kept when a later read is planned).
    pub fn select_ref(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
        fetch: impl FnOnce() -> Vec<SeriesRef<'s>>,
    ) -> Vec<SeriesRef<'s>> {
        self.read(&Key::new(Read::Range, matchers, start_ms, end_ms), fetch)
    }

    /// The series of an instant read, as [`SelectionCache::select_ref`].
    pub fn select_newest_ref(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
        fetch: impl FnOnce() -> Newest<'s>,
    ) -> Newest<'s> {
        self.read(&Key::new(Read::Newest, matchers, start_ms, end_ms), fetch)
    }

    /// The counter windows of a counter function's range read, as
    /// [`SelectionCache::select_ref`]: `rate(x[5m])` and `increase(x[5m])` read the same
    /// windows, and `sum by (a) (rate(x[5m]))` beside `sum by (b) (rate(x[5m]))` the same ones
    /// twice.
    pub fn select_counter_ref(
        &self,
        matchers: &[Matcher],
        (start_ms, end_ms): (i64, i64),
        drop_values: bool,
        fetch: impl FnOnce() -> Counters<'s>,
    ) -> Counters<'s> {
        let key = Key::new(Read::Counter { drop_values }, matchers, start_ms, end_ms);
        self.read(&key, fetch)
    }

    /// One planned read of `key`: a copy of what an earlier read kept (the kept value itself
    /// on the last planned read), or `fetch`'s answer, kept if more reads are planned and it
    /// fits in what the cache may hold. The entry stays locked while `fetch` runs.
    fn read<T: Holdable<'s>>(&self, key: &Key, fetch: impl FnOnce() -> T) -> T {
        let Some(entry) = self.entries.get(key) else {
            return fetch();
        };
        let mut entry = lock(entry);
        entry.remaining = entry.remaining.saturating_sub(1);
        let last = entry.remaining == 0;
        let held = if last {
            entry.held.take().inspect(|held| {
                self.held_samples
                    .fetch_sub(held.samples(), Ordering::Relaxed);
            })
        } else {
            entry.held.clone()
        };
        if let Some(v) = held.and_then(T::unhold) {
            return v;
        }
        let v = fetch();
        if !last {
            let samples = v.samples();
            let fits = self
                .held_samples
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                    now.checked_add(samples).filter(|&n| n <= self.budget)
                })
                .is_ok();
            if fits {
                entry.held = Some(v.clone().hold());
            }
        }
        v
    }
}

/// An order in which to evaluate `exprs` at `t_ms` on `workers` threads at once: the original
/// order, except that an expression reading a selection one of the last `workers - 1` taken up
/// reads is put off while a later one reads none of theirs. The workers then start on
/// different selections, instead of one waiting while another reads the selection both need
/// (the rules of a group often come in runs over the same metric). It changes no answer.
pub(super) fn spread(engine: &Engine, exprs: &[&Expr], t_ms: i64, workers: usize) -> Vec<usize> {
    let nothing = MemStore::new();
    let ctx = engine.ctx(&nothing, t_ms, t_ms);
    let reads: Vec<Vec<Key>> = exprs
        .iter()
        .map(|e| {
            let mut counts = HashMap::default();
            count(&ctx, e, t_ms, &mut counts);
            counts.into_keys().collect()
        })
        .collect();
    let apart = |i: usize, j: usize| match (reads.get(i), reads.get(j)) {
        (Some(a), Some(b)) => !a.iter().any(|k| b.contains(k)),
        _ => true,
    };
    let mut pending: Vec<usize> = (0..exprs.len()).collect();
    let mut order = Vec::with_capacity(exprs.len());
    while !pending.is_empty() {
        let recent = order.get(order.len().saturating_sub(workers.saturating_sub(1))..);
        let next = pending
            .iter()
            .position(|&i| recent.unwrap_or_default().iter().all(|&j| apart(i, j)))
            .unwrap_or(0);
        order.push(pending.remove(next));
    }
    order
}

/// Counts the selections `e` reads at `t`, as the evaluator will make them.
fn count(ctx: &Ctx<'_>, e: &Expr, t: i64, counts: &mut HashMap<Key, usize>) {
    match e {
        Expr::VectorSelector(vs) => {
            if let Ok(matchers) = ctx.matchers(vs) {
                let (start, end) = ctx.instant_window(vs, t);
                *counts
                    .entry(Key::new(Read::Newest, &matchers, start, end))
                    .or_default() += 1;
            }
        }
        Expr::MatrixSelector(m) => {
            if let Ok(matchers) = ctx.matchers(&m.vs) {
                let range = super::eval::ms(&m.range);
                let (start, end) = ctx.range_window(&m.vs, range, t);
                *counts
                    .entry(Key::new(Read::Range, &matchers, start, end))
                    .or_default() += 1;
            }
        }
        Expr::Aggregate(a) => {
            count(ctx, &a.expr, t, counts);
            if let Some(p) = &a.param {
                count(ctx, p, t, counts);
            }
        }
        Expr::Unary(u) => count(ctx, &u.expr, t, counts),
        Expr::Binary(b) => {
            count(ctx, &b.lhs, t, counts);
            count(ctx, &b.rhs, t, counts);
        }
        Expr::Paren(p) => count(ctx, &p.expr, t, counts),
        // A counter function's range selector is read summarised.
        Expr::Call(c) if let Some((m, drop_values)) = super::over_time::counter_selector(c) => {
            if let Ok(matchers) = ctx.matchers(&m.vs) {
                let range = super::eval::ms(&m.range);
                let (start, end) = ctx.counter_window(&m.vs, range, t);
                *counts
                    .entry(Key::new(
                        Read::Counter { drop_values },
                        &matchers,
                        start,
                        end,
                    ))
                    .or_default() += 1;
            }
        }
        Expr::Call(c) => {
            for a in &c.args.args {
                count(ctx, a, t, counts);
            }
        }
        // A subquery's selectors read at its own steps, not at `t`.
        Expr::Subquery(_)
        | Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::Extension(_) => {}
    }
}

/// A [`Queryable`] with a [`SelectionCache`] in front: for data that does not change while the
/// cache lives (see the module doc). It may be read from several threads at once.
pub struct Cached<'s> {
    q: &'s (dyn Queryable + Sync + 's),
    cache: SelectionCache<'s>,
}

impl<'s> Cached<'s> {
    pub fn new(q: &'s (dyn Queryable + Sync + 's), cache: SelectionCache<'s>) -> Self {
        Cached { q, cache }
    }

    pub fn cache(&self) -> &SelectionCache<'s> {
        &self.cache
    }
}

impl Queryable for Cached<'_> {
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesData> {
        self.q.select(matchers, start_ms, end_ms)
    }

    fn select_newest(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Vec<(super::Labels, i64, f64)> {
        self.q.select_newest(matchers, start_ms, end_ms)
    }

    fn select_ref(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesRef<'_>> {
        self.cache.select_ref(matchers, start_ms, end_ms, || {
            self.q.select_ref(matchers, start_ms, end_ms)
        })
    }

    fn select_counter_ref(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
        drop_values: bool,
    ) -> Vec<(LabelsRef<'_>, CounterWindow)> {
        self.cache
            .select_counter_ref(matchers, (start_ms, end_ms), drop_values, || {
                self.q
                    .select_counter_ref(matchers, start_ms, end_ms, drop_values)
            })
    }

    fn select_newest_ref(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Vec<(LabelsRef<'_>, i64, f64)> {
        self.cache
            .select_newest_ref(matchers, start_ms, end_ms, || {
                self.q.select_newest_ref(matchers, start_ms, end_ms)
            })
    }
}

#[cfg(test)]
mod tests;
