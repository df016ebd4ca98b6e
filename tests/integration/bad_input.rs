//! Bad input gets a Status with a clear message, never a panic or a hang; many watchers at once.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use http::Request;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams, WatchEvent, WatchParams};
use tokio::time::timeout;

use crate::kube_client::client;
use crate::support::TestFleet;

async fn raw(
    client: &kube::Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> kube::core::Status {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(body)
        .unwrap();
    match client.request_text(req).await {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("{method} {path}: expected an API error, got {other:?}"),
    }
}

#[test]
fn malformed_bodies_unknown_paths_and_oversized_requests() {
    let fleet = TestFleet::start();
    fleet.runtime.block_on(async {
        let c = client(&fleet, "dev").await;
        let e = raw(&c, "POST", "/apis/apps/v1/namespaces/shop/deployments", "application/json", b"{not json".to_vec()).await;
        assert_eq!((e.code, e.reason.as_str()), (400, "BadRequest"), "{e:?}");
        assert!(e.message.contains("json parse error"), "{}", e.message);

        let e = raw(&c, "PATCH", "/apis/apps/v1/namespaces/shop/deployments/web", "application/merge-patch+json", b"[1,2".to_vec()).await;
        assert_eq!(e.code, 400, "{e:?}");
        let e = raw(&c, "PATCH", "/apis/apps/v1/namespaces/shop/deployments/web", "text/plain", b"{}".to_vec()).await;
        assert_eq!(e.code, 415, "{e:?}");
        let e = raw(
            &c,
            "PATCH",
            "/apis/apps/v1/namespaces/shop/deployments/web",
            "application/json-patch+json",
            br#"[{"op":"test","path":"/spec/replicas","value":99}]"#.to_vec(),
        )
        .await;
        assert_eq!(e.code, 422, "{e:?}");

        let e = raw(&c, "GET", "/apis/apps/v1/namespaces/shop/statefulsets", "application/json", vec![]).await;
        assert_eq!((e.code, e.reason.as_str()), (404, "NotFound"));
        let e = raw(&c, "GET", "/no/such/path", "application/json", vec![]).await;
        assert_eq!(e.code, 404);
        let e = raw(&c, "GET", "/apis/apps/v1/namespaces/shop/deployments/nope", "application/json", vec![]).await;
        assert_eq!(e.message, "deployments.apps \"nope\" not found");

        let e = raw(&c, "GET", "/api/v1/pods?labelSelector=a%20in%20(x", "application/json", vec![]).await;
        assert_eq!(e.code, 400, "{e:?}");
        let e = raw(&c, "GET", "/api/v1/pods?fieldSelector=spec.bogus%3Dx", "application/json", vec![]).await;
        assert_eq!(e.message, "field label not supported: spec.bogus");

        let big = vec![b' '; 4 * 1024 * 1024];
        let e = raw(&c, "POST", "/api/v1/namespaces/shop/pods", "application/json", big).await;
        assert_eq!((e.code, e.reason.as_str()), (413, "RequestEntityTooLarge"), "{e:?}");

        let e = raw(&c, "PUT", "/apis/apps/v1/namespaces/shop/deployments/web", "application/json",
            br#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","resourceVersion":"1"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"app","image":"x:1"}]}}}}"#.to_vec()).await;
        assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"), "{e:?}");
        assert!(e.message.contains("the object has been modified"), "{}", e.message);

        // The server is still healthy afterwards.
        let deploys: Api<Deployment> = Api::namespaced(c, "shop");
        assert!(deploys.get("web").await.is_ok());
    });
}

#[test]
fn fifty_watchers_with_concurrent_writes() {
    let fleet = TestFleet::start();
    fleet.runtime.block_on(async {
        let c = client(&fleet, "dev").await;
        let deploys: Api<Deployment> = Api::namespaced(c.clone(), "shop");
        let start_rv = deploys.get("web").await.unwrap().metadata.resource_version.unwrap();
        let mut watchers = Vec::new();
        for _ in 0..50 {
            let api = deploys.clone();
            let rv = start_rv.clone();
            watchers.push(tokio::spawn(async move {
                let params = WatchParams::default().fields("metadata.name=web").timeout(60);
                let mut stream = api.watch(&params, &rv).await.expect("watch").boxed();
                // Done when this watcher has seen the final replica count.
                while let Some(ev) = stream.try_next().await.expect("watch stream") {
                    if let WatchEvent::Modified(d) = ev
                        && d.metadata.labels.as_ref().and_then(|l| l.get("round")).map(String::as_str) == Some("20")
                    {
                        return true;
                    }
                }
                false
            }));
        }
        let mut writers = Vec::new();
        for w in 0..4 {
            let api = deploys.clone();
            writers.push(tokio::spawn(async move {
                for round in 0..5 {
                    let value = (w * 5 + round + 1).to_string();
                    let patch = serde_json::json!({"metadata": {"annotations": {format!("writer-{w}"): value}}});
                    api.patch("web", &PatchParams::default(), &Patch::Merge(patch)).await.expect("concurrent patch");
                }
            }));
        }
        for w in writers {
            w.await.unwrap();
        }
        let patch = serde_json::json!({"metadata": {"labels": {"round": "20"}}});
        deploys.patch("web", &PatchParams::default(), &Patch::Merge(patch)).await.unwrap();
        for w in watchers {
            let saw = timeout(Duration::from_secs(60), w).await.expect("watcher finished").unwrap();
            assert!(saw, "a watcher missed the final change");
        }
        let web = deploys.get("web").await.unwrap();
        let annotations = web.metadata.annotations.unwrap();
        for w in 0..4 {
            assert_eq!(annotations[&format!("writer-{w}")], (w * 5 + 5).to_string());
        }
    });
}
