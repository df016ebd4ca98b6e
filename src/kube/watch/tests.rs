//! What one watcher reports for each watch event: relists announced only once a page arrives,
//! and, with several namespaces per kind, the deletions a relist implies.

use k8s_openapi::api::core::v1::Pod;

use super::*;

fn pod(name: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "namespace": "shop", "resourceVersion": "1"}
    }))
    .unwrap()
}

fn ctx(track: bool) -> Ctx {
    let (reports, _rx) = mpsc::channel(1);
    Ctx {
        src: 3,
        kind: Kind::Pod,
        what: "pods".into(),
        track,
        clock: Arc::new(Timestamp::now),
        reports,
    }
}

fn to_row(p: &Pod, now: Timestamp) -> Row {
    Row::Pod(Arc::new(pod_row(p, now)))
}

/// The reports as short words: `relisting`, `apply a`, `delete b`, `listed`.
fn words(reports: Vec<Report>) -> Vec<String> {
    let mut out: Vec<String> = reports
        .into_iter()
        .map(|r| match r {
            Report::Relisting(src) => format!("relisting {src}"),
            Report::Listed(src) => format!("listed {src}"),
            Report::Change(_, Change::Apply(row)) => format!("apply {}", row.key().name),
            Report::Change(_, Change::Delete(_, key)) => format!("delete {}", key.name),
            Report::Change(_, other) => format!("{other:?}"),
            Report::Failed(..) => "failed".into(),
            Report::Version(_) => "version".into(),
        })
        .collect();
    // Deletions come out of a set: compare them in order.
    out.sort_by_key(|w| !w.starts_with("delete"));
    out
}

fn step(ctx: &Ctx, t: &mut Tracking, e: WatchEvent<Pod>) -> Vec<String> {
    words(handle(ctx, t, e, to_row))
}

#[test]
fn a_relist_is_announced_with_its_first_page() {
    let ctx = ctx(false);
    let mut t = Tracking::default();
    // A cluster that is down starts a list at every retry; none of that reaches anyone.
    assert!(step(&ctx, &mut t, WatchEvent::Init).is_empty());
    assert!(step(&ctx, &mut t, WatchEvent::Init).is_empty());
    assert_eq!(
        step(&ctx, &mut t, WatchEvent::InitApply(pod("a"))),
        ["relisting 3", "apply a"]
    );
    assert_eq!(
        step(&ctx, &mut t, WatchEvent::InitApply(pod("b"))),
        ["apply b"]
    );
    assert_eq!(step(&ctx, &mut t, WatchEvent::InitDone), ["listed 3"]);
    // An empty list is a relist too.
    step(&ctx, &mut t, WatchEvent::Init);
    assert_eq!(
        step(&ctx, &mut t, WatchEvent::InitDone),
        ["relisting 3", "listed 3"]
    );
    assert_eq!(
        step(&ctx, &mut t, WatchEvent::Delete(pod("a"))),
        ["delete a"]
    );
}

#[test]
fn with_several_namespaces_a_relist_deletes_what_it_no_longer_lists() {
    let ctx = ctx(true);
    let mut t = Tracking::default();
    step(&ctx, &mut t, WatchEvent::Init);
    step(&ctx, &mut t, WatchEvent::InitApply(pod("a")));
    step(&ctx, &mut t, WatchEvent::InitApply(pod("b")));
    assert_eq!(
        step(&ctx, &mut t, WatchEvent::InitDone),
        ["relisting 3", "listed 3"][1..]
    );
    step(&ctx, &mut t, WatchEvent::Apply(pod("c")));
    step(&ctx, &mut t, WatchEvent::Apply(pod("d")));
    step(&ctx, &mut t, WatchEvent::Delete(pod("d")));
    // Back after an outage: only a is still there.
    step(&ctx, &mut t, WatchEvent::Init);
    step(&ctx, &mut t, WatchEvent::InitApply(pod("a")));
    let mut done = step(&ctx, &mut t, WatchEvent::InitDone);
    done[..2].sort();
    assert_eq!(done, ["delete b", "delete c", "listed 3"]);
    // And without tracking nothing is deleted: the Relisting/Listed pair says it instead.
    let plain = super::tests::ctx(false);
    let mut t = Tracking::default();
    step(&plain, &mut t, WatchEvent::Init);
    step(&plain, &mut t, WatchEvent::InitApply(pod("a")));
    step(&plain, &mut t, WatchEvent::InitDone);
    step(&plain, &mut t, WatchEvent::Init);
    assert_eq!(
        step(&plain, &mut t, WatchEvent::InitDone),
        ["relisting 3", "listed 3"]
    );
}
