//! The remote source's golden signals against a real Prometheus (Debian's package) scraping the
//! seeds fleet's prod-eastus: `remote::golden::golden` must find every Deployment's workload
//! from pod names alone, and its numbers must agree with plain PromQL over the same pods.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use watchfloor::kube::ObjKey;
use watchfloor::metrics::remote::golden::golden;

use crate::prometheus::{Prometheus, settled_targets};
use crate::support::have;

const CLUSTER: &str = "prod-eastus";
/// The rate window: 30 one-second scrapes.
const WINDOW: Duration = Duration::from_secs(30);

/// One value of an instant query at `at`, None when there is no (finite) value.
fn value_at(prom: &Prometheus, promql: &str, at: jiff::Timestamp) -> Option<f64> {
    let result = prom.query_at(promql, at.as_millisecond());
    assert!(
        result.len() <= 1,
        "{promql}: more than one series: {result:?}"
    );
    let v: f64 = result.first()?["value"][1].as_str()?.parse().ok()?;
    v.is_finite().then_some(v)
}

fn close(ours: Option<f64>, theirs: Option<f64>, what: &str) {
    match (ours, theirs) {
        (Some(a), Some(b)) => {
            let tolerance = (b.abs() * 0.05).max(1e-6);
            assert!(
                (a - b).abs() <= tolerance,
                "{what}: golden() {a} vs direct PromQL {b} (tolerance {tolerance})"
            );
        }
        (None, None) => {}
        other => panic!("{what}: golden() vs direct PromQL {other:?}"),
    }
}

/// Each scraped pod's Deployment, from its ReplicaSet owner and `pod-template-hash` label
/// (not from the name, which is what is under test): workload key → its pods.
fn deployments(
    fleet: &crate::support::TestFleet,
    pods: &BTreeSet<&str>,
) -> BTreeMap<ObjKey, Vec<String>> {
    let running = fleet.fleet.cluster(CLUSTER).expect("cluster");
    let mut out: BTreeMap<ObjKey, Vec<String>> = BTreeMap::new();
    for p in running.cluster.store().list::<Pod>(None).iter() {
        let (Some(ns), Some(name)) = (&p.metadata.namespace, &p.metadata.name) else {
            continue;
        };
        if !pods.contains(name.as_str()) {
            continue;
        }
        let hash = p
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("pod-template-hash"));
        let rs = p
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.kind == "ReplicaSet");
        if let (Some(hash), Some(rs)) = (hash, rs)
            && let Some(deployment) = rs.name.strip_suffix(&format!("-{hash}"))
        {
            out.entry(ObjKey::new(ns, deployment))
                .or_default()
                .push(name.clone());
        }
    }
    out
}

