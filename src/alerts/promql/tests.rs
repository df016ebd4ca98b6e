use super::*;
use crate::metrics::store::STALE_NAN_BITS;

fn l(pairs: &[(&str, &str)]) -> Labels {
    let mut v: Labels = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    v.sort();
    v
}

/// `http_requests_total` for two jobs, one sample a minute from 0 to 10m.
fn store() -> MemStore {
    let mut m = MemStore::new();
    for i in 0..=10i64 {
        let t = i * 60_000;
        m.add(
            &l(&[("__name__", "req_total"), ("job", "api")]),
            t,
            i as f64 * 60.0,
        );
        m.add(
            &l(&[("__name__", "req_total"), ("job", "web")]),
            t,
            i as f64 * 120.0,
        );
        m.add(&l(&[("__name__", "up"), ("job", "api")]), t, 1.0);
    }
    m
}

fn eval(m: &MemStore, q: &str, t: i64) -> Result<Value, EvalError> {
    Engine::default().instant(m, &parse(q)?, t)
}

fn vector(m: &MemStore, q: &str, t: i64) -> Vec<(Labels, f64)> {
    match eval(m, q, t) {
        Ok(Value::Vector(v)) => {
            let mut out: Vec<(Labels, f64)> = v.into_iter().map(|s| (s.labels, s.v)).collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        }
        other => panic!("{q}: {other:?}"),
    }
}

#[test]
fn rate_drops_the_name_and_sum_by_groups() {
    let m = store();
    assert_eq!(
        vector(&m, "rate(req_total[5m])", 600_000),
        vec![(l(&[("job", "api")]), 1.0), (l(&[("job", "web")]), 2.0)]
    );
    assert_eq!(
        vector(&m, "sum(rate(req_total[5m]))", 600_000),
        vec![(vec![], 3.0)]
    );
}

#[test]
fn ratio_comparison_keeps_only_matching_series() {
    let m = store();
    let got = vector(
        &m,
        "rate(req_total[5m]) / on(job) group_left sum by (job) (rate(req_total[5m])) > 0.5",
        600_000,
    );
    assert_eq!(
        got,
        vec![(l(&[("job", "api")]), 1.0), (l(&[("job", "web")]), 1.0)]
    );
    let filtered = vector(&m, "req_total > 700", 600_000);
    assert_eq!(
        filtered,
        vec![(l(&[("__name__", "req_total"), ("job", "web")]), 1200.0)]
    );
}

#[test]
fn lookback_and_staleness() {
    let mut m = store();
    // Five minutes after the last sample the series is gone (3.x: window left-open).
    assert_eq!(vector(&m, "up", 600_000 + 299_999).len(), 1);
    assert!(vector(&m, "up", 900_000).is_empty());
    // A staleness marker ends it at once.
    m.add(
        &l(&[("__name__", "up"), ("job", "api")]),
        630_000,
        f64::from_bits(STALE_NAN_BITS),
    );
    assert!(vector(&m, "up", 640_000).is_empty());
}

#[test]
fn v2_windows_include_the_start_and_v3_do_not() {
    let mut m = MemStore::new();
    let s = l(&[("__name__", "g")]);
    m.add(&s, 0, 1.0);
    m.add(&s, 60_000, 2.0);
    let q = parse("count_over_time(g[1m])").unwrap();
    let v3 = Engine::default().instant(&m, &q, 60_000).unwrap();
    let v2 = Engine {
        compat: Compat::V2,
        ..Engine::default()
    }
    .instant(&m, &q, 60_000)
    .unwrap();
    assert!(
        matches!(v3, Value::Vector(ref v) if v[0].v == 1.0),
        "{v3:?}"
    );
    assert!(
        matches!(v2, Value::Vector(ref v) if v[0].v == 2.0),
        "{v2:?}"
    );
}

