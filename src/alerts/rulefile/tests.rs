//! Rule-file tests: what a valid file becomes, and promtool's exact words and positions for the
//! mistakes people make. (The whole-corpus comparison with promtool itself is in
//! tests/integration/rules_check.rs.)

use std::time::Duration;

use super::*;

fn messages(text: &str) -> Vec<String> {
    parse("r.yml", text)
        .expect_err("the file is refused")
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_valid_file_becomes_typed_groups_in_file_order() {
    let text = "groups:\n  - name: node\n    interval: 30s\n    limit: 10\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n        labels: {z: '1', a: '2'}\n      - alert: Down\n        expr: up == 0\n        for: 5m\n        keep_firing_for: 1m\n        labels:\n          severity: page\n        annotations:\n          summary: '{{ $labels.instance }} is down'\n          runbook: x\n  - name: other\n    rules: []\n";
    let file = parse("r.yml", text).expect("valid");
    assert_eq!(file.groups.len(), 2);
    let g = &file.groups[0];
    assert_eq!(
        (g.name.as_str(), g.interval, g.limit, g.line),
        ("node", Some(Duration::from_secs(30)), 10, 2)
    );
    assert_eq!(
        file.groups[1].interval, None,
        "no interval: the global one applies"
    );
    let record = &g.rules[0];
    assert_eq!(
        record.kind,
        RuleKind::Record {
            name: "job:up:sum".into()
        }
    );
    assert_eq!(record.line, 6);
    let keys: Vec<&str> = record.labels.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["z", "a"], "labels keep the file's order");
    let RuleKind::Alert {
        name,
        for_,
        keep_firing_for,
        annotations,
    } = &g.rules[1].kind
    else {
        panic!("an alert");
    };
    assert_eq!(
        (name.as_str(), *for_, *keep_firing_for),
        ("Down", Duration::from_secs(300), Duration::from_secs(60))
    );
    assert_eq!(
        annotations[0],
        (
            "summary".to_string(),
            "{{ $labels.instance }} is down".to_string()
        )
    );
    assert_eq!(g.rules[1].name(), "Down");
    assert_eq!(g.rules[1].expr, "up == 0");
}

#[test]
fn empty_and_comment_only_files_have_no_groups() {
    assert!(parse("r.yml", "").expect("empty is fine").groups.is_empty());
    assert!(
        parse("r.yml", "# nothing\n")
            .expect("comments are fine")
            .groups
            .is_empty()
    );
}

#[test]
fn rule_problems_carry_promtools_positions_and_words() {
    let text = "groups:\n  - name: g\n    rules:\n      - record: a\n        alert: b\n        expr: up\n      - expr: up\n      - record: \"bad name\"\n        expr: up\n      - record: r\n        expr: up\n        for: 5m\n        annotations:\n          a: b\n      - alert: T\n        expr: up\n        labels:\n          \"0bad\": x\n        annotations:\n          s: \"{{ .Foo \"\n      - alert: E\n        expr:\n  - name: \"\"\n    rules: []\n";
    assert_eq!(
        messages(text),
        [
            "r.yml: 4:17: 5:16: group \"g\", rule 1, \"b\": only one of 'record' and 'alert' must be set",
            "r.yml: 0:0: group \"g\", rule 2, \"\": one of 'record' or 'alert' must be set",
            "r.yml: 8:17: group \"g\", rule 3, \"bad name\": invalid recording rule name: bad name",
            "r.yml: 10:17: group \"g\", rule 4, \"r\": invalid field 'annotations' in recording rule",
            "r.yml: 10:17: group \"g\", rule 4, \"r\": invalid field 'for' in recording rule",
            "r.yml: group \"g\", rule 5, \"T\": invalid label name: 0bad",
            "r.yml: group \"g\", rule 5, \"T\": annotation \"s\": template: __alert_T:1: unclosed action",
            "r.yml: 22:14: group \"g\", rule 6, \"E\": field 'expr' must be set in rule",
            "r.yml: 23:5: Groupname must not be empty",
        ]
    );
    let errors = parse("r.yml", text).unwrap_err();
    assert_eq!((errors[0].line, errors[0].column), (4, 17));
}

#[test]
fn expressions_that_do_not_parse_are_reported_at_the_expr() {
    let m = messages("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: \"up{\"\n");
    assert_eq!(m.len(), 1);
    assert!(
        m[0].starts_with("r.yml: 5:15: group \"g\", rule 1, \"A\": could not parse expression: "),
        "{m:?}"
    );
}

