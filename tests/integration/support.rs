//! Shared test plumbing: a simulated fleet per test, running on its own runtime thread, and the
//! rule for external programs (skip loudly, or fail under WATCHFLOOR_REQUIRE_EXTERNAL=1).

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use watchfloor::sim::fleet::{self, FleetOptions, RunningFleet};
use watchfloor::sim::fleetfile::{self, FleetFile};

/// A fleet serving on loopback for one test, with its kubeconfig written to a temp dir.
pub struct TestFleet {
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
    pub runtime: tokio::runtime::Runtime,
    pub fleet: Arc<RunningFleet>,
}

impl TestFleet {
    /// The small shop fleet (`fleets/small.yaml`) at 20x speed.
    pub fn start() -> Self {
        Self::start_with(
            &fleetfile::resolve("small").expect("the small fleet is valid"),
            FleetOptions {
                speed: 20.0,
                ..Default::default()
            },
        )
    }

    pub fn start_with(def: &FleetFile, opts: FleetOptions) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let fleet = runtime
            .block_on(fleet::start(def, &opts))
            .map(Arc::new)
            .expect("fleet starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        watchfloor::sim::demo::write_kubeconfig(&fleet, &kubeconfig).expect("kubeconfig written");
        Self {
            dir,
            kubeconfig,
            runtime,
            fleet,
        }
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.dir.path().join("kube-cache")
    }
}

/// Whether an external program is here; if not, skip loudly or fail when it is required.
pub fn have(program: &str) -> bool {
    let found = Command::new(program)
        .arg("version")
        .arg("--client")
        .output()
        .is_ok();
    if !found {
        if std::env::var("WATCHFLOOR_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
            panic!(
                "{program} is required (WATCHFLOOR_REQUIRE_EXTERNAL=1) but was not found on PATH"
            );
        }
        eprintln!("SKIP: {program} not found on PATH; this test did not run");
    }
    found
}

/// A fresh fleet for a kubectl test, or None (after a loud SKIP) when kubectl is missing.
pub fn fleet_for_kubectl() -> Option<TestFleet> {
    have("kubectl").then(TestFleet::start)
}

/// The machine's kubectl, pointed at a test fleet.
pub struct Kubectl<'a> {
    pub fleet: &'a TestFleet,
    pub context: String,
}

impl<'a> Kubectl<'a> {
    pub fn new(fleet: &'a TestFleet, context: &str) -> Self {
        Self {
            fleet,
            context: context.to_string(),
        }
    }

    pub fn raw(&self, args: &[&str]) -> Output {
        Command::new("kubectl")
            .env("KUBECONFIG", &self.fleet.kubeconfig)
            .env("KUBECACHEDIR", self.fleet.cache_dir())
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .arg("--context")
            .arg(&self.context)
            .arg("--request-timeout=20s")
            .args(args)
            .output()
            .expect("kubectl runs")
    }

    /// Runs kubectl and returns stdout; panics with both streams when it fails.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.raw(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "kubectl {args:?} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
            out.status
        );
        stdout
    }

    /// Runs kubectl expecting failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.raw(args);
        assert!(
            !out.status.success(),
            "kubectl {args:?} should have failed but printed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Polls `args` until `pred` holds on its stdout, or panics after `timeout` with the last output.
    pub fn until(&self, args: &[&str], timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let out = self.raw(args);
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            if out.status.success() && pred(&stdout) {
                return stdout;
            }
            if start.elapsed() > timeout {
                panic!(
                    "kubectl {args:?}: condition not met within {timeout:?}; last output:\n{stdout}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// The rows of a kubectl table, split on runs of spaces.
pub fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// A blocking HTTP client for talking to test peers (Prometheus). reqwest is built without a TLS
/// provider of its own here, so the process's (ring) is installed first.
pub fn http() -> reqwest::blocking::Client {
    watchfloor::metrics::scrape::ensure_crypto_provider();
    reqwest::blocking::Client::new()
}
