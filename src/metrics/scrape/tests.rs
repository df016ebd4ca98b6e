use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::backoff::Backoff;
use super::scheduler::{FetchFn, first_slot, next_slot};
use super::*;
use crate::config::sources::{ScrapeTarget, ScrapingConfig};
use crate::config::units::PromDuration;
use crate::kube::rows::{PodRow, Scrape, ScrapeSpec};
use crate::state::testing::pod;

fn at(port: Option<&str>, path: &str, scheme: &str) -> Scrape {
    Scrape::At(ScrapeSpec {
        port: port.map(str::to_string),
        path: Some(path.into()),
        scheme: scheme.into(),
    })
}

fn with(mut p: PodRow, scrape: Scrape) -> PodRow {
    p.scrape = scrape;
    p
}

fn label<'a>(t: &'a Target, name: &str) -> Option<&'a str> {
    t.labels
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn annotated_pods_are_targets_with_their_port_path_and_scheme() {
    let pods = [with(
        pod("shop", "web", "a", "Running"),
        at(Some("9102"), "/stats/prometheus", "https"),
    )];
    let t = pod_targets("prod-eu", &pods, &ScrapingConfig::default());
    assert_eq!(t.len(), 1);
    let t = &t[0];
    assert_eq!(t.key, "prod-eu/shop/web-7f9c4-a");
    assert_eq!(
        t.how,
        How::PodProxy {
            namespace: "shop".into(),
            pod: "web-7f9c4-a".into(),
            port: "9102".into(),
            path: "/stats/prometheus".into(),
            scheme: "https".into(),
        }
    );
    assert_eq!(label(t, "job"), Some(POD_JOB));
    assert_eq!(label(t, "instance"), Some("web-7f9c4-a:9102"));
    assert_eq!(label(t, "cluster"), Some("prod-eu"));
    assert_eq!(label(t, "namespace"), Some("shop"));
    assert_eq!(label(t, "pod"), Some("web-7f9c4-a"));
    assert_eq!(label(t, "workload"), Some("web"));
    let names: Vec<&str> = t.labels.iter().map(|(k, _)| k.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "labels are sorted by name");
    assert_eq!(t.interval, Duration::from_secs(15));
    assert_eq!(t.timeout, Duration::from_secs(5));
}

#[test]
fn pod_port_fills_in_for_pods_that_say_nothing_or_no_port() {
    let pods = [
        with(pod("shop", "web", "a", "Running"), Scrape::Unsaid),
        with(pod("shop", "api", "b", "Running"), at(None, "/m", "http")),
        with(pod("shop", "db", "c", "Running"), Scrape::OptedOut),
    ];
    // Without pod_port, neither the silent pod nor the port-less one can be scraped.
    assert!(pod_targets("c", &pods, &ScrapingConfig::default()).is_empty());
    let config = ScrapingConfig {
        pod_port: Some(8080),
        pod_path: "/custom".into(),
        ..Default::default()
    };
    let t = pod_targets("c", &pods, &config);
    let got: Vec<(&str, &How)> = t.iter().map(|t| (t.key.as_str(), &t.how)).collect();
    assert_eq!(
        got,
        vec![
            (
                "c/shop/api-7f9c4-b",
                &How::PodProxy {
                    namespace: "shop".into(),
                    pod: "api-7f9c4-b".into(),
                    port: "8080".into(),
                    path: "/m".into(),
                    scheme: "http".into(),
                }
            ),
            (
                "c/shop/web-7f9c4-a",
                &How::PodProxy {
                    namespace: "shop".into(),
                    pod: "web-7f9c4-a".into(),
                    port: "8080".into(),
                    path: "/custom".into(),
                    scheme: "http".into(),
                }
            ),
        ],
        "the opted-out pod is never a target"
    );
}

