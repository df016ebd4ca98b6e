//! Quotas: what the pods the fleet starts use in each namespace (the ResourceQuota's
//! `status.used`), and the check that it fits the quota everywhere.

use super::FleetFile;
use super::model::ClusterConfig;
use super::plan::exporter_resources;
use super::validate::{Checker, root};
use super::values::{format_bytes, format_cpu};

impl Checker<'_> {
    /// The pods a namespace starts with fit its quota in every cluster.
    pub(super) fn quotas(&mut self) {
        let f = self.fleet;
        for (i, ns) in f.namespaces.iter().enumerate() {
            let Some(q) = &ns.quota else { continue };
            let at = root().key("namespaces").index(i).key("quota");
            if q.limits_cpu.is_some() {
                // Admission refuses pods without the limit a quota counts.
                for (j, app) in f.apps.iter().enumerate() {
                    let unlimited = app.namespace == ns.name
                        && f.app_clusters(app)
                            .any(|c| f.resources(app, c).cpu_limit.is_none());
                    if unlimited {
                        self.err(
                            root().key("apps").index(j).key("resources"),
                            format!(
                                "namespace {}'s quota limits CPU, so {}'s pods need a cpu-limit",
                                ns.name, app.name
                            ),
                        );
                    }
                }
            }
            for c in f.clusters.iter().filter(|c| f.namespace_in(&ns.name, c)) {
                let used = f.quota_used(&ns.name, c);
                let checks = [
                    ("cpu", q.cpu.as_ref(), used.cpu, "request", true),
                    ("memory", q.memory.as_ref(), used.memory, "request", false),
                    (
                        "limits-cpu",
                        q.limits_cpu.as_ref(),
                        used.limits_cpu,
                        "are limited to",
                        true,
                    ),
                    (
                        "limits-memory",
                        q.limits_memory.as_ref(),
                        used.limits_memory,
                        "are limited to",
                        false,
                    ),
                ];
                for (key, hard, used, verb, cpu) in checks {
                    if let Some(hard) = hard
                        && used > hard.value * (1.0 + 1e-9)
                    {
                        let show = |v: f64| {
                            if cpu {
                                format!("{} CPU", format_cpu(v))
                            } else {
                                format_bytes(v)
                            }
                        };
                        self.err(
                            at.key(key),
                            format!(
                                "in {} the pods of {} {verb} {}, over the quota's {}",
                                c.name,
                                ns.name,
                                show(used),
                                hard.text
                            ),
                        );
                    }
                }
                if let Some(pods) = q.pods
                    && used.pods > u64::from(pods)
                {
                    self.err(
                        at.key("pods"),
                        format!(
                            "in {} namespace {} starts {} pods, over the quota's {pods}",
                            c.name, ns.name, used.pods
                        ),
                    );
                }
            }
        }
    }
}

/// What the pods of a namespace use in one cluster, as the quota controller counts it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QuotaUse {
    pub cpu: f64,
    pub memory: f64,
    pub limits_cpu: f64,
    pub limits_memory: f64,
    pub pods: u64,
}

impl FleetFile {
    /// The requests and limits of the pods the fleet starts in `namespace` in cluster `c`.
    pub fn quota_used(&self, namespace: &str, c: &ClusterConfig) -> QuotaUse {
        let mut u = QuotaUse::default();
        for app in self.apps.iter().filter(|a| a.namespace == namespace) {
            let mut containers = vec![self.resources(app, c)];
            if app.is_datastore() {
                containers.push(exporter_resources());
            }
            for d in self.deployments(app, c) {
                let n = f64::from(d.replicas);
                u.pods += u64::from(d.replicas);
                for r in &containers {
                    u.cpu += n * r.cpu.value;
                    u.memory += n * r.memory.value;
                    u.limits_cpu += n * r.cpu_limit.as_ref().map_or(0.0, |q| q.value);
                    u.limits_memory += n * r.memory_limit.as_ref().map_or(0.0, |q| q.value);
                }
            }
        }
        u
    }
}
