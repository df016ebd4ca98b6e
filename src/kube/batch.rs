//! Batching of watch changes: the UI gets one message per ~50 ms or per 1,000 changes, not one
//! per object, so a relist of 50,000 pods costs it 50 updates, and a quiet cluster costs nothing.

use std::time::Duration;

use tokio::time::Instant;

use super::rows::Change;

/// The most changes one `KubeMsg::Changes` carries.
pub const MAX_BATCH: usize = 1_000;
/// How long the first change of a batch may wait for company.
pub const BATCH_WINDOW: Duration = Duration::from_millis(50);

/// Collects changes; says when a batch is full or due. The caller owns the clock and the timer.
#[derive(Debug)]
pub struct Batcher {
    items: Vec<Change>,
    deadline: Option<Instant>,
    max: usize,
    window: Duration,
}

impl Default for Batcher {
    fn default() -> Self {
        Self::new(MAX_BATCH, BATCH_WINDOW)
    }
}

impl Batcher {
    pub fn new(max: usize, window: Duration) -> Self {
        Self {
            items: Vec::new(),
            deadline: None,
            max: max.max(1),
            window,
        }
    }

    /// Adds a change; returns a full batch when this one filled it.
    pub fn push(&mut self, change: Change, now: Instant) -> Option<Vec<Change>> {
        if self.items.is_empty() {
            self.deadline = Some(now + self.window);
        }
        self.items.push(change);
        (self.items.len() >= self.max).then(|| self.take())
    }

    /// When the pending batch must go, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Everything pending, leaving the batcher empty.
    pub fn take(&mut self) -> Vec<Change> {
        self.deadline = None;
        std::mem::replace(&mut self.items, Vec::with_capacity(64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::rows::Kind;

    #[test]
    fn a_full_batch_goes_at_once_and_the_rest_waits_for_the_window() {
        let t0 = Instant::now();
        let mut b = Batcher::new(3, Duration::from_millis(50));
        assert_eq!(b.deadline(), None);
        assert!(b.push(Change::Relisting(Kind::Pod), t0).is_none());
        assert_eq!(b.deadline(), Some(t0 + Duration::from_millis(50)));
        // Later changes do not push the deadline back.
        let t1 = t0 + Duration::from_millis(30);
        assert!(b.push(Change::Listed(Kind::Pod), t1).is_none());
        assert_eq!(b.deadline(), Some(t0 + Duration::from_millis(50)));
        let full = b
            .push(Change::Relisting(Kind::Event), t1)
            .expect("full at 3");
        assert_eq!(full.len(), 3);
        assert!(b.is_empty());
        assert_eq!(b.deadline(), None);
        // The next batch starts its own window.
        let t2 = t1 + Duration::from_millis(5);
        b.push(Change::Listed(Kind::Event), t2);
        assert_eq!(b.deadline(), Some(t2 + Duration::from_millis(50)));
        assert_eq!(b.take(), vec![Change::Listed(Kind::Event)]);
        assert!(b.take().is_empty());
    }

    #[test]
    fn the_default_cap_is_a_thousand() {
        let t0 = Instant::now();
        let mut b = Batcher::default();
        let mut sizes = Vec::new();
        for _ in 0..2_500 {
            if let Some(batch) = b.push(Change::Listed(Kind::Pod), t0) {
                sizes.push(batch.len());
            }
        }
        sizes.push(b.take().len());
        assert_eq!(sizes, vec![1_000, 1_000, 500]);
    }
}
