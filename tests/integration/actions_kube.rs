//! The console's mutating actions (`watchfloor::kube::ops`) against the simulated fleet, side by
//! side with the real kubectl doing the same to the same app in another cluster: the results must
//! be the same objects. Also a rollback out of a stuck rollout, paused deployments, the RBAC
//! pre-check of a read-only user, and the revision history the rollback dialog shows.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::config::Kubeconfig;
use serde_json::{Value, json};
use watchfloor::kube::client_config;
use watchfloor::kube::ops::{
    self, AccessError, Change, Op, OpError, RolloutStatus, check_access, history, perform,
    rollout_status,
};

use crate::support::{Kubectl, TestFleet, fleet_for_kubectl};

const WAIT: Duration = Duration::from_secs(90);
const WEB: &str = "registry.example.com/shop/web";

fn client(fleet: &TestFleet, context: &str) -> kube::Client {
    fleet.runtime.block_on(async {
        let kubeconfig = Kubeconfig::read_from(&fleet.kubeconfig).expect("kubeconfig");
        let config = client_config(&kubeconfig, context).await.expect("config");
        kube::Client::try_from(config).expect("client")
    })
}

fn get(fleet: &TestFleet, c: &kube::Client, name: &str) -> Deployment {
    let api: Api<Deployment> = Api::namespaced(c.clone(), "shop");
    fleet.runtime.block_on(api.get(name)).expect("deployment")
}

