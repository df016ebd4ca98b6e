//! Log endpoint tests: query semantics, errors, previous instances and following.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use super::*;
use crate::sim::app::DefaultApp;
use crate::sim::kubelet::tests::{app_container, cluster, cluster_pod, cluster_run};

async fn get(
    cluster: &Arc<Cluster>,
    pod: &str,
    query: &str,
) -> Result<(StatusCode, String), ApiError> {
    let resp = serve_log(Arc::clone(cluster), "shop", pod, &Query::parse(Some(query))).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Ok((status, String::from_utf8(body.to_vec()).unwrap()))
}

async fn err(cluster: &Arc<Cluster>, pod: &str, query: &str) -> (u16, String) {
    let e = get(cluster, pod, query).await.unwrap_err();
    (e.code, e.message)
}

#[tokio::test]
async fn errors_are_worded_as_the_api_server_words_them() {
    let c = cluster(Arc::new(DefaultApp));
    cluster_pod(&c, "web-1", app_container("web:1", json!({})));
    let two = json!([{"name": "app", "image": "web:1"}, {"name": "sidecar", "image": "proxy:1"}]);
    cluster_pod(&c, "web-2", two);
    cluster_run(&c, 0.1);
    let waiting = "container \"app\" in pod \"web-1\" is waiting to start: ContainerCreating";
    assert_eq!(err(&c, "web-1", "").await, (400, waiting.into()));
    assert_eq!(
        err(&c, "web-2", "").await,
        (
            400,
            "a container name must be specified for pod web-2, choose one of: [app sidecar]".into()
        )
    );
    assert_eq!(
        err(&c, "web-1", "container=nope").await,
        (400, "container nope is not valid for pod web-1".into())
    );
    assert_eq!(
        err(&c, "gone", "").await,
        (404, "pods \"gone\" not found".into())
    );
    assert_eq!(
        err(&c, "web-1", "tailLines=-1").await,
        (422, "PodLogOptions \"web-1\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0".into())
    );
    assert_eq!(
        err(&c, "web-1", "sinceSeconds=1&sinceTime=2026-01-01T00:00:00Z")
            .await
            .0,
        422
    );
    cluster_run(&c, 5.0);
    let previous = "previous terminated container \"app\" in pod \"web-1\" not found";
    assert_eq!(
        err(&c, "web-1", "previous=true").await,
        (400, previous.into())
    );
}

/// Runs the cluster until the first container of `pod` satisfies `f`.
fn until(c: &Cluster, pod: &str, f: impl Fn(&k8s_openapi::api::core::v1::ContainerStatus) -> bool) {
    for _ in 0..600 {
        cluster_run(c, 0.1);
        let obj = c.store().get::<Pod>("shop", pod).unwrap();
        let statuses = obj
            .status
            .clone()
            .and_then(|s| s.container_statuses)
            .unwrap_or_default();
        if statuses.first().is_some_and(&f) {
            return;
        }
    }
    panic!("{pod} never got there");
}

fn running(s: &k8s_openapi::api::core::v1::ContainerStatus) -> bool {
    s.state.as_ref().is_some_and(|s| s.running.is_some())
}

fn lines(body: &str) -> Vec<&str> {
    body.lines().collect()
}

#[tokio::test]
async fn tail_since_timestamps_and_limit() {
    let c = cluster(Arc::new(DefaultApp));
    cluster_pod(&c, "web-1", app_container("web:1", json!({})));
    cluster_run(&c, 30.0);
    let (code, all) = get(&c, "web-1", "").await.unwrap();
    assert_eq!(code, StatusCode::OK);
    let all = lines(&all);
    assert_eq!(all[..2], ["starting app version 1", "listening on :8080"]);
    assert!(
        all[2].starts_with("10.244.0.1 - - [22/Nov/2026:01:00:"),
        "{}",
        all[2]
    );
    assert!((25..32).contains(&all.len()), "{} lines", all.len());

    let (_, tail) = get(&c, "web-1", "tailLines=3").await.unwrap();
    assert_eq!(lines(&tail), all[all.len() - 3..]);
    assert_eq!(get(&c, "web-1", "tailLines=0").await.unwrap().1, "");

    let (_, stamped) = get(&c, "web-1", "timestamps=true&sinceSeconds=5")
        .await
        .unwrap();
    let now = c.now();
    let stamped = lines(&stamped);
    assert!((4..=6).contains(&stamped.len()), "{stamped:?}");
    for line in &stamped {
        let (ts, rest) = line.split_once(' ').unwrap();
        let ts: Timestamp = ts.parse().unwrap();
        assert!(ts >= now - SignedDuration::from_secs(5) && ts < now);
        assert!(all.contains(&rest));
    }
    let since = (now - SignedDuration::from_secs(10)).to_string();
    let (_, recent) = get(&c, "web-1", &format!("sinceTime={since}"))
        .await
        .unwrap();
    assert!((9..=11).contains(&lines(&recent).len()));

    let (_, limited) = get(&c, "web-1", "limitBytes=10").await.unwrap();
    assert_eq!(limited, "starting a");
}

