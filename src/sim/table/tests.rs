//! What `kubectl get` would show for realistic objects, cell by cell.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod, ResourceQuota, Service};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::*;

fn now() -> Timestamp {
    "2025-06-01T12:00:00Z".parse().unwrap()
}

/// An RFC 3339 time `secs` seconds before [`now`].
fn ago(secs: i64) -> String {
    (now() - SignedDuration::from_secs(secs)).to_string()
}

fn from<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("valid object")
}

fn cells<T: Printable>(obj: &T) -> Vec<Value> {
    let cells = obj.cells(now());
    assert_eq!(
        cells.len(),
        T::column_definitions().len(),
        "one cell per column"
    );
    cells
}

/// The cells as kubectl prints them: strings as is, numbers in decimal.
fn texts<T: Printable>(obj: &T) -> Vec<String> {
    cells(obj)
        .into_iter()
        .map(|c| match c {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .collect()
}

fn column_names<T: Printable>() -> Vec<(&'static str, i32)> {
    T::column_definitions()
        .iter()
        .map(|c| (c.name, c.priority))
        .collect()
}

// ---- Pod -----------------------------------------------------------------------------------

fn pod(spec: Value, status: Value) -> Pod {
    from(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-7d4b9c-x2x9z",
            "namespace": "shop",
            "uid": "0b4f3c1e-1111-4c2a-9d55-000000000001",
            "resourceVersion": "4711",
            "creationTimestamp": ago(5 * 60),
            "labels": {"app": "web"},
        },
        "spec": spec,
        "status": status,
    }))
}

fn one_container() -> Value {
    json!({"containers": [{"name": "web", "image": "nginx:1.27"}], "nodeName": "node-1"})
}

fn running_status(restarts: i32) -> Value {
    json!({
        "phase": "Running",
        "podIP": "10.244.1.7",
        "podIPs": [{"ip": "10.244.1.7"}],
        "conditions": [
            {"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": "True"},
            {"type": "PodScheduled", "status": "True"},
        ],
        "containerStatuses": [{
            "name": "web", "image": "nginx:1.27", "imageID": "", "ready": true,
            "restartCount": restarts, "started": true,
            "state": {"running": {"startedAt": ago(240)}},
        }],
    })
}

#[test]
fn pod_columns_match_the_server() {
    assert_eq!(
        column_names::<Pod>(),
        [
            ("Name", 0),
            ("Ready", 0),
            ("Status", 0),
            ("Restarts", 0),
            ("Age", 0),
            ("IP", 1),
            ("Node", 1),
            ("Nominated Node", 1),
            ("Readiness Gates", 1),
        ]
    );
    let cols = Pod::column_definitions();
    assert_eq!(cols[0].format, "name");
    assert_eq!(cols[3].type_, "string", "RESTARTS carries '3 (2m5s ago)'");
}

#[test]
fn running_pod() {
    let p = pod(one_container(), running_status(0));
    assert_eq!(
        texts(&p),
        [
            "web-7d4b9c-x2x9z",
            "1/1",
            "Running",
            "0",
            "5m",
            "10.244.1.7",
            "node-1",
            "<none>",
            "<none>"
        ]
    );
    assert!(p.row_conditions().is_empty());
}

#[test]
fn crash_looping_pod_shows_back_off_and_last_restart() {
    let p = pod(
        one_container(),
        json!({
            "phase": "Running",
            "podIPs": [{"ip": "10.244.1.8"}],
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{
                "name": "web", "image": "nginx:1.27", "imageID": "", "ready": false,
                "restartCount": 4, "started": false,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 1m20s"}},
                "lastState": {"terminated": {
                    "exitCode": 1, "reason": "Error",
                    "startedAt": ago(40), "finishedAt": ago(35),
                }},
            }],
        }),
    );
    let t = texts(&p);
    assert_eq!(t[1..4], ["0/1", "CrashLoopBackOff", "4 (35s ago)"]);
}

