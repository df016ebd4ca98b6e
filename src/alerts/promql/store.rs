//! The console's scraped series store as a [`Queryable`], so alert rules run over what the
//! console already scrapes. A big selection is read on a few threads at once (one per core, at
//! most four), in consecutive parts joined in order: from 8,192 series for counter windows and
//! newest samples, from 1,024 for a range selector's samples, which are decoded.

use std::borrow::Cow;

use super::{
    CounterWindow, Labels, LabelsRef, Queryable, SeriesData, SeriesRef, owned_labels, owned_series,
};
use crate::metrics::store::{Matcher, SeriesId, Store};

/// A series' labels borrowed from the store's symbol table: one vector, no string copied.
fn borrowed(store: &Store, id: SeriesId) -> LabelsRef<'_> {
    store
        .label_pairs(id)
        .map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v)))
        .collect()
}

/// The fewest series a selection gives each reading thread: below that, starting a thread
/// costs more than it saves. Reading a counter window or a newest sample costs a few hundred
/// nanoseconds (mostly waiting on memory); decoding a range selector's samples costs about ten
/// times that, so its selections are cut into smaller parts.
const SERIES_PER_READER: usize = 4_096;
/// [`SERIES_PER_READER`] for a range selector's samples.
const DECODING_SERIES_PER_READER: usize = 512;

/// The most threads one selection is read on.
const MAX_READERS: usize = 4;

/// How many threads read a selection of `n` series, `per_reader` or more each: at most one per
/// core and [`MAX_READERS`], and only this one on a worker evaluating one of several rules at
/// once (the workers keep the cores busy).
fn readers(n: usize, per_reader: usize) -> usize {
    if super::workers::on_worker() {
        return 1;
    }
    (n / per_reader.max(1)).clamp(1, super::workers::cores().min(MAX_READERS))
}

/// `read` over each of `ids` in order (reading windows from `start_ms`), its outputs collected
/// in that order. A big selection is cut into consecutive parts of at least `per_reader` series,
/// read on scoped threads at once (each prefetching as [`Store::for_each_prefetched`] does), then
/// joined: a rule over a fleet reads tens of thousands of series, and reading them is most of
/// what evaluating it costs.
fn read_ids<T: Send>(
    store: &Store,
    ids: &[SeriesId],
    per_reader: usize,
    start_ms: i64,
    read: impl Fn(SeriesId, &mut Vec<T>) + Sync,
) -> Vec<T> {
    read_ids_on(store, ids, start_ms, readers(ids.len(), per_reader), read)
}

