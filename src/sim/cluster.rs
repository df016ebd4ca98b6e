//! One simulated cluster: its store, clock, users, kubelet, and the loop that runs its controllers.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::Notify;

use super::clock::SimClock;
use super::controllers;
use super::kubelet::Kubelet;
use super::store::Store;

/// A user of the cluster, known by its bearer token.
#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub token: String,
    /// May read everything but change nothing: SelfSubjectAccessReviews say no, writes get 403.
    pub readonly: bool,
}

/// The fixed facts about a cluster that the fleet definition supplies.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    pub name: String,
    pub seed: u64,
    pub users: Vec<User>,
}

pub struct Cluster {
    pub name: String,
    pub clock: SimClock,
    pub users: Vec<User>,
    pub kubelet: Kubelet,
    store: Mutex<Store>,
    /// Woken after every API write so controllers react at once instead of on the next tick.
    pub changed: Notify,
    /// Bumped to end every open watch stream at once (a "dropped watches" fault, or a test forcing
    /// clients to resume from their last resourceVersion).
    watch_epoch: tokio::sync::watch::Sender<u64>,
    /// A "slow API server" fault: every request waits this long (real time) until the given
    /// simulated time.
    slow: Mutex<Option<(Duration, Timestamp)>>,
}

/// How often controllers run when nothing wakes them (real time).
const TICK: Duration = Duration::from_millis(100);

impl Cluster {
    pub fn new(spec: ClusterSpec, clock: SimClock, kubelet: Kubelet) -> Arc<Self> {
        Arc::new(Self {
            name: spec.name,
            clock,
            users: spec.users,
            kubelet,
            store: Mutex::new(Store::new(spec.seed)),
            changed: Notify::new(),
            watch_epoch: tokio::sync::watch::Sender::new(0),
            slow: Mutex::new(None),
        })
    }

    /// The store, locked. Hold it briefly: every request and controller of this cluster waits on it.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves consistent tables (each write is one insert), so
        // carrying on is better than taking the whole cluster down.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Runs `f` on the locked store, then wakes the controllers.
    pub fn write<R>(&self, f: impl FnOnce(&mut Store, Timestamp) -> R) -> R {
        let now = self.now();
        let out = f(&mut self.store(), now);
        self.changed.notify_one();
        out
    }

    /// Ends every open watch stream; clients re-watch from their last resourceVersion.
    pub fn drop_watches(&self) {
        self.watch_epoch.send_modify(|e| *e += 1);
    }

    /// Changes when watches must end (see [`Cluster::drop_watches`]).
    pub fn watch_epoch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.watch_epoch.subscribe()
    }

    /// Makes every request wait `delay` (real time) before it is served, until `until`.
    pub fn slow_down(&self, delay: Duration, until: Timestamp) {
        *self.slow.lock().unwrap_or_else(|e| e.into_inner()) = Some((delay, until));
    }

    /// How long a request arriving now waits before it is served.
    pub fn api_delay(&self) -> Option<Duration> {
        let slow = *self.slow.lock().unwrap_or_else(|e| e.into_inner());
        slow.filter(|&(_, until)| self.now() < until)
            .map(|(d, _)| d)
    }

    pub fn user_by_token(&self, token: &str) -> Option<&User> {
        self.users.iter().find(|u| u.token == token)
    }

    /// One round of every controller and the kubelet, repeated while it keeps changing things so a
    /// scale-up reaches running pods in one call (bounded, so a flapping controller cannot spin).
    pub fn reconcile(&self) {
        let now = self.now();
        let mut store = self.store();
        for _ in 0..8 {
            let before = store.resource_version();
            controllers::reconcile(&mut store, now, &self.kubelet);
            self.kubelet.tick(&mut store, now);
            if store.resource_version() == before {
                break;
            }
        }
    }

    /// Runs the controllers until the task is dropped.
    pub async fn run(self: Arc<Self>) {
        loop {
            tokio::select! {
                () = self.changed.notified() => {}
                () = tokio::time::sleep(TICK) => {}
            }
            self.reconcile();
        }
    }
}
