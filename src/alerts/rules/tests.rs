//! The state machine, step by step, against what Prometheus's `AlertingRule.Eval` does.

use super::machine::*;

const M: i64 = 60_000;

fn l(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    v.sort();
    v
}

fn cand(job: &str, value: f64) -> Candidate {
    Candidate {
        labels: l(&[("alertname", "Down"), ("job", job)]),
        annotations: l(&[("summary", &format!("{job} at {value}"))]),
        value,
    }
}

fn states(set: &AlertSet) -> Vec<(String, State)> {
    set.alerts()
        .map(|a| {
            let job = a
                .labels
                .iter()
                .find(|(k, _)| k == "job")
                .map(|(_, v)| v.clone());
            (job.unwrap_or_default(), a.state)
        })
        .collect()
}

fn timing(hold_min: i64, keep_min: i64) -> Timing {
    Timing {
        hold_ms: hold_min * M,
        keep_firing_for_ms: keep_min * M,
        limit: 0,
    }
}

#[test]
fn pending_then_firing_exactly_when_for_has_elapsed() {
    let mut set = AlertSet::new();
    let t = timing(2, 0);
    for (min, want) in [
        (0, State::Pending),
        (1, State::Pending),
        (2, State::Firing),
        (3, State::Firing),
    ] {
        set.update(min * M, vec![cand("a", 0.0)], t).unwrap();
        assert_eq!(states(&set), [("a".to_string(), want)], "at {min}m");
    }
    let a = set.alerts().next().unwrap();
    assert_eq!((a.active_at_ms, a.fired_at_ms), (0, Some(2 * M)));
}

#[test]
fn for_zero_fires_at_the_first_match() {
    let mut set = AlertSet::new();
    set.update(5 * M, vec![cand("a", 1.0)], timing(0, 0))
        .unwrap();
    assert_eq!(states(&set), [("a".to_string(), State::Firing)]);
}

#[test]
fn a_pending_alert_that_stops_matching_is_forgotten() {
    let mut set = AlertSet::new();
    set.update(0, vec![cand("a", 1.0)], timing(5, 0)).unwrap();
    set.update(M, vec![], timing(5, 0)).unwrap();
    assert_eq!(set.alerts().count(), 0);
    // Back again: a new ActiveAt.
    set.update(2 * M, vec![cand("a", 1.0)], timing(5, 0))
        .unwrap();
    assert_eq!(set.alerts().next().unwrap().active_at_ms, 2 * M);
}

#[test]
fn a_firing_alert_resolves_and_is_kept_fifteen_minutes() {
    let mut set = AlertSet::new();
    let t = timing(0, 0);
    set.update(0, vec![cand("a", 1.0)], t).unwrap();
    set.update(M, vec![], t).unwrap();
    let a = set.alerts().next().unwrap();
    assert_eq!((a.state, a.resolved_at_ms), (State::Inactive, Some(M)));
    // Kept while now - ResolvedAt <= 15m, dropped after.
    set.update(16 * M, vec![], t).unwrap();
    assert_eq!(set.alerts().count(), 1);
    set.update(16 * M + 1, vec![], t).unwrap();
    assert_eq!(set.alerts().count(), 0);
}

#[test]
fn a_resolved_alert_that_matches_again_starts_pending_anew() {
    let mut set = AlertSet::new();
    let t = timing(1, 0);
    set.update(0, vec![cand("a", 1.0)], t).unwrap();
    set.update(M, vec![cand("a", 1.0)], t).unwrap();
    set.update(2 * M, vec![], t).unwrap();
    set.update(3 * M, vec![cand("a", 2.0)], t).unwrap();
    let a = set.alerts().next().unwrap();
    assert_eq!(
        (a.state, a.active_at_ms, a.resolved_at_ms),
        (State::Pending, 3 * M, None)
    );
}

#[test]
fn keep_firing_for_holds_a_firing_alert_and_resets_when_it_matches_again() {
    // promtool 2.42 agrees: m = 1 0 0 1 0 0 0 0, keep_firing_for 3m → firing through 6m.
    let mut set = AlertSet::new();
    let t = timing(0, 3);
    let m = [1, 0, 0, 1, 0, 0, 0, 0];
    let mut got = Vec::new();
    for (i, v) in m.iter().enumerate() {
        let c = if *v == 1 {
            vec![cand("a", 1.0)]
        } else {
            vec![]
        };
        set.update(i as i64 * M, c, t).unwrap();
        got.push(set.alerts().next().map(|a| a.state));
    }
    use State::*;
    assert_eq!(
        got,
        [
            Firing, Firing, Firing, Firing, Firing, Firing, Firing, Inactive
        ]
        .map(Some)
    );
    // The value and annotations stay those of the last match while kept firing.
    assert_eq!(set.alerts().next().unwrap().value, 1.0);
}

#[test]
fn the_value_and_annotations_follow_the_latest_match_but_active_at_does_not() {
    let mut set = AlertSet::new();
    set.update(0, vec![cand("a", 1.0)], timing(10, 0)).unwrap();
    set.update(M, vec![cand("a", 7.0)], timing(10, 0)).unwrap();
    let a = set.alerts().next().unwrap();
    assert_eq!((a.value, a.active_at_ms), (7.0, 0));
    assert_eq!(a.annotations, l(&[("summary", "a at 7")]));
}

#[test]
fn duplicate_label_sets_are_an_error_that_changes_nothing() {
    let mut set = AlertSet::new();
    set.update(0, vec![cand("a", 1.0)], timing(0, 0)).unwrap();
    let err = set
        .update(M, vec![cand("b", 1.0), cand("b", 2.0)], timing(0, 0))
        .unwrap_err();
    assert_eq!(err, DUPLICATE_ALERT);
    assert_eq!(states(&set), [("a".to_string(), State::Firing)]);
}

#[test]
fn exceeding_the_limit_empties_the_rule() {
    let mut set = AlertSet::new();
    let t = Timing {
        limit: 1,
        ..timing(0, 0)
    };
    set.update(0, vec![cand("a", 1.0)], t).unwrap();
    let err = set
        .update(M, vec![cand("a", 1.0), cand("b", 1.0)], t)
        .unwrap_err();
    assert_eq!(err, "exceeded limit of 1 with 2 alerts");
    assert_eq!(set.alerts().count(), 0);
}

#[test]
fn alerts_series_carry_state_and_active_at_in_seconds() {
    let mut set = AlertSet::new();
    set.update(90_500, vec![cand("a", 3.0)], timing(5, 0))
        .unwrap();
    let rule_labels = l(&[("severity", "page"), ("job", "{{ $labels.job }}")]);
    let got = set.series("Down", &rule_labels);
    assert_eq!(
        got,
        vec![
            (
                l(&[
                    ("__name__", "ALERTS"),
                    ("alertname", "Down"),
                    ("alertstate", "pending"),
                    ("job", "a"),
                    ("severity", "page")
                ]),
                1.0
            ),
            (
                l(&[
                    ("__name__", "ALERTS_FOR_STATE"),
                    ("alertname", "Down"),
                    ("job", "a"),
                    ("severity", "page")
                ]),
                90.0
            ),
        ]
    );
    // Resolved alerts write nothing (the group then marks their series stale).
    set.update(10 * M, vec![], timing(5, 0)).unwrap();
    assert!(set.series("Down", &rule_labels).is_empty());
}

mod group;
