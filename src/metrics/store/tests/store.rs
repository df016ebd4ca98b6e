//! The store: ingest rules, staleness, selection, reads, retention and the memory cap.

use super::super::{
    Incoming, IngestReport, MatchOp, Matcher, STALE_NAN_BITS, Store, StoreConfig, is_stale,
};

const MIN: i64 = 60_000;

fn store() -> Store {
    Store::new(StoreConfig::default())
}

fn s<'a>(name: &'a str, labels: &'a [(&'a str, &'a str)], value: f64) -> Incoming<'a> {
    Incoming {
        name,
        labels,
        value,
        timestamp_ms: None,
    }
}

fn m(name: &str, op: MatchOp, value: &str) -> Matcher {
    Matcher::new(name, op, value).unwrap()
}

#[test]
fn ingest_creates_series_with_sorted_labels() {
    let mut st = store();
    let t = st.target("a");
    let r = st.ingest(
        t,
        1000,
        [
            s(
                "http_requests_total",
                &[("path", "/"), ("code", "200")],
                3.0,
            ),
            s("up", &[], 1.0),
        ],
    );
    assert_eq!(r.appended, 2);
    assert_eq!(r.new_series, 2);
    assert_eq!(st.series_count(), 2);
    let id = st.select(&[m("__name__", MatchOp::Equal, "http_requests_total")]);
    assert_eq!(id.len(), 1);
    assert_eq!(
        st.labels(id[0]),
        vec![
            ("__name__", "http_requests_total"),
            ("code", "200"),
            ("path", "/")
        ]
    );
    assert_eq!(st.label(id[0], "code"), Some("200"));
    assert_eq!(st.label(id[0], "nope"), None);
    assert_eq!(st.samples(id[0], 0, 2000), vec![(1000, 3.0)]);
    // The same labels in another order are the same series.
    let r = st.ingest(
        t,
        2000,
        [s(
            "http_requests_total",
            &[("code", "200"), ("path", "/")],
            4.0,
        )],
    );
    assert_eq!((r.appended, r.new_series), (1, 0));
}

#[test]
fn empty_label_values_are_no_label_and_bad_sets_are_rejected() {
    let mut st = store();
    let t = st.target("a");
    let r = st.ingest(
        t,
        1000,
        [
            s("x", &[("a", "")], 1.0),
            s("x", &[], 2.0),
            s("x", &[("b", "1"), ("b", "2")], 1.0),
            s("", &[], 1.0),
        ],
    );
    assert_eq!(r.new_series, 1);
    assert_eq!(r.invalid, 2);
    // The second sample is a different value at the same timestamp on the same series.
    assert_eq!(r.duplicates, 1);
}

#[test]
fn out_of_order_and_duplicates_are_rejected_and_counted() {
    let mut st = store();
    let t = st.target("a");
    let at = |ts| Incoming {
        name: "g",
        labels: &[],
        value: 1.0,
        timestamp_ms: Some(ts),
    };
    st.ingest(t, 0, [at(5000)]);
    let r = st.ingest(t, 0, [at(4000)]);
    assert_eq!(r.out_of_order, 1);
    // Same timestamp and value: a silent no-op.
    let r = st.ingest(t, 0, [at(5000)]);
    assert_eq!(r, IngestReport::default());
    let r = st.ingest(
        t,
        0,
        [Incoming {
            value: 2.0,
            ..at(5000)
        }],
    );
    assert_eq!(r.duplicates, 1);
    let id = st.select(&[m("__name__", MatchOp::Equal, "g")])[0];
    assert_eq!(st.samples(id, 0, 10_000), vec![(5000, 1.0)]);
}

#[test]
fn series_gone_from_a_scrape_get_a_stale_marker() {
    let mut st = store();
    let t = st.target("pod-a");
    st.ingest(t, 1000, [s("a", &[], 1.0), s("b", &[], 1.0)]);
    let r = st.ingest(t, 16_000, [s("a", &[], 2.0)]);
    assert_eq!(r.stale_marked, 1);
    let b = st.select(&[m("__name__", MatchOp::Equal, "b")])[0];
    let samples = st.samples(b, 0, 20_000);
    assert_eq!(samples.len(), 2);
    assert_eq!(samples[1].0, 16_000);
    assert_eq!(samples[1].1.to_bits(), STALE_NAN_BITS);
    // An instant selector sees nothing after the marker, the value before it.
    assert_eq!(st.instant(b, 20_000, 5 * MIN), None);
    assert_eq!(st.instant(b, 15_999, 5 * MIN), Some((1000, 1.0)));
    // Not marked twice; and back again when it reappears.
    let r = st.ingest(t, 31_000, [s("a", &[], 3.0)]);
    assert_eq!(r.stale_marked, 0);
    st.ingest(t, 46_000, [s("a", &[], 3.0), s("b", &[], 5.0)]);
    assert_eq!(st.instant(b, 46_000, 5 * MIN), Some((46_000, 5.0)));
}

