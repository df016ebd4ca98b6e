use serde_json::{Value, json};

use crate::alerts::model::{AlertState, Source};
use crate::alerts::remote::{SilenceState, alertmanager, prometheus};

fn fixture(name: &str) -> Value {
    let text = match name {
        "prom-alerts" => include_str!("../testdata/prometheus-2.42-alerts.json"),
        "prom-rules" => include_str!("../testdata/prometheus-2.42-rules.json"),
        "am-alerts" => include_str!("../testdata/alertmanager-0.25-alerts.json"),
        "am-silences" => include_str!("../testdata/alertmanager-0.25-silences.json"),
        _ => "null",
    };
    serde_json::from_str(text).unwrap_or(Value::Null)
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn prometheus_alerts_from_a_real_2_42_answer() {
    let alerts = prometheus::alerts(&fixture("prom-alerts"), "prod").expect("parses");
    let names: Vec<(&str, AlertState)> =
        alerts.iter().map(|a| (a.name.as_str(), a.state)).collect();
    assert_eq!(
        names,
        [
            ("AlwaysFiring", AlertState::Firing),
            ("SlowPending", AlertState::Pending),
            ("TicketFiring", AlertState::Firing),
            ("ToSilence", AlertState::Firing),
        ]
    );
    let first = &alerts[0];
    assert_eq!(
        first.labels,
        labels(&[("alertname", "AlwaysFiring"), ("severity", "page")])
    );
    assert_eq!(first.annotations, labels(&[("summary", "always 1")]));
    assert_eq!(first.value, Some(1.0));
    assert_eq!(
        first.active_at.map(|t| t.to_string()).as_deref(),
        Some("2026-11-22T14:04:15.176508638Z")
    );
    assert_eq!(first.source, Source::Prometheus);
    assert_eq!(first.environment, "prod");
    assert_eq!(alerts[3].label("team"), Some("a b"));
    assert_eq!(alerts[1].value, Some(2.0));
}

#[test]
fn prometheus_rules_from_a_real_2_42_answer() {
    let (rules, alerts) = prometheus::rules(&fixture("prom-rules"), "prod").expect("parses");
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "AlwaysFiring",
            "SlowPending",
            "job:bad",
            "Broken",
            "TicketFiring",
            "ToSilence"
        ]
    );
    let broken = &rules[3];
    assert_eq!(
        broken.error.as_deref(),
        Some(
            "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
        )
    );
    assert_eq!(broken.origin, "/tmp/rfx/rules.yml › demo");
    assert!(
        broken.expr.starts_with("(label_replace(vector(1)"),
        "{}",
        broken.expr
    );
    assert!(
        rules
            .iter()
            .filter(|r| r.name != "Broken")
            .all(|r| r.error.is_none())
    );
    assert!(
        rules
            .iter()
            .all(|r| r.last_eval.is_some() && r.source == Source::Prometheus)
    );
    // The alerts of /rules are those of /alerts, with the expression and group added.
    assert_eq!(alerts.len(), 4);
    assert_eq!(alerts[0].expr.as_deref(), Some("vector(1)"));
    assert_eq!(
        alerts[0].origin.as_deref(),
        Some("/tmp/rfx/rules.yml › demo")
    );
    let plain = prometheus::alerts(&fixture("prom-alerts"), "prod").expect("parses");
    let same: Vec<_> = alerts
        .iter()
        .map(|a| (&a.labels, a.state, a.active_at))
        .collect();
    let other: Vec<_> = plain
        .iter()
        .map(|a| (&a.labels, a.state, a.active_at))
        .collect();
    assert_eq!(same, other);
}

