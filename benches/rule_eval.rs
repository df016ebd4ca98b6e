//! What evaluating alert and recording rules costs: 50 typical expressions (rates, error ratios
//! of sums by label, histogram_quantile, comparisons, absent, `*_over_time`) evaluated at one
//! instant over the console's series store holding 100,000 series with an hour of 15 s samples
//! (24 million samples).
//!
//! The workload: 50 jobs × 50 pods, each pod exposing 40 series: request counters by method and
//! code (6), two latency histograms of 12 buckets with sum and count (28), `up`, and five process
//! gauges and counters; target labels job, namespace, pod and instance. The request counters rise
//! by irregular steps, as counters do, and one pod in 50 restarts once during the hour (its
//! counters reset). Until session 9 their jitter made the slowest of them (`POST`, `code="500"`:
//! one counter in six) fall back on about one scrape in 13, which counters never do;
//! `RULE_EVAL_OLD_COUNTERS=1` builds them that way still.
//!
//! The cycle evaluates the 50 rules as the console evaluates a rule group: at one instant, with
//! the store's selections shared between the rules through a planned `SelectionCache` and
//! repeated subexpressions evaluated once through a planned `ExprCache` (both planned in the
//! timed loop, as the console plans them at each evaluation), on one thread per core
//! (`Engine::instant_each`: none of the 50 reads what another writes). "cycle on one thread"
//! is the same cycle evaluated rule after rule on one thread; "alone" evaluates each rule on
//! its own, sharing nothing.
//!
//! `cargo bench --bench rule_eval` (`-- cycle` for the 50-rule cycle only). With
//! `RULE_EVAL_ONLY=text` in the environment, only the rules containing `text` are evaluated
//! (to time one rule, or a few, in the cycle's setting). With `RULE_EVAL_INCYCLE=1`, each rule's
//! best time inside 15 cycles on one thread is printed first, with the fastest and median of
//! those cycles and of 15 cycles on one thread per core (the run can be cut short with a filter
//! matching no benchmark: `-- zzz`).

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use watchfloor::alerts::promql::{Cached, Engine, Expr, ExprCache, SelectionCache, Value, parse};
use watchfloor::metrics::store::{Incoming, Store, StoreConfig};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const JOBS: usize = 50;
const PODS_PER_JOB: usize = 50;
const INTERVAL_MS: i64 = 15_000;
const CYCLES: i64 = 240;
const T0: i64 = 1_795_000_000_000;
const BUCKETS: [&str; 12] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];

/// A cheap deterministic mix for values.
fn mix(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    x ^= x >> 29;
    x.wrapping_mul(0x1656_67B1_9E37_79F9) >> 40
}

/// One series of a pod: name, labels without the target ones, value at cycle c.
type PodSeries = (String, Vec<(String, String)>, Box<dyn Fn(i64) -> f64>);

fn pod_series(pod: u64, old_counters: bool) -> Vec<PodSeries> {
    let mut out: Vec<PodSeries> = Vec::new();
    let l = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    for (mi, method) in ["GET", "POST"].iter().enumerate() {
        for (ci, code) in ["200", "404", "500"].iter().enumerate() {
            let rate = [50.0, 2.0, 0.5][ci] / (mi + 1) as f64;
            // Rising by rate × 15 a scrape, give or take up to 6/7 of that: never falling.
            let count = move |c: i64| {
                let jitter = (mix(pod, c as u64) % 7) as f64;
                if old_counters {
                    (c as f64 * rate * 15.0 + jitter).floor()
                } else {
                    (c as f64 * rate * 15.0 + jitter / 7.0 * rate * 15.0).floor()
                }
            };
            let restart = (pod % 50 == 7).then_some(120 + (pod % 100) as i64);
            out.push((
                "http_requests_total".into(),
                l(&[("method", method), ("code", code)]),
                Box::new(move |c| match restart {
                    Some(r) if c >= r && !old_counters => count(c) - count(r),
                    _ => count(c),
                }),
            ));
        }
    }
    for hist in ["http_request_duration_seconds", "db_query_duration_seconds"] {
        for (bi, le) in BUCKETS.iter().enumerate() {
            let share = (bi + 1) as f64 / BUCKETS.len() as f64;
            out.push((
                format!("{hist}_bucket"),
                l(&[("le", le)]),
                Box::new(move |c| (c as f64 * 40.0 * share).floor()),
            ));
        }
        out.push((
            format!("{hist}_sum"),
            Vec::new(),
            Box::new(|c| c as f64 * 3.1),
        ));
        out.push((
            format!("{hist}_count"),
            Vec::new(),
            Box::new(|c| c as f64 * 40.0),
        ));
    }
    out.push((
        "up".into(),
        Vec::new(),
        Box::new(move |_| if pod.is_multiple_of(97) { 0.0 } else { 1.0 }),
    ));
    out.push((
        "process_cpu_seconds_total".into(),
        Vec::new(),
        Box::new(move |c| c as f64 * 0.37 + (pod % 5) as f64),
    ));
    out.push((
        "process_resident_memory_bytes".into(),
        Vec::new(),
        Box::new(move |c| (200_000_000 + mix(pod, c as u64) * 4096) as f64),
    ));
    out.push((
        "go_goroutines".into(),
        Vec::new(),
        Box::new(move |c| (100 + mix(pod, c as u64) % 50) as f64),
    ));
    out.push((
        "queue_depth".into(),
        Vec::new(),
        Box::new(move |c| (mix(pod, c as u64) % 20) as f64),
    ));
    out.push((
        "process_open_fds".into(),
        Vec::new(),
        Box::new(move |_| 64.0),
    ));
    out
}