#[test]
fn restarts_age_comes_from_the_newest_termination() {
    let p = pod(
        json!({"containers": [{"name": "a"}, {"name": "b"}]}),
        json!({
            "phase": "Running",
            "containerStatuses": [
                {"name": "a", "image": "", "imageID": "", "ready": true, "restartCount": 1,
                 "state": {"running": {}},
                 "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(3600)}}},
                {"name": "b", "image": "", "imageID": "", "ready": true, "restartCount": 2,
                 "state": {"running": {}},
                 "lastState": {"terminated": {"exitCode": 137, "finishedAt": ago(125)}}},
            ],
        }),
    );
    assert_eq!(texts(&p)[1..4], ["2/2", "Running", "3 (2m5s ago)"]);
}

#[test]
fn terminating_pod() {
    let mut p = pod(one_container(), running_status(0));
    p.metadata.deletion_timestamp = Some(Time(now() - SignedDuration::from_secs(3)));
    assert_eq!(texts(&p)[2], "Terminating");
}

#[test]
fn deleted_pod_on_a_lost_node_is_unknown() {
    let mut status = running_status(0);
    status["reason"] = json!("NodeLost");
    let mut p = pod(one_container(), status);
    p.metadata.deletion_timestamp = Some(Time(now()));
    assert_eq!(texts(&p)[2], "Unknown");
}

#[test]
fn finished_pods_are_not_terminating_and_carry_a_completed_condition() {
    let terminated = |reason: &str, code: i32| {
        json!({
            "name": "job", "image": "", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": code, "reason": reason, "finishedAt": ago(60)}},
        })
    };
    let mut ok = pod(
        one_container(),
        json!({"phase": "Succeeded", "containerStatuses": [terminated("Completed", 0)]}),
    );
    ok.metadata.deletion_timestamp = Some(Time(now()));
    assert_eq!(texts(&ok)[1..4], ["0/1", "Completed", "0"]);
    assert_eq!(
        ok.row_conditions(),
        [
            json!({"type": "Completed", "status": "True", "reason": "Succeeded",
                "message": "The pod has completed successfully."})
        ]
    );

    let failed = pod(
        one_container(),
        json!({"phase": "Failed", "containerStatuses": [terminated("Error", 2)]}),
    );
    assert_eq!(texts(&failed)[2], "Error");
    assert_eq!(failed.row_conditions()[0]["reason"], "Failed");
}

#[test]
fn terminated_container_reasons() {
    let with_state = |state: Value| {
        pod(
            one_container(),
            json!({"phase": "Running", "containerStatuses": [{
                "name": "web", "image": "", "imageID": "", "ready": false, "restartCount": 1,
                "state": state,
            }]}),
        )
    };
    let oom = with_state(json!({"terminated": {"exitCode": 137, "reason": "OOMKilled"}}));
    assert_eq!(texts(&oom)[2], "OOMKilled");
    let signal = with_state(json!({"terminated": {"exitCode": 0, "signal": 9}}));
    assert_eq!(texts(&signal)[2], "Signal:9");
    let code = with_state(json!({"terminated": {"exitCode": 3}}));
    assert_eq!(texts(&code)[2], "ExitCode:3");
    let creating = with_state(json!({"waiting": {"reason": "ContainerCreating"}}));
    assert_eq!(texts(&creating)[1..3], ["0/1", "ContainerCreating"]);
    let pulling = with_state(json!({"waiting": {"reason": "ImagePullBackOff"}}));
    assert_eq!(texts(&pulling)[2], "ImagePullBackOff");
}

#[test]
fn pending_pod_without_statuses_shows_its_phase() {
    let p = pod(
        json!({"containers": [{"name": "web"}]}),
        json!({"phase": "Pending"}),
    );
    assert_eq!(
        texts(&p)[1..],
        [
            "0/1", "Pending", "0", "5m", "<none>", "<none>", "<none>", "<none>"
        ]
    );
}

#[test]
fn scheduling_gated_pod() {
    let p = pod(
        one_container(),
        json!({"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"},
        ]}),
    );
    assert_eq!(texts(&p)[2], "SchedulingGated");
}

fn init_pod(init_state: Value, init_restarts: i32) -> Pod {
    pod(
        json!({
            "initContainers": [{"name": "migrate", "image": "migrate:1"}],
            "containers": [{"name": "web", "image": "nginx:1.27"}],
        }),
        json!({
            "phase": "Pending",
            "conditions": [{"type": "Initialized", "status": "False"}],
            "initContainerStatuses": [{
                "name": "migrate", "image": "migrate:1", "imageID": "", "ready": false,
                "restartCount": init_restarts, "state": init_state,
            }],
            "containerStatuses": [{
                "name": "web", "image": "nginx:1.27", "imageID": "", "ready": false,
                "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}},
            }],
        }),
    )
}

