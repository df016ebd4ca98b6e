//! The console's cluster I/O (`watchfloor::kube`) against the simulated fleet: rows and sync for
//! several clusters, scaling and crash loops seen through the rows, one cluster going away while
//! the others carry on, wrong credentials, relists that drop what vanished, and batching.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use kube::config::Kubeconfig;
use tokio::sync::mpsc;
use tokio::time::Instant;
use watchfloor::kube::rows::{EventRow, Health, PodRow, ProbeState};
use watchfloor::kube::{
    Change, ClusterHandle, ConnState, Kind, KubeMsg, ObjKey, Row, ServerInfo, client_config,
    fetch_detail, probes, spawn_cluster,
};
use watchfloor::sim::fleet::{FleetOptions, RunningCluster};
use watchfloor::sim::fleetfile;

use crate::support::TestFleet;

const WAIT: Duration = Duration::from_secs(60);

/// What the console would know of one cluster, kept the way the state layer keeps it: a relist
/// (Relisting .. Listed) replaces the rows of its kind.
#[derive(Default)]
struct View {
    rows: BTreeMap<(Kind, ObjKey), Row>,
    relisting: BTreeMap<Kind, HashSet<ObjKey>>,
    conn: Vec<ConnState>,
    server: Option<ServerInfo>,
    batches: Vec<usize>,
    changes: usize,
}

impl View {
    fn apply(&mut self, change: Change) {
        self.changes += 1;
        match change {
            Change::Relisting(kind) => {
                self.relisting.insert(kind, HashSet::new());
            }
            Change::Listed(kind) => {
                if let Some(seen) = self.relisting.remove(&kind) {
                    self.rows
                        .retain(|(k, key), _| *k != kind || seen.contains(key));
                }
            }
            Change::Apply(row) => {
                if let Some(seen) = self.relisting.get_mut(&row.kind()) {
                    seen.insert(row.key().clone());
                }
                self.rows.insert((row.kind(), row.key().clone()), row);
            }
            Change::Delete(kind, key) => {
                self.rows.remove(&(kind, key));
            }
        }
    }

    fn state(&self) -> Option<&ConnState> {
        self.conn.last()
    }

    fn synced(&self) -> bool {
        self.state() == Some(&ConnState::Synced)
    }

    fn pods(&self) -> Vec<&PodRow> {
        self.rows
            .values()
            .filter_map(|r| match r {
                Row::Pod(p) => Some(p.as_ref()),
                _ => None,
            })
            .collect()
    }

    /// The live (not terminating) pods of a workload.
    fn live(&self, workload: &str) -> Vec<&PodRow> {
        self.pods()
            .into_iter()
            .filter(|p| p.workload.as_deref() == Some(workload) && !p.deleting)
            .collect()
    }

    fn events(&self) -> Vec<&EventRow> {
        self.rows
            .values()
            .filter_map(|r| match r {
                Row::Event(e) => Some(e.as_ref()),
                _ => None,
            })
            .collect()
    }

    fn count(&self, kind: Kind) -> usize {
        self.rows.keys().filter(|(k, _)| *k == kind).count()
    }

    fn row(&self, kind: Kind, ns: &str, name: &str) -> Option<&Row> {
        self.rows.get(&(kind, ObjKey::new(ns, name)))
    }
}

/// A console's worth of clusters feeding one channel, as the app has them.
struct Console {
    tx: mpsc::Sender<KubeMsg>,
    rx: mpsc::Receiver<KubeMsg>,
    handles: Vec<ClusterHandle>,
    views: Vec<View>,
}

impl Console {
    fn new() -> Self {
        Self::with_capacity(64)
    }

    fn with_capacity(capacity: usize) -> Self {
        let (tx, rx) = mpsc::channel(capacity);
        Self {
            tx,
            rx,
            handles: Vec::new(),
            views: Vec::new(),
        }
    }

    async fn watch(&mut self, fleet: &TestFleet, context: &str, namespaces: &[&str]) -> usize {
        let kubeconfig = Kubeconfig::read_from(&fleet.kubeconfig).expect("kubeconfig");
        self.watch_with(&kubeconfig, context, namespaces).await
    }

