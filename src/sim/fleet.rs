//! A fleet of simulated clusters started from a fleet file (see [`super::fleetfile`]): one API
//! server per cluster on loopback, its objects created, its controllers and kubelet running, its
//! pods running the apps the file describes.

use std::net::SocketAddr;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Node};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::app::{App, DefaultApp, FleetApp, profile::Profile};
use super::clock::SimClock;
use super::cluster::{Cluster, ClusterSpec, User};
use super::faults::Crashable;
use super::fleetfile::translate::create;
use super::fleetfile::{ClusterConfig, FleetFile, node_json};
use super::kubelet::Kubelet;
use super::server::ServerHandle;
use super::status::ApiError;
use super::tls::SimTls;
use super::world::World;

#[derive(Clone, Debug)]
pub struct FleetOptions {
    pub seed: u64,
    pub speed: f64,
    /// Extra pods spread over the clusters (for benchmarks): pods are data, not tasks.
    pub extra_pods: usize,
    /// Run on a manual clock starting here instead of the wall clock (tests that must replay
    /// exactly): time moves only with `fleet.clock.advance`, and controllers run only when the
    /// caller calls `cluster.reconcile()`.
    pub manual_start: Option<Timestamp>,
}

impl Default for FleetOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            speed: 1.0,
            extra_pods: 0,
            manual_start: None,
        }
    }
}

/// One running simulated cluster.
pub struct RunningCluster {
    pub def: ClusterConfig,
    pub cluster: Arc<Cluster>,
    pub server: ServerHandle,
    /// The fleet's first user who may write (its kubeconfig context is named after the cluster).
    pub admin: User,
    /// Every user, `admin` first; the others' contexts are named `<user>@<cluster>`.
    pub users: Vec<User>,
    /// The faults the timeline injected into this cluster's apps.
    pub world: Arc<World>,
    /// The controllers' loop; None on a manual clock, where the caller runs `reconcile`.
    controllers: Option<JoinHandle<()>>,
}

impl Drop for RunningCluster {
    fn drop(&mut self) {
        if let Some(c) = &self.controllers {
            c.abort();
        }
    }
}

pub struct RunningFleet {
    pub clusters: Vec<RunningCluster>,
    pub tls: SimTls,
    /// The simulated clock every cluster shares.
    pub clock: SimClock,
    /// When the fleet started (simulated time): scenario steps are timed from here.
    pub started_at: Timestamp,
}

fn token(kind: &str, cluster: &str, seed: u64) -> String {
    // Tokens only guard loopback servers of a simulator; they just need to differ per user.
    format!("wf-{kind}-{cluster}-{seed:x}")
}

/// Why a fleet could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not serve on 127.0.0.1: {0}")]
    Io(#[from] std::io::Error),
    #[error("cluster {cluster}: could not create its objects: {message}")]
    Objects { cluster: String, message: String },
}

/// Starts every cluster of `fleet` on an ephemeral loopback port, with its objects created and
/// its controllers running.
pub async fn start(fleet: &FleetFile, opts: &FleetOptions) -> Result<RunningFleet, StartError> {
    let clock = match opts.manual_start {
        Some(t) => SimClock::manual(t),
        None => SimClock::scaled(opts.speed),
    };
    let started_at = clock.now();
    let tls = SimTls::generate().map_err(std::io::Error::other)?;
    let catalog = fleet.catalog();
    let mut clusters = Vec::new();
    let per_cluster_extra = opts.extra_pods.div_ceil(fleet.clusters.len().max(1));
    for (i, objects) in fleet.objects().into_iter().enumerate() {
        let cdef = objects.cluster.clone();
        let seed = opts.seed.wrapping_mul(1000).wrapping_add(i as u64);
        let mut users: Vec<User> = fleet
            .users
            .iter()
            .map(|u| User {
                name: format!("{}@{}", u.name, cdef.name),
                token: token(&u.name, &cdef.name, opts.seed),
                readonly: u.read_only,
            })
            .collect();
        // The admin (first writable user) leads; a fleet of read-only users still gets one.
        let admin_at = users.iter().position(|u| !u.readonly);
        let admin = match admin_at {
            Some(at) => users.remove(at),
            None => User {
                name: format!("admin@{}", cdef.name),
                token: token("admin", &cdef.name, opts.seed),
                readonly: false,
            },
        };
        users.insert(0, admin.clone());
        let spec = ClusterSpec {
            name: cdef.name.clone(),
            seed,
            users: users.clone(),
        };
        let world = Arc::new(World::new());
        let kubelet = new_kubelet(seed, &catalog, &world);
        let cluster = Cluster::new(spec, clock.clone(), kubelet);
        objects
            .create_in(&cluster)
            .and_then(|()| add_bulk(&cluster, &cdef, objects.pods as usize, per_cluster_extra))
            .map_err(|e| StartError::Objects {
                cluster: cdef.name.clone(),
                message: e.message.clone(),
            })?;
        cluster.reconcile();
        let server = ServerHandle::start(
            Arc::clone(&cluster),
            SocketAddr::from(([127, 0, 0, 1], 0)),
            tls.clone(),
        )
        .await?;
        // On a manual clock nothing moves between the caller's steps, and a loop racing them
        // would only make the order of writes (and so resourceVersions) vary between runs.
        let controllers = opts
            .manual_start
            .is_none()
            .then(|| tokio::spawn(Arc::clone(&cluster).run()));
        clusters.push(RunningCluster {
            def: cdef,
            cluster,
            server,
            admin,
            users,
            world,
            controllers,
        });
    }
    Ok(RunningFleet {
        clusters,
        tls,
        clock,
        started_at,
    })
}