/// Polls the deployment until `pred` holds; panics with its rollout status after WAIT.
fn wait_for(
    fleet: &TestFleet,
    c: &kube::Client,
    name: &str,
    what: &str,
    pred: impl Fn(&Deployment) -> bool,
) -> Deployment {
    let start = Instant::now();
    loop {
        let d = get(fleet, c, name);
        if pred(&d) {
            return d;
        }
        assert!(
            start.elapsed() < WAIT,
            "{name}: {what} not reached within {WAIT:?}; rollout status: {:?}",
            rollout_status(&d)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn ready(d: &Deployment, replicas: i32) -> bool {
    rollout_status(d) == RolloutStatus::Complete
        && d.status.as_ref().and_then(|s| s.ready_replicas) == Some(replicas)
}

fn image(d: &Deployment) -> String {
    d.spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0]
        .image
        .clone()
        .unwrap()
}

fn annotation(d: &Deployment, key: &str) -> Option<String> {
    d.metadata.annotations.as_ref()?.get(key).cloned()
}

fn run(fleet: &TestFleet, c: &kube::Client, name: &str, op: Op) -> Result<ops::Outcome, OpError> {
    fleet
        .runtime
        .block_on(perform(c, "shop", name, &op, Timestamp::now()))
}

/// What a rollback leaves behind, as kubectl sees it: the deployment's annotations and
/// template, and each ReplicaSet's annotations and replicas by image.
fn snapshot(k: &Kubectl, app: &str) -> Value {
    let d: Value =
        serde_json::from_str(&k.ok(&["get", "deploy", app, "-n", "shop", "-o", "json"])).unwrap();
    let rs: Value = serde_json::from_str(&k.ok(&[
        "get",
        "rs",
        "-n",
        "shop",
        "-l",
        &format!("app={app}"),
        "-o",
        "json",
    ]))
    .unwrap();
    let mut sets = BTreeMap::new();
    for r in rs["items"].as_array().unwrap() {
        let image = r["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .unwrap()
            .to_string();
        let mut template = r["spec"]["template"].clone();
        template["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .remove("pod-template-hash");
        sets.insert(
            image,
            json!({
                "annotations": r["metadata"]["annotations"],
                "replicas": r["spec"]["replicas"],
                "template": template,
            }),
        );
    }
    json!({
        "annotations": d["metadata"]["annotations"],
        "template": d["spec"]["template"],
        "replicasets": sets,
    })
}

fn rolled_out(k: &Kubectl, app: &str) {
    k.ok(&[
        "rollout",
        "status",
        &format!("deploy/{app}"),
        "-n",
        "shop",
        "--timeout=90s",
    ]);
}

#[test]
fn rollback_leaves_what_kubectl_rollout_undo_leaves() {
    let Some(fleet) = fleet_for_kubectl() else {
        return;
    };
    // The prod pair: the same templates in both (dev and staging differ in an env label).
    let kubectl = Kubectl::new(&fleet, "prod-eastus");
    let ours = Kubectl::new(&fleet, "prod-westus");
    let west = client(&fleet, "prod-westus");
    // The same history in both clusters: 1.4.2, then 1.5.0 and 1.6.0 with change causes.
    for k in [&kubectl, &ours] {
        rolled_out(k, "web");
    }
    for tag in ["1.5.0", "1.6.0"] {
        for k in [&kubectl, &ours] {
            let set = format!("app={WEB}:{tag}");
            k.ok(&["set", "image", "deploy/web", &set, "-n", "shop"]);
            // After the image: the controller copies the cause to the ReplicaSet it is rolling
            // out (annotating first would label the old one).
            let cause = format!("kubernetes.io/change-cause=bump web to {tag}");
            k.ok(&[
                "annotate",
                "deploy/web",
                "-n",
                "shop",
                &cause,
                "--overwrite",
            ]);
        }
        for k in [&kubectl, &ours] {
            rolled_out(k, "web");
        }
    }
    assert_eq!(snapshot(&kubectl, "web"), snapshot(&ours, "web"));

    // Undo to the previous revision, then to a named one.
    let (done, after) = undo_side_by_side(&fleet, &west, &kubectl, &ours, None);
    assert_eq!(done.text, "rolled back shop/web to revision 2");
    assert!(!done.skipped);
    assert_eq!(
        after["template"]["spec"]["containers"][0]["image"],
        format!("{WEB}:1.5.0")
    );
    assert_eq!(
        after["annotations"]["deployment.kubernetes.io/revision"],
        "4"
    );
    assert_eq!(
        after["annotations"]["kubernetes.io/change-cause"],
        "bump web to 1.5.0"
    );
    let (done, after) = undo_side_by_side(&fleet, &west, &kubectl, &ours, Some(1));
    assert_eq!(done.text, "rolled back shop/web to revision 1");
    assert_eq!(
        after["template"]["spec"]["containers"][0]["image"],
        format!("{WEB}:1.4.2")
    );
    assert_eq!(
        after["annotations"]["deployment.kubernetes.io/revision"],
        "5"
    );

    // Undo to the revision already running: skipped, in kubectl's words, and nothing written.
    let said = kubectl.ok(&[
        "rollout",
        "undo",
        "deploy/web",
        "-n",
        "shop",
        "--to-revision=5",
    ]);
    let before = get(&fleet, &west, "web").metadata.resource_version;
    let done = run(
        &fleet,
        &west,
        "web",
        Op::Rollback {
            to_revision: Some(5),
        },
    )
    .expect("skipped");
    assert!(done.skipped);
    assert_eq!(
        done.text,
        "skipped rollback (current template already matches revision 5)"
    );
    assert_eq!(said.trim(), format!("deployment.apps/web {}", done.text));
    assert_eq!(get(&fleet, &west, "web").metadata.resource_version, before);

    // A revision that is not there: kubectl's error, nothing written.
    let err = run(
        &fleet,
        &west,
        "web",
        Op::Rollback {
            to_revision: Some(42),
        },
    )
    .unwrap_err();
    let theirs = kubectl.fails(&[
        "rollout",
        "undo",
        "deploy/web",
        "-n",
        "shop",
        "--to-revision=42",
    ]);
    assert_eq!(
        err,
        OpError::Refused("unable to find specified revision 42 in history".into())
    );
    assert!(theirs.contains(err.text()), "{theirs}");
    assert_eq!(get(&fleet, &west, "web").metadata.resource_version, before);
}

/// `kubectl rollout undo [--to-revision=N]` on `kubectl`'s cluster and our rollback on `ours`
/// (`west` is its client), both rolled out; the two deployments and their ReplicaSets must then
/// be identical. Returns our outcome and the snapshot.
fn undo_side_by_side(
    fleet: &TestFleet,
    west: &kube::Client,
    kubectl: &Kubectl<'_>,
    ours: &Kubectl<'_>,
    to_revision: Option<u64>,
) -> (watchfloor::kube::ops::Outcome, serde_json::Value) {
    let mut args = vec!["rollout", "undo", "deploy/web", "-n", "shop"];
    let flag = to_revision.map(|r| format!("--to-revision={r}"));
    args.extend(flag.as_deref());
    assert_eq!(kubectl.ok(&args).trim(), "deployment.apps/web rolled back");
    let done = run(fleet, west, "web", Op::Rollback { to_revision }).expect("rolled back");
    for k in [kubectl, ours] {
        rolled_out(k, "web");
    }
    let after = snapshot(ours, "web");
    assert_eq!(snapshot(kubectl, "web"), after);
    (done, after)
}

fn set_image(fleet: &TestFleet, c: &kube::Client, app: &str, image: &str) {
    let api: Api<Deployment> = Api::namespaced(c.clone(), "shop");
    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": image}]}}}});
    fleet
        .runtime
        .block_on(api.patch(app, &PatchParams::default(), &Patch::Strategic(patch)))
        .expect("image set");
}

fn crash_looping(fleet: &TestFleet, c: &kube::Client) -> bool {
    let api: Api<Pod> = Api::namespaced(c.clone(), "shop");
    let pods = fleet
        .runtime
        .block_on(api.list(&ListParams::default().labels("app=web")))
        .expect("pods");
    pods.items.iter().any(|p| {
        p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .into_iter()
            .flatten()
            .any(|c| c.restart_count > 0 && c.image.ends_with(":1-crash"))
    })
}

#[test]
fn rollback_gets_a_stuck_rollout_going_again() {
    let fleet = TestFleet::start();
    let dev = client(&fleet, "dev");
    let staging = client(&fleet, "staging");
    for c in [&dev, &staging] {
        wait_for(&fleet, c, "web", "2 ready", |d| ready(d, 2));
    }
    // dev: a new pod that never gets ready, until the progress deadline passes.
    // staging: new pods that crash in a loop.
    set_image(&fleet, &dev, "web", &format!("{WEB}:1-unready"));
    set_image(&fleet, &staging, "web", &format!("{WEB}:1-crash"));
    let stuck = wait_for(&fleet, &dev, "web", "the progress deadline", |d| {
        matches!(rollout_status(d), RolloutStatus::Failed(_))
    });
    assert_eq!(
        rollout_status(&stuck),
        RolloutStatus::Failed("deployment \"web\" exceeded its progress deadline".into())
    );
    let row = watchfloor::kube::convert::workload_row(&stuck);
    assert_eq!(row.stalled.as_deref(), Some("ProgressDeadlineExceeded"));
    let start = Instant::now();
    while !crash_looping(&fleet, &staging) {
        assert!(start.elapsed() < WAIT, "no crash loop on staging");
        std::thread::sleep(Duration::from_millis(250));
    }

    for c in [&dev, &staging] {
        let done = run(&fleet, c, "web", Op::Rollback { to_revision: None }).expect("rolled back");
        assert_eq!(done.text, "rolled back shop/web to revision 1");
    }
    for c in [&dev, &staging] {
        let back = wait_for(&fleet, c, "web", "the old image back and complete", |d| {
            image(d) == format!("{WEB}:1.4.2") && ready(d, 2)
        });
        assert_eq!(
            annotation(&back, "deployment.kubernetes.io/revision").as_deref(),
            Some("3")
        );
        let row = watchfloor::kube::convert::workload_row(&back);
        assert_eq!((row.rollout, row.stalled), (RolloutStatus::Complete, None));
    }
}

#[test]
fn a_paused_deployment_is_refused_in_kubectls_words() {
    let Some(fleet) = fleet_for_kubectl() else {
        return;
    };
    let k = Kubectl::new(&fleet, "dev");
    let dev = client(&fleet, "dev");
    rolled_out(&k, "web");
    k.ok(&["rollout", "pause", "deploy/web", "-n", "shop"]);
    // The controller answers the pause with a status write of its own (Progressing turns
    // Unknown, reason DeploymentPaused); only after it does the deployment hold still.
    let before = wait_for(&fleet, &dev, "web", "the paused condition", |d| {
        d.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.type_ == "Progressing" && c.reason.as_deref() == Some("DeploymentPaused")
                })
            })
    })
    .metadata
    .resource_version;

    let err = run(
        &fleet,
        &dev,
        "web",
        Op::Rollback {
            to_revision: Some(1),
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        OpError::Refused(
            "you cannot rollback a paused deployment; resume it first with 'kubectl rollout \
             resume' and try again"
                .into()
        )
    );
    let theirs = k.fails(&[
        "rollout",
        "undo",
        "deploy/web",
        "-n",
        "shop",
        "--to-revision=1",
    ]);
    assert!(theirs.contains(err.text()), "kubectl said: {theirs}");

    let err = run(&fleet, &dev, "web", Op::Restart).unwrap_err();
    assert_eq!(
        err,
        OpError::Refused(
            "deployments.apps \"web\" can't restart paused deployment (run rollout resume first)"
                .into()
        )
    );
    let theirs = k.fails(&["rollout", "restart", "deploy/web", "-n", "shop"]);
    assert!(theirs.contains(err.text()), "kubectl said: {theirs}");
    assert_eq!(get(&fleet, &dev, "web").metadata.resource_version, before);
}

fn pod_names(fleet: &TestFleet, c: &kube::Client, app: &str) -> BTreeSet<String> {
    let api: Api<Pod> = Api::namespaced(c.clone(), "shop");
    let pods = fleet
        .runtime
        .block_on(api.list(&ListParams::default().labels(&format!("app={app}"))))
        .expect("pods");
    pods.items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| p.metadata.name)
        .collect()
}

