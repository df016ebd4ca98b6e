//! What the console costs per frame and per batch of changes, on the pure model and view alone (no
//! terminal, no clusters): a fleet of 4 clusters in 3 environments (dev, staging, prod with two
//! regions), built through `state::update` the way the watchers feed it, drawn with
//! `view::draw` on ratatui's `TestBackend` at 160×50.
//!
//! - `frame/*`: one `Terminal::draw` of the pods view with 10 and with 50,000 pods, and of the
//!   fleet view at 50,000 pods (DESIGN.md §1: "a table of 50,000 pods costs the same to draw as
//!   one of 50").
//! - `update/*`: one `update` with a batch of 1,000 changed pods (the watchers' batch limit) at
//!   50,000 pods, on the pods and on the fleet view; and the pieces of it timed alone (applying
//!   the rows, `fleet::build`, the screen refresh) to show where that time goes.
//!
//! `cargo bench --bench console_frame` (`-- frame` or `-- update` for one group).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use watchfloor::config::color::ColorDepth;
use watchfloor::kube::rows::{
    ContainerRow, EventRow, Health, PodRow, ProbeSpec, ReplicaSetRow, RolloutStatus, WorkloadRow,
};
use watchfloor::kube::{Change, ConnState, Kind, KubeMsg, ObjKey, Row};
use watchfloor::state::{self, EnvState, Msg, State, ViewKind};
use watchfloor::view::{self, Styles};

// The binary's allocator (src/main.rs), so allocation costs here are the console's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CLUSTERS: usize = 4;
/// Replicas per Deployment, as `watchfloor demo --pods` makes them (`bulk-NNN`, up to 100 each).
const PER_DEPLOYMENT: usize = 100;
const WIDTH: u16 = 160;
const HEIGHT: u16 = 50;

fn t0() -> Timestamp {
    "2026-11-22T14:00:00Z".parse().unwrap()
}

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(t0().as_second() + secs).unwrap()
}

fn empty_state() -> State {
    let env = |name: &str, protected| EnvState {
        name: name.into(),
        color: None,
        protected,
        readonly: false,
    };
    let keymap = watchfloor::config::keymap::shipped("default").expect("the default keymap");
    State::new(
        vec![env("dev", false), env("staging", false), env("prod", true)],
        vec![
            ("dev".into(), 0, "dev".into()),
            ("staging".into(), 1, "staging".into()),
            ("prod-eastus".into(), 2, "eastus".into()),
            ("prod-westus".into(), 2, "westus".into()),
        ],
        keymap,
        t0(),
    )
}

fn http(path: &str) -> Option<ProbeSpec> {
    Some(ProbeSpec {
        handler: format!("HTTP GET :8080{path}"),
        period_seconds: 10,
        failure_threshold: 3,
        initial_delay_seconds: 0,
        timeout_seconds: 1,
    })
}

fn workload(name: &str, replicas: u32, ready: u32) -> WorkloadRow {
    WorkloadRow {
        key: ObjKey::new("bulk", name),
        desired: replicas,
        ready,
        updated: replicas,
        available: ready,
        revision: Some(1),
        images: vec!["registry.example.com/bulk/app:1.0.0".into()],
        strategy: "RollingUpdate 25%/25%".into(),
        selector: BTreeMap::from([("app".into(), name.into())]),
        paused: false,
        rolling_out: false,
        stalled: None,
        rollout: RolloutStatus::Complete,
        created: Some(at(-86400 * 2)),
    }
}

fn replicaset(name: &str, replicas: u32) -> ReplicaSetRow {
    ReplicaSetRow {
        key: ObjKey::new("bulk", format!("{name}-7f9c4")),
        workload: Some(name.into()),
        revision: Some(1),
        desired: replicas,
        ready: replicas,
        images: vec!["registry.example.com/bulk/app:1.0.0".into()],
        change_cause: None,
        created: Some(at(-86400 * 2)),
    }
}

/// A pod shaped like the converter makes them: one container with liveness and readiness
/// probes. `status`: `Running`, `Unready` or `CrashLoopBackOff`.
fn pod(workload: &str, i: usize, status: &str) -> PodRow {
    let (health, ready, state, message) = match status {
        "Running" => (Health::Ok, true, "Running", None),
        "Unready" => (Health::Warning, false, "Running", None),
        _ => (
            Health::Critical,
            false,
            "Waiting: CrashLoopBackOff",
            Some("back-off 40s restarting failed container=app pod=x".to_string()),
        ),
    };
    let crashed = status == "CrashLoopBackOff";
    PodRow {
        key: ObjKey::new("bulk", format!("{workload}-7f9c4-{i:05x}")),
        workload: Some(workload.into()),
        replicaset: Some(format!("{workload}-7f9c4")),
        labels: BTreeMap::from([
            ("app".into(), workload.into()),
            ("pod-template-hash".into(), "7f9c4".into()),
        ]),
        ready: (u16::from(ready), 1),
        status: if status == "Unready" {
            "Running".into()
        } else {
            status.into()
        },
        health,
        restarts: if crashed { 4 } else { 0 },
        last_restart: crashed.then(|| at(-40)),
        node: format!("node-{}", i / 100),
        created: Some(at(-3600 - i as i64)),
        deleting: false,
        containers: vec![ContainerRow {
            name: "app".into(),
            image: "registry.example.com/bulk/app:1.0.0".into(),
            ready,
            started: Some(ready || status == "Unready"),
            restarts: if crashed { 4 } else { 0 },
            state: state.into(),
            state_message: message,
            last_termination: None,
            liveness: http("/healthz"),
            readiness: http("/readyz"),
            startup: None,
        }],
        scrape: Default::default(),
    }
}

