//! The supervisor of one cluster's tasks: it batches the watchers' changes for the UI and folds
//! their failures and the `/version` poller's into the cluster's connection state.

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;

use super::batch::Batcher;
use super::conn::ConnTracker;
use super::error::Failure;
use super::rows::{Change, Kind};
use super::watch::Clock;
use super::{ClusterId, KubeMsg, ServerInfo};

/// What the cluster's tasks tell its supervisor.
pub(super) enum Report {
    /// A watcher began a (re)list.
    Relisting(usize),
    /// A watcher saw a change; it is talking to the server.
    Change(usize, Change),
    /// A watcher's list completed.
    Listed(usize),
    /// A watcher failed; it retries after the delay, with a fresh list.
    Failed(usize, Failure, Duration),
    /// The poller asked `/version`.
    Version(Result<ServerInfo, (Failure, Duration)>),
}

fn after(now: Timestamp, delay: Duration) -> Timestamp {
    now.checked_add(delay).unwrap_or(Timestamp::MAX)
}

/// Batches the watchers' changes and reports connection changes, in order: the batch holding
/// the last `Listed` goes out before the `Synced` it led to.
pub(super) async fn supervise(
    id: ClusterId,
    mut reports: mpsc::Receiver<Report>,
    tx: mpsc::Sender<KubeMsg>,
    clock: Clock,
    markers: Vec<Option<Kind>>,
) {
    let mut conn = ConnTracker::new(markers.len());
    let poller = conn.poller();
    let mut batch = Batcher::default();
    let changes = |changes| KubeMsg::Changes {
        cluster: id,
        changes,
    };
    let first = KubeMsg::Conn {
        cluster: id,
        state: conn.shown().clone(),
        at: clock(),
    };
    if tx.send(first).await.is_err() {
        return;
    }
    loop {
        // A disabled select! branch still builds its future, so it needs some instant.
        let wake = batch
            .deadline()
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        let report = tokio::select! {
            r = reports.recv() => match r {
                Some(r) => r,
                None => return,
            },
            () = tokio::time::sleep_until(wake), if batch.deadline().is_some() => {
                if tx.send(changes(batch.take())).await.is_err() {
                    return;
                }
                continue;
            }
        };
        let now = tokio::time::Instant::now();
        let mut out = Vec::new();
        let full = match report {
            Report::Relisting(src) => {
                conn.relisting(src);
                marker(&markers, src).and_then(|k| batch.push(Change::Relisting(k), now))
            }
            Report::Change(src, change) => {
                conn.alive(src);
                batch.push(change, now)
            }
            Report::Listed(src) => {
                conn.listed(src);
                marker(&markers, src).and_then(|k| batch.push(Change::Listed(k), now))
            }
            Report::Failed(src, failure, delay) => {
                let at = clock();
                conn.failed(src, failure, after(at, delay), at);
                None
            }
            Report::Version(Ok(info)) => {
                conn.alive(poller);
                out.push(KubeMsg::Server { cluster: id, info });
                None
            }
            Report::Version(Err((failure, delay))) => {
                let at = clock();
                conn.failed(poller, failure, after(at, delay), at);
                None
            }
        };
        if let Some(full) = full {
            out.insert(0, changes(full));
        }
        if let Some(state) = conn.update() {
            if !batch.is_empty() {
                out.push(changes(batch.take()));
            }
            out.push(KubeMsg::Conn {
                cluster: id,
                state,
                at: clock(),
            });
        }
        for msg in out {
            if tx.send(msg).await.is_err() {
                return;
            }
        }
    }
}

fn marker(markers: &[Option<Kind>], src: usize) -> Option<Kind> {
    markers.get(src).copied().flatten()
}
