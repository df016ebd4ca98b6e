//! A group's evaluation with a stand-in query function (a bare metric name selects that
//! metric's samples at t): rule order, write-back, stale markers, errors, the console's view.

use std::time::Duration;

use crate::alerts::model::{AlertState, Source};
use crate::alerts::promql::{self, Labels, MatchOp, Matcher, MemStore, Queryable};
use crate::alerts::rulefile::{Group, Rule, RuleKind};
use crate::alerts::rules::{EvalTarget, GroupState};
use crate::metrics::store::STALE_NAN_BITS;

const M: i64 = 60_000;

fn l(pairs: &[(&str, &str)]) -> Labels {
    let mut v: Labels = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    v.sort();
    v
}

fn rule(kind: RuleKind, expr: &str, labels: &[(&str, &str)]) -> Rule {
    Rule {
        kind,
        expr: expr.to_owned(),
        parsed: promql::parse(expr).expect("test expressions parse"),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        line: 1,
    }
}

fn alert(name: &str, for_min: u64) -> RuleKind {
    RuleKind::Alert {
        name: name.to_owned(),
        for_: Duration::from_secs(60 * for_min),
        keep_firing_for: Duration::ZERO,
        annotations: Vec::new(),
    }
}

fn record(name: &str) -> RuleKind {
    RuleKind::Record {
        name: name.to_owned(),
    }
}

fn group(rules: Vec<Rule>) -> GroupState {
    let g = Group {
        name: "g".into(),
        interval: None,
        limit: 0,
        rules,
        line: 1,
    };
    GroupState::new("r.yml", &g, Duration::from_secs(30))
}

/// The stand-in evaluator: `name` selects that metric's samples exactly at t (stale markers
/// excluded); `fail` fails.
fn fake(expr: &promql::Expr, q: &dyn Queryable, t: i64) -> Result<Vec<(Labels, f64)>, String> {
    let name = expr.to_string();
    if name == "fail" {
        return Err("unsupported: function fail".into());
    }
    let m = Matcher::new("__name__", MatchOp::Equal, &name).map_err(|e| e.to_string())?;
    Ok(q.select(&[m], t, t)
        .into_iter()
        .filter_map(|s| {
            let (_, v) = *s.samples.last()?;
            (v.to_bits() != STALE_NAN_BITS).then_some((s.labels, v))
        })
        .collect())
}

fn at(store: &MemStore, name: &str, t: i64) -> Vec<(Labels, f64)> {
    let m = Matcher::new("__name__", MatchOp::Equal, name).unwrap();
    store
        .select(&[m], t, t)
        .into_iter()
        .map(|s| (s.labels, s.samples[0].1))
        .collect()
}

#[test]
fn a_recording_result_feeds_a_later_rule_of_the_same_evaluation() {
    let mut g = group(vec![
        rule(record("job:up"), "up", &[("team", "web")]),
        rule(alert("Up", 0), "job:up", &[("severity", "page")]),
    ]);
    let mut store = MemStore::new();
    store.add(&l(&[("__name__", "up"), ("job", "api")]), 0, 1.0);
    let report = g.eval_with(&mut fake, &mut store, 0, &[]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        at(&store, "job:up", 0),
        [(
            l(&[("__name__", "job:up"), ("job", "api"), ("team", "web")]),
            1.0
        )]
    );
    let alerts = g.alerts("prod");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].state, AlertState::Firing);
    assert_eq!(
        alerts[0].labels,
        l(&[
            ("alertname", "Up"),
            ("job", "api"),
            ("severity", "page"),
            ("team", "web")
        ])
    );
    assert_eq!(alerts[0].origin.as_deref(), Some("r.yml › g"));
    assert_eq!(
        (alerts[0].source, alerts[0].environment.as_str()),
        (Source::Local, "prod")
    );
    assert_eq!(
        at(&store, "ALERTS", 0),
        [(
            l(&[
                ("__name__", "ALERTS"),
                ("alertname", "Up"),
                ("alertstate", "firing"),
                ("job", "api"),
                ("severity", "page"),
                ("team", "web")
            ]),
            1.0
        )]
    );
    // ALERTS, ALERTS_FOR_STATE and the recording result.
    assert_eq!(report.written, 3);
}

#[test]
fn series_a_rule_no_longer_returns_get_a_stale_marker() {
    let mut g = group(vec![rule(alert("Up", 5), "up", &[])]);
    let mut store = MemStore::new();
    let up = l(&[("__name__", "up"), ("job", "api")]);
    store.add(&up, 0, 1.0);
    g.eval_with(&mut fake, &mut store, 0, &[]);
    assert_eq!(g.alerts("e")[0].state, AlertState::Pending);
    let report = g.eval_with(&mut fake, &mut store, M, &[]);
    assert_eq!(report.written, 2, "two stale markers");
    let alerts_series = l(&[
        ("__name__", "ALERTS"),
        ("alertname", "Up"),
        ("alertstate", "pending"),
        ("job", "api"),
    ]);
    let got = at(&store, "ALERTS", M);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, alerts_series);
    assert_eq!(got[0].1.to_bits(), STALE_NAN_BITS);
    // A pending alert that stopped matching is gone, not resolved.
    assert!(g.alerts("e").is_empty());
}

