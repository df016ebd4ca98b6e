//! The translated objects in a running simulated cluster: accepted by the store, reconciled into
//! pods, and served (ResourceQuotas included) to a real client, kube-rs.

use std::net::SocketAddr;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, ResourceQuota};
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;

use super::*;
use crate::sim::app::DefaultApp;
use crate::sim::clock::SimClock;
use crate::sim::cluster::{Cluster, ClusterSpec, User};
use crate::sim::kubelet::Kubelet;
use crate::sim::selector::LabelSelector;
use crate::sim::server::ServerHandle;
use crate::sim::tls::SimTls;

const TOKEN: &str = "wf-test-admin";

fn start(f: &FleetFile, name: &str) -> Arc<Cluster> {
    let spec = ClusterSpec {
        name: name.into(),
        seed: 7,
        users: vec![User {
            name: "admin".into(),
            token: TOKEN.into(),
            readonly: false,
        }],
    };
    let cluster = Cluster::new(
        spec,
        SimClock::scaled(1.0),
        Kubelet::new(Arc::new(DefaultApp), 7),
    );
    let objects = f.cluster_objects(f.cluster(name).unwrap());
    objects
        .create_in(&cluster)
        .unwrap_or_else(|e| panic!("{name}: {}", e.message));
    cluster.reconcile();
    cluster
}

fn pods_matching(cluster: &Cluster, namespace: &str, selector: &serde_json::Value) -> Vec<String> {
    let text: Vec<String> = selector
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
        .collect();
    let sel = LabelSelector::parse(&text.join(",")).unwrap();
    cluster
        .store()
        .list::<Pod>(Some(namespace))
        .iter()
        .filter(|p| sel.matches(p.metadata.labels.as_ref()))
        .map(|p| p.metadata.name.clone().unwrap_or_default())
        .collect()
}

#[test]
fn every_seed_cluster_starts_its_pods() {
    let f = builtin();
    for c in &f.clusters {
        let cluster = start(&f, &c.name);
        // What the Deployments ask for, raised to their autoscaler's minimum (staging's
        // export-service asks for 2 with a minimum of 3, as the seed's overlays have it).
        let objects = f.cluster_objects(c);
        let want: u64 = objects
            .deployments
            .iter()
            .map(|d| {
                let replicas = d["spec"]["replicas"].as_u64().unwrap();
                let min = objects
                    .hpas
                    .iter()
                    .find(|h| {
                        h["metadata"]["namespace"] == d["metadata"]["namespace"]
                            && h["spec"]["scaleTargetRef"]["name"] == d["metadata"]["name"]
                    })
                    .map_or(0, |h| h["spec"]["minReplicas"].as_u64().unwrap());
                replicas.max(min)
            })
            .sum();
        let pods = cluster.store().list::<Pod>(None).len() as u64;
        assert_eq!(pods, want, "{}", c.name);
    }
    let prod = start(&f, "prod-eastus");
    let svc = named(
        &f.cluster_objects(f.cluster("prod-eastus").unwrap())
            .services,
        "covetpy",
        "covet-api",
    )["spec"]["selector"]
        .clone();
    let live = pods_matching(&prod, "covetpy", &svc);
    assert_eq!(live.len(), 3);
    assert!(
        live.iter().all(|p| p.starts_with("covet-api-blue-")),
        "{live:?}"
    );
    let all = pods_matching(&prod, "code", &json!({"app": "code-api"}));
    assert_eq!(
        all.len(),
        4,
        "three stable pods and the canary behind one Service"
    );
}

fn named<'a>(list: &'a [serde_json::Value], namespace: &str, name: &str) -> &'a serde_json::Value {
    list.iter()
        .find(|v| v["metadata"]["name"] == name && v["metadata"]["namespace"] == namespace)
        .unwrap()
}

async fn client(server: &ServerHandle, tls: &SimTls) -> kube::Client {
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(tls.ca_pem.as_bytes());
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters:\n- name: t\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\n\
         contexts:\n- name: t\n  context:\n    cluster: t\n    user: admin\nusers:\n- name: admin\n  user:\n    token: {TOKEN}\n",
        server.url()
    );
    let config = kube::Config::from_custom_kubeconfig(
        Kubeconfig::from_yaml(&kubeconfig).unwrap(),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    kube::Client::try_from(config).unwrap()
}

