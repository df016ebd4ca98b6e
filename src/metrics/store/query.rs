//! Reading the store: selecting series by matchers, their labels, and their samples.

use super::functions::CounterWindow;
use super::symbols::Sym;
use super::{Matcher, STALE_NAN_BITS, SeriesId, Store};

/// The ids in both ascending lists.
fn intersect(a: &[SeriesId], b: &[SeriesId]) -> Vec<SeriesId> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let mut b = b.iter().peekable();
    for &id in a {
        while b.next_if(|&&x| x < id).is_some() {}
        if b.peek() == Some(&&id) {
            out.push(id);
        }
    }
    out
}

/// Series between two stages of [`Store::for_each_prefetched`]: enough for a stage's loads to
/// arrive (a few hundred nanoseconds) before the next stage or the read needs them.
const PREFETCH_STAGE: usize = 8;

impl Store {
    /// The series matching all `matchers`, ascending. `__name__` is the metric name; a matcher on
    /// a missing label sees `""` (so `{a=""}` matches series without `a`, as in Prometheus).
    /// Equality matchers on non-empty values go through the postings; the others filter the
    /// candidates (all series when there is no such equality).
    pub fn select(&self, matchers: &[Matcher]) -> Vec<SeriesId> {
        let mut candidates: Option<Vec<SeriesId>> = None;
        // The matchers the postings do not settle, with their label name's symbol (`None`: no
        // series has that label, so every series sees `""`). Resolved once here rather than
        // once per candidate: a rule selects tens of thousands of series.
        let mut rest: Vec<(&Matcher, Option<Sym>)> = Vec::new();
        for m in matchers {
            let Some(value) = m.postings_value() else {
                rest.push((m, self.syms.get(&m.name)));
                continue;
            };
            let list = self
                .syms
                .get(&m.name)
                .zip(self.syms.get(value))
                .and_then(|pair| self.postings.get(&pair))
                .map_or(&[][..], Vec::as_slice);
            candidates = Some(match candidates {
                None => list.to_vec(),
                Some(c) => intersect(&c, list),
            });
        }
        let candidates = candidates.unwrap_or_else(|| self.live_ids().collect());
        if rest.is_empty() {
            return candidates;
        }
        candidates
            .into_iter()
            .filter(|&id| {
                let labels = self.label_syms(id);
                rest.iter().all(|&(m, name)| {
                    let value = name
                        .and_then(|name| labels.iter().find(|&&(n, _)| n == name))
                        .map_or("", |&(_, v)| self.syms.resolve(v));
                    m.matches(value)
                })
            })
            .collect()
    }

