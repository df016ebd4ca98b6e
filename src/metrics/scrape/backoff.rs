//! Backing off a cluster's scrapes when its API server answers 429.
//!
//! The API server's priority and fairness throttles the scraper's user as a whole, so one 429
//! pauses every scrape of the cluster, not just the target that got it:
//! - pause for `Retry-After` when given (capped, so a wild value cannot silence a cluster for
//!   hours), else exponentially: 1 s, 2 s, 4 s, ... up to the longest interval × 4;
//! - then resume at reduced concurrency, halved per consecutive 429 (at least one in flight),
//!   and double back with each successful scrape, so a still-busy server is not hit at full
//!   rate the moment the pause ends.
//!
//! Pure state: the scheduler passes the time in.

use std::time::Duration;

use tokio::time::Instant;

/// The first pause without `Retry-After`.
pub(crate) const FIRST_PAUSE: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(crate) struct Backoff {
    /// 429s since the last recovery, each halving the concurrency (saturating).
    strikes: u32,
    /// No scrape starts before this.
    until: Option<Instant>,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        Self {
            strikes: 0,
            until: None,
        }
    }

    /// A 429 at `now`: returns how long every scrape pauses. `cap` is the longest target
    /// interval × 4 (at least [`FIRST_PAUSE`]).
    pub(crate) fn throttled(
        &mut self,
        now: Instant,
        retry_after: Option<Duration>,
        cap: Duration,
    ) -> Duration {
        let cap = cap.max(FIRST_PAUSE);
        let exponential = FIRST_PAUSE
            .checked_mul(1u32 << self.strikes.min(20))
            .unwrap_or(cap);
        let pause = retry_after.unwrap_or(exponential).min(cap);
        self.strikes = self.strikes.saturating_add(1);
        let until = now + pause;
        // 429s from scrapes already in flight must not shorten a longer pause.
        self.until = Some(self.until.map_or(until, |u| u.max(until)));
        pause
    }

    /// A scrape got through: one step back towards full concurrency.
    pub(crate) fn succeeded(&mut self) {
        self.strikes = self.strikes.saturating_sub(1);
    }

    /// When scrapes may start again, if paused at `now`.
    pub(crate) fn paused_until(&self, now: Instant) -> Option<Instant> {
        self.until.filter(|u| *u > now)
    }

    /// How many scrapes may be in flight now, of `concurrency`.
    pub(crate) fn limit(&self, concurrency: usize) -> usize {
        let shift = self.strikes.min(usize::BITS - 1);
        (concurrency >> shift).max(1)
    }

    #[cfg(test)]
    pub(crate) fn strikes(&self) -> u32 {
        self.strikes
    }
}
