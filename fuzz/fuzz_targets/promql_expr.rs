//! Arbitrary text into the PromQL parser and, when it parses, the evaluator (instant and a short
//! range, 3.x and 2.x) over a small MemStore with counters, gauges, a classic histogram and a
//! staleness marker. Neither may panic; evaluation errors are fine. Evaluated twice more as two
//! rules of one group (a shared `SelectionCache` and `ExprCache`, as the console evaluates
//! groups), each answer must be the one it gives alone.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchfloor::alerts::promql::{
    Cached, Compat, Engine, ExprCache, MemStore, SelectionCache, check_supported, parse,
};
use watchfloor::metrics::store::STALE_NAN_BITS;

fn store() -> MemStore {
    let mut m = MemStore::new();
    let l = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    for i in 0..20i64 {
        let t = i * 15_000;
        for (job, mult) in [("api", 1.0), ("web", 3.0)] {
            m.add(&l(&[("__name__", "requests_total"), ("job", job), ("code", "200")]), t, i as f64 * mult);
            m.add(&l(&[("__name__", "requests_total"), ("job", job), ("code", "500")]), t, (i / 4) as f64);
            m.add(&l(&[("__name__", "up"), ("job", job)]), t, 1.0);
            for (le, share) in [("0.1", 0.5), ("1", 0.9), ("+Inf", 1.0)] {
                m.add(&l(&[("__name__", "lat_bucket"), ("job", job), ("le", le)]), t, (i as f64 * 10.0 * share).floor());
            }
        }
        m.add(&l(&[("__name__", "temp"), ("room", "a\nb")]), t, (i as f64).sin());
    }
    m.add(&l(&[("__name__", "up"), ("job", "web")]), 300_000, f64::from_bits(STALE_NAN_BITS));
    m
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.len() > 4096 {
        return;
    }
    let Ok(expr) = parse(text) else {
        return;
    };
    let _ = check_supported(&expr);
    let m = store();
    for compat in [Compat::V3, Compat::V2] {
        let engine = Engine { compat, lookback_ms: 5 * 60 * 1000 };
        let alone = engine.instant(&m, &expr, 200_000);
        let _ = engine.range(&m, &expr, 0, 300_000, 60_000);
        let group = [expr.clone(), expr.clone()];
        let cached = Cached::new(&m, SelectionCache::plan(&engine, &group, 200_000));
        let shared = ExprCache::plan(&group, 200_000, &|_| false);
        for e in &group {
            let got = engine.instant_with(&cached, e, 200_000, Some(&shared));
            assert_eq!(
                format!("{got:?}"),
                format!("{alone:?}"),
                "sharing changed the answer of {text:?} ({compat:?})"
            );
        }
    }
});
