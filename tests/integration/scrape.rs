//! The scrapers against the simulated fleet (pod proxy), a loopback server answering 429, and
//! the remote Prometheus client against a real Prometheus.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use tokio::sync::mpsc;
use watchfloor::config::sources::ScrapingConfig;
use watchfloor::kube::Clock;
use watchfloor::metrics::remote::PromClient;
use watchfloor::metrics::scrape::{
    How, ScrapeError, ScrapeEvent, ScrapeResult, Scraper, Target, pod_targets, scrape_client,
};

use crate::prometheus::{Prometheus, scrape_targets};
use crate::support::{TestFleet, have};

const CLUSTER: &str = "prod-eastus";

fn clock() -> Clock {
    Arc::new(jiff::Timestamp::now)
}

/// The scrape targets of the cluster's running pods, found the way the console will: pod rows
/// converted from the API objects, then `pod_targets`. Waits until the set has settled.
fn fleet_targets(fleet: &TestFleet) -> Vec<Target> {
    let running = fleet.fleet.cluster(CLUSTER).expect("cluster exists");
    let config = ScrapingConfig {
        interval: "1s".parse().expect("duration"),
        timeout: "900ms".parse().expect("duration"),
        ..Default::default()
    };
    let list = || {
        let pods = running.cluster.store().list::<Pod>(None);
        let rows: Vec<_> = pods
            .iter()
            .map(|p| watchfloor::kube::convert::pod_row(p, jiff::Timestamp::now()))
            .collect();
        pod_targets(CLUSTER, &rows, &config)
    };
    let start = Instant::now();
    let mut last = list();
    loop {
        std::thread::sleep(Duration::from_millis(1000));
        let now = list();
        if (!now.is_empty() && now.len() == last.len()) || start.elapsed() > Duration::from_secs(30)
        {
            return now;
        }
        last = now;
    }
}

async fn next_result(rx: &mut mpsc::Receiver<ScrapeEvent>, key: &str) -> ScrapeResult {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(ScrapeEvent::Result(r))) if r.key == key => return r,
            Ok(Some(_)) => {}
            Ok(None) => panic!("the scraper stopped"),
            Err(_) => panic!("no result for {key} within 20 s"),
        }
    }
}

#[test]
fn pods_are_scraped_through_the_api_proxy_and_removed_ones_are_gone() {
    let fleet = TestFleet::start();
    let targets = fleet_targets(&fleet);
    // The same pods Prometheus's test scrapes (annotated, running).
    let annotated = scrape_targets(&fleet, CLUSTER);
    assert!(targets.len() >= annotated.len(), "{targets:?}");
    let web = targets
        .iter()
        .find(|t| t.labels.iter().any(|(k, v)| k == "workload" && v == "web"))
        .or_else(|| targets.first())
        .expect("a target")
        .clone();
    let dead = Target {
        key: format!("{CLUSTER}/shop/no-such-pod"),
        how: How::PodProxy {
            namespace: "shop".into(),
            pod: "no-such-pod".into(),
            port: "9090".into(),
            path: "/metrics".into(),
            scheme: "http".into(),
        },
        ..web.clone()
    };
    fleet.runtime.block_on(async {
        let config = crate::kube_client::config(&fleet, CLUSTER).await;
        let client = scrape_client(config).expect("scrape client");
        let (tx, mut rx) = mpsc::channel(256);
        let scraper = Scraper::spawn_pods(client, 4, tx, clock());
        let mut all = targets.clone();
        all.push(dead.clone());
        scraper.set_targets(all);

        let started = Instant::now();
        let mut bodies = 0;
        let mut keys = std::collections::HashSet::new();
        while keys.len() < targets.len() {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            let Ok(Some(ev)) = tokio::time::timeout_at(deadline, rx.recv()).await else {
                panic!(
                    "only {} of {} targets answered: {keys:?}",
                    keys.len(),
                    targets.len()
                );
            };
            if let ScrapeEvent::Result(r) = ev
                && r.key != dead.key
            {
                let body = r.outcome.unwrap_or_else(|e| panic!("{}: {e}", r.key));
                assert!(r.started_ms > 0 && r.duration < Duration::from_secs(1));
                if body.text.contains("http_requests_total") {
                    bodies += 1;
                }
                keys.insert(r.key);
            }
        }
        assert!(bodies > 0, "the web apps' bodies carry http_requests_total");
        assert!(started.elapsed() < Duration::from_secs(10));

        // A pod that is not there: an error result, quickly, not a hang.
        let r = next_result(&mut rx, &dead.key).await;
        match r.outcome {
            Err(ScrapeError::Status { code, .. }) => assert!(code >= 400, "{code}"),
            other => panic!("expected an HTTP error, got {other:?}"),
        }
        assert!(r.duration < Duration::from_secs(1));

        // Drop one target: it is reported gone, and no result for it follows.
        let kept: Vec<Target> = targets
            .iter()
            .filter(|t| t.key != web.key)
            .cloned()
            .collect();
        scraper.set_targets(kept);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        let mut gone = false;
        while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, rx.recv()).await {
            match ev {
                ScrapeEvent::Gone { key, at_ms } => {
                    assert!(at_ms > 0);
                    gone |= key == web.key || key == dead.key;
                }
                ScrapeEvent::Result(r) if gone => assert_ne!(r.key, web.key),
                ScrapeEvent::Result(_) => {}
            }
        }
        assert!(gone, "the removed targets were reported gone");
    });
}