#[test]
fn init_container_states() {
    let running = init_pod(json!({"running": {"startedAt": ago(10)}}), 0);
    assert_eq!(texts(&running)[1..4], ["0/1", "Init:0/1", "0"]);
    let initializing = init_pod(json!({"waiting": {"reason": "PodInitializing"}}), 0);
    assert_eq!(texts(&initializing)[2], "Init:0/1");
    let crash = init_pod(json!({"waiting": {"reason": "CrashLoopBackOff"}}), 3);
    assert_eq!(texts(&crash)[2..4], ["Init:CrashLoopBackOff", "3"]);
    let error = init_pod(json!({"terminated": {"exitCode": 1, "reason": "Error"}}), 0);
    assert_eq!(texts(&error)[2], "Init:Error");
    let code = init_pod(json!({"terminated": {"exitCode": 2}}), 0);
    assert_eq!(texts(&code)[2], "Init:ExitCode:2");
    let signal = init_pod(json!({"terminated": {"exitCode": 0, "signal": 15}}), 0);
    assert_eq!(
        texts(&signal)[2],
        "PodInitializing",
        "exit code 0 counts as done, so the app container's reason shows"
    );
}

fn sidecar_pod(ready_condition: &str) -> Pod {
    pod(
        json!({
            "initContainers": [{"name": "proxy", "image": "envoy:1", "restartPolicy": "Always"}],
            "containers": [{"name": "job", "image": "batch:1"}],
        }),
        json!({
            "phase": "Running",
            "conditions": [
                {"type": "Initialized", "status": "True"},
                {"type": "Ready", "status": ready_condition},
            ],
            "initContainerStatuses": [{
                "name": "proxy", "image": "envoy:1", "imageID": "", "ready": true,
                "restartCount": 2, "started": true, "state": {"running": {}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(90)}},
            }],
            "containerStatuses": [{
                "name": "job", "image": "batch:1", "imageID": "", "ready": true,
                "restartCount": 0, "state": {"running": {}},
            }],
        }),
    )
}

#[test]
fn sidecars_count_towards_ready_and_restarts() {
    let p = sidecar_pod("True");
    assert_eq!(texts(&p)[1..4], ["2/2", "Running", "2 (90s ago)"]);
}

#[test]
fn completed_main_container_with_running_sidecar_is_not_completed() {
    let with = |ready: &str, second_running: bool| {
        let mut p = sidecar_pod(ready);
        let status = p.status.as_mut().unwrap();
        // A second app container keeps running while the first has completed.
        let mut statuses = vec![from(json!({
            "name": "job", "image": "", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
        }))];
        if second_running {
            statuses.push(from(json!({
                "name": "worker", "image": "", "imageID": "", "ready": true, "restartCount": 0,
                "state": {"running": {}},
            })));
        }
        status.container_statuses = Some(statuses);
        p
    };
    assert_eq!(texts(&with("True", true))[2], "Running");
    assert_eq!(texts(&with("False", true))[2], "NotReady");
    assert_eq!(texts(&with("False", false))[2], "Completed");
}

#[test]
fn readiness_gates_and_nominated_node() {
    let mut spec = one_container();
    spec["readinessGates"] = json!([
        {"conditionType": "example.com/lb-ready"},
        {"conditionType": "example.com/dns-ready"},
    ]);
    let mut status = running_status(0);
    status["nominatedNodeName"] = json!("node-2");
    status["conditions"]
        .as_array_mut()
        .unwrap()
        .extend([json!({"type": "example.com/lb-ready", "status": "True"})]);
    let p = pod(spec, status);
    assert_eq!(texts(&p)[7..], ["node-2", "1/2"]);
}

#[test]
fn pod_ip_prefers_the_singular_field() {
    let mut status = running_status(0);
    status["podIPs"] = json!([]);
    assert_eq!(texts(&pod(one_container(), status))[5], "10.244.1.7");
    let mut status = running_status(0);
    status["podIP"] = json!(null);
    status["podIPs"] = json!([{"ip": "fd00::7"}, {"ip": "10.244.1.9"}]);
    assert_eq!(texts(&pod(one_container(), status))[5], "fd00::7");
}

