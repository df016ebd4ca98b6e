//! The console's scraped series store as a [`Queryable`], so alert rules run over what the
//! console already scrapes.

use super::{Queryable, SeriesData};
use crate::metrics::store::{Matcher, Store};

impl Queryable for Store {
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesData> {
        Store::select(self, matchers)
            .into_iter()
            .filter_map(|id| {
                let samples = self.samples(id, start_ms, end_ms);
                (!samples.is_empty()).then(|| SeriesData {
                    labels: self
                        .labels(id)
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect(),
                    samples,
                })
            })
            .collect()
    }
}