fn unhealthy(pod: &str, n: usize) -> EventRow {
    EventRow {
        key: ObjKey::new("bulk", format!("{pod}.17a{n:04x}")),
        warning: true,
        reason: "Unhealthy".into(),
        message: "Readiness probe failed: HTTP probe failed with statuscode: 503".into(),
        object_kind: "Pod".into(),
        object_name: pod.into(),
        count: 12,
        first: Some(at(-180)),
        last: Some(at(-5)),
        source: "kubelet".into(),
    }
}

/// The pods of one cluster when the fleet has `total` pods: Deployments of up to 100 replicas.
/// One pod in 500 fails readiness (with an Unhealthy event), one in 997 crash-loops.
fn cluster_rows(cluster: usize, total: usize) -> Vec<Row> {
    let mine = total / CLUSTERS + usize::from(cluster < total % CLUSTERS);
    let mut rows = Vec::new();
    let mut left = mine;
    let mut d = 0;
    let mut i = 0;
    while left > 0 {
        let n = left.min(PER_DEPLOYMENT);
        let name = format!("bulk-{d:03}");
        let mut ready = n as u32;
        for _ in 0..n {
            let status = if i % 997 == 13 {
                "CrashLoopBackOff"
            } else if i % 500 == 7 {
                "Unready"
            } else {
                "Running"
            };
            let p = pod(&name, i, status);
            if status != "Running" {
                ready -= 1;
            }
            if status == "Unready" {
                rows.push(Row::Event(Arc::new(unhealthy(&p.key.name, i))));
            }
            rows.push(Row::Pod(Arc::new(p)));
            i += 1;
        }
        rows.push(Row::Deployment(Arc::new(workload(&name, n as u32, ready))));
        rows.push(Row::ReplicaSet(Arc::new(replicaset(&name, n as u32))));
        left -= n;
        d += 1;
    }
    rows
}

/// A synced fleet of `total` pods, sized 160×50, showing `view` (keys as a user types them).
/// Rows arrive as the watchers send them: a relist in batches of at most 1,000 changes.
fn fleet(total: usize, view: ViewKind) -> State {
    let mut s = empty_state();
    sync_all(&mut s, listing(total));
    let key = match view {
        ViewKind::Fleet => '1',
        ViewKind::Workloads => '2',
        ViewKind::Pods => '3',
        other => panic!("no key for {other:?}"),
    };
    let key = KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE);
    state::update(&mut s, Msg::Key(key), t0());
    assert_eq!(s.screen().kind, view);
    s
}

/// The watchers' messages for a relist of every cluster with `total` pods in all: per cluster,
/// batches of at most 1,000 changes.
fn listing(total: usize) -> Vec<(usize, Vec<Vec<Change>>)> {
    (0..CLUSTERS)
        .map(|c| {
            let mut changes: Vec<Change> =
                Kind::ALL.iter().map(|k| Change::Relisting(*k)).collect();
            changes.extend(cluster_rows(c, total).into_iter().map(Change::Apply));
            changes.extend(Kind::ALL.iter().map(|k| Change::Listed(*k)));
            (c, changes.chunks(1000).map(<[Change]>::to_vec).collect())
        })
        .collect()
}

/// Feeds a `listing` to `update` and marks every cluster synced, at 160×50.
fn sync_all(s: &mut State, listing: Vec<(usize, Vec<Vec<Change>>)>) {
    state::update(s, Msg::Resize(WIDTH, HEIGHT), t0());
    for (cluster, batches) in listing {
        for changes in batches {
            let msg = Msg::Kube(KubeMsg::Changes { cluster, changes });
            state::update(s, msg, t0());
        }
        let conn = Msg::Kube(KubeMsg::Conn {
            cluster,
            state: ConnState::Synced,
            at: t0(),
        });
        state::update(s, conn, t0());
    }
}

fn styles() -> Styles {
    let (palette, _) =
        watchfloor::config::theme::load(None, false, ColorDepth::TrueColor).expect("default theme");
    Styles::new(&palette)
}

