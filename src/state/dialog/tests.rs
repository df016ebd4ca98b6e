//! The mutating actions' dialogs: what they offer, what they refuse, and the one way out that
//! changes anything (a confirmation, with the typed name in a protected environment).

use super::{ConfirmDialog, Dialog, HistoryLoad, Level, Mutation, ScaleDialog, State, hpa_warning};
use crate::action::Action;
use crate::kube::KubeMsg;
use crate::kube::ops::{Change, DiffLine, Revision};
use crate::kube::ops::{History, Op};
use crate::kube::rows::Row;
use crate::kube::{ActionResult, ObjKey, Outcome};
use crate::state::Effect;
use crate::state::testing::*;
use crate::state::{Msg, ViewKind, update};

/// The fleet with the selection on arq/arq-backend in cluster `column` (dev, staging,
/// prod-eastus, prod-westus).
fn on_cell(column: usize) -> State {
    let mut s = fleet_state();
    for _ in 0..column {
        key(&mut s, "right");
    }
    assert_eq!(s.screen().column, column);
    s
}

fn scale_dialog(s: &State) -> &ScaleDialog {
    match &s.dialog {
        Some(Dialog::Scale(d)) => d,
        other => panic!("expected the scale dialog, got {other:?}"),
    }
}

fn confirm_dialog(s: &State) -> &ConfirmDialog {
    match &s.dialog {
        Some(Dialog::Confirm(d)) => d,
        other => panic!("expected the confirmation, got {other:?}"),
    }
}

fn mutations(effects: Vec<Effect>) -> Vec<Mutation> {
    match effects.as_slice() {
        [Effect::Mutate(m)] => m.clone(),
        other => panic!("expected one Mutate effect, got {other:?}"),
    }
}

fn arq() -> ObjKey {
    ObjKey::new("arq", "arq-backend")
}

#[test]
fn scale_in_prod_shows_the_hpa_offers_the_other_clusters_and_wants_the_name_typed() {
    let mut s = on_cell(2);
    assert!(key(&mut s, "s").is_empty());
    let d = scale_dialog(&s);
    assert_eq!(d.key, arq());
    let clusters: Vec<usize> = d.targets.iter().map(|t| t.cluster).collect();
    assert_eq!(
        clusters,
        [2, 0, 1, 3],
        "the chosen cluster first, then the others"
    );
    assert_eq!(d.targets[0].current, 2);
    assert_eq!(
        d.targets[0].hpa.as_ref().map(|h| (h.min, h.max)),
        Some((2, 10))
    );
    assert!(d.targets[0].chosen && d.targets[1..].iter().all(|t| !t.chosen));

    // Typed digits replace the count, then extend it; +/- step.
    typed(&mut s, "12");
    assert_eq!(scale_dialog(&s).replicas, 12);
    key(&mut s, "-");
    assert_eq!(scale_dialog(&s).replicas, 11);
    typed(&mut s, "+");
    assert_eq!(scale_dialog(&s).replicas, 12);
    let hpa = scale_dialog(&s).targets[0].hpa.clone().unwrap();
    assert_eq!(
        hpa_warning(&arq(), &hpa, 12).as_deref(),
        Some(
            "HPA arq-backend keeps arq/arq-backend between 2 and 10 replicas: it will set 12 back to 10"
        )
    );
    assert_eq!(hpa_warning(&arq(), &hpa, 5), None);

    // Also prod-westus: down to its line, space.
    key(&mut s, "down");
    key(&mut s, "down");
    key(&mut s, "down");
    typed(&mut s, " ");
    assert!(scale_dialog(&s).targets[3].chosen);

    assert!(key(&mut s, "enter").is_empty());
    let c = confirm_dialog(&s);
    assert_eq!(
        c.lines,
        [
            "PROD eastus: arq/arq-backend replicas 2 → 12",
            "PROD westus: arq/arq-backend replicas 2 → 12"
        ]
    );
    assert_eq!(
        c.warnings,
        [
            "PROD eastus: HPA arq-backend keeps arq/arq-backend between 2 and 10 replicas: it will set 12 back to 10"
        ]
    );
    assert_eq!(c.protected_name.as_deref(), Some("arq-backend"));

    // Enter without the name does nothing but say what is missing; y is just a letter here.
    assert!(key(&mut s, "enter").is_empty());
    assert_eq!(
        confirm_dialog(&s).refusal.as_deref(),
        Some("type arq-backend exactly to confirm, or Esc to cancel")
    );
    typed(&mut s, "arq-backendx");
    assert!(
        key(&mut s, "enter").is_empty(),
        "a wrong name does not confirm"
    );
    key(&mut s, "backspace");
    let sent = mutations(key(&mut s, "enter"));
    assert_eq!(sent.len(), 2);
    for (m, cluster) in sent.iter().zip([2, 3]) {
        assert_eq!(m.cluster, cluster);
        assert_eq!(m.key, arq());
        assert_eq!(m.op, Op::Scale { replicas: 12 });
        assert_eq!(m.typed_name(), Some("arq-backend"));
    }
    assert!(s.dialog.is_none());
    assert_eq!(s.pending.as_ref().map(|p| p.waiting.len()), Some(2));
}

