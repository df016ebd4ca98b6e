//! What the series store costs: a scrape cycle of 10,000 pods × 60 series ingested, the bytes a
//! stored sample takes after an hour of 15 s scrapes, the memory cap honoured, and a query (select
//! plus `rate(...[1m])` and `[5m]`, and every stored sample) over one workload, after the hour
//! and under the cap.
//!
//! The workload: 100 Deployments × 100 pods, each pod exposing 60 series as a Go service does
//! (request counters by method and code, two latency histograms of 12 buckets with sum and count,
//! process and Go runtime gauges, a GC summary, app counters and gauges, build info) plus the
//! synthetic `up`/`scrape_*` series, with the target labels job, namespace, pod and instance.
//! Values move as real ones do: counters grow by irregular integer steps, CPU seconds by
//! fractions, memory gauges by pages, scrape durations are noisy floats, constants stay put.
//! Scrape times carry 0–2 ms of jitter.
//!
//! Steady state is reached by ingesting 240 cycles (an hour at 15 s), then `gc`. The figures
//! (bytes per sample, series, the cap check) are printed before the timings.
//!
//! `cargo bench --bench series_store` (`-- ingest` or `-- query` for the groups matching).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use watchfloor::metrics::store::functions::extrapolated_rate;
use watchfloor::metrics::store::{
    Incoming, MatchOp, Matcher, Store, StoreConfig, TargetId, is_stale,
};

// The binary's allocator (src/main.rs), so allocation costs here are the console's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WORKLOADS: usize = 100;
const PODS_PER_WORKLOAD: usize = 100;
const INTERVAL_MS: i64 = 15_000;
const HOUR_CYCLES: i64 = 240;
const T0: i64 = 1_795_000_000_000;

/// How a series' value moves.
#[derive(Clone, Copy)]
enum Kind {
    Constant(f64),
    /// Grows by an irregular integer step up to this per scrape.
    Counter(u64),
    /// Grows by irregular fractions (CPU seconds).
    FloatCounter,
    /// Moves by whole pages around a base.
    Bytes(f64),
    /// Small integers around a base (goroutines, queue depth).
    Small(f64),
    /// A noisy float (durations).
    Noisy,
}

struct Series {
    name: &'static str,
    labels: Vec<(String, String)>,
    kind: Kind,
}

struct Pod {
    key: String,
    series: Vec<Series>,
}

/// One pod's target and its series (name, labels, how the value moves), borrowed from [`Pod`].
type Scrape<'a> = (TargetId, Vec<(&'a str, Vec<(&'a str, &'a str)>, Kind)>);

/// A cheap deterministic hash for values.
fn mix(a: u64, b: u64, c: u64) -> u64 {
    let mut x = a
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(b.wrapping_mul(0xc2b2_ae3d_27d4_eb4f))
        .wrapping_add(c.wrapping_mul(0x1656_67b1_9e37_79f9));
    x ^= x >> 29;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^ (x >> 32)
}

fn value(kind: Kind, cycle: u64, seed: u64) -> f64 {
    let h = mix(cycle, seed, 7);
    match kind {
        Kind::Constant(v) => v,
        // Monotonic: cycle × step plus less than a step.
        Kind::Counter(step) => (cycle * step + h % step.max(1)) as f64,
        Kind::FloatCounter => cycle as f64 * 0.37 + (h % 1000) as f64 / 10_000.0,
        Kind::Bytes(base) => base + ((h % 64) * 4096) as f64,
        Kind::Small(base) => base + (h % 5) as f64,
        Kind::Noisy => 0.001 + (h % 100_000) as f64 / 1e7,
    }
}