#[tokio::test]
async fn resource_quotas_are_served_like_every_other_kind() {
    let f = builtin();
    let cluster = start(&f, "staging");
    let tls = SimTls::generate().unwrap();
    let server = ServerHandle::start(
        Arc::clone(&cluster),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        tls.clone(),
    )
    .await
    .unwrap();
    let client = client(&server, &tls).await;

    // Discovery advertises the kind, with kubectl's short name.
    let core = client.list_core_api_resources("v1").await.unwrap();
    let quota = core
        .resources
        .iter()
        .find(|r| r.name == "resourcequotas")
        .unwrap();
    assert_eq!(
        (quota.kind.as_str(), quota.namespaced),
        ("ResourceQuota", true)
    );
    assert_eq!(
        quota.short_names.as_deref(),
        Some(&["quota".to_owned()][..])
    );
    assert!(
        core.resources
            .iter()
            .any(|r| r.name == "resourcequotas/status")
    );

    // List across namespaces, list in one, get one.
    let all: Api<ResourceQuota> = Api::all(client.clone());
    let listed = all.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 5);
    let apps: Api<ResourceQuota> = Api::namespaced(client.clone(), "arxos-apps");
    let q = apps.get("compute-resources").await.unwrap();
    let hard = q.spec.unwrap().hard.unwrap();
    assert_eq!(hard["requests.cpu"].0, "16");
    let used = q.status.unwrap().used.unwrap();
    assert_eq!(
        used["requests.cpu"].0, "300m",
        "staging: frontend 2 x 100m, cmms 1 x 100m"
    );
    assert!(apps.get("nope").await.is_err());

    // kubectl get quota: the server's Table.
    let req = http::Request::get("/api/v1/namespaces/arxos-apps/resourcequotas")
        .header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .body(Vec::new())
        .unwrap();
    let table: serde_json::Value = client.request(req).await.unwrap();
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["Name", "Age", "Request", "Limit"]);
    assert_eq!(
        table["rows"][0]["cells"][2],
        "requests.cpu: 300m/16, requests.memory: 512Mi/32Gi"
    );

    // Created through the API, the status is the controller's to write, as on a real server.
    let mine: ResourceQuota = serde_json::from_value(json!({
        "metadata": {"name": "extra", "namespace": "arxos-apps"},
        "spec": {"hard": {"pods": "10"}},
        "status": {"hard": {"pods": "10"}, "used": {"pods": "0"}}
    }))
    .unwrap();
    let created = apps.create(&PostParams::default(), &mine).await.unwrap();
    assert!(created.status.is_none_or(|s| s.used.is_none()));
    cluster.reconcile();
    let counted = apps.get("extra").await.unwrap().status.unwrap();
    assert_eq!(
        counted.used.unwrap()["pods"].0,
        "3",
        "the quota controller counted the pods"
    );
    assert_eq!(
        apps.list(&ListParams::default()).await.unwrap().items.len(),
        2
    );
    apps.delete("extra", &Default::default()).await.unwrap();
    assert_eq!(
        apps.list(&ListParams::default()).await.unwrap().items.len(),
        1
    );
    server.stop();
}

/// The real kubectl shows the quotas as it shows a real cluster's (skipped loudly without kubectl,
/// unless WATCHFLOOR_REQUIRE_EXTERNAL=1 makes that a failure).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_gets_quotas() {
    if std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_err()
    {
        assert!(
            std::env::var("WATCHFLOOR_REQUIRE_EXTERNAL").as_deref() != Ok("1"),
            "kubectl is required (WATCHFLOOR_REQUIRE_EXTERNAL=1) but missing"
        );
        eprintln!("SKIP kubectl_gets_quotas: kubectl is not installed");
        return;
    }
    let f = builtin();
    let cluster = start(&f, "prod-westus");
    let tls = SimTls::generate().unwrap();
    let server = ServerHandle::start(
        Arc::clone(&cluster),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        tls.clone(),
    )
    .await
    .unwrap();
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(tls.ca_pem.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters:\n- name: t\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\n\
             contexts:\n- name: t\n  context:\n    cluster: t\n    user: admin\nusers:\n- name: admin\n  user:\n    token: {TOKEN}\n",
            server.url()
        ),
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let run = move |args: &[&str]| {
        let out = std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--cache-dir")
            .arg(&cache)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let (one, all) = tokio::task::spawn_blocking(move || {
        (
            run(&["get", "quota", "-n", "arxos-apps"]),
            run(&["get", "resourcequotas", "-A", "-o", "name"]),
        )
    })
    .await
    .unwrap();
    let lines: Vec<&str> = one.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("REQUEST") && lines[0].contains("LIMIT"),
        "{one}"
    );
    assert!(
        lines[1].contains("requests.cpu: 500m/16, requests.memory: 896Mi/32Gi"),
        "{one}"
    );
    assert_eq!(all.lines().count(), 5, "{all}");
    server.stop();
}
