//! kube-rs (client and kube-runtime) against the simulated fleet.

use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher::{self, Event, watcher};
use kube::runtime::{WatchStreamExt, reflector};
use kube::{Client, Config};
use tokio::time::timeout;

use crate::support::TestFleet;

const WAIT: Duration = Duration::from_secs(60);

pub async fn client(fleet: &TestFleet, context: &str) -> Client {
    Client::try_from(config(fleet, context).await).expect("client")
}

/// The kube-rs configuration of one of the test fleet's contexts.
pub async fn config(fleet: &TestFleet, context: &str) -> Config {
    let kubeconfig = Kubeconfig::read_from(&fleet.kubeconfig).expect("kubeconfig parses");
    let opts = KubeConfigOptions {
        context: Some(context.to_string()),
        ..Default::default()
    };
    Config::from_custom_kubeconfig(kubeconfig, &opts)
        .await
        .expect("config")
}

/// Waits until `pred` holds on the reflector store's pods.
async fn wait_store(
    store: &reflector::Store<Pod>,
    what: &str,
    pred: impl Fn(&[std::sync::Arc<Pod>]) -> bool,
) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if pred(&store.state()) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}; store has {} pods",
            store.state().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn web_pods(pods: &[std::sync::Arc<Pod>]) -> usize {
    pods.iter()
        .filter(|p| {
            p.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("app"))
                .map(String::as_str)
                == Some("web")
        })
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .count()
}

#[test]
fn reflector_syncs_survives_timeouts_and_sees_scale() {
    let fleet = TestFleet::start();
    fleet.runtime.block_on(async {
        let client = client(&fleet, "dev").await;
        let pods: Api<Pod> = Api::namespaced(client.clone(), "shop");
        let (reader, writer) = reflector::store();
        // Short server-side timeouts: the watch ends every second and must resume, not relist.
        let config = watcher::Config::default().timeout(1);
        let (init_tx, mut init_rx) = tokio::sync::mpsc::unbounded_channel();
        let stream = reflector(writer, watcher(pods.clone(), config))
            .inspect_ok(move |ev| {
                if matches!(ev, Event::Init) {
                    let _ = init_tx.send(());
                }
            })
            .applied_objects();
        let task = tokio::spawn(async move {
            stream.for_each(|_| async {}).await;
        });
        timeout(WAIT, reader.wait_until_ready())
            .await
            .expect("reflector ready")
            .unwrap();
        wait_store(&reader, "5 shop pods", |p| p.len() >= 5).await;
        assert!(init_rx.try_recv().is_ok(), "one initial list");

        // Several watch timeouts pass; no relist happens.
        tokio::time::sleep(Duration::from_millis(3500)).await;
        assert!(
            init_rx.try_recv().is_err(),
            "the watcher relisted after a watch timeout"
        );

        // Scale through the scale subresource; the reflector sees the new pods.
        let deploys: Api<Deployment> = Api::namespaced(client.clone(), "shop");
        let scale = deploys
            .patch_scale(
                "web",
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"spec": {"replicas": 4}})),
            )
            .await
            .expect("patch_scale");
        assert_eq!(scale.spec.unwrap().replicas, Some(4));
        wait_store(&reader, "4 web pods", |p| web_pods(p) == 4).await;
        // Stopped while the fleet still serves: once the runtime shuts down, a watcher without
        // back-off fails at once, in a loop that never yields, and the abort would never land.
        task.abort();
        let _ = task.await;
    });
}

#[test]
fn watcher_relists_after_410_expired() {
    let fleet = TestFleet::start();
    fleet.runtime.block_on(async {
        let client = client(&fleet, "dev").await;
        let pods: Api<Pod> = Api::namespaced(client, "shop");
        let (init_tx, mut init_rx) = tokio::sync::mpsc::unbounded_channel();
        let stream = watcher(pods, watcher::Config::default()).inspect_ok(move |ev| {
            if matches!(ev, Event::Init) {
                let _ = init_tx.send(());
            }
        });
        let task = tokio::spawn(async move {
            stream.for_each(|_| async {}).await;
        });
        timeout(WAIT, init_rx.recv()).await.expect("initial list");
        tokio::time::sleep(Duration::from_millis(300)).await;

        // While the watch is down, changes happen and the history is compacted: resuming from the
        // old resourceVersion gets a 410 ERROR event, and kube-runtime must relist.
        let cluster = &fleet.fleet.cluster("dev").unwrap().cluster;
        {
            let mut store = cluster.store();
            cluster.drop_watches();
            let name = store.list::<Pod>(Some("shop"))[0]
                .metadata
                .name
                .clone()
                .unwrap();
            store
                .mutate::<Pod>("shop", &name, |p| {
                    p.metadata
                        .labels
                        .get_or_insert_with(Default::default)
                        .insert("touched".into(), "yes".into());
                })
                .unwrap();
            store.compact();
        }
        timeout(WAIT, init_rx.recv())
            .await
            .expect("a relist after 410 Expired");
        // Stopped while the fleet still serves: once the runtime shuts down, a watcher without
        // back-off fails at once, in a loop that never yields, and the abort would never land.
        task.abort();
        let _ = task.await;
    });
}

