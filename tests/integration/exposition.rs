//! The exposition parser's conformance corpus (tests/fixtures/exposition): real pages captured
//! from Debian's node-exporter and Prometheus and from the simulator's apps, checked sample for
//! sample against an independent parser (Debian's python3-prometheus-client); hand-written edge
//! cases checked against reviewed `.expected` files; and the inputs prometheus-parse gets wrong.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use watchfloor::metrics::expo::{Format, MetricType, Parsed, parse};

use crate::support::have;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exposition")
}

/// `*.om.txt` files are OpenMetrics, other `*.txt` files the text format.
fn format_of(path: &Path) -> Format {
    if path.to_string_lossy().ends_with(".om.txt") {
        Format::OpenMetrics
    } else {
        Format::Text
    }
}

fn pages(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}

/// One sample as both parsers can state it: name, sorted labels, value bits (every NaN alike),
/// timestamp in ms.
type Key = (String, Vec<(String, String)>, u64, Option<i64>);

fn bits(v: f64) -> u64 {
    if v.is_nan() {
        f64::NAN.to_bits()
    } else {
        v.to_bits()
    }
}

fn ours(p: &Parsed<'_>) -> Vec<Key> {
    let mut out: Vec<Key> = p
        .samples
        .iter()
        .map(|s| {
            let mut labels: Vec<(String, String)> = s
                .labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            labels.sort();
            (s.name.to_string(), labels, bits(s.value), s.timestamp_ms)
        })
        .collect();
    out.sort();
    out
}

const REFERENCE: &str = r#"
import json, struct, sys
from prometheus_client.parser import text_string_to_metric_families as text
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
path, fmt = sys.argv[1], sys.argv[2]
parse = om if fmt == "om" else text
out = []
for family in parse(open(path, encoding="utf-8").read()):
    for s in family.samples:
        ts = s.timestamp
        if ts is None:
            ms = None
        elif fmt == "om":
            ms = ts.sec * 1000 + ts.nsec // 1000000
        else:
            ms = round(ts * 1000)
        bits = struct.unpack("<Q", struct.pack("<d", s.value))[0]
        out.append([s.name, sorted(s.labels.items()), bits, ms])
print(json.dumps(out))
"#;

/// Whether Debian's python3 with prometheus_client is here; skips loudly, or fails under
/// WATCHFLOOR_REQUIRE_EXTERNAL=1, as `have` does for programs.
fn have_reference() -> bool {
    if !have("/usr/bin/python3") {
        return false;
    }
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "import prometheus_client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("WATCHFLOOR_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
            panic!(
                "python3-prometheus-client is required (WATCHFLOOR_REQUIRE_EXTERNAL=1) but /usr/bin/python3 cannot import prometheus_client"
            );
        }
        eprintln!(
            "SKIP: python3-prometheus-client not installed; reference comparison did not run"
        );
    }
    ok
}

fn reference(path: &Path, format: Format) -> Vec<Key> {
    let fmt = if format == Format::OpenMetrics {
        "om"
    } else {
        "text"
    };
    let out = Command::new("/usr/bin/python3")
        .args(["-c", REFERENCE])
        .arg(path)
        .arg(fmt)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "prometheus_client rejected {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).expect("reference JSON");
    let mut keys: Vec<Key> = rows
        .iter()
        .map(|r| {
            let labels = r[1]
                .as_array()
                .expect("labels")
                .iter()
                .map(|kv| {
                    let s = |i: usize| kv[i].as_str().expect("label string").to_string();
                    (s(0), s(1))
                })
                .collect();
            let value = r[2].as_u64().expect("value bits");
            let value = if f64::from_bits(value).is_nan() {
                f64::NAN.to_bits()
            } else {
                value
            };
            (
                r[0].as_str().expect("name").to_string(),
                labels,
                value,
                r[3].as_i64(),
            )
        })
        .collect();
    keys.sort();
    keys
}

fn compare_with_reference(path: &Path) {
    let format = format_of(path);
    let input = std::fs::read_to_string(path).expect("fixture");
    let parsed = parse(&input, format);
    assert!(
        parsed.errors.is_empty(),
        "{}: {:?}",
        path.display(),
        parsed.errors
    );
    let (ours, theirs) = (ours(&parsed), reference(path, format));
    assert!(!ours.is_empty(), "{}: no samples", path.display());
    if ours != theirs {
        let only_ours: Vec<_> = ours
            .iter()
            .filter(|k| !theirs.contains(k))
            .take(5)
            .collect();
        let only_theirs: Vec<_> = theirs
            .iter()
            .filter(|k| !ours.contains(k))
            .take(5)
            .collect();
        panic!(
            "{}: {} samples here, {} in prometheus_client\nonly here: {only_ours:#?}\nonly there: {only_theirs:#?}",
            path.display(),
            ours.len(),
            theirs.len()
        );
    }
}

#[test]
fn real_captures_match_prometheus_client_sample_for_sample() {
    let files = pages(&fixtures());
    assert!(files.len() >= 6, "captures missing: {files:?}");
    for path in &files {
        let input = std::fs::read_to_string(path).expect("fixture");
        let parsed = parse(&input, format_of(path));
        assert!(
            parsed.errors.is_empty(),
            "{}: {:?}",
            path.display(),
            parsed.errors
        );
        assert_eq!(
            parsed.eof,
            format_of(path) == Format::OpenMetrics,
            "{}",
            path.display()
        );
        assert!(parsed.samples.len() > 10, "{}", path.display());
    }
    if !have_reference() {
        return;
    }
    for path in &files {
        compare_with_reference(path);
    }
    let edge = fixtures().join("edge");
    for name in [
        "text_prometheus_parse_bugs.txt",
        "text_histogram_summary.txt",
        "om_full.om.txt",
    ] {
        compare_with_reference(&edge.join(name));
    }
}