    async fn watch_with(&mut self, kubeconfig: &Kubeconfig, context: &str, ns: &[&str]) -> usize {
        let config = client_config(kubeconfig, context).await.expect("config");
        let id = self.views.len();
        let handle = spawn_cluster(
            id,
            config,
            self.tx.clone(),
            Arc::new(Timestamp::now),
            ns.iter().map(|s| s.to_string()).collect(),
        )
        .expect("a client");
        assert_eq!(handle.id(), id);
        self.handles.push(handle);
        self.views.push(View::default());
        id
    }

    fn handle(&mut self, msg: KubeMsg) {
        match msg {
            KubeMsg::Changes { cluster, changes } => {
                let view = &mut self.views[cluster];
                view.batches.push(changes.len());
                for c in changes {
                    view.apply(c);
                }
            }
            KubeMsg::Conn { cluster, state, .. } => self.views[cluster].conn.push(state),
            KubeMsg::Server { cluster, info } => self.views[cluster].server = Some(info),
            KubeMsg::Detail(_) | KubeMsg::Logs(_) => {}
        }
    }

    /// Takes messages until `pred` holds, or panics after `WAIT` saying what it waited for.
    async fn until(&mut self, what: &str, pred: impl Fn(&[View]) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !pred(&self.views) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(msg)) => self.handle(msg),
                Ok(None) => panic!("the channel closed"),
                Err(_) => {
                    let states: Vec<_> = self.views.iter().map(|v| v.state()).collect();
                    panic!("timed out waiting for {what}; connection states: {states:?}");
                }
            }
        }
    }
}

fn all_ok(view: &View, workload: &str, n: usize) -> bool {
    let pods = view.live(workload);
    pods.len() == n && pods.iter().all(|p| p.health == Health::Ok)
}

fn shop_ready(view: &View) -> bool {
    view.synced() && all_ok(view, "web", 2) && all_ok(view, "api", 2) && all_ok(view, "worker", 1)
}

/// Scales a Deployment behind the API's back (for when the API server is down): the
/// controllers keep running, as a real cluster's do when only its API endpoint is unreachable.
fn scale_in_store(cluster: &RunningCluster, name: &str, replicas: i32) {
    cluster.cluster.write(|store, _| {
        store
            .mutate::<Deployment>("shop", name, |d| {
                d.spec.as_mut().expect("spec").replicas = Some(replicas);
            })
            .expect("deployment exists");
    });
}

#[test]
fn two_clusters_list_sync_and_report_their_version() {
    let fleet = TestFleet::start();
    fleet.runtime.block_on(async {
        let mut console = Console::new();
        let dev = console.watch(&fleet, "dev", &[]).await;
        let staging = console.watch(&fleet, "staging", &[]).await;
        console
            .until("both clusters synced with the shop running", |v| {
                shop_ready(&v[dev]) && shop_ready(&v[staging]) && v.iter().all(|v| v.server.is_some())
            })
            .await;
        for view in &console.views {
            assert_eq!(view.conn.first(), Some(&ConnState::Connecting));
            assert!(view.server.as_ref().unwrap().version.starts_with("v1.32"));
            let web = view.live("web")[0];
            assert_eq!((web.status.as_str(), web.ready), ("Running", (1, 1)));
            assert!(web.replicaset.as_deref().unwrap().starts_with("web-"));
            assert!(!web.node.is_empty());
            let app = &web.containers[0];
            let readiness = app.readiness.as_ref().expect("a readiness probe");
            assert!(readiness.handler.starts_with("HTTP GET :"), "{}", readiness.handler);
            assert!(readiness.handler.ends_with("/readyz"), "{}", readiness.handler);
            assert_eq!(readiness.period_seconds, 5);
            let liveness = app.liveness.as_ref().expect("a liveness probe");
            assert_eq!(liveness.initial_delay_seconds, 10);

            let Some(Row::Deployment(w)) = view.row(Kind::Deployment, "shop", "web") else {
                panic!("no web deployment row");
            };
            assert_eq!((w.desired, w.revision), (2, Some(1)));
            assert_eq!(w.strategy, "RollingUpdate 25%/25%");
            let Some(Row::Hpa(h)) = view.row(Kind::Hpa, "shop", "api") else {
                panic!("no api HPA row");
            };
            assert_eq!((h.target_kind.as_str(), h.min, h.max), ("Deployment", 2, 6));
            assert!(view.rows.values().any(|r| matches!(r,
                Row::ReplicaSet(rs) if rs.workload.as_deref() == Some("web") && rs.revision == Some(1))));
            assert!(view.count(Kind::Event) > 0, "the kubelet's events are listed");
        }
    });
}