#[test]
fn restart_writes_what_kubectl_rollout_restart_writes() {
    let Some(fleet) = fleet_for_kubectl() else {
        return;
    };
    let kubectl = Kubectl::new(&fleet, "dev");
    let dev = client(&fleet, "dev");
    let staging = client(&fleet, "staging");
    for c in [&dev, &staging] {
        wait_for(&fleet, c, "worker", "1 ready", |d| ready(d, 1));
    }
    let pods_before = pod_names(&fleet, &staging, "worker");
    let started = Timestamp::now();
    kubectl.ok(&["rollout", "restart", "deploy/worker", "-n", "shop"]);
    let done = run(&fleet, &staging, "worker", Op::Restart).expect("restarted");
    assert_eq!(done.text, "restarted shop/worker");

    let restarted = |d: &Deployment| {
        annotation(d, "deployment.kubernetes.io/revision").as_deref() == Some("2") && ready(d, 1)
    };
    let theirs = wait_for(&fleet, &dev, "worker", "revision 2 rolled out", restarted);
    let ours = wait_for(
        &fleet,
        &staging,
        "worker",
        "revision 2 rolled out",
        restarted,
    );
    let stamps = |d: &Deployment| {
        d.spec
            .as_ref()
            .unwrap()
            .template
            .metadata
            .as_ref()
            .and_then(|m| m.annotations.clone())
            .unwrap_or_default()
    };
    let (theirs, ours) = (stamps(&theirs), stamps(&ours));
    assert_eq!(
        theirs.keys().collect::<Vec<_>>(),
        ours.keys().collect::<Vec<_>>(),
        "the same template annotation as kubectl"
    );
    let at: Timestamp = ours["kubectl.kubernetes.io/restartedAt"]
        .parse()
        .expect("an RFC 3339 time");
    let slack = jiff::SignedDuration::from_secs(2);
    assert!(
        at >= started - slack && at <= Timestamp::now() + slack,
        "{at}"
    );

    let start = Instant::now();
    loop {
        let now = pod_names(&fleet, &staging, "worker");
        if now.len() == 1 && now.is_disjoint(&pods_before) {
            break;
        }
        assert!(start.elapsed() < WAIT, "the pod was not replaced: {now:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn scale_and_the_history_the_rollback_dialog_shows() {
    let fleet = TestFleet::start();
    let dev = client(&fleet, "dev");
    wait_for(&fleet, &dev, "web", "2 ready", |d| ready(d, 2));
    let done = run(&fleet, &dev, "web", Op::Scale { replicas: 4 }).expect("scaled");
    assert_eq!(done.text, "scaled shop/web to 4 (was 2)");
    wait_for(&fleet, &dev, "web", "4 ready", |d| ready(d, 4));

    let api: Api<Deployment> = Api::namespaced(dev.clone(), "shop");
    let bump = json!({
        "metadata": {"annotations": {"kubernetes.io/change-cause": "bump web to 1.5.0"}},
        "spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": format!("{WEB}:1.5.0")}]}}}
    });
    fleet
        .runtime
        .block_on(api.patch("web", &PatchParams::default(), &Patch::Strategic(bump)))
        .expect("image set");
    wait_for(&fleet, &dev, "web", "1.5.0 rolled out", |d| {
        annotation(d, "deployment.kubernetes.io/revision").as_deref() == Some("2") && ready(d, 4)
    });

    let h = fleet
        .runtime
        .block_on(history(&dev, "shop", "web"))
        .expect("history");
    assert_eq!((h.paused, h.current), (false, Some(2)));
    let revisions: Vec<(u64, bool, u32, u32)> = h
        .revisions
        .iter()
        .map(|r| (r.revision, r.current, r.ready, r.desired))
        .collect();
    assert_eq!(revisions, [(2, true, 4, 4), (1, false, 0, 0)]);
    let (new, old) = (&h.revisions[0], &h.revisions[1]);
    assert_eq!(new.images, [format!("{WEB}:1.5.0")]);
    assert_eq!(new.change_cause.as_deref(), Some("bump web to 1.5.0"));
    assert!(new.diff.is_empty(), "{:?}", new.diff);
    assert_eq!(old.images, [format!("{WEB}:1.4.2")]);
    assert!(old.created.is_some());
    let diff: Vec<(Change, &str)> = old
        .diff
        .iter()
        .map(|l| (l.change, l.text.as_str()))
        .collect();
    assert_eq!(
        diff,
        [
            (Change::Removed, format!("image app: {WEB}:1.5.0").as_str()),
            (Change::Added, format!("image app: {WEB}:1.4.2").as_str()),
        ]
    );

    let missing = fleet
        .runtime
        .block_on(history(&dev, "shop", "nope"))
        .unwrap_err();
    assert!(missing.contains("not found"), "{missing}");
}

