//! From a fleet file to what each simulated cluster starts with: Namespaces, ResourceQuotas, Nodes,
//! Deployments, Services and HorizontalPodAutoscalers as JSON (the shape `kubectl get -o json`
//! shows, before API defaulting), plus the app catalog the kubelet's apps are chosen from.

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Namespace, Node, ResourceQuota, Service};
use serde_json::{Map, Value, json};

use super::FleetFile;
use super::model::{AppConfig, ClusterConfig, Release, exporter};
use super::plan::{DeploymentPlan, Resources, exporter_resources};
use super::values::{format_bytes, format_cpu};
use crate::sim::app::profile::{HealthStyle, Kind, Profile};
use crate::sim::cluster::Cluster;
use crate::sim::defaults;
use crate::sim::object::SimObject;
use crate::sim::status::ApiError;
use crate::sim::store::Store;

/// The namespaces every cluster has.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// The pods one node takes (the kubelet's default `maxPods` is 110: keep headroom for surges).
const PODS_PER_NODE: u32 = 100;

/// What one cluster starts with, in creation order.
#[derive(Clone, Debug)]
pub struct ClusterObjects {
    pub cluster: ClusterConfig,
    pub namespaces: Vec<Value>,
    pub resource_quotas: Vec<Value>,
    pub nodes: Vec<Value>,
    pub deployments: Vec<Value>,
    pub services: Vec<Value>,
    pub hpas: Vec<Value>,
    /// Pods the Deployments ask for at start (autoscalers may change it).
    pub pods: u32,
}

impl ClusterObjects {
    /// Creates every object in the cluster's store, API defaults applied, as the API server would.
    pub fn create_in(&self, cluster: &Cluster) -> Result<(), ApiError> {
        cluster.write(|store, now| self.create_in_store(store, now))
    }

    pub fn create_in_store(&self, store: &mut Store, now: Timestamp) -> Result<(), ApiError> {
        for v in &self.namespaces {
            create::<Namespace>(store, now, v)?;
        }
        for v in &self.resource_quotas {
            create::<ResourceQuota>(store, now, v)?;
        }
        for v in &self.nodes {
            create::<Node>(store, now, v)?;
        }
        for v in &self.deployments {
            create::<Deployment>(store, now, v)?;
        }
        for v in &self.services {
            create::<Service>(store, now, v)?;
        }
        for v in &self.hpas {
            create::<HorizontalPodAutoscaler>(store, now, v)?;
        }
        Ok(())
    }
}

/// Creates one object from its JSON, API defaults applied, as the API server would.
pub(crate) fn create<T: SimObject>(
    store: &mut Store,
    now: Timestamp,
    v: &Value,
) -> Result<(), ApiError> {
    let mut v = v.clone();
    defaults::apply(T::RES, &mut v);
    let obj: T = serde_json::from_value(v).map_err(|e| {
        ApiError::bad_request(format!("{} from the fleet file: {e}", T::info().kind))
    })?;
    store.create(obj, now).map(|_| ())
}

impl FleetFile {
    /// The objects of every cluster, in the file's cluster order.
    pub fn objects(&self) -> Vec<ClusterObjects> {
        self.clusters
            .iter()
            .map(|c| self.cluster_objects(c))
            .collect()
    }

    pub fn cluster_objects(&self, c: &ClusterConfig) -> ClusterObjects {
        let mut out = ClusterObjects {
            cluster: c.clone(),
            namespaces: Vec::new(),
            resource_quotas: Vec::new(),
            nodes: Vec::new(),
            deployments: Vec::new(),
            services: Vec::new(),
            hpas: Vec::new(),
            pods: 0,
        };
        for ns in SYSTEM_NAMESPACES {
            out.namespaces.push(json!({"metadata": {"name": ns}}));
        }
        let mut names: Vec<&str> = self.namespaces.iter().map(|n| n.name.as_str()).collect();
        names.extend(self.apps.iter().map(|a| a.namespace.as_str()));
        let mut seen: Vec<&str> = SYSTEM_NAMESPACES.to_vec();
        for ns in names {
            if seen.contains(&ns) || !self.namespace_in(ns, c) {
                continue;
            }
            seen.push(ns);
            out.namespaces
                .push(json!({"metadata": {"name": ns, "labels": {"environment": c.environment}}}));
        }
        for ns in &self.namespaces {
            if ns.quota.is_some() && self.namespace_in(&ns.name, c) {
                out.resource_quotas.push(self.quota_json(ns, c));
            }
        }
        let mut most_pods = 0;
        for app in &self.apps {
            let deployments = self.deployments(app, c);
            if deployments.is_empty() {
                continue;
            }
            for d in &deployments {
                out.pods += d.replicas;
                most_pods += d.replicas.max(d.hpa.map_or(0, |h| h.max));
                out.deployments.push(self.deployment_json(d, c));
                if let Some(h) = d.hpa {
                    out.hpas.push(hpa_json(app, &d.name, h));
                }
            }
            out.services.extend(service_json(app));
        }
        let nodes = c.nodes.max(most_pods.div_ceil(PODS_PER_NODE));
        out.nodes = (0..nodes as usize).map(|n| node_json(c, n)).collect();
        out
    }