#[tokio::test]
async fn previous_and_crash_looping_containers_show_the_crash() {
    let c = cluster(Arc::new(DefaultApp));
    cluster_pod(&c, "web-1", app_container("web:crash", json!({})));
    until(&c, "web-1", |s| s.restart_count == 1 && running(s));
    let (_, previous) = get(&c, "web-1", "previous=true").await.unwrap();
    let previous = lines(&previous);
    assert_eq!(previous.first(), Some(&"starting app version crash"));
    assert_eq!(
        previous.last(),
        Some(&"ConnectionError: cannot reach cache at redis://cache:6379/0")
    );
    let (_, current) = get(&c, "web-1", "").await.unwrap();
    assert!(
        !current.contains("Traceback"),
        "the running instance has not crashed yet"
    );

    // Waiting in CrashLoopBackOff: the current log is the instance that just crashed.
    until(&c, "web-1", |s| {
        s.state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref())
            == Some("CrashLoopBackOff")
    });
    let (_, current) = get(&c, "web-1", "tailLines=1").await.unwrap();
    assert_eq!(
        current,
        "ConnectionError: cannot reach cache at redis://cache:6379/0\n"
    );
}

/// Reads frames until `n` arrived or the stream ended, advancing the simulated clock meanwhile.
async fn read_frames(
    c: &Arc<Cluster>,
    body: &mut Body,
    n: usize,
    secs: f64,
) -> (Vec<String>, bool) {
    let mut frames = Vec::new();
    for _ in 0..(secs * 2.0) as usize {
        cluster_run(c, 0.5);
        // Drain what the follower sent for this step (it polls every 100 ms of real time).
        while let Ok(frame) = tokio::time::timeout(Duration::from_millis(120), body.frame()).await {
            let Some(frame) = frame else {
                return (frames, true);
            };
            let data = frame.unwrap().into_data().unwrap();
            frames.push(String::from_utf8(data.to_vec()).unwrap());
            if frames.len() >= n {
                return (frames, false);
            }
        }
    }
    (frames, false)
}

#[tokio::test]
async fn follow_streams_one_line_per_chunk_until_the_container_ends() {
    let c = cluster(Arc::new(DefaultApp));
    cluster_pod(&c, "web-1", app_container("web:crash", json!({})));
    until(&c, "web-1", running);
    let resp = serve_log(
        Arc::clone(&c),
        "shop",
        "web-1",
        &Query::parse(Some("follow=true")),
    )
    .await
    .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/plain");
    let mut body = resp.into_body();
    let (frames, ended) = read_frames(&c, &mut body, 1000, 10.0).await;
    assert!(ended, "the stream ends with the container");
    assert!(
        frames
            .iter()
            .all(|f| f.ends_with('\n') && f.matches('\n').count() == 1)
    );
    assert_eq!(
        frames.last().unwrap(),
        "ConnectionError: cannot reach cache at redis://cache:6379/0\n"
    );

    // A healthy container streams until its pod is deleted.
    cluster_pod(&c, "web-2", app_container("web:1", json!({})));
    until(&c, "web-2", running);
    let resp = serve_log(
        Arc::clone(&c),
        "shop",
        "web-2",
        &Query::parse(Some("follow=true&tailLines=1")),
    )
    .await
    .unwrap();
    let mut body = resp.into_body();
    let (frames, ended) = read_frames(&c, &mut body, 4, 10.0).await;
    assert!(!ended && frames.len() == 4, "{frames:?}");
    let deadline = c.now() + SignedDuration::from_secs(30);
    c.write(|s, _| {
        s.mark_deleted::<Pod>("shop", "web-2", deadline, 30)
            .unwrap()
    });
    let (_, ended) = read_frames(&c, &mut body, 1000, 5.0).await;
    assert!(ended, "the stream ends when the pod goes");
}