// ---- Deployment, ReplicaSet ----------------------------------------------------------------

fn deployment() -> Deployment {
    from(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "creationTimestamp": ago(3 * 86400 + 4 * 3600)},
        "spec": {
            "replicas": 3,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend", "backend"]}],
            },
            "template": {
                "metadata": {"labels": {"app": "web", "tier": "frontend"}},
                "spec": {"containers": [
                    {"name": "web", "image": "nginx:1.27"},
                    {"name": "metrics", "image": "prom/exporter:0.15"},
                ]},
            },
        },
        "status": {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2},
    }))
}

#[test]
fn deployment_row() {
    assert_eq!(
        column_names::<Deployment>(),
        [
            ("Name", 0),
            ("Ready", 0),
            ("Up-to-date", 0),
            ("Available", 0),
            ("Age", 0),
            ("Containers", 1),
            ("Images", 1),
            ("Selector", 1)
        ]
    );
    let d = deployment();
    let c = cells(&d);
    assert_eq!(c[1], "2/3");
    assert_eq!(c[2], json!(3), "UP-TO-DATE is an int64 cell");
    assert_eq!(c[3], json!(2));
    assert_eq!(c[4], "3d4h");
    assert_eq!(c[5], "web,metrics");
    assert_eq!(c[6], "nginx:1.27,prom/exporter:0.15");
    assert_eq!(c[7], "app=web,tier in (backend,frontend)");
}

#[test]
fn new_deployment_without_status() {
    let mut d = deployment();
    d.status = None;
    d.spec.as_mut().unwrap().replicas = None;
    d.spec.as_mut().unwrap().selector = Default::default();
    assert_eq!(texts(&d)[1..4], ["0/1", "0", "0"]);
    assert_eq!(
        texts(&d)[7],
        "",
        "an empty selector prints empty for deployments"
    );
}

#[test]
fn replicaset_row() {
    let rs: ReplicaSet = from(json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web-7d4b9c", "namespace": "shop", "creationTimestamp": ago(600)},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d4b9c"}},
            "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}},
        },
        "status": {"replicas": 3, "readyReplicas": 1},
    }));
    assert_eq!(
        column_names::<ReplicaSet>(),
        [
            ("Name", 0),
            ("Desired", 0),
            ("Current", 0),
            ("Ready", 0),
            ("Age", 0),
            ("Containers", 1),
            ("Images", 1),
            ("Selector", 1)
        ]
    );
    assert_eq!(
        cells(&rs),
        [
            json!("web-7d4b9c"),
            json!(3),
            json!(3),
            json!(1),
            json!("10m"),
            json!("web"),
            json!("nginx:1.27"),
            json!("app=web,pod-template-hash=7d4b9c"),
        ]
    );
}

#[test]
fn label_selector_rendering() {
    let sel = |v: Value| -> LabelSelector { from(v) };
    assert_eq!(format_label_selector(None), "<none>");
    assert_eq!(format_label_selector(Some(&sel(json!({})))), "<none>");
    assert_eq!(
        format_label_selector(Some(&sel(json!({"matchExpressions": [
            {"key": "zone", "operator": "NotIn", "values": ["b", "a"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "app", "operator": "Exists"},
        ]})))),
        "app,!canary,zone notin (a,b)"
    );
    assert_eq!(
        format_label_selector(Some(&sel(json!({"matchExpressions": [
            {"key": "zone", "operator": "In", "values": []},
        ]})))),
        "<error>"
    );
    assert_eq!(
        selector_string(Some(&sel(
            json!({"matchExpressions": [{"key": "a", "operator": "Near"}]})
        ))),
        Err(())
    );
}

// ---- HPA -----------------------------------------------------------------------------------

fn hpa(metrics: Value, current: Value) -> HorizontalPodAutoscaler {
    from(json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "shop", "creationTimestamp": ago(2 * 3600)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": metrics,
        },
        "status": {"currentReplicas": 3, "desiredReplicas": 3, "currentMetrics": current},
    }))
}

fn cpu_target(pct: i32) -> Value {
    json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": pct}}})
}