#[test]
fn the_results_of_a_bulk_change_make_one_notice_once_every_cluster_answered() {
    let mut s = on_cell(2);
    key(&mut s, "s");
    typed(&mut s, "3");
    key(&mut s, "down");
    key(&mut s, "down");
    key(&mut s, "down");
    typed(&mut s, " ");
    key(&mut s, "enter");
    typed(&mut s, "arq-backend");
    key(&mut s, "enter");
    let answer = |cluster, outcome| {
        Msg::Kube(KubeMsg::Action(ActionResult {
            cluster,
            key: arq(),
            op: Op::Scale { replicas: 3 },
            outcome,
        }))
    };
    update(
        &mut s,
        answer(
            2,
            Outcome::Done("scaled arq/arq-backend to 3 (was 2)".into()),
        ),
        t0(),
    );
    let notice = s.notice.clone().unwrap();
    assert_eq!(
        notice.text,
        "Scale arq/arq-backend: 1 of 2 clusters answered…"
    );
    update(
        &mut s,
        answer(
            3,
            Outcome::Refused("not allowed: you may not patch deployments/scale".into()),
        ),
        t0(),
    );
    let notice = s.notice.clone().unwrap();
    assert_eq!(
        notice.text,
        "PROD eastus: scaled arq/arq-backend to 3 (was 2); PROD westus: not allowed: you may not patch deployments/scale"
    );
    assert_eq!(notice.level, Level::Error, "a refusal is not a success");
    assert!(s.pending.is_none());
}

#[test]
fn restart_outside_prod_confirms_with_y_and_says_what_happens() {
    let mut s = on_cell(0);
    key(&mut s, "r");
    let c = confirm_dialog(&s);
    assert_eq!(c.title, "Restart arq/arq-backend");
    assert_eq!(
        c.lines,
        [
            "dev: restart arq/arq-backend: every pod is replaced, as its RollingUpdate 25%/25% strategy allows"
        ]
    );
    assert_eq!(c.protected_name, None);
    let sent = mutations(key(&mut s, "y"));
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].cluster, &sent[0].op), (0, &Op::Restart));
    assert_eq!(sent[0].typed_name(), None);
}

#[test]
fn esc_or_n_cancels_at_every_step_and_sends_nothing() {
    for (keys, last) in [
        (vec!["s"], "esc"),
        (vec!["s", "5", "enter"], "esc"),
        (vec!["r"], "n"),
        (vec!["r"], "esc"),
        (vec!["u"], "esc"),
    ] {
        let mut s = on_cell(0);
        for k in keys.iter() {
            for e in key(&mut s, k) {
                assert!(!matches!(e, Effect::Mutate(_)), "{keys:?} sent a change");
            }
        }
        assert!(s.dialog.is_some(), "{keys:?} opened a dialog");
        assert!(key(&mut s, last).is_empty());
        assert!(s.dialog.is_none());
        assert_eq!(s.notice.unwrap().text, "cancelled: nothing was changed");
    }
}

