//! Running a set of targets on their intervals: one task per scraper with one sorted schedule
//! (a binary heap of due times), rather than a sleeping task per target, so 10,000 targets
//! cost one timer and a heap pop per scrape.
//!
//! Each target is scraped at a stable phase of its interval (an offset hashed from its key,
//! like Prometheus's), at most `concurrency` at once, each bounded by its timeout. A scrape
//! that could not start on time (all slots busy, or a 429 pause) runs as soon as it can and
//! then returns to its own phase; missed slots are not made up. A target is never scraped
//! twice at once.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::backoff::Backoff;
use super::targets::offset;
use super::{Body, ScrapeError, ScrapeEvent, ScrapeResult, Target, fetch};
use crate::kube::watch::Clock;

/// Fetches one target's body; `Timestamp` is the wall clock at the start.
pub(crate) type FetchFn = Arc<
    dyn Fn(Arc<Target>, Timestamp) -> BoxFuture<'static, Result<Body, ScrapeError>> + Send + Sync,
>;

/// Runs scrapes in the background; dropping it stops them all (in-flight ones included).
pub struct Scraper {
    targets: watch::Sender<Vec<Target>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Scraper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for Scraper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scraper")
            .field("targets", &self.targets.borrow().len())
            .finish()
    }
}

impl Scraper {
    /// A scraper for one cluster's pods, through its API server's pod proxy with `client`
    /// (see [`super::scrape_client`]). A 429 pauses all of its scrapes. Must run inside a
    /// tokio runtime.
    pub fn spawn_pods(
        client: kube::Client,
        concurrency: usize,
        tx: mpsc::Sender<ScrapeEvent>,
        clock: Clock,
    ) -> Scraper {
        let fetch: FetchFn = Arc::new(move |target, now| {
            let client = client.clone();
            Box::pin(async move { fetch::fetch_pod(&client, &target, now).await })
        });
        Self::spawn_with(fetch, true, concurrency, tx, clock)
    }

    /// A scraper for direct URL targets with `http` (see [`super::http_client`]). Each URL is
    /// its own server, so a 429 is reported but pauses nothing else.
    pub fn spawn_urls(
        http: reqwest::Client,
        concurrency: usize,
        tx: mpsc::Sender<ScrapeEvent>,
        clock: Clock,
    ) -> Scraper {
        let fetch: FetchFn = Arc::new(move |target, now| {
            let http = http.clone();
            Box::pin(async move { fetch::fetch_url(&http, &target, now).await })
        });
        Self::spawn_with(fetch, false, concurrency, tx, clock)
    }

    /// A scraper with any fetch function: the two above, and tests and measurements that
    /// need no network.
    pub(crate) fn spawn_with(
        fetch: FetchFn,
        cluster_backoff: bool,
        concurrency: usize,
        tx: mpsc::Sender<ScrapeEvent>,
        clock: Clock,
    ) -> Scraper {
        let (targets, rx) = watch::channel(Vec::new());
        let driver = Driver {
            fetch,
            cluster_backoff,
            concurrency: concurrency.max(1),
            tx,
            clock,
            epoch: Instant::now(),
            entries: HashMap::new(),
            live: HashMap::new(),
            schedule: BinaryHeap::new(),
            next_id: 0,
            in_flight: JoinSet::new(),
            tasks: HashMap::new(),
            backoff: Backoff::new(),
        };
        let task = tokio::spawn(driver.run(rx));
        Scraper { targets, task }
    }

    /// Replaces the target set. Compared by key: new targets start, removed ones stop (a
    /// [`ScrapeEvent::Gone`] is sent for each), changed ones restart with their new settings
    /// (a result of the old settings still in flight is dropped).
    pub fn set_targets(&self, targets: Vec<Target>) {
        self.targets.send_replace(targets);
    }
}

struct Entry {
    target: Arc<Target>,
    id: u64,
    offset: Duration,
    running: bool,
}

struct Driver {
    fetch: FetchFn,
    cluster_backoff: bool,
    concurrency: usize,
    tx: mpsc::Sender<ScrapeEvent>,
    clock: Clock,
    /// The phase origin of every target's schedule.
    epoch: Instant,
    entries: HashMap<String, Entry>,
    /// Schedule id → key, for the ids still live. Heap items whose id is gone (target removed
    /// or changed) are skipped when they come up, instead of being searched for and removed.
    live: HashMap<u64, String>,
    schedule: BinaryHeap<Reverse<(Instant, u64)>>,
    next_id: u64,
    in_flight: JoinSet<(u64, ScrapeResult)>,
    /// Task → schedule id, so a scrape task that died still frees its target.
    tasks: HashMap<tokio::task::Id, u64>,
    backoff: Backoff,
}