    fn quota_json(&self, ns: &super::model::NamespaceConfig, c: &ClusterConfig) -> Value {
        let q = ns
            .quota
            .as_ref()
            .expect("called for namespaces with a quota");
        let used = self.quota_used(&ns.name, c);
        let mut hard = Map::new();
        let mut status_used = Map::new();
        let entries = [
            ("requests.cpu", &q.cpu, format_cpu(used.cpu)),
            ("requests.memory", &q.memory, format_bytes(used.memory)),
            ("limits.cpu", &q.limits_cpu, format_cpu(used.limits_cpu)),
            (
                "limits.memory",
                &q.limits_memory,
                format_bytes(used.limits_memory),
            ),
        ];
        for (key, limit, used) in entries {
            if let Some(limit) = limit {
                hard.insert(key.into(), limit.text.clone().into());
                status_used.insert(key.into(), used.into());
            }
        }
        if let Some(pods) = q.pods {
            hard.insert("pods".into(), pods.to_string().into());
            status_used.insert("pods".into(), used.pods.to_string().into());
        }
        json!({
            "metadata": {"name": "compute-resources", "namespace": ns.name},
            "spec": {"hard": hard},
            "status": {"hard": hard, "used": status_used}
        })
    }

    fn deployment_json(&self, d: &DeploymentPlan<'_>, c: &ClusterConfig) -> Value {
        let app = d.app;
        let mut labels = json!({"app": app.name, "environment": c.environment});
        let mut selector = json!({"app": app.name});
        if let Some((k, v)) = d.variant {
            labels[k] = v.into();
            selector[k] = v.into();
        }
        let kind = app.behaviour().kind;
        let port = app.port();
        let (metrics_path, metrics_port) = match exporter(kind) {
            Some((_, p)) => ("/metrics", p),
            None => (paths(app.behaviour().health).2, port),
        };
        let mut containers = vec![main_container(
            app,
            d,
            &self.resources(app, c),
            &c.environment,
        )];
        if let Some((default_image, p)) = exporter(kind) {
            let image = app
                .exporter
                .as_ref()
                .map_or(default_image, |i| i.full.as_str());
            containers.push(json!({
                "name": "exporter", "image": image,
                "ports": [{"name": "metrics", "containerPort": p}],
                "resources": resources_json(&exporter_resources()),
            }));
        }
        let strategy = if app.is_datastore() {
            json!({"type": "Recreate"})
        } else {
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        };
        json!({
            "metadata": {"name": d.name, "namespace": app.namespace, "labels": labels,
                         "annotations": {"kubernetes.io/change-cause": format!("deploy {}", d.image.tag)}},
            "spec": {
                "replicas": d.replicas,
                "selector": {"matchLabels": selector},
                "strategy": strategy,
                "template": {
                    "metadata": {"labels": labels, "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": metrics_port.to_string(),
                        "prometheus.io/path": metrics_path}},
                    "spec": {"containers": containers}
                }
            }
        })
    }
}

/// Liveness, readiness and metrics paths of a health style (see the seeds).
pub fn paths(style: HealthStyle) -> (&'static str, &'static str, &'static str) {
    match style {
        HealthStyle::Plain | HealthStyle::Arxos => ("/healthz", "/readyz", "/metrics"),
        HealthStyle::Arq => (
            "/api/v1/health",
            "/api/v1/health/readiness",
            "/api/v1/metrics",
        ),
    }
}

