//! The `/metrics` pages of api, web and worker containers: HTTP request counters and latency
//! histograms, process metrics, and per kind the database pool (api) and the job queue (worker).
//! The datastores' sidecar pages are in `exporter.rs`.
//!
//! Every counter is an integral since the container instance started (see `model::Totals`),
//! floored to whole requests, so it is monotonic, agrees with the error rate and resets on restart.

use super::expo::{Expo, Format, Hist, Labels};
use super::maths::unit;
use super::model::{BUCKETS, DepRole, Instance, Totals, Traffic};
use super::profile::{HealthStyle, Kind};
use super::routes::{SERVER_ERRORS, paths, routes};
use super::stable_hash;

/// Scrapes per second a sidecar exporter or a worker's metrics endpoint gets (every 15 s).
pub const SCRAPE_RATE: f64 = 1.0 / 15.0;
/// Probe requests per second on a worker's liveness path (every 10 s).
const PROBE_RATE: f64 = 0.1;
/// The pool size of an api's database client.
pub const POOL_MAX: f64 = 20.0;

pub fn process(e: &mut Expo, cpu_seconds: f64, rss: f64, start: f64, fds: f64) {
    e.counter(
        "process_cpu_seconds",
        "Total user and system CPU time spent in seconds.",
        &[(&[], cpu_seconds)],
    );
    e.gauge(
        "process_resident_memory_bytes",
        "Resident memory size in bytes.",
        &[(&[], rss.round())],
    );
    e.gauge(
        "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.",
        &[(&[], start_epoch(start))],
    );
    e.gauge(
        "process_open_fds",
        "Number of open file descriptors.",
        &[(&[], fds)],
    );
    e.gauge(
        "process_max_fds",
        "Maximum number of open file descriptors.",
        &[(&[], 1_048_576.0)],
    );
}

/// Seconds since the Unix epoch of a model time, to the millisecond.
fn start_epoch(t: f64) -> f64 {
    let ms = super::maths::stamp(t).as_millisecond();
    ms as f64 / 1000.0
}

/// Requests per route and code, floored, as `(route index, code, count)`.
fn per_code(inst: &Instance<'_>, tot: &Totals) -> Vec<(usize, u16, u64)> {
    let ok = (tot.requests - tot.errors - tot.unavailable).max(0.0);
    let mut out = Vec::new();
    for (i, r) in routes(inst.profile.kind, inst.profile.health)
        .iter()
        .enumerate()
    {
        for &(code, share) in r.codes {
            out.push((i, code, (ok * r.share * share).floor() as u64));
        }
        for (code, share) in SERVER_ERRORS {
            let mut n = tot.errors * share;
            if code == 503 {
                n += tot.unavailable;
            }
            out.push((i, code, (n * r.share).floor() as u64));
        }
    }
    out
}

/// The HTTP families over the app's business routes.
fn http_families(e: &mut Expo, inst: &Instance<'_>, tot: &Totals) {
    let rs = routes(inst.profile.kind, inst.profile.health);
    let counts = per_code(inst, tot);
    let codes: Vec<String> = counts.iter().map(|c| c.1.to_string()).collect();
    let labels: Vec<[(&str, &str); 3]> = counts
        .iter()
        .zip(&codes)
        .map(|(&(i, _, _), code)| {
            [
                ("method", rs[i].method),
                ("route", rs[i].template),
                ("code", code.as_str()),
            ]
        })
        .collect();
    let samples: Vec<(Labels<'_>, f64)> = labels
        .iter()
        .zip(&counts)
        .map(|(l, c)| (&l[..], c.2 as f64))
        .collect();
    e.counter(
        "http_requests",
        "Total number of HTTP requests by method, route and status code.",
        &samples,
    );
    let hist_labels: Vec<[(&str, &str); 2]> = rs
        .iter()
        .map(|r| [("method", r.method), ("route", r.template)])
        .collect();
    let buckets: Vec<Vec<(f64, u64)>> = rs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let count: u64 = counts.iter().filter(|c| c.0 == i).map(|c| c.2).sum();
            BUCKETS
                .iter()
                .zip(tot.buckets)
                .map(|(&le, n)| (le, ((n * r.share).floor() as u64).min(count)))
                .collect()
        })
        .collect();
    let series: Vec<Hist<'_>> = rs
        .iter()
        .enumerate()
        .map(|(i, r)| Hist {
            labels: &hist_labels[i],
            buckets: &buckets[i],
            count: counts.iter().filter(|c| c.0 == i).map(|c| c.2).sum(),
            sum: tot.latency_sum * r.share,
        })
        .collect();
    e.histogram(
        "http_request_duration_seconds",
        "HTTP request latency in seconds by method and route.",
        &series,
    );
}

