//! A [`Queryable`] for tests that counts the selections made of it: what the caches' tests
//! check sharing with.

use std::cell::Cell;

use super::{Matcher, MemStore, Queryable, SeriesData};

pub(super) struct Counting {
    pub inner: MemStore,
    pub selects: Cell<usize>,
}

impl Counting {
    pub fn new(inner: MemStore) -> Self {
        Counting {
            inner,
            selects: Cell::new(0),
        }
    }
}

impl Queryable for Counting {
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesData> {
        self.selects.set(self.selects.get() + 1);
        self.inner.select(matchers, start_ms, end_ms)
    }
}