fn terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap()
}

/// Two batches of the same 1,000 pods of cluster 0 (every 12th pod), one with them all Running
/// and one with them all failing readiness: applying them in turn changes 1,000 rows each time
/// and leaves the state the same size.
fn toggle_batches(total: usize) -> [Vec<Change>; 2] {
    let pods: Vec<Arc<PodRow>> = cluster_rows(0, total)
        .into_iter()
        .filter_map(|r| match r {
            Row::Pod(p) => Some(p),
            _ => None,
        })
        .step_by(12)
        .take(1000)
        .collect();
    assert_eq!(pods.len(), 1000);
    let batch = |status: &str| {
        pods.iter()
            .map(|p| {
                let workload = p.workload.clone().unwrap();
                let mut new = pod(&workload, 0, status);
                new.key = p.key.clone();
                new.created = p.created;
                new.node = p.node.clone();
                Change::Apply(Row::Pod(Arc::new(new)))
            })
            .collect::<Vec<_>>()
    };
    [batch("Unready"), batch("Running")]
}

fn frames(c: &mut Criterion) {
    let styles = styles();
    let now = at(1);
    let mut group = c.benchmark_group("frame");
    group.measurement_time(Duration::from_secs(5));
    // 10 pods fill 10 of the table's 44 visible rows; from 44 on the screen is full, so 50 and
    // 1,000 tell a cost of more visible rows from a cost of more rows in all.
    for (name, total, view) in [
        ("pods view, 10 pods", 10, ViewKind::Pods),
        ("pods view, 50 pods", 50, ViewKind::Pods),
        ("pods view, 1000 pods", 1000, ViewKind::Pods),
        ("pods view, 50000 pods", 50_000, ViewKind::Pods),
        ("fleet view, 10 pods", 10, ViewKind::Fleet),
        ("fleet view, 50000 pods", 50_000, ViewKind::Fleet),
    ] {
        let s = fleet(total, view);
        let rows: usize = s.clusters.iter().map(|c| c.pods.len()).sum();
        assert_eq!(rows, total);
        let mut term = terminal();
        term.draw(|f| view::draw(f, &s, &styles, now)).unwrap();
        let screen: String = term
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect();
        let title = match view {
            ViewKind::Pods => format!("{total} pods"),
            _ => format!("{} workloads · 4 clusters", s.fleet.len()),
        };
        assert!(
            screen.contains(&title),
            "{name}: no {title:?} on the screen"
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                term.draw(|f| view::draw(f, black_box(&s), &styles, now))
                    .unwrap();
            })
        });
    }
    group.finish();
}

fn updates(c: &mut Criterion) {
    const TOTAL: usize = 50_000;
    let now = at(1);
    let batches = toggle_batches(TOTAL);
    let mut group = c.benchmark_group("update");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(15));
    for (name, view) in [
        ("1000 changed pods at 50000, pods view", ViewKind::Pods),
        ("1000 changed pods at 50000, fleet view", ViewKind::Fleet),
    ] {
        let mut s = fleet(TOTAL, view);
        let mut n = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                n += 1;
                let msg = Msg::Kube(KubeMsg::Changes {
                    cluster: 0,
                    changes: batches[n % 2].clone(),
                });
                state::update(&mut s, msg, now)
            })
        });
        assert_eq!(
            s.clusters.iter().map(|c| c.pods.len()).sum::<usize>(),
            TOTAL
        );
    }

    // What start-up costs the model: every cluster relisted from empty, in batches of 1,000,
    // with the fleet view open as at start-up (fleet::build and a refresh per batch).
    group.bench_function("initial sync of 10000 pods, fleet view", |b| {
        let rows = listing(10_000);
        b.iter_batched(
            || (empty_state(), rows.clone()),
            |(mut s, rows)| {
                sync_all(&mut s, rows);
                s
            },
            criterion::BatchSize::LargeInput,
        )
    });

    // The pieces of one such update, alone.
    let mut s = fleet(TOTAL, ViewKind::Pods);
    let mut n = 0usize;
    group.bench_function("piece: apply 1000 rows to cluster 0", |b| {
        b.iter(|| {
            n += 1;
            for change in batches[n % 2].clone() {
                s.clusters[0].apply(change, now);
            }
        })
    });
    group.bench_function("piece: fleet::build (4 clusters, 50000 pods)", |b| {
        b.iter(|| state::fleet::build(black_box(&s.clusters), now))
    });
    group.bench_function("piece: refresh, pods view (50000 items)", |b| {
        b.iter(|| s.refresh(now))
    });
    let mut f = fleet(TOTAL, ViewKind::Fleet);
    group.bench_function("piece: refresh, fleet view", |b| b.iter(|| f.refresh(now)));
    group.finish();
}

criterion_group!(benches, frames, updates);
criterion_main!(benches);
