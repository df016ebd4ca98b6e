//! The checks of each app: names, environments, replicas and autoscalers, resources, how it is
//! released and how it behaves; then what apps share (image repositories) and need (dependencies).

use std::collections::BTreeMap;

use super::image::ImageRef;
use super::model::{AppConfig, ClusterConfig, Release, ResourcesConfig};
use super::plan::Resources;
use super::suggest::did_you_mean;
use super::validate::{Checker, per_env_path, root};
use super::values::{DEFAULT_KEY, PerEnv, dns_1035, dns_label};
use super::yaml::Path;
use crate::sim::app::profile::{Behaviour, Profile};

impl Checker<'_> {
    pub(super) fn app(&mut self, i: usize, app: &AppConfig) {
        let f = self.fleet;
        let at = root().key("apps").index(i);
        let release = app.release();
        let suffix = match release {
            Release::Rolling => "",
            Release::Canary => "-canary",
            Release::BlueGreen => "-preview",
        };
        self.name(at.key("name"), &format!("{}{suffix}", app.name), dns_1035);
        self.name(at.key("namespace"), &app.namespace, dns_label);
        if app.namespace.starts_with("kube-") {
            self.err(
                at.key("namespace"),
                "apps do not go in the kube-* namespaces",
            );
        }
        if let Some(first) = f.apps[..i]
            .iter()
            .position(|o| o.name == app.name && o.namespace == app.namespace)
        {
            self.err(
                at.key("name"),
                format!(
                    "app `{}` is declared twice in namespace {} (also apps[{first}])",
                    app.name, app.namespace
                ),
            );
        }
        let mut envs_ok = true;
        if let Some(envs) = &app.environments {
            envs_ok = self.env_list(at.key("environments"), envs);
            if let Some(ns_envs) = f
                .namespace_config(&app.namespace)
                .and_then(|n| n.environments.as_ref())
            {
                let outside: Vec<&str> = envs
                    .iter()
                    .filter(|e| !ns_envs.contains(e))
                    .map(String::as_str)
                    .collect();
                if !outside.is_empty() {
                    self.err(
                        at.key("environments"),
                        format!(
                            "{} runs in {}, but namespace {} exists only in {}",
                            app.name,
                            outside.join(", "),
                            app.namespace,
                            ns_envs.join(", ")
                        ),
                    );
                }
            }
        }
        if envs_ok && f.app_clusters(app).next().is_none() && !f.clusters.is_empty() {
            self.err(at.clone(), format!("{} runs in no cluster", app.name));
        }
        if app.port == Some(0) {
            self.err(at.key("port"), "port 0 is not a port");
        }
        self.per_env_keys(at.key("replicas"), app.replicas.as_ref());
        for (k, n) in app.replicas.iter().flat_map(PerEnv::values) {
            if *n > 1000 {
                self.err(
                    per_env_path(&at.key("replicas"), k),
                    format!("{n} replicas: 1000 at most"),
                );
            }
        }
        self.per_env_keys(at.key("hpa"), app.hpa.as_ref());
        for (k, h) in app.hpa.iter().flat_map(PerEnv::values) {
            let p = per_env_path(&at.key("hpa"), k);
            if h.min < 1 {
                self.err(p.key("min"), "an autoscaler's min is at least 1");
            }
            if h.min > h.max {
                self.err(
                    p.key("min"),
                    format!("min {} is above max {}", h.min, h.max),
                );
            }
            if h.max > 1000 {
                self.err(p.key("max"), format!("{} replicas: 1000 at most", h.max));
            }
            for (key, v) in [("cpu", h.cpu), ("memory", h.memory)] {
                if let Some(v) = v
                    && !(1..=1000).contains(&v)
                {
                    self.err(
                        p.key(key),
                        format!(
                            "{v}: a utilisation target is a percentage of the request, 1 to 1000"
                        ),
                    );
                }
            }
        }
        self.per_env_keys(at.key("resources"), app.resources.as_ref());
        for c in f.app_clusters(app) {
            let r = f.resources(app, c);
            self.limits(&at.key("resources"), &r, app.resources.as_ref(), c);
        }
        self.release(&at, app, release);
        if app.exporter.is_some() && !app.is_datastore() {
            self.err(
                at.key("exporter"),
                "only postgres and redis apps have an exporter sidecar",
            );
        }
        if let Some(b) = &app.behaviour {
            self.behaviour(&at.key("behaviour"), b);
        }
    }

    fn limits(
        &mut self,
        path: &Path,
        r: &Resources,
        v: Option<&PerEnv<ResourcesConfig>>,
        c: &ClusterConfig,
    ) {
        let key = v.and_then(|v| match v {
            PerEnv::All(_) => None,
            PerEnv::Each(e) => [&c.name, &c.environment]
                .into_iter()
                .chain([&DEFAULT_KEY.to_owned()])
                .find(|k| e.iter().any(|(ek, _)| ek == *k))
                .cloned(),
        });
        let p = per_env_path(path, key.as_deref());
        if let Some(l) = &r.cpu_limit
            && l.value < r.cpu.value
        {
            self.err(
                p.key("cpu-limit"),
                format!("the limit {} is below the request {}", l.text, r.cpu.text),
            );
        }
        if let Some(l) = &r.memory_limit
            && l.value < r.memory.value
        {
            self.err(
                p.key("memory-limit"),
                format!(
                    "the limit {} is below the request {}",
                    l.text, r.memory.text
                ),
            );
        }
    }

    fn release(&mut self, at: &Path, app: &AppConfig, release: Release) {
        let f = self.fleet;
        match (release, &app.canary, &app.blue_green) {
            (Release::Canary, None, _) => self.err(
                at.key("release"),
                "a canary release needs a `canary:` block (its image, replicas)",
            ),
            (Release::Rolling | Release::BlueGreen, Some(_), _) => self.err(
                at.key("canary"),
                "a `canary:` block needs `release: canary` (or no `release` key)",
            ),
            (Release::Canary | Release::Rolling, _, Some(_)) => self.err(
                at.key("blue-green"),
                "a `blue-green:` block needs `release: blue-green` (or no `release` key)",
            ),
            _ => {}
        }
        if let Some(canary) = &app.canary {
            let cat = at.key("canary");
            if let Some(envs) = &canary.environments {
                self.env_list(cat.key("environments"), envs);
                let app_envs: Vec<&str> = f
                    .app_clusters(app)
                    .map(|c| c.environment.as_str())
                    .collect();
                for (j, e) in envs.iter().enumerate() {
                    if f.environments().contains(&e.as_str()) && !app_envs.contains(&e.as_str()) {
                        self.err(
                            cat.key("environments").index(j),
                            format!("{} does not run in {e}", app.name),
                        );
                    }
                }
            }
            self.per_env_keys(cat.key("replicas"), canary.replicas.as_ref());
        }
        if let Some(bg) = &app.blue_green {
            self.per_env_keys(
                at.key("blue-green").key("idle-replicas"),
                bg.idle_replicas.as_ref(),
            );
        }
    }

    fn behaviour(&mut self, at: &Path, p: &Profile) {
        for (key, v) in [
            ("log-rate", p.log_rate),
            ("requests-per-second", p.requests_per_second),
        ] {
            if v.is_some_and(negative) {
                self.err(at.key(key), "must be 0 or more");
            }
        }
        if p.memory_limit_mib.is_some_and(not_positive) {
            self.err(at.key("memory-limit-mib"), "must be more than 0");
        }
        self.versioned(&at.key("normal"), &p.normal);
        for (tag, b) in &p.versions {
            let vat = at.key("versions").key(tag.as_str());
            if ImageRef::parse(&format!("x:{tag}")).is_err() {
                self.err_key(
                    vat.clone(),
                    format!("{tag:?} is not an image tag (letters, digits, '_', '.', '-')"),
                );
            }
            self.versioned(&vat, b);
        }
    }

    fn versioned(&mut self, at: &Path, b: &Behaviour) {
        if let Some(r) = b.error_rate
            && !(0.0..=1.0).contains(&r)
        {
            self.err(
                at.key("error-rate"),
                format!("{r} is a fraction of requests: 0 to 1 (0.2 is 20%)"),
            );
        }
        let fields = [
            ("p50-ms", b.p50_ms),
            ("p95-ms", b.p95_ms),
            ("startup-seconds", b.startup_seconds),
            ("memory-mib", b.memory_mib),
        ];
        for (key, v) in fields {
            if v.is_some_and(negative) {
                self.err(at.key(key), "must be 0 or more");
            }
        }
        for (key, v) in [
            ("crash-after-seconds", b.crash_after_seconds),
            ("oom-after-seconds", b.oom_after_seconds),
        ] {
            if v.is_some_and(not_positive) {
                self.err(at.key(key), "must be more than 0");
            }
        }
        if let (Some(p50), Some(p95)) = (b.p50_ms, b.p95_ms)
            && p95 < p50
        {
            self.err(
                at.key("p95-ms"),
                format!("p95 {p95} ms is below p50 {p50} ms"),
            );
        }
    }

    /// The catalog is keyed by image repository, so one repository has one behaviour.
    pub(super) fn repositories(&mut self) {
        let f = self.fleet;
        let mut seen: BTreeMap<&str, (usize, &Option<Profile>)> = BTreeMap::new();
        for (i, app) in f.apps.iter().enumerate() {
            let at = root().key("apps").index(i);
            let mut images = vec![(at.key("image"), &app.image)];
            if let Some(c) = &app.canary {
                images.push((at.key("canary").key("image"), &c.image));
            }
            if let Some(img) = app.blue_green.as_ref().and_then(|b| b.idle_image.as_ref()) {
                images.push((at.key("blue-green").key("idle-image"), img));
            }
            for (path, image) in images {
                match seen.get(image.repository.as_str()) {
                    Some((j, profile)) if *j != i && **profile != app.behaviour => self.err(
                        path,
                        format!(
                            "{} is also the image of {} (apps[{j}]) with another behaviour; apps that behave differently need their own repositories",
                            image.repository, f.apps[*j].name
                        ),
                    ),
                    Some(_) => {}
                    None => {
                        seen.insert(&image.repository, (i, &app.behaviour));
                    }
                }
            }
        }
    }

    /// Two apps of a namespace must not make objects of the same name (an app `api-canary`
    /// next to the canary of `api`, an app `web-preview` next to blue-green `web`'s preview).
    pub(super) fn object_names(&mut self) {
        let f = self.fleet;
        let mut reported = Vec::new();
        for c in &f.clusters {
            let mut seen: Vec<(&str, &str, String, usize)> = Vec::new();
            for (i, app) in f.apps.iter().enumerate() {
                let mut mine: Vec<(&str, String)> = f
                    .deployments(app, c)
                    .into_iter()
                    .map(|d| ("Deployment", d.name))
                    .collect();
                if f.runs_in(app, c)
                    && app.behaviour().kind != crate::sim::app::profile::Kind::Worker
                {
                    mine.push(("Service", app.name.clone()));
                    if app.release() == Release::BlueGreen {
                        mine.push(("Service", format!("{}-preview", app.name)));
                    }
                }
                for (kind, name) in mine {
                    let clash = seen.iter().find(|(ns, k, n, j)| {
                        *ns == app.namespace && *k == kind && *n == name && *j != i
                    });
                    if let Some((_, _, _, j)) = clash {
                        // Two apps of one name are reported as such.
                        if !reported.contains(&i) && f.apps[*j].name != app.name {
                            reported.push(i);
                            self.err(
                                root().key("apps").index(i).key("name"),
                                format!(
                                    "its {kind} {name} would have the same name as one of {} (apps[{j}]) in namespace {}",
                                    f.apps[*j].name, app.namespace
                                ),
                            );
                        }
                    } else {
                        seen.push((&app.namespace, kind, name, i));
                    }
                }
            }
        }
    }

    pub(super) fn dependencies(&mut self) {
        let f = self.fleet;
        for (i, app) in f.apps.iter().enumerate() {
            for (j, dep) in app.behaviour().depends_on.iter().enumerate() {
                let at = root()
                    .key("apps")
                    .index(i)
                    .key("behaviour")
                    .key("depends-on")
                    .index(j);
                if *dep == app.name {
                    self.err(at, format!("{} cannot depend on itself", app.name));
                    continue;
                }
                let Some(target) = f.app(&app.namespace, dep) else {
                    let names = f
                        .apps
                        .iter()
                        .filter(|a| a.namespace == app.namespace)
                        .map(|a| a.name.as_str());
                    self.err(
                        at,
                        format!(
                            "no app `{dep}` in namespace {}{}; a dependency is an app in the same namespace",
                            app.namespace,
                            did_you_mean(dep, names)
                        ),
                    );
                    continue;
                };
                let missing: Vec<&str> = f
                    .app_clusters(app)
                    .filter(|c| !f.runs_in(target, c))
                    .map(|c| c.name.as_str())
                    .collect();
                if !missing.is_empty() {
                    self.err(
                        at,
                        format!(
                            "{} needs {dep}, which does not run in {}",
                            app.name,
                            missing.join(", ")
                        ),
                    );
                }
            }
        }
    }
}

/// Below zero (or not a number at all).
fn negative(v: f64) -> bool {
    v < 0.0 || v.is_nan()
}

fn not_positive(v: f64) -> bool {
    v <= 0.0 || v.is_nan()
}
