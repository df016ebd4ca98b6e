//! The simulated apps' `/metrics` pages checked by the real `promtool check metrics` (text
//! format, with its linter), and their OpenMetrics pages checked for the format's structure, for
//! every kind and health style, in calm and in faulty times.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use watchfloor::sim::app::profile::Profile;
use watchfloor::sim::app::{App, AppRequest, FleetApp, PodView};
use watchfloor::sim::world::{Fault, FaultKind, Target, World};

use crate::support;

const OPENMETRICS: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

fn t(s: i64) -> Timestamp {
    "2026-01-01T00:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_secs(s)
}

/// One image per kind × health style, plus the datastores.
fn catalog() -> Vec<(String, Profile)> {
    let mut out = Vec::new();
    for kind in ["api", "web", "worker"] {
        for style in ["plain", "arxos", "arq"] {
            let profile: Profile = serde_json::from_value(serde_json::json!({
                "kind": kind,
                "health": style,
                "depends-on": ["postgres", "redis"],
                "versions": {"2.5.0": {"error-rate": 0.2, "p95-ms": 900.0}}
            }))
            .unwrap();
            out.push((format!("example/{kind}-{style}"), profile));
        }
    }
    for kind in ["postgres", "redis"] {
        let profile = serde_json::from_value(serde_json::json!({ "kind": kind })).unwrap();
        out.push((kind.to_string(), profile));
    }
    out
}

/// Faults that touch every family: errors and latency on the apps, postgres down for a while.
fn world() -> Arc<World> {
    let world = World::new();
    let add = |name: &str, kind, from, until: Option<i64>| {
        world.add(Fault {
            target: Target::new("shop", name),
            kind,
            from: t(from),
            until: until.map(t),
        })
    };
    for kind in ["api", "web", "worker"] {
        for style in ["plain", "arxos", "arq"] {
            let app = format!("{kind}-{style}");
            add(&app, FaultKind::Errors { rate: 0.3 }, 300, Some(400));
            add(
                &app,
                FaultKind::Latency {
                    extra: SignedDuration::from_secs(3),
                },
                350,
                Some(450),
            );
        }
    }
    add("postgres", FaultKind::DependencyDown, 600, Some(700));
    Arc::new(world)
}

struct Page {
    what: String,
    content_type: String,
    body: String,
}

/// Every metrics page: each app at several instants, in both formats.
fn pages() -> Vec<Page> {
    let app = FleetApp::new(catalog(), world());
    let mut pages = Vec::new();
    let mut scrape =
        |labels: &BTreeMap<String, String>, image: &str, container: &str, path: &str, port: u16| {
            // A leaking version is OOMKilled at about 90 s.
            let times: &[i64] = if image.ends_with("-oom") {
                &[2, 30, 60, 85]
            } else {
                &[2, 60, 320, 380, 620, 650, 900, 86_400]
            };
            for &at in times {
                for accept in ["", OPENMETRICS] {
                    let pod = PodView {
                        namespace: "shop",
                        name: "pod-1",
                        uid: "uid-1",
                        labels,
                        annotations: labels,
                        container,
                        image,
                        started_at: t(0),
                        restart_count: 0,
                        ended: None,
                        seed: 1,
                    };
                    let mut headers = http::HeaderMap::new();
                    if !accept.is_empty() {
                        headers.insert(http::header::ACCEPT, accept.parse().unwrap());
                    }
                    let req = AppRequest {
                        method: &http::Method::GET,
                        path,
                        query: None,
                        headers: &headers,
                        body: b"",
                        port,
                    };
                    let Ok(resp) = app.http(&pod, &req, t(at)) else {
                        // Not listening yet (uvicorn and NestJS bind once started).
                        assert!(at < 5, "{image} at {at}s does not answer");
                        continue;
                    };
                    assert_eq!(resp.status, 200, "{image} {path} at {at}s");
                    pages.push(Page {
                        what: format!("{image} ({container}) {path} at {at}s accept={accept:?}"),
                        content_type: resp.content_type.into_owned(),
                        body: String::from_utf8(resp.body.to_vec()).unwrap(),
                    });
                }
            }
        };
    for kind in ["api", "web", "worker"] {
        for (style, path) in [
            ("plain", "/metrics"),
            ("arxos", "/metrics"),
            ("arq", "/api/v1/metrics"),
        ] {
            let name = format!("{kind}-{style}");
            let labels = BTreeMap::from([("app".to_string(), name.clone())]);
            for tag in ["2.4.1", "2.5.0", "2.4.1-oom"] {
                scrape(&labels, &format!("example/{name}:{tag}"), "app", path, 8080);
            }
        }
    }
    for (kind, port) in [("postgres", 9187), ("redis", 9121)] {
        let labels = BTreeMap::from([("app".to_string(), kind.to_string())]);
        let exporter = match kind {
            "postgres" => "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
            _ => "oliver006/redis_exporter:v1.58.0",
        };
        scrape(&labels, exporter, "exporter", "/metrics", port);
        scrape(&labels, &format!("{kind}:16"), "exporter", "/metrics", port);
    }
    pages
}