impl Driver {
    async fn run(mut self, mut targets: watch::Receiver<Vec<Target>>) {
        loop {
            let now = Instant::now();
            self.start_due(now);
            let wake = match self.backoff.paused_until(now) {
                Some(until) => Some(until),
                None if self.in_flight.len() < self.backoff.limit(self.concurrency) => {
                    self.schedule.peek().map(|Reverse((at, _))| *at)
                }
                None => None,
            };
            tokio::select! {
                changed = targets.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let set = targets.borrow_and_update().clone();
                    if !self.apply(set).await {
                        return;
                    }
                }
                Some(joined) = self.in_flight.join_next_with_id(), if !self.in_flight.is_empty() => {
                    if !self.finished(joined).await {
                        return;
                    }
                }
                () = sleep_until(wake), if wake.is_some() => {}
            }
        }
    }

    /// Starts every due scrape that the concurrency limit and back-off allow.
    fn start_due(&mut self, now: Instant) {
        if self.backoff.paused_until(now).is_some() {
            return;
        }
        let limit = self.backoff.limit(self.concurrency);
        while self.in_flight.len() < limit {
            let Some(Reverse((at, id))) = self.schedule.peek().copied() else {
                return;
            };
            if at > now {
                return;
            }
            self.schedule.pop();
            let Some(key) = self.live.get(&id) else {
                continue;
            };
            let Some(entry) = self.entries.get_mut(key) else {
                continue;
            };
            let next = next_slot(self.epoch, entry.offset, entry.target.interval, now);
            self.schedule.push(Reverse((next, id)));
            if entry.running {
                continue;
            }
            entry.running = true;
            let target = entry.target.clone();
            let fetch = self.fetch.clone();
            let clock = self.clock.clone();
            let handle = self.in_flight.spawn(async move {
                let started = clock();
                let t0 = Instant::now();
                let outcome = fetch(target.clone(), started).await;
                let result = ScrapeResult {
                    key: target.key.clone(),
                    started_ms: started.as_millisecond(),
                    duration: t0.elapsed(),
                    outcome,
                };
                (id, result)
            });
            self.tasks.insert(handle.id(), id);
        }
    }

    /// Applies a new target set; false when the receiver of events is gone.
    async fn apply(&mut self, set: Vec<Target>) -> bool {
        let now = Instant::now();
        let mut wanted: HashMap<String, Target> =
            set.into_iter().map(|t| (t.key.clone(), t)).collect();
        let gone: Vec<String> = self
            .entries
            .keys()
            .filter(|k| !wanted.contains_key(*k))
            .cloned()
            .collect();
        for key in gone {
            if let Some(entry) = self.entries.remove(&key) {
                self.live.remove(&entry.id);
            }
            let at_ms = (self.clock)().as_millisecond();
            if self
                .tx
                .send(ScrapeEvent::Gone { key, at_ms })
                .await
                .is_err()
            {
                return false;
            }
        }
        for (key, target) in wanted.drain() {
            if self.entries.get(&key).is_some_and(|e| *e.target == target) {
                continue;
            }
            if let Some(old) = self.entries.remove(&key) {
                self.live.remove(&old.id);
            }
            let id = self.next_id;
            self.next_id += 1;
            let offset = offset(&key, target.interval);
            let first = first_slot(self.epoch, offset, target.interval, now);
            self.schedule.push(Reverse((first, id)));
            self.live.insert(id, key.clone());
            self.entries.insert(
                key,
                Entry {
                    target: Arc::new(target),
                    id,
                    offset,
                    running: false,
                },
            );
        }
        // Old heap items only cost memory; rebuild when they outnumber the live ones.
        if self.schedule.len() > 2 * self.live.len() + 64 {
            let live = &self.live;
            self.schedule
                .retain(|Reverse((_, id))| live.contains_key(id));
        }
        true
    }

    /// A scrape ended: free its target, adjust the back-off, report it (unless its target was
    /// removed or changed meanwhile). False when the receiver of events is gone.
    async fn finished(
        &mut self,
        joined: Result<(tokio::task::Id, (u64, ScrapeResult)), tokio::task::JoinError>,
    ) -> bool {
        let (id, mut result) = match joined {
            Ok((task, (id, result))) => {
                self.tasks.remove(&task);
                (id, result)
            }
            Err(e) => {
                // Aborted or panicked: nothing to report, but the target must not stay busy.
                if let Some(id) = self.tasks.remove(&e.id()) {
                    self.release(id);
                }
                return true;
            }
        };
        let current = self.release(id);
        match &mut result.outcome {
            Err(ScrapeError::Throttled { retry_after, pause }) => {
                if self.cluster_backoff {
                    let cap = self.longest_interval().saturating_mul(4);
                    *pause = self.backoff.throttled(Instant::now(), *retry_after, cap);
                } else {
                    *pause = retry_after.unwrap_or_default();
                }
            }
            Ok(_) | Err(ScrapeError::Status { .. }) => self.backoff.succeeded(),
            Err(_) => {}
        }
        if !current {
            return true;
        }
        self.tx.send(ScrapeEvent::Result(result)).await.is_ok()
    }

    /// Marks the target of schedule `id` idle; whether `id` is still its current schedule.
    fn release(&mut self, id: u64) -> bool {
        let Some(key) = self.live.get(&id) else {
            return false;
        };
        match self.entries.get_mut(key) {
            Some(entry) if entry.id == id => {
                entry.running = false;
                true
            }
            _ => false,
        }
    }

    fn longest_interval(&self) -> Duration {
        self.entries
            .values()
            .map(|e| e.target.interval)
            .max()
            .unwrap_or(Duration::from_secs(15))
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The first slot of a new target: its phase in the current or next interval.
pub(crate) fn first_slot(
    epoch: Instant,
    offset: Duration,
    interval: Duration,
    now: Instant,
) -> Instant {
    let base = epoch + offset;
    if now <= base {
        return base;
    }
    let interval_ns = interval.as_nanos().max(1);
    let since = now.duration_since(base).as_nanos();
    let k = since.div_ceil(interval_ns);
    base + nanos(k * interval_ns)
}

/// The slot after `now` in a target's phase (strictly later: a scrape started at `now`).
pub(crate) fn next_slot(
    epoch: Instant,
    offset: Duration,
    interval: Duration,
    now: Instant,
) -> Instant {
    let base = epoch + offset;
    if now < base {
        return base;
    }
    let interval_ns = interval.as_nanos().max(1);
    let since = now.duration_since(base).as_nanos();
    let k = since / interval_ns + 1;
    base + nanos(k * interval_ns)
}

fn nanos(n: u128) -> Duration {
    Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
}
