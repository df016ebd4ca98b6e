//! What a stream task holds while the console's channel is full: at most `cap` lines, the oldest
//! given up (and counted) first, so a slow console never makes a stream grow memory and never
//! loses lines without saying how many.

use std::collections::VecDeque;

#[derive(Debug)]
pub struct Outbox<T> {
    pending: VecDeque<T>,
    cap: usize,
    dropped: u64,
}

impl<T> Outbox<T> {
    pub fn new(cap: usize) -> Self {
        Self {
            pending: VecDeque::new(),
            cap: cap.max(1),
            dropped: 0,
        }
    }

    pub fn push(&mut self, item: T) {
        if self.pending.len() >= self.cap {
            self.pending.pop_front();
            self.dropped += 1;
        }
        self.pending.push_back(item);
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.dropped == 0
    }

    /// Everything held and the count given up since the last take (for one message).
    pub fn take(&mut self) -> (Vec<T>, u64) {
        let items = self.pending.drain(..).collect();
        (items, std::mem::take(&mut self.dropped))
    }
}
