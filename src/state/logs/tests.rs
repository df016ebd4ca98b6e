//! The log view's state: opening it from each view, its keys, and the reports folded in.

use std::time::Duration;

use super::*;
use crate::kube::KubeMsg;
use crate::kube::logs::{LogEvent, LogEventKind, SourceKey};
use crate::logs::Entry;
use crate::state::testing::*;
use crate::state::{Effect, Msg, update};

fn src(pod: &str) -> SourceKey {
    SourceKey {
        cluster: 2,
        namespace: "arq".into(),
        pod: pod.into(),
        container: "app".into(),
    }
}

fn report(state: &mut State, kind: LogEventKind) {
    let session = state.logs.as_ref().map_or(0, |v| v.session);
    update(
        state,
        Msg::Kube(KubeMsg::Logs(LogEvent { session, kind })),
        at(1),
    );
}

fn lines(state: &mut State, pod: &str, texts: &[&str]) {
    report(
        state,
        LogEventKind::Lines {
            source: src(pod),
            lines: texts.iter().map(|t| (Some(at(1)), t.to_string())).collect(),
            dropped: 0,
        },
    );
}

/// The state on the workloads view of prod-eastus with arq-backend selected.
fn on_workloads() -> State {
    let mut s = fleet_state();
    key(&mut s, "right");
    key(&mut s, "right");
    key(&mut s, "enter");
    assert_eq!(s.screen().kind, ViewKind::Workloads);
    s
}

#[test]
fn l_on_a_workload_tails_its_pods_by_selector_in_that_cluster() {
    let mut s = on_workloads();
    let effects = key(&mut s, "l");
    assert_eq!(s.screen().kind, ViewKind::Logs);
    let [Effect::StartLogs { targets, opts, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].cluster, 2);
    assert_eq!(targets[0].namespace, "arq");
    assert!(
        matches!(&targets[0].pods, PodSelect::Labels(l) if l.get("app").map(String::as_str) == Some("arq-backend"))
    );
    assert_eq!(opts.tail, Some(500));
    assert!(!opts.previous);
}