/// A loopback "API server" that throttles: the first request gets 429 with `Retry-After: 1`,
/// later ones a small body. Records when each request came.
async fn throttling_server() -> (std::net::SocketAddr, Arc<Mutex<Vec<Instant>>>) {
    use http_body_util::Full;
    use hyper::body::Bytes;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_req| {
                    let n = {
                        let mut l = log.lock().expect("lock");
                        l.push(Instant::now());
                        l.len()
                    };
                    async move {
                        let resp = if n == 1 {
                            hyper::Response::builder()
                                .status(429)
                                .header("Retry-After", "1")
                                .body(Full::new(Bytes::from_static(b"{\"kind\":\"Status\",\"message\":\"Too many requests, please try again later.\",\"code\":429}")))
                        } else {
                            hyper::Response::builder()
                                .header("Content-Type", "text/plain; version=0.0.4")
                                .body(Full::new(Bytes::from_static(b"http_requests_total 1\n")))
                        };
                        Ok::<_, Infallible>(resp.expect("response"))
                    }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    (addr, seen)
}

#[test]
fn a_429_from_the_api_server_pauses_the_cluster_and_is_not_retried_behind_our_back() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (addr, seen) = throttling_server().await;
        let config = kube::Config::new(format!("http://{addr}").parse().expect("uri"));
        let client = scrape_client(config).expect("client");
        let (tx, mut rx) = mpsc::channel(256);
        let scraper = Scraper::spawn_pods(client, 4, tx, clock());
        let targets: Vec<Target> = (0..4)
            .map(|n| Target {
                key: format!("c/ns/p{n}"),
                labels: vec![],
                how: How::PodProxy {
                    namespace: "ns".into(),
                    pod: format!("p{n}"),
                    port: "9090".into(),
                    path: "/metrics".into(),
                    scheme: "http".into(),
                },
                interval: Duration::from_millis(200),
                timeout: Duration::from_millis(200),
            })
            .collect();
        // One target first, so the 429 is the very first request.
        scraper.set_targets(targets[..1].to_vec());
        let first = next_result(&mut rx, "c/ns/p0").await;
        match first.outcome {
            Err(ScrapeError::Throttled { retry_after, pause }) => {
                assert_eq!(retry_after, Some(Duration::from_secs(1)));
                assert_eq!(pause, Duration::from_secs(1));
            }
            other => panic!("expected Throttled, got {other:?}"),
        }
        let throttled_at = Instant::now();
        scraper.set_targets(targets.clone());
        // Every target is scraped again, but only after the pause.
        for t in &targets {
            let r = next_result(&mut rx, &t.key).await;
            assert!(r.outcome.is_ok(), "{:?}", r.outcome);
        }
        let times = seen.lock().expect("lock").clone();
        assert!(times.len() >= 5);
        let second = times[1];
        assert!(
            second >= throttled_at + Duration::from_millis(900),
            "the next request came {:?} after the 429: no retry, no scrape during the pause",
            second.duration_since(times[0])
        );
    });
}

