use super::filter::LogFilter;
use super::outbox::Outbox;
use super::source::{SourceKey, Sources, label, pod_suffix};

#[test]
fn filter_matches_inverts_and_gives_ranges_to_highlight() {
    let f = LogFilter::parse("err(or)?").unwrap().unwrap();
    assert!(
        f.matches("ERROR db pool exhausted"),
        "smart case: lower case ignores case"
    );
    assert!(!f.matches("GET /api 200"));
    assert_eq!(f.ranges("an error, another err"), vec![3..8, 18..21]);
    let capital = LogFilter::parse("Error").unwrap().unwrap();
    assert!(
        !capital.matches("error"),
        "a capital makes it case-sensitive"
    );
    let inverse = LogFilter::parse("!health").unwrap().unwrap();
    assert!(inverse.matches("GET /api 200"));
    assert!(!inverse.matches("GET /healthz 200"));
    assert!(inverse.ranges("GET /api").is_empty());
    assert!(LogFilter::parse("").unwrap().is_none());
    assert!(LogFilter::parse("!").unwrap().is_none());
    let err = LogFilter::parse("(unclosed").unwrap_err();
    assert!(err.contains("is not a regex yet"), "{err}");
}

#[test]
fn a_slow_consumer_costs_counted_lines_not_memory() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Vec<u32>, u64)>(1);
    let mut out = Outbox::new(4);
    // The console takes nothing: the channel fills, the outbox keeps only its newest 4.
    tx.try_send((vec![0], 0)).unwrap();
    for n in 1..=10 {
        out.push(n);
        if let Ok(permit) = tx.try_reserve() {
            permit.send(out.take());
        }
    }
    assert_eq!(out.len(), 4);
    // The console catches up: the next message says how many were given up.
    assert_eq!(rx.try_recv().unwrap(), (vec![0], 0));
    let permit = tx.try_reserve().unwrap();
    permit.send(out.take());
    assert_eq!(rx.try_recv().unwrap(), (vec![7, 8, 9, 10], 6));
    assert!(out.is_empty());
}

#[test]
fn labels_are_short_and_readable_without_colour() {
    assert_eq!(pod_suffix("arq-backend-7f9c4-x2kqd"), "x2kqd");
    assert_eq!(pod_suffix("postgres"), "postgres");
    let key = SourceKey {
        cluster: 2,
        namespace: "shop".into(),
        pod: "web-7f9c4-x2kqd".into(),
        container: "sidecar".into(),
    };
    assert_eq!(label(&key, false, None), "x2kqd");
    assert_eq!(label(&key, true, Some("eastus")), "eastus x2kqd/sidecar");
    let mut s = Sources::default();
    let a = s.id(&key, || "a".into());
    assert_eq!(s.id(&key, || "b".into()), a, "one id per source");
    assert_eq!(s.live_pods(), 1);
    s.get_mut(a).unwrap().gone = true;
    assert_eq!(s.live_pods(), 0);
}