#[test]
fn regex_dot_matches_newline_only_in_v3() {
    let mut m = MemStore::new();
    m.add(&l(&[("__name__", "x"), ("msg", "a\nb")]), 0, 1.0);
    let q = parse(r#"x{msg=~"a.b"}"#).unwrap();
    let v3 = Engine::default().instant(&m, &q, 0).unwrap();
    let v2 = Engine {
        compat: Compat::V2,
        ..Engine::default()
    }
    .instant(&m, &q, 0)
    .unwrap();
    assert!(matches!(v3, Value::Vector(ref v) if v.len() == 1));
    assert!(matches!(v2, Value::Vector(ref v) if v.is_empty()));
}

#[test]
fn offset_negative_offset_and_at() {
    let m = store();
    assert_eq!(vector(&m, "up offset 5m", 600_000).len(), 1);
    assert_eq!(
        vector(&m, "req_total{job=\"api\"} offset 5m", 600_000)[0].1,
        300.0
    );
    assert_eq!(
        vector(&m, "req_total{job=\"api\"} offset -5m", 300_000)[0].1,
        600.0
    );
    assert_eq!(
        vector(&m, "req_total{job=\"api\"} @ 120", 600_000)[0].1,
        120.0
    );
}

#[test]
fn absent_takes_labels_from_equality_matchers() {
    let m = store();
    assert_eq!(
        vector(&m, r#"absent(nope{job="x", env=~"p.*"})"#, 0),
        vec![(l(&[("job", "x")]), 1.0)]
    );
    assert!(vector(&m, "absent(up)", 0).is_empty());
}

#[test]
fn many_to_many_matching_is_an_error_in_prometheus_words() {
    let m = store();
    let err = eval(&m, "req_total + on() up", 0).unwrap_err();
    assert_eq!(
        err,
        EvalError::Runtime(
            "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into()
        )
    );
    let err = eval(&m, "up + on() req_total", 0).unwrap_err().to_string();
    assert!(
        err.starts_with("found duplicate series for the match group {} on the right hand-side"),
        "{err}"
    );
}

/// Vector matching pairs elements by their signature's text wherever the strings live (the
/// store's, or made by the expression), and its errors name the signature and the series.
#[test]
fn vector_matching_pairs_signatures_by_their_text() {
    let m = store();
    let t = 600_000;
    // label_replace makes the left side's job strings its own; the right's are the store's.
    let own_up = r#"label_replace(up, "job", "$1", "job", "(.*)")"#;
    assert_eq!(
        vector(&m, &format!("{own_up} * on (job) group_left req_total"), t),
        vec![(l(&[("job", "api")]), 600.0)]
    );
    assert_eq!(
        vector(&m, &format!("req_total / ignoring (x) {own_up}"), t),
        vec![(l(&[("job", "api")]), 600.0)]
    );
    assert_eq!(
        vector(&m, &format!("req_total and on (job) {own_up}"), t),
        vec![(l(&[("__name__", "req_total"), ("job", "api")]), 600.0)]
    );
    assert_eq!(
        vector(&m, &format!("req_total unless on (job) {own_up}"), t),
        vec![(l(&[("__name__", "req_total"), ("job", "web")]), 1200.0)]
    );
    assert_eq!(
        vector(&m, &format!("{own_up} or on (job) req_total"), t),
        vec![
            (l(&[("__name__", "req_total"), ("job", "web")]), 1200.0),
            (l(&[("__name__", "up"), ("job", "api")]), 1.0),
        ]
    );

    let prod = r#"label_replace(req_total, "env", "prod", "", "")"#;
    let err = eval(&m, &format!("up + on (env) {prod}"), t)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "found duplicate series for the match group {env=\"prod\"} on the right hand-side of the \
         operation: [req_total{env=\"prod\", job=\"api\"}, \
         req_total{env=\"prod\", job=\"web\"}];many-to-many matching not \
         allowed: matching labels must be unique on one side"
    );
    let same = r#"label_replace(req_total, "job", "x", "", "")"#;
    let err = eval(&m, &format!("{same} * on () group_left up"), t).unwrap_err();
    assert_eq!(
        err,
        EvalError::Runtime(
            "multiple matches for labels: grouping labels must ensure unique matches".into()
        )
    );
}

#[test]
fn histogram_quantile_over_classic_buckets() {
    let mut m = MemStore::new();
    for (le, count) in [("0.1", 50.0), ("1", 90.0), ("+Inf", 100.0)] {
        m.add(
            &l(&[("__name__", "lat_bucket"), ("le", le), ("job", "a")]),
            0,
            count,
        );
    }
    let got = vector(&m, "histogram_quantile(0.5, lat_bucket)", 0);
    assert_eq!(got, vec![(l(&[("job", "a")]), 0.1)]);
}

#[test]
fn unsupported_features_are_reported_not_guessed() {
    let m = store();
    for q in ["histogram_count(up)", "limit_ratio(0.5, up)", "info(up)"] {
        let e = parse(q).unwrap();
        assert!(
            matches!(check_supported(&e), Err(EvalError::Unsupported(_))),
            "{q}"
        );
        assert!(
            matches!(
                Engine::default().instant(&m, &e, 0),
                Err(EvalError::Unsupported(_))
            ),
            "{q}"
        );
    }
    assert_eq!(check_supported(&parse("rate(up[5m]) > 1").unwrap()), Ok(()));
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(matches!(parse(&deep), Err(EvalError::Parse(_))));
    let chain = format!("up{}", " + up".repeat(100_000));
    assert!(matches!(parse(&chain), Err(EvalError::Parse(_))));
    // Within the operator budget but deeper than the evaluator goes: refused, not a crash.
    let minus = format!("{}up", "-".repeat(1_000));
    let e = parse(&minus).unwrap();
    assert!(matches!(
        Engine::default().instant(&store(), &e, 0),
        Err(EvalError::Unsupported(_))
    ));
}

#[test]
fn range_query_steps_and_scalars() {
    let m = store();
    let e = parse("sum(req_total)").unwrap();
    let Value::Matrix(got) = Engine::default().range(&m, &e, 0, 120_000, 60_000).unwrap() else {
        panic!("not a matrix");
    };
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].samples,
        vec![(0, 0.0), (60_000, 180.0), (120_000, 360.0)]
    );
    let e = parse("req_total[5m]").unwrap();
    assert!(Engine::default().range(&m, &e, 0, 60_000, 60_000).is_err());
}

