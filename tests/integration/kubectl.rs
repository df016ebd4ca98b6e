//! The machine's real kubectl against the simulated fleet: each command's output checked for what
//! it prints against a real cluster.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Kubectl, fleet_for_kubectl, rows};

const WAIT: Duration = Duration::from_secs(60);

fn all_running(out: &str, expected: usize) -> bool {
    let r = rows(out);
    r.len() > expected
        && r[1..]
            .iter()
            .filter(|row| row.contains(&"Running".to_string()) && row.contains(&"1/1".to_string()))
            .count()
            >= expected
}

/// Waits until both web pods in shop run, and names one.
fn running_web_pod(k: &Kubectl) -> String {
    k.until(&["get", "pods", "-n", "shop", "-l", "app=web"], WAIT, |o| {
        all_running(o, 2)
    });
    k.ok(&[
        "get",
        "pods",
        "-n",
        "shop",
        "-l",
        "app=web",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ])
}

#[test]
fn get_pods_all_namespaces_wide_and_json() {
    let Some(fleet) = fleet_for_kubectl() else {
        return;
    };
    let k = Kubectl::new(&fleet, "dev");
    // The built-in dev cluster runs web (2), api (2) and worker (1) in shop.
    let out = k.until(&["get", "pods", "-A"], WAIT, |o| all_running(o, 5));
    let table = rows(&out);
    assert_eq!(
        table[0],
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    let web: Vec<_> = table.iter().filter(|r| r[1].starts_with("web-")).collect();
    assert_eq!(web.len(), 2, "{out}");
    for row in &web {
        assert_eq!(row[0], "shop");
        // <deployment>-<10-char template hash>-<5-char suffix>
        let parts: Vec<&str> = row[1].split('-').collect();
        assert_eq!(parts.len(), 3, "{}", row[1]);
        assert_eq!(parts[2].len(), 5);
        assert_eq!(&row[2..5], ["1/1", "Running", "0"]);
    }

    let wide = k.ok(&["get", "pods", "-n", "shop", "-o", "wide"]);
    let header = wide.lines().next().unwrap();
    for col in [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED NODE",
        "READINESS GATES",
    ] {
        assert!(header.contains(col), "missing {col} in {header}");
    }
    let first = &rows(&wide)[1];
    assert!(first[5].starts_with("10.244."), "pod IP: {first:?}");
    assert!(first[6].starts_with("aks-dev-"), "node: {first:?}");
    assert_eq!(&first[7..9], ["<none>", "<none>"]);

    let json: Value =
        serde_json::from_str(&k.ok(&["get", "pods", "-n", "shop", "-o", "json"])).unwrap();
    assert_eq!(json["kind"], "List");
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    let pod = items
        .iter()
        .find(|p| p["metadata"]["name"].as_str().unwrap().starts_with("web-"))
        .unwrap();
    assert_eq!(pod["status"]["phase"], "Running");
    assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
    assert_eq!(pod["metadata"]["ownerReferences"][0]["controller"], true);
    assert!(pod["metadata"]["labels"]["pod-template-hash"].is_string());
    let ready = pod["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap();
    assert_eq!(ready["status"], "True");
    assert_eq!(pod["status"]["containerStatuses"][0]["ready"], true);
}

#[test]
fn get_deployments_replicasets_and_events() {
    let Some(fleet) = fleet_for_kubectl() else {
        return;
    };
    let k = Kubectl::new(&fleet, "prod-eastus");
    let out = k.until(&["get", "deploy,rs", "-n", "shop"], WAIT, |o| {
        rows(o).iter().any(|r| {
            r.first().map(String::as_str) == Some("deployment.apps/web")
                && r[1..4] == ["2/2", "2", "2"]
        })
    });
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        rows(lines[0].trim()),
        [["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]]
    );
    let rs_header = lines
        .iter()
        .position(|l| l.starts_with("NAME") && l.contains("DESIRED"))
        .expect("rs table");
    assert_eq!(
        rows(lines[rs_header]),
        [["NAME", "DESIRED", "CURRENT", "READY", "AGE"]]
    );
    let web_rs = rows(&lines[rs_header..].join("\n"))
        .into_iter()
        .find(|r| r[0].starts_with("replicaset.apps/web-"))
        .expect("web replica set");
    assert_eq!(&web_rs[1..4], ["2", "2", "2"]);

    let events = k.ok(&["get", "events", "-n", "shop"]);
    let header = events.lines().next().unwrap();
    for col in ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"] {
        assert!(header.contains(col), "{header}");
    }
    for needle in [
        "ScalingReplicaSet",
        "deployment/web",
        "SuccessfulCreate",
        "Scheduled",
        "Successfully assigned shop/web-",
        "Started",
        "Pulled",
    ] {
        assert!(events.contains(needle), "events lack {needle}:\n{events}");
    }
}

#[test]
fn scale_set_image_rollout_status_history_and_undo() {
    let Some(fleet) = fleet_for_kubectl() else {
        return;
    };
    let k = Kubectl::new(&fleet, "staging");
    k.until(&["get", "deploy", "web", "-n", "shop"], WAIT, |o| {
        o.contains("2/2")
    });

    assert_eq!(
        k.ok(&["scale", "deploy/web", "-n", "shop", "--replicas=4"])
            .trim(),
        "deployment.apps/web scaled"
    );
    k.until(&["get", "deploy", "web", "-n", "shop"], WAIT, |o| {
        rows(o).get(1).is_some_and(|r| r[1] == "4/4")
    });
    let pods = k.ok(&["get", "pods", "-n", "shop", "-l", "app=web", "-o", "name"]);
    assert_eq!(pods.lines().count(), 4, "{pods}");

    let out = k.ok(&[
        "set",
        "image",
        "deploy/web",
        "app=registry.example.com/shop/web:1.5.0",
        "-n",
        "shop",
    ]);
    assert_eq!(out.trim(), "deployment.apps/web image updated");
    let status = k.ok(&[
        "rollout",
        "status",
        "deploy/web",
        "-n",
        "shop",
        "--timeout=60s",
    ]);
    assert!(
        status
            .trim_end()
            .ends_with("deployment \"web\" successfully rolled out"),
        "{status}"
    );

    let rs: Value =
        serde_json::from_str(&k.ok(&["get", "rs", "-n", "shop", "-l", "app=web", "-o", "json"]))
            .unwrap();
    let revision = |image: &str| -> (String, String, i64) {
        let r = rs["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["spec"]["template"]["spec"]["containers"][0]["image"] == image)
            .unwrap_or_else(|| panic!("no replica set for {image}"));
        (
            r["metadata"]["name"].as_str().unwrap().to_string(),
            r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                .as_str()
                .unwrap()
                .to_string(),
            r["spec"]["replicas"].as_i64().unwrap(),
        )
    };
    let (old_rs, old_rev, old_replicas) = revision("registry.example.com/shop/web:1.4.2");
    let (new_rs, new_rev, new_replicas) = revision("registry.example.com/shop/web:1.5.0");
    assert_eq!((old_rev.as_str(), old_replicas), ("1", 0));
    assert_eq!((new_rev.as_str(), new_replicas), ("2", 4));
    assert_ne!(old_rs, new_rs);

    let history = k.ok(&["rollout", "history", "deploy/web", "-n", "shop"]);
    let h = rows(&history);
    assert_eq!(h[0], ["deployment.apps/web"]);
    assert_eq!(h[1], ["REVISION", "CHANGE-CAUSE"]);
    assert_eq!(h[2], ["1", "deploy", "1.4.2"]);
    assert_eq!(
        h[3],
        ["2", "deploy", "1.4.2"],
        "change-cause is copied from the deployment as it stood"
    );

    let detail = k.ok(&[
        "rollout",
        "history",
        "deploy/web",
        "-n",
        "shop",
        "--revision=1",
    ]);
    assert!(
        detail.contains("registry.example.com/shop/web:1.4.2"),
        "{detail}"
    );

    // Undo: the old replica set comes back as revision 3, remembering it was 1.
    assert_eq!(
        k.ok(&["rollout", "undo", "deploy/web", "-n", "shop"])
            .trim(),
        "deployment.apps/web rolled back"
    );
    k.ok(&[
        "rollout",
        "status",
        "deploy/web",
        "-n",
        "shop",
        "--timeout=60s",
    ]);
    let old: Value =
        serde_json::from_str(&k.ok(&["get", "rs", &old_rs, "-n", "shop", "-o", "json"])).unwrap();
    assert_eq!(
        old["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    assert_eq!(
        old["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"],
        "1"
    );
    assert_eq!(old["spec"]["replicas"], 4);
    let history = rows(&k.ok(&["rollout", "history", "deploy/web", "-n", "shop"]));
    let revisions: Vec<&str> = history[2..]
        .iter()
        .filter(|r| !r.is_empty())
        .map(|r| r[0].as_str())
        .collect();
    assert_eq!(revisions, ["2", "3"]);

    // Undo to a named revision: back to the 1.5.0 replica set, now revision 4.
    let out = k.ok(&[
        "rollout",
        "undo",
        "deploy/web",
        "-n",
        "shop",
        "--to-revision=2",
    ]);
    assert_eq!(out.trim(), "deployment.apps/web rolled back");
    k.ok(&[
        "rollout",
        "status",
        "deploy/web",
        "-n",
        "shop",
        "--timeout=60s",
    ]);
    let image = k.ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "shop",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image, "registry.example.com/shop/web:1.5.0");
    let rev = k.ok(&[
        "get",
        "rs",
        &new_rs,
        "-n",
        "shop",
        "-o",
        "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
    ]);
    assert_eq!(rev, "4");

    // Undo to a revision that does not exist: kubectl's own message.
    let err = k.fails(&[
        "rollout",
        "undo",
        "deploy/web",
        "-n",
        "shop",
        "--to-revision=42",
    ]);
    assert!(
        err.contains("unable to find specified revision 42 in history"),
        "{err}"
    );
}

#[test]
fn rollout_restart_rolls_new_pods() {
    let Some(fleet) = fleet_for_kubectl() else {
        return;
    };
    let k = Kubectl::new(&fleet, "dev");
    k.until(&["get", "deploy", "worker", "-n", "shop"], WAIT, |o| {
        o.contains("1/1")
    });
    let before = k.ok(&[
        "get",
        "pods",
        "-n",
        "shop",
        "-l",
        "app=worker",
        "-o",
        "name",
    ]);
    assert_eq!(
        k.ok(&["rollout", "restart", "deploy/worker", "-n", "shop"])
            .trim(),
        "deployment.apps/worker restarted"
    );
    let annotation = k.ok(&[
        "get",
        "deploy",
        "worker",
        "-n",
        "shop",
        "-o",
        "jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}",
    ]);
    assert!(
        annotation.parse::<jiff::Timestamp>().is_ok(),
        "restartedAt is an RFC 3339 time: {annotation:?}"
    );
    k.ok(&[
        "rollout",
        "status",
        "deploy/worker",
        "-n",
        "shop",
        "--timeout=60s",
    ]);
    let after = k.until(
        &[
            "get",
            "pods",
            "-n",
            "shop",
            "-l",
            "app=worker",
            "-o",
            "name",
        ],
        WAIT,
        |o| o.lines().count() == 1,
    );
    assert_ne!(before, after, "restart must replace the pod");
}

#[test]
fn logs_follow_previous_and_proxy() {
    let Some(fleet) = fleet_for_kubectl() else {
        return;
    };
    let k = Kubectl::new(&fleet, "dev");
    let pod = running_web_pod(&k);

    let logs = k.until(&["logs", &pod, "-n", "shop"], WAIT, |o| {
        o.lines().count() >= 3
    });
    assert!(logs.lines().count() >= 3);
    let tail = k.ok(&["logs", &pod, "-n", "shop", "--tail=2", "--timestamps"]);
    assert_eq!(tail.lines().count(), 2, "{tail}");
    for line in tail.lines() {
        let ts = line.split(' ').next().unwrap();
        assert!(
            ts.parse::<jiff::Timestamp>().is_ok(),
            "timestamp prefix: {line}"
        );
    }

    // Follow a deployment's logs: the last 5 lines at once, then new lines as they are written.
    let mut child = Command::new("kubectl")
        .env("KUBECONFIG", &fleet.kubeconfig)
        .env("KUBECACHEDIR", fleet.cache_dir())
        .args([
            "--context",
            "dev",
            "logs",
            "-f",
            "deploy/web",
            "-n",
            "shop",
            "--tail=5",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while lines.len() < 8 && Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            lines.push(l);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines.len() >= 8,
        "follow delivered only {} lines: {lines:?}",
        lines.len()
    );
    let first_batch_end = lines[4].0;
    assert!(
        lines[7].0 > first_batch_end,
        "lines after the tail arrive later, as they are written"
    );

    // No previous container yet: kubectl prints the server's error.
    let err = k.fails(&["logs", &pod, "-n", "shop", "--previous"]);
    assert!(
        err.contains(&format!(
            "previous terminated container \"app\" in pod \"{pod}\" not found"
        )),
        "{err}"
    );

    // A crashing image: after its first restart, --previous shows the dead container's last words.
    k.ok(&[
        "set",
        "image",
        "deploy/worker",
        "app=registry.example.com/shop/worker:2.4.1-crash",
        "-n",
        "shop",
    ]);
    let out = k.until(
        &["get", "pods", "-n", "shop", "-l", "app=worker"],
        WAIT,
        |o| {
            rows(o)
                .iter()
                .skip(1)
                .any(|r| r.len() >= 4 && r[3] != "0" && r[0].starts_with("worker-"))
        },
    );
    let crashing = rows(&out)
        .into_iter()
        .skip(1)
        .find(|r| r[3] != "0")
        .unwrap()[0]
        .clone();
    let previous = k.ok(&["logs", &crashing, "-n", "shop", "--previous"]);
    assert!(!previous.trim().is_empty(), "previous logs are empty");
    let pods = k.until(
        &["get", "pods", "-n", "shop", "-l", "app=worker"],
        WAIT,
        |o| o.contains("CrashLoopBackOff") || o.contains("Error"),
    );
    assert!(
        pods.contains(&crashing) || pods.contains("worker-"),
        "{pods}"
    );

    // The pod proxy reaches the app's health endpoint.
    let raw = k.ok(&[
        "get",
        "--raw",
        &format!("/api/v1/namespaces/shop/pods/{pod}:8080/proxy/healthz"),
    ]);
    assert_eq!(raw.trim(), "ok");
    let svc = k.ok(&[
        "get",
        "--raw",
        "/api/v1/namespaces/shop/services/web:80/proxy/healthz",
    ]);
    assert_eq!(svc.trim(), "ok");
}

#[test]
fn read_only_context_is_refused_with_the_real_message() {
    let Some(fleet) = fleet_for_kubectl() else {
        return;
    };
    let viewer = Kubectl::new(&fleet, "viewer@dev");
    assert!(viewer.ok(&["get", "deploy", "-n", "shop"]).contains("web"));
    assert_eq!(
        viewer
            .raw(&["auth", "can-i", "patch", "deployments", "-n", "shop"])
            .stdout,
        b"no\n"
    );
    let err = viewer.fails(&["scale", "deploy/web", "-n", "shop", "--replicas=3"]);
    assert!(
        err.contains("deployments.apps \"web\" is forbidden: User \"viewer@dev\" cannot patch resource \"deployments/scale\" in API group \"apps\" in the namespace \"shop\""),
        "{err}"
    );
    let admin = Kubectl::new(&fleet, "dev");
    assert_eq!(
        admin
            .ok(&["auth", "can-i", "patch", "deployments", "-n", "shop"])
            .trim(),
        "yes"
    );
}

#[test]
fn create_get_delete_round_trip_and_not_found() {
    let Some(fleet) = fleet_for_kubectl() else {
        return;
    };
    let k = Kubectl::new(&fleet, "dev");
    let manifest = fleet.dir.path().join("hello.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: hello, namespace: default}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: hello}}\n  template:\n    metadata: {labels: {app: hello}}\n    spec: {containers: [{name: app, image: \"registry.example.com/hello:1.0.0\"}]}\n",
    )
    .unwrap();
    let file = manifest.to_str().unwrap();
    // No OpenAPI documents are served, so client-side validation is off.
    let out = k.ok(&["create", "-f", file, "--validate=false"]);
    assert_eq!(out.trim(), "deployment.apps/hello created");
    k.until(&["get", "deploy", "hello"], WAIT, |o| o.contains("2/2"));
    let err = k.fails(&["create", "-f", file, "--validate=false"]);
    assert!(
        err.contains("deployments.apps \"hello\" already exists"),
        "{err}"
    );
    // Typed creates arrive as protobuf, which the simulator refuses in words.
    let err = k.fails(&["create", "deployment", "other", "--image=x:1"]);
    assert!(err.contains("reads JSON request bodies only"), "{err}");
    assert_eq!(
        k.ok(&["delete", "deploy", "hello"]).trim(),
        "deployment.apps \"hello\" deleted"
    );
    // The garbage collector takes the replica set and pods along.
    k.until(&["get", "pods", "-n", "default", "-o", "name"], WAIT, |o| {
        o.trim().is_empty()
    });
    let err = k.fails(&["get", "deploy", "hello"]);
    assert!(
        err.contains("Error from server (NotFound): deployments.apps \"hello\" not found"),
        "{err}"
    );
}

#[test]
fn pod_deletion_is_graceful_and_replaced() {
    let Some(fleet) = fleet_for_kubectl() else {
        return;
    };
    let k = Kubectl::new(&fleet, "prod-eastus");
    let pod = running_web_pod(&k);
    // A watch sees every state the pod passes through, however fast the simulation runs.
    let (tx, rx) = std::sync::mpsc::channel();
    let watched = pod.clone();
    let client = fleet
        .runtime
        .block_on(crate::kube_client::client(&fleet, "prod-eastus"));
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(client, "shop");
    let rv = fleet
        .runtime
        .block_on(pods.get(&pod))
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    fleet.runtime.spawn(async move {
        use futures::TryStreamExt;
        let params = kube::api::WatchParams::default().fields(&format!("metadata.name={watched}"));
        let mut stream = Box::pin(pods.watch(&params, &rv).await.unwrap());
        while let Ok(Some(ev)) = stream.try_next().await {
            let (kind, pod) = match ev {
                kube::api::WatchEvent::Modified(p) => ("MODIFIED", p),
                kube::api::WatchEvent::Deleted(p) => ("DELETED", p),
                _ => continue,
            };
            let terminating = pod.metadata.deletion_timestamp.is_some();
            let grace = pod.metadata.deletion_grace_period_seconds;
            if tx.send((kind, terminating, grace)).is_err() || kind == "DELETED" {
                break;
            }
        }
    });
    let out = k.ok(&["delete", "pod", &pod, "-n", "shop"]);
    assert_eq!(out.trim(), format!("pod \"{pod}\" deleted"));
    let seen: Vec<_> = rx.iter().collect();
    let first_terminating = seen
        .iter()
        .position(|(_, t, _)| *t)
        .expect("deletionTimestamp set first");
    assert_eq!(
        seen[first_terminating],
        ("MODIFIED", true, Some(30)),
        "{seen:?}"
    );
    assert_eq!(seen.last().map(|e| e.0), Some("DELETED"), "{seen:?}");
    // The replica set has made a replacement, and the kubelet said what it did.
    k.until(
        &["get", "pods", "-n", "shop", "-l", "app=web", "-o", "name"],
        WAIT,
        |o| !o.contains(&pod) && o.lines().count() == 2,
    );
    let events = k.ok(&[
        "get",
        "events",
        "-n",
        "shop",
        "--field-selector",
        &format!("involvedObject.name={pod}"),
    ]);
    assert!(
        events.contains("Killing") && events.contains("Stopping container app"),
        "{events}"
    );
}
