//! Conversions of objects shaped as the API server returns them (JSON, deserialised into the
//! k8s-openapi types), including odd and half-empty ones.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::kube::rows::{Health, ProbeSpec};

fn now() -> Timestamp {
    "2025-03-01T12:00:00Z".parse().unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A healthy pod of Deployment `web`, one container, as `kubectl get pod -o json` shows it.
fn base_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-7d9f8b6c5d-x2x9k",
            "namespace": "shop",
            "uid": "3b0e8f0a-1111-2222-3333-444455556666",
            "resourceVersion": "4711",
            "creationTimestamp": "2025-03-01T11:00:00Z",
            "labels": {"app": "web", "pod-template-hash": "7d9f8b6c5d"},
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9f8b6c5d",
                "uid": "9a9a9a9a-0000-0000-0000-000000000001",
                "controller": true, "blockOwnerDeletion": true
            }]
        },
        "spec": {
            "nodeName": "node-1",
            "restartPolicy": "Always",
            "containers": [{
                "name": "app",
                "image": "registry.example.com/shop/web:1.4.2",
                "ports": [{"name": "http", "containerPort": 3001, "protocol": "TCP"}],
                "livenessProbe": {"httpGet": {"path": "/api/v1/health", "port": "http", "scheme": "HTTP"},
                                  "initialDelaySeconds": 10},
                "readinessProbe": {"httpGet": {"path": "/readyz", "port": 3001},
                                   "periodSeconds": 5, "timeoutSeconds": 2, "failureThreshold": 6}
            }]
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": "2025-03-01T11:00:01Z"},
                {"type": "Ready", "status": "True", "lastTransitionTime": "2025-03-01T11:00:05Z"},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": "2025-03-01T11:00:05Z"},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2025-03-01T11:00:00Z"}
            ],
            "hostIP": "10.0.0.11",
            "podIP": "10.244.1.7",
            "podIPs": [{"ip": "10.244.1.7"}],
            "startTime": "2025-03-01T11:00:00Z",
            "qosClass": "Burstable",
            "containerStatuses": [{
                "name": "app",
                "image": "registry.example.com/shop/web:1.4.2",
                "imageID": "registry.example.com/shop/web@sha256:abc",
                "containerID": "containerd://abc",
                "ready": true,
                "started": true,
                "restartCount": 0,
                "state": {"running": {"startedAt": "2025-03-01T11:00:02Z"}},
                "lastState": {}
            }]
        }
    })
}

fn pod_with(patch: Value) -> k8s_openapi::api::core::v1::Pod {
    let mut doc = base_pod();
    json_patch::merge(&mut doc, &patch);
    serde_json::from_value(doc).expect("a valid pod")
}

fn row(patch: Value) -> crate::kube::rows::PodRow {
    pod_row(&pod_with(patch), now())
}

/// Patches the first container's status (merge patches replace arrays, so it is rebuilt).
fn status_of(state: Value, extra: Value) -> Value {
    let mut c = json!({
        "name": "app", "image": "registry.example.com/shop/web:1.4.2", "imageID": "",
        "ready": false, "started": false, "restartCount": 0, "state": state
    });
    json_patch::merge(&mut c, &extra);
    json!({"status": {"containerStatuses": [c]}})
}