#[test]
fn decoding_errors_are_gathered_as_gos_decoder_gathers_them() {
    let text = "groups:\n  - name: [a]\n    limit: x\n    foo: 1\n    rules:\n      - record: a\n        expr: 5\n        labels: [1]\n        bar: 2\n";
    assert_eq!(
        messages(text),
        [
            "r.yml: yaml: unmarshal errors:\n  line 2: cannot unmarshal !!seq into string\n  line 3: cannot unmarshal !!str `x` into int\n  line 4: field foo not found in type rulefmt.RuleGroup\n  line 8: cannot unmarshal !!seq into map[string]string\n  line 9: field bar not found in type rulefmt.RuleNode"
        ]
    );
    assert_eq!(
        messages("groups: 5\n"),
        [
            "r.yml: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!int `5` into []rulefmt.RuleGroup",
            "r.yml: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!int `5` into []yaml.Node",
        ]
    );
    assert_eq!(
        messages(
            "groups:\n  - name: g\n    name: h\n    rules:\n      - {alert: a, expr: up, labels: {a: 1, a: 2}}\n"
        ),
        [
            "r.yml: yaml: unmarshal errors:\n  line 3: mapping key \"name\" already defined at line 2"
        ],
        "a mapping with a duplicate key is not decoded further"
    );
}

#[test]
fn a_bad_duration_stops_decoding_with_prometheus_words() {
    let rule = |d: &str| {
        format!(
            "groups:\n  - name: g\n    foo: 1\n    rules:\n      - alert: a\n        expr: up\n        for: {d}\n"
        )
    };
    assert_eq!(
        messages(&rule("5x")),
        ["r.yml: not a valid duration string: \"5x\""]
    );
    assert_eq!(messages(&rule("\"\"")), ["r.yml: empty duration string"]);
    assert_eq!(
        messages(&rule("999999999999y")),
        ["r.yml: duration out of range"]
    );
}

#[test]
fn yaml_syntax_errors_are_reported_twice_with_their_line_as_promtool_does() {
    let errors = parse("r.yml", "groups:\n  - name: [\n").unwrap_err();
    assert_eq!(errors.len(), 2);
    assert!(errors[0].message.starts_with("yaml: line "), "{errors:?}");
    assert!(errors[0].line >= 2, "{errors:?}");
}

#[test]
fn a_tilde_alert_name_is_a_name_as_in_prometheus() {
    let file = parse(
        "r.yml",
        "groups:\n  - name: g\n    rules:\n      - alert: ~\n        expr: up\n",
    )
    .expect("valid");
    assert_eq!(file.groups[0].rules[0].name(), "~");
}

#[test]
fn hostile_yaml_is_refused_not_crashed() {
    let deep = format!("groups: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse("r.yml", &deep).is_err());
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
    assert!(parse("r.yml", bomb).is_err());
}

#[test]
fn go_quoting_matches_gos_percent_q() {
    assert_eq!(go_quote("a\"b\\c\n\t\u{1}é"), "\"a\\\"b\\\\c\\n\\t\\x01é\"");
}

#[test]
fn check_command_prints_promtools_shapes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.yml");
    std::fs::write(
        &good,
        "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n",
    )
    .expect("write");
    let dups = dir.path().join("dups.yml");
    std::fs::write(&dups, "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n      - record: a\n        expr: up\n      - alert: A\n        expr: up\n        labels: {x: y}\n      - alert: A\n        expr: up\n        labels: {x: y}\n").expect("write");
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "groups:\n  - name: g\n    rules:\n      - expr: up\n").expect("write");
    let mut out = Vec::new();
    assert_eq!(
        check_command(&[good.clone(), dups.clone()], &mut out),
        0,
        "duplicates are only a lint"
    );
    let out = String::from_utf8(out).expect("utf-8");
    assert_eq!(
        out,
        format!(
            "Checking {}\n  SUCCESS: 1 rules found\n\nChecking {}\n  FAILED:\nlint error 2 duplicate rule(s) found.\nMetric: A\nLabel(s):\n\tx: y\nMetric: a\nLabel(s):\nMight cause inconsistency while recording expressions\n\n",
            good.display(),
            dups.display()
        )
    );
    let mut out = Vec::new();
    assert_eq!(check_command(&[bad.clone(), good], &mut out), 1);
    let out = String::from_utf8(out).expect("utf-8");
    assert!(out.contains(&format!("  FAILED:\n{}: 0:0: group \"g\", rule 1, \"\": one of 'record' or 'alert' must be set\n", bad.display())), "{out}");
    assert!(
        out.contains("SUCCESS: 1 rules found"),
        "the later file is still checked: {out}"
    );
}