/// Prometheus 3 adds `keepFiringSince`; rules not yet evaluated say health "unknown" and Go's
/// zero time; values may be +Inf or NaN.
#[test]
fn newer_and_partial_prometheus_answers() {
    let body = json!({"status": "success", "data": {"alerts": [
        {"labels": {"alertname": "Hot", "zone": "b"}, "state": "firing",
         "activeAt": "2025-01-01T00:00:00Z", "keepFiringSince": "2025-01-01T00:05:00Z",
         "value": "+Inf"},
        {"labels": {"alertname": "Cold"}, "state": "pending", "value": "NaN"},
        {"labels": {"alertname": "Gone"}, "state": "inactive"}
    ]}});
    let alerts = prometheus::alerts(&body, "dev").expect("parses");
    assert_eq!(alerts.len(), 2, "inactive alerts are not shown");
    assert_eq!(alerts[0].value, Some(f64::INFINITY));
    assert!(alerts[1].value.is_some_and(f64::is_nan));
    assert!(alerts[1].annotations.is_empty() && alerts[1].active_at.is_none());

    let body = json!({"status": "success", "data": {"groups": [{"name": "g", "file": "f.yml",
        "rules": [{"name": "R", "query": "up == 0", "type": "alerting", "health": "unknown",
                   "lastEvaluation": "0001-01-01T00:00:00Z", "evaluationTime": 0}]}]}});
    let (rules, alerts) = prometheus::rules(&body, "dev").expect("parses");
    assert_eq!(rules[0].last_eval, None, "never evaluated");
    assert_eq!(rules[0].error, None);
    assert!(alerts.is_empty());

    let body = json!({"status": "success", "data": {"groups": [{"name": "g", "rules": [
        {"name": "R", "query": "x", "type": "recording", "health": "err"}]}]}});
    let (rules, _) = prometheus::rules(&body, "dev").expect("parses");
    assert_eq!(
        rules[0].error.as_deref(),
        Some("the last evaluation failed")
    );
    assert_eq!(rules[0].origin, "g");
}

#[test]
fn malformed_prometheus_answers_name_the_field() {
    let cases = [
        (
            json!({"status": "success", "data": {"alerts": [{"labels": {}, "state": 3}]}}),
            "malformed answer: data.alerts[0].state: expected a string, found 3",
        ),
        (
            json!({"status": "success", "data": {"alerts": [{"labels": {"a": 1}, "state": "firing"}]}}),
            "malformed answer: data.alerts[0].labels: label \"a\": expected a string, found 1",
        ),
        (
            json!({"status": "success", "data": {"alerts": [{"labels": {}, "state": "firing", "activeAt": "yesterday"}]}}),
            "malformed answer: data.alerts[0].activeAt: not a time: \"yesterday\"",
        ),
        (
            json!({"status": "success", "data": {"alerts": [{"labels": {}, "state": "firing", "value": "x"}]}}),
            "malformed answer: data.alerts[0].value: not a number: \"x\"",
        ),
        (
            json!({"status": "success", "data": {"alerts": [{"labels": {}, "state": "burning"}]}}),
            "malformed answer: data.alerts[0].state: unknown alert state \"burning\"",
        ),
        (
            json!({"status": "success", "data": {}}),
            "malformed answer: data: no field \"alerts\"",
        ),
        (
            json!({"status": "success"}),
            "malformed answer: the answer: no field \"data\"",
        ),
        (
            json!([1, 2]),
            "malformed answer: the answer: expected an object, found an array",
        ),
        (
            json!({"status": "error", "errorType": "bad_data", "error": "nope"}),
            "Prometheus says bad_data: nope",
        ),
    ];
    for (body, want) in cases {
        let got = prometheus::alerts(&body, "dev").expect_err("an error");
        assert!(got.starts_with(want), "{body}: got {got:?}, want {want:?}");
    }
    let body = json!({"status": "success", "data": {"groups": [{"name": "g", "rules": [
        {"name": "R", "query": "x", "type": "alerting", "alerts": [{"labels": {}, "state": "firing"}]},
        {"name": "S", "query": "x", "type": "weird"}]}]}});
    let got = prometheus::rules(&body, "dev").expect_err("an error");
    assert_eq!(
        got,
        "malformed answer: data.groups[0].rules[1].type: unknown rule type \"weird\""
    );
    let body = json!({"status": "success", "data": {"groups": [{"name": "g", "rules": [
        {"name": "R", "query": "x", "type": "alerting", "evaluationTime": "slow"}]}]}});
    let got = prometheus::rules(&body, "dev").expect_err("an error");
    assert_eq!(
        got,
        "malformed answer: data.groups[0].rules[0].evaluationTime: expected a number of seconds"
    );
}

