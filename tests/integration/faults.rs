//! Faults of the timeline, seen the way a user sees them: through kubectl and the network.

use std::time::{Duration, Instant};

use jiff::SignedDuration;
use watchfloor::sim::fleetfile::{Action, PodTarget, Step};
use watchfloor::sim::timeline;

use crate::support::{Kubectl, fleet_for_kubectl, rows};

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn an_unreachable_cluster_refuses_connections_then_comes_back() {
    let Some(fleet) = fleet_for_kubectl() else {
        return;
    };
    let staging = Kubectl::new(&fleet, "staging");
    staging.ok(&["get", "pods", "-n", "shop"]);
    let cluster = fleet.fleet.cluster("staging").expect("staging");
    let addr = cluster.server.addr;
    // 60 simulated seconds at speed 20: three real seconds down, played as a timeline step.
    let step = Step {
        at: SignedDuration::ZERO,
        clusters: vec!["staging".into()],
        action: Action::Unreachable {
            duration: Some(SignedDuration::from_secs(60)),
        },
    };
    let outcomes = fleet
        .runtime
        .block_on(async { timeline::apply(&fleet.fleet, &step) });
    assert!(outcomes[0].result.is_ok(), "{outcomes:?}");
    // While down: the port refuses connections (once the listener's task has been cancelled,
    // within moments), kubectl says so, other clusters serve.
    let deadline = Instant::now() + Duration::from_secs(2);
    let refused = loop {
        match std::net::TcpStream::connect(addr) {
            // A connection caught in the closing listener's backlog is reset: still closing.
            Err(e)
                if e.kind() == std::io::ErrorKind::ConnectionReset && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => break e,
            Ok(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(_) => panic!("{addr} still accepts connections"),
        }
    };
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    let err = staging.fails(&["get", "pods", "-n", "shop"]);
    assert!(err.contains("was refused"), "{err}");
    Kubectl::new(&fleet, "dev").ok(&["get", "pods", "-n", "shop"]);
    // Back on the same address, with its state intact.
    let pods = staging.until(
        &["get", "pods", "-n", "shop", "--no-headers"],
        WAIT,
        |out| rows(out).len() == 5,
    );
    assert!(cluster.server.is_up(), "{pods}");
}

#[test]
fn a_crashed_pod_restarts_and_its_previous_logs_say_why() {
    let Some(fleet) = fleet_for_kubectl() else {
        return;
    };
    let dev = Kubectl::new(&fleet, "dev");
    dev.until(
        &["get", "pods", "-n", "shop", "-l", "app=web", "--no-headers"],
        WAIT,
        |out| rows(out).len() == 2 && rows(out).iter().all(|r| r[1] == "1/1"),
    );
    let cluster = fleet.fleet.cluster("dev").expect("dev");
    let pod = cluster
        .crash_pod("shop", &PodTarget::App("web".into()))
        .expect("a running web pod");
    let restarted = dev.until(
        &[
            "get",
            "pod",
            &pod,
            "-n",
            "shop",
            "-o",
            "jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].lastState.terminated.exitCode}",
        ],
        WAIT,
        |out| out.starts_with("1 "),
    );
    assert_eq!(restarted, "1 137");
    let previous = dev.ok(&["logs", &pod, "-n", "shop", "--previous"]);
    assert!(
        previous
            .trim_end()
            .ends_with("(crash injected by the demo's fault timeline)"),
        "{previous}"
    );
    // The other web pod was left alone.
    let all = dev.ok(&["get", "pods", "-n", "shop", "-l", "app=web", "--no-headers"]);
    let restarts: Vec<&str> = all
        .lines()
        .map(|l| l.split_whitespace().nth(3).unwrap_or(""))
        .collect();
    assert_eq!(restarts.iter().filter(|r| **r == "0").count(), 1, "{all}");
    let missing = cluster.crash_pod("shop", &PodTarget::App("nope".into()));
    assert!(missing.unwrap_err().contains("no running pod of app nope"));
}

#[test]
fn a_slow_api_server_answers_late_and_a_new_image_rolls_out() {
    let Some(fleet) = fleet_for_kubectl() else {
        return;
    };
    let prod = Kubectl::new(&fleet, "prod-westus");
    let cluster = fleet.fleet.cluster("prod-westus").expect("prod-westus");
    cluster.slow_api(Duration::from_millis(700), SignedDuration::from_secs(600));
    let started = Instant::now();
    prod.ok(&["get", "deploy", "-n", "shop"]);
    // kubectl makes at least one request; each waits 700 ms.
    assert!(started.elapsed() >= Duration::from_millis(700));
    cluster.slow_api(Duration::ZERO, SignedDuration::ZERO);

    cluster
        .set_image(
            "shop",
            "api",
            Some("app"),
            "registry.example.com/shop/api:2.4.2",
        )
        .expect("deployment exists");
    prod.ok(&[
        "rollout",
        "status",
        "deploy/api",
        "-n",
        "shop",
        "--timeout=60s",
    ]);
    // Old pods terminate after the rollout reports success; they go within their grace period.
    let images = prod.until(
        &[
            "get",
            "pods",
            "-n",
            "shop",
            "-l",
            "app=api",
            "-o",
            "jsonpath={.items[*].spec.containers[0].image}",
        ],
        WAIT,
        |out| out.split_whitespace().all(|i| i.ends_with(":2.4.2")),
    );
    assert_eq!(images.split_whitespace().count(), 2, "{images}");
    let err = cluster.set_image("shop", "nope", None, "x:1").unwrap_err();
    assert!(err.contains("not found"), "{err}");
}