#[test]
fn series_with_their_own_timestamps_are_not_marked_stale() {
    let mut st = store();
    let t = st.target("pod-a");
    let own = Incoming {
        name: "pushed",
        labels: &[],
        value: 1.0,
        timestamp_ms: Some(500),
    };
    st.ingest(t, 1000, [own]);
    let r = st.ingest(t, 16_000, []);
    assert_eq!(r.stale_marked, 0);
}

#[test]
fn a_target_down_marks_all_its_series_and_forget_drops_it() {
    let mut st = store();
    let t = st.target("pod-a");
    let other = st.target("pod-b");
    assert_eq!(st.target("pod-a"), t);
    st.ingest(t, 1000, [s("up", &[("pod", "a")], 1.0), s("x", &[], 1.0)]);
    st.ingest(other, 1000, [s("up", &[("pod", "b")], 1.0)]);
    assert_eq!(st.target_down(t, 16_000, false), 2);
    // Already stale: nothing more; the other target untouched.
    assert_eq!(st.target_down(t, 31_000, false), 0);
    let b = st.select(&[m("pod", MatchOp::Equal, "b")])[0];
    assert_eq!(st.instant(b, 31_000, 5 * MIN), Some((1000, 1.0)));
    assert_eq!(st.target_down(other, 31_000, true), 1);
    assert_ne!(st.target("pod-b-new"), 999);
    // The forgotten target's series stay until they age out.
    assert_eq!(st.series_count(), 3);
    st.gc(31_000 + 2 * 3_600_000);
    assert_eq!(st.series_count(), 0);
}