#[test]
fn read_only_blocks_every_mutating_action_before_a_dialog_opens() {
    let mutating: Vec<Action> = Action::ALL
        .iter()
        .copied()
        .filter(|a| a.is_mutating())
        .collect();
    assert_eq!(mutating.len(), 3, "scale, restart, rollback");
    for readonly_env in [false, true] {
        for &action in &mutating {
            let mut s = on_cell(0);
            if readonly_env {
                s.envs[0].readonly = true;
            } else {
                s.readonly = true;
            }
            let chord = s.keymap.keys(action)[0].to_string();
            let effects = key(&mut s, &chord);
            assert!(effects.is_empty(), "{action:?} asked for {effects:?}");
            assert!(s.dialog.is_none(), "{action:?} opened a dialog");
            let notice = s.notice.clone().unwrap();
            assert!(notice.text.starts_with("read-only: "), "{}", notice.text);
            assert_eq!(notice.level, Level::Warning);
        }
    }
    // A readonly environment is not offered for a bulk scale either.
    let mut s = on_cell(2);
    s.envs[1].readonly = true;
    key(&mut s, "s");
    let clusters: Vec<usize> = scale_dialog(&s).targets.iter().map(|t| t.cluster).collect();
    assert_eq!(clusters, [2, 0, 3]);
}

fn revision(n: u64, image: &str, current: bool) -> Revision {
    Revision {
        revision: n,
        created: Some(t0()),
        images: vec![image.into()],
        change_cause: None,
        ready: if current { 1 } else { 0 },
        desired: if current { 2 } else { 0 },
        current,
        diff: if current {
            Vec::new()
        } else {
            vec![
                DiffLine {
                    change: Change::Removed,
                    text: "image app: arq/backend:2.5.0".into(),
                },
                DiffLine {
                    change: Change::Added,
                    text: format!("image app: {image}"),
                },
            ]
        },
    }
}

fn history(paused: bool) -> History {
    History {
        paused,
        current: Some(3),
        revisions: vec![
            revision(3, "arq/backend:2.5.0", true),
            revision(2, "arq/backend:2.4.1", false),
            revision(1, "arq/backend:2.4.0", false),
        ],
    }
}

fn loaded(s: &mut State, cluster: usize, key: ObjKey, h: History) {
    update(
        s,
        Msg::Kube(KubeMsg::History {
            cluster,
            key,
            result: Ok(h),
        }),
        t0(),
    );
}

#[test]
fn rollback_lists_revisions_starts_on_the_previous_and_confirms_with_the_diff() {
    let mut s = on_cell(2);
    assert_eq!(
        key(&mut s, "u"),
        [Effect::FetchHistory {
            cluster: 2,
            key: arq()
        }]
    );
    // An answer about another workload is not this dialog's.
    loaded(
        &mut s,
        2,
        ObjKey::new("arxos", "export-service"),
        history(false),
    );
    let Some(Dialog::Rollback(d)) = &s.dialog else {
        panic!("rollback dialog")
    };
    assert_eq!(d.history, HistoryLoad::Loading);

    loaded(&mut s, 2, arq(), history(false));
    let Some(Dialog::Rollback(d)) = &s.dialog else {
        panic!("rollback dialog")
    };
    assert_eq!(
        d.selected, 1,
        "kubectl rollout undo's pick: the newest that is not current"
    );
    key(&mut s, "enter");
    let c = confirm_dialog(&s);
    assert_eq!(
        c.lines,
        [
            "PROD eastus: roll arq/arq-backend back from revision 3 (arq/backend:2.5.0) to revision 2 (arq/backend:2.4.1)"
        ]
    );
    assert_eq!(
        c.details,
        [
            "- image app: arq/backend:2.5.0",
            "+ image app: arq/backend:2.4.1"
        ]
    );
    typed(&mut s, "arq-backend");
    let sent = mutations(key(&mut s, "enter"));
    assert_eq!(
        sent[0].op,
        Op::Rollback {
            to_revision: Some(2)
        }
    );
}

