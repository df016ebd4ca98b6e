//! An in-memory [`Queryable`]: the series of a `rules test` file or a promqltest `load` block,
//! and what rule evaluation writes back (recording rules, `ALERTS`, `ALERTS_FOR_STATE`).

use std::collections::BTreeMap;

use std::borrow::Cow;

use super::{Labels, Matcher, Queryable, SeriesData, SeriesRef};

/// Series by label set, samples kept in time order.
#[derive(Clone, Debug, Default)]
pub struct MemStore {
    series: BTreeMap<Labels, Vec<(i64, f64)>>,
}

impl MemStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one sample to the series `labels` (sorted here; `__name__` among them). A sample at
    /// a time the series already has replaces it, as a re-run evaluation would.
    pub fn add(&mut self, labels: &[(String, String)], t_ms: i64, v: f64) {
        let mut key: Labels = labels
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .cloned()
            .collect();
        key.sort();
        let samples = self.series.entry(key).or_default();
        match samples.binary_search_by_key(&t_ms, |(t, _)| *t) {
            Ok(i) => samples[i].1 = v,
            Err(i) => samples.insert(i, (t_ms, v)),
        }
    }

    /// Drops the samples before `before_ms`, and the series left without any: what rules wrote
    /// back is kept as long as the scraped series it came from, not forever.
    pub fn trim(&mut self, before_ms: i64) {
        self.series.retain(|_, samples| {
            let keep_from = samples.partition_point(|(t, _)| *t < before_ms);
            samples.drain(..keep_from);
            !samples.is_empty()
        });
    }

    /// How many series are held.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

impl MemStore {
    /// The series matching `matchers` with their samples in `start_ms..=end_ms`, borrowed.
    fn matching(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> impl Iterator<Item = (&Labels, Vec<(i64, f64)>)> {
        self.series
            .iter()
            .filter(|(labels, _)| {
                matchers.iter().all(|m| {
                    let v = labels
                        .iter()
                        .find(|(k, _)| *k == m.name)
                        .map_or("", |(_, v)| v.as_str());
                    m.matches(v)
                })
            })
            .map(move |(labels, samples)| {
                let from = samples.partition_point(|(t, _)| *t < start_ms);
                let to = samples.partition_point(|(t, _)| *t <= end_ms);
                (labels, samples.get(from..to).unwrap_or_default().to_vec())
            })
            .filter(|(_, samples)| !samples.is_empty())
    }
}

impl Queryable for MemStore {
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesData> {
        self.matching(matchers, start_ms, end_ms)
            .map(|(labels, samples)| SeriesData {
                labels: labels.clone(),
                samples,
            })
            .collect()
    }

    fn select_ref(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesRef<'_>> {
        self.matching(matchers, start_ms, end_ms)
            .map(|(labels, samples)| SeriesRef {
                labels: labels
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v.as_str())))
                    .collect(),
                samples,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::promql::MatchOp;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selects_by_matchers_within_the_window_both_ends_inclusive() {
        let mut m = MemStore::new();
        m.add(&l(&[("job", "a"), ("__name__", "up")]), 10, 1.0);
        m.add(&l(&[("__name__", "up"), ("job", "a")]), 20, 0.0);
        m.add(&l(&[("__name__", "up"), ("job", "b")]), 20, 1.0);
        let got = m.select(
            &[
                Matcher::new("__name__", MatchOp::Equal, "up").unwrap(),
                Matcher::new("job", MatchOp::Re, "a").unwrap(),
            ],
            10,
            20,
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].labels, l(&[("__name__", "up"), ("job", "a")]));
        assert_eq!(got[0].samples, vec![(10, 1.0), (20, 0.0)]);
        assert!(
            m.select(&[Matcher::new("job", MatchOp::Equal, "a").unwrap()], 11, 19)
                .is_empty()
        );
    }

    #[test]
    fn trim_drops_old_samples_and_emptied_series() {
        let mut m = MemStore::new();
        let a = l(&[("__name__", "a")]);
        let b = l(&[("__name__", "b")]);
        m.add(&a, 10, 1.0);
        m.add(&a, 30, 2.0);
        m.add(&b, 10, 1.0);
        m.trim(20);
        assert_eq!(m.len(), 1);
        assert_eq!(m.select(&[], 0, 100)[0].samples, vec![(30, 2.0)]);
    }

    #[test]
    fn a_sample_at_the_same_time_replaces_the_old_one() {
        let mut m = MemStore::new();
        let up = l(&[("__name__", "up")]);
        m.add(&up, 20, 1.0);
        m.add(&up, 10, 5.0);
        m.add(&up, 20, 2.0);
        let got = m.select(&[], 0, 100);
        assert_eq!(got[0].samples, vec![(10, 5.0), (20, 2.0)]);
    }
}
