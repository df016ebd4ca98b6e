//! Template tests. The table in `oracle.rs` is what promtool 2.42 expanded: rule files whose
//! annotations hold each template, and unit tests whose `exp_alerts` are deliberately empty, so
//! promtool's failure output shows every annotation as Prometheus expanded it ("got:"). The live
//! test below re-runs that oracle against the installed promtool.

use super::oracle::ORACLE;
use super::*;

fn labels() -> Vec<(String, String)> {
    [
        ("__name__", "v"),
        ("instance", "host-a.example:9100"),
        ("job", "node"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn value_of(text: &str) -> f64 {
    match text {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        t => t.parse().expect("oracle value"),
    }
}

fn run(template: &str, value: f64, case: &str) -> String {
    let mut labels = labels();
    labels.push(("case".into(), case.into()));
    let external = vec![("env".to_string(), "prod".to_string())];
    let data = TemplateData {
        labels: &labels,
        external_labels: &external,
        external_url: "http://prom.example:9090/sub",
        value,
    };
    expand("T", template, &data)
}

/// The cases' `case` label as the oracle numbered them (the value's position in its run).
fn case_label(template: &str, value: &str) -> String {
    let values: Vec<&str> = ORACLE
        .iter()
        .filter(|(t, _, _)| *t == template)
        .map(|(_, v, _)| *v)
        .collect();
    let single = values.len() == 1;
    let mut all: Vec<&str> = Vec::new();
    for (_, v, _) in ORACLE {
        if !all.contains(v) {
            all.push(v);
        }
    }
    if single {
        return "000".into();
    }
    format!("{:03}", all.iter().position(|v| *v == value).unwrap_or(0))
}

#[test]
fn every_oracle_case_expands_as_prometheus_does() {
    let mut failures = Vec::new();
    for (template, value, want) in ORACLE {
        let got = run(template, value_of(value), &case_label(template, value));
        if got != *want {
            failures.push(format!(
                "{template} @ {value}\n   want {want:?}\n   got  {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        ORACLE.len(),
        failures.join("\n")
    );
}

#[test]
fn go_number_formatting() {
    use gofmt::fmt_v;
    assert_eq!(fmt_v(1e6), "1e+06");
    assert_eq!(fmt_v(123456.0), "123456");
    assert_eq!(fmt_v(1234567.0), "1.234567e+06");
    assert_eq!(fmt_v(0.0001), "0.0001");
    assert_eq!(fmt_v(0.00001), "1e-05");
    assert_eq!(fmt_v(-2.5), "-2.5");
    assert_eq!(fmt_v(f64::INFINITY), "+Inf");
    assert_eq!(fmt_v(1e100), "1e+100");
}

#[test]
fn parse_errors_are_gos() {
    let cases = [
        ("{{ }}", "template: __alert_A:1: missing value for command"),
        ("{{ end }}", "template: __alert_A:1: unexpected {{end}}"),
        ("{{ if 1 }}", "template: __alert_A:1: unexpected EOF"),
        ("{{ else }}", "template: __alert_A:1: unexpected {{else}}"),
        (
            "{{ \"abc }}",
            "template: __alert_A:1: unterminated quoted string",
        ),
        (
            "{{ $x := }}",
            "template: __alert_A:1: missing value for command",
        ),
        ("{{ ( }}", "template: __alert_A:1: unclosed left paren"),
        (
            "{{ .a | 3 }}",
            "template: __alert_A:1: non executable command in pipeline stage 2",
        ),
        (
            "{{ x.y }}",
            "template: __alert_A:1: function \"x\" not defined",
        ),
        (
            "{{ 3.x }}",
            "template: __alert_A:1: bad number syntax: \"3.x\"",
        ),
        (
            "{{ if }}{{ end }}",
            "template: __alert_A:1: missing value for if",
        ),
        (
            "{{ range }}{{end}}",
            "template: __alert_A:1: missing value for range",
        ),
        ("{{/* c }}", "template: __alert_A:1: unclosed comment"),
        (
            "{{ $foo }}",
            "template: __alert_A:1: undefined variable \"$foo\"",
        ),
        ("{{ .Foo ", "template: __alert_A:1: unclosed action"),
        (
            "a\n{{ with $x := 1 }}{{ $x }}{{ end }}{{ $x }}",
            "template: __alert_A:2: undefined variable \"$x\"",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(check_alert("A", text), Err(want.to_string()), "{text}");
    }
    for ok in [
        "{{ nil }}",
        "{{ 1 2 }}",
        "{{- 3 -}}",
        "{{-3}}",
        "{{ printf }}",
        "{{/* c */}}",
        "plain",
    ] {
        assert_eq!(check_alert("A", ok), Ok(()), "{ok}");
    }
}

#[test]
fn hostile_templates_end_quickly_with_an_error() {
    let deep = "{{ if 1 }}".repeat(10_000);
    assert!(check(&deep).is_err());
    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(check(&parens).is_err());
    let spaces = format!("{{{{{}}}}}", " ".repeat(200_000));
    assert!(check(&spaces).is_err());
}