#[test]
fn hpa_row() {
    assert_eq!(
        column_names::<HorizontalPodAutoscaler>(),
        [
            ("Name", 0),
            ("Reference", 0),
            ("Targets", 0),
            ("MinPods", 0),
            ("MaxPods", 0),
            ("Replicas", 0),
            ("Age", 0)
        ]
    );
    let h = hpa(
        json!([cpu_target(70)]),
        json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 45, "averageValue": "90m"}}}]),
    );
    assert_eq!(
        cells(&h),
        [
            json!("web"),
            json!("Deployment/web"),
            json!("cpu: 45%/70%"),
            json!("2"),
            json!(10),
            json!(3),
            json!("120m"), // HumanDuration keeps minutes up to three hours
        ]
    );
}

#[test]
fn hpa_targets_formatting() {
    let targets = |metrics: Value, current: Value| texts(&hpa(metrics, current))[2].clone();
    assert_eq!(
        targets(json!([cpu_target(70)]), json!(null)),
        "cpu: <unknown>/70%"
    );
    let memory_avg = json!({"type": "Resource", "resource": {"name": "memory",
        "target": {"type": "AverageValue", "averageValue": "500Mi"}}});
    let pods = json!({"type": "Pods", "pods": {"metric": {"name": "rps"},
        "target": {"type": "AverageValue", "averageValue": "100"}}});
    let external = json!({"type": "External", "external": {"metric": {"name": "queue"},
        "target": {"type": "Value", "value": "30"}}});
    assert_eq!(
        targets(
            json!([memory_avg, pods]),
            json!([
                {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "200Mi"}}},
                {"type": "Pods", "pods": {"metric": {"name": "rps"}, "current": {"averageValue": "42"}}},
            ])
        ),
        "memory: 200Mi/500Mi, 42/100"
    );
    assert_eq!(
        targets(json!([cpu_target(70), memory_avg, external]), json!([])),
        "cpu: <unknown>/70%, memory: <unknown>/500Mi + 1 more..."
    );
    let object_avg = json!({"type": "Object", "object": {"metric": {"name": "hits"},
        "describedObject": {"kind": "Ingress", "name": "main"},
        "target": {"type": "AverageValue", "averageValue": "10"}}});
    assert_eq!(
        targets(json!([object_avg]), json!([])),
        "<unknown>/10 (avg)"
    );
}

#[test]
fn hpa_without_metrics_or_min_shows_the_api_defaults() {
    let mut h = hpa(json!(null), json!(null));
    h.spec.as_mut().unwrap().min_replicas = None;
    assert_eq!(texts(&h)[2..4], ["cpu: <unknown>/80%", "1"]);
}

// ---- Namespace, Node, Service, Event -------------------------------------------------------

#[test]
fn namespace_row() {
    assert_eq!(
        column_names::<Namespace>(),
        [("Name", 0), ("Status", 0), ("Age", 0)]
    );
    let ns: Namespace = from(json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "shop", "creationTimestamp": ago(45 * 86400 + 3600)},
        "status": {"phase": "Active"},
    }));
    assert_eq!(texts(&ns), ["shop", "Active", "45d"]);
    let mut gone = ns.clone();
    gone.status.as_mut().unwrap().phase = Some("Terminating".into());
    assert_eq!(texts(&gone)[1], "Terminating");
}

fn node(ready: Option<&str>, unschedulable: bool) -> Node {
    let conditions: Vec<Value> = [
        Some(json!({"type": "MemoryPressure", "status": "False"})),
        ready.map(|r| json!({"type": "Ready", "status": r})),
    ]
    .into_iter()
    .flatten()
    .collect();
    from(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": "node-1",
            "creationTimestamp": ago(400 * 86400),
            "labels": {
                "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/etcd": "true",
                "kubernetes.io/role": "master",
                "kubernetes.io/hostname": "node-1",
            },
        },
        "spec": {"unschedulable": unschedulable},
        "status": {
            "conditions": conditions,
            "addresses": [
                {"type": "Hostname", "address": "node-1"},
                {"type": "InternalIP", "address": "172.18.0.2"},
            ],
            "nodeInfo": {
                "architecture": "amd64", "bootID": "", "containerRuntimeVersion": "containerd://1.7.24",
                "kernelVersion": "6.8.0-45-generic", "kubeProxyVersion": "", "kubeletVersion": "v1.33.1",
                "machineID": "", "operatingSystem": "linux", "osImage": "", "systemUUID": "",
            },
        },
    }))
}

