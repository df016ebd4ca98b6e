//! Fixtures for the app tests: pods as views, profiles from JSON, a World with faults, and
//! requests.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::profile::Profile;
use super::{App, AppRequest, AppResponse, FleetApp, PodView, Unreachable};
use crate::sim::world::{Fault, FaultKind, Target, World};

pub fn t0() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

/// `s` seconds after [`t0`].
pub fn at(s: f64) -> Timestamp {
    t0() + SignedDuration::from_secs_f64(s)
}

pub fn labels(app: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("app".to_string(), app.to_string())])
}

/// One container instance in namespace `shop`.
pub fn view<'a>(
    labels: &'a BTreeMap<String, String>,
    image: &'a str,
    container: &'a str,
    started: Timestamp,
    restarts: i32,
) -> PodView<'a> {
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    PodView {
        namespace: "shop",
        name: "api-7d9f-x2x4q",
        uid: "uid-1",
        labels,
        annotations: &EMPTY,
        container,
        image,
        started_at: started,
        restart_count: restarts,
        ended: None,
        seed: 7,
    }
}

pub fn profile(json: serde_json::Value) -> Profile {
    serde_json::from_value(json).expect("profile parses")
}

/// The catalog the tests use: arQ backend (api, arq style, postgres + redis), Arxos export
/// service (api, arxos style, postgres), a plain web frontend, a worker, postgres and redis.
pub fn catalog() -> Vec<(String, Profile)> {
    vec![
        (
            "ghcr.io/arq/arq-backend".into(),
            profile(serde_json::json!({
                "kind": "api", "health": "arq", "logs": "json",
                "depends-on": ["postgres", "redis"],
                "memory-limit-mib": 512.0,
                "versions": {"2.5.0": {"error-rate": 0.2}}
            })),
        ),
        (
            "arxos/export-service".into(),
            profile(serde_json::json!({
                "kind": "api", "health": "arxos", "logs": "text",
                "depends-on": ["postgres"]
            })),
        ),
        (
            "shop/web".into(),
            profile(serde_json::json!({"kind": "web", "health": "plain", "logs": "text"})),
        ),
        (
            "code/worker".into(),
            profile(serde_json::json!({
                "kind": "worker", "health": "plain", "logs": "json", "depends-on": ["redis"]
            })),
        ),
        (
            "postgres".into(),
            profile(serde_json::json!({"kind": "postgres"})),
        ),
        (
            "redis".into(),
            profile(serde_json::json!({"kind": "redis"})),
        ),
    ]
}

pub fn fleet(world: Arc<World>) -> FleetApp {
    FleetApp::new(catalog(), world)
}

pub fn fault(name: &str, kind: FaultKind, from: f64, until: Option<f64>) -> Fault {
    Fault {
        target: Target::new("shop", name),
        kind,
        from: at(from),
        until: until.map(at),
    }
}

pub fn request<'a>(
    path: &'a str,
    headers: &'a http::HeaderMap,
    method: &'a http::Method,
) -> AppRequest<'a> {
    AppRequest {
        method,
        path,
        query: None,
        headers,
        body: b"",
        port: 8080,
    }
}

pub fn get(
    app: &dyn App,
    pod: &PodView<'_>,
    path: &str,
    now: Timestamp,
) -> Result<AppResponse, Unreachable> {
    let headers = http::HeaderMap::new();
    app.http(pod, &request(path, &headers, &http::Method::GET), now)
}

pub fn get_json(
    app: &dyn App,
    pod: &PodView<'_>,
    path: &str,
    now: Timestamp,
) -> (u16, serde_json::Value) {
    let r = get(app, pod, path, now).expect("answers");
    let v = serde_json::from_slice(&r.body).expect("JSON body");
    (r.status, v)
}

/// The metrics page in the text format.
pub fn scrape(app: &dyn App, pod: &PodView<'_>, path: &str, now: Timestamp) -> String {
    let r = get(app, pod, path, now).expect("metrics answer");
    assert_eq!(r.status, 200);
    String::from_utf8(r.body.to_vec()).expect("utf-8")
}

/// The value of the sample `name{labels}` (labels as written, `""` for none) in a text page.
pub fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (s, v) = l.rsplit_once(' ')?;
        (s == series).then(|| v.parse().ok())?
    })
}

/// The sum of the samples of `name` whose labels contain every one of `having`.
pub fn sum(page: &str, name: &str, having: &[&str]) -> f64 {
    page.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(s, _)| {
            (s == &name || s.starts_with(&format!("{name}{{")))
                && having.iter().all(|h| s.contains(h))
        })
        .filter_map(|(_, v)| v.parse::<f64>().ok())
        .sum()
}

/// The instance ended as it says it would.
pub fn ended_own_way<'a>(app: &FleetApp, pod: &PodView<'a>) -> PodView<'a> {
    let mut p = *pod;
    p.ended = app.next_exit(pod, pod.started_at);
    p
}