fn build_store(old_counters: bool) -> Store {
    let mut store = Store::new(StoreConfig {
        retention_ms: 3_600_000,
        memory_cap_bytes: 2 << 30,
    });
    let mut pods = Vec::new();
    for j in 0..JOBS {
        for p in 0..PODS_PER_JOB {
            let id = (j * PODS_PER_JOB + p) as u64;
            let key = format!("pod-{id}");
            let target = store.target(&key);
            let mut series = pod_series(id, old_counters);
            for s in &mut series {
                s.1.push(("job".into(), format!("job-{j}")));
                s.1.push(("namespace".into(), format!("ns-{}", j % 5)));
                s.1.push(("pod".into(), format!("job-{j}-{p}")));
                s.1.push(("instance".into(), format!("10.0.{j}.{p}:8080")));
            }
            pods.push((target, series));
        }
    }
    for c in 0..CYCLES {
        for (target, series) in &pods {
            let labels: Vec<Vec<(&str, &str)>> = series
                .iter()
                .map(|(_, l, _)| l.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
                .collect();
            store.ingest(
                *target,
                T0 + c * INTERVAL_MS,
                series
                    .iter()
                    .zip(labels.iter())
                    .map(|((name, _, f), l)| Incoming {
                        name,
                        labels: l,
                        value: f(c),
                        timestamp_ms: None,
                    }),
            );
        }
    }
    store
}

/// 50 rule expressions of the kinds alerting and recording rules use.
const RULES: [&str; 50] = [
    "sum by (job) (rate(http_requests_total[5m]))",
    "sum by (job, code) (rate(http_requests_total[5m]))",
    "sum by (job) (rate(http_requests_total{code=\"500\"}[5m])) / sum by (job) (rate(http_requests_total[5m])) > 0.05",
    "sum by (namespace) (rate(http_requests_total{code=~\"5..\"}[5m])) / sum by (namespace) (rate(http_requests_total[5m]))",
    "histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m]))) > 0.5",
    "histogram_quantile(0.95, sum by (le) (rate(db_query_duration_seconds_bucket[5m])))",
    "histogram_quantile(0.5, sum by (namespace, le) (rate(http_request_duration_seconds_bucket[10m])))",
    "up == 0",
    "count by (job) (up == 0) > 0",
    "absent(up{job=\"job-7\"})",
    "absent(up{job=\"missing\"})",
    "avg by (job) (up) < 0.9",
    "avg_over_time(go_goroutines[10m]) > 140",
    "max_over_time(queue_depth[15m]) > 18",
    "min_over_time(up[10m]) == 0",
    "quantile_over_time(0.9, go_goroutines{job=\"job-3\"}[30m])",
    "stddev_over_time(queue_depth{namespace=\"ns-1\"}[30m])",
    "sum_over_time(up{job=\"job-9\"}[1h])",
    "count_over_time(up{job=\"job-9\"}[1h])",
    "last_over_time(process_open_fds{job=\"job-1\"}[5m])",
    "rate(process_cpu_seconds_total[5m]) > 0.3",
    "sum by (job) (rate(process_cpu_seconds_total[5m]))",
    "irate(process_cpu_seconds_total{job=\"job-4\"}[5m])",
    "increase(http_requests_total{code=\"500\"}[1h]) > 100",
    "sum(increase(http_requests_total[1h]))",
    "delta(process_resident_memory_bytes{job=\"job-2\"}[30m])",
    "deriv(process_resident_memory_bytes{job=\"job-2\"}[30m])",
    "predict_linear(process_resident_memory_bytes{job=\"job-2\"}[30m], 3600) > 1e9",
    "changes(up[1h]) > 0",
    "resets(http_requests_total{job=\"job-5\"}[1h])",
    "process_resident_memory_bytes > 2e8 * 1.5",
    "topk(5, sum by (pod) (rate(http_requests_total[5m])))",
    "bottomk(3, sum by (job) (rate(http_requests_total[5m])))",
    "max by (namespace) (process_resident_memory_bytes)",
    "min by (namespace) (process_resident_memory_bytes)",
    "count by (namespace) (up)",
    "sum by (job) (rate(http_request_duration_seconds_sum[5m])) / sum by (job) (rate(http_request_duration_seconds_count[5m]))",
    "rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m]) > 0.1",
    "sum by (job) (rate(http_requests_total[5m])) > on (job) group_left sum by (job) (rate(http_requests_total[1h])) * 2",
    "up * on (job, instance) group_left (namespace) (process_open_fds > 0)",
    "(up == 1) and on (pod) (queue_depth > 15)",
    "up unless on (pod) queue_depth",
    "go_goroutines{job=~\"job-1.*\"} > 145",
    "queue_depth{job!=\"job-0\", namespace=\"ns-2\"} >= 19",
    "clamp_max(sum by (job) (rate(http_requests_total[5m])) / 100, 1)",
    "label_replace(up{job=\"job-3\"}, \"svc\", \"$1\", \"job\", \"job-(.*)\") == 1",
    "round(avg by (namespace) (rate(process_cpu_seconds_total[5m])), 0.01)",
    "time() - max by (job) (timestamp(up)) > 60",
    "sum by (job) (rate(http_requests_total{method=\"POST\"}[5m])) / ignoring(method) group_left sum by (job) (rate(http_requests_total[5m]))",
    "stdvar by (job) (go_goroutines)",
];

fn benches(c: &mut Criterion) {
    let built = Instant::now();
    let old_counters = std::env::var_os("RULE_EVAL_OLD_COUNTERS").is_some();
    let store = build_store(old_counters);
    let stats = store.stats();
    println!(
        "store: {} series, {} samples, {} MiB, built in {:.1?}",
        stats.series,
        stats.samples,
        stats.bytes >> 20,
        built.elapsed()
    );
    let only = std::env::var("RULE_EVAL_ONLY").ok();
    let rules: Vec<&str> = RULES
        .iter()
        .copied()
        .filter(|r| only.as_deref().is_none_or(|o| r.contains(o)))
        .collect();
    let exprs: Vec<Expr> = rules
        .iter()
        .map(|r| parse(r).expect("benchmark rule parses"))
        .collect();
    let engine = Engine::default();
    let at = T0 + (CYCLES - 1) * INTERVAL_MS;
    let mut results = 0;
    let cached = Cached::new(&store, SelectionCache::plan(&engine, &exprs, at));
    let plan = ExprCache::plan(&exprs, at, &alerts_only);
    let refs: Vec<&Expr> = exprs.iter().collect();
    let concurrent_cached = Cached::new(&store, SelectionCache::plan(&engine, &exprs, at));
    let concurrent_plan = ExprCache::plan(&exprs, at, &alerts_only);
    let concurrent = engine.instant_each(&concurrent_cached, &refs, at, Some(&concurrent_plan));
    for ((rule, e), at_once) in rules.iter().zip(&exprs).zip(concurrent) {
        let alone = engine.instant(&store, e, at);
        let shared = engine.instant_with(&cached, e, at, Some(&plan));
        assert_eq!(
            alone, shared,
            "{rule}: sharing selections changed the answer"
        );
        assert_eq!(
            alone, at_once,
            "{rule}: evaluating the rules at once changed the answer"
        );
        match alone {
            Ok(Value::Vector(v)) => results += v.len(),
            Ok(_) => results += 1,
            Err(err) => panic!("{rule}: {err}"),
        }
    }
    println!(
        "one cycle: {results} result samples from {} rules",
        exprs.len()
    );
    print_breakdown(&engine, &store, &rules, &exprs, at);
    if std::env::var_os("RULE_EVAL_INCYCLE").is_some() {
        print_in_cycle(&engine, &store, &rules, &exprs, at);
    }
    c.bench_function("cycle: 50 rules at one instant over 100k series", |b| {
        b.iter(|| black_box(cycle(&engine, &store, &refs, at)))
    });
    c.bench_function("cycle on one thread: 50 rules over 100k series", |b| {
        b.iter(|| {
            let cached = Cached::new(&store, SelectionCache::plan(&engine, &exprs, at));
            let shared = ExprCache::plan(&exprs, at, &alerts_only);
            for e in &exprs {
                black_box(engine.instant_with(&cached, e, at, Some(&shared)).ok());
            }
        })
    });
    c.bench_function("alone: 50 rules, each on its own, over 100k series", |b| {
        b.iter(|| {
            for e in &exprs {
                black_box(engine.instant(&store, e, at).ok());
            }
        })
    });
}

/// One cycle as the console runs a group whose rules read nothing it writes: selections and
/// repeated subexpressions shared, the rules evaluated on one thread per core.
fn cycle(engine: &Engine, store: &Store, exprs: &[&Expr], at: i64) -> usize {
    let cached = Cached::new(
        store,
        SelectionCache::plan(engine, exprs.iter().copied(), at),
    );
    let shared = ExprCache::plan(exprs.iter().copied(), at, &alerts_only);
    engine
        .instant_each(&cached, exprs, at, Some(&shared))
        .iter()
        .filter(|answer| answer.is_ok())
        .count()
}

/// What a group of alerting rules writes back while it runs: the alert series only.
fn alerts_only(name: &str) -> bool {
    matches!(name, "ALERTS" | "ALERTS_FOR_STATE")
}

/// The ten costliest rules (best of three evaluations each), to show where a cycle goes.
fn print_breakdown(engine: &Engine, store: &Store, rules: &[&str], exprs: &[Expr], at: i64) {
    let mut costs: Vec<(std::time::Duration, &str)> = rules
        .iter()
        .zip(exprs)
        .map(|(rule, e)| {
            let best = (0..3)
                .map(|_| {
                    let started = Instant::now();
                    black_box(engine.instant(store, e, at).ok());
                    started.elapsed()
                })
                .min()
                .unwrap_or_default();
            (best, *rule)
        })
        .collect();
    let total: std::time::Duration = costs.iter().map(|c| c.0).sum();
    costs.sort_by_key(|c| std::cmp::Reverse(c.0));
    println!("per rule (best of 3), sum {total:.1?}; the ten costliest:");
    for (cost, rule) in costs.iter().take(10) {
        println!("  {cost:>10.1?}  {rule}");
    }
}

/// Each rule's time inside the cycle (sharing as the cycle shares), best of 15 cycles, costliest
/// first, with every cycle's time: on a noisy machine the best of many cycles moves less between
/// processes than criterion's mean, and shows what each rule costs once its selections are shared.
fn print_in_cycle(engine: &Engine, store: &Store, rules: &[&str], exprs: &[Expr], at: i64) {
    let mut best = vec![std::time::Duration::MAX; exprs.len()];
    let mut cycles = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        let cached = Cached::new(store, SelectionCache::plan(engine, exprs, at));
        let shared = ExprCache::plan(exprs, at, &alerts_only);
        for (i, e) in exprs.iter().enumerate() {
            let rule = Instant::now();
            black_box(engine.instant_with(&cached, e, at, Some(&shared)).ok());
            best[i] = best[i].min(rule.elapsed());
        }
        drop(cached);
        cycles.push(started.elapsed());
    }
    let sum: std::time::Duration = best.iter().sum();
    cycles.sort();
    println!(
        "in the cycle on one thread, 15 cycles: fastest {:.1?}, median {:.1?}; each rule's best, summed: {sum:.1?}",
        cycles[0], cycles[7]
    );
    let refs: Vec<&Expr> = exprs.iter().collect();
    let mut concurrent: Vec<std::time::Duration> = (0..15)
        .map(|_| {
            let started = Instant::now();
            black_box(cycle(engine, store, &refs, at));
            started.elapsed()
        })
        .collect();
    concurrent.sort();
    println!(
        "the cycle on one thread per core, 15 cycles: fastest {:.1?}, median {:.1?}",
        concurrent[0], concurrent[7]
    );
    let mut order: Vec<usize> = (0..exprs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(best[i]));
    for i in order {
        println!("  {:>10.2?}  {}", best[i], rules[i]);
    }
}

criterion_group! {
    name = rule_eval;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(rule_eval);