/// A worker's own HTTP traffic: its probes and scrapes, always quick and fine.
fn worker_http(e: &mut Expo, inst: &Instance<'_>, t: f64) {
    let p = paths(inst.profile.health);
    let up = (t.min(inst.exit_at()).min(inst.hang_at) - inst.listen_at).max(0.0);
    let live = (up * PROBE_RATE).floor() as u64;
    let scrapes = (up * SCRAPE_RATE).floor() as u64;
    e.counter(
        "http_requests",
        "Total number of HTTP requests by method, route and status code.",
        &[
            (
                &[("method", "GET"), ("route", p.live), ("code", "200")],
                live as f64,
            ),
            (
                &[("method", "GET"), ("route", p.metrics), ("code", "200")],
                scrapes as f64,
            ),
        ],
    );
    // Health and metrics handlers answer within a few milliseconds.
    let fast = |n: u64, share: f64| -> Vec<(f64, u64)> {
        BUCKETS
            .iter()
            .map(|&le| {
                let f = if le >= 0.025 { 1.0 } else { share * le / 0.01 };
                (le, ((n as f64 * f.min(1.0)).floor() as u64).min(n))
            })
            .collect()
    };
    let (lb, mb) = (fast(live, 0.9), fast(scrapes, 0.6));
    e.histogram(
        "http_request_duration_seconds",
        "HTTP request latency in seconds by method and route.",
        &[
            Hist {
                labels: &[("method", "GET"), ("route", p.live)],
                buckets: &lb,
                count: live,
                sum: live as f64 * 0.002,
            },
            Hist {
                labels: &[("method", "GET"), ("route", p.metrics)],
                buckets: &mb,
                count: scrapes,
                sum: scrapes as f64 * 0.006,
            },
        ],
    );
}

/// Jobs waiting in the worker app's queue at `t`: the same for every replica (it is one queue),
/// a swell with the load plus a backlog that grows while a dependency is down or jobs fail, and
/// drains afterwards.
pub fn queue_depth(inst: &Instance<'_>, t: f64) -> f64 {
    let arrival = inst.tuned.rps * 2.0;
    let mut windows: Vec<(f64, f64)> = inst
        .deps
        .iter()
        .flat_map(|d| d.down.iter().map(|w| (w.from, w.until)))
        .chain(inst.errors.iter().map(|w| (w.from, w.until)))
        .filter(|w| w.0 < t)
        .collect();
    windows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut backlog: f64 = 0.0;
    if let Some(first) = windows.first().map(|w| w.0) {
        let mut cuts: Vec<f64> = windows
            .iter()
            .flat_map(|w| [w.0, w.1])
            .filter(|&c| c >= first && c < t)
            .collect();
        cuts.push(t);
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        for w in cuts.windows(2) {
            let mid = w[0] + (w[1] - w[0]) / 2.0;
            let growth = if inst.deps.iter().any(|d| d.down_at(mid)) {
                arrival
            } else {
                arrival * inst.fault_error_rate(mid) - arrival
            };
            backlog = (backlog + growth * (w[1] - w[0])).max(0.0);
        }
    }
    let slot = (t / 5.0).floor() as i64;
    let noise = unit(stable_hash(inst.app_hash, &[&slot.to_le_bytes()]));
    let base = inst.tuned.rps * 3.0 * inst.level(t);
    (base * (0.8 + 0.4 * noise) + backlog).round()
}

