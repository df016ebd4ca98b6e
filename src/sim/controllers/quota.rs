//! The resource quota controller: each ResourceQuota's status says what it allows (`hard`, as in
//! its spec) and what the namespace's pods use of it (`used`), recomputed when a pod or a quota of
//! that namespace changes, as kube-controller-manager's quota controller does.
//!
//! Counted: `pods`, and `requests.cpu`/`cpu`, `requests.memory`/`memory`, `limits.cpu`,
//! `limits.memory` summed over the containers of pods that are not finished; `services` counts
//! Services. Any other resource is reported as 0 used. Admission (refusing a pod over quota) is
//! not simulated.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Pod, ResourceQuota, ResourceQuotaStatus, Service};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::super::store::{Since, Store};
use super::{is_finished, quantity};

/// Where the controller left off in the store's history.
#[derive(Debug, Default)]
pub struct QuotaMemory {
    rv: Option<u64>,
}

pub(super) fn reconcile(store: &mut Store, memory: &mut QuotaMemory) {
    let quotas = store.list::<ResourceQuota>(None);
    let since = memory.rv.replace(store.resource_version());
    if quotas.is_empty() {
        return;
    }
    // The namespaces whose pods, services or quotas changed; None: look at all of them.
    let dirty: Option<BTreeSet<String>> = since.and_then(|rv| {
        let mut out = BTreeSet::new();
        match store.pods.since(rv) {
            Since::Events(events) => out.extend(events.iter().map(|e| e.key.0.clone())),
            Since::Expired { .. } => return None,
        }
        match store.services.since(rv) {
            Since::Events(events) => out.extend(events.iter().map(|e| e.key.0.clone())),
            Since::Expired { .. } => return None,
        }
        match store.resourcequotas.since(rv) {
            Since::Events(events) => out.extend(events.iter().map(|e| e.key.0.clone())),
            Since::Expired { .. } => return None,
        }
        Some(out)
    });
    for q in quotas {
        let ns = q.metadata.namespace.clone().unwrap_or_default();
        if dirty.as_ref().is_some_and(|d| !d.contains(&ns)) {
            continue;
        }
        let status = status_of(store, &q, &ns);
        if q.status.as_ref() != Some(&status) {
            let name = q.metadata.name.clone().unwrap_or_default();
            let _ = store.mutate::<ResourceQuota>(&ns, &name, |q| q.status = Some(status));
        }
    }
    // Our own writes are changes too: the next pass sees them, finds nothing to do, and settles.
}

fn status_of(store: &Store, q: &ResourceQuota, ns: &str) -> ResourceQuotaStatus {
    let hard = q
        .spec
        .as_ref()
        .and_then(|s| s.hard.clone())
        .unwrap_or_default();
    let pods: Vec<_> = store
        .list::<Pod>(Some(ns))
        .into_iter()
        .filter(|p| !is_finished(p))
        .collect();
    let sum = |limits: bool, resource: &str| -> f64 {
        pods.iter()
            .flat_map(|p| p.spec.iter().flat_map(|s| s.containers.iter()))
            .filter_map(|c| {
                let r = c.resources.as_ref()?;
                let map = if limits {
                    r.limits.as_ref()
                } else {
                    r.requests.as_ref()
                }?;
                quantity(&map.get(resource)?.0)
            })
            .sum()
    };
    let used: BTreeMap<String, Quantity> = hard
        .keys()
        .map(|key| {
            let value = match key.as_str() {
                "pods" => pods.len().to_string(),
                "services" => store.list::<Service>(Some(ns)).len().to_string(),
                "cpu" | "requests.cpu" => cpu(sum(false, "cpu")),
                "memory" | "requests.memory" => bytes(sum(false, "memory")),
                "limits.cpu" => cpu(sum(true, "cpu")),
                "limits.memory" => bytes(sum(true, "memory")),
                _ => "0".to_owned(),
            };
            (key.clone(), Quantity(value))
        })
        .collect();
    ResourceQuotaStatus {
        hard: Some(hard),
        used: Some(used),
    }
}