#[test]
fn node_row() {
    assert_eq!(
        column_names::<Node>(),
        [
            ("Name", 0),
            ("Status", 0),
            ("Roles", 0),
            ("Age", 0),
            ("Version", 0),
            ("Internal-IP", 1),
            ("External-IP", 1),
            ("OS-Image", 1),
            ("Kernel-Version", 1),
            ("Container-Runtime", 1)
        ]
    );
    assert_eq!(
        texts(&node(Some("True"), false)),
        [
            "node-1",
            "Ready",
            "control-plane,etcd,master",
            "400d",
            "v1.33.1",
            "172.18.0.2",
            "<none>",
            "<unknown>",
            "6.8.0-45-generic",
            "containerd://1.7.24"
        ]
    );
    assert_eq!(
        texts(&node(Some("Unknown"), true))[1],
        "NotReady,SchedulingDisabled"
    );
    assert_eq!(texts(&node(None, false))[1], "Unknown");
    let mut plain = node(Some("True"), false);
    plain.metadata.labels = None;
    assert_eq!(texts(&plain)[2], "<none>");
}

#[test]
fn resource_quota_rows() {
    assert_eq!(
        column_names::<ResourceQuota>(),
        [("Name", 0), ("Age", 0), ("Request", 0), ("Limit", 0)]
    );
    let quota: ResourceQuota = from(json!({
        "apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": {"name": "compute-resources", "namespace": "arxos-apps", "creationTimestamp": ago(300)},
        "spec": {"hard": {"requests.cpu": "16", "requests.memory": "32Gi", "limits.memory": "64Gi", "pods": "50"}},
        "status": {
            "hard": {"requests.cpu": "16", "requests.memory": "32Gi", "limits.memory": "64Gi", "pods": "50"},
            "used": {"requests.cpu": "500m", "requests.memory": "896Mi", "pods": "5"}
        }
    }));
    assert_eq!(
        texts(&quota),
        [
            "compute-resources",
            "5m",
            "pods: 5/50, requests.cpu: 500m/16, requests.memory: 896Mi/32Gi",
            "limits.memory: 0/64Gi"
        ]
    );
    // Before the quota controller has filled the status, both sides print 0.
    let fresh: ResourceQuota = from(json!({
        "apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": {"name": "q", "namespace": "x", "creationTimestamp": ago(3)},
        "spec": {"hard": {"cpu": "4"}}
    }));
    assert_eq!(texts(&fresh), ["q", "3s", "cpu: 0/0", ""]);
}

fn service(spec: Value, status: Value) -> Service {
    from(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "svc", "namespace": "shop", "creationTimestamp": ago(90)},
        "spec": spec,
        "status": status,
    }))
}

#[test]
fn service_rows() {
    assert_eq!(
        column_names::<Service>(),
        [
            ("Name", 0),
            ("Type", 0),
            ("Cluster-IP", 0),
            ("External-IP", 0),
            ("Port(s)", 0),
            ("Age", 0),
            ("Selector", 1)
        ]
    );
    let dns = service(
        json!({
            "type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP"},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                {"name": "metrics", "port": 9153, "protocol": "TCP"},
            ],
            "selector": {"k8s-app": "kube-dns"},
        }),
        json!({}),
    );
    assert_eq!(
        texts(&dns),
        [
            "svc",
            "ClusterIP",
            "10.96.0.10",
            "<none>",
            "53/UDP,53/TCP,9153/TCP",
            "90s",
            "k8s-app=kube-dns"
        ]
    );

    let node_port = service(
        json!({"type": "NodePort", "clusterIPs": ["10.96.4.2"],
               "ports": [{"port": 80, "nodePort": 30080}]}),
        json!({}),
    );
    assert_eq!(texts(&node_port)[3..5], ["<none>", "80:30080/TCP"]);
    assert_eq!(texts(&node_port)[6], "<none>");

    let pending = service(
        json!({"type": "LoadBalancer", "clusterIPs": ["10.96.7.1"], "ports": [{"port": 443, "protocol": "TCP", "nodePort": 31443}]}),
        json!({"loadBalancer": {}}),
    );
    assert_eq!(texts(&pending)[3], "<pending>");

    let long_hostname = "a1b2c3d4e5f6-1234567890.eu-west-1.elb.amazonaws.com";
    let lb = service(
        json!({"type": "LoadBalancer", "clusterIPs": ["10.96.7.1"], "externalIPs": ["198.51.100.9"]}),
        json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}, {"hostname": long_hostname}]}}),
    );
    assert_eq!(
        texts(&lb)[3],
        format!("203.0.113.7,{long_hostname},198.51.100.9"),
        "the server prints wide, so nothing is clipped"
    );
    assert_eq!(texts(&lb)[4], "<none>");

    let headless = service(
        json!({"clusterIP": "None", "ports": [{"port": 5432}]}),
        json!({}),
    );
    assert_eq!(
        texts(&headless)[1..5],
        ["ClusterIP", "None", "<none>", "5432/TCP"]
    );

    let external = service(
        json!({"type": "ExternalName", "externalName": "db.example.com"}),
        json!({}),
    );
    assert_eq!(
        texts(&external)[1..5],
        ["ExternalName", "<none>", "db.example.com", "<none>"]
    );
}

