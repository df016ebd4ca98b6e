use super::parse::{self, Problem};
use super::*;
use crate::config::endpoints::{PrometheusCompat, SecretSource};

#[test]
fn instant_vectors_keep_labels_and_read_special_values() {
    let body = br#"{"status":"success","data":{"resultType":"vector","result":[
        {"metric":{"__name__":"up","job":"pods","instance":"web-1:9090"},"value":[1700000000.123,"1"]},
        {"metric":{"job":"x"},"value":[1700000000,"NaN"]},
        {"metric":{"job":"y"},"value":[1700000000,"+Inf"]},
        {"metric":{"job":"z"},"value":[1700000000,"-Inf"]},
        {"metric":{"job":"h"},"histogram":[1700000000,{"count":"1"}]}
    ]},"warnings":["partial"]}"#;
    let (series, warnings) = parse::instant(body).unwrap();
    assert_eq!(warnings, ["partial"]);
    assert_eq!(series.len(), 4, "the native histogram sample is skipped");
    assert_eq!(
        series[0].0,
        vec![
            ("__name__".to_string(), "up".to_string()),
            ("instance".to_string(), "web-1:9090".to_string()),
            ("job".to_string(), "pods".to_string()),
        ]
    );
    assert_eq!(series[0].1, (1_700_000_000_123, 1.0));
    assert!(series[1].1.1.is_nan());
    assert_eq!(series[2].1.1, f64::INFINITY);
    assert_eq!(series[3].1.1, f64::NEG_INFINITY);
}

#[test]
fn scalars_and_matrices() {
    let (s, _) = parse::instant(
        br#"{"status":"success","data":{"resultType":"scalar","result":[12.5,"0.25"]}}"#,
    )
    .unwrap();
    assert_eq!(s, vec![(vec![], (12_500, 0.25))]);
    let (m, _) = parse::range(
        br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"pod":"a"},"values":[[10,"1"],[25,"2.5"],[40,"NaN"]]}]}}"#,
    )
    .unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].0, vec![("pod".to_string(), "a".to_string())]);
    assert_eq!(&m[0].1[..2], &[(10_000, 1.0), (25_000, 2.5)]);
    assert!(m[0].1[2].1.is_nan());
}

#[test]
fn errors_and_odd_answers_are_problems_not_panics() {
    let err =
        br#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected"}"#;
    assert_eq!(
        parse::instant(err).unwrap_err(),
        Problem::Api {
            error_type: "bad_data".into(),
            error: "1:5: parse error: unexpected".into()
        }
    );
    assert!(parse::api_error(err).is_some());
    assert!(parse::api_error(b"<html>401</html>").is_none());
    for bad in [
        &b""[..],
        b"null",
        b"[]",
        b"{\"status\":\"success\"}",
        br#"{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"abc"]}]}}"#,
        br#"{"status":"success","data":{"resultType":"vector","result":{"x":1}}}"#,
        br#"{"status":"success","data":{"resultType":"scalar","result":[1]}}"#,
    ] {
        assert!(
            parse::instant(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    assert!(matches!(
        parse::instant(br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#),
        Err(Problem::Unexpected(_))
    ));
    assert!(matches!(
        parse::range(br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#),
        Err(Problem::Unexpected(_))
    ));
}

fn config(auth: Auth) -> PrometheusConfig {
    PrometheusConfig {
        environment: "prod".into(),
        url: "http://admin:hunter2@prom.example:9090/prometheus"
            .parse()
            .unwrap(),
        auth,
        compat: PrometheusCompat::V3,
    }
}

fn http() -> reqwest::Client {
    crate::metrics::scrape::http_client().unwrap()
}

#[test]
fn debug_and_errors_never_show_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cr3t-t0ken\n").unwrap();
    let client = PromClient::new(
        &config(Auth::Bearer(SecretSource::File(token.clone()))),
        http(),
    )
    .unwrap();
    let debug = format!("{client:?}");
    assert!(!debug.contains("s3cr3t"), "{debug}");
    assert!(
        !debug.contains("hunter2"),
        "the URL's password is not shown: {debug}"
    );
    assert!(debug.contains("bearer token from file"), "{debug}");
    let err = client.error(RemoteErrorKind::Denied {
        code: "401 Unauthorized".into(),
        hint: client.denied_hint(),
    });
    let text = err.to_string();
    assert!(
        text.starts_with("prometheus.prod: 401 Unauthorized — check the bearer token in the file"),
        "{text}"
    );
    assert!(!text.contains("s3cr3t"));
    let basic = PromClient::new(
        &config(Auth::Basic {
            username: "ops".into(),
            password: SecretSource::File(token.clone()),
        }),
        http(),
    )
    .unwrap();
    assert!(!format!("{basic:?}").contains("s3cr3t"));
    assert!(basic.denied_hint().contains("basic_auth user ops"));
}

#[test]
fn missing_credentials_show_at_new() {
    let e = PromClient::new(
        &config(Auth::Bearer(SecretSource::Env(
            "WATCHFLOOR_TEST_SURELY_UNSET_TOKEN".into(),
        ))),
        http(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        "prometheus.prod: environment variable WATCHFLOOR_TEST_SURELY_UNSET_TOKEN is not set"
    );
}

#[test]
fn the_base_url_keeps_its_path_prefix() {
    let client = PromClient::new(&config(Auth::None), http()).unwrap();
    assert_eq!(
        client.base.join("api/v1/query").unwrap().path(),
        "/prometheus/api/v1/query"
    );
    assert_eq!(
        seconds("2026-01-01T00:00:00.250Z".parse().unwrap()),
        "1767225600.250"
    );
}
