use super::*;
use crate::alerts::promql::counting::Counting;
use crate::alerts::promql::{Labels, Value, parse};

fn store() -> Counting {
    let mut inner = MemStore::new();
    for (job, per_scrape) in [("a", 1.0), ("b", 5.0)] {
        let labels: Labels = vec![
            ("__name__".into(), "requests_total".into()),
            ("job".into(), job.into()),
        ];
        for i in 0..=40i64 {
            inner.add(&labels, i * 15_000, i as f64 * per_scrape);
        }
    }
    Counting::new(inner)
}

const T: i64 = 600_000;

const RULES: [&str; 6] = [
    "sum(max_over_time(requests_total[5m]))",
    "avg_over_time(requests_total[5m]) > 0.1",
    "requests_total",
    "requests_total{job=\"a\"} + on(job) requests_total",
    "rate(requests_total[1m])",
    "max_over_time(rate(requests_total[1m])[5m:1m])",
];

/// Every expression's value at `T`.
fn eval_each(engine: &Engine, q: &dyn Queryable, exprs: &[Expr]) -> Vec<Value> {
    exprs
        .iter()
        .map(|e| engine.instant(q, e, T).expect("evaluates"))
        .collect()
}

fn eval_all(q: &dyn Queryable) -> Vec<Value> {
    let engine = Engine::default();
    RULES
        .iter()
        .map(|r| {
            let e = parse(r).expect("rule parses");
            engine.instant(q, &e, T).expect("rule evaluates")
        })
        .collect()
}

/// The rules read the same selections twice (`requests_total[5m]`, `requests_total`): with the
/// cache each is selected once, and every rule's answer is what it is without the cache.
#[test]
fn shared_selections_are_read_once_and_answers_do_not_change() {
    let plain = store();
    let expected = eval_all(&plain);
    let uncached_selects = plain.selects();

    let shared = store();
    let exprs: Vec<Expr> = RULES.iter().map(|r| parse(r).expect("parses")).collect();
    let engine = Engine::default();
    let cached = Cached::new(&shared, SelectionCache::plan(&engine, &exprs, T));
    assert_eq!(
        cached.cache().sizes(),
        (2, 0),
        "two selections are read twice"
    );
    let got = eval_all(&cached);
    assert_eq!(got, expected);
    assert_eq!(
        shared.selects(),
        uncached_selects - 2,
        "each shared selection saved one read"
    );
    assert_eq!(
        cached.cache().sizes(),
        (0, 0),
        "nothing is held after the last planned read"
    );
}

/// Evaluated on one thread per core at once, the rules read each shared selection once, as
/// they do in order (a rule wanting a selection another is reading waits for it), and answer
/// the same. Run many times, so the threads meet in different orders.
#[test]
fn rules_evaluated_at_once_read_each_shared_selection_once() {
    let plain = store();
    let expected = eval_all(&plain);
    let uncached_selects = plain.selects();
    let exprs: Vec<Expr> = RULES.iter().map(|r| parse(r).expect("parses")).collect();
    let refs: Vec<&Expr> = exprs.iter().collect();
    let engine = Engine::default();
    for round in 0..20 {
        let shared = store();
        let cached = Cached::new(&shared, SelectionCache::plan(&engine, &exprs, T));
        let got: Vec<Value> = engine
            .instant_each(&cached, &refs, T, None)
            .into_iter()
            .map(|answer| answer.expect("evaluates"))
            .collect();
        assert_eq!(got, expected, "round {round}");
        assert_eq!(shared.selects(), uncached_selects - 2, "round {round}");
        assert_eq!(cached.cache().sizes(), (0, 0), "round {round}");
    }
}

/// Two rules reading the same selection, taken up at once by two workers: the selection is
/// read once, the second rule waiting for the first's read (each read takes 50 ms here, so the
/// second comes while the first reads). On a one-core machine the rules run one after the
/// other, and this shows only that the second reads the first's copy.
#[test]
fn a_selection_wanted_while_it_is_read_is_waited_for() {
    let slow = Counting::slow(store().inner, std::time::Duration::from_millis(50));
    let exprs: Vec<Expr> = ["sum(requests_total)", "max(requests_total)"]
        .iter()
        .map(|r| parse(r).expect("parses"))
        .collect();
    let refs: Vec<&Expr> = exprs.iter().collect();
    let engine = Engine::default();
    let cached = Cached::new(&slow, SelectionCache::plan(&engine, &exprs, T));
    let answers = engine.instant_each(&cached, &refs, T, None);
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert_eq!(slow.selects(), 1);
}

