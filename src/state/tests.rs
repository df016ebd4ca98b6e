use std::sync::Arc;

use proptest::prelude::*;

use super::testing::*;
use super::*;
use crate::kube::rows::{Health, ProbeState, Row};
use crate::kube::{Change, ConnState};

fn fleet_keys(s: &State) -> Vec<String> {
    s.screen()
        .items
        .iter()
        .map(|i| match i {
            Item::Workload(k) => k.to_string(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn the_fleet_folds_each_cluster_into_one_row_per_workload() {
    let s = fleet_state();
    assert_eq!(fleet_keys(&s), ["arq/arq-backend", "arxos/export-service"]);
    let export = ObjKey::new("arxos", "export-service");
    let staging = s.cell(1, &export).unwrap();
    assert_eq!((staging.ready, staging.desired), (1, 2));
    assert_eq!(staging.health, Health::Critical);
    assert_eq!(staging.word, "crashloop");
    // Seen with 4 restarts, the last 40 s ago: the older three are unknown, one is counted.
    assert_eq!(staging.restarts_1h, 1);
    let prod = s.cell(2, &ObjKey::new("arq", "arq-backend")).unwrap();
    assert_eq!(
        (prod.health, prod.word.as_str(), prod.hpa),
        (Health::Warning, "unready", Some((2, 10)))
    );
    assert_eq!(s.cell(0, &export).unwrap().health, Health::Ok);
}

#[test]
fn restarts_seen_while_watching_count_for_the_hour() {
    let mut s = fleet_state();
    let mut p = pod("arxos", "export-service", "m7n8p", "CrashLoopBackOff");
    p.restarts = 6;
    p.last_restart = Some(at(30));
    let changes = vec![Change::Apply(Row::Pod(Arc::new(p)))];
    update(
        &mut s,
        Msg::Kube(KubeMsg::Changes {
            cluster: 1,
            changes,
        }),
        at(31),
    );
    update(&mut s, Msg::Tick, at(31));
    assert_eq!(
        s.cell(1, &ObjKey::new("arxos", "export-service"))
            .unwrap()
            .restarts_1h,
        3
    );
}

#[test]
fn enter_drills_from_a_fleet_cell_to_the_workload_its_pods_and_a_pods_detail() {
    let mut s = fleet_state();
    key(&mut s, "j"); // arxos/export-service
    key(&mut s, "right"); // staging
    key(&mut s, "enter");
    assert_eq!(s.screen().kind, ViewKind::Workloads);
    assert_eq!(s.screen().scope.cluster, Some(1));
    assert_eq!(
        s.screen().selected_item(),
        Some(&Item::Obj(1, ObjKey::new("arxos", "export-service")))
    );
    key(&mut s, "enter");
    assert_eq!(s.screen().kind, ViewKind::Pods);
    assert_eq!(
        s.screen().items.len(),
        2,
        "only export-service's pods in staging"
    );
    // Sort by status: the crash-looping pod comes first (the selection stays on its pod).
    key(&mut s, "o");
    key(&mut s, "o");
    key(&mut s, "g");
    let Some(Item::Obj(1, pod)) = s.screen().selected_item().cloned() else {
        panic!("a pod should be selected")
    };
    assert_eq!(pod.name, "export-service-7f9c4-m7n8p");
    let effects = key(&mut s, "enter");
    assert_eq!(s.screen().kind, ViewKind::Detail);
    assert_eq!(
        effects,
        vec![Effect::FetchDetail {
            cluster: 1,
            kind: Kind::Pod,
            key: pod.clone()
        }]
    );
    assert_eq!(s.detail, Some(DetailLoad::Loading));
    // An answer for this screen lands; Esc goes back the way we came.
    let detail = Detail {
        cluster: 1,
        kind: Kind::Pod,
        key: pod,
        conditions: vec![],
        facts: vec![],
    };
    update(&mut s, Msg::Kube(KubeMsg::Detail(Ok(detail))), t0());
    assert!(matches!(s.detail, Some(DetailLoad::Ready(_))));
    for expected in [
        ViewKind::Pods,
        ViewKind::Workloads,
        ViewKind::Fleet,
        ViewKind::Fleet,
    ] {
        key(&mut s, "esc");
        assert_eq!(s.screen().kind, expected);
    }
}

#[test]
fn a_late_detail_answer_for_a_screen_already_left_is_dropped() {
    let mut s = fleet_state();
    key(&mut s, "3");
    let effects = key(&mut s, "d");
    let Some(Effect::FetchDetail { key: first, .. }) = effects.first().cloned() else {
        panic!("detail fetch expected")
    };
    key(&mut s, "esc");
    key(&mut s, "j");
    key(&mut s, "d");
    let late = Detail {
        cluster: 0,
        kind: Kind::Pod,
        key: first,
        conditions: vec![],
        facts: vec![],
    };
    update(&mut s, Msg::Kube(KubeMsg::Detail(Ok(late))), t0());
    assert_eq!(s.detail, Some(DetailLoad::Loading));
}

#[test]
fn the_filter_applies_as_typed_inverts_with_bang_and_esc_clears_it() {
    let mut s = fleet_state();
    key(&mut s, "3");
    let all = s.screen().items.len();
    assert_eq!(all, 16);
    key(&mut s, "/");
    typed(&mut s, "crash");
    assert_eq!(s.screen().items.len(), 1);
    key(&mut s, "enter");
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(s.screen().filter_text, "crash");
    key(&mut s, "/");
    for _ in 0..5 {
        key(&mut s, "backspace");
    }
    typed(&mut s, "!running");
    key(&mut s, "enter");
    assert_eq!(
        s.screen().items.len(),
        1,
        "only the CrashLoopBackOff pod is not Running"
    );
    key(&mut s, "esc");
    assert_eq!(s.screen().items.len(), all);
    assert_eq!(
        s.screen().kind,
        ViewKind::Pods,
        "the first Esc clears the filter only"
    );
}

#[test]
fn a_label_selector_filters_pods() {
    let mut s = fleet_state();
    key(&mut s, "3");
    key(&mut s, "/");
    typed(&mut s, "-l app=arq-backend");
    key(&mut s, "enter");
    assert_eq!(s.screen().items.len(), 8);
}

#[test]
fn a_bad_regex_keeps_the_last_good_filter_and_says_why() {
    let mut s = fleet_state();
    key(&mut s, "3");
    key(&mut s, "/");
    typed(&mut s, "arq(");
    assert_eq!(s.screen().filter_text, "arq");
    let notice = s.notice.clone().unwrap();
    assert!(
        notice.text.starts_with("not a valid regex"),
        "{}",
        notice.text
    );
}

#[test]
fn commands_scope_views_by_cluster_env_and_namespace() {
    let mut s = fleet_state();
    key(&mut s, ":");
    typed(&mut s, "pods arxos @staging");
    key(&mut s, "enter");
    assert_eq!(s.screen().kind, ViewKind::Pods);
    assert_eq!(s.screen().items.len(), 2);
    key(&mut s, ":");
    typed(&mut s, "deploy env:prod");
    key(&mut s, "enter");
    assert_eq!(s.screen().kind, ViewKind::Workloads);
    assert_eq!(s.screen().items.len(), 4);
    key(&mut s, ":");
    typed(&mut s, "pods @nowhere");
    key(&mut s, "enter");
    let notice = s.notice.clone().unwrap();
    assert_eq!(notice.level, Level::Error);
    assert_eq!(
        notice.text,
        "no cluster \"nowhere\"; clusters: dev, staging, prod-eastus, prod-westus"
    );
    assert_eq!(
        s.screen().kind,
        ViewKind::Workloads,
        "a bad command changes nothing"
    );
    key(&mut s, ":");
    typed(&mut s, "q");
    key(&mut s, "enter");
    assert!(s.quit);
}

#[test]
fn faults_only_keeps_the_rows_with_a_problem() {
    let mut s = fleet_state();
    key(&mut s, "f");
    assert_eq!(fleet_keys(&s), ["arq/arq-backend", "arxos/export-service"]);
    key(&mut s, "3");
    assert_eq!(
        s.screen().items.len(),
        2,
        "the crash-looping and the unready pod"
    );
    key(&mut s, "4");
    assert_eq!(s.screen().items.len(), 1, "the one warning event");
}

#[test]
fn a_relist_drops_rows_that_are_gone_and_the_selection_is_clamped() {
    let mut s = fleet_state();
    key(&mut s, "3");
    key(&mut s, "G");
    assert_eq!(s.screen().selected, 15);
    // prod-westus relists with no pods at all.
    let rows = vec![Row::Deployment(Arc::new(workload(
        "arq",
        "arq-backend",
        2,
        2,
    )))];
    sync(&mut s, 3, rows);
    assert_eq!(s.screen().items.len(), 12);
    assert_eq!(s.screen().selected, 11);
    assert!(s.cell(3, &ObjKey::new("arxos", "export-service")).is_none());
}

#[test]
fn an_unreachable_cluster_keeps_its_rows_marked_stale_from_when_it_went_down() {
    let mut s = fleet_state();
    let down = ConnState::Unreachable {
        since: at(10),
        error: "connection refused".into(),
        retry_at: at(20),
    };
    update(
        &mut s,
        Msg::Kube(KubeMsg::Conn {
            cluster: 3,
            state: down.clone(),
            at: at(10),
        }),
        at(10),
    );
    let again = ConnState::Unreachable {
        since: at(10),
        error: "connection refused".into(),
        retry_at: at(40),
    };
    update(
        &mut s,
        Msg::Kube(KubeMsg::Conn {
            cluster: 3,
            state: again,
            at: at(20),
        }),
        at(20),
    );
    assert_eq!(s.clusters[3].stale_since(), Some(at(10)));
    assert_eq!(s.clusters[3].pods.len(), 4, "its last data stays");
    update(
        &mut s,
        Msg::Kube(KubeMsg::Conn {
            cluster: 3,
            state: ConnState::Synced,
            at: at(50),
        }),
        at(50),
    );
    assert_eq!(s.clusters[3].stale_since(), None);
}

#[test]
fn probes_read_readiness_from_status_and_counts_from_events() {
    let s = fleet_state();
    let key = ObjKey::new("arq", "arq-backend-7f9c4-d3f4g");
    let pod = &s.clusters[2].pods[&key];
    let p = s.clusters[2].probes(pod, t0());
    assert_eq!(p.liveness, ProbeState::Passing);
    assert_eq!(p.startup, ProbeState::NotConfigured);
    let ProbeState::Failing { count, message, .. } = p.readiness else {
        panic!("readiness should be failing: {:?}", p.readiness)
    };
    assert_eq!(count, 12);
    assert_eq!(
        message,
        "Readiness probe failed: HTTP probe failed with statuscode: 503"
    );
    let crashed = &s.clusters[1].pods[&ObjKey::new("arxos", "export-service-7f9c4-m7n8p")];
    let p = s.clusters[1].probes(crashed, t0());
    assert_eq!(p.readiness, ProbeState::NotRunning);
}

#[test]
fn notices_expire_on_a_later_tick() {
    let mut s = fleet_state();
    s.readonly = true;
    key(&mut s, "s");
    update(&mut s, Msg::Tick, at(2));
    assert!(s.notice.is_some());
    update(&mut s, Msg::Tick, at(7));
    assert!(s.notice.is_none());
}

#[test]
fn help_opens_and_closes_and_q_in_help_quits() {
    let mut s = fleet_state();
    key(&mut s, "?");
    assert_eq!(s.mode, Mode::Help);
    key(&mut s, "esc");
    assert_eq!(s.mode, Mode::Normal);
    key(&mut s, "?");
    assert_eq!(key(&mut s, "q"), vec![Effect::Quit]);
}

#[test]
fn paging_keeps_the_selection_visible() {
    let mut s = fleet_state();
    update(&mut s, Msg::Resize(100, 10), t0());
    key(&mut s, "3");
    let height = s.table_height();
    assert_eq!(height, 4);
    for _ in 0..9 {
        key(&mut s, "j");
    }
    let screen = s.screen();
    assert!(screen.selected >= screen.offset && screen.selected < screen.offset + height);
}

fn any_key() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "j",
        "k",
        "g",
        "G",
        "enter",
        "esc",
        "right",
        "left",
        "/",
        ":",
        "?",
        "d",
        "f",
        "o",
        "O",
        "1",
        "2",
        "3",
        "4",
        "5",
        "x",
        "!",
        "backspace",
        "s",
        "r",
        "u",
        "y",
        "+",
        "a",
        "-",
        "(",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Whatever is pressed: no panic, and the selection always points at a row (or is 0 when
    /// there are none), with the window around it.
    #[test]
    fn random_keys_keep_the_selection_valid(keys in prop::collection::vec(any_key(), 1..60), shrink in any::<bool>()) {
        let mut s = fleet_state();
        for (i, k) in keys.iter().enumerate() {
            if s.quit {
                break;
            }
            key(&mut s, k);
            if shrink && i == keys.len() / 2 {
                sync(&mut s, 1, vec![]);
            }
            let screen = s.screen();
            prop_assert!(screen.selected < screen.items.len().max(1));
            prop_assert!(screen.offset <= screen.selected || screen.items.is_empty());
            prop_assert!(screen.column < s.columns().len().max(1));
        }
    }
}

#[test]
fn changes_are_drawn_with_the_tick_once_loaded_and_a_key_folds_first() {
    let mut s = fleet_state();
    let scaled = |ready| {
        let w = workload("arq", "arq-backend", 2, ready);
        vec![Change::Apply(Row::Deployment(Arc::new(w)))]
    };
    let change = |s: &mut State, ready, t| {
        update(
            s,
            Msg::Kube(KubeMsg::Changes {
                cluster: 0,
                changes: scaled(ready),
            }),
            t,
        )
    };
    let key_ = ObjKey::new("arq", "arq-backend");
    s.dirty = false;
    change(&mut s, 1, at(5));
    assert_eq!(s.cell(0, &key_).unwrap().ready, 2, "not folded yet");
    assert!(!s.dirty, "and nothing drawn: the tick draws it");
    change(&mut s, 0, at(5));
    assert!(!s.dirty);
    update(&mut s, Msg::Tick, at(6));
    assert_eq!(s.cell(0, &key_).unwrap().ready, 0, "the tick folds both");
    assert!(s.dirty);
    change(&mut s, 2, at(6));
    key(&mut s, "j");
    assert_eq!(s.cell(0, &key_).unwrap().ready, 2, "a key folds first");

    // While a cluster is still loading, every batch shows at once.
    let mut s = empty_state();
    s.dirty = false;
    update(
        &mut s,
        Msg::Kube(KubeMsg::Changes {
            cluster: 0,
            changes: vec![Change::Relisting(Kind::Deployment)],
        }),
        at(1),
    );
    change(&mut s, 1, at(1));
    assert_eq!(s.cell(0, &key_).map(|c| c.ready), Some(1));
    assert!(s.dirty);
}
