//! watchfloor's scrapers, parser, store and golden signals against a real Prometheus (Debian's
//! package) scraping the same simulated pods through the same API server proxy: the series each
//! has for a pod, and the request rate, error ratio and p95 of every workload, must agree.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;
use watchfloor::config::sources::ScrapingConfig;
use watchfloor::config::units::PromDuration;
use watchfloor::kube::rows::PodRow;
use watchfloor::kube::watch::Clock;
use watchfloor::metrics::runtime::MetricsRuntime;
use watchfloor::metrics::store::{MatchOp, Matcher, Store};

use crate::prometheus::{Prometheus, settled_targets};
use crate::support::{TestFleet, have};

const CLUSTER: &str = "prod-eastus";
/// The rate window both sides use: 30 one-second scrapes.
const WINDOW_MS: i64 = 30_000;

fn scalar(result: &[Value]) -> Option<f64> {
    let v = result.first()?["value"][1].as_str()?;
    v.parse().ok().filter(|v: &f64| v.is_finite())
}

fn close(ours: Option<f64>, theirs: Option<f64>, what: &str) {
    match (ours, theirs) {
        (Some(a), Some(b)) => {
            let tolerance = (b.abs() * 0.05).max(1e-3);
            assert!(
                (a - b).abs() <= tolerance,
                "{what}: watchfloor {a} vs Prometheus {b} (tolerance {tolerance})"
            );
        }
        (None, None) => {}
        other => panic!("{what}: watchfloor vs Prometheus {other:?}"),
    }
}

/// Labels the scrape configuration adds (they differ between the two on purpose: Prometheus's
/// static config names `app`, watchfloor names `cluster` and `workload`).
const TARGET_LABELS: [&str; 7] = [
    "job",
    "instance",
    "namespace",
    "pod",
    "app",
    "cluster",
    "workload",
];

/// The page's own labels. A page label that collides with a target label is kept as
/// `exported_<name>`; the two sides' target labels differ, so such labels are left out too.
fn scraped_labels(labels: impl Iterator<Item = (String, String)>) -> BTreeMap<String, String> {
    labels
        .filter(|(k, _)| {
            let base = k.strip_prefix("exported_").unwrap_or(k);
            !TARGET_LABELS.contains(&base)
        })
        .collect()
}

/// watchfloor's scrapers, every second (as the tests comparing with a real Prometheus scrape), on
/// the pods of `cluster` that `keep` selects: the running metrics runtime and how many pods it
/// scrapes. Call inside the fleet's runtime (`fleet.runtime.enter()`).
pub fn scraping_every_second(
    fleet: &TestFleet,
    cluster: &str,
    keep: impl Fn(&PodRow) -> bool,
) -> (MetricsRuntime, usize) {
    let config = ScrapingConfig {
        interval: PromDuration::from_secs(1),
        timeout: PromDuration(Duration::from_millis(900)),
        ..ScrapingConfig::default()
    };
    let kube_config = fleet
        .runtime
        .block_on(crate::kube_client::config(fleet, cluster));
    let client = watchfloor::metrics::scrape::scrape_client(kube_config).expect("scrape client");
    let (ui, _ui_rx) = tokio::sync::mpsc::unbounded_channel();
    let clock: Clock = Arc::new(jiff::Timestamp::now);
    let runtime = MetricsRuntime::start(
        &config,
        vec![cluster.to_string()],
        vec![Some(client)],
        ui,
        clock,
    );
    let running = fleet.fleet.cluster(cluster).expect("cluster");
    let rows: Vec<PodRow> = running
        .cluster
        .store()
        .list::<Pod>(None)
        .iter()
        .map(|p| watchfloor::kube::convert::pod_row(p, jiff::Timestamp::now()))
        .filter(|r| keep(r))
        .collect();
    let targets = watchfloor::metrics::scrape::pod_targets(cluster, rows.iter(), &config);
    let n = targets.len();
    runtime.set_targets(0, targets);
    (runtime, n)
}