#[test]
fn a_healthy_deployment_pod() {
    let r = row(json!({}));
    assert_eq!(r.key, ObjKey::new("shop", "web-7d9f8b6c5d-x2x9k"));
    assert_eq!(r.workload.as_deref(), Some("web"));
    assert_eq!(r.replicaset.as_deref(), Some("web-7d9f8b6c5d"));
    assert_eq!(r.status, "Running");
    assert_eq!(r.ready, (1, 1));
    assert_eq!(r.health, Health::Ok);
    assert_eq!(r.restarts, 0);
    assert_eq!(r.last_restart, None);
    assert_eq!(r.node, "node-1");
    assert_eq!(r.created, Some(ts("2025-03-01T11:00:00Z")));
    assert!(!r.deleting);
    assert_eq!(r.labels.get("app").map(String::as_str), Some("web"));
    let c = &r.containers[0];
    assert_eq!(c.name, "app");
    assert_eq!(c.state, "Running");
    assert!(c.ready);
    assert_eq!(c.started, Some(true));
    assert_eq!(
        c.liveness,
        Some(ProbeSpec {
            handler: "HTTP GET :3001/api/v1/health".into(),
            period_seconds: 10,
            failure_threshold: 3,
            initial_delay_seconds: 10,
            timeout_seconds: 1,
        })
    );
    assert_eq!(
        c.readiness,
        Some(ProbeSpec {
            handler: "HTTP GET :3001/readyz".into(),
            period_seconds: 5,
            failure_threshold: 6,
            initial_delay_seconds: 0,
            timeout_seconds: 2,
        })
    );
    assert_eq!(c.startup, None);
}

#[test]
fn probe_handlers_of_every_kind() {
    let c: k8s_openapi::api::core::v1::Container = serde_json::from_value(json!({
        "name": "db",
        "ports": [{"name": "pg", "containerPort": 5432}, {"name": "grpc", "containerPort": 9000}]
    }))
    .unwrap();
    let probe = |p: Value| probe_spec(&serde_json::from_value(p).unwrap(), &c).handler;
    assert_eq!(probe(json!({"tcpSocket": {"port": "pg"}})), "TCP :5432");
    assert_eq!(
        probe(json!({"tcpSocket": {"port": 6379, "host": "10.0.0.1"}})),
        "TCP 10.0.0.1:6379"
    );
    assert_eq!(
        probe(json!({"exec": {"command": ["pg_isready", "-U", "app"]}})),
        "exec [pg_isready -U app]"
    );
    assert_eq!(probe(json!({"grpc": {"port": 9000}})), "gRPC :9000");
    assert_eq!(
        probe(json!({"grpc": {"port": 9000, "service": "health"}})),
        "gRPC :9000 health"
    );
    assert_eq!(
        probe(json!({"httpGet": {"port": 8443, "path": "healthz", "scheme": "HTTPS"}})),
        "HTTPS GET :8443/healthz"
    );
    assert_eq!(probe(json!({"httpGet": {"port": 80}})), "HTTP GET :80/");
    // A named port the container does not declare stays a name (the kubelet would fail it).
    assert_eq!(
        probe(json!({"httpGet": {"port": "admin", "path": "/"}})),
        "HTTP GET :admin/"
    );
    assert_eq!(probe(json!({})), "no handler");
    // Zero and negative timings are nonsense; the defaults stand in.
    let spec = probe_spec(
        &serde_json::from_value(json!({"tcpSocket": {"port": 1}, "periodSeconds": 0,
            "failureThreshold": -1, "timeoutSeconds": 0, "initialDelaySeconds": -5}))
        .unwrap(),
        &c,
    );
    assert_eq!(
        (
            spec.period_seconds,
            spec.failure_threshold,
            spec.timeout_seconds,
            spec.initial_delay_seconds
        ),
        (10, 3, 1, 0)
    );
}

#[test]
fn crash_loop_back_off_is_critical_with_its_last_termination() {
    let r = row(status_of(
        json!({"waiting": {"reason": "CrashLoopBackOff",
            "message": "back-off 40s restarting failed container=app pod=web-7d9f8b6c5d-x2x9k_shop(3b0e)"}}),
        json!({"restartCount": 4, "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
            "startedAt": "2025-03-01T11:58:00Z", "finishedAt": "2025-03-01T11:58:05Z",
            "containerID": "containerd://def"}}}),
    ));
    assert_eq!(r.status, "CrashLoopBackOff");
    assert_eq!(r.health, Health::Critical);
    assert_eq!(r.ready, (0, 1));
    assert_eq!(r.restarts, 4);
    assert_eq!(r.last_restart, Some(ts("2025-03-01T11:58:05Z")));
    let c = &r.containers[0];
    assert_eq!(c.state, "Waiting: CrashLoopBackOff");
    assert!(
        c.state_message
            .as_deref()
            .unwrap()
            .starts_with("back-off 40s")
    );
    assert_eq!(c.restarts, 4);
    assert_eq!(
        c.last_termination,
        Some(Termination {
            reason: "Error".into(),
            exit_code: 1,
            finished: Some(ts("2025-03-01T11:58:05Z")),
        })
    );
}