#[test]
fn alertmanager_alerts_from_a_real_0_25_answer() {
    let alerts = alertmanager::alerts(&fixture("am-alerts"), "prod").expect("parses");
    assert_eq!(alerts.len(), 3);
    assert!(
        alerts
            .iter()
            .all(|a| a.state == AlertState::Firing && a.source == Source::Alertmanager)
    );
    let by_name = |n: &str| alerts.iter().find(|a| a.name == n).expect(n);
    let page = by_name("AlwaysFiring");
    assert!(page.silenced_by.is_empty() && page.inhibited_by.is_empty());
    assert_eq!(
        page.active_at.map(|t| t.to_string()).as_deref(),
        Some("2026-11-22T14:04:15.176Z")
    );
    assert_eq!(
        by_name("TicketFiring").inhibited_by,
        ["AlwaysFiring (2a7a97fbf890646a)"]
    );
    assert_eq!(
        by_name("ToSilence").silenced_by,
        ["40df13ad-13b8-4d17-b215-748d85610a55"]
    );
    assert_eq!(
        by_name("ToSilence").labels,
        labels(&[
            ("alertname", "ToSilence"),
            ("severity", "info"),
            ("team", "a b")
        ])
    );
}

#[test]
fn alertmanager_silences_from_a_real_0_25_answer() {
    let silences = alertmanager::silences(&fixture("am-silences"), "prod").expect("parses");
    assert_eq!(silences.len(), 2);
    assert_eq!(silences[0].id, "40df13ad-13b8-4d17-b215-748d85610a55");
    assert_eq!(silences[0].state, SilenceState::Active);
    assert_eq!(silences[0].created_by, "oncall@example");
    assert_eq!(silences[0].comment, "maintenance");
    assert_eq!(silences[0].matchers_text(), "{alertname=\"ToSilence\"}");
    assert_eq!(silences[1].state, SilenceState::Pending);
    assert_eq!(silences[1].matchers_text(), "{severity!~\"nope.*\"}");
    assert_eq!(
        silences[1].ends_at.map(|t| t.to_string()).as_deref(),
        Some("2031-01-01T00:00:00Z")
    );
}

#[test]
fn older_and_malformed_alertmanager_answers() {
    // Before 0.22 matchers had no isEqual; an unknown fingerprint stays as it is.
    let body = json!([{"id": "s1", "status": {"state": "expired"}, "matchers": [
        {"name": "a", "value": "b", "isRegex": false}]}]);
    let silences = alertmanager::silences(&body, "dev").expect("parses");
    assert_eq!(silences[0].matchers_text(), "{a=\"b\"}");
    assert_eq!(silences[0].state, SilenceState::Expired);
    let body = json!([{"labels": {"alertname": "X"}, "status": {"state": "suppressed",
        "inhibitedBy": ["ffff"], "silencedBy": []}}]);
    let alerts = alertmanager::alerts(&body, "dev").expect("parses");
    assert_eq!(alerts[0].inhibited_by, ["ffff"]);

    let cases = [
        (
            json!({"alerts": []}),
            "malformed answer: the answer: expected an array, found an object",
        ),
        (
            json!([{"labels": {}, "status": {"state": "asleep"}}]),
            "malformed answer: [0].status.state: unknown alert state \"asleep\"",
        ),
        (
            json!([{"labels": {}, "status": {"state": "active", "silencedBy": [1]}}]),
            "malformed answer: [0].status.silencedBy: expected a list of strings",
        ),
        (
            json!([{"labels": {}}]),
            "malformed answer: [0]: no field \"status\"",
        ),
    ];
    for (body, want) in cases {
        let got = alertmanager::alerts(&body, "dev").expect_err("an error");
        assert!(got.starts_with(want), "{body}: got {got:?}, want {want:?}");
    }
    let body = json!([{"id": "s", "status": {"state": "active"}, "matchers": [{"name": "a", "value": "b", "isRegex": "no"}]}]);
    let got = alertmanager::silences(&body, "dev").expect_err("an error");
    assert_eq!(
        got,
        "malformed answer: [0].matchers[0].isRegex: expected true or false, found a string"
    );
}