#[test]
fn select_follows_promql_matcher_semantics() {
    let mut st = store();
    let t = st.target("a");
    st.ingest(
        t,
        1000,
        [
            s("req", &[("job", "api"), ("code", "200")], 1.0),
            s("req", &[("job", "api"), ("code", "500")], 1.0),
            s("req", &[("job", "web")], 1.0),
            s("other", &[("job", "api")], 1.0),
        ],
    );
    let names = |ids: Vec<u32>| -> Vec<String> {
        ids.iter()
            .map(|&id| {
                st.labels(id)
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect()
    };
    let req = m("__name__", MatchOp::Equal, "req");
    assert_eq!(st.select(std::slice::from_ref(&req)).len(), 3);
    // {code=""} matches the series without `code`.
    assert_eq!(
        names(st.select(&[req.clone(), m("code", MatchOp::Equal, "")])),
        vec!["__name__=req,job=web"]
    );
    assert_eq!(
        st.select(&[req.clone(), m("code", MatchOp::NotEqual, "")])
            .len(),
        2
    );
    // Regexes are anchored.
    assert_eq!(
        st.select(&[req.clone(), m("code", MatchOp::Re, "5..")])
            .len(),
        1
    );
    assert_eq!(
        st.select(&[req.clone(), m("code", MatchOp::Re, "5")]).len(),
        0
    );
    assert_eq!(
        st.select(&[req.clone(), m("code", MatchOp::NotRe, "2.*")])
            .len(),
        2
    );
    // Two equalities intersect the postings; no equality scans everything.
    assert_eq!(
        st.select(&[
            m("job", MatchOp::Equal, "api"),
            m("code", MatchOp::Equal, "500")
        ])
        .len(),
        1
    );
    assert_eq!(st.select(&[m("job", MatchOp::Re, "api|web")]).len(), 4);
    assert_eq!(st.select(&[m("job", MatchOp::Equal, "nope")]).len(), 0);
    assert!(Matcher::new("a", MatchOp::Re, "(").is_err());
    assert_eq!(st.metric_names(), vec!["other", "req"]);
    assert_eq!(st.label_values("job"), vec!["api", "web"]);
    assert!(st.label_values("missing").is_empty());
}

#[test]
fn samples_and_instant_read_across_chunks() {
    let mut st = store();
    let t = st.target("a");
    for i in 0..500i64 {
        st.ingest(t, i * 15_000, [s("c", &[], i as f64)]);
    }
    let id = st.select(&[m("__name__", MatchOp::Equal, "c")])[0];
    let all = st.samples(id, 0, 500 * 15_000);
    assert_eq!(all.len(), 500);
    assert!(
        all.iter()
            .enumerate()
            .all(|(i, &(t, v))| t == i as i64 * 15_000 && v == i as f64)
    );
    // Inclusive at both ends.
    let some = st.samples(id, 15_000, 45_000);
    assert_eq!(some, vec![(15_000, 1.0), (30_000, 2.0), (45_000, 3.0)]);
    assert!(st.samples(id, 45_000, 15_000).is_empty());
    // Instant: newest in (at - lookback, at].
    assert_eq!(st.instant(id, 20_000, 5 * MIN), Some((15_000, 1.0)));
    assert_eq!(st.instant(id, 2_000_000, 5 * MIN), Some((1_995_000, 133.0)));
    assert_eq!(st.instant(id, 100 * 15_000 + 14_999, 14_999), None);
    assert_eq!(
        st.instant(id, 100 * 15_000 + 14_999, 15_000),
        Some((1_500_000, 100.0))
    );
    assert_eq!(st.instant(id, -1, 5 * MIN), None);
    assert_eq!(st.instant(999, 0, 5 * MIN), None);
    // Ordinary NaN is a value; the marker is not.
    st.ingest(t, 500 * 15_000, [s("c", &[], f64::NAN)]);
    let (_, v) = st.instant(id, 500 * 15_000, 5 * MIN).unwrap();
    assert!(v.is_nan() && !is_stale(v));
}

#[test]
fn retention_drops_whole_old_chunks_and_empty_series() {
    let mut st = store();
    let t = st.target("a");
    // Two hours of 15 s scrapes.
    for i in 0..480i64 {
        st.ingest(t, i * 15_000, [s("c", &[], i as f64)]);
    }
    let now = 479 * 15_000;
    st.gc(now);
    let id = st.select(&[m("__name__", MatchOp::Equal, "c")])[0];
    let kept = st.samples(id, i64::MIN, i64::MAX);
    let oldest = kept[0].0;
    // Kept: at least the hour, at most half an hour more (one chunk's span).
    assert!(oldest <= now - 3_600_000, "{oldest}");
    assert!(oldest >= now - 3_600_000 - 1_800_000, "{oldest}");
    assert_eq!(kept.last().unwrap().0, now);
    assert_eq!(st.stats().evicted_samples, 0);
    // A series that stopped long ago goes away entirely, its symbols with it.
    let syms_before = st.syms.len();
    st.ingest(t, now, [s("gone", &[("pod", "p-1")], 1.0)]);
    st.ingest(t, now + 15_000, [s("c", &[], 1.0)]);
    st.gc(now + 3 * 3_600_000);
    assert_eq!(st.series_count(), 0);
    assert!(st.syms.len() < syms_before);
    assert!(st.label_values("pod").is_empty());
}

#[test]
fn the_memory_cap_is_honoured_and_the_newest_data_survives() {
    let cap = 512 << 10;
    let mut st = Store::new(StoreConfig {
        retention_ms: 24 * 3_600_000,
        memory_cap_bytes: cap,
    });
    let pods: Vec<String> = (0..200).map(|i| format!("pod-{i}")).collect();
    let targets: Vec<u32> = pods.iter().map(|p| st.target(p)).collect();
    let mut now = 0;
    for round in 0..400i64 {
        now = round * 15_000;
        for (p, &t) in pods.iter().zip(&targets) {
            let labels = [("pod", p.as_str())];
            let codes = [
                [("pod", p.as_str()), ("code", "200")],
                [("pod", p.as_str()), ("code", "500")],
            ];
            st.ingest(
                t,
                now,
                [
                    s("up", &labels, 1.0),
                    s("req_total", &codes[0], (round * 17) as f64),
                    s("req_total", &codes[1], (round / 10) as f64),
                    s("mem", &labels, (round % 7) as f64 * 1e6),
                ],
            );
        }
        st.gc(now);
        let stats = st.stats();
        assert!(stats.bytes <= cap, "round {round}: {} > {cap}", stats.bytes);
    }
    let stats = st.stats();
    assert!(stats.evicted_samples > 0);
    assert!(stats.last_eviction_ms.is_some_and(|t| t > 0 && t <= now));
    // The oldest data went first: what is left is one contiguous, recent stretch.
    let up = st.select(&[m("__name__", MatchOp::Equal, "up")])[0];
    let left = st.samples(up, 0, now);
    assert!(left.len() < 400 && left.windows(2).all(|w| w[1].0 - w[0].0 == 15_000));
    assert_eq!(stats.cap_bytes, cap);
    // The newest sample of every series is still there.
    for id in st.select(&[m("__name__", MatchOp::Re, ".+")]) {
        assert_eq!(st.instant(id, now, 5 * MIN).map(|(t, _)| t), Some(now));
    }
    assert_eq!(st.series_count(), 800);
}

#[test]
fn near_the_cap_history_goes_a_few_minutes_at_a_time_and_no_live_series_is_lost() {
    let pods: Vec<String> = (0..200).map(|i| format!("pod-{i}")).collect();
    let round = |st: &mut Store, targets: &[u32], r: i64| {
        for (p, &t) in pods.iter().zip(targets) {
            let labels = [("pod", p.as_str())];
            let code = [("pod", p.as_str()), ("code", "200")];
            st.ingest(
                t,
                r * 15_000,
                [
                    s("up", &labels, 1.0),
                    s("req_total", &code, (r * 17) as f64),
                    s("mem", &labels, (r % 7) as f64 * 1e6),
                ],
            );
        }
    };
    let config = |cap| StoreConfig {
        retention_ms: 3_600_000,
        memory_cap_bytes: cap,
    };
    // The cap: what ten minutes of every series take. Heads would otherwise close only after
    // half an hour (120 samples), leaving nothing but whole series to evict.
    let mut unbounded = Store::new(config(usize::MAX));
    let targets: Vec<u32> = pods.iter().map(|p| unbounded.target(p)).collect();
    for r in 0..40 {
        round(&mut unbounded, &targets, r);
    }
    let cap = unbounded.stats().bytes;
    let mut st = Store::new(config(cap));
    let targets: Vec<u32> = pods.iter().map(|p| st.target(p)).collect();
    for r in 0..240 {
        round(&mut st, &targets, r);
        st.gc(r * 15_000);
        assert!(st.stats().bytes <= cap, "round {r}: {:?}", st.stats());
    }
    let stats = st.stats();
    assert!(stats.evicted_samples > 0, "{stats:?}");
    assert_eq!(stats.evicted_series, 0, "{stats:?}");
    // Every series still has the last minute, so its rate is there.
    let now = 239 * 15_000;
    for id in st.select(&[m("__name__", MatchOp::Re, ".+")]) {
        assert!(
            st.samples(id, now - 60_000, now).len() >= 4,
            "{:?}",
            st.labels(id)
        );
    }
}

#[test]
fn a_cap_below_the_live_set_evicts_whole_series_stale_first() {
    let names: Vec<String> = (0..2000).map(|i| format!("m{i}")).collect();
    let load = |st: &mut Store| {
        let t = st.target("a");
        st.ingest(t, 1000, names.iter().map(|n| s(n, &[], 1.0)));
        // Half of them go stale.
        st.ingest(t, 16_000, names[..1000].iter().map(|n| s(n, &[], 2.0)));
    };
    let mut unbounded = store();
    load(&mut unbounded);
    let full = unbounded.stats().bytes;
    let cap = full * 3 / 4;
    let mut st = Store::new(StoreConfig {
        retention_ms: 3_600_000,
        memory_cap_bytes: cap,
    });
    load(&mut st);
    st.gc(16_000);
    let stats = st.stats();
    assert!(stats.bytes <= cap, "{stats:?}");
    assert!(stats.evicted_series > 0);
    // Only stale series went; every live one is there.
    let live = st
        .select(&[m("__name__", MatchOp::Re, "m[0-9]{1,3}")])
        .len();
    assert_eq!(live, 1000);
    assert!(st.series_count() < 2000);
    // Far below what even the live series need: they go too, and the cap still holds.
    let mut st = Store::new(StoreConfig {
        retention_ms: 3_600_000,
        memory_cap_bytes: full / 4,
    });
    load(&mut st);
    st.gc(16_000);
    assert!(st.stats().bytes <= full / 4);
}

#[test]
fn stats_count_series_and_samples() {
    let mut st = store();
    let t = st.target("a");
    st.ingest(t, 1000, [s("a", &[], 1.0), s("b", &[], 1.0)]);
    st.ingest(t, 2000, [s("a", &[], 1.0)]);
    let stats = st.stats();
    assert_eq!((stats.series, stats.samples), (2, 4));
    assert!(stats.bytes > 0);
}
