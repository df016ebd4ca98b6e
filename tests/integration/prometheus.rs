//! A real Prometheus (Debian's package) scrapes every simulated pod's /metrics through the API
//! server's pod proxy (`/api/v1/namespaces/NS/pods/POD:PORT/proxy/PATH`, bearer token, the fleet's
//! CA), as it can on a real cluster. Debian builds Prometheus without kubernetes_sd_configs, so
//! the test lists the pods itself and hands Prometheus one static target group per pod.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{TestFleet, have};

/// A Prometheus server on a loopback port, killed when dropped.
pub struct Prometheus {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Prometheus {
    /// Starts Prometheus scraping `pods` (namespace, name, port, path) of `cluster` every second.
    pub fn scraping(fleet: &TestFleet, cluster: &str, pods: &[Target]) -> Self {
        let running = fleet.fleet.cluster(cluster).expect("cluster exists");
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = dir.path().join("ca.pem");
        let token = dir.path().join("token");
        std::fs::write(&ca, &fleet.fleet.tls.ca_pem).expect("ca written");
        std::fs::write(&token, &running.admin.token).expect("token written");
        let api = running.server.addr;
        let groups: String = pods
            .iter()
            .map(|t| {
                format!(
                    "      - targets: ['{api}']\n        labels: {{__metrics_path__: '/api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy{path}', namespace: '{ns}', pod: '{pod}', app: '{app}'}}\n",
                    ns = t.namespace,
                    pod = t.pod,
                    port = t.port,
                    path = t.path,
                    app = t.app,
                )
            })
            .collect();
        let config = format!(
            r#"global: {{scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s}}
scrape_configs:
  - job_name: pods
    scheme: https
    tls_config: {{ca_file: {ca}}}
    authorization: {{credentials_file: {token}}}
    static_configs:
{groups}"#,
            ca = ca.display(),
            token = token.display(),
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::File::create(&config_path)
            .and_then(|mut f| f.write_all(config.as_bytes()))
            .expect("config written");
        spawn(dir, &config_path, &[])
    }

    /// The log Prometheus wrote so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// Runs an instant query; None while Prometheus is not up yet.
    pub fn query(&self, promql: &str) -> Option<Vec<Value>> {
        let resp = crate::support::http()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", promql)])
            .timeout(Duration::from_secs(5))
            .send()
            .ok()?;
        let body: Value = resp.json().ok()?;
        body["data"]["result"].as_array().cloned()
    }

    /// An instant query evaluated at `at_ms` (its result vector); panics with the log when
    /// Prometheus does not answer or reports an error.
    pub fn query_at(&self, promql: &str, at_ms: i64) -> Vec<Value> {
        let at = format!("{:.3}", at_ms as f64 / 1000.0);
        let body: Value = crate::support::http()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", promql), ("time", at.as_str())])
            .timeout(Duration::from_secs(10))
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("{promql}: {e}\n{}", self.log()));
        assert_eq!(body["status"], "success", "{promql}: {body}");
        body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits (at most a minute) until `n` targets are up.
    pub fn until_all_up(&mut self, n: usize) {
        self.until("count(up == 1)", Duration::from_secs(60), |r| {
            r.first()
                .and_then(|s| s["value"][1].as_str())
                .and_then(|v| v.parse::<usize>().ok())
                == Some(n)
        });
    }

    /// watchfloor's client for this server, as environment `environment`'s Prometheus.
    pub fn client(&self, environment: &str) -> watchfloor::metrics::remote::PromClient {
        use watchfloor::config::endpoints::{Auth, PrometheusCompat, PrometheusConfig};
        let config = PrometheusConfig {
            environment: environment.into(),
            url: self.url.parse().expect("URL"),
            auth: Auth::None,
            compat: PrometheusCompat::V3,
        };
        let http = watchfloor::metrics::scrape::http_client().expect("HTTP client");
        watchfloor::metrics::remote::PromClient::new(&config, http).expect("client")
    }

    /// The targets Prometheus knows, as its API reports them.
    pub fn targets(&self) -> Vec<Value> {
        crate::support::http()
            .get(format!("{}/api/v1/targets", self.url))
            .timeout(Duration::from_secs(5))
            .send()
            .ok()
            .and_then(|r| r.json::<Value>().ok())
            .and_then(|b| b["data"]["activeTargets"].as_array().cloned())
            .unwrap_or_default()
    }

    /// Polls `promql` until `pred` holds on its result, or panics with what Prometheus saw.
    pub fn until(
        &mut self,
        promql: &str,
        timeout: Duration,
        pred: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("prometheus exited ({status}):\n{}", self.log());
            }
            if let Some(result) = self.query(promql)
                && pred(&result)
            {
                return result;
            }
            if start.elapsed() > timeout {
                let targets: Vec<String> = self
                    .targets()
                    .iter()
                    .map(|t| format!("{} {} {}", t["scrapeUrl"], t["health"], t["lastError"]))
                    .collect();
                panic!(
                    "{promql}: condition not met within {timeout:?}; last result {:?}\ntargets:\n{}\nlog:\n{}",
                    self.query(promql),
                    targets.join("\n"),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// One pod for Prometheus to scrape, as its prometheus.io annotations describe it.
pub struct Target {
    pub namespace: String,
    pub pod: String,
    pub app: String,
    pub port: String,
    pub path: String,
}

/// The running pods of the cluster that ask to be scraped (`prometheus.io/scrape: "true"`).
pub fn scrape_targets(fleet: &TestFleet, cluster: &str) -> Vec<Target> {
    use k8s_openapi::api::core::v1::Pod;
    let running = fleet.fleet.cluster(cluster).expect("cluster exists");
    let store = running.cluster.store();
    let mut targets: Vec<Target> = store
        .list::<Pod>(None)
        .iter()
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
        .filter_map(|p| {
            let a = p.metadata.annotations.as_ref()?;
            (a.get("prometheus.io/scrape")? == "true").then_some(())?;
            Some(Target {
                namespace: p.metadata.namespace.clone()?,
                pod: p.metadata.name.clone()?,
                app: p.metadata.labels.as_ref()?.get("app")?.clone(),
                port: a.get("prometheus.io/port")?.clone(),
                path: a
                    .get("prometheus.io/path")
                    .cloned()
                    .unwrap_or_else(|| "/metrics".into()),
            })
        })
        .collect();
    targets.sort_by(|a, b| (&a.namespace, &a.pod).cmp(&(&b.namespace, &b.pod)));
    targets
}

/// The annotated running pods of `cluster` once their number has stopped changing (at most 30 s),
/// so the set Prometheus should find is settled.
pub fn settled_targets(fleet: &TestFleet, cluster: &str) -> Vec<Target> {
    let start = Instant::now();
    let mut targets = scrape_targets(fleet, cluster);
    let mut last = usize::MAX;
    while (targets.is_empty() || targets.len() != last) && start.elapsed() < Duration::from_secs(30)
    {
        last = targets.len();
        std::thread::sleep(Duration::from_millis(1000));
        targets = scrape_targets(fleet, cluster);
    }
    assert!(!targets.is_empty(), "no running pods to scrape");
    targets
}

/// Starts Prometheus on every annotated running pod of `cluster` and waits until it has scraped
/// each one successfully (`up == 1`) and ingested its HTTP or exporter samples.
pub fn scrape_all_until_up(fleet: &TestFleet, cluster: &str) {
    let targets = settled_targets(fleet, cluster);
    let mut expected: Vec<&str> = targets.iter().map(|t| t.pod.as_str()).collect();
    expected.sort();
    let mut prometheus = Prometheus::scraping(fleet, cluster, &targets);
    let up = prometheus.until("up", Duration::from_secs(60), |r| {
        let mut pods: Vec<&str> = r
            .iter()
            .filter(|s| s["value"][1] == "1")
            .filter_map(|s| s["metric"]["pod"].as_str())
            .collect();
        pods.sort();
        pods == expected
    });
    assert_eq!(up.len(), expected.len());
    // The samples are the apps' own: HTTP apps count requests, exporters report their datastore.
    let apps = prometheus.until(
        "count by (pod) (http_requests_total) or count by (pod) (pg_up) or count by (pod) (redis_up)",
        Duration::from_secs(30),
        |r| r.len() == expected.len(),
    );
    assert!(apps.iter().all(|s| s["metric"]["pod"].is_string()));
}

#[test]
fn prometheus_scrapes_every_pod_through_the_api_proxy() {
    if !have("prometheus") {
        return;
    }
    scrape_all_until_up(&TestFleet::start(), "prod-eastus");
}

/// A Prometheus that scrapes nothing and evaluates `rules` (a rule file's text) every second,
/// sending its alerts to the Alertmanager at `alertmanager` (`http://HOST:PORT`) and resending
/// them every second, so an alert test need not wait Prometheus's default minute.
pub fn evaluating_rules(rules: &str, alertmanager: &str) -> Prometheus {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules_path = dir.path().join("rules.yml");
    std::fs::write(&rules_path, rules).expect("rules written");
    let target = alertmanager
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let config = format!(
        "global: {{scrape_interval: 15s, evaluation_interval: 1s}}\n\
         rule_files: ['{rules}']\n\
         alerting:\n  alertmanagers:\n    - static_configs: [{{targets: ['{target}']}}]\n",
        rules = rules_path.display(),
    );
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(&config_path, config).expect("config written");
    spawn(dir, &config_path, &["--rules.alert.resend-delay=1s"])
}

/// A free loopback port, for other servers the tests start beside Prometheus.
pub fn loopback_port() -> u16 {
    free_port()
}

/// Starts Prometheus on a configuration `config` builds from the directory it runs in: there,
/// `ca.pem` (the fleet's CA) and `token` (`cluster`'s admin token) are written first, and
/// `files` (rule files, say) by name.
pub fn prometheus_with(
    fleet: &TestFleet,
    cluster: &str,
    files: &[(&str, String)],
    config: impl FnOnce(&std::path::Path) -> String,
) -> Prometheus {
    let running = fleet.fleet.cluster(cluster).expect("cluster exists");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("ca.pem"), &fleet.fleet.tls.ca_pem).expect("ca written");
    std::fs::write(dir.path().join("token"), &running.admin.token).expect("token written");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("file written");
    }
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(&config_path, config(dir.path())).expect("config written");
    spawn(dir, &config_path, &[])
}

/// Starts Prometheus on `config_path` with its data and log in `dir` (kept as long as the
/// returned handle), on a free loopback port, with `extra` flags.
fn spawn(dir: tempfile::TempDir, config_path: &std::path::Path, extra: &[&str]) -> Prometheus {
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(dir.path().join("prometheus.log")).expect("log file"),
        ))
        .spawn()
        .expect("prometheus starts");
    Prometheus {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    }
}

/// Prometheus's active alerts (`/api/v1/alerts`), or None when it does not answer.
pub fn alerts(prometheus: &Prometheus) -> Option<Vec<Value>> {
    let body: Value = crate::support::http()
        .get(format!("{}/api/v1/alerts", prometheus.url))
        .timeout(Duration::from_secs(5))
        .send()
        .ok()?
        .json()
        .ok()?;
    body["data"]["alerts"].as_array().cloned()
}
