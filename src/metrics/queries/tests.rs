use std::sync::RwLock;

use super::*;
use crate::metrics::ingest::append_restarts;
use crate::metrics::signals::Restarts;
use crate::metrics::store::{Incoming, StoreConfig};

const T0: i64 = 1_700_000_000_000;

/// One pod of shop/api scraped every 15 s for 5 minutes at 10 requests/s, with 2 restarts.
fn store() -> RwLock<Store> {
    let store = RwLock::new(Store::new(StoreConfig {
        retention_ms: 3_600_000,
        memory_cap_bytes: 16 << 20,
    }));
    let (scrape, kube) = {
        let mut s = store.write().unwrap();
        (s.target("c1/shop/api-1"), s.target("kube-state:0"))
    };
    let labels = [
        ("cluster", "c1"),
        ("code", "200"),
        ("namespace", "shop"),
        ("pod", "api-1"),
        ("workload", "api"),
    ];
    let restarts = [Restarts {
        namespace: "shop".into(),
        pod: "api-1".into(),
        workload: Some("api".into()),
        container: "app".into(),
        count: 2,
    }];
    for i in 0..=20 {
        let t = T0 + i * 15_000;
        let inc = [Incoming {
            name: "http_requests_total",
            labels: &labels,
            value: (i * 150) as f64,
            timestamp_ms: None,
        }];
        store.write().unwrap().ingest(scrape, t, inc);
        append_restarts(&store, kube, "c1", &restarts, t);
    }
    store
}

#[test]
fn a_workload_panel_has_its_rate_and_restarts_and_says_why_rows_are_missing() {
    let store = store();
    let s = store.read().unwrap();
    let now = T0 + 300_000;
    let p = panel(
        &s,
        "c1",
        0,
        Kind::Deployment,
        &ObjKey::new("shop", "api"),
        300,
        60_000,
        now,
    );
    let labels: Vec<&str> = p.rows.iter().map(|r| r.label).collect();
    // No errors series with values other than 0 and no histogram: only what has data.
    assert_eq!(labels, ["requests/s", "5xx ratio", "restarts"]);
    assert!((p.rows[0].last().unwrap() - 10.0).abs() < 1e-9);
    assert_eq!(p.rows[2].last(), Some(2.0));
    assert_eq!(p.rows[0].points.len(), PANEL_POINTS);
    assert_eq!(p.empty_reason, None);
    let other = panel(
        &s,
        "c1",
        0,
        Kind::Deployment,
        &ObjKey::new("shop", "db"),
        300,
        60_000,
        now,
    );
    assert!(other.rows.is_empty());
    assert!(other.empty_reason.unwrap().contains("no metrics scraped"));
}

#[test]
fn the_explorer_lists_names_series_and_charts_one() {
    let store = store();
    let s = store.read().unwrap();
    let now = T0 + 300_000;
    let names = names(&s);
    assert!(
        names.contains(&("http_requests_total".to_string(), 1)),
        "{names:?}"
    );
    let list = series(&s, "http_requests_total", now);
    assert_eq!(list.list.len(), 1);
    assert_eq!(list.more, 0);
    assert_eq!(list.list[0].last, Some(3000.0));
    assert!(list.list[0].labels.iter().all(|(k, _)| k != "__name__"));
    let mut labels = vec![("__name__".to_string(), "http_requests_total".to_string())];
    labels.extend(list.list[0].labels.iter().cloned());
    let c = chart(&s, &labels, 60, now);
    assert_eq!(c.name, "http_requests_total");
    // 60 s back from now, both ends included: 5 scrapes.
    assert_eq!(c.points.len(), 5);
    // A label set that names no series exactly charts nothing.
    let c = chart(&s, &labels[..2], 60, now);
    assert!(c.points.is_empty());
}