fn pod_series(workload: &str, ns: &str, pod: &str, instance: &str) -> Vec<Series> {
    let target = |extra: &[(&str, &str)]| -> Vec<(String, String)> {
        let mut l: Vec<(String, String)> = [
            ("job", workload),
            ("namespace", ns),
            ("pod", pod),
            ("instance", instance),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        l.sort();
        l
    };
    let mut out = Vec::with_capacity(60);
    let mut add = |name, extra: &[(&str, &str)], kind| {
        out.push(Series {
            name,
            labels: target(extra),
            kind,
        })
    };
    add("up", &[], Kind::Constant(1.0));
    add("scrape_duration_seconds", &[], Kind::Noisy);
    add("scrape_samples_scraped", &[], Kind::Constant(56.0));
    add("scrape_series_added", &[], Kind::Constant(0.0));
    for method in ["GET", "POST"] {
        for (code, step) in [("200", 300), ("404", 3), ("500", 2)] {
            add(
                "http_requests_total",
                &[("method", method), ("code", code)],
                Kind::Counter(step),
            );
        }
    }
    let les = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
    ];
    for handler in ["/api", "/health"] {
        for (i, le) in les.iter().enumerate() {
            let step = 20 + 25 * i as u64;
            add(
                "http_request_duration_seconds_bucket",
                &[("handler", handler), ("le", le)],
                Kind::Counter(step),
            );
        }
        add(
            "http_request_duration_seconds_sum",
            &[("handler", handler)],
            Kind::FloatCounter,
        );
        add(
            "http_request_duration_seconds_count",
            &[("handler", handler)],
            Kind::Counter(300),
        );
    }
    add("process_cpu_seconds_total", &[], Kind::FloatCounter);
    add("process_resident_memory_bytes", &[], Kind::Bytes(5e7));
    add("process_virtual_memory_bytes", &[], Kind::Bytes(1.2e9));
    add("process_open_fds", &[], Kind::Small(30.0));
    add("process_max_fds", &[], Kind::Constant(1_048_576.0));
    add("process_start_time_seconds", &[], Kind::Constant(1.79e9));
    add("go_goroutines", &[], Kind::Small(40.0));
    add("go_threads", &[], Kind::Constant(12.0));
    add("go_memstats_alloc_bytes", &[], Kind::Bytes(8e6));
    add("go_memstats_heap_inuse_bytes", &[], Kind::Bytes(1.1e7));
    for q in ["0", "0.25", "0.5", "0.75", "1"] {
        add("go_gc_duration_seconds", &[("quantile", q)], Kind::Noisy);
    }
    add("go_gc_duration_seconds_sum", &[], Kind::FloatCounter);
    add("go_gc_duration_seconds_count", &[], Kind::Counter(2));
    add("app_queue_depth", &[], Kind::Small(0.0));
    add("app_cache_hits_total", &[], Kind::Counter(50));
    add("app_cache_misses_total", &[], Kind::Counter(4));
    add("app_inflight_requests", &[], Kind::Small(2.0));
    add(
        "app_build_info",
        &[("version", "1.42.0"), ("goversion", "go1.25.1")],
        Kind::Constant(1.0),
    );
    out
}

fn fleet() -> Vec<Pod> {
    let mut pods = Vec::with_capacity(WORKLOADS * PODS_PER_WORKLOAD);
    for w in 0..WORKLOADS {
        let workload = format!("svc-{w:03}");
        let ns = format!("team-{}", w % 12);
        for p in 0..PODS_PER_WORKLOAD {
            let h = mix(w as u64, p as u64, 1);
            let pod = format!("{workload}-7f9c4{:x}-{:05x}", h % 16, h % 0xfffff);
            let instance = format!("10.{}.{}.{}:8080", w % 250, p, h % 250);
            pods.push(Pod {
                key: format!("prod-eastus/{ns}/{pod}"),
                series: pod_series(&workload, &ns, &pod, &instance),
            });
        }
    }
    pods
}

