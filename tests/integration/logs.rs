//! Log tailing (`watchfloor::kube::logs`) against the simulated fleet: a workload tail follows a
//! rollout to the new pods and marks the old ones gone, `previous` reads a crashed instance,
//! tail and since are honoured, a broken stream reconnects and marks the gap without repeating
//! lines, and a cross-cluster tail labels its lines by cluster.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;
use kube::config::Kubeconfig;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;
use tokio::time::Instant;
use watchfloor::config::keymap::Keymap;
use watchfloor::kube::logs::{
    LogEvent, LogEventKind, LogOpts, LogTarget, LogTasks, PodSelect, SourceKey,
};
use watchfloor::kube::{KubeMsg, client, client_config};
use watchfloor::sim::fleetfile::PodTarget;
use watchfloor::state::logs::{LogView, Since, Tailed};
use watchfloor::state::{EnvState, Msg, Scope, Screen, State, ViewKind, update};

use crate::support::TestFleet;

const WAIT: Duration = Duration::from_secs(60);
const CLUSTERS: [&str; 4] = ["dev", "staging", "prod-eastus", "prod-westus"];

async fn clients(fleet: &TestFleet) -> Vec<Option<kube::Client>> {
    let kubeconfig = Kubeconfig::read_from(&fleet.kubeconfig).expect("kubeconfig");
    let mut out = Vec::new();
    for c in CLUSTERS {
        let config = client_config(&kubeconfig, c).await.expect("config");
        out.push(Some(client::client(config).expect("client")));
    }
    out
}

/// A tail's reports as they came.
struct Tail {
    /// Keeps the streams running; dropping it stops them.
    _tasks: LogTasks,
    rx: mpsc::Receiver<KubeMsg>,
    events: Vec<LogEventKind>,
}

impl Tail {
    async fn start(fleet: &TestFleet, targets: Vec<LogTarget>, opts: LogOpts) -> Self {
        let (tx, rx) = mpsc::channel(256);
        let mut tasks = LogTasks::default();
        tasks.start(&clients(fleet).await, 1, targets, opts, &tx);
        Self {
            _tasks: tasks,
            rx,
            events: Vec::new(),
        }
    }

    /// Takes reports until `done` holds; panics after `WAIT` with what came.
    async fn until(&mut self, what: &str, done: impl Fn(&[LogEventKind]) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done(&self.events) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(KubeMsg::Logs(LogEvent { session: 1, kind }))) => self.events.push(kind),
                Ok(Some(_)) => {}
                Ok(None) => panic!("the channel closed"),
                Err(_) => panic!(
                    "timed out waiting for {what}; reports:\n{}",
                    summary(&self.events)
                ),
            }
        }
    }

    /// Every line so far, per source, in order.
    fn lines(&self) -> BTreeMap<SourceKey, Vec<(Option<Timestamp>, String)>> {
        lines(&self.events)
    }
}

fn lines(events: &[LogEventKind]) -> BTreeMap<SourceKey, Vec<(Option<Timestamp>, String)>> {
    let mut out: BTreeMap<SourceKey, Vec<_>> = BTreeMap::new();
    for e in events {
        if let LogEventKind::Lines { source, lines, .. } = e {
            out.entry(source.clone())
                .or_default()
                .extend(lines.iter().cloned());
        }
    }
    out
}

