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
