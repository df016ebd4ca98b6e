//! How fast a simulated API server serves a full pod list: the built-in fleet plus 10,000 pods
//! spread over its 4 clusters, listed over HTTPS with kube-rs (the console's own client).
//!
//! `cargo bench --bench sim_list` (set `WF_BENCH_PODS` to change the pod count).

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use watchfloor::sim::fleet::{self, FleetOptions};

fn bench(c: &mut Criterion) {
    let pods: usize = std::env::var("WF_BENCH_PODS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    let (running, clients) = rt.block_on(async {
        let opts = FleetOptions {
            extra_pods: pods,
            speed: 1.0,
            ..Default::default()
        };
        let running = fleet::start(
            &watchfloor::sim::fleetfile::resolve("small").unwrap(),
            &opts,
        )
        .await
        .unwrap();
        watchfloor::sim::demo::write_kubeconfig(&running, &path).unwrap();
        let mut clients = Vec::new();
        for c in &running.clusters {
            let kc = Kubeconfig::read_from(&path).unwrap();
            let opts = KubeConfigOptions {
                context: Some(c.def.name.clone()),
                ..Default::default()
            };
            let config = Config::from_custom_kubeconfig(kc, &opts).await.unwrap();
            clients.push(Api::<Pod>::all(Client::try_from(config).unwrap()));
        }
        (running, clients)
    });
    let total: usize = rt.block_on(async {
        let mut n = 0;
        for api in &clients {
            n += api.list(&ListParams::default()).await.unwrap().items.len();
        }
        n
    });
    eprintln!("fleet: {} clusters, {total} pods", running.clusters.len());

    let mut group = c.benchmark_group("sim_list");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("one cluster, all pods (kube-rs, decoded)", |b| {
        b.to_async(&rt).iter(|| async {
            clients[0]
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .len()
        })
    });
    group.bench_function(
        "all 4 clusters concurrently, all pods (kube-rs, decoded)",
        |b| {
            b.to_async(&rt).iter(|| async {
                let params = ListParams::default();
                let lists =
                    futures::future::join_all(clients.iter().map(|api| api.list(&params))).await;
                lists
                    .into_iter()
                    .map(|l| l.unwrap().items.len())
                    .sum::<usize>()
            })
        },
    );
    // The server's side alone: the same lists fetched as bytes, without the client decoding them.
    let raw = |api: &Api<Pod>| {
        let client: Client = api.clone().into_client();
        async move {
            let req = http::Request::get("/api/v1/pods").body(Vec::new()).unwrap();
            client.request_text(req).await.unwrap().len()
        }
    };
    group.bench_function("one cluster, all pods (raw bytes)", |b| {
        b.to_async(&rt).iter(|| raw(&clients[0]))
    });
    group.bench_function("all 4 clusters concurrently, all pods (raw bytes)", |b| {
        b.to_async(&rt).iter(|| async {
            futures::future::join_all(clients.iter().map(raw))
                .await
                .into_iter()
                .sum::<usize>()
        })
    });
    group.finish();
    drop(running);
}

criterion_group!(benches, bench);
criterion_main!(benches);
