use std::collections::HashMap;

use super::*;
use crate::metrics::store::{Incoming, StoreConfig};

const T0: i64 = 1_700_000_000_000;

/// Two pods of `shop/api` in cluster `c1`, scraped every 15 s for `scrapes` times: 10 requests/s
/// answered 200 and 1/s answered 500 per pod, latency buckets 8/s under 0.1 s and 10.5/s under
/// 0.5 s, a quarter of a core and 100 MiB each.
fn store(scrapes: i64) -> Store {
    let mut s = Store::new(StoreConfig {
        retention_ms: 3_600_000,
        memory_cap_bytes: 64 << 20,
    });
    for pod in ["api-1", "api-2"] {
        let target = s.target(pod);
        let base = [
            ("cluster", "c1"),
            ("namespace", "shop"),
            ("pod", pod),
            ("workload", "api"),
        ];
        for i in 0..scrapes {
            let t = T0 + i * 15_000;
            let secs = (i * 15) as f64;
            let with = |extra: &[(&'static str, &'static str)]| {
                let mut l = base.to_vec();
                l.extend_from_slice(extra);
                l
            };
            type Labelled<'a> = (&'a str, Vec<(&'a str, &'a str)>, f64);
            let series: Vec<Labelled<'_>> = vec![
                ("http_requests_total", with(&[("code", "200")]), 10.0 * secs),
                ("http_requests_total", with(&[("code", "500")]), 1.0 * secs),
                (
                    "http_request_duration_seconds_bucket",
                    with(&[("le", "0.1")]),
                    8.0 * secs,
                ),
                (
                    "http_request_duration_seconds_bucket",
                    with(&[("le", "0.5")]),
                    10.5 * secs,
                ),
                (
                    "http_request_duration_seconds_bucket",
                    with(&[("le", "+Inf")]),
                    11.0 * secs,
                ),
                ("process_cpu_seconds_total", with(&[]), 0.25 * secs),
                (
                    "process_resident_memory_bytes",
                    with(&[]),
                    100.0 * 1024.0 * 1024.0,
                ),
            ];
            let incoming = series.iter().map(|(n, l, v)| Incoming {
                name: n,
                labels: l,
                value: *v,
                timestamp_ms: None,
            });
            s.ingest(target, t, incoming);
        }
    }
    s
}

fn clusters() -> HashMap<String, ClusterId> {
    HashMap::from([("c1".to_string(), 0)])
}

#[test]
fn golden_signals_are_what_the_promql_would_say() {
    let s = store(9);
    let ids = clusters();
    let labels = Labels { clusters: &ids };
    let now = T0 + 8 * 15_000;
    let g = workloads(&s, &labels, now, 60_000);
    let api = g[&(0, ObjKey::new("shop", "api"))];
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(api.rate.unwrap(), 22.0), "{api:?}");
    assert!(close(api.error_ratio.unwrap(), 1.0 / 11.0), "{api:?}");
    // rank 0.95 × 22 = 20.9 lies in (0.1, 0.5] holding 16..21: 0.1 + 0.4 × 4.9/5.
    assert!(close(api.p95.unwrap(), 0.492), "{api:?}");
    let u = pods(&s, &labels, now, 60_000);
    let one = u[&(0, ObjKey::new("shop", "api-1"))];
    assert!(close(one.cpu.unwrap(), 0.25));
    assert_eq!(one.memory, Some(100.0 * 1024.0 * 1024.0));
}

#[test]
fn one_sample_in_the_window_is_no_rate_and_unknown_clusters_are_left_out() {
    let s = store(1);
    let ids = clusters();
    let g = workloads(&s, &Labels { clusters: &ids }, T0, 60_000);
    let api = g[&(0, ObjKey::new("shop", "api"))];
    assert_eq!((api.rate, api.error_ratio, api.p95), (None, None, None));
    let none = HashMap::new();
    assert!(workloads(&s, &Labels { clusters: &none }, T0, 60_000).is_empty());
}

#[test]
fn a_counter_reset_is_not_a_negative_rate() {
    let mut s = Store::new(StoreConfig {
        retention_ms: 3_600_000,
        memory_cap_bytes: 1 << 20,
    });
    let target = s.target("p");
    let labels = [
        ("cluster", "c1"),
        ("namespace", "n"),
        ("workload", "w"),
        ("code", "200"),
    ];
    // 100, 200, then the process restarted: 50, 150.
    for (i, v) in [100.0, 200.0, 50.0, 150.0].into_iter().enumerate() {
        let inc = [Incoming {
            name: "http_requests_total",
            labels: &labels,
            value: v,
            timestamp_ms: None,
        }];
        s.ingest(target, T0 + i as i64 * 15_000, inc);
    }
    let ids = clusters();
    let g = workloads(&s, &Labels { clusters: &ids }, T0 + 45_000, 60_000);
    let rate = g[&(0, ObjKey::new("n", "w"))].rate.unwrap();
    assert!(rate > 0.0, "{rate}");
}