#[test]
fn apps_metrics_pass_promtool_check_metrics() {
    if !support::have("promtool") {
        return;
    }
    let pages = pages();
    let text: Vec<&Page> = pages
        .iter()
        .filter(|p| p.content_type.starts_with("text/plain"))
        .collect();
    assert!(text.len() > 100, "{} text pages", text.len());
    for page in text {
        assert_eq!(
            page.content_type,
            "text/plain; version=0.0.4; charset=utf-8"
        );
        let mut child = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("promtool runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(page.body.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && said.trim().is_empty(),
            "promtool on {}: {}\n{said}\n--- page ---\n{}",
            page.what,
            out.status,
            page.body
        );
    }
}

/// The samples of a page as `(name, labels, value)`.
fn samples(body: &str) -> Vec<(String, String, f64)> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("a sample has a value");
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let value = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("bad value in {l}")),
            };
            (name.to_string(), labels.to_string(), value)
        })
        .collect()
}

#[test]
fn apps_openmetrics_pages_are_well_formed() {
    let pages = pages();
    let om: Vec<&Page> = pages
        .iter()
        .filter(|p| p.content_type.starts_with("application/openmetrics-text"))
        .collect();
    assert!(om.len() > 100, "{} OpenMetrics pages", om.len());
    for page in om {
        let what = &page.what;
        assert_eq!(
            page.content_type,
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        let body = &page.body;
        assert!(body.ends_with("# EOF\n"), "{what}");
        assert_eq!(body.matches("# EOF").count(), 1, "{what}");
        let mut types: BTreeMap<String, String> = BTreeMap::new();
        for line in body.lines().filter(|l| l.starts_with("# TYPE ")) {
            let mut parts = line.split(' ').skip(2);
            let (name, kind) = (parts.next().unwrap(), parts.next().unwrap());
            assert!(
                types.insert(name.to_string(), kind.to_string()).is_none(),
                "{what}: {name} twice"
            );
            if kind == "counter" {
                assert!(!name.ends_with("_total"), "{what}: counter family {name}");
            }
        }
        assert!(
            types
                .get("process_cpu_seconds")
                .is_some_and(|k| k == "counter"),
            "{what}"
        );
        for (name, labels, value) in samples(body) {
            let family = types
                .keys()
                .filter(|f| name.starts_with(f.as_str()))
                .max_by_key(|f| f.len())
                .unwrap_or_else(|| panic!("{what}: {name} has no family"));
            let suffix = &name[family.len()..];
            match types[family].as_str() {
                "counter" => {
                    assert_eq!(suffix, "_total", "{what}: {name}");
                    assert!(value >= 0.0 && value.is_finite());
                }
                "gauge" => assert_eq!(suffix, "", "{what}: {name}"),
                "histogram" => {
                    assert!(
                        ["_bucket", "_count", "_sum"].contains(&suffix),
                        "{what}: {name}"
                    );
                    if suffix == "_bucket" {
                        let le = labels.rsplit("le=\"").next().unwrap().trim_end_matches('"');
                        assert!(
                            le == "+Inf" || le.contains('.'),
                            "{what}: canonical le {le}"
                        );
                    }
                }
                k => panic!("{what}: unexpected type {k}"),
            }
        }
        // The same numbers as the text page of the same scrape.
        let text = pages
            .iter()
            .find(|p| {
                p.what
                    == page
                        .what
                        .replace(&format!("accept={OPENMETRICS:?}"), "accept=\"\"")
            })
            .expect("the text page of the same scrape");
        let same_le = |body: &str| -> Vec<(String, String, f64)> {
            samples(body)
                .into_iter()
                .map(|(n, l, v)| match l.rsplit_once("le=\"") {
                    Some((rest, le)) => {
                        let le: f64 = le.trim_end_matches('"').parse().unwrap_or(f64::INFINITY);
                        (n, format!("{rest}le={le}"), v)
                    }
                    None => (n, l, v),
                })
                .collect()
        };
        assert!(
            same_le(&text.body) == same_le(body),
            "{what}: not the numbers of the text page"
        );
    }
}

#[test]
fn apps_histograms_are_consistent() {
    for page in pages()
        .iter()
        .filter(|p| p.content_type.starts_with("text/plain"))
    {
        let all = samples(&page.body);
        let mut series: BTreeMap<(String, String), Vec<(f64, f64)>> = BTreeMap::new();
        let mut counts: BTreeMap<(String, String), f64> = BTreeMap::new();
        for (name, labels, value) in &all {
            if let Some(family) = name.strip_suffix("_bucket") {
                let (rest, le) = labels.rsplit_once("le=\"").unwrap();
                let le = match le.trim_end_matches('"') {
                    "+Inf" => f64::INFINITY,
                    v => v.parse().unwrap(),
                };
                let key = (family.to_string(), rest.trim_end_matches(',').to_string());
                series.entry(key).or_default().push((le, *value));
            } else if let Some(family) = name.strip_suffix("_count") {
                counts.insert((family.to_string(), labels.clone()), *value);
            }
        }
        let exporter = page.what.contains("(exporter)");
        assert_eq!(series.is_empty(), exporter, "{}", page.what);
        for (key, buckets) in series {
            assert!(
                buckets
                    .windows(2)
                    .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
                "{}: {key:?} {buckets:?}",
                page.what
            );
            let inf = buckets.last().unwrap();
            assert_eq!(inf.0, f64::INFINITY);
            assert_eq!(Some(&inf.1), counts.get(&key), "{}: {key:?}", page.what);
        }
    }
}

/// Debian's python3, where the `python3-prometheus-client` package installs (a python3 earlier
/// on PATH, such as pyenv's, would not see it).
const DEBIAN_PYTHON: &str = "/usr/bin/python3";

/// A strict OpenMetrics parser (Debian's python3-prometheus-client): every page must parse.
/// promtool has no OpenMetrics check; the Prometheus scrape tests check ingestion end to end.
#[test]
fn apps_openmetrics_pages_parse_with_prometheus_client() {
    let probe = Command::new(DEBIAN_PYTHON)
        .args(["-c", "import prometheus_client.openmetrics.parser"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        if std::env::var("WATCHFLOOR_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
            panic!(
                "{DEBIAN_PYTHON} with prometheus_client is required (WATCHFLOOR_REQUIRE_EXTERNAL=1): apt-get install python3-prometheus-client"
            );
        }
        eprintln!(
            "SKIP: {DEBIAN_PYTHON} with prometheus_client not found; OpenMetrics pages were not parsed"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pages = pages();
    let mut n = 0;
    for page in pages
        .iter()
        .filter(|p| p.content_type.starts_with("application/openmetrics-text"))
    {
        std::fs::write(dir.path().join(format!("{n:04}.txt")), &page.body).unwrap();
        n += 1;
    }
    let script = r#"
import sys, os
from prometheus_client.openmetrics.parser import text_string_to_metric_families
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    text = open(os.path.join(d, f)).read()
    try:
        fams = list(text_string_to_metric_families(text))
        assert fams, "no families"
    except Exception as e:
        print(f, repr(e))
        sys.exit(1)
print(len(os.listdir(d)))
"#;
    let out = Command::new(DEBIAN_PYTHON)
        .args(["-c", script])
        .arg(dir.path())
        .output()
        .expect("python3 runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(said.trim(), n.to_string());
}