#[test]
fn only_pods_that_can_answer_are_targets() {
    let s = || at(Some("9090"), "/metrics", "http");
    let mut deleting = with(pod("ns", "a", "1", "Running"), s());
    deleting.deleting = true;
    let mut unscheduled = with(pod("ns", "b", "2", "Running"), s());
    unscheduled.node.clear();
    let pods = [
        deleting,
        unscheduled,
        with(pod("ns", "c", "3", "Pending"), s()),
        with(pod("ns", "d", "4", "ContainerCreating"), s()),
        with(pod("ns", "e", "5", "Completed"), s()),
        with(pod("ns", "f", "6", "Running"), s()),
        with(pod("ns", "g", "7", "CrashLoopBackOff"), s()),
        with(pod("ns", "h", "8", "Unready"), s()),
    ];
    let keys: Vec<String> = pod_targets("c", &pods, &ScrapingConfig::default())
        .into_iter()
        .map(|t| t.key)
        .collect();
    assert_eq!(
        keys,
        ["c/ns/f-7f9c4-6", "c/ns/g-7f9c4-7", "c/ns/h-7f9c4-8"],
        "running, crash-looping (restarted) and not-ready pods; none pending, done or going"
    );
}

#[test]
fn timeout_never_exceeds_the_interval_and_url_targets_take_their_own_interval_and_timeout() {
    let config = ScrapingConfig {
        interval: PromDuration::from_secs(15),
        timeout: PromDuration::from_secs(10),
        targets: vec![
            ScrapeTarget {
                name: "node".into(),
                url: "http://10.0.0.5:9100/metrics".parse().unwrap(),
                interval: Some(PromDuration::from_secs(5)),
                timeout: None,
            },
            ScrapeTarget {
                name: "edge".into(),
                url: "https://edge.example/metrics".parse().unwrap(),
                interval: None,
                timeout: Some(PromDuration::from_secs(3)),
            },
        ],
        ..Default::default()
    };
    let t = url_targets(&config);
    assert_eq!(t[0].key, "url:node");
    assert_eq!(t[0].interval, Duration::from_secs(5));
    assert_eq!(t[0].timeout, Duration::from_secs(5));
    assert_eq!(label(&t[0], "job"), Some("node"));
    assert_eq!(label(&t[0], "instance"), Some("10.0.0.5:9100"));
    assert_eq!(t[1].interval, Duration::from_secs(15));
    // Its own timeout.
    assert_eq!(t[1].timeout, Duration::from_secs(3));
    assert_eq!(label(&t[1], "instance"), Some("edge.example:443"));
}

#[test]
fn accept_header_is_prometheus_s() {
    assert_eq!(
        ACCEPT,
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    );
}

#[test]
fn proxy_paths_carry_scheme_port_and_query() {
    assert_eq!(
        proxy_path("shop", "web-1", "9090", "/metrics", "http"),
        "/api/v1/namespaces/shop/pods/web-1:9090/proxy/metrics"
    );
    assert_eq!(
        proxy_path("shop", "web-1", "8443", "/stats?format=prometheus", "https"),
        "/api/v1/namespaces/shop/pods/https:web-1:8443/proxy/stats?format=prometheus"
    );
    assert_eq!(
        proxy_path("shop", "web-1", "9090", "/a b", "http"),
        "/api/v1/namespaces/shop/pods/web-1:9090/proxy/a%20b"
    );
}

#[test]
fn retry_after_reads_seconds_and_dates() {
    let now: Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
    assert_eq!(fetch::retry_after("7", now), Some(Duration::from_secs(7)));
    assert_eq!(
        fetch::retry_after("Fri, 02 Jan 2026 03:04:15 GMT", now),
        Some(Duration::from_secs(10))
    );
    assert_eq!(
        fetch::retry_after("Fri, 02 Jan 2026 03:00:00 GMT", now),
        Some(Duration::ZERO),
        "a date in the past means now"
    );
    assert_eq!(fetch::retry_after("soon", now), None);
}