#[test]
fn delayed_name_removal_lets_label_replace_read_the_name() {
    let m = store();
    let got = vector(
        &m,
        r#"label_replace(rate(req_total{job="api"}[5m]), "src", "$1", "__name__", "(.*)")"#,
        600_000,
    );
    assert_eq!(got, vec![(l(&[("job", "api"), ("src", "req_total")]), 1.0)]);
}

#[test]
fn the_console_store_is_queryable() {
    use crate::metrics::store::{Incoming, Store, StoreConfig};
    let mut s = Store::new(StoreConfig::default());
    let target = s.target("pod-a");
    for i in 0..5i64 {
        s.ingest(
            target,
            i * 15_000,
            [Incoming {
                name: "req_total",
                labels: &[("job", "api")],
                value: i as f64 * 15.0,
                timestamp_ms: None,
            }],
        );
    }
    let e = parse("rate(req_total[1m])").unwrap();
    let Value::Vector(v) = Engine::default().instant(&s, &e, 60_000).unwrap() else {
        panic!("not a vector");
    };
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].labels, l(&[("job", "api")]));
    assert!((v[0].v - 1.0).abs() < 1e-9, "{}", v[0].v);
}

#[test]
fn v2_rate_limits_extrapolation_by_the_zero_point_first() {
    // promqltest's testcounter_zero_cutoff_total{start="3m"} (180+240x10 every 4m) at 10m over
    // [20m]: 0.6 in 3.x; 2.x extrapolates to the zero point, 0.65.
    let mut m = MemStore::new();
    let s = l(&[("__name__", "c_total")]);
    for i in 0..=10i64 {
        m.add(&s, i * 240_000, 180.0 + i as f64 * 240.0);
    }
    let q = parse("rate(c_total[20m])").unwrap();
    let got = |engine: Engine| match engine.instant(&m, &q, 600_000).unwrap() {
        Value::Vector(v) => v[0].v,
        other => panic!("{other:?}"),
    };
    let v3 = got(Engine::default());
    let v2 = got(Engine {
        compat: Compat::V2,
        ..Engine::default()
    });
    assert!((v3 - 0.6).abs() < 1e-9, "3.x {v3}");
    assert!((v2 - 0.65).abs() < 1e-9, "2.x {v2}");
}

#[test]
fn a_huge_duration_is_a_parse_error_not_a_panic() {
    // Found by the promql_expr fuzz target: the parser panicked converting the duration.
    let text = "increase(x[00000000000000006800007039955140067323m])";
    assert!(matches!(parse(text), Err(EvalError::Parse(_))));
    assert!(parse("rate(x[5m]) > 1e300").is_ok());
}