/// The order expressions are taken up in when evaluated at once: an expression reading what
/// the last one taken up reads (two workers) waits while a later one reads something else; with
/// one worker, or nothing to spread, the order is kept.
#[test]
fn rules_evaluated_at_once_start_on_different_selections() {
    let exprs: Vec<Expr> = [
        "sum(rate(requests_total[5m]))",
        "max(rate(requests_total[5m]))",
        "sum(up)",
        "max(up)",
        "time()",
        "sum(rate(requests_total[1m]))",
    ]
    .iter()
    .map(|r| parse(r).expect("parses"))
    .collect();
    let refs: Vec<&Expr> = exprs.iter().collect();
    let engine = Engine::default();
    assert_eq!(spread(&engine, &refs, T, 2), [0, 2, 1, 3, 4, 5]);
    assert_eq!(spread(&engine, &refs, T, 3), [0, 2, 4, 1, 3, 5]);
    assert_eq!(spread(&engine, &refs, T, 1), [0, 1, 2, 3, 4, 5]);
    assert!(spread(&engine, &[], T, 2).is_empty());
}

/// A selection read once is never held, and a selector inside a subquery (read at other
/// times) is not planned at all.
#[test]
fn one_off_and_subquery_selections_are_not_kept() {
    let q = store();
    let engine = Engine::default();
    let exprs: Vec<Expr> = [
        "sum(increase(requests_total[1h]))",
        "max_over_time(requests_total[5m:1m])",
        "max_over_time(requests_total[5m:1m])",
    ]
    .iter()
    .map(|r| parse(r).expect("parses"))
    .collect();
    let cached = Cached::new(&q, SelectionCache::plan(&engine, &exprs, T));
    assert_eq!(cached.cache().sizes(), (0, 0));
    let got: Vec<Value> = eval_each(&engine, &cached, &exprs);
    let plain: Vec<Value> = eval_each(&engine, &q, &exprs);
    assert_eq!(got, plain);
}

/// The window is part of what is shared: the same selector under `offset` or evaluated at
/// another time is another selection.
#[test]
fn the_window_is_part_of_the_key() {
    let q = store();
    let engine = Engine::default();
    let exprs: Vec<Expr> = ["requests_total[5m]", "requests_total[5m] offset 1m"]
        .iter()
        .map(|r| parse(r).expect("parses"))
        .collect();
    let cached = Cached::new(&q, SelectionCache::plan(&engine, &exprs, T));
    assert_eq!(cached.cache().sizes(), (0, 0));
    let shifted = engine.instant(&cached, &exprs[1], T).expect("evaluates");
    let plain = engine.instant(&q, &exprs[1], T).expect("evaluates");
    assert_eq!(shifted, plain);
    let Value::Matrix(m) = shifted else {
        panic!("a range selector gives a matrix")
    };
    assert!(
        m.iter()
            .all(|s| s.samples.iter().all(|&(t, _)| t <= T - 60_000))
    );
}

/// A shared selection bigger than what the cache may hold is read again instead of held: the
/// same answers, one more read.
#[test]
fn a_selection_over_the_budget_is_read_again() {
    let q = store();
    let engine = Engine::default();
    let exprs: Vec<Expr> = [
        "sum(max_over_time(requests_total[5m]))",
        "avg_over_time(requests_total[5m]) > 0",
    ]
    .iter()
    .map(|r| parse(r).expect("parses"))
    .collect();
    let mut cache = SelectionCache::plan(&engine, &exprs, T);
    // Two series of 21 samples in the inclusive window the store is asked for: 42 samples.
    cache.budget = 41;
    let cached = Cached::new(&q, cache);
    let got: Vec<Value> = eval_each(&engine, &cached, &exprs);
    assert_eq!(q.selects(), 2, "read twice: not held");
    assert_eq!(cached.cache().sizes(), (0, 0));
    let plain: Vec<Value> = eval_each(&engine, &q, &exprs);
    assert_eq!(got, plain);

    let q = store();
    let mut cache = SelectionCache::plan(&engine, &exprs, T);
    cache.budget = 42;
    let cached = Cached::new(&q, cache);
    for e in &exprs {
        engine.instant(&cached, e, T).expect("evaluates");
    }
    assert_eq!(q.selects(), 1, "held within the budget");
}

/// The counter functions' windows are shared too: `rate` and `increase` read the same windows
/// (the drops' values listed), `changes` and `resets` the same ones without them, so each pair
/// reads its selection once; the same selector in the other kind of read is another selection.
#[test]
fn counter_windows_are_shared_by_kind_of_read() {
    let engine = Engine::default();
    let rules = [
        "rate(requests_total[5m])",
        "sum(increase(requests_total[5m]))",
        "changes(requests_total[5m]) + resets(requests_total[5m])",
        "increase(requests_total[1h])",
    ];
    let exprs: Vec<Expr> = rules.iter().map(|r| parse(r).expect("parses")).collect();
    let q = store();
    let cached = Cached::new(&q, SelectionCache::plan(&engine, &exprs, T));
    assert_eq!(
        cached.cache().sizes(),
        (2, 0),
        "two counter selections are read twice"
    );
    let got: Vec<Value> = eval_each(&engine, &cached, &exprs);
    assert_eq!(q.selects(), 3, "five reads of three selections");
    assert_eq!(cached.cache().sizes(), (0, 0));
    let plain: Vec<Value> = eval_each(&engine, &store(), &exprs);
    assert_eq!(got, plain);
}