#[test]
fn backoff_doubles_from_one_second_up_to_the_cap_and_honours_retry_after() {
    let now = Instant::now();
    let cap = Duration::from_secs(60);
    let mut b = Backoff::new();
    let pauses: Vec<u64> = (0..8)
        .map(|_| b.throttled(now, None, cap).as_secs())
        .collect();
    assert_eq!(pauses, [1, 2, 4, 8, 16, 32, 60, 60]);
    let mut b = Backoff::new();
    assert_eq!(
        b.throttled(now, Some(Duration::from_secs(3)), cap),
        Duration::from_secs(3)
    );
    assert_eq!(
        b.throttled(now, Some(Duration::from_secs(3600)), cap),
        cap,
        "a wild Retry-After is capped"
    );
    assert_eq!(b.paused_until(now), Some(now + cap));
    assert_eq!(b.paused_until(now + cap), None);
}

#[test]
fn backoff_lowers_concurrency_then_recovers_with_successes() {
    let now = Instant::now();
    let mut b = Backoff::new();
    assert_eq!(b.limit(8), 8);
    b.throttled(now, None, Duration::from_secs(60));
    assert_eq!(b.limit(8), 4);
    b.throttled(now, None, Duration::from_secs(60));
    assert_eq!(b.limit(8), 2);
    for _ in 0..10 {
        b.throttled(now, None, Duration::from_secs(60));
    }
    assert_eq!(b.limit(8), 1, "never below one");
    for _ in 0..12 {
        b.succeeded();
    }
    assert_eq!((b.strikes(), b.limit(8)), (0, 8));
    // A later pause never shortens an earlier, longer one.
    let mut b = Backoff::new();
    b.throttled(now, Some(Duration::from_secs(30)), Duration::from_secs(60));
    b.throttled(now, Some(Duration::from_secs(1)), Duration::from_secs(60));
    assert_eq!(b.paused_until(now), Some(now + Duration::from_secs(30)));
}

#[test]
fn offsets_are_stable_and_spread_and_slots_keep_the_phase() {
    let i = Duration::from_secs(15);
    assert_eq!(targets::offset("c/ns/a", i), targets::offset("c/ns/a", i));
    assert!(targets::offset("c/ns/a", i) < i);
    let distinct: std::collections::HashSet<Duration> = (0..100)
        .map(|n| targets::offset(&format!("c/ns/pod-{n}"), i))
        .collect();
    assert!(distinct.len() > 95, "offsets spread: {}", distinct.len());
    let epoch = Instant::now();
    let off = Duration::from_secs(4);
    assert_eq!(first_slot(epoch, off, i, epoch), epoch + off);
    assert_eq!(
        first_slot(epoch, off, i, epoch + Duration::from_secs(5)),
        epoch + Duration::from_secs(19)
    );
    assert_eq!(
        next_slot(epoch, off, i, epoch + off),
        epoch + Duration::from_secs(19)
    );
    // Started late (35 s): the next scrape returns to the phase (49 s), missed ones are skipped.
    assert_eq!(
        next_slot(epoch, off, i, epoch + Duration::from_secs(35)),
        epoch + Duration::from_secs(49)
    );
}

#[test]
fn errors_read_well() {
    let e = ScrapeError::Status {
        code: 503,
        excerpt: error::excerpt(
            br#"{"kind":"Status","message":"no endpoints available for pod \"web-1\"","code":503}"#,
        ),
    };
    assert_eq!(
        e.to_string(),
        "answered HTTP 503 Service Unavailable: no endpoints available for pod \"web-1\""
    );
    assert_eq!(
        ScrapeError::Timeout(Duration::from_millis(900)).to_string(),
        "no answer within 0.9s: the scrape timed out"
    );
    assert_eq!(
        ScrapeError::Throttled {
            retry_after: None,
            pause: Duration::from_secs(4)
        }
        .to_string(),
        "the API server is throttling (429 Too Many Requests): scrapes of this cluster pause for 4s"
    );
    let long = "x".repeat(1000);
    assert!(error::excerpt(long.as_bytes()).chars().count() <= error::EXCERPT_CHARS + 1);
}

