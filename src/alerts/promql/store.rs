//! The console's scraped series store as a [`Queryable`], so alert rules run over what the
//! console already scrapes.

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
        let mut out = Vec::with_capacity(ids.len());
        self.for_each_prefetched(&ids, |id| {
            let mut samples = Vec::new();
            self.samples_into(id, start_ms, end_ms, &mut samples);
            if !samples.is_empty() {
                out.push(SeriesRef {
                    labels: borrowed(self, id),
                    samples,
                });
            }
        });
        out
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
        let mut out = Vec::with_capacity(ids.len());
        self.for_each_prefetched(&ids, |id| {
            if let Some(w) = self.counter_window(id, start_ms, end_ms, drop_values) {
                out.push((borrowed(self, id), w));
            }
        });
        out
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
        let mut out = Vec::with_capacity(ids.len());
        self.for_each_prefetched(&ids, |id| {
            if let Some((t, v)) = self.newest_in(id, start_ms, end_ms) {
                out.push((borrowed(self, id), t, v));
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::store::{Incoming, MatchOp, STALE_NAN_BITS, StoreConfig};

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
