//! What the fleet file means per cluster: where each namespace and app exists, how many replicas
//! each Deployment has, which autoscaler and resources apply. Validation and translation both ask
//! here, so what is checked is what is built.

use super::FleetFile;
use super::image::ImageRef;
use super::model::{AppConfig, ClusterConfig, HpaConfig, NamespaceConfig, Release, Slot};
use super::values::{PerEnv, Quantity};
use crate::sim::app::profile::Kind;

/// Requests and limits of a container, defaults filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct Resources {
    pub cpu: Quantity,
    pub memory: Quantity,
    pub cpu_limit: Option<Quantity>,
    pub memory_limit: Option<Quantity>,
}

/// The exporter sidecar's fixed resources.
pub fn exporter_resources() -> Resources {
    Resources {
        cpu: q("50m"),
        memory: q("64Mi"),
        cpu_limit: Some(q("200m")),
        memory_limit: Some(q("128Mi")),
    }
}

fn q(s: &str) -> Quantity {
    Quantity::parse(s).expect("built-in quantities parse")
}

/// One Deployment an app has in one cluster.
#[derive(Clone, Debug)]
pub struct DeploymentPlan<'a> {
    pub app: &'a AppConfig,
    pub name: String,
    pub image: &'a ImageRef,
    pub replicas: u32,
    /// The label telling it apart from the app's other Deployments: `track` or `slot`.
    pub variant: Option<(&'static str, &'static str)>,
    /// The autoscaler that scales it, if any (only the stable or live Deployment has one).
    pub hpa: Option<&'a HpaConfig>,
}

impl FleetFile {
    /// The environments, in the order their first cluster appears.
    pub fn environments(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in &self.clusters {
            if !out.contains(&c.environment.as_str()) {
                out.push(&c.environment);
            }
        }
        out
    }

    pub fn cluster(&self, name: &str) -> Option<&ClusterConfig> {
        self.clusters.iter().find(|c| c.name == name)
    }

    pub fn namespace_config(&self, name: &str) -> Option<&NamespaceConfig> {
        self.namespaces.iter().find(|n| n.name == name)
    }

    pub fn app(&self, namespace: &str, name: &str) -> Option<&AppConfig> {
        self.apps
            .iter()
            .find(|a| a.namespace == namespace && a.name == name)
    }

    /// Whether `namespace` exists in `cluster` (because it is declared there, or an app runs in it).
    pub fn namespace_in(&self, namespace: &str, cluster: &ClusterConfig) -> bool {
        match self.namespace_config(namespace) {
            Some(ns) => in_envs(ns.environments.as_deref(), cluster),
            None => self
                .apps
                .iter()
                .any(|a| a.namespace == namespace && self.runs_in(a, cluster)),
        }
    }

    /// Whether the app runs in the cluster: its environments, else its namespace's, else all.
    pub fn runs_in(&self, app: &AppConfig, cluster: &ClusterConfig) -> bool {
        match &app.environments {
            Some(envs) => in_envs(Some(envs), cluster),
            None => {
                let ns = self.namespace_config(&app.namespace);
                in_envs(ns.and_then(|n| n.environments.as_deref()), cluster)
            }
        }
    }

