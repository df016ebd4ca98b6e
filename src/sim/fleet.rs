//! A fleet of simulated clusters: what it contains, and starting it on loopback.
//!
//! Part 1 ships one small built-in fleet (four clusters in three environments); the seed-modelled
//! fleets and fleet files replace it in a later issue.

use std::net::SocketAddr;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Namespace, Node, Service};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::clock::SimClock;
use super::cluster::{Cluster, ClusterSpec, User};
use super::defaults;
use super::faults::Crashable;
use super::kinds::Res;
use super::kubelet::Kubelet;
use super::object::SimObject;
use super::server::ServerHandle;
use super::tls::SimTls;
use super::world::World;

#[derive(Clone, Debug)]
pub struct ClusterDef {
    pub name: String,
    pub environment: String,
    pub region: String,
    pub nodes: usize,
}

#[derive(Clone, Debug)]
pub struct AppDef {
    pub namespace: String,
    pub name: String,
    pub replicas: i32,
    pub image: String,
    pub port: i32,
    /// `(min, max, target CPU %)`.
    pub hpa: Option<(i32, i32, i32)>,
}

#[derive(Clone, Debug)]
pub struct FleetDef {
    pub clusters: Vec<ClusterDef>,
    pub apps: Vec<AppDef>,
}

#[derive(Clone, Debug)]
pub struct FleetOptions {
    pub seed: u64,
    pub speed: f64,
    /// Extra pods spread over the clusters (for benchmarks): pods are data, not tasks.
    pub extra_pods: usize,
}

impl Default for FleetOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            speed: 1.0,
            extra_pods: 0,
        }
    }
}

fn app(
    namespace: &str,
    name: &str,
    replicas: i32,
    image: &str,
    hpa: Option<(i32, i32, i32)>,
) -> AppDef {
    AppDef {
        namespace: namespace.into(),
        name: name.into(),
        replicas,
        image: image.into(),
        port: 8080,
        hpa,
    }
}

/// The small built-in fleet: dev, staging and two prod regions.
pub fn builtin() -> FleetDef {
    let cluster = |name: &str, env: &str, region: &str, nodes| ClusterDef {
        name: name.into(),
        environment: env.into(),
        region: region.into(),
        nodes,
    };
    FleetDef {
        clusters: vec![
            cluster("dev", "dev", "eastus", 2),
            cluster("staging", "staging", "eastus", 2),
            cluster("prod-eastus", "prod", "eastus", 3),
            cluster("prod-westus", "prod", "westus", 3),
        ],
        apps: vec![
            app(
                "shop",
                "web",
                2,
                "registry.example.com/shop/web:1.4.2",
                None,
            ),
            app(
                "shop",
                "api",
                2,
                "registry.example.com/shop/api:2.4.1",
                Some((2, 6, 70)),
            ),
            app(
                "shop",
                "worker",
                1,
                "registry.example.com/shop/worker:2.4.1",
                None,
            ),
        ],
    }
}

/// One running simulated cluster.
pub struct RunningCluster {
    pub def: ClusterDef,
    pub cluster: Arc<Cluster>,
    pub server: ServerHandle,
    pub admin: User,
    pub viewer: User,
    /// The faults the timeline injected into this cluster's apps.
    pub world: Arc<World>,
    controllers: JoinHandle<()>,
}

impl Drop for RunningCluster {
    fn drop(&mut self) {
        self.controllers.abort();
    }
}

pub struct RunningFleet {
    pub clusters: Vec<RunningCluster>,
    pub tls: SimTls,
}

fn token(kind: &str, cluster: &str, seed: u64) -> String {
    // Tokens only guard loopback servers of a simulator; they just need to differ per user.
    format!("wf-{kind}-{cluster}-{seed:x}")
}

/// Starts every cluster of `def` on an ephemeral loopback port, with its objects created and its
/// controllers running.
pub async fn start(def: &FleetDef, opts: &FleetOptions) -> std::io::Result<RunningFleet> {
    let clock = SimClock::scaled(opts.speed);
    let tls = SimTls::generate().map_err(std::io::Error::other)?;
    let mut clusters = Vec::new();
    let per_cluster_extra = opts.extra_pods.div_ceil(def.clusters.len().max(1));
    for (i, cdef) in def.clusters.iter().enumerate() {
        let seed = opts.seed.wrapping_mul(1000).wrapping_add(i as u64);
        let admin = User {
            name: format!("admin@{}", cdef.name),
            token: token("admin", &cdef.name, opts.seed),
            readonly: false,
        };
        let viewer = User {
            name: format!("viewer@{}", cdef.name),
            token: token("viewer", &cdef.name, opts.seed),
            readonly: true,
        };
        let spec = ClusterSpec {
            name: cdef.name.clone(),
            seed,
            users: vec![admin.clone(), viewer.clone()],
        };
        let world = Arc::new(World::new());
        let cluster = Cluster::new(spec, clock.clone(), new_kubelet(seed, &world));
        populate(&cluster, cdef, &def.apps, per_cluster_extra);
        cluster.reconcile();
        let server = ServerHandle::start(
            Arc::clone(&cluster),
            SocketAddr::from(([127, 0, 0, 1], 0)),
            tls.clone(),
        )
        .await?;
        let controllers = tokio::spawn(Arc::clone(&cluster).run());
        clusters.push(RunningCluster {
            def: cdef.clone(),
            cluster,
            server,
            admin,
            viewer,
            world,
            controllers,
        });
    }
    Ok(RunningFleet { clusters, tls })
}

