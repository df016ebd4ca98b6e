//! The connection state a cluster shows as its watchers and poller report.

use jiff::{SignedDuration, Timestamp};

use super::*;

fn t(secs: i64) -> Timestamp {
    Timestamp::UNIX_EPOCH + SignedDuration::from_secs(1_700_000_000 + secs)
}

fn synced(watchers: usize) -> ConnTracker {
    let mut c = ConnTracker::new(watchers);
    for src in 0..watchers {
        c.relisting(src);
        c.listed(src);
    }
    assert_eq!(c.update(), Some(ConnState::Synced));
    c
}

#[test]
fn connecting_until_every_watcher_has_listed() {
    let mut c = ConnTracker::new(3);
    assert_eq!(c.shown(), &ConnState::Connecting);
    assert_eq!(c.update(), None, "Connecting was already shown");
    for src in 0..3 {
        c.relisting(src);
    }
    c.listed(0);
    c.listed(2);
    assert_eq!(c.update(), None);
    // The poller has nothing to list; its success does not sync the watchers.
    c.alive(c.poller());
    assert_eq!(c.update(), None);
    c.listed(1);
    assert_eq!(c.update(), Some(ConnState::Synced));
    assert_eq!(c.update(), None);
}

#[test]
fn a_relist_without_failure_changes_nothing() {
    let mut c = synced(2);
    c.relisting(1); // a 410 Gone: the watcher lists afresh
    assert_eq!(c.update(), None);
    c.listed(1);
    assert_eq!(c.update(), None, "still Synced");
}

#[test]
fn unreachable_since_the_first_failure_then_synced_after_the_relist() {
    let mut c = synced(2);
    c.failed(0, Failure::transport("connection refused"), t(1), t(0));
    assert_eq!(
        c.update(),
        Some(ConnState::Unreachable {
            since: t(0),
            error: "connection refused".into(),
            retry_at: t(1)
        })
    );
    // Another watcher and the poller fail later: same outage, newest retry time.
    c.failed(1, Failure::transport("connection refused"), t(5), t(3));
    c.failed(
        c.poller(),
        Failure::transport("no answer within 10s"),
        t(9),
        t(4),
    );
    assert_eq!(
        c.update(),
        Some(ConnState::Unreachable {
            since: t(0),
            error: "no answer within 10s".into(),
            retry_at: t(9)
        })
    );
    // Watcher 0 is rebuilt and relists; the others still fail.
    c.relisting(0);
    c.listed(0);
    assert!(matches!(
        c.update(),
        None | Some(ConnState::Unreachable { .. })
    ));
    c.alive(c.poller());
    c.relisting(1);
    // Hearing from the server clears the failure, but the data is not whole until listed.
    c.alive(1);
    assert_eq!(
        c.update(),
        None,
        "keep showing Unreachable until the relist completes"
    );
    assert!(matches!(c.shown(), ConnState::Unreachable { .. }));
    c.listed(1);
    assert_eq!(c.update(), Some(ConnState::Synced));

    // A new outage starts its own clock.
    c.failed(1, Failure::transport("connection reset"), t(70), t(60));
    assert!(matches!(c.update(), Some(ConnState::Unreachable { since, .. }) if since == t(60)));
}

#[test]
fn api_errors_degrade_and_name_each_kind_once() {
    let mut c = synced(3);
    c.failed(0, Failure::api("events: forbidden: no"), t(2), t(1));
    assert_eq!(
        c.update(),
        Some(ConnState::Degraded {
            error: "events: forbidden: no".into(),
            retry_at: t(2)
        })
    );
    c.failed(1, Failure::api("pods: internal error: etcd"), t(4), t(3));
    c.failed(2, Failure::api("pods: internal error: etcd"), t(5), t(3));
    assert_eq!(
        c.update(),
        Some(ConnState::Degraded {
            error: "events: forbidden: no; pods: internal error: etcd".into(),
            retry_at: t(5)
        })
    );
    // A network failure outranks API errors.
    c.failed(c.poller(), Failure::transport("timed out"), t(9), t(6));
    assert!(matches!(c.update(), Some(ConnState::Unreachable { since, .. }) if since == t(6)));
    c.alive(c.poller());
    assert!(matches!(c.update(), Some(ConnState::Degraded { .. })));
    for src in 0..3 {
        c.relisting(src);
        c.listed(src);
    }
    assert_eq!(c.update(), Some(ConnState::Synced));
}

#[test]
fn a_dead_cluster_at_start_is_unreachable_not_connecting() {
    let mut c = ConnTracker::new(5);
    c.failed(2, Failure::transport("connection refused"), t(1), t(0));
    assert!(matches!(c.update(), Some(ConnState::Unreachable { .. })));
}

#[test]
fn reports_from_unknown_sources_are_ignored() {
    let mut c = ConnTracker::new(1);
    c.relisting(7);
    c.listed(7);
    c.alive(7);
    c.failed(7, Failure::api("x"), t(1), t(0));
    assert_eq!(c.update(), None);
}