fn main_container(
    app: &AppConfig,
    d: &DeploymentPlan<'_>,
    r: &Resources,
    environment: &str,
) -> Value {
    let kind = app.behaviour().kind;
    let name = super::model::main_container(kind);
    let port = app.port();
    let (port_name, liveness, readiness) = if app.is_datastore() {
        let tcp = json!({"tcpSocket": {"port": name}, "periodSeconds": 10, "timeoutSeconds": 1, "failureThreshold": 3});
        (name, tcp.clone(), tcp)
    } else {
        let (live, ready, _) = paths(app.behaviour().health);
        (
            "http",
            json!({"httpGet": {"path": live, "port": "http"}, "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 1, "failureThreshold": 3}),
            json!({"httpGet": {"path": ready, "port": "http"}, "periodSeconds": 5, "timeoutSeconds": 1, "failureThreshold": 3}),
        )
    };
    json!({
        "name": name, "image": d.image.full,
        "ports": [{"name": port_name, "containerPort": port}],
        "env": [{"name": "ENVIRONMENT", "value": environment}],
        "resources": resources_json(r),
        "livenessProbe": liveness,
        "readinessProbe": readiness,
    })
}

fn resources_json(r: &Resources) -> Value {
    let mut limits = Map::new();
    if let Some(l) = &r.cpu_limit {
        limits.insert("cpu".into(), l.text.clone().into());
    }
    if let Some(l) = &r.memory_limit {
        limits.insert("memory".into(), l.text.clone().into());
    }
    json!({"requests": {"cpu": r.cpu.text, "memory": r.memory.text}, "limits": limits})
}

/// The app's Services: none for a worker; the live slot plus a preview of the idle one for
/// blue-green; the main port and the exporter's for a database or cache.
fn service_json(app: &AppConfig) -> Vec<Value> {
    let kind = app.behaviour().kind;
    if kind == Kind::Worker {
        return Vec::new();
    }
    let ports = match exporter(kind) {
        Some((_, metrics)) => {
            let name = super::model::main_container(kind);
            let port = app.port();
            json!([{"name": name, "port": port, "targetPort": name},
                   {"name": "metrics", "port": metrics, "targetPort": "metrics"}])
        }
        None => json!([{"name": "http", "port": 80, "targetPort": "http"}]),
    };
    let service = |name: String, slot: Option<&str>| {
        let mut selector = json!({"app": app.name});
        if let Some(s) = slot {
            selector["slot"] = s.into();
        }
        json!({"metadata": {"name": name, "namespace": app.namespace, "labels": {"app": app.name}},
               "spec": {"selector": selector, "ports": ports}})
    };
    if app.release() != Release::BlueGreen {
        return vec![service(app.name.clone(), None)];
    }
    let live = app.blue_green.as_ref().map(|b| b.live).unwrap_or_default();
    vec![
        service(app.name.clone(), Some(live.as_str())),
        service(format!("{}-preview", app.name), Some(live.other().as_str())),
    ]
}

fn hpa_json(app: &AppConfig, target: &str, h: &super::model::HpaConfig) -> Value {
    let metric = |name: &str, target: u32| json!({"type": "Resource", "resource": {"name": name, "target": {"type": "Utilization", "averageUtilization": target}}});
    let mut metrics = Vec::new();
    if let Some(cpu) = h.cpu.or(if h.memory.is_none() { Some(70) } else { None }) {
        metrics.push(metric("cpu", cpu));
    }
    if let Some(memory) = h.memory {
        metrics.push(metric("memory", memory));
    }
    json!({
        "metadata": {"name": app.name, "namespace": app.namespace, "labels": {"app": app.name}},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": h.min, "maxReplicas": h.max, "metrics": metrics
        }
    })
}

/// Node `n` of a cluster: an AKS-style Standard_D4s_v5 node, Ready.
pub fn node_json(c: &ClusterConfig, n: usize) -> Value {
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
            "node.kubernetes.io/instance-type": "Standard_D4s_v5", "kubernetes.azure.com/agentpool": "userpool"}},
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

impl FleetFile {
    /// Image repository (no tag) -> how its containers behave, for every image the fleet runs:
    /// apps, canaries, idle blue-green slots, and exporter sidecars (which get their database's
    /// profile: an app told `container == "exporter"` answers for the sidecar).
    pub fn catalog(&self) -> Vec<(String, Profile)> {
        self.images(false)
    }

    /// Every image repository the fleet's pods run, with the behaviour of its app;
    /// `with_minimal` includes apps without a `behaviour:` block (they run the minimal app).
    pub(super) fn images(&self, with_minimal: bool) -> Vec<(String, Profile)> {
        let mut out: Vec<(String, Profile)> = Vec::new();
        let mut add = |repo: &str, p: &Profile| {
            if !out.iter().any(|(r, _)| r == repo) {
                out.push((repo.to_owned(), p.clone()));
            }
        };
        for app in &self.apps {
            // Apps without a `behaviour:` block run the minimal app (faults by image tag).
            if app.behaviour.is_none() && !with_minimal {
                continue;
            }
            let profile = self.profile(app);
            add(&app.image.repository, &profile);
            if let Some(c) = &app.canary {
                add(&c.image.repository, &profile);
            }
            if let Some(i) = app.blue_green.as_ref().and_then(|b| b.idle_image.as_ref()) {
                add(&i.repository, &profile);
            }
            if let Some((default_image, _)) = exporter(app.behaviour().kind) {
                let image = app
                    .exporter
                    .as_ref()
                    .map_or(default_image, |i| i.full.as_str());
                let repo = super::image::ImageRef::parse(image).map(|i| i.repository);
                if let Ok(repo) = repo {
                    add(&repo, &profile);
                }
            }
        }
        out
    }

    /// The app's behaviour, with its memory limit taken from the pod spec when the profile leaves
    /// it out and the limit is the same wherever the app runs.
    fn profile(&self, app: &AppConfig) -> Profile {
        let mut p = app.behaviour().clone();
        if p.memory_limit_mib.is_none() {
            let limits: Vec<f64> = self
                .app_clusters(app)
                .filter_map(|c| self.resources(app, c).memory_limit.map(|q| q.value))
                .collect();
            if let Some(first) = limits.first()
                && limits.iter().all(|l| l == first)
            {
                p.memory_limit_mib = Some(first / 1024.0 / 1024.0);
            }
        }
        p
    }
}