fn target(key: &str, interval_ms: u64) -> Target {
    Target {
        key: key.into(),
        labels: vec![],
        how: How::Url("http://127.0.0.1:1/metrics".parse().unwrap()),
        interval: Duration::from_millis(interval_ms),
        timeout: Duration::from_millis(interval_ms),
    }
}

fn clock() -> crate::kube::watch::Clock {
    Arc::new(Timestamp::now)
}

/// A fetch that answers `body`, counting calls and the most in flight at once.
fn counting(delay: Duration, in_flight: Arc<AtomicUsize>, peak: Arc<AtomicUsize>) -> FetchFn {
    Arc::new(move |_t, _now| {
        let (in_flight, peak) = (in_flight.clone(), peak.clone());
        Box::pin(async move {
            let n = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok(Body {
                text: "up 1\n".into(),
                content_type: None,
            })
        })
    })
}

#[tokio::test]
async fn scraper_runs_each_target_once_per_interval_within_the_concurrency() {
    let (tx, mut rx) = mpsc::channel(1024);
    let (in_flight, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let fetch = counting(Duration::from_millis(10), in_flight, peak.clone());
    let scraper = Scraper::spawn_with(fetch, true, 3, tx, clock());
    scraper.set_targets((0..20).map(|n| target(&format!("t{n}"), 200)).collect());
    let mut counts = std::collections::HashMap::<String, u32>::new();
    let deadline = Instant::now() + Duration::from_millis(650);
    while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        if let ScrapeEvent::Result(r) = ev {
            assert!(r.outcome.is_ok());
            *counts.entry(r.key).or_default() += 1;
        }
    }
    assert_eq!(counts.len(), 20);
    assert!(
        counts.values().all(|&n| (2..=4).contains(&n)),
        "about 3 scrapes each in 650 ms at 200 ms: {counts:?}"
    );
    assert!(peak.load(Ordering::SeqCst) <= 3, "concurrency respected");
}

#[tokio::test]
async fn removed_targets_are_gone_and_changed_ones_restart() {
    let (tx, mut rx) = mpsc::channel(1024);
    let fetch = counting(Duration::from_millis(10), Arc::default(), Arc::default());
    let scraper = Scraper::spawn_with(fetch, true, 4, tx, clock());
    scraper.set_targets(vec![target("a", 100), target("b", 100)]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    scraper.set_targets(vec![target("a", 100)]);
    let mut gone = Vec::new();
    let mut after_gone = 0;
    let deadline = Instant::now() + Duration::from_millis(450);
    while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        match ev {
            ScrapeEvent::Gone { key, .. } => gone.push(key),
            ScrapeEvent::Result(r) if !gone.is_empty() => {
                assert_eq!(r.key, "a", "no result for a target after its Gone");
                after_gone += 1;
            }
            ScrapeEvent::Result(_) => {}
        }
    }
    assert_eq!(gone, ["b"]);
    assert!(after_gone >= 3, "a goes on: {after_gone}");
}