fn new_kubelet(seed: u64, world: &Arc<World>) -> Kubelet {
    let app = Arc::new(crate::sim::app::DefaultApp);
    Kubelet::new(Arc::new(Crashable::new(app, Arc::clone(world))), seed)
}

fn create<T: SimObject>(cluster: &Cluster, mut value: Value) {
    defaults::apply(T::RES, &mut value);
    let obj: T = serde_json::from_value(value).expect("built-in fleet objects are well-formed");
    cluster.write(|store, now| {
        store
            .create(obj, now)
            .expect("built-in fleet objects are created once into an empty store")
    });
}

fn populate(cluster: &Cluster, cdef: &ClusterDef, apps: &[AppDef], extra_pods: usize) {
    let mut namespaces: Vec<&str> =
        vec!["default", "kube-system", "kube-public", "kube-node-lease"];
    for a in apps {
        if !namespaces.contains(&a.namespace.as_str()) {
            namespaces.push(&a.namespace);
        }
    }
    if extra_pods > 0 {
        namespaces.push("bulk");
    }
    for ns in namespaces {
        create::<Namespace>(cluster, json!({"metadata": {"name": ns}}));
    }
    // Enough nodes for every pod at the kubelet's default of 110 pods per node (with headroom
    // for surges), so a benchmark fleet is limited by the simulator, not by scheduling.
    let pods: usize = apps
        .iter()
        .map(|a| a.replicas.max(0) as usize)
        .sum::<usize>()
        + extra_pods;
    let nodes = cdef.nodes.max(pods.div_ceil(100));
    for n in 0..nodes {
        create::<Node>(cluster, node_json(cdef, n));
    }
    for a in apps {
        create::<Deployment>(cluster, deployment_json(a, &cdef.environment));
        create::<Service>(
            cluster,
            json!({"metadata": {"name": a.name, "namespace": a.namespace, "labels": {"app": a.name}},
                   "spec": {"selector": {"app": a.name}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
        );
        if let Some((min, max, target)) = a.hpa {
            let mut hpa = json!({"metadata": {"name": a.name, "namespace": a.namespace},
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": a.name},
                         "minReplicas": min, "maxReplicas": max,
                         "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}}]}});
            defaults::apply(Res::HpaV2, &mut hpa);
            create::<HorizontalPodAutoscaler>(cluster, hpa);
        }
    }
    // Benchmark bulk: deployments of up to 100 replicas each.
    let mut left = extra_pods;
    let mut i = 0;
    while left > 0 {
        let n = left.min(100);
        let bulk = app(
            "bulk",
            &format!("bulk-{i:03}"),
            n as i32,
            "registry.example.com/bulk/app:1.0.0",
            None,
        );
        create::<Deployment>(cluster, deployment_json(&bulk, &cdef.environment));
        left -= n;
        i += 1;
    }
}

fn node_json(c: &ClusterDef, n: usize) -> Value {
    let name = format!(
        "aks-{}-{:08}-vmss{:06}",
        c.name.replace('-', ""),
        31_415_926 + n,
        n
    );
    json!({
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "topology.kubernetes.io/region": c.region, "topology.kubernetes.io/zone": format!("{}-{}", c.region, n % 3 + 1),
            "node.kubernetes.io/instance-type": "Standard_D4s_v5"}},
        "spec": {"podCIDR": format!("10.{}.{}.0/24", 244 + n / 256, n % 256), "providerID": format!("azure:///subscriptions/sim/{name}")},
        "status": {
            "capacity": {"cpu": "4", "memory": "16374124Ki", "pods": "110", "ephemeral-storage": "129886128Ki"},
            "allocatable": {"cpu": "3860m", "memory": "12880236Ki", "pods": "110", "ephemeral-storage": "119703055367"},
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available"},
                {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure"},
                {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available"},
                {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}
            ],
            "addresses": [{"type": "InternalIP", "address": format!("10.224.{}.{}", n / 250, n % 250 + 4)}, {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": "v1.32.4", "kubeProxyVersion": "", "containerRuntimeVersion": "containerd://1.7.27-1",
                         "kernelVersion": "5.15.0-1089-azure", "osImage": "Ubuntu 22.04.5 LTS", "operatingSystem": "linux",
                         "architecture": "amd64", "machineID": format!("{:032x}", n + 1), "systemUUID": format!("{:08x}-0000-0000-0000-000000000000", n + 1),
                         "bootID": format!("{:08x}-1111-1111-1111-111111111111", n + 1)}
        }
    })
}

fn deployment_json(a: &AppDef, environment: &str) -> Value {
    json!({
        "metadata": {"name": a.name, "namespace": a.namespace, "labels": {"app": a.name, "environment": environment},
                     "annotations": {"kubernetes.io/change-cause": format!("deploy {}", a.image.rsplit(':').next().unwrap_or(""))}},
        "spec": {
            "replicas": a.replicas,
            "selector": {"matchLabels": {"app": a.name}},
            "template": {
                "metadata": {"labels": {"app": a.name, "environment": environment},
                             "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": a.port.to_string(), "prometheus.io/path": "/metrics"}},
                "spec": {"containers": [{
                    "name": "app", "image": a.image,
                    "ports": [{"name": "http", "containerPort": a.port}],
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
            for user in [&c.admin, &c.viewer] {
                let context = if user.readonly {
                    user.name.clone()
                } else {
                    name.clone()
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
