use super::*;
use crate::alerts::promql::counting::Counting;
use crate::alerts::promql::{Engine, Labels, MemStore, Value, parse};

fn store() -> Counting {
    let mut inner = MemStore::new();
    for (job, pod, per_scrape) in [("a", "1", 1.0), ("a", "2", 2.0), ("b", "3", 5.0)] {
        let labels: Labels = vec![
            ("__name__".into(), "x_total".into()),
            ("job".into(), job.into()),
            ("pod".into(), pod.into()),
        ];
        for i in 0..=40i64 {
            // Accelerating counters: a rate differs from one instant to the next.
            inner.add(&labels, i * 15_000, (i * i) as f64 * per_scrape);
        }
    }
    Counting::new(inner)
}

const T: i64 = 600_000;

fn exprs(rules: &[&str]) -> Vec<Expr> {
    rules
        .iter()
        .map(|r| parse(r).expect("rule parses"))
        .collect()
}

fn nothing_written(_: &str) -> bool {
    false
}

/// Each rule's value evaluated on its own.
fn each_alone(engine: &Engine, q: &Counting, rules: &[Expr]) -> Vec<Value> {
    rules
        .iter()
        .map(|e| engine.instant(q, e, T).expect("evaluates"))
        .collect()
}

/// An aggregate three rules repeat is evaluated (and its series selected) once; every rule's
/// answer is what it is evaluated alone.
#[test]
fn a_repeated_subexpression_is_evaluated_once() {
    let rules = exprs(&[
        "sum by (job) (rate(x_total[5m]))",
        "sum by (job) (rate(x_total[5m])) > 0.1",
        "sum by (job) (rate(x_total[5m])) / on (job) count by (job) (x_total)",
    ]);
    let engine = Engine::default();
    let plain = store();
    let expected = each_alone(&engine, &plain, &rules);

    let q = store();
    let shared = ExprCache::plan(&rules, T, &nothing_written);
    assert_eq!(shared.sizes(), (1, 0));
    let got: Vec<Value> = rules
        .iter()
        .map(|e| {
            engine
                .instant_with(&q, e, T, Some(&shared))
                .expect("evaluates")
        })
        .collect();
    assert_eq!(got, expected);
    assert_eq!(plain.selects(), 4);
    assert_eq!(q.selects(), 2, "x_total[5m] once, x_total once");
    assert_eq!(shared.sizes(), (0, 0), "nothing held after the last read");
}

/// Evaluated on one thread per core at once, the rules still evaluate the repeated aggregate
/// once: a rule reaching it while another evaluates it waits for that value instead of
/// evaluating it again. Run many times, so the threads meet in different orders.
#[test]
fn rules_evaluated_at_once_still_evaluate_a_repeated_subexpression_once() {
    let rules = exprs(&[
        "sum by (job) (rate(x_total[5m]))",
        "sum by (job) (rate(x_total[5m])) > 0.1",
        "sum by (job) (rate(x_total[5m])) / on (job) count by (job) (x_total)",
        "sum by (job) (rate(x_total[5m])) * 2",
    ]);
    let refs: Vec<&Expr> = rules.iter().collect();
    let engine = Engine::default();
    let plain = store();
    let expected = each_alone(&engine, &plain, &rules);
    for round in 0..20 {
        let q = store();
        let shared = ExprCache::plan(&rules, T, &nothing_written);
        let got: Vec<Value> = engine
            .instant_each(&q, &refs, T, Some(&shared))
            .into_iter()
            .map(|answer| answer.expect("evaluates"))
            .collect();
        assert_eq!(got, expected, "round {round}");
        assert_eq!(
            q.selects(),
            2,
            "round {round}: x_total[5m] once, x_total once"
        );
        assert_eq!(shared.sizes(), (0, 0), "round {round}: nothing held after");
    }
}

/// Inside the later copies of a shared subexpression nothing is evaluated, so its parts are
/// not planned for sharing on their own account.
#[test]
fn parts_of_a_shared_subexpression_are_not_shared_again() {
    let rules = exprs(&["sum(rate(x_total[5m]))", "sum(rate(x_total[5m])) > 1"]);
    assert_eq!(ExprCache::plan(&rules, T, &nothing_written).sizes(), (1, 0));
    let rules = exprs(&["sum(rate(x_total[5m]))", "rate(x_total[5m]) > 1"]);
    assert_eq!(
        ExprCache::plan(&rules, T, &nothing_written).sizes(),
        (1, 0),
        "rate(x_total[5m]) is read by both"
    );
}

/// What the group writes (a recording rule's series, ALERTS) changes between its rules: a
/// subexpression reading it, or reading a metric not named by `__name__=`, is never shared.
#[test]
fn subexpressions_reading_written_or_unnamed_series_are_not_shared() {
    let written = |name: &str| name == "job:x:rate5m";
    let rules = exprs(&["sum(job:x:rate5m)", "sum(job:x:rate5m) > 0"]);
    assert_eq!(ExprCache::plan(&rules, T, &written).sizes(), (0, 0));
    let rules = exprs(&["sum({__name__=~\"x_.*\"})", "sum({__name__=~\"x_.*\"}) > 0"]);
    assert_eq!(ExprCache::plan(&rules, T, &nothing_written).sizes(), (0, 0));
}

/// The cache answers only at its own instant: the same expression at another time is
/// evaluated afresh.
#[test]
fn another_instant_is_evaluated_afresh() {
    let rules = exprs(&["sum(rate(x_total[5m]))", "sum(rate(x_total[5m]))"]);
    let engine = Engine::default();
    let q = store();
    let shared = ExprCache::plan(&rules, T, &nothing_written);
    let now = engine
        .instant_with(&q, &rules[0], T, Some(&shared))
        .expect("evaluates");
    let earlier = engine
        .instant_with(&q, &rules[1], T - 120_000, Some(&shared))
        .expect("evaluates");
    assert_eq!(
        earlier,
        engine
            .instant(&q, &rules[1], T - 120_000)
            .expect("evaluates")
    );
    let (Value::Vector(now), Value::Vector(earlier)) = (now, earlier) else {
        panic!("sum gives a vector");
    };
    assert_ne!(now[0].v, earlier[0].v);
}