fn worker(e: &mut Expo, inst: &Instance<'_>, tot: &Totals, t: f64) {
    let queue: Labels<'_> = &[("queue", "default")];
    let failed = (tot.errors + tot.unavailable).floor();
    e.counter(
        "jobs_processed",
        "Jobs taken off the queue and finished, failed or not.",
        &[(queue, tot.requests.floor().max(failed))],
    );
    e.counter(
        "jobs_failed",
        "Jobs that finished with an error.",
        &[(queue, failed)],
    );
    e.gauge(
        "jobs_queue_depth",
        "Jobs waiting in the queue.",
        &[(queue, queue_depth(inst, t))],
    );
    let count = tot.requests.floor() as u64;
    let buckets: Vec<(f64, u64)> = BUCKETS
        .iter()
        .zip(tot.buckets)
        .map(|(&le, n)| (le, (n.floor() as u64).min(count)))
        .collect();
    e.histogram(
        "job_duration_seconds",
        "Time to process one job in seconds.",
        &[Hist {
            labels: queue,
            buckets: &buckets,
            count,
            sum: tot.latency_sum,
        }],
    );
}

/// Connections of the api's database pool in use at `t` (Little's law: arrivals × time held).
pub fn pool_in_use(inst: &Instance<'_>, t: f64) -> f64 {
    let (traffic, _) = inst.traffic(t);
    if traffic == Traffic::None || inst.deps_down(t).any(|d| d.role == DepRole::Database) {
        return 0.0;
    }
    let held = inst.latency(t).mean() * 0.6;
    let slot = (t / 5.0).floor() as i64;
    let noise = unit(stable_hash(inst.pod.hash(0x51), &[&slot.to_le_bytes()]));
    (1.0 + inst.rps(t) * held + 2.0 * noise)
        .floor()
        .min(POOL_MAX)
}

fn runtime_families(e: &mut Expo, inst: &Instance<'_>, t: f64) {
    match inst.profile.health {
        HealthStyle::Arq => {
            let lag = 0.002 + inst.cpu_millicores(t) / 1000.0 * 0.01;
            e.gauge(
                "nodejs_eventloop_lag_seconds",
                "Lag of event loop in seconds.",
                &[(&[], (lag * 1e6).round() / 1e6)],
            );
            e.gauge(
                "nodejs_heap_size_used_bytes",
                "Process heap size used from Node.js in bytes.",
                &[(&[], (inst.memory(t) * 0.55).round())],
            );
        }
        HealthStyle::Arxos => e.gauge(
            "python_info",
            "Python platform information.",
            &[(
                &[
                    ("implementation", "CPython"),
                    ("major", "3"),
                    ("minor", "11"),
                    ("patchlevel", "9"),
                    ("version", "3.11.9"),
                ],
                1.0,
            )],
        ),
        HealthStyle::Plain => {}
    }
}

/// The metrics page of an api, web or worker container at `t`.
pub fn service(inst: &Instance<'_>, t: f64, format: Format) -> String {
    let tot = inst.totals(t);
    let mut e = Expo::new(format);
    e.gauge(
        "app_build_info",
        "The running version of the app.",
        &[(&[("app", inst.app), ("version", inst.pod.tag())], 1.0)],
    );
    if inst.profile.kind == Kind::Worker {
        worker_http(&mut e, inst, t);
        worker(&mut e, inst, &tot, t);
    } else {
        http_families(&mut e, inst, &tot);
    }
    if inst.profile.kind == Kind::Api && inst.deps.iter().any(|d| d.role == DepRole::Database) {
        e.gauge(
            "db_pool_connections_in_use",
            "Database pool connections checked out.",
            &[(&[], pool_in_use(inst, t))],
        );
        e.gauge(
            "db_pool_connections_max",
            "Database pool size.",
            &[(&[], POOL_MAX)],
        );
    }
    runtime_families(&mut e, inst, t);
    let fds = 24.0 + (inst.rps(t) * 0.5).floor();
    process(&mut e, tot.cpu_seconds, inst.memory(t), inst.start, fds);
    e.finish()
}

#[cfg(test)]
mod tests;
