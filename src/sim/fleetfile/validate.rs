//! The checks that need the whole file: names that must be unique or valid Kubernetes names,
//! references to environments, clusters, namespaces and apps, bounds that must hold (an
//! autoscaler's min below its max, pods within their namespace's quota). Every problem is
//! collected, so one run tells a person everything to fix.

use super::FleetFile;
use super::suggest::did_you_mean;
use super::values::{DEFAULT_KEY, PerEnv, dns_label};
use super::yaml::Path;

/// One problem, at a place in the document.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    pub path: Path,
    pub message: String,
    /// Point at the key rather than its value (an unknown name used as a key).
    pub on_key: bool,
}

pub(super) struct Checker<'a> {
    pub fleet: &'a FleetFile,
    pub issues: Vec<Issue>,
}

pub(super) fn root() -> Path {
    Path::default()
}

impl<'a> Checker<'a> {
    pub fn new(fleet: &'a FleetFile) -> Self {
        Self {
            fleet,
            issues: Vec::new(),
        }
    }

    pub fn err(&mut self, path: Path, message: impl Into<String>) {
        self.issues.push(Issue {
            path,
            message: message.into(),
            on_key: false,
        });
    }

    pub(super) fn err_key(&mut self, path: Path, message: impl Into<String>) {
        self.issues.push(Issue {
            path,
            message: message.into(),
            on_key: true,
        });
    }

    pub(super) fn name(&mut self, path: Path, name: &str, check: fn(&str) -> Result<(), String>) {
        if let Err(why) = check(name) {
            self.err(path, why);
        }
    }

    pub fn check_all(&mut self) {
        let f = self.fleet;
        self.name(root().key("name"), &f.name, dns_label);
        self.clusters();
        self.users();
        self.namespaces();
        for (i, app) in f.apps.iter().enumerate() {
            self.app(i, app);
        }
        self.object_names();
        self.repositories();
        self.dependencies();
        self.quotas();
    }

    fn clusters(&mut self) {
        let f = self.fleet;
        if f.clusters.is_empty() {
            self.err(root().key("clusters"), "a fleet needs at least one cluster");
        }
        let envs = f.environments();
        for (i, c) in f.clusters.iter().enumerate() {
            let at = root().key("clusters").index(i);
            self.name(at.key("name"), &c.name, dns_label);
            self.name(at.key("environment"), &c.environment, dns_label);
            if let Some(first) = f.clusters[..i].iter().position(|o| o.name == c.name) {
                self.err(
                    at.key("name"),
                    format!(
                        "cluster `{}` is declared twice (also clusters[{first}])",
                        c.name
                    ),
                );
            }
            if envs.contains(&c.name.as_str()) && c.name != c.environment {
                self.err(
                    at.key("name"),
                    format!("`{}` names an environment; a cluster may share a name only with its own environment", c.name),
                );
            }
            if c.region.is_empty()
                || !c
                    .region
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
            {
                self.err(
                    at.key("region"),
                    format!(
                        "{:?} must be lowercase letters, digits and '-' (like westus)",
                        c.region
                    ),
                );
            }
            if !(1..=1000).contains(&c.nodes) {
                self.err(
                    at.key("nodes"),
                    format!("{} nodes: a cluster has 1 to 1000", c.nodes),
                );
            }
            if c.role == Some(super::model::Role::Primary)
                && let Some(first) = f.clusters[..i]
                    .iter()
                    .position(|o| o.environment == c.environment && o.role == c.role)
            {
                self.err(
                    at.key("role"),
                    format!(
                        "environment {} has two primary clusters (also clusters[{first}])",
                        c.environment
                    ),
                );
            }
        }
    }

    fn users(&mut self) {
        let users = &self.fleet.users;
        if users.is_empty() {
            self.err(
                root().key("users"),
                "at least one user is needed (or leave `users` out for admin and viewer)",
            );
        }
        for (i, u) in users.iter().enumerate() {
            let at = root().key("users").index(i).key("name");
            self.name(at.clone(), &u.name, dns_label);
            if users[..i].iter().any(|o| o.name == u.name) {
                self.err(at, format!("user `{}` is declared twice", u.name));
            }
        }
    }

    /// Environment names in a list (`environments: [staging, prod]`); whether all were good.
    pub fn env_list(&mut self, path: Path, list: &[String]) -> bool {
        let before = self.issues.len();
        if list.is_empty() {
            self.err(
                path.clone(),
                "an empty list: leave the key out to mean every environment",
            );
        }
        let known = self.fleet.environments();
        for (j, e) in list.iter().enumerate() {
            if !known.contains(&e.as_str()) {
                self.err(
                    path.index(j),
                    format!(
                        "unknown environment `{e}`{}; the clusters' environments are {}",
                        did_you_mean(e, known.iter().copied()),
                        known.join(", ")
                    ),
                );
            } else if list[..j].contains(e) {
                self.err(path.index(j), format!("`{e}` is listed twice"));
            }
        }
        self.issues.len() == before
    }

    /// The keys of a per-environment map: environments, clusters, or `default`.
    pub(super) fn per_env_keys<T>(&mut self, path: Path, v: Option<&PerEnv<T>>) {
        let Some(v) = v else { return };
        let f = self.fleet;
        let envs = f.environments();
        let clusters: Vec<&str> = f.clusters.iter().map(|c| c.name.as_str()).collect();
        if matches!(v, PerEnv::Each(e) if e.is_empty()) {
            self.err(
                path.clone(),
                "an empty map: give one value, or one per environment",
            );
        }
        for k in v.keys() {
            if k != DEFAULT_KEY && !envs.contains(&k) && !clusters.contains(&k) {
                let names = envs.iter().chain(&clusters).copied().chain([DEFAULT_KEY]);
                self.err_key(
                    path.key(k),
                    format!(
                        "`{k}` is neither an environment nor a cluster{}; environments: {}; clusters: {}",
                        did_you_mean(k, names),
                        envs.join(", "),
                        clusters.join(", ")
                    ),
                );
            }
        }
    }

    fn namespaces(&mut self) {
        let f = self.fleet;
        for (i, ns) in f.namespaces.iter().enumerate() {
            let at = root().key("namespaces").index(i);
            self.name(at.key("name"), &ns.name, dns_label);
            if ns.name.starts_with("kube-") {
                self.err(
                    at.key("name"),
                    format!("{} belongs to Kubernetes; every cluster has it", ns.name),
                );
            }
            if f.namespaces[..i].iter().any(|o| o.name == ns.name) {
                self.err(
                    at.key("name"),
                    format!("namespace `{}` is declared twice", ns.name),
                );
            }
            if let Some(envs) = &ns.environments {
                self.env_list(at.key("environments"), envs);
            }
            if let Some(q) = &ns.quota {
                let set = [&q.cpu, &q.memory, &q.limits_cpu, &q.limits_memory]
                    .iter()
                    .any(|v| v.is_some())
                    || q.pods.is_some();
                if !set {
                    self.err(at.key("quota"), "a quota needs at least one of cpu, memory, limits-cpu, limits-memory, pods");
                }
            }
        }
    }
}

/// The path of one value of a per-environment setting: the setting itself, or its entry.
pub fn per_env_path(path: &Path, key: Option<&str>) -> Path {
    match key {
        Some(k) => path.key(k),
        None => path.clone(),
    }
}
