//! Conformance of the PromQL evaluator against Prometheus v3.5's own promqltest files
//! (`../shared/conformance/promqltest-v3.5.0/*.test`): every `eval` case runs in Compat::V3 over
//! a MemStore and is classified passed, failed, or unsupported (the evaluator answered
//! `Unsupported`, or the case needs native histograms / `load_with_nhcb`). Annotations
//! (`eval_warn`, `eval_info`, `expect warn|info`) are not checked: only results and failures are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::cell::Cell;
use watchfloor::alerts::notation::{Slot, expand, parse_series};

use watchfloor::alerts::promql::{
    Engine, EvalError, Labels, Matcher, MemStore, Queryable, SeriesData, Value, parse,
};
use watchfloor::metrics::store::STALE_NAN_BITS;

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    unsupported: usize,
}

enum Outcome {
    Pass,
    Fail(String),
    Unsupported(String),
}

/// A promqltest duration (`5m`, `1h30m`, `90s`, `0`, a bare number of seconds), in ms.
fn duration_ms(text: &str) -> Option<i64> {
    let (neg, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if let Ok(secs) = text.parse::<f64>() {
        let v = (secs * 1000.0).round() as i64;
        return Some(if neg { -v } else { v });
    }
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n: i64 = rest.get(..digits)?.parse().ok()?;
        rest = rest.get(digits..)?;
        let unit_len = rest.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
        let unit = rest.get(..unit_len)?;
        rest = rest.get(unit_len..)?;
        let mult = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            "y" => 31_536_000_000,
            _ => return None,
        };
        total += n * mult;
    }
    Some(if neg { -total } else { total })
}

/// Splits a series line into its description and its values.
fn split_series(line: &str) -> (&str, &str) {
    let line = line.trim();
    let end = match line.find('{') {
        Some(open) if !line[..open].contains(char::is_whitespace) => {
            let mut in_quote: Option<char> = None;
            let mut escaped = false;
            let mut end = line.len();
            for (i, c) in line.char_indices().skip_while(|(i, _)| *i < open) {
                match (in_quote, c) {
                    _ if escaped => escaped = false,
                    (Some(_), '\\') => escaped = true,
                    (Some(q), c) if c == q => in_quote = None,
                    (None, '"' | '\'' | '`') => in_quote = Some(c),
                    (None, '}') => {
                        end = i + 1;
                        break;
                    }
                    _ => {}
                }
            }
            end
        }
        _ => line.find(char::is_whitespace).unwrap_or(line.len()),
    };
    (&line[..end], line[end..].trim())
}

fn parse_value(text: &str) -> Option<f64> {
    match text.trim().to_ascii_lowercase().as_str() {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        t => t.parse().ok(),
    }
}

fn almost_equal(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() || a == b {
        return true;
    }
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || (a.abs() + b.abs()) < f64::MIN_POSITIVE {
        return diff < 1e-6 * f64::MIN_POSITIVE;
    }
    diff / (a.abs() + b.abs()).min(f64::MAX) < 1e-6
}

/// The float series, and the native-histogram ones (loaded as placeholders at their sample
/// times): a case that selects any of the latter needs native histograms.
struct Probe<'a> {
    floats: &'a MemStore,
    native: &'a MemStore,
    touched: Cell<bool>,
}

impl Queryable for Probe<'_> {
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesData> {
        if !self.native.select(matchers, start_ms, end_ms).is_empty() {
            self.touched.set(true);
        }
        self.floats.select(matchers, start_ms, end_ms)
    }
}