#[test]
fn the_remote_client_queries_a_real_prometheus() {
    if !have("prometheus") {
        return;
    }
    let fleet = TestFleet::start();
    let http = watchfloor::metrics::scrape::http_client().expect("http client");
    let mut targets = scrape_targets(&fleet, CLUSTER);
    let start = Instant::now();
    while targets.is_empty() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(500));
        targets = scrape_targets(&fleet, CLUSTER);
    }
    let mut prometheus = Prometheus::scraping(&fleet, CLUSTER, &targets);
    prometheus.until("up", Duration::from_secs(60), |r| !r.is_empty());
    let config = watchfloor::config::endpoints::PrometheusConfig {
        environment: "prod".into(),
        url: prometheus.url.parse().expect("url"),
        auth: Default::default(),
        compat: Default::default(),
    };
    let client = PromClient::new(&config, http).expect("client");
    fleet.runtime.block_on(async {
        let up = client.instant("up", None).await.expect("instant query");
        assert!(!up.is_empty());
        assert!(up.iter().all(|(labels, (t, v))| {
            labels.iter().any(|(k, v)| k == "__name__" && v == "up")
                && labels.iter().any(|(k, _)| k == "pod")
                && *t > 0
                && (*v == 0.0 || *v == 1.0)
        }));
        let scalar = client.instant("1 + 1", None).await.expect("scalar");
        assert_eq!(scalar.len(), 1);
        assert_eq!(scalar[0].1.1, 2.0);
        let nan = client.instant("0/0", None).await.expect("NaN");
        assert!(nan[0].1.1.is_nan());
        let end = jiff::Timestamp::now();
        let begin = end - jiff::SignedDuration::from_secs(10);
        let range = client
            .range("up", begin, end, Duration::from_secs(1))
            .await
            .expect("range query");
        assert!(!range.is_empty() && range.iter().all(|(_, points)| !points.is_empty()));
        let bad = client
            .instant("sum(", None)
            .await
            .expect_err("a parse error");
        let text = bad.to_string();
        assert!(text.starts_with("prometheus.prod: bad_data: "), "{text}");
    });
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to the valid pointer it is given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0);
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// The README's "scrape cycle cost": one full cycle of 10,000 bulk pods (spread over the
/// fleet's clusters, one scraper per cluster, the default concurrency of 4 each) through the
/// API servers' pod proxies. The scrapers run on a current-thread runtime of their own, so
/// that thread's CPU time is the scraping side's whole cost (TLS, HTTP, scheduling; no
/// parsing); the simulator runs on other threads. Run with
/// `cargo test --release --test integration scrape::measure -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a test: minutes, and 10,000 pods"]
fn measure_scrape_cycle_of_10000_pods() {
    let fleet = TestFleet::start_with(
        &watchfloor::sim::fleetfile::resolve("small").expect("small fleet"),
        watchfloor::sim::fleet::FleetOptions {
            extra_pods: 10_000,
            ..Default::default()
        },
    );
    let interval = Duration::from_secs(15);
    let config = ScrapingConfig::default();
    let clusters: Vec<String> = fleet
        .fleet
        .clusters
        .iter()
        .map(|c| c.def.name.clone())
        .collect();
    let started = Instant::now();
    let per_cluster: Vec<(String, Vec<Target>)> = loop {
        let sets: Vec<(String, Vec<Target>)> = clusters
            .iter()
            .map(|name| {
                let running = fleet.fleet.cluster(name).expect("cluster");
                let pods = running.cluster.store().list::<Pod>(None);
                let rows: Vec<_> = pods
                    .iter()
                    .map(|p| watchfloor::kube::convert::pod_row(p, jiff::Timestamp::now()))
                    .collect();
                (name.clone(), pod_targets(name, &rows, &config))
            })
            .collect();
        let n: usize = sets.iter().map(|(_, t)| t.len()).sum();
        if n >= 10_000 || started.elapsed() > Duration::from_secs(300) {
            break sets;
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    let total: usize = per_cluster.iter().map(|(_, t)| t.len()).sum();
    let configs: Vec<kube::Config> = per_cluster
        .iter()
        .map(|(name, _)| {
            fleet
                .runtime
                .block_on(crate::kube_client::config(&fleet, name))
        })
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(4096);
        let mut scrapers = Vec::new();
        for ((_, targets), config) in per_cluster.iter().zip(configs) {
            let client = scrape_client(config).expect("client");
            let s = Scraper::spawn_pods(client, 4, tx.clone(), clock());
            s.set_targets(targets.clone());
            scrapers.push(s);
        }
        let cpu0 = thread_cpu();
        let wall0 = Instant::now();
        let mut seen = std::collections::HashSet::new();
        let (mut ok, mut failed, mut bytes) = (0usize, 0usize, 0usize);
        let mut slowest = Duration::ZERO;
        while seen.len() < total && wall0.elapsed() < interval * 3 {
            let Ok(Some(ScrapeEvent::Result(r))) =
                tokio::time::timeout(Duration::from_secs(5), rx.recv()).await
            else {
                continue;
            };
            if seen.insert(r.key.clone()) {
                slowest = slowest.max(r.duration);
                match r.outcome {
                    Ok(b) => {
                        ok += 1;
                        bytes += b.text.len();
                    }
                    Err(_) => failed += 1,
                }
            }
        }
        let wall = wall0.elapsed();
        let cpu = thread_cpu() - cpu0;
        println!(
            "scrape cycle: {total} pod targets over {} clusters, {} scraped ({ok} ok, {failed} failed, {} MiB) in {:.1} s wall, {:.2} s CPU on the scraping thread ({:.0} µs per scrape), slowest scrape {:?}",
            per_cluster.len(),
            seen.len(),
            bytes / (1024 * 1024),
            wall.as_secs_f64(),
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1e6 / seen.len().max(1) as f64,
            slowest,
        );
        drop(scrapers);
    });
}