use crate::kube::rows::Termination;

#[test]
fn waiting_and_terminated_reasons_as_kubectl_prints_them() {
    let cases = [
        (
            json!({"terminated": {"exitCode": 137, "reason": "OOMKilled"}}),
            "OOMKilled",
            Health::Critical,
        ),
        (
            json!({"terminated": {"exitCode": 1, "reason": "Error"}}),
            "Error",
            Health::Critical,
        ),
        (
            json!({"terminated": {"exitCode": 2}}),
            "ExitCode:2",
            Health::Critical,
        ),
        (
            json!({"terminated": {"exitCode": 137, "signal": 9}}),
            "Signal:9",
            Health::Critical,
        ),
        (
            json!({"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}),
            "ImagePullBackOff",
            Health::Critical,
        ),
        (
            json!({"waiting": {"reason": "ErrImagePull"}}),
            "ErrImagePull",
            Health::Critical,
        ),
        (
            json!({"waiting": {"reason": "CreateContainerConfigError",
            "message": "secret \"db\" not found"}}),
            "CreateContainerConfigError",
            Health::Critical,
        ),
        (
            json!({"waiting": {"reason": "ContainerCreating"}}),
            "ContainerCreating",
            Health::Progressing,
        ),
        (
            json!({"waiting": {"reason": "SomethingNew"}}),
            "SomethingNew",
            Health::Warning,
        ),
    ];
    for (state, status, health) in cases {
        let r = row(status_of(state.clone(), json!({})));
        assert_eq!((r.status.as_str(), r.health), (status, health), "{state}");
    }
    let r = row(status_of(
        json!({"terminated": {"exitCode": 137, "reason": "OOMKilled",
        "message": "memory limit 256Mi"}}),
        json!({}),
    ));
    assert_eq!(
        r.containers[0].state,
        "Terminated: OOMKilled (exit code 137)"
    );
    assert_eq!(
        r.containers[0].state_message.as_deref(),
        Some("memory limit 256Mi")
    );
}

#[test]
fn running_but_not_ready_is_a_warning_once_started() {
    let running = json!({"running": {"startedAt": "2025-03-01T11:59:00Z"}});
    let r = row(status_of(running.clone(), json!({"started": true})));
    assert_eq!(
        (r.status.as_str(), r.ready, r.health),
        ("Running", (0, 1), Health::Warning)
    );
    // Its startup probe has not passed yet: the kubelet is still waiting for it to come up.
    let r = row(status_of(running.clone(), json!({"started": false})));
    assert_eq!(r.health, Health::Progressing);
    // Old kubelets do not report `started`.
    let r = row(status_of(running, json!({"started": null})));
    assert_eq!(r.health, Health::Warning);
}

#[test]
fn init_containers_as_kubectl_prints_them() {
    let two_inits = |statuses: Value, main_state: Value| {
        json!({
            "spec": {"initContainers": [
                {"name": "migrate", "image": "m:1"}, {"name": "warm", "image": "w:1"}
            ]},
            "status": {
                "phase": "Pending",
                "conditions": [{"type": "Initialized", "status": "False"}],
                "initContainerStatuses": statuses,
                "containerStatuses": [{"name": "app", "image": "a", "imageID": "", "ready": false,
                    "restartCount": 0, "state": main_state}]
            }
        })
    };
    let init = |name: &str, state: Value, restarts: i32| {
        json!({"name": name, "image": "x", "imageID": "", "ready": false, "restartCount": restarts,
               "state": state})
    };
    let pod_init = json!({"waiting": {"reason": "PodInitializing"}});
    let done = json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
    let cases = [
        (
            vec![
                init("migrate", json!({"running": {}}), 0),
                init("warm", pod_init.clone(), 0),
            ],
            "Init:0/2",
            Health::Progressing,
        ),
        (
            vec![
                init("migrate", done.clone(), 0),
                init("warm", json!({"running": {}}), 0),
            ],
            "Init:1/2",
            Health::Progressing,
        ),
        (
            vec![
                init(
                    "migrate",
                    json!({"waiting": {"reason": "CrashLoopBackOff"}}),
                    3,
                ),
                init("warm", pod_init.clone(), 0),
            ],
            "Init:CrashLoopBackOff",
            Health::Critical,
        ),
        (
            vec![
                init(
                    "migrate",
                    json!({"terminated": {"exitCode": 1, "reason": "Error"}}),
                    0,
                ),
                init("warm", pod_init.clone(), 0),
            ],
            "Init:Error",
            Health::Critical,
        ),
        (
            vec![
                init("migrate", json!({"terminated": {"exitCode": 3}}), 0),
                init("warm", pod_init.clone(), 0),
            ],
            "Init:ExitCode:3",
            Health::Critical,
        ),
        (
            vec![
                init(
                    "migrate",
                    json!({"terminated": {"exitCode": 143, "signal": 15}}),
                    0,
                ),
                init("warm", pod_init.clone(), 0),
            ],
            "Init:Signal:15",
            Health::Critical,
        ),
        (
            vec![
                init("migrate", done.clone(), 0),
                init("warm", done.clone(), 0),
            ],
            "PodInitializing",
            Health::Progressing,
        ),
    ];
    for (statuses, status, health) in cases {
        let r = row(two_inits(Value::Array(statuses.clone()), pod_init.clone()));
        assert_eq!(
            (r.status.as_str(), r.health),
            (status, health),
            "{statuses:?}"
        );
    }
    // While initialising, restarts are the init containers'.
    let r = row(two_inits(
        json!([
            init(
                "migrate",
                json!({"waiting": {"reason": "CrashLoopBackOff"}}),
                3
            ),
            init("warm", pod_init.clone(), 0)
        ]),
        pod_init,
    ));
    assert_eq!(r.restarts, 3);
}

#[test]
fn sidecars_count_among_the_containers() {
    let r = row(json!({
        "spec": {"initContainers": [{"name": "proxy", "image": "envoy:1", "restartPolicy": "Always"}]},
        "status": {"initContainerStatuses": [{"name": "proxy", "image": "envoy:1", "imageID": "",
            "ready": true, "started": true, "restartCount": 2, "state": {"running": {}}}]}
    }));
    assert_eq!(r.status, "Running");
    assert_eq!(r.ready, (2, 2));
    assert_eq!(r.restarts, 2);
    assert_eq!(r.containers.len(), 2);
    assert_eq!(r.containers[1].name, "proxy");
}

#[test]
fn terminating_node_lost_completed_evicted_and_unknown() {
    let r = row(
        json!({"metadata": {"deletionTimestamp": "2025-03-01T12:00:30Z", "deletionGracePeriodSeconds": 30}}),
    );
    assert_eq!(
        (r.status.as_str(), r.health, r.deleting),
        ("Terminating", Health::Progressing, true)
    );

    let r = row(
        json!({"status": {"reason": "NodeLost", "message": "Node node-1 which was running pod is unresponsive"}}),
    );
    assert_eq!((r.status.as_str(), r.health), ("NodeLost", Health::Unknown));
    let r = row(
        json!({"metadata": {"deletionTimestamp": "2025-03-01T12:00:30Z"}, "status": {"reason": "NodeLost"}}),
    );
    assert_eq!((r.status.as_str(), r.health), ("Unknown", Health::Unknown));

    let r = row(json!({"status": {"phase": "Unknown"}}));
    assert_eq!(r.health, Health::Unknown);

    let r = row(json!({"status": {"phase": "Succeeded", "conditions": [],
        "containerStatuses": [{"name": "app", "image": "a", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}}));
    assert_eq!((r.status.as_str(), r.health), ("Completed", Health::Ok));
    // A finished pod being deleted is not "Terminating": it has nothing left to stop.
    let r = row(
        json!({"metadata": {"deletionTimestamp": "2025-03-01T12:00:30Z"}, "status": {"phase": "Succeeded"}}),
    );
    assert_ne!(r.status, "Terminating");

    let r = row(json!({"status": {"phase": "Failed", "reason": "Evicted",
        "message": "The node was low on resource: memory.", "containerStatuses": null, "conditions": null}}));
    assert_eq!((r.status.as_str(), r.health), ("Evicted", Health::Critical));
}

#[test]
fn completed_with_a_container_still_running() {
    let statuses = json!([
        {"name": "app", "image": "a", "imageID": "", "ready": false, "restartCount": 0,
         "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        {"name": "log", "image": "l", "imageID": "", "ready": true, "restartCount": 0,
         "state": {"running": {}}}
    ]);
    let containers = json!([{"name": "app", "image": "a"}, {"name": "log", "image": "l"}]);
    let r = row(json!({"spec": {"containers": containers.clone()},
        "status": {"containerStatuses": statuses.clone()}}));
    assert_eq!((r.status.as_str(), r.ready), ("Running", (1, 2)));
    let r = row(json!({"spec": {"containers": containers},
        "status": {"containerStatuses": statuses, "conditions": [{"type": "Ready", "status": "False"}]}}));
    assert_eq!((r.status.as_str(), r.health), ("NotReady", Health::Warning));
}

#[test]
fn pending_pods() {
    let r = row(
        json!({"spec": {"nodeName": null}, "status": {"phase": "Pending", "containerStatuses": null,
        "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient memory."}]}}),
    );
    assert_eq!(
        (r.status.as_str(), r.health, r.node.as_str()),
        ("Pending", Health::Warning, "")
    );
    let r = row(
        json!({"status": {"phase": "Pending", "containerStatuses": null,
        "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}}),
    );
    assert_eq!(
        (r.status.as_str(), r.health),
        ("SchedulingGated", Health::Progressing)
    );
    let r = row(json!({"status": {"phase": "Pending", "conditions": null,
        "containerStatuses": [{"name": "app", "image": "a", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ContainerCreating"}}}]}}));
    assert_eq!(
        (r.status.as_str(), r.health),
        ("ContainerCreating", Health::Progressing)
    );
    assert_eq!(r.containers[0].state, "Waiting: ContainerCreating");
}

#[test]
fn owners() {
    let r = row(
        json!({"metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet",
        "name": "postgres", "uid": "u", "controller": true}]}}),
    );
    assert_eq!(
        (r.workload.as_deref(), r.replicaset.as_deref()),
        (Some("postgres"), None)
    );
    // A ReplicaSet made by hand: no hash suffix, so it is its own workload.
    let r = row(
        json!({"metadata": {"labels": {"pod-template-hash": null}, "ownerReferences": [{"apiVersion": "apps/v1",
        "kind": "ReplicaSet", "name": "legacy", "uid": "u", "controller": true}]}}),
    );
    assert_eq!(
        (r.workload.as_deref(), r.replicaset.as_deref()),
        (Some("legacy"), Some("legacy"))
    );
    // The label does not match the name's suffix: keep the name.
    let r = row(json!({"metadata": {"labels": {"pod-template-hash": "zzz"}}}));
    assert_eq!(r.workload.as_deref(), Some("web-7d9f8b6c5d"));
    let r = row(json!({"metadata": {"ownerReferences": null}}));
    assert_eq!((r.workload, r.replicaset), (None, None));
}

#[test]
fn an_empty_pod_does_not_panic() {
    let r = pod_row(&serde_json::from_value(json!({})).unwrap(), now());
    assert_eq!(r.key, ObjKey::new("", ""));
    assert_eq!(r.status, "Pending");
    assert_eq!(r.ready, (0, 0));
    assert!(r.containers.is_empty());
    let r = pod_row(
        &serde_json::from_value(json!({"spec": {"containers": [{"name": "a"}]}, "status": {}}))
            .unwrap(),
        now(),
    );
    assert_eq!(
        (r.ready, r.containers[0].state.as_str()),
        ((0, 1), "Waiting")
    );
}

fn deployment(patch: Value) -> k8s_openapi::api::apps::v1::Deployment {
    let mut doc = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "generation": 3,
            "creationTimestamp": "2025-02-01T00:00:00Z",
            "annotations": {"deployment.kubernetes.io/revision": "3"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "web:1.4.2"}, {"name": "log", "image": "fluent:2"}]}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "0%"}}
        },
        "status": {"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
            "availableReplicas": 2,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}
            ]}
    });
    json_patch::merge(&mut doc, &patch);
    serde_json::from_value(doc).expect("a valid deployment")
}

