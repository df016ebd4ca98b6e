use super::fixture::{alert, alerts_state, load, snapshot};
use super::*;
use crate::kube::ObjKey;
use crate::state::testing::{key, t0, typed};

fn names(s: &State) -> Vec<String> {
    s.screen()
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Alert(k) => s.alerts.get(k).map(|a| a.name.clone()),
            _ => None,
        })
        .collect()
}

fn open_alerts(s: &mut State) {
    key(s, "7");
    assert_eq!(s.screen().kind, ViewKind::Alerts);
}

#[test]
fn firing_then_pending_then_resolved_then_severity_then_newest() {
    let mut s = alerts_state();
    open_alerts(&mut s);
    assert_eq!(
        names(&s),
        [
            // Firing: critical, warning (newest first), info, then the unknown severity.
            "HighErrorRate",
            "HighMemoryUsage",
            "KubePodCrashLooping",
            "ErrorBudgetBurn",
            "Watchdog",
            "SlowResponseTime",
            "RedisDown",
        ]
    );
    // `o` sorts by since: the newest first whatever the state.
    key(&mut s, "o");
    assert_eq!(names(&s)[0], "SlowResponseTime");
    assert_eq!(names(&s).last().map(String::as_str), Some("Watchdog"));
}

#[test]
fn faults_only_hides_resolved_alerts_and_healthy_rules() {
    let mut s = alerts_state();
    open_alerts(&mut s);
    key(&mut s, "f");
    assert!(!names(&s).contains(&"RedisDown".to_string()));
    assert_eq!(names(&s).len(), 6);
    key(&mut s, "E");
    assert_eq!(s.screen().kind, ViewKind::AlertRules);
    assert_eq!(s.screen().items, [Item::Rule(1)], "only the failing rule");
    key(&mut s, "f");
    // Failing first, then by environment and name.
    assert_eq!(
        s.screen().items,
        [Item::Rule(1), Item::Rule(0), Item::Rule(2)]
    );
    key(&mut s, "E");
    assert_eq!(s.screen().kind, ViewKind::Alerts, "E toggles back");
}

#[test]
fn the_filter_matches_names_labels_and_summaries() {
    let mut s = alerts_state();
    open_alerts(&mut s);
    key(&mut s, "/");
    typed(&mut s, "covet");
    assert_eq!(names(&s), ["SlowResponseTime"], "a label value");
    key(&mut s, "esc");
    key(&mut s, "/");
    typed(&mut s, "budget");
    assert_eq!(names(&s), ["ErrorBudgetBurn"], "the summary");
    key(&mut s, "esc");
    key(&mut s, "/");
    typed(&mut s, "-l severity=critical");
    assert_eq!(
        names(&s),
        ["HighErrorRate", "RedisDown"],
        "a label selector"
    );
    key(&mut s, "esc");
    key(&mut s, "/");
    typed(&mut s, "firing");
    assert_eq!(names(&s).len(), 5, "the state word");
}

#[test]
fn scope_words_limit_the_list() {
    let mut s = alerts_state();
    key(&mut s, ":");
    typed(&mut s, "alerts env:staging");
    key(&mut s, "enter");
    assert_eq!(names(&s), ["KubePodCrashLooping"]);
    key(&mut s, ":");
    typed(&mut s, "alerts @prod-eastus");
    key(&mut s, "enter");
    // Labelled for prod-eastus, or for no cluster of prod.
    assert_eq!(
        names(&s),
        [
            "HighMemoryUsage",
            "ErrorBudgetBurn",
            "SlowResponseTime",
            "RedisDown"
        ]
    );
}

#[test]
fn selection_stays_on_its_alert_when_a_snapshot_reorders_the_list() {
    let mut s = alerts_state();
    open_alerts(&mut s);
    key(&mut s, "j");
    key(&mut s, "j");
    assert_eq!(names(&s)[s.screen().selected], "KubePodCrashLooping");
    let mut next = snapshot();
    next.alerts.push(alert(
        "KubeNodeNotReady",
        AlertState::Firing,
        "prod",
        &[("severity", "critical")],
    ));
    load(&mut s, next, t0());
    assert_eq!(names(&s)[s.screen().selected], "KubePodCrashLooping");
    // Gone: the selection is clamped, not lost off the end.
    load(&mut s, AlertsSnapshot::default(), t0());
    assert_eq!(s.screen().selected, 0);
    assert!(s.screen().items.is_empty());
}