/// How many slots a values string with native histogram items (`{{...}}`, `{{...}}x3`,
/// `{{...}}+{{...}}x3`, `_x2`) covers.
fn native_slots(vals: &str) -> usize {
    let mut tokens = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    let bytes: Vec<char> = vals.chars().collect();
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        if c == '{' && bytes.get(i + 1) == Some(&'{') {
            depth += 1;
        } else if c == '}' && bytes.get(i + 1) == Some(&'}') {
            depth = depth.saturating_sub(1);
        }
        if c.is_whitespace() && depth == 0 {
            if !cur.is_empty() {
                tokens.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
        i += 1;
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
        .iter()
        .map(|t| {
            let tail = t.rsplit('x').next().unwrap_or("");
            let n: Option<usize> =
                (t.contains('x') && !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| tail.parse().ok())
                    .flatten();
            match (t.starts_with('_'), n) {
                (true, Some(n)) => n,
                (false, Some(n)) => n + 1,
                _ => 1,
            }
        })
        .sum()
}

struct Case {
    line: usize,
    command: String,
    query: String,
    range: Option<(i64, i64, i64)>,
    at: i64,
    fail: bool,
    ordered: bool,
    fail_message: Option<String>,
    fail_regex: Option<String>,
    expected: Vec<String>,
}

fn fmt_labels(l: &Labels) -> String {
    let inner: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

fn check(case: &Case, floats: &MemStore, native: &MemStore) -> Outcome {
    let store = Probe {
        floats,
        native,
        touched: Cell::new(false),
    };
    let outcome = check_on(case, &store);
    if store.touched.get() {
        return Outcome::Unsupported("native histograms".into());
    }
    outcome
}

fn check_on(case: &Case, store: &Probe) -> Outcome {
    let expr = match parse(&case.query) {
        Ok(e) => e,
        Err(e) if case.fail => return check_error(case, &e),
        Err(e) => return Outcome::Fail(format!("parser rejects it: {e}")),
    };
    let engine = Engine::default();
    let result = match case.range {
        Some((start, end, step)) => engine.range(store, &expr, start, end, step),
        None => engine.instant(store, &expr, case.at),
    };
    let value = match result {
        Err(EvalError::Unsupported(what)) => return Outcome::Unsupported(what),
        Err(e) if case.fail => return check_error(case, &e),
        Err(e) => return Outcome::Fail(format!("error: {e}")),
        Ok(_) if case.fail => return Outcome::Fail("expected an error, got a result".into()),
        Ok(v) => v,
    };
    match compare(case, value) {
        Ok(()) => Outcome::Pass,
        Err(why) => Outcome::Fail(why),
    }
}

fn check_error(case: &Case, e: &EvalError) -> Outcome {
    let msg = e.to_string();
    if let Some(want) = &case.fail_message
        && !msg.contains(want.as_str())
    {
        return Outcome::Fail(format!("error {msg:?}, expected {want:?}"));
    }
    if let Some(re) = &case.fail_regex
        && !regex::Regex::new(re).is_ok_and(|r| r.is_match(&msg))
    {
        return Outcome::Fail(format!("error {msg:?} does not match {re:?}"));
    }
    Outcome::Pass
}

fn compare(case: &Case, value: Value) -> Result<(), String> {
    let mut want: Vec<(Labels, Vec<Slot>)> = Vec::new();
    for line in &case.expected {
        let (desc, vals) = split_series(line);
        if vals.is_empty()
            && let Some(v) = parse_value(desc)
        {
            // A scalar.
            return match value {
                Value::Scalar { v: got, .. } if almost_equal(v, got) => Ok(()),
                other => Err(format!("expected scalar {v}, got {other:?}")),
            };
        }
        if desc.starts_with('"') {
            return Err("string results are not compared".into());
        }
        let labels = parse_series(desc)?;
        want.push((labels, expand(vals)?));
    }
    let got: Vec<(Labels, Vec<(i64, f64)>)> = match value {
        Value::Vector(v) => v
            .into_iter()
            .map(|s| (s.labels, vec![(s.t, s.v)]))
            .collect(),
        Value::Matrix(m) => m.into_iter().map(|s| (s.labels, s.samples)).collect(),
        Value::Scalar { v, .. } if want.is_empty() => return Err(format!("got scalar {v}")),
        other => return Err(format!("unexpected {other:?}")),
    };
    if got.len() != want.len() {
        let names: Vec<String> = got
            .iter()
            .map(|(l, s)| format!("{} {s:?}", fmt_labels(l)))
            .collect();
        return Err(format!(
            "expected {} series, got {}: {}",
            want.len(),
            got.len(),
            names.join("; ")
        ));
    }
    let by_labels: BTreeMap<&Labels, &Vec<(i64, f64)>> = got.iter().map(|(l, s)| (l, s)).collect();
    for (i, (labels, slots)) in want.iter().enumerate() {
        if case.ordered && got.get(i).map(|g| &g.0) != Some(labels) {
            return Err(format!(
                "order differs at {i}: expected {}",
                fmt_labels(labels)
            ));
        }
        let Some(samples) = by_labels.get(labels) else {
            return Err(format!("missing series {}", fmt_labels(labels)));
        };
        let expected: Vec<(i64, f64)> = match case.range {
            Some((start, _, step)) => slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| match s {
                    Slot::Value(v) => Some((start + i as i64 * step, *v)),
                    Slot::Stale => Some((start + i as i64 * step, f64::from_bits(STALE_NAN_BITS))),
                    Slot::Missing => None,
                })
                .collect(),
            None => {
                let vals: Vec<f64> = slots
                    .iter()
                    .filter_map(|s| match s {
                        Slot::Value(v) => Some(*v),
                        _ => None,
                    })
                    .collect();
                // Instant vectors: one value at the evaluation time; range vectors: values in
                // order (their times are the samples').
                samples
                    .iter()
                    .zip(vals.iter())
                    .map(|((t, _), v)| (*t, *v))
                    .chain(vals.iter().skip(samples.len()).map(|v| (i64::MIN, *v)))
                    .collect()
            }
        };
        let same = expected.len() == samples.len()
            && expected
                .iter()
                .zip(samples.iter())
                .all(|((et, ev), (gt, gv))| et == gt && almost_equal(*ev, *gv));
        if !same {
            return Err(format!(
                "{}: expected {expected:?}, got {samples:?}",
                fmt_labels(labels)
            ));
        }
    }
    Ok(())
}

/// The native histogram `load_with_nhcb` makes of a classic series (`x_bucket`, `x_sum`,
/// `x_count` become `x`).
fn nhcb_series(labels: &Labels) -> Option<Labels> {
    let name = labels.iter().find(|(k, _)| k == "__name__")?.1.clone();
    let base = ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|s| name.strip_suffix(s))?;
    let mut out: Labels = labels
        .iter()
        .filter(|(k, _)| k != "le" && k != "__name__")
        .cloned()
        .collect();
    out.push(("__name__".into(), base.to_owned()));
    out.sort();
    Some(out)
}

/// Runs one file; returns the tally, failures and unsupported reasons.
fn run_file(
    path: &Path,
    tally: &mut Tally,
    reasons: &mut BTreeMap<String, usize>,
    failures: &mut Vec<String>,
) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let mut store = MemStore::new();
    let mut native = MemStore::new();
    let mut i = 0;
    while let Some(line) = lines.get(i) {
        let trimmed = line.trim();
        i += 1;
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let block_end = |mut j: usize| {
            while lines
                .get(j)
                .is_some_and(|l| !l.trim().is_empty() && l.starts_with(char::is_whitespace))
            {
                j += 1;
            }
            j
        };
        let words: Vec<&str> = trimmed.split_whitespace().collect();
        match words.first().copied() {
            Some("clear") => {
                store = MemStore::new();
                native = MemStore::new();
            }
            Some(cmd @ ("load" | "load_with_nhcb")) => {
                let end = block_end(i);
                let interval = words.get(1).and_then(|w| duration_ms(w)).unwrap_or(60_000);
                for l in lines.get(i..end).unwrap_or(&[]) {
                    let (desc, vals) = split_series(l);
                    if vals.contains("{{") {
                        if let Ok(labels) = parse_series(desc) {
                            for k in 0..native_slots(vals) {
                                native.add(&labels, k as i64 * interval, 0.0);
                            }
                        }
                        continue;
                    }
                    let (Ok(labels), Ok(slots)) = (parse_series(desc), expand(vals)) else {
                        failures.push(format!("{name}:{}: cannot load {l:?}", i + 1));
                        continue;
                    };
                    if cmd == "load_with_nhcb"
                        && let Some(le_less) = nhcb_series(&labels)
                    {
                        for k in 0..slots.len() {
                            native.add(&le_less, k as i64 * interval, 0.0);
                        }
                    }
                    for (k, s) in slots.iter().enumerate() {
                        let t = k as i64 * interval;
                        match s {
                            Slot::Value(v) => store.add(&labels, t, *v),
                            Slot::Stale => store.add(&labels, t, f64::from_bits(STALE_NAN_BITS)),
                            Slot::Missing => {}
                        }
                    }
                }
                i = end;
            }
            Some(cmd) if cmd.starts_with("eval") => {
                let end = block_end(i);
                let mut case = Case {
                    line: i,
                    command: cmd.to_owned(),
                    query: String::new(),
                    range: None,
                    at: 0,
                    fail: cmd == "eval_fail",
                    ordered: cmd == "eval_ordered",
                    fail_message: None,
                    fail_regex: None,
                    expected: Vec::new(),
                };
                let parsed = match words.get(1).copied() {
                    Some("instant") if words.get(2) == Some(&"at") => {
                        words.get(3).and_then(|w| duration_ms(w)).map(|at| {
                            case.at = at;
                            4
                        })
                    }
                    Some("range") => {
                        let get = |k: usize| words.get(k).and_then(|w| duration_ms(w));
                        match (get(3), get(5), get(7)) {
                            (Some(s), Some(e), Some(st)) => {
                                case.range = Some((s, e, st));
                                Some(8)
                            }
                            _ => None,
                        }
                    }
                    _ => None,
                };
                let Some(skip) = parsed else {
                    failures.push(format!("{name}:{i}: cannot read {trimmed:?}"));
                    i = end;
                    continue;
                };
                // The query is the rest of the line after the words consumed.
                let mut rest = trimmed;
                for _ in 0..skip {
                    rest = rest.trim_start();
                    rest = &rest[rest.find(char::is_whitespace).unwrap_or(rest.len())..];
                }
                case.query = rest.trim().to_owned();
                for l in lines.get(i..end).unwrap_or(&[]) {
                    let l = l.trim();
                    if l.starts_with('#') {
                        continue;
                    }
                    if let Some(m) = l.strip_prefix("expected_fail_message ") {
                        case.fail_message = Some(m.to_owned());
                    } else if let Some(r) = l.strip_prefix("expected_fail_regexp ") {
                        case.fail_regex = Some(r.to_owned());
                    } else if let Some(m) = l.strip_prefix("expect fail msg: ") {
                        case.fail = true;
                        case.fail_message = Some(m.to_owned());
                    } else if let Some(r) = l.strip_prefix("expect fail regex: ") {
                        case.fail = true;
                        case.fail_regex = Some(r.to_owned());
                    } else if l == "expect fail" {
                        case.fail = true;
                    } else if l == "expect ordered" {
                        case.ordered = true;
                    } else if l.starts_with("expect ") {
                        // Annotations (warn/info) are not checked.
                    } else {
                        case.expected.push(l.to_owned());
                    }
                }
                i = end;
                let outcome = check(&case, &store, &native);
                match outcome {
                    Outcome::Pass => tally.passed += 1,
                    Outcome::Unsupported(why) => {
                        tally.unsupported += 1;
                        *reasons.entry(why).or_default() += 1;
                    }
                    Outcome::Fail(why) => {
                        tally.failed += 1;
                        failures.push(format!(
                            "{name}:{} {} {}: {why}",
                            case.line, case.command, case.query
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}

#[test]
fn promqltest_v3_5_conformance() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/promqltest-v3.5.0");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        if std::env::var("WATCHFLOOR_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
            panic!(
                "{} is required (WATCHFLOOR_REQUIRE_EXTERNAL=1)",
                dir.display()
            );
        }
        eprintln!("SKIP: no promqltest files at {}", dir.display());
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    let mut total = Tally::default();
    let mut reasons = BTreeMap::new();
    let mut failures = Vec::new();
    for f in &files {
        let mut t = Tally::default();
        run_file(f, &mut t, &mut reasons, &mut failures);
        eprintln!(
            "{:<28} passed {:>4}  failed {:>4}  unsupported {:>4}",
            f.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            t.passed,
            t.failed,
            t.unsupported
        );
        total.passed += t.passed;
        total.failed += t.failed;
        total.unsupported += t.unsupported;
    }
    let supported = total.passed + total.failed;
    let rate = if supported == 0 {
        0.0
    } else {
        total.passed as f64 / supported as f64
    };
    eprintln!(
        "TOTAL passed {} failed {} unsupported {}: {:.1} % of supported cases pass",
        total.passed,
        total.failed,
        total.unsupported,
        rate * 100.0
    );
    for (why, n) in &reasons {
        eprintln!("  unsupported ({n}): {why}");
    }
    for f in &failures {
        eprintln!("  FAIL {f}");
    }
    assert!(!files.is_empty(), "no .test files in {}", dir.display());
    assert!(
        rate >= 0.95,
        "pass rate {:.1} % is under 95 %",
        rate * 100.0
    );
    // The pass rate alone would let a few cases regress unseen: the failures must be exactly
    // the known ones.
    let known_path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/promqltest/known-failures.txt");
    let known_text = std::fs::read_to_string(&known_path)
        .unwrap_or_else(|e| panic!("{}: {e}", known_path.display()));
    let known: std::collections::BTreeSet<&str> = known_text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let failed: std::collections::BTreeSet<&str> = failures
        .iter()
        .map(|f| f.split(' ').next().unwrap_or(f))
        .collect();
    let new: Vec<&&str> = failed.difference(&known).collect();
    let fixed: Vec<&&str> = known.difference(&failed).collect();
    assert!(
        new.is_empty(),
        "cases that passed before now fail (see the FAIL lines above): {new:?}"
    );
    assert!(
        fixed.is_empty(),
        "known failures now pass; remove them from {}: {fixed:?}",
        known_path.display()
    );
}