#[tokio::test]
async fn a_429_pauses_every_target_of_the_cluster() {
    let (tx, mut rx) = mpsc::channel(1024);
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    // The first scrape is throttled with Retry-After: 1; everything else answers.
    let fetch: FetchFn = Arc::new(move |_t, _now| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if n == 0 {
                Err(ScrapeError::Throttled {
                    retry_after: Some(Duration::from_secs(1)),
                    pause: Duration::ZERO,
                })
            } else {
                Ok(Body {
                    text: String::new(),
                    content_type: None,
                })
            }
        })
    });
    let scraper = Scraper::spawn_with(fetch, true, 4, tx, clock());
    scraper.set_targets((0..5).map(|n| target(&format!("t{n}"), 200)).collect());
    let start = Instant::now();
    let mut throttled_at = None;
    let mut during = 0;
    let deadline = start + Duration::from_millis(1800);
    while let Ok(Some(ScrapeEvent::Result(r))) = tokio::time::timeout_at(deadline, rx.recv()).await
    {
        let now = Instant::now();
        match (&r.outcome, throttled_at) {
            (Err(ScrapeError::Throttled { pause, .. }), _) => {
                assert_eq!(*pause, Duration::from_secs(1));
                throttled_at = Some(now);
            }
            (_, Some(t)) if now < t + Duration::from_millis(950) => during += 1,
            _ => {}
        }
    }
    let t = throttled_at.expect("a throttled result");
    assert!(t < start + Duration::from_millis(300));
    // Scrapes already in flight when the 429 came may finish; none starts during the pause.
    assert!(during <= 3, "{during} scrapes finished during the pause");
    assert!(
        calls.load(Ordering::SeqCst) > 6,
        "scraping resumes after the pause"
    );
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to the valid pointer it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// The scheduler's own cost: 10,000 targets whose fetch answers at once, one full cycle on a
/// current-thread runtime, CPU time of that thread. Run with
/// `cargo test --release --lib metrics::scrape::tests::measure -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a test"]
fn measure_scheduling_10000_targets() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(4096);
        let fetch: FetchFn = Arc::new(|_t, _now| {
            Box::pin(async {
                Ok(Body {
                    text: String::new(),
                    content_type: None,
                })
            })
        });
        let scraper = Scraper::spawn_with(fetch, true, 4, tx, clock());
        let interval = 2000;
        scraper.set_targets(
            (0..10_000)
                .map(|n| target(&format!("c/bulk/bulk-{n:05}"), interval))
                .collect(),
        );
        let cpu0 = thread_cpu();
        let wall0 = Instant::now();
        let mut n = 0;
        while n < 10_000 {
            if let Some(ScrapeEvent::Result(_)) = rx.recv().await {
                n += 1;
            }
        }
        let cpu = thread_cpu() - cpu0;
        println!(
            "scheduling: 10,000 targets, one cycle in {:.2} s wall, {:.1} ms CPU ({:.1} µs per scrape)",
            wall0.elapsed().as_secs_f64(),
            cpu.as_secs_f64() * 1e3,
            cpu.as_secs_f64() * 1e6 / 10_000.0
        );
        drop(scraper);
    });
}

/// The design not taken, for comparison with the one above: a sleeping task per target and a
/// semaphore for the concurrency, same fake fetch, same cycle.
#[test]
#[ignore = "a measurement, not a test"]
fn measure_task_per_target_10000_targets() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel::<String>(4096);
        let permits = Arc::new(tokio::sync::Semaphore::new(4));
        let interval = Duration::from_millis(2000);
        let epoch = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..10_000 {
            let key = format!("c/bulk/bulk-{n:05}");
            let (tx, permits) = (tx.clone(), permits.clone());
            tasks.spawn(async move {
                let off = targets::offset(&key, interval);
                let mut next = first_slot(epoch, off, interval, Instant::now());
                loop {
                    tokio::time::sleep_until(next).await;
                    let Ok(_permit) = permits.acquire().await else {
                        return;
                    };
                    let _now = Timestamp::now();
                    if tx.send(key.clone()).await.is_err() {
                        return;
                    }
                    next = next_slot(epoch, off, interval, Instant::now());
                }
            });
        }
        let cpu0 = thread_cpu();
        let wall0 = Instant::now();
        for _ in 0..10_000 {
            rx.recv().await;
        }
        let cpu = thread_cpu() - cpu0;
        println!(
            "task per target: 10,000 targets, one cycle in {:.2} s wall, {:.1} ms CPU ({:.1} µs per scrape)",
            wall0.elapsed().as_secs_f64(),
            cpu.as_secs_f64() * 1e3,
            cpu.as_secs_f64() * 1e6 / 10_000.0
        );
        tasks.abort_all();
    });
}
