//! `watchfloor status` through the real binary: table and JSON, and its exit codes.

use std::process::{Command, Output};

use serde_json::Value;

use crate::support::TestFleet;

fn status(fleet: &TestFleet, config: &std::path::Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_watchfloor"))
        .arg("--kubeconfig")
        .arg(&fleet.kubeconfig)
        .arg("--config")
        .arg(config)
        .arg("status")
        .args(extra)
        .env("XDG_CONFIG_HOME", fleet.dir.path())
        .output()
        .expect("watchfloor runs")
}

fn config(fleet: &TestFleet) -> std::path::PathBuf {
    let path = fleet.dir.path().join("config.toml");
    let small = watchfloor::sim::fleetfile::resolve("small").unwrap();
    std::fs::write(&path, watchfloor::sim::demo::console_config(&small)).unwrap();
    path
}

#[test]
fn status_reports_each_environment_and_says_unreachable_with_exit_2() {
    let fleet = TestFleet::start();
    let config = config(&fleet);
    let out = status(&fleet, &config, &["--output", "json", "--timeout", "30"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(json["environments"][2]["name"], "prod");
    assert_eq!(json["environments"][2]["protected"], true);
    let prod = &json["environments"][2]["clusters"][1];
    assert_eq!(prod["context"], "prod-westus");
    assert_eq!(prod["connection"], "synced");
    assert!(
        prod["server_version"]
            .as_str()
            .unwrap()
            .starts_with("v1.32")
    );
    let names: Vec<&str> = prod["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"web") && names.contains(&"api"),
        "{names:?}"
    );
    let code = out.status.code().unwrap();
    assert!(
        code == 0 || code == 1,
        "synced clusters exit 0 or 1, got {code}: {stdout}"
    );
    assert_eq!(code == 0, json["status"] == "healthy");

    // prod goes away: unreachable, exit 2, and the table says why.
    fleet
        .fleet
        .clusters
        .iter()
        .find(|c| c.def.name == "prod-westus")
        .unwrap()
        .server
        .stop();
    let out = status(&fleet, &config, &["--timeout", "20"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{table}");
    assert!(table.starts_with("fleet: unreachable\n"), "{table}");
    assert!(
        table.contains("PROD       prod-westus          unreachable"),
        "{table}"
    );
    assert!(table.contains("    error: "), "{table}");
}

#[test]
fn status_with_bad_input_exits_2_with_the_reason() {
    let fleet = TestFleet::start();
    let path = fleet.dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[[environments]]\nname = \"dev\"\ncontexts = [\"dev\"]\ncolour = \"red\"\n",
    )
    .unwrap();
    let out = status(&fleet, &path, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.toml:4:1"), "{stderr}");
    assert!(out.stdout.is_empty());
}
