//! The template diff, line by line.

use serde_json::{Value, json};

use super::{Change, DiffLine, template_diff};

fn t(v: Value) -> k8s_openapi::api::core::v1::PodTemplateSpec {
    serde_json::from_value(v).expect("a pod template")
}

fn lines(from: Value, to: Value) -> Vec<(Change, String)> {
    template_diff(&t(from), &t(to))
        .into_iter()
        .map(|DiffLine { change, text }| (change, text))
        .collect()
}

fn base() -> Value {
    json!({
        "metadata": {"labels": {"app": "backend", "pod-template-hash": "abc"}},
        "spec": {"containers": [{
            "name": "app",
            "image": "arq/backend:2.4.1",
            "env": [
                {"name": "FEATURE_X", "value": "false"},
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
            ],
            "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "256Mi"}},
            "ports": [{"name": "http", "containerPort": 3001}],
            "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10}
        }]}
    })
}

use Change::{Added, Changed, Removed};

fn s(c: Change, text: &str) -> (Change, String) {
    (c, text.to_string())
}

#[test]
fn the_hash_label_alone_is_no_difference() {
    let mut other = base();
    other["metadata"]["labels"]["pod-template-hash"] = "zzz".into();
    assert_eq!(lines(base(), other), []);
    assert_eq!(lines(base(), base()), []);
}

#[test]
fn an_image_change_is_two_lines() {
    let mut to = base();
    to["spec"]["containers"][0]["image"] = "arq/backend:2.5.0".into();
    assert_eq!(
        lines(base(), to),
        [
            s(Removed, "image app: arq/backend:2.4.1"),
            s(Added, "image app: arq/backend:2.5.0")
        ]
    );
}

#[test]
fn env_changes_show_values_and_sources() {
    let mut to = base();
    to["spec"]["containers"][0]["env"] = json!([
        {"name": "FEATURE_X", "value": "true"},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-v2", "key": "password"}}},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    ]);
    assert_eq!(
        lines(base(), to),
        [
            s(Removed, "env app FEATURE_X=false"),
            s(Added, "env app FEATURE_X=true"),
            s(Removed, "env app DB_PASSWORD from secret db key password"),
            s(Added, "env app DB_PASSWORD from secret db-v2 key password"),
            s(Added, "env app POD from field metadata.name"),
        ]
    );
}

#[test]
fn resources_show_requests_and_limits() {
    let mut to = base();
    to["spec"]["containers"][0]["resources"] =
        json!({"requests": {"cpu": "100m"}, "limits": {"memory": "512Mi", "cpu": "1"}});
    assert_eq!(
        lines(base(), to),
        [
            s(Removed, "resources app limits.memory=256Mi"),
            s(Added, "resources app limits.memory=512Mi"),
            s(Added, "resources app limits.cpu=1"),
        ]
    );
}

#[test]
fn probes_show_handler_and_timings() {
    let mut to = base();
    to["spec"]["containers"][0]["readinessProbe"] = json!({"httpGet": {"path": "/health", "port": 3001}, "periodSeconds": 5, "failureThreshold": 6});
    to["spec"]["containers"][0]["livenessProbe"] =
        json!({"tcpSocket": {"port": 3001}, "initialDelaySeconds": 10});
    assert_eq!(
        lines(base(), to),
        [
            s(
                Removed,
                "probe app readiness: HTTP GET :3001/health every 10s"
            ),
            s(
                Added,
                "probe app readiness: HTTP GET :3001/health every 5s, 6 failures"
            ),
            s(Added, "probe app liveness: TCP :3001 every 10s, after 10s"),
        ]
    );
}

#[test]
fn a_restart_is_an_annotation_line() {
    let mut to = base();
    to["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/restartedAt": "2026-11-22T08:57:03Z"});
    assert_eq!(
        lines(base(), to),
        [s(
            Added,
            "annotation kubectl.kubernetes.io/restartedAt=2026-11-22T08:57:03Z"
        )]
    );
}

#[test]
fn other_fields_are_named_by_path() {
    let mut to = base();
    to["spec"]["containers"][0]["args"] = json!(["--verbose"]);
    to["spec"]["containers"][0]["readinessProbe"]["successThreshold"] = 2.into();
    to["spec"]["terminationGracePeriodSeconds"] = 60.into();
    assert_eq!(
        lines(base(), to),
        [s(
            Changed,
            "other fields changed: spec.containers[app].args, \
             spec.containers[app].readinessProbe.successThreshold, \
             spec.terminationGracePeriodSeconds"
        )]
    );
}

#[test]
fn a_new_container_is_its_lines_and_its_other_fields() {
    let mut to = base();
    to["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "proxy", "image": "envoy:1.30", "args": ["-c", "/etc/envoy.yaml"]}));
    assert_eq!(
        lines(base(), to),
        [
            s(Added, "image proxy: envoy:1.30"),
            s(Changed, "other fields changed: spec.containers[proxy]")
        ]
    );
}