#[test]
fn rollback_effects_and_log_stream() {
    let fleet = TestFleet::start();
    fleet.runtime.block_on(async {
        let client = client(&fleet, "prod-westus").await;
        let deploys: Api<Deployment> = Api::namespaced(client.clone(), "shop");
        let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), "shop");
        let pods: Api<Pod> = Api::namespaced(client.clone(), "shop");

        // Roll forward to a new image, then back with the same JSON patch `kubectl rollout undo` sends.
        let original = deploys.get("api").await.unwrap();
        let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.example.com/shop/api:2.5.0"}]}}}});
        deploys.patch("api", &PatchParams::default(), &Patch::Strategic(patch)).await.unwrap();
        let deadline = tokio::time::Instant::now() + WAIT;
        let (old_rs, template) = loop {
            let list = rss.list(&kube::api::ListParams::default().labels("app=api")).await.unwrap();
            if list.items.len() == 2 {
                let old = list
                    .items
                    .into_iter()
                    .find(|r| r.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"] == "1")
                    .expect("revision 1 replica set");
                let mut template = serde_json::to_value(old.spec.as_ref().unwrap().template.as_ref().unwrap()).unwrap();
                template["metadata"]["labels"].as_object_mut().unwrap().remove("pod-template-hash");
                break (old.metadata.name.unwrap(), template);
            }
            assert!(tokio::time::Instant::now() < deadline, "new replica set never appeared");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let undo = json_patch::Patch(serde_json::from_value(serde_json::json!([
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": original.metadata.annotations.clone().unwrap()},
        ])).unwrap());
        deploys.patch("api", &PatchParams::default(), &Patch::Json::<()>(undo)).await.unwrap();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let rs = rss.get(&old_rs).await.unwrap();
            let ann = rs.metadata.annotations.unwrap();
            if ann["deployment.kubernetes.io/revision"] == "3" {
                assert_eq!(ann["deployment.kubernetes.io/revision-history"], "1");
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "rollback never reused the old replica set");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // log_stream follows a running pod.
        let name = loop {
            let list = pods.list(&kube::api::ListParams::default().labels("app=web")).await.unwrap();
            let running = list.items.into_iter().find(|p| {
                p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
            });
            if let Some(p) = running {
                break p.metadata.name.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let params = LogParams {
            follow: true,
            tail_lines: Some(1),
            ..Default::default()
        };
        let stream = pods.log_stream(&name, &params).await.expect("log_stream");
        let mut lines = stream.lines();
        let mut got = Vec::new();
        while got.len() < 3 {
            let line = timeout(Duration::from_secs(30), lines.try_next())
                .await
                .expect("a log line within 30s")
                .expect("log stream reads")
                .expect("stream still open");
            got.push(line);
        }
        assert_eq!(got.len(), 3);
    });
}

#[test]
fn paging_streaming_lists_and_versioned_views() {
    let fleet = TestFleet::start();
    fleet.runtime.block_on(async {
        let client = client(&fleet, "staging").await;
        let pods: Api<Pod> = Api::namespaced(client.clone(), "shop");
        let deadline = tokio::time::Instant::now() + WAIT;
        while pods
            .list(&kube::api::ListParams::default())
            .await
            .unwrap()
            .items
            .len()
            < 5
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "pods never appeared"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // limit/continue: pages of two cover every pod exactly once.
        let all: Vec<String> = pods
            .list(&kube::api::ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|p| p.metadata.name.unwrap())
            .collect();
        let mut paged = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut lp = kube::api::ListParams::default().limit(2);
            if let Some(t) = &token {
                lp = lp.continue_token(t);
            }
            let page = pods.list(&lp).await.unwrap();
            assert!(page.items.len() <= 2);
            paged.extend(page.items.into_iter().map(|p| p.metadata.name.unwrap()));
            token = page.metadata.continue_.filter(|t| !t.is_empty());
            if token.is_none() {
                break;
            }
        }
        assert_eq!(paged, all);

        // Streaming lists (sendInitialEvents + the initial-events-end bookmark).
        let (reader, writer) = reflector::store();
        let stream = reflector(
            writer,
            watcher(pods.clone(), watcher::Config::default().streaming_lists()),
        );
        let task = tokio::spawn(stream.for_each(|_| async {}));
        timeout(WAIT, reader.wait_until_ready())
            .await
            .expect("streaming list completes")
            .unwrap();
        assert_eq!(reader.state().len(), all.len());
        // Stopped while the fleet still serves: once the runtime shuts down, a watcher without
        // back-off fails at once, in a loop that never yields, and the abort would never land.
        task.abort();
        let _ = task.await;

        // One store, two API versions: events.k8s.io/v1 events and autoscaling/v1 HPAs.
        let events: Api<k8s_openapi::api::events::v1::Event> =
            Api::namespaced(client.clone(), "shop");
        let list = events
            .list(&kube::api::ListParams::default().fields("reason=Scheduled"))
            .await
            .unwrap();
        assert!(!list.items.is_empty());
        for e in &list.items {
            assert_eq!(e.reason.as_deref(), Some("Scheduled"));
            assert_eq!(e.reporting_controller.as_deref(), Some("default-scheduler"));
            assert!(
                e.note
                    .as_deref()
                    .unwrap()
                    .starts_with("Successfully assigned shop/")
            );
            assert_eq!(e.regarding.as_ref().unwrap().kind.as_deref(), Some("Pod"));
        }
        let hpas: Api<k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler> =
            Api::namespaced(client, "shop");
        let api_hpa = hpas.get("api").await.unwrap();
        let spec = api_hpa.spec.unwrap();
        assert_eq!(
            (
                spec.min_replicas,
                spec.max_replicas,
                spec.target_cpu_utilization_percentage
            ),
            (Some(2), 6, Some(70))
        );
    });
}