    /// The clusters the app runs in.
    pub fn app_clusters<'a>(
        &'a self,
        app: &'a AppConfig,
    ) -> impl Iterator<Item = &'a ClusterConfig> {
        self.clusters.iter().filter(move |c| self.runs_in(app, c))
    }

    pub fn hpa<'a>(&self, app: &'a AppConfig, c: &ClusterConfig) -> Option<&'a HpaConfig> {
        get(app.hpa.as_ref(), c)
    }

    /// Replicas of the stable (or live) Deployment: as written, else the autoscaler's minimum, else 1.
    pub fn replicas(&self, app: &AppConfig, c: &ClusterConfig) -> u32 {
        get(app.replicas.as_ref(), c)
            .copied()
            .or_else(|| self.hpa(app, c).map(|h| h.min))
            .unwrap_or(1)
    }

    /// The main container's requests and limits in the cluster.
    pub fn resources(&self, app: &AppConfig, c: &ClusterConfig) -> Resources {
        let r = get(app.resources.as_ref(), c).cloned().unwrap_or_default();
        let memory = r.memory.unwrap_or_else(|| q("128Mi"));
        let memory_limit = r.memory_limit.unwrap_or_else(|| Quantity {
            text: super::values::format_bytes(memory.value * 2.0),
            value: memory.value * 2.0,
        });
        Resources {
            cpu: r.cpu.unwrap_or_else(|| q("100m")),
            memory,
            cpu_limit: r.cpu_limit,
            memory_limit: Some(memory_limit),
        }
    }

    /// The app's Deployments in the cluster (none where it does not run).
    pub fn deployments<'a>(
        &self,
        app: &'a AppConfig,
        c: &ClusterConfig,
    ) -> Vec<DeploymentPlan<'a>> {
        if !self.runs_in(app, c) {
            return Vec::new();
        }
        let replicas = self.replicas(app, c);
        let hpa = get(app.hpa.as_ref(), c);
        let plan = |name: String, image, replicas, variant, hpa| DeploymentPlan {
            app,
            name,
            image,
            replicas,
            variant,
            hpa,
        };
        match app.release() {
            Release::Rolling => vec![plan(app.name.clone(), &app.image, replicas, None, hpa)],
            Release::Canary => {
                let mut out = vec![plan(
                    app.name.clone(),
                    &app.image,
                    replicas,
                    Some(("track", "stable")),
                    hpa,
                )];
                if let Some(canary) = &app.canary
                    && in_envs(canary.environments.as_deref(), c)
                {
                    let n = get(canary.replicas.as_ref(), c).copied().unwrap_or(1);
                    if n > 0 {
                        out.push(plan(
                            format!("{}-canary", app.name),
                            &canary.image,
                            n,
                            Some(("track", "canary")),
                            None,
                        ));
                    }
                }
                out
            }
            Release::BlueGreen => {
                let bg = app.blue_green.as_ref();
                let live = bg.map(|b| b.live).unwrap_or_default();
                let idle_image = bg.and_then(|b| b.idle_image.as_ref()).unwrap_or(&app.image);
                let idle_replicas = get(bg.and_then(|b| b.idle_replicas.as_ref()), c)
                    .copied()
                    .unwrap_or(replicas);
                let slot = |s: Slot| Some(("slot", s.as_str()));
                let mut out = vec![
                    plan(slot_name(app, live), &app.image, replicas, slot(live), hpa),
                    plan(
                        slot_name(app, live.other()),
                        idle_image,
                        idle_replicas,
                        slot(live.other()),
                        None,
                    ),
                ];
                // Blue first, as `kubectl get deploy` lists them.
                out.sort_by(|a, b| a.name.cmp(&b.name));
                out
            }
        }
    }
}

impl AppConfig {
    /// How new versions reach the pods: as written, else implied by a `canary:` or
    /// `blue-green:` block, else rolling.
    pub fn release(&self) -> Release {
        match (&self.release, &self.canary, &self.blue_green) {
            (Some(r), _, _) => *r,
            (None, Some(_), _) => Release::Canary,
            (None, None, Some(_)) => Release::BlueGreen,
            (None, None, None) => Release::Rolling,
        }
    }

    /// The containers of the app's pods: `(name, port)`, main container first.
    pub fn containers(&self) -> Vec<(&'static str, u16)> {
        let kind = self.behaviour().kind;
        let mut out = vec![(super::model::main_container(kind), self.port())];
        if let Some((_, port)) = super::model::exporter(kind) {
            out.push(("exporter", port));
        }
        out
    }

    /// The port the main container serves on.
    pub fn port(&self) -> u16 {
        self.port
            .unwrap_or_else(|| super::model::default_port(self.behaviour().kind))
    }

    /// Whether the app is a database or cache with an exporter sidecar.
    pub fn is_datastore(&self) -> bool {
        matches!(self.behaviour().kind, Kind::Postgres | Kind::Redis)
    }
}

fn slot_name(app: &AppConfig, slot: Slot) -> String {
    format!("{}-{}", app.name, slot.as_str())
}

/// Whether a list of environments (None: all) includes the cluster's.
pub fn in_envs(envs: Option<&[String]>, c: &ClusterConfig) -> bool {
    envs.is_none_or(|e| e.contains(&c.environment))
}

fn get<'a, T>(v: Option<&'a PerEnv<T>>, c: &ClusterConfig) -> Option<&'a T> {
    v.and_then(|v| v.get(&c.name, &c.environment))
}