    pub(super) fn live_ids(&self) -> impl Iterator<Item = SeriesId> + '_ {
        self.series
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .filter_map(|(i, _)| SeriesId::try_from(i).ok())
    }

    fn label_syms(&self, id: SeriesId) -> &[(Sym, Sym)] {
        match self.series.get(id as usize) {
            Some(Some(s)) => &s.labels,
            _ => &[],
        }
    }

    /// The series' labels sorted by name, `("__name__", name)` included; empty for an unknown id.
    pub fn labels(&self, id: SeriesId) -> Vec<(&str, &str)> {
        self.label_syms(id)
            .iter()
            .map(|&(n, v)| (self.syms.resolve(n), self.syms.resolve(v)))
            .collect()
    }

    /// The series' labels as [`Store::labels`] gives them, without collecting them first.
    pub fn label_pairs(&self, id: SeriesId) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.label_syms(id)
            .iter()
            .map(|&(n, v)| (self.syms.resolve(n), self.syms.resolve(v)))
    }

    /// One label's value (`__name__` for the metric name).
    pub fn label(&self, id: SeriesId, name: &str) -> Option<&str> {
        let name = self.syms.get(name)?;
        self.label_syms(id)
            .iter()
            .find(|&&(n, _)| n == name)
            .map(|&(_, v)| self.syms.resolve(v))
    }

    /// Samples with `start_ms <= t <= end_ms` (inclusive at both ends: Prometheus 3's left-open
    /// ranges are the caller's `start_ms + 1`), oldest first, staleness markers included (filter
    /// with [`super::is_stale`]).
    pub fn samples(&self, id: SeriesId, start_ms: i64, end_ms: i64) -> Vec<(i64, f64)> {
        let mut out = Vec::new();
        self.samples_into(id, start_ms, end_ms, &mut out);
        out
    }

    /// [`Store::samples`] appended to `out`, whose allocation the caller may reuse.
    pub fn samples_into(
        &self,
        id: SeriesId,
        start_ms: i64,
        end_ms: i64,
        out: &mut Vec<(i64, f64)>,
    ) {
        if let Some(Some(s)) = self.series.get(id as usize) {
            s.range_into(start_ms, end_ms, out);
        }
    }

    /// What the counter functions need of the samples with `start_ms <= t <= end_ms`, staleness
    /// markers left out: the same as [`CounterWindow::from_samples`] over them, but built from
    /// the chunks' summaries, decoding only what comes before the window in its first chunk
    /// (see [`super::series::Series::counter_window`]). `None` when there is no such sample.
    pub fn counter_window(
        &self,
        id: SeriesId,
        start_ms: i64,
        end_ms: i64,
        drop_values: bool,
    ) -> Option<CounterWindow> {
        let Some(Some(s)) = self.series.get(id as usize) else {
            return None;
        };
        s.counter_window(start_ms, end_ms, drop_values)
    }

    /// Calls `read` with each of `ids` in order, prefetching what reading the window from
    /// `start_ms` will touch a few series ahead, so the cache misses of many series overlap
    /// instead of queueing one after another. A read follows a chain of pointers (the series'
    /// record, then its head bytes, checkpoints and chunk records, then the chunks' bytes), so
    /// the prefetching goes in three stages, each reading only what the stage before brought
    /// in: a series' record [`PREFETCH_STAGE`] × 3 series ahead, its parts × 2 ahead, the
    /// closed chunks the window reaches × 1 ahead.
    pub fn for_each_prefetched(
        &self,
        ids: &[SeriesId],
        start_ms: i64,
        mut read: impl FnMut(SeriesId),
    ) {
        let series = |i: usize| {
            let id = *ids.get(i)?;
            self.series.get(id as usize)?.as_ref()
        };
        let record_lines = size_of::<Option<super::series::Series>>().div_ceil(64);
        for (i, &id) in ids.iter().enumerate() {
            if let Some(&far) = ids.get(i + 3 * PREFETCH_STAGE) {
                let record = self.series.as_ptr().wrapping_add(far as usize).cast::<u8>();
                for line in 0..record_lines {
                    super::series::prefetch(record.wrapping_add(line * 64));
                }
            }
            if let Some(s) = series(i + 2 * PREFETCH_STAGE) {
                s.prefetch_parts(start_ms);
            }
            if let Some(s) = series(i + PREFETCH_STAGE) {
                s.prefetch_chunks(start_ms);
            }
            read(id);
        }
    }

    /// The newest sample with `start_ms <= t <= end_ms`, a staleness marker included; found
    /// without decoding when it is the series' newest sample (the usual case at "now").
    pub fn newest_in(&self, id: SeriesId, start_ms: i64, end_ms: i64) -> Option<(i64, f64)> {
        let Some(Some(s)) = self.series.get(id as usize) else {
            return None;
        };
        let (t, v) = s.at_or_before(end_ms)?;
        (t >= start_ms).then(|| (t, f64::from_bits(v)))
    }

    /// The value an instant-vector selector sees at `at_ms`: the newest sample in
    /// `(at_ms - lookback_ms, at_ms]`; `None` if there is none or it is a staleness marker.
    pub fn instant(&self, id: SeriesId, at_ms: i64, lookback_ms: i64) -> Option<(i64, f64)> {
        let Some(Some(s)) = self.series.get(id as usize) else {
            return None;
        };
        let (t, v) = s.at_or_before(at_ms)?;
        (t > at_ms.saturating_sub(lookback_ms) && v != STALE_NAN_BITS)
            .then(|| (t, f64::from_bits(v)))
    }

    /// The values of label `label` over all series, sorted (the metric names for `__name__`).
    pub fn label_values(&self, label: &str) -> Vec<&str> {
        let Some(name) = self.syms.get(label) else {
            return Vec::new();
        };
        let mut out: Vec<&str> = self
            .postings
            .iter()
            .filter(|((n, _), ids)| *n == name && !ids.is_empty())
            .map(|(&(_, v), _)| self.syms.resolve(v))
            .collect();
        out.sort_unstable();
        out
    }

    /// All metric names, sorted, for a series explorer.
    pub fn metric_names(&self) -> Vec<&str> {
        self.label_values("__name__")
    }

    pub fn series_count(&self) -> usize {
        self.index.len()
    }
}
