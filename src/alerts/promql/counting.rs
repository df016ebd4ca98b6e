//! A [`Queryable`] for tests that counts the selections made of it: what the caches' tests
//! check sharing with.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::{Matcher, MemStore, Queryable, SeriesData};

pub(super) struct Counting {
    pub inner: MemStore,
    selects: AtomicUsize,
    /// How long each selection takes.
    delay: Duration,
}

impl Counting {
    pub fn new(inner: MemStore) -> Self {
        Counting::slow(inner, Duration::ZERO)
    }

    /// A store whose every selection takes `delay`: long enough for other threads to want it
    /// while it is read.
    pub fn slow(inner: MemStore, delay: Duration) -> Self {
        Counting {
            inner,
            selects: AtomicUsize::new(0),
            delay,
        }
    }

    /// Selections made so far.
    pub fn selects(&self) -> usize {
        self.selects.load(Ordering::Relaxed)
    }
}

impl Queryable for Counting {
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesData> {
        self.selects.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(self.delay);
        self.inner.select(matchers, start_ms, end_ms)
    }
}
