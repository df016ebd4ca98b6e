//! promtool's report shapes and Go's formatting, checked against what promtool 2.42 prints.

use std::path::PathBuf;

use super::gofmt::*;
use super::*;

#[test]
fn floats_print_as_go_formats_them_with_e() {
    assert_eq!(float_e(1.0), "1E+00");
    assert_eq!(float_e(0.1), "1E-01");
    assert_eq!(float_e(60.0), "6E+01");
    assert_eq!(float_e(1.5), "1.5E+00");
    assert_eq!(float_e(-1234.5), "-1.2345E+03");
    assert_eq!(float_e(1e-300), "1E-300");
    assert_eq!(float_e(f64::NAN), "NaN");
    assert_eq!(float_e(f64::INFINITY), "+Inf");
    assert_eq!(float_e(f64::NEG_INFINITY), "-Inf");
}

#[test]
fn durations_print_both_ways_promtool_prints_them() {
    assert_eq!(model_duration(0), "0s");
    assert_eq!(model_duration(90_000), "1m30s");
    assert_eq!(model_duration(3_600_000), "1h");
    assert_eq!(model_duration(86_400_000 * 8), "8d");
    assert_eq!(model_duration(86_400_000 * 14), "2w");
    assert_eq!(model_duration(1500), "1s500ms");
    assert_eq!(go_duration(0), "0s");
    assert_eq!(go_duration(60_000), "1m0s");
    assert_eq!(go_duration(3_600_000), "1h0m0s");
    assert_eq!(go_duration(90_500), "1m30.5s");
    assert_eq!(go_duration(250), "250ms");
}

#[test]
fn durations_parse_as_prometheus_parses_them() {
    assert_eq!(parse_model_duration("1m"), Ok(60_000));
    assert_eq!(parse_model_duration("1h30m"), Ok(5_400_000));
    assert_eq!(parse_model_duration("100ms"), Ok(100));
    assert_eq!(parse_model_duration("1m100ms"), Ok(60_100));
    assert_eq!(parse_model_duration("0"), Ok(0));
    assert_eq!(parse_model_duration("1w"), Ok(604_800_000));
    for bad in [
        "",
        "1",
        "m",
        "1m1h",
        "1.5m",
        "-1m",
        "1mm",
        "99999999999999999999y",
    ] {
        assert!(parse_model_duration(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn labels_and_strings_are_quoted_as_go_quotes_them() {
    let l = vec![
        ("a".to_string(), "x\"y".to_string()),
        ("b".to_string(), "line\nnext\\ é".to_string()),
    ];
    assert_eq!(labels(&l), r#"{a="x\"y", b="line\nnext\\ é"}"#);
    assert_eq!(labels(&[]), "{}");
    assert_eq!(quote("\u{1}"), r#""\x01""#);
}

#[test]
fn paths_join_and_glob_as_go_does() {
    assert_eq!(clean_join(std::path::Path::new("."), "r.yml"), "r.yml");
    assert_eq!(
        clean_join(std::path::Path::new("a/b"), "../r.yml"),
        "a/r.yml"
    );
    assert_eq!(clean_join(std::path::Path::new(""), "./x/./y"), "x/y");
    assert_eq!(clean("/.."), "/");
    assert!(wildcard(b"*.yml", b"rules.yml"));
    assert!(wildcard(b"r?les*", b"rules.yml"));
    assert!(!wildcard(b"*.yml", b"rules.yaml"));
    assert!(wildcard(b"*", b""));
}

fn run_text(text: &str, name: &str) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!("wf-unittest-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.yml");
    std::fs::write(&path, text).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(std::slice::from_ref(&path), Compat::V2, &mut out, &mut err);
    let _ = std::fs::remove_dir_all(&dir);
    let shown = path.display().to_string();
    let norm = |b: Vec<u8>| String::from_utf8(b).unwrap().replace(&shown, "T");
    (code, norm(out), norm(err))
}

#[test]
fn a_missing_alert_fails_with_promtools_detail_block() {
    let (code, out, err) = run_text(
        "tests:\n- interval: 1m\n  name: mine\n  alert_rule_test:\n  - eval_time: 2m\n    alertname: Down\n    exp_alerts:\n    - exp_labels: {severity: page, job: a}\n      exp_annotations: {summary: x}\n",
        "missing-alert",
    );
    assert_eq!(code, 1);
    assert_eq!(out, "Unit Testing:  T\n\n\n");
    assert_eq!(
        err,
        "  FAILED:\n    name: mine,\n    alertname: Down, time: 2m, \n        exp:[\n            0:\n              Labels:{alertname=\"Down\", job=\"a\", severity=\"page\"}\n              Annotations:{summary=\"x\"}\n            ], \n        got:[]\n"
    );
}

#[test]
fn file_level_errors_are_reported_as_promtool_reports_them() {
    let (code, out, err) = run_text("group_eval_order: [a, a]\ntests: []\n", "repeat");
    assert_eq!((code, out.as_str()), (1, "Unit Testing:  T\n\n\n"));
    assert_eq!(
        err,
        "  FAILED:\ngroup name repeated in evaluation order: a\n"
    );
    let (code, _, err) = run_text(
        "tests:\n- interval: 1m\n  alert_rule_test:\n  - eval_time: 2m\n",
        "noname",
    );
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "  FAILED:\nan item under alert_rule_test misses required attribute alertname at eval_time 2m\n"
    );
    let (code, _, err) = run_text("tests:\n- interval: 1m\n  unknown: 1\n", "unknown");
    assert_eq!(code, 1);
    assert!(err.starts_with("  FAILED:\nyaml: "), "{err}");
    let (code, out, err) = run_text("rule_files: [nothere.yml]\ntests: []\n", "nomatch");
    assert_eq!((code, out.as_str()), (0, "Unit Testing:  T\n  SUCCESS\n\n"));
    assert!(
        err.starts_with("  WARNING: no file match pattern "),
        "{err}"
    );
    assert!(err.ends_with("nothere.yml\n"), "{err}");
}

#[test]
fn a_missing_test_file_is_refused_before_anything_runs() {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(
        &[PathBuf::from("/nonexistent/t.yml")],
        Compat::V2,
        &mut out,
        &mut err,
    );
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(
        String::from_utf8(err).unwrap(),
        "error: path '/nonexistent/t.yml' does not exist, try --help\n"
    );
}

#[test]
fn a_closed_stdout_does_not_change_the_verdict() {
    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let path = std::env::temp_dir().join(format!("wf-unittest-closed-{}.yml", std::process::id()));
    std::fs::write(&path, "tests: []\n").unwrap();
    let code = run(
        std::slice::from_ref(&path),
        Compat::V2,
        &mut Closed,
        &mut Closed,
    );
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 0);
}