#[test]
fn a_scale_shows_in_the_rows() {
    let fleet = TestFleet::start();
    fleet.runtime.block_on(async {
        let mut console = Console::new();
        let dev = console.watch(&fleet, "dev", &[]).await;
        console.until("dev synced", |v| shop_ready(&v[dev])).await;
        let deploys: Api<Deployment> =
            Api::namespaced(console.handles[dev].client().clone(), "shop");
        deploys
            .patch_scale(
                "web",
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"spec": {"replicas": 4}})),
            )
            .await
            .expect("scaled");
        console
            .until("four ready web pods and the deployment at 4/4", |v| {
                let w = v[dev].row(Kind::Deployment, "shop", "web");
                all_ok(&v[dev], "web", 4)
                    && matches!(w, Some(Row::Deployment(w)) if w.desired == 4 && w.ready == 4)
            })
            .await;
    });
}

#[test]
fn a_crash_looping_pod_is_critical() {
    let fleet = TestFleet::start();
    let cluster = fleet.fleet.cluster("dev").expect("dev");
    fleet.runtime.block_on(async {
        let mut console = Console::new();
        let dev = console.watch(&fleet, "dev", &[]).await;
        console.until("dev synced", |v| shop_ready(&v[dev])).await;
        // The minimal app exits 1 five seconds after start when its tag says `crash`.
        cluster
            .set_image(
                "shop",
                "web",
                Some("app"),
                "registry.example.com/shop/web:1-crash",
            )
            .expect("web exists");
        console
            .until("a web pod in CrashLoopBackOff", |v| {
                v[dev]
                    .live("web")
                    .iter()
                    .any(|p| p.status == "CrashLoopBackOff")
            })
            .await;
        let view = &console.views[dev];
        let pod = view
            .live("web")
            .into_iter()
            .find(|p| p.status == "CrashLoopBackOff")
            .unwrap();
        assert_eq!(pod.health, Health::Critical);
        assert!(pod.restarts >= 1 && pod.last_restart.is_some());
        let app = &pod.containers[0];
        assert_eq!(app.state, "Waiting: CrashLoopBackOff");
        assert!(app.image.ends_with(":1-crash"));
        let last = app.last_termination.as_ref().expect("it terminated before");
        assert_eq!((last.reason.as_str(), last.exit_code), ("Error", 1));
        // The old revision keeps serving: a rolling update stops at maxUnavailable.
        assert!(view.live("web").iter().any(|p| p.health == Health::Ok));
        let revisions: Vec<Option<u64>> = view
            .rows
            .values()
            .filter_map(|r| match r {
                Row::ReplicaSet(rs) if rs.workload.as_deref() == Some("web") => Some(rs.revision),
                _ => None,
            })
            .collect();
        assert!(revisions.contains(&Some(2)), "{revisions:?}");
    });
}

#[test]
fn an_unready_pod_is_a_warning_and_its_readiness_probe_says_why() {
    let fleet = TestFleet::start();
    let cluster = fleet.fleet.cluster("dev").expect("dev");
    fleet.runtime.block_on(async {
        let mut console = Console::new();
        let dev = console.watch(&fleet, "dev", &[]).await;
        console.until("dev synced", |v| shop_ready(&v[dev])).await;
        // The minimal app answers /readyz with 503 forever when its tag says `unready`.
        cluster
            .set_image(
                "shop",
                "worker",
                Some("app"),
                "registry.example.com/shop/worker:1-unready",
            )
            .expect("worker exists");
        let failing = |v: &View| {
            let events = v.events();
            v.live("worker").into_iter().find_map(|p| {
                let probes = probes(p, &events, Timestamp::now());
                matches!(probes.readiness, ProbeState::Failing { count, .. } if count > 0)
                    .then(|| (p.clone(), probes))
            })
        };
        console
            .until("a worker pod whose readiness probe fails", |v| {
                failing(&v[dev]).is_some()
            })
            .await;
        let (pod, probes) = failing(&console.views[dev]).unwrap();
        assert_eq!((pod.status.as_str(), pod.ready), ("Running", (0, 1)));
        assert_eq!(pod.health, Health::Warning);
        let ProbeState::Failing { message, last, .. } = probes.readiness else {
            unreachable!()
        };
        assert!(message.starts_with("Readiness probe failed:"), "{message}");
        assert!(message.contains("503"), "{message}");
        assert!(last.is_some());
        assert_eq!(probes.liveness, ProbeState::Passing);
        assert_eq!(probes.startup, ProbeState::NotConfigured);
    });
}