/// The kubelet of one cluster: pods run the fleet's apps (the minimal app for images the fleet
/// file gives no behaviour), and crash when the timeline says so.
fn new_kubelet(seed: u64, catalog: &[(String, Profile)], world: &Arc<World>) -> Kubelet {
    let app: Arc<dyn App> = if catalog.is_empty() {
        Arc::new(DefaultApp)
    } else {
        Arc::new(FleetApp::new(catalog.to_vec(), Arc::clone(world)))
    };
    Kubelet::new(Arc::new(Crashable::new(app, Arc::clone(world))), seed)
}

/// Benchmark bulk (`--pods N`): a `bulk` namespace of Deployments of up to 100 replicas each,
/// running the minimal app, and the nodes they need beyond the fleet's own.
fn add_bulk(
    cluster: &Cluster,
    cdef: &ClusterConfig,
    fleet_pods: usize,
    extra_pods: usize,
) -> Result<(), ApiError> {
    if extra_pods == 0 {
        return Ok(());
    }
    cluster.write(|store, now| {
        create::<Namespace>(store, now, &json!({"metadata": {"name": "bulk"}}))?;
        // Enough nodes for every pod at the kubelet's default of 110 pods per node (with
        // headroom for surges), so a benchmark fleet is limited by the simulator, not by
        // scheduling.
        let have = store.list::<Node>(None).len();
        let need = (fleet_pods + extra_pods).div_ceil(100);
        for n in have..need {
            create::<Node>(store, now, &node_json(cdef, n))?;
        }
        let mut left = extra_pods;
        let mut i = 0;
        while left > 0 {
            let n = left.min(100);
            create::<Deployment>(store, now, &bulk_deployment(i, n, &cdef.environment))?;
            left -= n;
            i += 1;
        }
        Ok(())
    })
}

fn bulk_deployment(i: usize, replicas: usize, environment: &str) -> Value {
    let name = format!("bulk-{i:03}");
    json!({
        "metadata": {"name": name, "namespace": "bulk", "labels": {"app": name, "environment": environment}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, "environment": environment},
                             "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080", "prometheus.io/path": "/metrics"}},
                "spec": {"containers": [{
                    "name": "app", "image": "registry.example.com/bulk/app:1.0.0",
                    "ports": [{"name": "http", "containerPort": 8080}],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
                    "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 5}
                }]}
            }
        }
    })
}

impl RunningFleet {
    /// A kubeconfig with one admin context per cluster (named after it) and one read-only context
    /// (`viewer@<cluster>`) whose writes are refused.
    pub fn kubeconfig(&self) -> String {
        use base64::Engine;
        let ca = base64::engine::general_purpose::STANDARD.encode(self.tls.ca_pem.as_bytes());
        let mut clusters = String::new();
        let mut contexts = String::new();
        let mut users = String::new();
        for c in &self.clusters {
            let name = &c.def.name;
            clusters.push_str(&format!(
                "- name: {name}\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\n",
                c.server.url()
            ));
            for user in &c.users {
                let context = if user.name == c.admin.name {
                    name.clone()
                } else {
                    user.name.clone()
                };
                contexts.push_str(&format!(
                    "- name: {context}\n  context:\n    cluster: {name}\n    user: {}\n    namespace: default\n",
                    user.name
                ));
                users.push_str(&format!(
                    "- name: {}\n  user:\n    token: {}\n",
                    user.name, user.token
                ));
            }
        }
        let current = self
            .clusters
            .first()
            .map(|c| c.def.name.as_str())
            .unwrap_or("");
        format!(
            "apiVersion: v1\nkind: Config\npreferences: {{}}\ncurrent-context: {current}\nclusters:\n{clusters}contexts:\n{contexts}users:\n{users}"
        )
    }

    pub fn cluster(&self, name: &str) -> Option<&RunningCluster> {
        self.clusters.iter().find(|c| c.def.name == name)
    }
}