#[test]
fn a_read_only_user_is_stopped_by_the_access_check_before_any_write() {
    let fleet = TestFleet::start();
    let admin = client(&fleet, "dev");
    let viewer = client(&fleet, "viewer@dev");
    wait_for(&fleet, &admin, "web", "2 ready", |d| ready(d, 2));
    let check =
        |c: &kube::Client, op: Op| fleet.runtime.block_on(check_access(c, "shop", "web", &op));
    for op in [
        Op::Scale { replicas: 5 },
        Op::Restart,
        Op::Rollback { to_revision: None },
    ] {
        assert_eq!(check(&admin, op), Ok(()));
    }
    let before = get(&fleet, &admin, "web").metadata;

    let Err(AccessError::NotAllowed(text)) = check(&viewer, Op::Scale { replicas: 5 }) else {
        panic!("the viewer may not scale");
    };
    assert!(
        text.starts_with(
            "not allowed: you may not patch deployments/scale \"web\" in namespace \"shop\" \
             (SelfSubjectAccessReview said no"
        ),
        "{text}"
    );
    let Err(AccessError::NotAllowed(text)) = check(&viewer, Op::Restart) else {
        panic!("the viewer may not restart");
    };
    assert!(text.contains("patch deployments \"web\""), "{text}");

    // Had the caller gone on anyway, the server would have said no, readably.
    for op in [Op::Scale { replicas: 5 }, Op::Restart] {
        let Err(OpError::Api(text)) = run(&fleet, &viewer, "web", op) else {
            panic!("the viewer's write must be refused");
        };
        assert!(text.starts_with("deployment shop/web: forbidden"), "{text}");
    }
    let after = get(&fleet, &admin, "web").metadata;
    assert_eq!(
        (after.resource_version, after.generation),
        (before.resource_version, before.generation),
        "nothing was written"
    );

    // No server to ask: a distinct error, saying why.
    let nobody = fleet.runtime.block_on(async {
        let url: http::Uri = "http://127.0.0.1:1".parse().unwrap();
        let mut config = kube::Config::new(url);
        config.connect_timeout = Some(Duration::from_secs(2));
        kube::Client::try_from(config).expect("client")
    });
    let Err(AccessError::CouldNotCheck(text)) = check(&nobody, Op::Restart) else {
        panic!("an unreachable server is not a verdict");
    };
    assert!(text.contains("connection refused"), "{text}");
}
