//! The `watchfloor demo --headless` process: one line naming the kubeconfig, serving until
//! SIGTERM or SIGINT, then a clean exit with status 0.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::have;

/// Starts the headless demo with `args` and returns it with its start-up line.
fn spawn_demo(args: &[&std::ffi::OsStr]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_watchfloor"))
        .args(["demo", "--headless"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("watchfloor starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line)
}

fn demo_until_signal(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("nested/kubeconfig");
    let (mut child, line) = spawn_demo(&[
        "--seed".as_ref(),
        "7".as_ref(),
        "--kubeconfig-out".as_ref(),
        kubeconfig.as_os_str(),
    ]);
    assert!(
        line.contains(kubeconfig.to_str().unwrap()) && line.contains("4 simulated clusters"),
        "start-up line: {line:?}"
    );
    let text = std::fs::read_to_string(&kubeconfig).expect("kubeconfig written before the line");
    for context in ["dev", "staging", "prod-eastus", "prod-westus", "viewer@dev"] {
        assert!(
            text.contains(&format!("- name: {context}\n")),
            "context {context} missing"
        );
    }
    assert!(text.contains("certificate-authority-data: "));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&kubeconfig).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the kubeconfig holds tokens");

    if have("kubectl") {
        let out = Command::new("kubectl")
            .env("KUBECONFIG", &kubeconfig)
            .env("KUBECACHEDIR", dir.path().join("cache"))
            .args(["--context", "prod-westus", "get", "nodes", "--no-headers"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    }

    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "demo did not exit after {signal}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(exit.code(), Some(0), "demo exit after {signal}: {exit:?}");
}

#[test]
fn headless_demo_serves_until_sigterm() {
    demo_until_signal("-TERM");
}

#[test]
fn headless_demo_serves_until_sigint() {
    demo_until_signal("-INT");
}

#[test]
fn bad_demo_arguments_are_explained() {
    let out = Command::new(env!("CARGO_BIN_EXE_watchfloor"))
        .args(["demo", "--speed=-3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("speed"), "{err}");
}

#[test]
fn default_kubeconfig_is_temporary_and_removed_on_exit() {
    let (mut child, line) = spawn_demo(&[]);
    let path = std::path::PathBuf::from(line.trim().rsplit("kubeconfig: ").next().unwrap());
    assert!(path.is_file(), "kubeconfig at {path:?}");
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(
        !path.parent().unwrap().exists(),
        "temporary kubeconfig dir left behind"
    );
}

#[test]
fn a_bad_fleet_file_is_explained_with_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.yaml");
    std::fs::write(
        &file,
        "name: broken\nclusters:\n  - {name: dev, environment: dev, region: eastus}\napps:\n  - {name: web, namespace: shop, image: web:1, replicas: three}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_watchfloor"))
        .args(["demo", "--headless", "--fleet"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!("{}:5:", file.display());
    assert!(err.contains(&want), "{err}");
    assert!(err.contains("apps[0].replicas"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_watchfloor"))
        .args(["demo", "--headless", "--scenario", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no scenario \"nope\"") && err.contains("incident"),
        "{err}"
    );
}

#[test]
fn the_console_without_a_terminal_says_what_to_use_instead() {
    let out = Command::new(env!("CARGO_BIN_EXE_watchfloor"))
        .args(["demo", "--fleet", "small"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("watchfloor runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the console needs a terminal"), "{stderr}");
    assert!(stderr.contains("watchfloor demo --headless"), "{stderr}");
}