#[test]
fn workload_rows() {
    let w = workload_row(&deployment(json!({})));
    assert_eq!(w.key, ObjKey::new("shop", "web"));
    assert_eq!((w.desired, w.ready, w.updated, w.available), (2, 2, 2, 2));
    assert_eq!(w.revision, Some(3));
    assert_eq!(w.images, vec!["web:1.4.2", "fluent:2"]);
    assert_eq!(w.strategy, "RollingUpdate 1/0%");
    assert_eq!(w.selector.get("app").map(String::as_str), Some("web"));
    assert!(!w.paused && !w.rolling_out);
    assert_eq!(w.stalled, None);
    assert_eq!(w.created, Some(ts("2025-02-01T00:00:00Z")));

    let defaults = workload_row(&deployment(
        json!({"spec": {"strategy": null, "replicas": null}}),
    ));
    assert_eq!(defaults.strategy, "RollingUpdate 25%/25%");
    assert_eq!(defaults.desired, 1);
    assert_eq!(
        workload_row(&deployment(
            json!({"spec": {"strategy": {"type": "Recreate", "rollingUpdate": null}}})
        ))
        .strategy,
        "Recreate"
    );

    // A new spec not yet observed; a scale-up; old pods still around: all rolling out.
    assert!(workload_row(&deployment(json!({"metadata": {"generation": 4}}))).rolling_out);
    assert!(workload_row(&deployment(json!({"spec": {"replicas": 4}}))).rolling_out);
    assert!(workload_row(&deployment(json!({"status": {"replicas": 3}}))).rolling_out);
    // Paused: nothing moves until it is resumed.
    let paused = workload_row(&deployment(
        json!({"spec": {"paused": true, "replicas": 4}}),
    ));
    assert!(paused.paused && !paused.rolling_out);

    let stalled = workload_row(&deployment(json!({"status": {"conditions": [
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
         "message": "ReplicaSet \"web-abc\" has timed out progressing."}]}})));
    assert_eq!(stalled.stalled.as_deref(), Some("ProgressDeadlineExceeded"));

    let bare = workload_row(&deployment(
        json!({"metadata": {"annotations": null, "generation": null},
        "status": null}),
    ));
    assert_eq!((bare.revision, bare.ready, bare.available), (None, 0, 0));
}

