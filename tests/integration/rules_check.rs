//! `watchfloor rules check` against `promtool check rules` (Prometheus 2.42) on every file of
//! tests/fixtures/rules/check/: the same exit code, the same verdict, the same rule counts, and the
//! same errors — compared whole where the words are Prometheus's own, and by position and prefix
//! where they come from another parser (PromQL messages from promql-parser, YAML syntax messages
//! from serde-saphyr).

use std::path::{Path, PathBuf};
use std::process::Command;

use watchfloor::alerts::rulefile::check_command;

use crate::support::have;

const CORPUS: &str = "tests/fixtures/rules/check";

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .expect("the corpus folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    files
}

fn ours(path: &Path) -> (i32, String) {
    let mut out = Vec::new();
    let code = check_command(&[path.to_path_buf()], &mut out);
    (code, String::from_utf8_lossy(&out).into_owned())
}

fn promtool(path: &Path) -> (i32, String) {
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(path)
        .output()
        .expect("promtool runs");
    // promtool writes FAILED and the errors to stderr; one stream is enough to compare.
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// The error lines (after `PATH: `) in a comparable form: the parts whose words come from a
/// different parser are cut after their prefix and position.
fn errors(output: &str, path: &str) -> Vec<String> {
    let prefix = format!("{path}: ");
    let mut found: Vec<String> = Vec::new();
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix(&prefix) {
            let cut = if let Some(i) = rest.find("could not parse expression: ") {
                rest[..i + "could not parse expression:".len()].to_string()
            } else if rest.starts_with("yaml: line ") {
                "yaml: line <syntax error>".to_string()
            } else {
                rest.to_string()
            };
            found.push(cut);
        } else if line.starts_with("  line ") || line.starts_with("lint error") {
            found.push(line.to_string());
        }
    }
    found.sort();
    found
}

fn verdict(output: &str) -> Option<String> {
    output
        .lines()
        .find(|l| l.starts_with("  SUCCESS") || l.starts_with("  FAILED"))
        .map(str::to_owned)
}

