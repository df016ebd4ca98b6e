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

use std::cell::{Cell, RefCell};

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
            Held::Range(v) => v.iter().map(|s| s.samples.len()).sum(),
            Held::Newest(v) => v.len(),
            Held::Counter(v) => counter_size(v),
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

/// Selections shared between the expressions of one evaluation (see the module doc).
#[derive(Debug, Default)]
pub struct SelectionCache<'s> {
    entries: RefCell<HashMap<Key, Entry<'s>>>,
    /// Samples held now, and the most that may be ([`MAX_HELD_SAMPLES`]).
    held_samples: Cell<usize>,
    budget: usize,
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
                (key, entry)
            })
            .collect();
        SelectionCache {
            entries: RefCell::new(entries),
            held_samples: Cell::new(0),
            budget: MAX_HELD_SAMPLES,
        }
    }

    /// How many selections are planned to be shared and how many are held now (for tests).
    pub fn sizes(&self) -> (usize, usize) {
        let entries = self.entries.borrow();
        let held = entries.values().filter(|e| e.held.is_some()).count();
        (entries.len(), held)
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
        let key = Key::new(Read::Range, matchers, start_ms, end_ms);
        match self.take(&key) {
            Some(Held::Range(v)) => v,
            _ => {
                let v = fetch();
                let n = v.iter().map(|s| s.samples.len()).sum();
                self.keep(&key, n, || Held::Range(v.clone()));
                v
            }
        }
    }

    /// The series of an instant read, as [`SelectionCache::select_ref`].
    pub fn select_newest_ref(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
        fetch: impl FnOnce() -> Newest<'s>,
    ) -> Newest<'s> {
        let key = Key::new(Read::Newest, matchers, start_ms, end_ms);
        match self.take(&key) {
            Some(Held::Newest(v)) => v,
            _ => {
                let v = fetch();
                self.keep(&key, v.len(), || Held::Newest(v.clone()));
                v
            }
        }
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
        match self.take(&key) {
            Some(Held::Counter(v)) => v,
            _ => {
                let v = fetch();
                self.keep(&key, counter_size(&v), || Held::Counter(v.clone()));
                v
            }
        }
    }

    /// A copy of what is held for `key` (the held value itself on its last planned read).
    fn take(&self, key: &Key) -> Option<Held<'s>> {
        let mut entries = self.entries.borrow_mut();
        let entry = entries.get_mut(key)?;
        entry.held.as_ref()?;
        entry.remaining = entry.remaining.saturating_sub(1);
        if entry.remaining == 0 {
            let held = entries.remove(key).and_then(|e| e.held);
            let freed = held.as_ref().map_or(0, Held::samples);
            self.held_samples
                .set(self.held_samples.get().saturating_sub(freed));
            return held;
        }
        entry.held.clone()
    }

    /// Counts a fetch for `key` and keeps its result (of `samples` samples) if more reads are
    /// planned and it fits in what the cache may hold.
    fn keep(&self, key: &Key, samples: usize, held: impl FnOnce() -> Held<'s>) {
        let mut entries = self.entries.borrow_mut();
        let Some(entry) = entries.get_mut(key) else {
            return;
        };
        entry.remaining = entry.remaining.saturating_sub(1);
        if entry.remaining == 0 {
            entries.remove(key);
        } else if self.held_samples.get().saturating_add(samples) <= self.budget {
            self.held_samples.set(self.held_samples.get() + samples);
            entry.held = Some(held());
        }
    }
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
/// cache lives (see the module doc).
pub struct Cached<'s> {
    q: &'s (dyn Queryable + 's),
    cache: SelectionCache<'s>,
}

impl<'s> Cached<'s> {
    pub fn new(q: &'s (dyn Queryable + 's), cache: SelectionCache<'s>) -> Self {
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