#[test]
fn l_on_a_pod_tails_that_pod_and_on_the_fleet_the_selected_cell() {
    let mut s = on_workloads();
    key(&mut s, "enter");
    assert_eq!(s.screen().kind, ViewKind::Pods);
    let effects = key(&mut s, "l");
    let [Effect::StartLogs { targets, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert!(matches!(&targets[0].pods, PodSelect::Name(n) if n.starts_with("arq-backend-")));

    let mut s = fleet_state();
    assert_eq!(s.screen().kind, ViewKind::Fleet);
    let effects = key(&mut s, "l");
    let [Effect::StartLogs { targets, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(targets[0].cluster, s.columns()[0]);
}

#[test]
fn esc_closes_the_view_and_stops_its_streams() {
    let mut s = on_workloads();
    key(&mut s, "l");
    let session = s.logs.as_ref().unwrap().session;
    let effects = key(&mut s, "esc");
    assert_eq!(effects, vec![Effect::StopLogs { session }]);
    assert_eq!(s.screen().kind, ViewKind::Workloads);
    assert!(s.logs.is_none());
    // Going elsewhere by a view key stops them too, and Esc then skips the dead tail.
    key(&mut s, "l");
    let session = s.logs.as_ref().unwrap().session;
    let effects = key(&mut s, "3");
    assert_eq!(effects, vec![Effect::StopLogs { session }]);
    key(&mut s, "esc");
    assert_eq!(s.screen().kind, ViewKind::Workloads);
}

#[test]
fn toggles_change_the_drawing_and_server_options_restart_the_tail() {
    let mut s = on_workloads();
    key(&mut s, "l");
    lines(&mut s, "arq-backend-1", &["one"]);
    assert!(key(&mut s, "t").is_empty());
    assert!(key(&mut s, "w").is_empty());
    assert!(key(&mut s, "J").is_empty());
    let v = s.logs.as_ref().unwrap();
    assert!(v.timestamps && v.wrap && v.raw);
    let old = v.session;
    let effects = key(&mut s, "m");
    assert_eq!(effects[0], Effect::StopLogs { session: old });
    let Effect::StartLogs { session, opts, .. } = &effects[1] else {
        panic!("{effects:?}");
    };
    assert_ne!(*session, old);
    assert_eq!((opts.since_seconds, opts.tail), (Some(60), None));
    assert!(
        s.logs.as_ref().unwrap().buffer.is_empty(),
        "a new tail starts clean"
    );
    let effects = key(&mut s, "p");
    assert!(matches!(&effects[1], Effect::StartLogs { opts, .. } if opts.previous));
    let effects = key(&mut s, "n");
    assert!(
        matches!(&effects[1], Effect::StartLogs { opts, .. } if opts.tail == Some(500) && opts.since_seconds.is_none())
    );
    // Reports of the replaced tail are ignored.
    update(
        &mut s,
        Msg::Kube(KubeMsg::Logs(LogEvent {
            session: old,
            kind: LogEventKind::Note {
                source: None,
                text: "late".into(),
            },
        })),
        at(2),
    );
    assert!(s.logs.as_ref().unwrap().buffer.is_empty());
}

#[test]
fn space_pauses_and_new_lines_are_counted_until_following_again() {
    let mut s = on_workloads();
    key(&mut s, "l");
    lines(&mut s, "arq-backend-1", &["a", "b"]);
    key(&mut s, " ");
    lines(&mut s, "arq-backend-1", &["c", "d", "e"]);
    let v = s.logs.as_ref().unwrap();
    assert!(v.buffer.paused());
    assert_eq!(v.buffer.new_lines, 3);
    assert_eq!(v.buffer.bottom(), Some(1));
    key(&mut s, " ");
    assert_eq!(s.logs.as_ref().unwrap().buffer.bottom(), Some(4));
}

#[test]
fn the_filter_applies_to_the_lines_and_esc_clears_it_first() {
    let mut s = on_workloads();
    key(&mut s, "l");
    lines(
        &mut s,
        "arq-backend-1",
        &["GET /health 200", "ERROR pool", "GET /x 500"],
    );
    for k in ["/", "!", "h", "e", "a", "l", "t", "h", "enter"] {
        key(&mut s, k);
    }
    assert_eq!(s.screen().filter_text, "!health");
    assert_eq!(s.logs.as_ref().unwrap().buffer.rows(), 2);
    assert!(
        key(&mut s, "esc").is_empty(),
        "the first Esc clears the filter"
    );
    assert_eq!(s.logs.as_ref().unwrap().buffer.rows(), 3);
    assert_eq!(s.screen().kind, ViewKind::Logs);
}

#[test]
fn markers_for_new_and_gone_pods_gaps_and_drops() {
    let mut s = on_workloads();
    key(&mut s, "l");
    report(
        &mut s,
        LogEventKind::Added {
            source: src("arq-backend-7f9c4-x2kqd"),
            containers: 1,
            initial: true,
        },
    );
    report(
        &mut s,
        LogEventKind::Added {
            source: src("arq-backend-8d2f1-pq4zz"),
            containers: 1,
            initial: false,
        },
    );
    report(
        &mut s,
        LogEventKind::Gone {
            source: src("arq-backend-7f9c4-x2kqd"),
        },
    );
    report(
        &mut s,
        LogEventKind::Gap {
            source: src("arq-backend-8d2f1-pq4zz"),
            after: Duration::from_secs(4),
        },
    );
    report(
        &mut s,
        LogEventKind::Lines {
            source: src("arq-backend-8d2f1-pq4zz"),
            lines: vec![(None, "after".into())],
            dropped: 12,
        },
    );
    let v = s.logs.as_ref().unwrap();
    let rows: Vec<String> = v
        .buffer
        .entries()
        .map(|e| match e {
            Entry::Marker(m) => v.marker_text(m),
            Entry::Line(l) => l.text.clone(),
        })
        .collect();
    assert_eq!(
        rows,
        [
            "── + pq4zz started ──",
            "── ✗ x2kqd gone ──",
            "── gap: pq4zz stream reconnected after 4s ──",
            "── pq4zz: 12 lines dropped (the console fell behind) ──",
            "after",
        ]
    );
    assert_eq!(v.buffer.dropped(), 12);
    assert_eq!(v.sources.live_pods(), 1);
}

#[test]
fn save_writes_the_buffer_with_its_markers() {
    let mut s = on_workloads();
    s.log_lines = 3;
    key(&mut s, "esc");
    key(&mut s, "l");
    lines(&mut s, "arq-backend-1", &["a", "b", "c", "d"]);
    let effects = key(&mut s, "W");
    let [Effect::SaveLogs { file, text, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert!(
        file.starts_with("arq_arq-backend_") && file.ends_with(".log"),
        "{file}"
    );
    assert_eq!(
        text,
        "── 2 lines dropped (the buffer is full; the oldest went) ──\n\
         2026-11-22T14:00:01Z 1 | c\n\
         2026-11-22T14:00:01Z 1 | d\n"
    );
}

#[test]
fn widening_tails_the_workload_in_every_cluster_running_it() {
    let mut s = on_workloads();
    key(&mut s, "l");
    let effects = key(&mut s, "a");
    let Effect::StartLogs { targets, .. } = &effects[1] else {
        panic!("{effects:?}");
    };
    let clusters: Vec<_> = targets.iter().map(|t| t.cluster).collect();
    assert!(clusters.len() > 1, "{clusters:?}");
    assert!(clusters.contains(&2));
    // Lines are then labelled by cluster.
    lines(&mut s, "arq-backend-7f9c4-x2kqd", &["x"]);
    let v = s.logs.as_ref().unwrap();
    assert_eq!(v.sources.get(0).unwrap().label, "eastus x2kqd");
}

#[test]
fn l_in_a_detail_tails_its_object_and_esc_returns_to_the_detail() {
    let mut s = on_workloads();
    key(&mut s, "d");
    assert_eq!(s.screen().kind, ViewKind::Detail);
    let effects = key(&mut s, "l");
    let [Effect::StartLogs { targets, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert!(matches!(&targets[0].pods, PodSelect::Labels(_)));
    let loading = s.detail.clone();
    assert!(loading.is_some());
    key(&mut s, "esc");
    assert_eq!(s.screen().kind, ViewKind::Detail);
    assert_eq!(s.detail, loading, "the detail is still there to read");
}

#[test]
fn a_save_is_reported_even_after_the_view_closed() {
    let mut s = on_workloads();
    key(&mut s, "l");
    key(&mut s, "esc");
    update(
        &mut s,
        Msg::Kube(KubeMsg::Logs(LogEvent {
            session: 1,
            kind: LogEventKind::Saved(Ok("/data/logs/x.log".into())),
        })),
        at(1),
    );
    assert_eq!(
        s.notice.as_ref().map(|n| n.text.as_str()),
        Some("logs saved to /data/logs/x.log")
    );
}