#[test]
fn series_rates_and_p95_match_a_real_prometheus_scraping_the_same_pods() {
    if !have("prometheus") {
        return;
    }
    // The seeds fleet: apps with latency histograms and, as its incident plays, errors.
    let fleet = crate::seeds::seeds();
    let targets = settled_targets(&fleet, CLUSTER);
    let prom = Prometheus::scraping(&fleet, CLUSTER, &targets);

    // watchfloor's side, scraping the same pods every second.
    let _enter = fleet.runtime.enter();
    let wanted: BTreeSet<&str> = targets.iter().map(|t| t.pod.as_str()).collect();
    let (runtime, scraped) =
        scraping_every_second(&fleet, CLUSTER, |r| wanted.contains(r.key.name.as_str()));
    assert_eq!(scraped, wanted.len(), "every annotated pod is a target");

    // Both need a full window of samples.
    std::thread::sleep(Duration::from_millis(WINDOW_MS as u64 + 8_000));
    let at = jiff::Timestamp::now().as_millisecond() - 2_000;
    let store = runtime.store();
    let store = store.read().expect("store");

    // 1. The same series for every pod (names and the page's own labels).
    for t in &targets {
        let theirs: BTreeSet<(String, BTreeMap<String, String>)> = prom
            .query_at(&format!("{{pod=\"{}\"}}", t.pod), at)
            .iter()
            .filter_map(|s| {
                let m = s["metric"].as_object()?;
                let name = m.get("__name__")?.as_str()?.to_string();
                let labels = m
                    .iter()
                    .filter(|(k, _)| *k != "__name__")
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()));
                Some((name, scraped_labels(labels)))
            })
            // Prometheus's own bookkeeping series that watchfloor does not write.
            .filter(|(name, _)| name != "scrape_series_added")
            .collect();
        let ours = series_now(&store, &t.pod, at);
        let missing: Vec<_> = theirs.difference(&ours).take(5).collect();
        let extra: Vec<_> = ours.difference(&theirs).take(5).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "pod {}: {} series at Prometheus, {} at watchfloor; missing {missing:?}, extra {extra:?}",
            t.pod,
            theirs.len(),
            ours.len()
        );
    }

    // 2. Golden signals per workload.
    let mut by_app: HashMap<&str, Vec<&str>> = HashMap::new();
    for t in &targets {
        by_app
            .entry(t.app.as_str())
            .or_default()
            .push(t.pod.as_str());
    }
    let (mut compared, mut with_p95) = (0, 0);
    for (app, pods) in &by_app {
        let ns = &targets
            .iter()
            .find(|t| t.app == *app)
            .expect("app")
            .namespace;
        let sel = format!("namespace=\"{ns}\",pod=~\"{}\"", pods.join("|"));
        let w = WINDOW_MS / 1000;
        let rate = scalar(&prom.query_at(
            &format!("sum(rate(http_requests_total{{{sel}}}[{w}s]))"),
            at,
        ));
        if rate.is_none() {
            continue; // an exporter, no HTTP traffic of its own
        }
        let errors = scalar(&prom.query_at(&format!("sum(rate(http_requests_total{{{sel},code=~\"5..\"}}[{w}s])) / sum(rate(http_requests_total{{{sel}}}[{w}s]))"),
            at,
        ))
        .or(Some(0.0));
        let p95 = scalar(&prom.query_at(&format!(
                "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[{w}s])))"
            ),
            at,
        ));
        let matchers = [
            Matcher::new("namespace", MatchOp::Equal, ns).expect("matcher"),
            Matcher::new("pod", MatchOp::Re, &pods.join("|")).expect("matcher"),
        ];
        let ours = watchfloor::metrics::golden::one(&store, &matchers, at, WINDOW_MS);
        eprintln!(
            "{app}: rate {:?} vs {rate:?}, 5xx {:?} vs {errors:?}, p95 {:?} vs {p95:?}",
            ours.rate, ours.error_ratio, ours.p95
        );
        close(ours.rate, rate, &format!("{app} request rate"));
        close(
            ours.error_ratio.or(Some(0.0)),
            errors,
            &format!("{app} error ratio"),
        );
        close(ours.p95, p95, &format!("{app} p95"));
        compared += 1;
        with_p95 += usize::from(p95.is_some());
    }
    assert!(compared >= 2, "only {compared} workloads serve HTTP");
    assert!(
        with_p95 >= 2,
        "only {with_p95} workloads have a latency histogram"
    );
}

/// watchfloor's series of `pod` with a value at `at`, as (name, the page's labels).
fn series_now(store: &Store, pod: &str, at: i64) -> BTreeSet<(String, BTreeMap<String, String>)> {
    let m = Matcher::new("pod", MatchOp::Equal, pod).expect("matcher");
    store
        .select(&[m])
        .into_iter()
        .filter(|&id| store.instant(id, at, 300_000).is_some())
        .map(|id| {
            let labels = store.labels(id);
            let name = labels
                .iter()
                .find(|(k, _)| *k == "__name__")
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
            let rest = labels
                .into_iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| (k.to_string(), v.to_string()));
            (name, scraped_labels(rest))
        })
        .collect()
}
