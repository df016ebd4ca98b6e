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
    let uncached_selects = plain.selects.get();

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
        shared.selects.get(),
        uncached_selects - 2,
        "each shared selection saved one read"
    );
    assert_eq!(
        cached.cache().sizes(),
        (0, 0),
        "nothing is held after the last planned read"
    );
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
    assert_eq!(q.selects.get(), 2, "read twice: not held");
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
    assert_eq!(q.selects.get(), 1, "held within the budget");
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
    assert_eq!(q.selects.get(), 3, "five reads of three selections");
    assert_eq!(cached.cache().sizes(), (0, 0));
    let plain: Vec<Value> = eval_each(&engine, &store(), &exprs);
    assert_eq!(got, plain);
}
