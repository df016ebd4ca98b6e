use super::*;

fn vals(text: &str) -> Vec<f64> {
    expand(text)
        .unwrap()
        .into_iter()
        .map(|s| match s {
            Slot::Value(v) => v,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[test]
fn plain_values_and_specials() {
    assert_eq!(vals("1 2 3"), vec![1.0, 2.0, 3.0]);
    assert_eq!(vals("-1 +2 1e3 .5"), vec![-1.0, 2.0, 1000.0, 0.5]);
    let got = vals("Inf -Inf +inf");
    assert_eq!(got, vec![f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY]);
    assert!(vals("NaN")[0].is_nan());
}

#[test]
fn increments_give_n_plus_one_values() {
    assert_eq!(vals("0+10x3"), vec![0.0, 10.0, 20.0, 30.0]);
    assert_eq!(vals("10-2x2"), vec![10.0, 8.0, 6.0]);
    assert_eq!(vals("5x2"), vec![5.0, 5.0, 5.0]);
    assert_eq!(vals("-2+1x1"), vec![-2.0, -1.0]);
    assert_eq!(vals("1e1+1e0x1"), vec![10.0, 11.0]);
    assert_eq!(vals("1-1x0"), vec![1.0]);
}

#[test]
fn increments_accumulate_like_prometheus() {
    // Repeated addition, not a + i*b: 0.1+0.1+0.1 != 0.3 in floats.
    let got = vals("0.1+0.1x2");
    assert_eq!(got[2], 0.1 + 0.1 + 0.1);
}

#[test]
fn blanks_and_stale() {
    assert_eq!(
        expand("1 _ _x2 stale 2").unwrap(),
        vec![
            Slot::Value(1.0),
            Slot::Missing,
            Slot::Missing,
            Slot::Missing,
            Slot::Stale,
            Slot::Value(2.0),
        ]
    );
    assert_eq!(expand("").unwrap(), vec![]);
}

#[test]
fn bad_values_are_errors_not_panics() {
    for bad in [
        "abc",
        "1+",
        "1+1",
        "x3",
        "1x",
        "{{schema:1}}",
        "1x99999999999999",
        "--1",
    ] {
        assert!(expand(bad).is_err(), "{bad} should fail");
    }
}

#[test]
fn series_descriptions() {
    let l = parse_series(r#"http_requests{job="api", code="200"}"#).unwrap();
    assert_eq!(
        l,
        vec![
            ("__name__".to_owned(), "http_requests".to_owned()),
            ("code".to_owned(), "200".to_owned()),
            ("job".to_owned(), "api".to_owned()),
        ]
    );
    let l = parse_series(r#"{__name__="m", a="x\"y"}"#).unwrap();
    assert_eq!(
        l,
        vec![
            ("__name__".to_owned(), "m".to_owned()),
            ("a".to_owned(), "x\"y".to_owned()),
        ]
    );
    assert_eq!(
        parse_series("up").unwrap(),
        vec![("__name__".into(), "up".into())]
    );
    assert!(parse_series(r#"m{a=~"x"}"#).is_err());
    assert!(parse_series("rate(m[5m])").is_err());
    assert!(parse_series("m{").is_err());
}