#[test]
fn replicaset_rows() {
    let rs: k8s_openapi::api::apps::v1::ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": "web-7d9f8b6c5d", "namespace": "shop",
            "creationTimestamp": "2025-03-01T10:00:00Z",
            "annotations": {"deployment.kubernetes.io/revision": "7",
                "kubernetes.io/change-cause": "kubectl set image deploy/web app=web:1.4.2"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                "uid": "u", "controller": true}]},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": [{"name": "app", "image": "web:1.4.2"}]}}},
        "status": {"replicas": 3, "readyReplicas": 2}
    }))
    .unwrap();
    let r = replicaset_row(&rs);
    assert_eq!(r.workload.as_deref(), Some("web"));
    assert_eq!((r.revision, r.desired, r.ready), (Some(7), 3, 2));
    assert_eq!(r.images, vec!["web:1.4.2"]);
    assert_eq!(
        r.change_cause.as_deref(),
        Some("kubectl set image deploy/web app=web:1.4.2")
    );
    let empty =
        replicaset_row(&serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap());
    assert_eq!((empty.workload, empty.desired, empty.ready), (None, 1, 0));
}

#[test]
fn hpa_rows() {
    let h: k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler = serde_json::from_value(json!({
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
            "minReplicas": 2, "maxReplicas": 6,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70}}}]},
        "status": {"currentReplicas": 3, "desiredReplicas": 4}
    }))
    .unwrap();
    let r = hpa_row(&h);
    assert_eq!(
        (r.target_kind.as_str(), r.target_name.as_str()),
        ("Deployment", "api")
    );
    assert_eq!((r.min, r.max, r.current, r.desired), (2, 6, 3, 4));
    let fresh = hpa_row(
        &serde_json::from_value(json!({"metadata": {"name": "x"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "x"}, "maxReplicas": 3}}))
        .unwrap(),
    );
    assert_eq!(
        (fresh.min, fresh.max, fresh.current, fresh.desired),
        (1, 3, 0, 0)
    );
}