fn jump_to(s: &mut State, name: &str) {
    open_alerts(s);
    let i = names(s).iter().position(|n| n == name).unwrap();
    s.screen_mut().selected = i;
    key(s, "enter");
    assert_eq!(s.screen().kind, ViewKind::AlertDetail);
    key(s, "enter");
}

#[test]
fn enter_on_the_detail_jumps_to_the_pods_its_deployment_label_names() {
    let mut s = alerts_state();
    jump_to(&mut s, "HighErrorRate");
    let screen = s.screen();
    assert_eq!(screen.kind, ViewKind::Pods);
    assert_eq!(
        screen.scope.cluster,
        Some(3),
        "prod-westus, from the cluster label"
    );
    assert_eq!(screen.scope.namespace.as_deref(), Some("arq"));
    assert_eq!(screen.scope.workload.as_deref(), Some("arq-backend"));
    assert_eq!(screen.items.len(), 2, "its two pods");
    let notice = s.notice.as_ref().unwrap().text.clone();
    assert!(notice.contains("deployment label"), "{notice}");
    key(&mut s, "esc");
    assert_eq!(s.screen().kind, ViewKind::AlertDetail, "esc goes back");
}

#[test]
fn a_pod_label_goes_through_the_pods_owner() {
    let mut s = alerts_state();
    jump_to(&mut s, "KubePodCrashLooping");
    let screen = s.screen();
    assert_eq!(screen.kind, ViewKind::Pods);
    assert_eq!(screen.scope.cluster, Some(1), "staging has one cluster");
    assert_eq!(screen.scope.workload.as_deref(), Some("export-service"));
}

#[test]
fn without_a_cluster_label_every_cluster_of_the_environment_is_shown() {
    let mut s = alerts_state();
    // `service` names covet-api; prod has two clusters.
    jump_to(&mut s, "SlowResponseTime");
    let screen = s.screen();
    assert_eq!(screen.scope.cluster, None);
    assert_eq!(screen.scope.env, Some(2));
    assert_eq!(screen.scope.workload.as_deref(), Some("covet-api"));
    assert_eq!(screen.items.len(), 2, "a pod in each prod cluster");
}

#[test]
fn a_job_label_in_namespace_slash_name_form_names_the_workload() {
    let s = alerts_state();
    let a = s
        .alerts
        .snapshot
        .alerts
        .iter()
        .find(|a| a.name == "HighMemoryUsage")
        .unwrap();
    let t = resolve(&s, a).unwrap();
    assert_eq!(t.key, ObjKey::new("arq", "arq-backend"));
    assert_eq!(t.clusters, [2]);
    assert_eq!(t.via, "job");
}

#[test]
fn no_match_says_so_in_the_status_line_and_stays() {
    let mut s = alerts_state();
    // RedisDown's job=redis names no workload; Watchdog has no naming label at all.
    for name in ["RedisDown", "Watchdog"] {
        open_alerts(&mut s);
        let i = names(&s).iter().position(|n| n == name).unwrap();
        s.screen_mut().selected = i;
        key(&mut s, "P");
        assert_eq!(s.screen().kind, ViewKind::Alerts);
        let notice = &s.notice.as_ref().unwrap().text;
        assert_eq!(*notice, format!("{name}: {NO_WORKLOAD}"));
    }
}

#[test]
fn a_cluster_label_naming_another_cluster_does_not_match() {
    let s = alerts_state();
    let a = alert(
        "X",
        AlertState::Firing,
        "prod",
        &[("cluster", "prod-northeu"), ("deployment", "arq-backend")],
    );
    assert_eq!(resolve(&s, &a), Err(NO_WORKLOAD.to_string()));
    let a = alert(
        "X",
        AlertState::Firing,
        "qa",
        &[("deployment", "arq-backend")],
    );
    let why = resolve(&s, &a).unwrap_err();
    assert!(why.contains("no environment is named \"qa\""), "{why}");
}

