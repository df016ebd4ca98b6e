use crate::alerts::model::{Alert, AlertState, Source};
use crate::alerts::remote::merge;

fn alert(name: &str, extra: &[(&str, &str)], state: AlertState, source: Source) -> Alert {
    let mut labels: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    labels.push(("alertname".into(), name.into()));
    labels.sort();
    Alert {
        name: name.into(),
        state,
        labels,
        annotations: Vec::new(),
        active_at: None,
        resolved_at: None,
        value: None,
        expr: None,
        origin: None,
        source,
        environment: "prod".into(),
        silenced_by: Vec::new(),
        inhibited_by: Vec::new(),
        disagreement: None,
    }
}

use AlertState::{Firing, Pending, Resolved};
use Source::{Alertmanager, Local, Prometheus};

fn summary(alerts: &[Alert]) -> Vec<(String, AlertState, Source, Option<String>)> {
    alerts
        .iter()
        .map(|a| (a.name.clone(), a.state, a.source, a.disagreement.clone()))
        .collect()
}

#[test]
fn with_no_remote_answer_the_local_alerts_are_unchanged() {
    let local = vec![
        alert("A", &[], Firing, Local),
        alert("B", &[], Pending, Local),
    ];
    assert_eq!(merge(local.clone(), None, None), local);
}

#[test]
fn prometheus_is_the_base_and_agreeing_local_alerts_fold_into_it() {
    let prom = vec![
        alert("A", &[("pod", "p1")], Firing, Prometheus),
        alert("B", &[], Pending, Prometheus),
    ];
    let local = vec![
        alert("A", &[("pod", "p1")], Firing, Local),
        alert("B", &[], Pending, Local),
    ];
    let merged = merge(local, Some(prom.clone()), None);
    assert_eq!(merged, prom, "remote alerts, no flags, no duplicates");
}

#[test]
fn a_local_state_that_differs_is_a_disagreement_on_the_remote_alert() {
    let prom = vec![
        alert("A", &[], Firing, Prometheus),
        alert("B", &[], Pending, Prometheus),
        alert("C", &[], Firing, Prometheus),
    ];
    let local = vec![
        alert("A", &[], Pending, Local),
        alert("B", &[], Firing, Local),
        alert("C", &[], Resolved, Local),
    ];
    let merged = merge(local, Some(prom), None);
    assert_eq!(
        summary(&merged),
        [
            (
                "A".into(),
                Firing,
                Prometheus,
                Some("local evaluation says pending".into())
            ),
            (
                "B".into(),
                Pending,
                Prometheus,
                Some("local evaluation says firing".into())
            ),
            (
                "C".into(),
                Firing,
                Prometheus,
                Some("local evaluation says resolved".into())
            ),
        ]
    );
}

#[test]
fn the_whole_label_set_must_match() {
    let prom = vec![alert("A", &[("pod", "p1")], Firing, Prometheus)];
    let local = vec![alert("A", &[("pod", "p2")], Firing, Local)];
    let merged = merge(local, Some(prom), None);
    assert_eq!(
        summary(&merged),
        [
            ("A".into(), Firing, Prometheus, None),
            ("A".into(), Firing, Local, Some("not in Prometheus".into())),
        ]
    );
}

#[test]
fn local_only_alerts_are_kept_and_flagged_when_prometheus_answered() {
    let local = vec![
        alert("A", &[], Firing, Local),
        alert("B", &[], Pending, Local),
        // Prometheus never lists resolved alerts: not a disagreement.
        alert("C", &[], Resolved, Local),
    ];
    let merged = merge(local, Some(Vec::new()), None);
    assert_eq!(
        summary(&merged),
        [
            ("A".into(), Firing, Local, Some("not in Prometheus".into())),
            ("B".into(), Pending, Local, Some("not in Prometheus".into())),
            ("C".into(), Resolved, Local, None),
        ]
    );
}

#[test]
fn alertmanager_adds_its_verdict_to_the_matching_prometheus_alert() {
    let prom = vec![
        alert("A", &[], Firing, Prometheus),
        alert("B", &[], Firing, Prometheus),
    ];
    let mut silenced = alert("A", &[], Firing, Alertmanager);
    silenced.silenced_by = vec!["s1".into()];
    silenced.annotations = vec![("summary".into(), "from AM".into())];
    let mut inhibited = alert("B", &[], Firing, Alertmanager);
    inhibited.inhibited_by = vec!["A (ff)".into()];
    let merged = merge(Vec::new(), Some(prom), Some(vec![silenced, inhibited]));
    assert_eq!(merged.len(), 2);
    assert_eq!(
        merged[0].source, Prometheus,
        "Prometheus's alert stays the base"
    );
    assert_eq!(merged[0].silenced_by, ["s1"]);
    assert_eq!(
        merged[0].annotations,
        [("summary".to_string(), "from AM".to_string())]
    );
    assert_eq!(merged[1].inhibited_by, ["A (ff)"]);
}

#[test]
fn alertmanager_contributes_alerts_prometheus_did_not_list() {
    let prom = vec![alert("A", &[], Pending, Prometheus)];
    let other = alert("FromElsewhere", &[("cluster", "eu")], Firing, Alertmanager);
    let local = vec![alert("FromElsewhere", &[("cluster", "eu")], Pending, Local)];
    let merged = merge(local, Some(prom), Some(vec![other]));
    assert_eq!(
        summary(&merged),
        [
            ("A".into(), Pending, Prometheus, None),
            (
                "FromElsewhere".into(),
                Firing,
                Alertmanager,
                Some("local evaluation says pending".into())
            ),
        ]
    );
}

#[test]
fn with_only_alertmanager_answering_only_firing_local_alerts_are_flagged() {
    let am = vec![alert("A", &[], Firing, Alertmanager)];
    let local = vec![
        alert("A", &[], Firing, Local),
        alert("B", &[], Firing, Local),
        // Alertmanager never sees pending alerts, nor keeps resolved ones.
        alert("C", &[], Pending, Local),
        alert("D", &[], Resolved, Local),
    ];
    let merged = merge(local, None, Some(am));
    assert_eq!(
        summary(&merged),
        [
            ("A".into(), Firing, Alertmanager, None),
            (
                "B".into(),
                Firing,
                Local,
                Some("not in Alertmanager".into())
            ),
            ("C".into(), Pending, Local, None),
            ("D".into(), Resolved, Local, None),
        ]
    );
}