/// [`read_ids`] on `readers` threads.
fn read_ids_on<T: Send>(
    store: &Store,
    ids: &[SeriesId],
    start_ms: i64,
    readers: usize,
    read: impl Fn(SeriesId, &mut Vec<T>) + Sync,
) -> Vec<T> {
    let read_part = |part: &[SeriesId]| {
        let mut out = Vec::with_capacity(part.len());
        store.for_each_prefetched(part, start_ms, |id| read(id, &mut out));
        out
    };
    if readers <= 1 || ids.len() < 2 {
        return read_part(ids);
    }
    let mut parts = ids.chunks(ids.len().div_ceil(readers));
    let first = parts.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let others: Vec<_> = parts
            .map(|part| scope.spawn(move || read_part(part)))
            .collect();
        let mut out = read_part(first);
        for other in others {
            match other.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

impl Queryable for Store {
    /// [`Queryable::select_ref`] with the labels copied out.
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesData> {
        owned_series(self.select_ref(matchers, start_ms, end_ms))
    }

    /// [`Queryable::select_newest_ref`] with the labels copied out.
    fn select_newest(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Vec<(Labels, i64, f64)> {
        self.select_newest_ref(matchers, start_ms, end_ms)
            .into_iter()
            .map(|(labels, t, v)| (owned_labels(labels), t, v))
            .collect()
    }

    fn select_ref(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesRef<'_>> {
        let ids = Store::select(self, matchers);
        read_ids(
            self,
            &ids,
            DECODING_SERIES_PER_READER,
            start_ms,
            |id, out| {
                let mut samples = Vec::new();
                self.samples_into(id, start_ms, end_ms, &mut samples);
                if !samples.is_empty() {
                    out.push(SeriesRef {
                        labels: borrowed(self, id),
                        samples,
                    });
                }
            },
        )
    }

    /// Each window summarised by the store from its chunks' summaries: only the samples before
    /// the window's start in its first chunk are decoded (see [`Store::counter_window`]).
    fn select_counter_ref(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
        drop_values: bool,
    ) -> Vec<(LabelsRef<'_>, CounterWindow)> {
        let ids = Store::select(self, matchers);
        read_ids(self, &ids, SERIES_PER_READER, start_ms, |id, out| {
            if let Some(w) = self.counter_window(id, start_ms, end_ms, drop_values) {
                out.push((borrowed(self, id), w));
            }
        })
    }

    /// The series' newest sample straight from the store: no chunk is decoded when that sample
    /// is the newest one the series has, which it is when rules run at "now".
    fn select_newest_ref(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Vec<(LabelsRef<'_>, i64, f64)> {
        let ids = Store::select(self, matchers);
        read_ids(self, &ids, SERIES_PER_READER, start_ms, |id, out| {
            if let Some((t, v)) = self.newest_in(id, start_ms, end_ms) {
                out.push((borrowed(self, id), t, v));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::store::{Incoming, MatchOp, STALE_NAN_BITS, StoreConfig};

    /// Read on several threads, a selection is what one thread reads, in the same order: each
    /// series' labels with its own window, whatever the parts (uneven ones included).
    #[test]
    fn a_selection_read_in_parts_is_the_selection_read_at_once() {
        let mut store = Store::new(StoreConfig::default());
        let target = store.target("t");
        let names: Vec<String> = (0..1_000).map(|i| format!("s{i:04}")).collect();
        for c in 0..30i64 {
            let labels: Vec<[(&str, &str); 1]> =
                names.iter().map(|n| [("series", n.as_str())]).collect();
            store.ingest(
                target,
                c * 15_000,
                labels.iter().enumerate().map(|(i, l)| Incoming {
                    name: "requests_total",
                    labels: l,
                    value: (c * (i as i64 % 7)) as f64,
                    timestamp_ms: None,
                }),
            );
        }
        let m = [Matcher::new("__name__", MatchOp::Equal, "requests_total").unwrap()];
        let ids = Store::select(&store, &m);
        assert_eq!(ids.len(), 1_000);
        let windows = |readers: usize| {
            read_ids_on(&store, &ids, 60_000, readers, |id, out| {
                if let Some(w) = store.counter_window(id, 60_000, 435_000, true) {
                    out.push((borrowed(&store, id), w.first, w.last, w.count));
                }
            })
        };
        let samples = |readers: usize| {
            read_ids_on(&store, &ids, 100_000, readers, |id, out| {
                let mut samples = Vec::new();
                store.samples_into(id, 100_000, 300_000, &mut samples);
                out.push((borrowed(&store, id), samples));
            })
        };
        let (one_w, one_s) = (windows(1), samples(1));
        assert_eq!(one_w.len(), 1_000);
        assert_eq!(one_w[999].0[1].1, "s0999");
        assert_eq!(one_w[6].2, (435_000, 174.0));
        for readers in [2, 3, 7] {
            assert_eq!(windows(readers), one_w, "{readers} readers");
            assert_eq!(samples(readers), one_s, "{readers} readers");
        }
    }

    /// The override answers as the trait's default (the newest sample of `select`'s window)
    /// would: a window ending before the newest sample, one holding nothing, and a staleness
    /// marker, which is returned for the evaluator to drop.
    #[test]
    fn select_newest_agrees_with_the_window_select_returns() {
        let mut store = Store::new(StoreConfig::default());
        let (a, b) = (store.target("a"), store.target("b"));
        for i in 0..300i64 {
            let up = [("job", "a")];
            store.ingest(
                a,
                i * 15_000,
                [Incoming {
                    name: "up",
                    labels: &up,
                    value: i as f64,
                    timestamp_ms: None,
                }],
            );
        }
        let up = [("job", "b")];
        store.ingest(
            b,
            0,
            [Incoming {
                name: "up",
                labels: &up,
                value: 1.0,
                timestamp_ms: None,
            }],
        );
        store.target_down(b, 15_000, false);
        let m = [Matcher::new("__name__", MatchOp::Equal, "up").unwrap()];
        for (start, end) in [
            (0, 299 * 15_000),
            (1_000_000, 2_000_000),
            (7_000, 14_999),
            (15_000, 15_000),
        ] {
            let default: Vec<(Labels, i64, f64)> = Queryable::select(&store, &m, start, end)
                .into_iter()
                .filter_map(|s| {
                    let &(t, v) = s.samples.last()?;
                    Some((s.labels, t, v))
                })
                .collect();
            let got = store.select_newest(&m, start, end);
            assert_eq!(
                format!("{got:?}"),
                format!("{default:?}"),
                "window {start}..={end}"
            );
        }
        let stale = store.select_newest(&m, 15_000, 15_000);
        assert!(stale.iter().any(|(_, _, v)| v.to_bits() == STALE_NAN_BITS));
        assert_eq!(store.select_newest(&m, 1_000_000, 2_000_000).len(), 1);
    }
}
