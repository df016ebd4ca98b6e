use std::sync::RwLock;
use std::time::Duration;

use super::*;
use crate::metrics::scrape::{Body, ScrapeError, ScrapeResult};
use crate::metrics::store::{MatchOp, Matcher, StoreConfig};

const T0: i64 = 1_700_000_000_000;

fn result(outcome: Result<Body, ScrapeError>, at: i64) -> ScrapeResult {
    ScrapeResult {
        key: "c1/shop/api-1".into(),
        started_ms: at,
        duration: Duration::from_millis(12),
        outcome,
    }
}

fn page(text: &str) -> Result<Body, ScrapeError> {
    Ok(Body {
        text: text.into(),
        content_type: Some("text/plain; version=0.0.4".into()),
    })
}

fn value(store: &RwLock<Store>, name: &str, at: i64) -> Option<f64> {
    let s = store.read().unwrap();
    let m = Matcher::new("__name__", MatchOp::Equal, name).unwrap();
    let ids = s.select(&[m]);
    assert!(ids.len() <= 1, "{name}: {ids:?}");
    ids.first()
        .and_then(|&id| s.instant(id, at, 300_000))
        .map(|p| p.1)
}

#[test]
fn a_scrape_gets_target_labels_and_synthetic_series_and_a_failure_makes_it_stale() {
    let store = RwLock::new(Store::new(StoreConfig {
        retention_ms: 3_600_000,
        memory_cap_bytes: 1 << 20,
    }));
    let target = store.write().unwrap().target("c1/shop/api-1");
    let labels = vec![
        ("namespace".to_string(), "shop".to_string()),
        ("pod".to_string(), "api-1".to_string()),
    ];
    let text = "# TYPE x counter\nx_total{pod=\"inner\",a=\"b\"} 5\nbroken{ 1\n";
    let a = append(&store, target, &labels, &result(page(text), T0));
    assert!(a.up);
    assert_eq!((a.samples, a.bad_lines), (1, 1));
    assert!(a.first_error.unwrap().contains("line 3"));
    assert_eq!(value(&store, "x_total", T0), Some(5.0));
    assert_eq!(value(&store, "up", T0), Some(1.0));
    assert_eq!(value(&store, "scrape_samples_scraped", T0), Some(1.0));
    assert_eq!(value(&store, "scrape_duration_seconds", T0), Some(0.012));
    {
        // The page's own `pod` label is kept as exported_pod; the target's wins.
        let s = store.read().unwrap();
        let id = s.select(&[Matcher::new("__name__", MatchOp::Equal, "x_total").unwrap()])[0];
        assert_eq!(s.label(id, "pod"), Some("api-1"));
        assert_eq!(s.label(id, "exported_pod"), Some("inner"));
        assert_eq!(s.label(id, "a"), Some("b"));
    }
    let failed = append(
        &store,
        target,
        &labels,
        &result(
            Err(ScrapeError::Timeout(Duration::from_secs(5))),
            T0 + 15_000,
        ),
    );
    assert!(!failed.up);
    assert!(failed.first_error.is_some());
    assert_eq!(value(&store, "up", T0 + 15_000), Some(0.0));
    assert_eq!(
        value(&store, "x_total", T0 + 15_000),
        None,
        "stale after a failed scrape"
    );
    // A page of nothing but bad lines is a failed scrape.
    let html = append(
        &store,
        target,
        &labels,
        &result(page("<html>502 Bad Gateway</html>\n"), T0 + 30_000),
    );
    assert!(!html.up);
    assert_eq!(html.bad_lines, 1);
    assert_eq!(value(&store, "up", T0 + 30_000), Some(0.0));
}