#[test]
fn node_exporter_capture_has_the_families_it_should() {
    let input = std::fs::read_to_string(fixtures().join("node_exporter.txt")).expect("fixture");
    let p = parse(&input, Format::Text);
    assert_eq!(p.kind_of("node_cpu_seconds_total"), MetricType::Counter);
    assert_eq!(p.kind_of("go_gc_duration_seconds_sum"), MetricType::Summary);
    assert_eq!(p.kind_of("node_load1"), MetricType::Gauge);
    let idle = p
        .samples
        .iter()
        .find(|s| s.name == "node_cpu_seconds_total" && s.label("mode") == Some("idle"))
        .expect("cpu idle");
    assert!(idle.value > 0.0);
}

/// A parse written out for review: families, samples with their lines, errors, EOF.
fn render(p: &Parsed<'_>) -> String {
    let mut out = String::new();
    for f in &p.families {
        out.push_str(&format!(
            "F {} {:?} help={:?} unit={:?}\n",
            f.name, f.kind, f.help, f.unit
        ));
    }
    for s in &p.samples {
        let labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let ts = s.timestamp_ms.map_or("-".into(), |t| t.to_string());
        out.push_str(&format!(
            "L{} {}{{{}}} {:?} @{ts}\n",
            s.line,
            s.name,
            labels.join(","),
            s.value
        ));
    }
    for e in &p.errors {
        out.push_str(&format!("E {e}\n"));
    }
    out.push_str(&format!("eof={}\n", p.eof));
    out
}

/// Each hand-written case against its reviewed `.expected` file (WATCHFLOOR_BLESS=1 rewrites
/// them; review the diff before committing).
#[test]
fn edge_cases_match_their_expected_files() {
    let dir = fixtures().join("edge");
    let bless = std::env::var("WATCHFLOOR_BLESS").as_deref() == Ok("1");
    let mut failures = Vec::new();
    for path in pages(&dir) {
        let input = std::fs::read_to_string(&path).expect("fixture");
        let got = render(&parse(&input, format_of(&path)));
        let expected_path = path.with_extension("expected");
        if bless {
            std::fs::write(&expected_path, &got).expect("bless");
            continue;
        }
        let want = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != want {
            failures.push(format!(
                "{}:\n--- want\n{want}--- got\n{got}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn hostile_inputs_are_reported_not_fatal() {
    // A 1 MB line between two good ones: one sample, not quadratic, nothing lost around it.
    let page = format!("a 1\nhuge{{v=\"{}\"}} 2\nb 3\n", "x".repeat(1 << 20));
    let p = parse(&page, Format::Text);
    assert_eq!(p.samples.len(), 3);
    assert_eq!(p.samples[1].label("v").map(str::len), Some(1 << 20));
    // A 1 MB line that never closes its label value.
    let page = format!("a 1\nhuge{{v=\"{}\n", "x".repeat(1 << 20));
    let p = parse(&page, Format::Text);
    assert_eq!(
        (p.samples.len(), p.errors.len(), p.errors[0].line),
        (1, 1, 2)
    );
    // Binary garbage (as a scraper would see it, lossily decoded), then a good line.
    let mut bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    bytes.extend_from_slice(b"\ngood 1\n");
    let text = String::from_utf8_lossy(&bytes);
    for format in [Format::Text, Format::OpenMetrics] {
        let p = parse(&text, format);
        assert!(p.samples.iter().any(|s| s.name == "good"), "{format:?}");
        assert!(!p.errors.is_empty());
    }
}

/// Why prometheus-parse is only a benchmark baseline: on each of these valid inputs it loses or
/// changes data, while ours returns what was written.
#[test]
fn prometheus_parse_gets_these_wrong_and_we_do_not() {
    let cases: [(&str, &str, BTreeMap<&str, &str>); 4] = [
        (
            "job:errors:rate5m{job=\"api\"} 2\n",
            "job:errors:rate5m",
            [("job", "api")].into(),
        ),
        (
            "req_total{path=\"/a}b\"} 2\n",
            "req_total",
            [("path", "/a}b")].into(),
        ),
        (
            "q_total{q=\"a,b=c\"} 2\n",
            "q_total",
            [("q", "a,b=c")].into(),
        ),
        (
            "m_total{msg=\"say \\\"hi\\\"\"} 2\n",
            "m_total",
            [("msg", "say \"hi\"")].into(),
        ),
    ];
    for (input, name, labels) in cases {
        let p = parse(input, Format::Text);
        assert!(p.errors.is_empty(), "{input}: {:?}", p.errors);
        let s = &p.samples[0];
        let got: BTreeMap<&str, &str> = s.labels.iter().map(|(k, v)| (*k, v.as_ref())).collect();
        assert_eq!((s.name, &got, s.value), (name, &labels, 2.0), "{input}");

        let lines = input.lines().map(|l| Ok(l.to_string()));
        let theirs = prometheus_parse::Scrape::parse(lines).expect("prometheus-parse runs");
        let right = theirs.samples.iter().any(|t| {
            let tl: BTreeMap<&str, &str> = t
                .labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            t.metric == name && tl == labels
        });
        assert!(
            !right,
            "prometheus-parse 0.2.5 now reads {input:?} right; update the docs"
        );
    }
}