#[test]
fn event_rows_old_and_new_style() {
    let old: k8s_openapi::api::core::v1::Event = serde_json::from_value(json!({
        "metadata": {"name": "web-1.17f0c", "namespace": "shop", "creationTimestamp": "2025-03-01T11:50:00Z"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop", "fieldPath": "spec.containers{app}"},
        "reason": "Unhealthy", "message": "Readiness probe failed: HTTP probe failed with statuscode: 503",
        "type": "Warning", "count": 12,
        "firstTimestamp": "2025-03-01T11:50:00Z", "lastTimestamp": "2025-03-01T11:59:00Z",
        "source": {"component": "kubelet", "host": "node-1"}
    }))
    .unwrap();
    let e = event_row(&old);
    assert!(e.warning);
    assert_eq!(
        (
            e.reason.as_str(),
            e.object_kind.as_str(),
            e.object_name.as_str()
        ),
        ("Unhealthy", "Pod", "web-1")
    );
    assert_eq!((e.count, e.source.as_str()), (12, "kubelet"));
    assert_eq!(
        (e.first, e.last),
        (
            Some(ts("2025-03-01T11:50:00Z")),
            Some(ts("2025-03-01T11:59:00Z"))
        )
    );

    let new: k8s_openapi::api::core::v1::Event = serde_json::from_value(json!({
        "metadata": {"name": "web.1", "namespace": "shop", "creationTimestamp": "2025-03-01T11:00:00Z"},
        "involvedObject": {"kind": "Deployment", "name": "web"},
        "reason": "ScalingReplicaSet", "message": "Scaled up replica set web-abc to 3",
        "type": "Normal", "eventTime": "2025-03-01T11:00:00.123456Z",
        "series": {"count": 4, "lastObservedTime": "2025-03-01T11:30:00.000001Z"},
        "reportingComponent": "deployment-controller", "reportingInstance": "cm-1"
    }))
    .unwrap();
    let e = event_row(&new);
    assert!(!e.warning);
    assert_eq!((e.count, e.source.as_str()), (4, "deployment-controller"));
    assert_eq!(e.first, Some(ts("2025-03-01T11:00:00.123456Z")));
    assert_eq!(e.last, Some(ts("2025-03-01T11:30:00.000001Z")));

    let bare =
        event_row(&serde_json::from_value(json!({"metadata": {}, "involvedObject": {}})).unwrap());
    assert_eq!((bare.count, bare.first, bare.last), (1, None, None));
}