#[test]
fn a_failing_rule_keeps_its_error_and_the_others_still_run() {
    let mut g = group(vec![
        rule(record("a"), "fail", &[]),
        rule(record("b"), "up", &[]),
    ]);
    let mut store = MemStore::new();
    store.add(&l(&[("__name__", "up")]), 0, 2.0);
    let report = g.eval_with(&mut fake, &mut store, 0, &[]);
    assert_eq!(
        report.errors,
        [("a".to_string(), "unsupported: function fail".to_string())]
    );
    let statuses = g.statuses("e");
    assert_eq!(
        statuses[0].error.as_deref(),
        Some("unsupported: function fail")
    );
    assert_eq!(statuses[1].error, None);
    assert!(statuses[1].last_eval.is_some());
    assert_eq!(at(&store, "b", 0), [(l(&[("__name__", "b")]), 2.0)]);
}

#[test]
fn recording_results_that_collide_after_relabelling_are_an_error() {
    let mut g = group(vec![rule(record("r"), "up", &[("instance", "same")])]);
    let mut store = MemStore::new();
    store.add(&l(&[("__name__", "up"), ("instance", "a")]), 0, 1.0);
    store.add(&l(&[("__name__", "up"), ("instance", "b")]), 0, 1.0);
    let report = g.eval_with(&mut fake, &mut store, 0, &[]);
    assert_eq!(
        report.errors[0].1,
        "vector contains metrics with the same labelset after applying rule labels"
    );
    assert!(at(&store, "r", 0).is_empty());
}

#[test]
fn a_sample_landing_on_another_rules_stale_marker_is_refused_as_prometheus_refuses_it() {
    let mut store = MemStore::new();
    let s = l(&[("__name__", "x")]);
    store.append(&s, 0, 1.0).unwrap();
    store.append(&s, 0, 1.0).unwrap();
    assert_eq!(
        store.append(&s, 0, f64::from_bits(STALE_NAN_BITS)),
        Err("duplicate sample for timestamp".to_string())
    );
    assert_eq!(
        store.append(&s, -1, 1.0),
        Err("out of order sample".to_string())
    );
}

#[test]
fn a_group_without_interval_runs_at_the_default() {
    let g = group(vec![]);
    assert_eq!(g.interval(), Duration::from_secs(30));
}

/// With the evaluator: the rules reading nothing the group writes are evaluated first, at once,
/// and the others in order after what precedes them is written. The outcome is the sequential
/// one: the alert over this evaluation's recording result fires at the first evaluation (it is
/// not taken up early, before the record exists), the early rules' alerts and errors are
/// theirs, and the same samples are written back.
#[test]
fn rules_evaluated_at_once_end_as_rules_evaluated_in_order() {
    let rules = || {
        vec![
            rule(record("job:up:sum"), "sum by (job) (up)", &[]),
            rule(alert("NoneUp", 0), "job:up:sum < 1", &[]),
            rule(alert("Down", 0), "up == 0", &[]),
            rule(alert("Many", 0), "count(up) > 1", &[]),
            rule(
                alert("Relabelled", 0),
                "label_replace(up, \"job\", \"x\", \"\", \"\")",
                &[],
            ),
            rule(alert("Firing", 0), "count(ALERTS) > 0", &[]),
        ]
    };
    let data = || {
        let mut store = MemStore::new();
        store.add(&l(&[("__name__", "up"), ("job", "a")]), 0, 1.0);
        store.add(&l(&[("__name__", "up"), ("job", "b")]), 0, 0.0);
        store
    };
    let engine = promql::Engine::default();
    let (mut at_once, mut at_once_store) = (group(rules()), data());
    let (mut in_order, mut in_order_store) = (group(rules()), data());
    for t in [0, M] {
        let report = at_once.eval(&engine, &mut at_once_store, t, &[]);
        let mut query = |e: &promql::Expr, q: &dyn Queryable, t: i64| {
            crate::alerts::rules::query_vector(&engine, q, e, t, None)
        };
        let expected = in_order.eval_with(&mut query, &mut in_order_store, t, &[]);
        assert_eq!(report, expected, "at {t}");
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
        assert_eq!(report.errors[0].0, "Relabelled");
    }
    let names = |g: &GroupState| -> Vec<(String, AlertState)> {
        g.alerts("prod")
            .into_iter()
            .map(|a| (a.name, a.state))
            .collect()
    };
    assert_eq!(names(&at_once), names(&in_order));
    assert_eq!(
        names(&at_once),
        [
            ("NoneUp".to_owned(), AlertState::Firing),
            ("Down".to_owned(), AlertState::Firing),
            ("Many".to_owned(), AlertState::Firing),
            ("Firing".to_owned(), AlertState::Firing),
        ]
    );
    for name in ["job:up:sum", "ALERTS", "ALERTS_FOR_STATE"] {
        for t in [0, M] {
            assert_eq!(
                at(&at_once_store, name, t),
                at(&in_order_store, name, t),
                "{name} at {t}"
            );
        }
    }
}