/// Ingests one scrape cycle of every pod, then `gc`; returns the samples appended.
fn cycle(store: &mut Store, pods: &[Scrape<'_>], c: i64) -> usize {
    let appended = ingest(store, pods, c);
    store.gc(T0 + c * INTERVAL_MS + 1000);
    appended
}

/// Ingests one scrape cycle of every pod; returns the samples appended.
fn ingest(store: &mut Store, pods: &[Scrape<'_>], c: i64) -> usize {
    let mut appended = 0;
    for (i, (target, series)) in pods.iter().enumerate() {
        let ts = T0 + c * INTERVAL_MS + (i as i64 % 1000) + (mix(c as u64, i as u64, 3) % 3) as i64;
        let report = store.ingest(
            *target,
            ts,
            series
                .iter()
                .enumerate()
                .map(|(j, (name, labels, kind))| Incoming {
                    name,
                    labels,
                    value: value(*kind, c as u64, (i * 64 + j) as u64),
                    timestamp_ms: None,
                }),
        );
        appended += report.appended;
    }
    appended
}

fn benches(c: &mut Criterion) {
    let owned = fleet();
    let mut store = Store::new(StoreConfig {
        retention_ms: 3_600_000,
        memory_cap_bytes: usize::MAX,
    });
    let pods: Vec<Scrape<'_>> = owned
        .iter()
        .map(|p| {
            let series = p
                .series
                .iter()
                .map(|s| {
                    let labels = s
                        .labels
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    (s.name, labels, s.kind)
                })
                .collect();
            (store.target(&p.key), series)
        })
        .collect();
    let samples_per_cycle: usize = pods.iter().map(|(_, s)| s.len()).sum();

    // The first cycle creates every series.
    let start = Instant::now();
    cycle(&mut store, &pods, 0);
    let first = start.elapsed();
    let start = Instant::now();
    for c in 1..=HOUR_CYCLES {
        cycle(&mut store, &pods, c);
    }
    let hour = start.elapsed();
    let stats = store.stats();
    println!(
        "series_store: {} targets, {} series, {samples_per_cycle} samples a cycle; \
         first cycle (new series) {first:.2?}, then {:.2?} a cycle over the hour",
        pods.len(),
        stats.series,
        hour / HOUR_CYCLES as u32,
    );
    println!(
        "series_store: after an hour of 15 s scrapes: {} samples, {:.1} MiB, {:.2} bytes per \
         stored sample (everything counted: chunks, series, index, postings, symbols)",
        stats.samples,
        stats.bytes as f64 / (1 << 20) as f64,
        stats.bytes as f64 / stats.samples as f64,
    );

    // Reads after the hour, uncapped: 241 samples, so two closed chunks and a head of one sample
    // (a 5-minute window straddles the newest closed chunk and the head).
    query_group(
        c,
        "query-hour",
        &store,
        T0 + HOUR_CYCLES * INTERVAL_MS + 1000,
    );

    // The cap: half of what an hour takes, enforced on every cycle from now on.
    let cap = stats.bytes / 2;
    store.set_config(StoreConfig {
        retention_ms: 3_600_000,
        memory_cap_bytes: cap,
    });
    let mut next = HOUR_CYCLES + 1;
    let start = Instant::now();
    store.gc(T0 + next * INTERVAL_MS);
    let first_gc = start.elapsed();
    let (mut ingest_time, mut gc_time) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..20 {
        let start = Instant::now();
        ingest(&mut store, &pods, next);
        ingest_time += start.elapsed();
        let start = Instant::now();
        store.gc(T0 + next * INTERVAL_MS + 1000);
        gc_time += start.elapsed();
        let s = store.stats();
        assert!(s.bytes <= cap, "cap not honoured: {} > {cap}", s.bytes);
        next += 1;
    }
    println!(
        "series_store: capped cycles: ingest {:.2?}, gc {:.2?} (averages of 20)",
        ingest_time / 20,
        gc_time / 20
    );
    let capped = store.stats();
    println!(
        "series_store: cap {:.1} MiB honoured over 20 cycles: {:.1} MiB held, {} samples kept \
         ({:.2} bytes each), {} samples and {} series evicted (first gc to the cap {first_gc:.2?})",
        cap as f64 / (1 << 20) as f64,
        capped.bytes as f64 / (1 << 20) as f64,
        capped.samples,
        capped.bytes as f64 / capped.samples as f64,
        capped.evicted_samples,
        capped.evicted_series,
    );

    let mut group = c.benchmark_group("ingest");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.bench_function(
        "one cycle, 10000 targets x 60 series, capped, with gc",
        |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(cycle(&mut store, &pods, next));
                    next += 1;
                }
                start.elapsed()
            })
        },
    );
    group.finish();

    let now = T0 + (next - 1) * INTERVAL_MS + 1000;
    query_group(c, "query", &store, now);
}

/// Reads over one workload's 600 request counters at `now`: the select plus `rate` over 1 and 5
/// minutes (the windows at the end of the head that rules read), and every stored sample (what
/// decoding costs per sample; the throughput is in samples).
fn query_group(c: &mut Criterion, name: &str, store: &Store, now: i64) {
    let matchers = [
        Matcher::new("__name__", MatchOp::Equal, "http_requests_total")
            .unwrap_or_else(|e| panic!("{e}")),
        Matcher::new("job", MatchOp::Equal, "svc-042").unwrap_or_else(|e| panic!("{e}")),
    ];
    let rate = |range: i64| {
        let ids = store.select(&matchers);
        let mut total = 0.0;
        for id in &ids {
            let mut samples = store.samples(*id, now - range + 1, now);
            samples.retain(|&(_, v)| !is_stale(v));
            total += extrapolated_rate(&samples, now - range, now, true, true).unwrap_or(0.0);
        }
        (ids.len(), total)
    };
    let ids = store.select(&matchers);
    let stored: usize = ids
        .iter()
        .map(|&id| store.samples(id, i64::MIN, i64::MAX).len())
        .sum();
    let mut group = c.benchmark_group(name);
    group.bench_function(
        "select + rate(http_requests_total{job=..}[1m]), 600 series",
        |b| b.iter(|| black_box(rate(60_000))),
    );
    group.bench_function(
        "select + rate(http_requests_total{job=..}[5m]), 600 series",
        |b| b.iter(|| black_box(rate(300_000))),
    );
    group.throughput(Throughput::Elements(stored as u64));
    group.bench_function(
        format!("every sample of 600 series ({stored} samples)"),
        |b| {
            b.iter(|| {
                let n: usize = ids
                    .iter()
                    .map(|&id| store.samples(id, i64::MIN, i64::MAX).len())
                    .sum();
                black_box(n)
            })
        },
    );
    group.finish();
}

criterion_group!(series_store, benches);
criterion_main!(series_store);