#[test]
fn remote_golden_signals_match_direct_promql_over_the_same_pods() {
    if !have("prometheus") {
        return;
    }
    let fleet = crate::seeds::seeds();
    let targets = settled_targets(&fleet, CLUSTER);
    // Read now: pods the HPA or the incident removes later stay in Prometheus's window (and so
    // in golden()'s sums) after they are gone from the cluster.
    let pods: BTreeSet<&str> = targets.iter().map(|t| t.pod.as_str()).collect();
    let by_deployment = deployments(&fleet, &pods);
    let mut prom = Prometheus::scraping(&fleet, CLUSTER, &targets);
    prom.until_all_up(targets.len());
    // A full window of samples after every target is up.
    std::thread::sleep(WINDOW + Duration::from_secs(8));
    let at = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(2);

    let client = prom.client("prod");
    let clusters = [(0, CLUSTER.to_string())];
    let began = Instant::now();
    let remote = fleet
        .runtime
        .block_on(golden(&client, &clusters, at, WINDOW))
        .unwrap_or_else(|e| panic!("{e}\n{}", prom.log()));
    eprintln!(
        "golden(): {} workloads, {} pods in {:?}",
        remote.workloads.len(),
        remote.pods.len(),
        began.elapsed()
    );

    // Workloads: exactly the Deployments of the scraped pods that serve HTTP, by their keys.
    assert!(
        by_deployment.contains_key(&ObjKey::new("arq", "arq-backend")),
        "{by_deployment:?}"
    );
    let w = WINDOW.as_secs();
    let (mut http_apps, mut with_p95) = (0, 0);
    for (key, pods) in &by_deployment {
        let sel = format!(
            "namespace=\"{}\",pod=~\"{}\"",
            key.namespace,
            pods.join("|")
        );
        let rate = value_at(
            &prom,
            &format!("sum(rate(http_requests_total{{{sel}}}[{w}s]))"),
            at,
        );
        let ours = remote.workloads.get(&(0, key.clone()));
        let Some(rate) = rate else {
            assert!(
                ours.is_none_or(|g| g.rate.is_none()),
                "{key:?} serves no HTTP, yet {ours:?}"
            );
            continue;
        };
        let ours = ours.unwrap_or_else(|| panic!("{key:?} missing: {:?}", remote.workloads));
        let errors = value_at(
            &prom,
            &format!("sum(rate(http_requests_total{{{sel},code=~\"5..\"}}[{w}s])) / sum(rate(http_requests_total{{{sel}}}[{w}s]))"),
            at,
        )
        .or(Some(0.0));
        let p95 = value_at(
            &prom,
            &format!(
                "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[{w}s])))"
            ),
            at,
        );
        eprintln!(
            "{}/{}: rate {:?} vs {rate}, 5xx {:?} vs {errors:?}, p95 {:?} vs {p95:?}",
            key.namespace, key.name, ours.rate, ours.error_ratio, ours.p95
        );
        assert!(ours.rate.is_some_and(|r| r > 0.0), "{key:?}: {ours:?}");
        close(ours.rate, Some(rate), &format!("{key:?} rate"));
        close(ours.error_ratio, errors, &format!("{key:?} error ratio"));
        close(ours.p95, p95, &format!("{key:?} p95"));
        http_apps += 1;
        with_p95 += usize::from(p95.is_some());
    }
    assert!(http_apps >= 2, "only {http_apps} workloads serve HTTP");
    assert!(with_p95 >= 2, "only {with_p95} workloads have a p95");
    let known: BTreeSet<&ObjKey> = by_deployment.keys().collect();
    for (cluster, key) in remote.workloads.keys() {
        assert_eq!(*cluster, 0);
        assert!(known.contains(key), "{key:?} is no Deployment");
    }

    // Pods: CPU and memory as the process metrics give them (no cAdvisor here).
    let (mut with_cpu, mut with_memory) = (0, 0);
    for t in &targets {
        let sel = format!("namespace=\"{}\",pod=\"{}\"", t.namespace, t.pod);
        let cpu = value_at(
            &prom,
            &format!("sum(rate(process_cpu_seconds_total{{{sel}}}[{w}s]))"),
            at,
        );
        let memory = value_at(
            &prom,
            &format!("sum(process_resident_memory_bytes{{{sel}}})"),
            at,
        );
        let ours = remote
            .pods
            .get(&(0, ObjKey::new(&t.namespace, &t.pod)))
            .copied()
            .unwrap_or_default();
        close(ours.cpu, cpu, &format!("{} CPU", t.pod));
        close(ours.memory, memory, &format!("{} memory", t.pod));
        with_cpu += usize::from(ours.cpu.is_some());
        with_memory += usize::from(ours.memory.is_some());
    }
    eprintln!(
        "{} pods: {with_cpu} with CPU, {with_memory} with memory",
        targets.len()
    );
    // Every HTTP workload's running pods have both (a pod the HPA removed in the window keeps
    // its CPU rate for the window but has no memory value now: both sides agree on that above).
    for (key, pods) in &by_deployment {
        if remote.workloads.contains_key(&(0, key.clone())) {
            let full = pods
                .iter()
                .filter_map(|pod| remote.pods.get(&(0, ObjKey::new(&key.namespace, pod))))
                .filter(|u| u.cpu.is_some() && u.memory.is_some())
                .count();
            assert!(
                full >= 1,
                "{key:?}: no pod with CPU and memory among {pods:?}"
            );
        }
    }
    assert!(
        with_memory * 10 >= targets.len() * 8,
        "{with_memory} of {} pods with memory",
        targets.len()
    );
}