#[test]
fn details_of_a_pod_and_a_deployment() {
    let fleet = TestFleet::start();
    fleet.runtime.block_on(async {
        let mut console = Console::new();
        let dev = console.watch(&fleet, "dev", &[]).await;
        console.until("dev synced", |v| shop_ready(&v[dev])).await;
        let client = console.handles[dev].client().clone();
        let pod = console.views[dev].live("web")[0].key.clone();
        let detail = fetch_detail(client.clone(), dev, Kind::Pod, pod.clone())
            .await
            .expect("pod detail");
        assert_eq!(
            (detail.cluster, detail.kind, &detail.key),
            (dev, Kind::Pod, &pod)
        );
        let fact = |name: &str| {
            detail
                .facts
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert!(!fact("Pod IP").is_empty() && !fact("Node").is_empty());
        assert_eq!(fact("QoS class"), "Burstable");
        assert!(
            detail
                .conditions
                .iter()
                .any(|c| c.kind == "Ready" && c.status == "True")
        );

        let web = ObjKey::new("shop", "web");
        let detail = fetch_detail(client.clone(), dev, Kind::Deployment, web)
            .await
            .expect("deployment detail");
        let facts: BTreeMap<_, _> = detail.facts.iter().cloned().collect();
        assert_eq!(
            facts["Strategy"],
            "RollingUpdate: max surge 25%, max unavailable 25%"
        );
        assert_eq!(facts["Progress deadline"], "600s");
        assert!(
            detail
                .conditions
                .iter()
                .any(|c| c.kind == "Available" && c.status == "True")
        );

        let missing = ObjKey::new("shop", "nope");
        let err = fetch_detail(client, dev, Kind::Pod, missing.clone())
            .await
            .expect_err("no such pod");
        assert_eq!(err.key, missing);
        assert!(err.message.starts_with("pod shop/nope:"), "{}", err.message);
        assert!(err.message.contains("not found"), "{}", err.message);
    });
}

#[test]
fn an_unreachable_cluster_does_not_hold_up_another_and_resyncs_when_back() {
    let fleet = TestFleet::start();
    let staging_cluster = fleet.fleet.cluster("staging").expect("staging");
    fleet.runtime.block_on(async {
        let mut console = Console::new();
        let dev = console.watch(&fleet, "dev", &[]).await;
        let staging = console.watch(&fleet, "staging", &[]).await;
        console
            .until("both synced", |v| {
                shop_ready(&v[dev]) && shop_ready(&v[staging])
            })
            .await;

        let stopped_at = Timestamp::now();
        staging_cluster.server.stop();
        console
            .until("staging unreachable", |v| {
                matches!(v[staging].state(), Some(ConnState::Unreachable { .. }))
            })
            .await;
        let Some(ConnState::Unreachable {
            since,
            error,
            retry_at,
        }) = console.views[staging].state().cloned()
        else {
            unreachable!()
        };
        assert!(
            since >= stopped_at && retry_at > since,
            "{since} {retry_at}"
        );
        assert!(
            error.contains("connection refused") || error.contains("connection closed"),
            "{error}"
        );
        assert!(console.views[dev].synced());

        // While staging is down, dev's changes keep coming.
        let before = console.views[dev].changes;
        let deploys: Api<Deployment> =
            Api::namespaced(console.handles[dev].client().clone(), "shop");
        deploys
            .patch_scale(
                "web",
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"spec": {"replicas": 3}})),
            )
            .await
            .expect("dev answers");
        console
            .until("three web pods in dev", |v| all_ok(&v[dev], "web", 3))
            .await;
        assert!(console.views[dev].changes > before);
        assert!(matches!(
            console.views[staging].state(),
            Some(ConnState::Unreachable { .. })
        ));

        // Meanwhile staging's web shrinks to one pod, unseen: after the relist the rows must
        // not keep the pod that went away.
        scale_in_store(staging_cluster, "web", 1);
        tokio::time::sleep(Duration::from_secs(3)).await;
        staging_cluster
            .come_back()
            .await
            .expect("staging serves again");
        console
            .until("staging synced again with one web pod", |v| {
                v[staging].synced()
                    && v[staging].live("web").len() == 1
                    && v[staging]
                        .pods()
                        .iter()
                        .filter(|p| p.workload.as_deref() == Some("web"))
                        .count()
                        == 1
            })
            .await;
        let states = &console.views[staging].conn;
        let unreachable_at = states
            .iter()
            .position(|s| matches!(s, ConnState::Unreachable { .. }))
            .unwrap();
        assert_eq!(states.last(), Some(&ConnState::Synced));
        assert!(
            states[unreachable_at..]
                .iter()
                .all(|s| matches!(s, ConnState::Unreachable { .. } | ConnState::Synced)),
            "{states:?}"
        );
    });
}