#[test]
fn rollback_refuses_the_current_revision_and_a_paused_workload_in_the_dialog() {
    let mut s = on_cell(0);
    key(&mut s, "u");
    loaded(&mut s, 0, arq(), history(false));
    key(&mut s, "up");
    key(&mut s, "enter");
    assert!(
        matches!(s.dialog, Some(Dialog::Rollback(_))),
        "still choosing"
    );
    assert_eq!(
        s.notice.clone().unwrap().text,
        "revision 3 is what arq/arq-backend runs now: pick an older one"
    );

    let mut s = on_cell(0);
    key(&mut s, "u");
    loaded(&mut s, 0, arq(), history(true));
    key(&mut s, "enter");
    assert!(matches!(s.dialog, Some(Dialog::Rollback(_))));
    assert!(
        s.notice
            .clone()
            .unwrap()
            .text
            .ends_with("you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again")
    );
}

#[test]
fn a_pod_or_a_pods_detail_acts_on_its_workload() {
    let mut s = fleet_state();
    key(&mut s, "3");
    assert_eq!(s.screen().kind, ViewKind::Pods);
    key(&mut s, "r");
    let c = confirm_dialog(&s);
    let (cluster, workload, _) = &c.ops()[0];
    let first_pod = s.screen().selected_item().cloned();
    let Some(crate::state::Item::Obj(pod_cluster, pod)) = first_pod else {
        panic!("a pod is selected")
    };
    assert_eq!(*cluster, pod_cluster);
    let owner = s.clusters[pod_cluster].pods[&pod].workload.clone().unwrap();
    assert_eq!(workload.name, owner);

    // Nothing in focus: a notice, no dialog.
    let mut s = fleet_state();
    key(&mut s, "4");
    sync(&mut s, 0, Vec::<Row>::new());
    key(&mut s, "s");
    assert!(s.dialog.is_none());
    assert!(s.notice.unwrap().text.starts_with("nothing to scale here"));
}

#[test]
fn scaling_to_zero_warns_and_the_same_count_is_not_a_change() {
    let mut s = on_cell(0);
    key(&mut s, "s");
    key(&mut s, "enter");
    assert!(matches!(s.dialog, Some(Dialog::Scale(_))));
    assert_eq!(
        s.notice.clone().unwrap().text,
        "arq/arq-backend already wants 2 replicas there"
    );
    typed(&mut s, "0");
    key(&mut s, "enter");
    assert_eq!(
        confirm_dialog(&s).warnings,
        ["dev: 0 replicas: arq/arq-backend stops serving there"]
    );
    // Beyond the cap, typing stops and says so.
    let mut s = on_cell(0);
    key(&mut s, "s");
    typed(&mut s, "10000");
    assert_eq!(scale_dialog(&s).replicas, 1000);
}

#[test]
fn a_late_answer_from_an_earlier_change_is_told_on_its_own() {
    let mut s = on_cell(0);
    key(&mut s, "r");
    mutations(key(&mut s, "y"));
    // Before dev answers, a scale is sent there too.
    key(&mut s, "s");
    typed(&mut s, "4");
    key(&mut s, "enter");
    mutations(key(&mut s, "y"));
    let answer = |op, text: &str| {
        Msg::Kube(KubeMsg::Action(ActionResult {
            cluster: 0,
            key: arq(),
            op,
            outcome: Outcome::Done(text.into()),
        }))
    };
    update(
        &mut s,
        answer(Op::Restart, "restarted arq/arq-backend"),
        t0(),
    );
    assert_eq!(
        s.notice.clone().unwrap().text,
        "dev: restarted arq/arq-backend"
    );
    assert_eq!(
        s.pending.as_ref().map(|p| p.waiting.len()),
        Some(1),
        "the scale is still awaited"
    );
    update(
        &mut s,
        answer(
            Op::Scale { replicas: 4 },
            "scaled arq/arq-backend to 4 (was 2)",
        ),
        t0(),
    );
    assert_eq!(
        s.notice.clone().unwrap().text,
        "dev: scaled arq/arq-backend to 4 (was 2)"
    );
    assert!(s.pending.is_none());
}
