//! Exposition parsing throughput on a real node-exporter page (tests/fixtures/exposition,
//! captured from Debian's prometheus-node-exporter): ours against prometheus-parse 0.2.5, the
//! baseline the issue replaces (it is also wrong on some valid input: see
//! tests/integration/exposition.rs). Criterion reports bytes/s; samples/s is printed once,
//! from the sample count, so the two figures come from one run.
//!
//! - `expo_parse/ours_text`: `metrics::expo::parse` in the text format.
//! - `expo_parse/ours_openmetrics`: the simulator's OpenMetrics page (Debian's exporters only
//!   speak text), for the cost of the stricter format.
//! - `expo_parse/prometheus_parse`: `prometheus_parse::Scrape::parse` over the same lines.
//!
//! `cargo bench --bench expo_parse`.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use watchfloor::metrics::expo::{Format, parse};

// The binary's allocator (src/main.rs), so allocation costs here are the console's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/exposition/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn theirs(page: &str) -> usize {
    let lines = page.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines)
        .map(|s| s.samples.len())
        .unwrap_or(0)
}

/// Samples per second over `rounds` parses, printed beside criterion's bytes/s.
fn samples_per_second(label: &str, samples: usize, rounds: u32, mut f: impl FnMut()) {
    let start = Instant::now();
    for _ in 0..rounds {
        f();
    }
    let secs = start.elapsed().as_secs_f64();
    let per_sec = samples as f64 * f64::from(rounds) / secs;
    println!("{label}: {samples} samples per page, {per_sec:.0} samples/s");
}

fn bench(c: &mut Criterion) {
    let node = fixture("node_exporter.txt");
    let om = fixture("sim_api.om.txt");
    let ours_samples = parse(&node, Format::Text).samples.len();
    let om_samples = parse(&om, Format::OpenMetrics).samples.len();
    samples_per_second("ours_text", ours_samples, 2000, || {
        black_box(parse(black_box(&node), Format::Text));
    });
    samples_per_second("ours_openmetrics", om_samples, 2000, || {
        black_box(parse(black_box(&om), Format::OpenMetrics));
    });
    // prometheus-parse groups histogram and summary lines into one sample each, so its own
    // count is lower; samples/s uses ours (the same lines read).
    samples_per_second("prometheus_parse", ours_samples, 200, || {
        black_box(theirs(black_box(&node)));
    });

    let mut group = c.benchmark_group("expo_parse");
    group.throughput(Throughput::Bytes(node.len() as u64));
    group.bench_function("ours_text", |b| {
        b.iter(|| parse(black_box(&node), Format::Text))
    });
    group.bench_function("prometheus_parse", |b| b.iter(|| theirs(black_box(&node))));
    group.throughput(Throughput::Bytes(om.len() as u64));
    group.bench_function("ours_openmetrics", |b| {
        b.iter(|| parse(black_box(&om), Format::OpenMetrics))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