fn summary(events: &[LogEventKind]) -> String {
    events
        .iter()
        .map(|e| match e {
            LogEventKind::Lines {
                source,
                lines,
                dropped,
            } => format!(
                "lines {}/{} ×{} (dropped {dropped})",
                source.pod,
                source.container,
                lines.len()
            ),
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn pods_with_lines(events: &[LogEventKind]) -> HashSet<String> {
    lines(events).keys().map(|k| k.pod.clone()).collect()
}

fn workload(cluster: usize, name: &str) -> LogTarget {
    LogTarget {
        cluster,
        namespace: "shop".into(),
        pods: PodSelect::Labels(BTreeMap::from([("app".to_string(), name.to_string())])),
        container: None,
    }
}

fn pod(cluster: usize, name: &str) -> LogTarget {
    LogTarget {
        cluster,
        namespace: "shop".into(),
        pods: PodSelect::Name(name.into()),
        container: None,
    }
}

/// A running pod of `app` in `cluster`, once it has been up for a few (simulated) seconds.
async fn running_pod(fleet: &TestFleet, cluster: &str, app: &str) -> String {
    let rc = fleet.fleet.cluster(cluster).expect("cluster");
    let deadline = Instant::now() + WAIT;
    loop {
        let now = rc.cluster.now();
        let found = rc
            .cluster
            .store()
            .list::<Pod>(Some("shop"))
            .into_iter()
            .filter(|p| {
                p.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("app"))
                    .map(String::as_str)
                    == Some(app)
            })
            .find(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.container_statuses.as_ref())
                    .and_then(|c| c.first())
                    .and_then(|c| c.state.as_ref()?.running.as_ref()?.started_at.as_ref())
                    .is_some_and(|t| now.duration_since(t.0) > SignedDuration::from_secs(30))
            })
            .and_then(|p| p.metadata.name.clone());
        if let Some(name) = found {
            return name;
        }
        assert!(
            Instant::now() < deadline,
            "no running {app} pod in {cluster}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn a_workload_tail_follows_a_rollout_to_the_new_pods() {
    let fleet = TestFleet::start();
    fleet.runtime.block_on(async {
        running_pod(&fleet, "dev", "web").await;
        let mut tail = Tail::start(&fleet, vec![workload(0, "web")], LogOpts { tail: Some(5), ..LogOpts::default() }).await;
        tail.until("lines from both web pods", |e| pods_with_lines(e).len() >= 2).await;
        let old = pods_with_lines(&tail.events);
        assert!(
            tail.events.iter().all(|e| !matches!(e, LogEventKind::Added { initial: false, .. })),
            "the pods there at the start are not announced as new"
        );
        fleet
            .fleet
            .cluster("dev")
            .unwrap()
            .set_image("shop", "web", None, "registry.example.com/shop/web:1.4.3")
            .unwrap();
        tail.until("lines from a new pod and every old pod marked gone", |e| {
            let gone: HashSet<&str> = e
                .iter()
                .filter_map(|e| match e {
                    LogEventKind::Gone { source } => Some(source.pod.as_str()),
                    _ => None,
                })
                .collect();
            pods_with_lines(e).iter().any(|p| !old.contains(p))
                && old.iter().all(|p| gone.contains(p.as_str()))
        })
        .await;
        let new: Vec<String> = pods_with_lines(&tail.events).into_iter().filter(|p| !old.contains(p)).collect();
        assert!(
            tail.events.iter().any(|e| matches!(e, LogEventKind::Added { source, initial: false, .. } if new.contains(&source.pod))),
            "a pod that appears later is announced:\n{}",
            summary(&tail.events)
        );
        drop(tail);
    });
}

#[test]
fn previous_reads_the_crashed_instance() {
    let fleet = TestFleet::start();
    fleet.runtime.block_on(async {
        let name = running_pod(&fleet, "dev", "worker").await;
        let rc = fleet.fleet.cluster("dev").unwrap();
        rc.crash_pod("shop", &PodTarget::Pod(name.clone())).unwrap();
        let deadline = Instant::now() + WAIT;
        while rc
            .cluster
            .store()
            .get::<Pod>("shop", &name)
            .and_then(|p| {
                p.status
                    .clone()?
                    .container_statuses?
                    .first()
                    .map(|c| c.restart_count)
            })
            .unwrap_or(0)
            < 1
        {
            assert!(Instant::now() < deadline, "{name} did not restart");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let opts = LogOpts {
            previous: true,
            ..LogOpts::default()
        };
        let mut tail = Tail::start(&fleet, vec![pod(0, &name)], opts).await;
        tail.until("the crashed instance's last line", |e| {
            lines(e)
                .values()
                .flatten()
                .any(|(_, t)| t.contains("fatal: process killed"))
        })
        .await;
        let all: Vec<_> = tail.lines().into_values().flatten().collect();
        assert!(all.len() > 5, "the instance's earlier lines too: {all:?}");
        assert_eq!(
            all.last().map(|(_, t)| t.contains("fatal: process killed")),
            Some(true),
            "the crash is the last thing the instance wrote"
        );
        // The current instance says nothing in a previous tail.
        tokio::time::sleep(Duration::from_millis(500)).await;
        while let Ok(KubeMsg::Logs(ev)) = tail.rx.try_recv() {
            tail.events.push(ev.kind);
        }
        let after: Vec<_> = tail.lines().into_values().flatten().collect();
        assert_eq!(
            after.len(),
            all.len(),
            "no lines after the previous instance ended"
        );
    });
}

#[test]
fn tail_and_since_are_honoured() {
    let fleet = TestFleet::start();
    fleet.runtime.block_on(async {
        let name = running_pod(&fleet, "dev", "web").await;
        let rc = fleet.fleet.cluster("dev").unwrap();
        let before = rc.cluster.now();
        let mut tail = Tail::start(
            &fleet,
            vec![pod(0, &name)],
            LogOpts {
                tail: Some(5),
                ..LogOpts::default()
            },
        )
        .await;
        tail.until("the tail and some followed lines", |e| {
            lines(e)
                .values()
                .flatten()
                .filter(|(t, _)| t.is_some_and(|t| t >= before))
                .count()
                >= 3
        })
        .await;
        let old = tail
            .lines()
            .into_values()
            .flatten()
            .filter(|(t, _)| t.is_some_and(|t| t < before))
            .count();
        assert_eq!(old, 5, "tail 5: five lines from before the tail began");
        drop(tail);

        let before = rc.cluster.now();
        let mut tail = Tail::start(
            &fleet,
            vec![pod(0, &name)],
            LogOpts {
                since_seconds: Some(10),
                ..LogOpts::default()
            },
        )
        .await;
        tail.until("followed lines", |e| {
            lines(e)
                .values()
                .flatten()
                .filter(|(t, _)| t.is_some_and(|t| t >= before))
                .count()
                >= 3
        })
        .await;
        let old: Vec<Timestamp> = tail
            .lines()
            .into_values()
            .flatten()
            .filter_map(|(t, _)| t.filter(|t| *t < before))
            .collect();
        assert!(old.len() >= 5, "about ten seconds of lines: {old:?}");
        // The server's "now" is a moment after ours: allow a second of slack.
        let earliest = before - SignedDuration::from_secs(11);
        assert!(
            old.iter().all(|t| *t >= earliest),
            "since 10s: nothing older than {earliest}: {old:?}"
        );
    });
}

#[test]
fn a_broken_stream_reconnects_marks_the_gap_and_repeats_nothing() {
    let fleet = TestFleet::start();
    fleet.runtime.block_on(async {
        let name = running_pod(&fleet, "dev", "web").await;
        let rc = fleet.fleet.cluster("dev").unwrap();
        let mut tail = Tail::start(
            &fleet,
            vec![pod(0, &name)],
            LogOpts {
                tail: Some(3),
                ..LogOpts::default()
            },
        )
        .await;
        tail.until("lines", |e| lines(e).values().flatten().count() >= 10)
            .await;
        rc.server.stop();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        rc.come_back().await.expect("the cluster comes back");
        tail.until("a gap marker", |e| {
            e.iter().any(|e| matches!(e, LogEventKind::Gap { .. }))
        })
        .await;
        let at_gap = lines(&tail.events).values().flatten().count();
        tail.until("lines after the gap", |e| {
            lines(e).values().flatten().count() >= at_gap + 20
        })
        .await;
        let Some(LogEventKind::Gap { after, .. }) = tail
            .events
            .iter()
            .find(|e| matches!(e, LogEventKind::Gap { .. }))
        else {
            unreachable!()
        };
        assert!(
            *after >= Duration::from_millis(1000),
            "the gap lasted the outage: {after:?}"
        );
        let all: Vec<_> = tail.lines().into_values().flatten().collect();
        let mut seen = HashSet::new();
        for l in &all {
            assert!(seen.insert(l.clone()), "line delivered twice: {l:?}");
        }
        assert!(
            all.windows(2).all(|w| w[0].0 <= w[1].0),
            "lines in order across the gap"
        );
        // The lines written during the outage were not lost: no second-long hole at 20x speed.
        let stamps: Vec<Timestamp> = all.iter().filter_map(|(t, _)| *t).collect();
        let widest = stamps
            .windows(2)
            .map(|w| w[1].duration_since(w[0]))
            .max()
            .unwrap();
        assert!(
            widest < SignedDuration::from_secs(5),
            "a hole of {widest:?} in the resumed lines"
        );
    });
}

#[test]
fn a_cross_cluster_tail_labels_lines_by_cluster() {
    let fleet = TestFleet::start();
    fleet.runtime.block_on(async {
        running_pod(&fleet, "dev", "api").await;
        running_pod(&fleet, "staging", "api").await;
        let opts = LogOpts {
            tail: Some(2),
            ..LogOpts::default()
        };
        let mut tail = Tail::start(
            &fleet,
            vec![workload(0, "api"), workload(1, "api")],
            opts.clone(),
        )
        .await;
        tail.until("lines from both clusters", |e| {
            let clusters: HashSet<usize> = lines(e).keys().map(|k| k.cluster).collect();
            clusters.len() == 2
        })
        .await;
        // Folded into the console's log view, each line says its cluster.
        let mut state = State::new(
            ["dev", "staging"]
                .iter()
                .map(|n| EnvState {
                    name: n.to_string(),
                    color: None,
                    protected: false,
                    readonly: false,
                })
                .collect(),
            vec![
                ("dev".into(), 0, "dev".into()),
                ("staging".into(), 1, "staging".into()),
            ],
            Keymap::default(),
            Timestamp::now(),
        );
        state
            .nav
            .push(Screen::new(ViewKind::Logs, Scope::default()));
        state.logs = Some(Box::new(LogView {
            session: 1,
            namespace: "shop".into(),
            tailed: Tailed::Workload { name: "api".into() },
            origin: 0,
            clusters: vec![0, 1],
            container: None,
            since: Since::Tail,
            tail: 2,
            previous: false,
            timestamps: false,
            wrap: false,
            raw: false,
            buffer: watchfloor::logs::LogBuffer::new(1000),
            sources: Default::default(),
        }));
        for kind in tail.events.drain(..) {
            update(
                &mut state,
                Msg::Kube(KubeMsg::Logs(LogEvent { session: 1, kind })),
                Timestamp::now(),
            );
        }
        let labels: Vec<String> = state
            .logs
            .as_ref()
            .unwrap()
            .sources
            .iter()
            .map(|s| s.label.clone())
            .collect();
        assert!(labels.iter().any(|l| l.starts_with("dev ")), "{labels:?}");
        assert!(
            labels.iter().any(|l| l.starts_with("staging ")),
            "{labels:?}"
        );
        let styles = watchfloor::view::Styles::new(&Default::default());
        let mut t = Terminal::new(TestBackend::new(120, 30)).unwrap();
        t.draw(|f| watchfloor::view::draw(f, &state, &styles, Timestamp::now()))
            .unwrap();
        let screen = t.backend().to_string();
        assert!(
            screen.contains(" dev ") && screen.contains(" staging "),
            "{screen}"
        );
        assert!(
            screen.contains("logs ▸ shop/api ▸ dev, staging"),
            "{screen}"
        );
    });
}

#[test]
fn a_quiet_stream_outlives_the_read_timeout_without_a_gap_or_repeats() {
    // A manual clock: no time passes, so a followed container writes nothing.
    let fleet = TestFleet::start_with(
        &watchfloor::sim::fleetfile::resolve("small").expect("the small fleet"),
        watchfloor::sim::fleet::FleetOptions {
            manual_start: Some(Timestamp::from_second(1_790_000_000).unwrap()),
            ..Default::default()
        },
    );
    let running = &fleet.fleet;
    let advance = |secs: i64| {
        for _ in 0..secs {
            running.clock.advance(SignedDuration::from_secs(1));
            for rc in &running.clusters {
                rc.cluster.reconcile();
            }
        }
    };
    fleet.runtime.block_on(async {
        advance(60);
        let name = running_pod(&fleet, "dev", "web").await;
        // The console's clients wait 75 s for a read; this one only a second, to see it happen.
        let kubeconfig = Kubeconfig::read_from(&fleet.kubeconfig).expect("kubeconfig");
        let mut config = client_config(&kubeconfig, "dev").await.expect("config");
        config.read_timeout = Some(Duration::from_secs(1));
        let quick = kube::Client::try_from(config).expect("client");
        let (tx, mut rx) = mpsc::channel(256);
        let mut tasks = LogTasks::default();
        let opts = LogOpts {
            tail: Some(3),
            ..LogOpts::default()
        };
        tasks.start(&[Some(quick)], 1, vec![pod(0, &name)], opts, &tx);
        let mut events = Vec::new();
        let mut take = async |events: &mut Vec<LogEventKind>, for_: Duration| {
            let deadline = Instant::now() + for_;
            while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, rx.recv()).await {
                if let KubeMsg::Logs(ev) = msg {
                    events.push(ev.kind);
                }
            }
        };
        // Three read timeouts' worth of silence.
        take(&mut events, Duration::from_millis(3500)).await;
        let quiet: Vec<_> = lines(&events).into_values().flatten().collect();
        assert_eq!(quiet.len(), 3, "the tail, and nothing repeated: {quiet:?}");
        advance(5);
        take(&mut events, Duration::from_millis(1500)).await;
        let all: Vec<_> = lines(&events).into_values().flatten().collect();
        assert!(
            all.len() >= 7,
            "the lines of the next five seconds arrive: {all:?}"
        );
        let unique: HashSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len(), "no line twice: {all:?}");
        assert!(
            !events.iter().any(|e| matches!(
                e,
                LogEventKind::Gap { .. }
                    | LogEventKind::Note {
                        source: Some(_),
                        ..
                    }
            )),
            "a quiet stream is not a broken one:\n{}",
            summary(&events)
        );
    });
}