fn event(v: Value) -> Event {
    let mut base = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "web-7d4b9c-x2x9z.17f3a9c1b2", "namespace": "shop", "creationTimestamp": ago(300)},
        "involvedObject": {"kind": "Pod", "name": "web-7d4b9c-x2x9z", "namespace": "shop",
                           "fieldPath": "spec.containers{web}"},
    });
    for (k, val) in v.as_object().unwrap() {
        base[k] = val.clone();
    }
    from(base)
}

#[test]
fn event_rows() {
    assert_eq!(
        column_names::<Event>(),
        [
            ("Last Seen", 0),
            ("Type", 0),
            ("Reason", 0),
            ("Object", 0),
            ("Subobject", 1),
            ("Source", 1),
            ("Message", 0),
            ("First Seen", 1),
            ("Count", 1),
            ("Name", 1)
        ]
    );
    assert_eq!(Event::column_definitions()[9].format, "name");

    let back_off = event(json!({
        "type": "Warning", "reason": "BackOff",
        "message": "Back-off restarting failed container web in pod web-7d4b9c-x2x9z_shop(0b4f)\n",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": ago(300), "lastTimestamp": ago(12), "count": 14,
    }));
    assert_eq!(
        cells(&back_off),
        [
            json!("12s"),
            json!("Warning"),
            json!("BackOff"),
            json!("pod/web-7d4b9c-x2x9z"),
            json!("spec.containers{web}"),
            json!("kubelet, node-1"),
            json!("Back-off restarting failed container web in pod web-7d4b9c-x2x9z_shop(0b4f)"),
            json!("5m"),
            json!(14),
            json!("web-7d4b9c-x2x9z.17f3a9c1b2"),
        ]
    );

    // Written through events.k8s.io: only eventTime, reporting fields, and a series.
    let series = event(json!({
        "type": "Normal", "reason": "ScalingReplicaSet", "message": "Scaled up",
        "involvedObject": {"kind": "Deployment", "name": "web"},
        "eventTime": "2025-06-01T11:50:00.000000Z",
        "reportingComponent": "deployment-controller",
        "series": {"count": 3, "lastObservedTime": "2025-06-01T11:59:00.500000Z"},
    }));
    let t = texts(&series);
    assert_eq!(t[0], "59s");
    assert_eq!(t[3], "deployment/web");
    assert_eq!(t[4], "");
    assert_eq!(t[5], "deployment-controller");
    assert_eq!(t[7..9], ["10m", "3"]);

    let bare = event(json!({"involvedObject": {"kind": "Node"}}));
    let t = texts(&bare);
    assert_eq!(t[0], "<unknown>");
    assert_eq!(t[3], "node");
    assert_eq!(t[7..9], ["<unknown>", "1"], "a singleton has count 1");
}

// ---- the Table itself ----------------------------------------------------------------------