#[test]
fn wrong_credentials_degrade_the_cluster() {
    let fleet = TestFleet::start();
    let dev = fleet.fleet.cluster("dev").expect("dev");
    let text = fleet
        .fleet
        .kubeconfig()
        .replace(&dev.admin.token, "not-a-token");
    let kubeconfig = Kubeconfig::from_yaml(&text).expect("kubeconfig");
    fleet.runtime.block_on(async {
        let mut console = Console::new();
        let id = console.watch_with(&kubeconfig, "dev", &[]).await;
        console
            .until("dev degraded", |v| {
                matches!(v[id].state(), Some(ConnState::Degraded { error, .. })
                    if error.contains("pods: unauthorized"))
            })
            .await;
        // /version is public: the server answers it, so it is reachable, just refusing us.
        console
            .until("the version", |v| v[id].server.is_some())
            .await;
        assert_eq!(console.views[id].count(Kind::Pod), 0);
    });
}

#[test]
fn watching_chosen_namespaces_drops_what_vanished_in_each() {
    let fleet = TestFleet::start();
    let cluster = fleet.fleet.cluster("prod-eastus").expect("prod-eastus");
    fleet.runtime.block_on(async {
        let mut console = Console::new();
        let id = console
            .watch(&fleet, "prod-eastus", &["shop", "default"])
            .await;
        console.until("synced", |v| shop_ready(&v[id])).await;
        assert!(
            console.views[id]
                .rows
                .keys()
                .all(|(_, k)| k.namespace == "shop" || k.namespace == "default")
        );
        // Several namespaces per kind: no relist markers (one namespace's relist must not drop
        // another's rows); each watcher sends the deletions itself.
        assert!(console.views[id].relisting.is_empty());

        cluster.server.stop();
        console
            .until("unreachable", |v| {
                matches!(v[id].state(), Some(ConnState::Unreachable { .. }))
            })
            .await;
        // (Not api: its HPA would scale it back to two.)
        scale_in_store(cluster, "web", 1);
        tokio::time::sleep(Duration::from_secs(3)).await;
        cluster.come_back().await.expect("back");
        console
            .until("synced with one web pod", |v| {
                v[id].synced()
                    && v[id]
                        .pods()
                        .iter()
                        .filter(|p| p.workload.as_deref() == Some("web"))
                        .count()
                        == 1
            })
            .await;
    });
}

#[test]
fn batches_hold_at_most_a_thousand_changes() {
    let fleet = TestFleet::start_with(
        &fleetfile::resolve("small").expect("the small fleet"),
        FleetOptions {
            speed: 20.0,
            extra_pods: 6_000,
            ..Default::default()
        },
    );
    fleet.runtime.block_on(async {
        // A UI that is busy for a while: with room for one message, the cluster's tasks wait
        // for it (nothing is dropped, nothing piles up) and then catch up in full batches.
        let mut console = Console::with_capacity(1);
        let id = console.watch(&fleet, "dev", &[]).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        console.until("synced", |v| v[id].synced()).await;
        let view = &console.views[id];
        let pods = view.count(Kind::Pod);
        // 6,000 extra pods over four clusters, and the shop's five.
        assert_eq!(pods, 1_505, "{pods} pods");
        // Never more than 1,000 per batch, and batched (many changes per message). Whether the
        // catch-up fills whole batches depends on how fast this (debug) build converts rows
        // against the 50 ms window, so that is left to the Batcher's unit tests.
        let biggest = view.batches.iter().max().copied().unwrap_or(0);
        assert!(biggest <= 1_000, "batches: {:?}", view.batches);
        assert!(
            view.batches.len() * 20 < view.changes,
            "{} batches for {} changes",
            view.batches.len(),
            view.changes
        );
    });
}