/// Cores as the API server prints a canonical quantity: `2`, `1500m`.
fn cpu(cores: f64) -> String {
    let millis = (cores * 1000.0).round() as i64;
    if millis % 1000 == 0 {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    }
}

/// Bytes with the largest binary suffix that divides them: `768Mi`, `2Gi`.
fn bytes(n: f64) -> String {
    let mut n = n.round() as i64;
    if n == 0 {
        return "0".into();
    }
    for suffix in ["", "Ki", "Mi", "Gi", "Ti"] {
        if n % 1024 != 0 || suffix == "Ti" {
            return format!("{n}{suffix}");
        }
        n /= 1024;
    }
    n.to_string()
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use serde_json::json;

    use super::*;

    fn create<T: crate::sim::object::SimObject>(store: &mut Store, v: serde_json::Value) {
        let obj: T = serde_json::from_value(v).unwrap();
        store.create(obj, Timestamp::UNIX_EPOCH).unwrap();
    }

    fn pod(store: &mut Store, name: &str, cpu: &str, phase: &str) {
        create::<Pod>(
            store,
            json!({"metadata": {"name": name, "namespace": "shop"},
                   "spec": {"containers": [
                       {"name": "app", "image": "a:1", "resources": {"requests": {"cpu": cpu, "memory": "256Mi"}, "limits": {"memory": "512Mi"}}},
                       {"name": "sidecar", "image": "b:1", "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}}]},
                   "status": {"phase": phase}}),
        );
    }

    fn used(store: &Store) -> BTreeMap<String, String> {
        let q = store.get::<ResourceQuota>("shop", "compute").unwrap();
        q.status
            .clone()
            .unwrap()
            .used
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect()
    }

    #[test]
    fn used_follows_the_pods_and_the_controller_settles() {
        let mut store = Store::new(1);
        let mut memory = QuotaMemory::default();
        create::<k8s_openapi::api::core::v1::Namespace>(
            &mut store,
            json!({"metadata": {"name": "shop"}}),
        );
        create::<ResourceQuota>(
            &mut store,
            json!({"metadata": {"name": "compute", "namespace": "shop"},
                   "spec": {"hard": {"requests.cpu": "4", "requests.memory": "8Gi", "limits.memory": "16Gi", "pods": "10", "count/jobs.batch": "5"}}}),
        );
        reconcile(&mut store, &mut memory);
        let zero = [
            ("count/jobs.batch", "0"),
            ("limits.memory", "0"),
            ("pods", "0"),
            ("requests.cpu", "0"),
            ("requests.memory", "0"),
        ];
        assert_eq!(
            used(&store),
            zero.map(|(k, v)| (k.to_owned(), v.to_owned())).into()
        );
        let status = store
            .get::<ResourceQuota>("shop", "compute")
            .unwrap()
            .status
            .clone()
            .unwrap();
        assert_eq!(status.hard.unwrap()["requests.cpu"].0, "4");

        pod(&mut store, "a", "250m", "Running");
        pod(&mut store, "b", "1", "Running");
        pod(&mut store, "done", "2", "Succeeded");
        reconcile(&mut store, &mut memory);
        let u = used(&store);
        assert_eq!(u["pods"], "2", "finished pods do not count");
        assert_eq!(u["requests.cpu"], "1350m");
        assert_eq!(u["requests.memory"], "640Mi");
        assert_eq!(u["limits.memory"], "1Gi");

        // Settled: another pass writes nothing.
        reconcile(&mut store, &mut memory);
        let rv = store.resource_version();
        reconcile(&mut store, &mut memory);
        assert_eq!(store.resource_version(), rv);

        store.remove::<Pod>("shop", "b").unwrap();
        reconcile(&mut store, &mut memory);
        assert_eq!(used(&store)["requests.cpu"], "300m");
    }
}