#[test]
fn counts_per_workload_cluster_and_environment_leave_silenced_alerts_out() {
    let s = alerts_state();
    let a = &s.alerts;
    let arq = ObjKey::new("arq", "arq-backend");
    // westus: HighErrorRate and ErrorBudgetBurn; eastus: HighMemoryUsage and ErrorBudgetBurn.
    assert_eq!(a.firing(3, &arq), 2);
    assert_eq!(a.firing(2, &arq), 2);
    assert_eq!(a.firing(0, &arq), 0);
    let covet = &a.workloads[&(2, ObjKey::new("covetpy", "covet-api"))];
    assert_eq!((covet.firing, covet.pending), (0, 1));
    // The silenced crash loop is listed but not counted.
    assert_eq!(a.firing(1, &ObjKey::new("arxos", "export-service")), 0);
    assert_eq!(a.env_firing, [1, 0, 3]);
    assert_eq!(a.cluster_firing, [1, 0, 2, 2]);
    assert_eq!(counts(&a.snapshot.alerts), (5, 1, 1, 1));
    assert_eq!(a.failing_rules(), 1);
    let names = &a.workloads[&(3, arq)].names;
    assert_eq!(names, &["HighErrorRate", "ErrorBudgetBurn"]);
}

#[test]
fn rule_errors_and_source_errors_are_in_words() {
    let s = alerts_state();
    let burn = s
        .alerts
        .snapshot
        .alerts
        .iter()
        .find(|a| a.name == "ErrorBudgetBurn")
        .unwrap();
    let err = s.alerts.rule_error(burn).unwrap();
    assert_eq!(err.error.as_deref(), Some("unsupported: subquery"));
    let down = s.alerts.source_errors().next().unwrap();
    assert_eq!(
        source_words(&s, down),
        "staging: Prometheus unreachable (connection refused) — showing local evaluation"
    );
}

#[test]
fn a_source_failing_is_announced_once() {
    let mut s = alerts_state();
    let mut healthy = snapshot();
    healthy.sources.retain(|x| x.error.is_none());
    load(&mut s, healthy, t0());
    s.notice = None;
    load(&mut s, snapshot(), t0());
    let notice = s.notice.clone().expect("a notice");
    assert!(notice.text.starts_with("staging: Prometheus unreachable"));
    s.notice = None;
    load(&mut s, snapshot(), t0());
    assert!(s.notice.is_none(), "still failing: not repeated");
}

#[test]
fn the_detail_survives_its_alert_changing_source() {
    let mut s = alerts_state();
    open_alerts(&mut s);
    key(&mut s, "enter");
    assert_eq!(
        alert_in_focus(&s).map(|a| a.name.as_str()),
        Some("HighErrorRate")
    );
    let mut next = snapshot();
    for a in &mut next.alerts {
        a.source = Source::Local;
    }
    load(&mut s, next, t0());
    let shown = alert_in_focus(&s).unwrap();
    assert_eq!(
        (shown.name.as_str(), shown.source),
        ("HighErrorRate", Source::Local)
    );
    key(&mut s, "j");
    assert_eq!(s.screen().scroll, 1, "j scrolls the detail");
}

#[test]
fn a_new_pod_is_counted_once_the_fleet_folds() {
    let mut s = alerts_state();
    let mut next = snapshot();
    next.alerts.push(alert(
        "PodOOMKilled",
        AlertState::Firing,
        "dev",
        &[("namespace", "arq"), ("pod", "arq-backend-7f9c4-zz9zz")],
    ));
    load(&mut s, next, t0());
    let arq = ObjKey::new("arq", "arq-backend");
    assert_eq!(s.alerts.firing(0, &arq), 0, "the pod is not known yet");
    let pod = crate::state::testing::pod("arq", "arq-backend", "zz9zz", "Running");
    let changes = vec![crate::kube::Change::Apply(crate::kube::Row::Pod(
        std::sync::Arc::new(pod),
    ))];
    let msg = crate::kube::KubeMsg::Changes {
        cluster: 0,
        changes,
    };
    crate::state::update(&mut s, crate::state::Msg::Kube(msg), t0());
    crate::state::update(&mut s, crate::state::Msg::Tick, t0());
    assert_eq!(s.alerts.firing(0, &arq), 1);
}
