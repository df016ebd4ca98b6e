//! Proxy tests: target parsing, pod and service resolution, and the real error texts.

use std::sync::Arc;

use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::Service;
use serde_json::json;

use super::*;
use crate::sim::app::DefaultApp;
use crate::sim::kubelet::tests::{app_container, cluster, cluster_pod, cluster_run};

fn pod(name: &str, port: Option<&str>) -> ProxyTarget {
    ProxyTarget::Pod {
        namespace: "shop".into(),
        name: name.into(),
        port: port.map(str::to_string),
    }
}

fn service(name: &str, port: Option<&str>) -> ProxyTarget {
    ProxyTarget::Service {
        namespace: "shop".into(),
        name: name.into(),
        port: port.map(str::to_string),
    }
}

async fn call(
    c: &Arc<Cluster>,
    target: ProxyTarget,
    path: &str,
) -> Result<(u16, String), (u16, String)> {
    let headers = http::HeaderMap::new();
    let resp = serve_proxy(
        Arc::clone(c),
        target,
        http::Method::GET,
        path,
        None,
        &headers,
        bytes::Bytes::new(),
    )
    .await
    .map_err(|e| (e.code, e.message))?;
    let code = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Ok((code, String::from_utf8(body.to_vec()).unwrap()))
}

#[test]
fn targets_split_like_split_scheme_name_port() {
    assert_eq!(parse_target("web-1"), (None, "web-1", None));
    assert_eq!(parse_target("web-1:8080"), (None, "web-1", Some("8080")));
    assert_eq!(
        parse_target("https:web-1:metrics"),
        (Some("https"), "web-1", Some("metrics"))
    );
    assert_eq!(parse_target("web-1:"), (None, "web-1", None));
    assert_eq!(parse_target("ftp:web-1:21"), (None, "ftp:web-1:21", None));
}

#[tokio::test]
async fn pods_answer_through_their_app() {
    let c = cluster(Arc::new(DefaultApp));
    cluster_pod(&c, "web-1", app_container("web:1", json!({})));
    cluster_pod(&c, "web-2", app_container("web:1-unready", json!({})));
    cluster_run(&c, 0.1);
    assert_eq!(
        call(&c, pod("web-1", None), "/healthz").await,
        Err((400, "address not allowed".into()))
    );
    cluster_run(&c, 8.0);
    assert_eq!(
        call(&c, pod("web-1", Some("8080")), "/healthz").await,
        Ok((200, "ok".into()))
    );
    assert_eq!(
        call(&c, pod("web-1", Some("http")), "/readyz").await,
        Ok((200, "ok".into()))
    );
    let (code, metrics) = call(&c, pod("web-1", None), "/metrics").await.unwrap();
    assert_eq!(code, 200);
    assert!(metrics.contains(
        "# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\",method=\"get\"} "
    ));
    assert!(metrics.contains("\nprocess_start_time_seconds 1"));
    assert_eq!(
        call(&c, pod("web-2", None), "/readyz").await,
        Ok((503, "not ready".into()))
    );
    let ip = c
        .store()
        .get::<Pod>("shop", "web-1")
        .unwrap()
        .status
        .clone()
        .unwrap()
        .pod_ip
        .unwrap();
    assert_eq!(
        call(&c, pod("web-1", Some("9090")), "/").await,
        Err((
            503,
            format!(
                "error trying to reach service: dial tcp {ip}:9090: connect: connection refused"
            )
        ))
    );
    assert_eq!(
        call(&c, pod("nope", None), "/").await,
        Err((404, "pods \"nope\" not found".into()))
    );
    assert_eq!(
        call(&c, pod("a:b:c:d", None), "/").await.unwrap_err().0,
        400
    );
}

#[tokio::test]
async fn a_crashed_container_refuses_connections() {
    let c = cluster(Arc::new(DefaultApp));
    cluster_pod(&c, "web-1", app_container("web:crash", json!({})));
    for _ in 0..600 {
        cluster_run(&c, 0.1);
        if let Err((503, msg)) = call(&c, pod("web-1", None), "/").await {
            assert!(
                msg.ends_with("dial tcp 10.244.1.2:8080: connect: connection refused"),
                "{msg}"
            );
            return;
        }
    }
    panic!("the crashed container kept answering");
}

#[tokio::test]
async fn services_pick_a_ready_endpoint() {
    let c = cluster(Arc::new(DefaultApp));
    let readiness = json!({"readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}}});
    cluster_pod(
        &c,
        "web-1",
        app_container("web:1-unready", readiness.clone()),
    );
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}
    }))
    .unwrap();
    c.write(|s, now| s.create(svc, now).unwrap());
    cluster_run(&c, 8.0);
    let none = Err((503, "no endpoints available for service \"web\"".into()));
    assert_eq!(call(&c, service("web", None), "/").await, none);
    cluster_pod(&c, "web-2", app_container("web:1", readiness));
    cluster_run(&c, 8.0);
    let (code, body) = call(&c, service("web", Some("80")), "/").await.unwrap();
    assert_eq!((code, body.as_str()), (200, "web-2 (web:1) on shop\n"));
    assert_eq!(
        call(&c, service("web", Some("81")), "/").await,
        Err((503, "no service port 81 found for service \"web\"".into()))
    );
    assert_eq!(call(&c, service("web", Some("grpc")), "/").await, none);
    assert_eq!(
        call(&c, service("db", None), "/").await,
        Err((404, "services \"db\" not found".into()))
    );
}
