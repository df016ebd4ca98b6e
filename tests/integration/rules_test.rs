//! `watchfloor rules test` against `promtool test rules` (Debian's Prometheus 2.42): on every
//! test file of the project's rule-test suite (tests/fixtures/rules/unit, `failing/` included:
//! those fail on purpose so the failure details are compared) and of the seed rules
//! (fleets/rules/**/*.test.yml), both must give the same exit code, the same stdout and the same
//! stderr.
//!
//! Normalised before comparing, and only this:
//! - PromQL and series parse errors: promql-parser's wording and columns are not Prometheus's.
//!   From `N:M: parse error:`, from `could not parse expression:` (a rule file's expression) and
//!   from `bad series ` (an input series) to the end of the line, the text becomes
//!   `<parse error>`.
//! - YAML errors of the test file itself (`yaml: ...` and yaml.v2's indented `  line N: ...`
//!   lines): serde-saphyr words them differently.
//! - A missing test file: promtool's command line says `promtool: error: path ...`, watchfloor's
//!   `error: path ...`.

use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use watchfloor::alerts::promql::Compat;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `*.test.yml` under `dir` (relative to the crate root), sorted.
fn test_files(dir: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::from(dir)];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(root().join(&d)) else {
            continue;
        };
        for e in entries.flatten() {
            let rel = d.join(e.file_name());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(rel);
            } else if e.file_name().to_string_lossy().ends_with(".test.yml") {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn promtool(files: &[PathBuf]) -> Run {
    let out = Command::new("promtool")
        .args(["test", "rules"])
        .args(files)
        .current_dir(root())
        .output()
        .expect("promtool runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The library, with paths relative to the crate root as promtool gets them (cargo runs
/// integration tests from there).
fn watchfloor(files: &[PathBuf]) -> Run {
    assert_eq!(
        std::env::current_dir().unwrap(),
        root(),
        "tests run from the crate root"
    );
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = watchfloor::alerts::unittest::run(files, Compat::V2, &mut out, &mut err);
    Run {
        code,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    }
}

fn normalise(text: &str) -> String {
    let parse =
        Regex::new(r"(\d+:\d+: parse error: |(could not parse expression: )|^bad series ).*$")
            .unwrap();
    let mut out = Vec::new();
    let mut in_yaml = false;
    for line in text.lines() {
        if line.starts_with("yaml: ") {
            in_yaml = true;
            out.push("<yaml error>".to_string());
            continue;
        }
        if in_yaml && line.starts_with("  line ") {
            continue;
        }
        in_yaml = false;
        let line = line.strip_prefix("promtool: ").unwrap_or(line);
        out.push(parse.replace(line, "${2}<parse error>").into_owned());
    }
    out.join("\n")
}

fn have_promtool() -> bool {
    let found = Command::new("promtool").arg("--version").output().is_ok();
    if !found {
        if std::env::var("WATCHFLOOR_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
            panic!(
                "promtool is required (WATCHFLOOR_REQUIRE_EXTERNAL=1) but was not found on PATH"
            );
        }
        eprintln!("SKIP: promtool not found on PATH; rules test parity did not run");
    }
    found
}

/// Where the two runs differ, in words; `None` when they agree.
fn compare(what: &str, p: &Run, w: &Run) -> Option<String> {
    let mut diffs = Vec::new();
    if p.code != w.code {
        diffs.push(format!(
            "exit code: promtool {}, watchfloor {}",
            p.code, w.code
        ));
    }
    for (stream, a, b) in [
        ("stdout", &p.stdout, &w.stdout),
        ("stderr", &p.stderr, &w.stderr),
    ] {
        let (a, b) = (normalise(a), normalise(b));
        if a != b {
            diffs.push(format!(
                "{stream} differs\n--- promtool\n{a}\n--- watchfloor\n{b}\n---"
            ));
        }
    }
    (!diffs.is_empty()).then(|| format!("{what}:\n{}", diffs.join("\n")))
}

#[test]
fn rules_test_agrees_with_promtool_on_the_project_suite_and_the_seed_rules() {
    if !have_promtool() {
        return;
    }
    let suite = test_files("tests/fixtures/rules/unit");
    assert!(
        suite.len() >= 12,
        "the suite has {} test files",
        suite.len()
    );
    let seeds = test_files("fleets/rules");
    let mut mismatches = Vec::new();
    for file in suite.iter().chain(&seeds) {
        let p = promtool(std::slice::from_ref(file));
        // The suite's own intent, checked against the reference: `failing/` fails, the rest
        // passes.
        let expect_fail = file.components().any(|c| c.as_os_str() == "failing");
        assert_eq!(
            p.code,
            i32::from(expect_fail),
            "promtool on {}: {}{}",
            file.display(),
            p.stdout,
            p.stderr
        );
        let w = watchfloor(std::slice::from_ref(file));
        mismatches.extend(compare(&file.display().to_string(), &p, &w));
    }
    // All files in one run: the per-file report and the combined exit code.
    let all: Vec<PathBuf> = suite.iter().chain(&seeds).cloned().collect();
    mismatches.extend(compare(
        "all files at once",
        &promtool(&all),
        &watchfloor(&all),
    ));
    eprintln!(
        "rules test parity: {} suite files, {} seed test files, {} mismatching",
        suite.len(),
        seeds.len(),
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}

#[test]
fn a_missing_test_file_is_refused_as_promtool_refuses_it() {
    if !have_promtool() {
        return;
    }
    let files = [PathBuf::from("tests/fixtures/rules/unit/no-such.test.yml")];
    let (p, w) = (promtool(&files), watchfloor(&files));
    assert_eq!(p.code, w.code);
    assert_eq!(normalise(&p.stderr), normalise(&w.stderr));
    assert_eq!(p.stdout, w.stdout);
}

#[test]
fn the_binary_runs_rules_test_with_promtools_exit_codes() {
    let bin = env!("CARGO_BIN_EXE_watchfloor");
    let run = |args: &[&str]| {
        Command::new(bin)
            .args(args)
            .current_dir(root())
            .output()
            .expect("watchfloor runs")
    };
    let ok = run(&[
        "rules",
        "test",
        "--prometheus-compat",
        "2",
        "tests/fixtures/rules/unit/state.test.yml",
    ]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout),
        "Unit Testing:  tests/fixtures/rules/unit/state.test.yml\n  SUCCESS\n\n"
    );
    let bad = run(&[
        "rules",
        "test",
        "tests/fixtures/rules/unit/failing/alertname.test.yml",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).starts_with("  FAILED:\n"));
    assert!(Path::new(bin).exists());
}