#[test]
fn include_object_parsing() {
    assert_eq!(IncludeObject::parse(None), Ok(IncludeObject::Metadata));
    assert_eq!(IncludeObject::parse(Some("")), Ok(IncludeObject::Metadata));
    assert_eq!(
        IncludeObject::parse(Some("Metadata")),
        Ok(IncludeObject::Metadata)
    );
    assert_eq!(IncludeObject::parse(Some("None")), Ok(IncludeObject::None));
    assert_eq!(
        IncludeObject::parse(Some("Object")),
        Ok(IncludeObject::Object)
    );
    assert_eq!(
        IncludeObject::parse(Some("unrecognized")),
        Err(
            "includeObject: Invalid value: \"unrecognized\": must be 'Metadata', 'Object', 'None', or empty"
                .to_owned()
        )
    );
}

#[test]
fn list_table_with_partial_object_metadata() {
    let a = pod(one_container(), running_status(0));
    let mut b = a.clone();
    b.metadata.name = Some("web-7d4b9c-abcde".into());
    let t = table(
        &[&a, &b],
        now(),
        IncludeObject::Metadata,
        "4800",
        Some("eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ"),
    );
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(
        t["metadata"],
        json!({"resourceVersion": "4800", "continue": "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ"})
    );
    assert_eq!(
        t["columnDefinitions"][0],
        json!({"name": "Name", "type": "string", "format": "name", "description": NAME_DESC, "priority": 0})
    );
    assert_eq!(t["columnDefinitions"][5]["priority"], 1);
    assert_eq!(t["columnDefinitions"][4]["format"], "");

    let rows = t["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["cells"][0], "web-7d4b9c-abcde");
    assert!(rows[0].get("conditions").is_none());
    let obj = &rows[0]["object"];
    assert_eq!(obj["kind"], "PartialObjectMetadata");
    assert_eq!(obj["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(obj["metadata"]["name"], "web-7d4b9c-x2x9z");
    assert_eq!(obj["metadata"]["namespace"], "shop");
    assert_eq!(obj["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(obj["metadata"]["resourceVersion"], "4711");
    assert!(obj.get("spec").is_none());
}

#[test]
fn table_object_and_none_modes() {
    let d = deployment();
    let full = table(&[&d], now(), IncludeObject::Object, "9", None);
    assert_eq!(full["metadata"], json!({"resourceVersion": "9"}));
    let obj = &full["rows"][0]["object"];
    assert_eq!(obj["kind"], "Deployment");
    assert_eq!(obj["apiVersion"], "apps/v1");
    assert_eq!(obj["spec"]["replicas"], 3);

    let none = table(&[&d], now(), IncludeObject::None, "9", None);
    let row = none["rows"][0].as_object().unwrap();
    assert_eq!(row["object"], Value::Null);
    assert_eq!(row["cells"][1], "2/3");

    let empty = table::<Deployment>(&[], now(), IncludeObject::Metadata, "", None);
    assert_eq!(empty["metadata"], json!({}));
    assert_eq!(empty["rows"], json!([]));
    assert_eq!(empty["columnDefinitions"].as_array().unwrap().len(), 8);
}

#[test]
fn single_object_table_and_watch_events() {
    let mut p = pod(
        one_container(),
        json!({"phase": "Succeeded", "containerStatuses": [{
            "name": "web", "image": "", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
        }]}),
    );
    p.metadata.resource_version = Some("5120".into());
    let first = table_for_object(&p, now(), IncludeObject::Metadata, true);
    assert_eq!(first["metadata"], json!({"resourceVersion": "5120"}));
    assert_eq!(first["columnDefinitions"].as_array().unwrap().len(), 9);
    assert_eq!(first["rows"][0]["conditions"][0]["type"], "Completed");

    let later = table_for_object(&p, now(), IncludeObject::Metadata, false);
    assert_eq!(later["columnDefinitions"], Value::Null);
    assert_eq!(later["rows"][0]["cells"][2], "Completed");
}

#[test]
fn every_kind_has_a_name_column_and_wide_columns_last_or_flagged() {
    fn check<T: Printable>() {
        let cols = T::column_definitions();
        assert!(cols.iter().any(|c| c.name == "Name" && c.format == "name"));
        assert!(cols.iter().all(|c| c.priority == 0 || c.priority == 1));
        assert!(cols.iter().all(|c| !c.description.contains('\\')));
    }
    check::<Pod>();
    check::<Deployment>();
    check::<ReplicaSet>();
    check::<Event>();
    check::<Namespace>();
    check::<Node>();
    check::<Service>();
    check::<ResourceQuota>();
    check::<HorizontalPodAutoscaler>();
}