#[test]
fn rules_check_agrees_with_promtool_on_the_whole_corpus() {
    if !have("promtool") {
        return;
    }
    let files = corpus();
    assert!(files.len() >= 25, "the corpus is there");
    let mut differences = Vec::new();
    for file in &files {
        let (want_code, want) = promtool(file);
        let (got_code, got) = ours(file);
        let shown = file.display().to_string();
        let (we, ge) = (errors(&want, &shown), errors(&got, &shown));
        if want_code != got_code || verdict(&want) != verdict(&got) || we != ge {
            differences.push(format!(
                "{shown}: exit {want_code} vs {got_code}\n--- promtool\n{want}--- watchfloor\n{got}"
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} files differ:\n{}",
        differences.len(),
        files.len(),
        differences.join("\n")
    );
}

#[test]
fn realistic_rule_files_pass_and_count_their_rules() {
    let (code, out) = ours(Path::new("tests/fixtures/rules/check/good_node_alerts.yml"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("  SUCCESS: 7 rules found"), "{out}");
    let (code, out) = ours(Path::new(
        "tests/fixtures/rules/check/good_slo_burn_rates.yml",
    ));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("  SUCCESS: 5 rules found"), "{out}");
}

#[test]
fn a_missing_file_fails_before_anything_is_checked() {
    let mut out = Vec::new();
    let code = check_command(
        &[
            PathBuf::from("tests/fixtures/rules/check/good_empty.yml"),
            PathBuf::from("tests/fixtures/rules/check/nope.yml"),
        ],
        &mut out,
    );
    let out = String::from_utf8_lossy(&out);
    assert_eq!(code, 1);
    assert!(!out.contains("Checking"), "{out}");
    assert!(out.contains("nope.yml' does not exist"), "{out}");
}

/// Go's `%q` text back to the string (the escapes promtool's output uses).
fn go_unquote(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(e @ ('x' | 'u' | 'U')) => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = chars.by_ref().take(n).collect();
                if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(c);
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Live template oracle: promtool expands each template for each value (its unit-test failure
/// output shows the annotations it produced), and `template::expand` must give the same text.
#[test]
fn templates_expand_as_promtool_expands_them() {
    use watchfloor::alerts::template::{TemplateData, expand};
    if !have("promtool") {
        return;
    }
    let templates = [
        "{{ $value }}",
        "{{ $value | humanize }} {{ humanize1024 $value }} {{ humanizeDuration $value }}",
        "{{ humanizePercentage $value }} {{ printf \"%.2f|%g|%e|%v|%5.1f\" $value $value $value $value $value }}",
        "{{ if gt $value 10.0 }}high{{ else }}low{{ end }} {{ $labels.job }} {{ .Labels.instance }}",
        "{{ gt $value 1 }}",
        "{{ $externalLabels.env }} {{ $externalURL }} {{ title \"a b\" }} {{ reReplaceAll \":.*\" \"\" $labels.instance }}",
    ];
    let values = [
        "0", "1e6", "123456", "1234567", "0.00001", "-2.5", "NaN", "+Inf", "86400.5", "0.1234",
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rules = String::from(
        "groups:\n  - name: t\n    rules:\n      - alert: T\n        expr: v\n        annotations:\n",
    );
    for (i, t) in templates.iter().enumerate() {
        rules.push_str(&format!("          t{i}: '{}'\n", t.replace('\'', "''")));
    }
    std::fs::write(dir.path().join("rules.yml"), rules).expect("write rules");
    let mut test = String::from(
        "rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    external_labels: {env: prod}\n    external_url: http://prom.example:9090\n    input_series:\n",
    );
    for (i, v) in values.iter().enumerate() {
        test.push_str(&format!("      - series: 'v{{case=\"{i}\",job=\"node\",instance=\"a:9100\"}}'\n        values: '{v}'\n"));
    }
    test.push_str("    alert_rule_test:\n      - eval_time: 0m\n        alertname: T\n        exp_alerts: []\n");
    std::fs::write(dir.path().join("test.yml"), test).expect("write test");
    let out = Command::new("promtool")
        .args(["test", "rules", "test.yml"])
        .current_dir(dir.path())
        .output()
        .expect("promtool runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let mut compared = 0;
    let mut differences = Vec::new();
    let mut case: Option<usize> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Labels:{alertname=\"T\", case=\"") {
            case = rest.split('"').next().and_then(|c| c.parse().ok());
        } else if let (Some(body), Some(c)) = (line.strip_prefix("Annotations:{"), case) {
            let value: f64 = match values[c] {
                "NaN" => f64::NAN,
                "+Inf" => f64::INFINITY,
                v => v.parse().expect("a number"),
            };
            let labels: Vec<(String, String)> = [
                ("__name__", "v"),
                ("case", values_index(c)),
                ("instance", "a:9100"),
                ("job", "node"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let external = vec![("env".to_string(), "prod".to_string())];
            let data = TemplateData {
                labels: &labels,
                external_labels: &external,
                external_url: "http://prom.example:9090",
                value,
            };
            for (i, t) in templates.iter().enumerate() {
                let key = format!("t{i}=\"");
                let Some(start) = body.find(&key) else {
                    continue;
                };
                let rest = &body[start + key.len()..];
                let mut end = 0;
                let bytes = rest.as_bytes();
                while end < bytes.len() && bytes[end] != b'"' {
                    end += if bytes[end] == b'\\' { 2 } else { 1 };
                }
                let want = go_unquote(&rest[..end.min(rest.len())]);
                let got = expand("T", t, &data);
                compared += 1;
                if got != want {
                    differences.push(format!(
                        "{t} @ {}\n  promtool:   {want:?}\n  watchfloor: {got:?}",
                        values[c]
                    ));
                }
            }
        }
    }
    assert_eq!(
        compared,
        templates.len() * values.len(),
        "every expansion was read:\n{text}"
    );
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// The `case` label of the i-th series.
fn values_index(i: usize) -> &'static str {
    ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
        .get(i)
        .copied()
        .unwrap_or("?")
}
