//! watchfloor's Prometheus and Alertmanager clients against the real servers (Debian's
//! packages): a firing and a pending alert, one silenced in Alertmanager, read back through
//! `alerts::remote::poll` and merged with a local verdict that disagrees.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use watchfloor::alerts::model::{AlertState, Source};
use watchfloor::alerts::remote::{self, RemoteState};
use watchfloor::config::endpoints::{AlertmanagerConfig, Auth, PrometheusCompat, PrometheusConfig};

use crate::prometheus::{evaluating_rules, loopback_port};
use crate::support::have;

const RULES: &str = r#"groups:
  - name: remote-test
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        for: 0s
        labels: {severity: page}
        annotations: {summary: "value {{ $value }}"}
      - alert: SlowPending
        expr: vector(2)
        for: 1h
        labels: {severity: ticket}
"#;

/// An Alertmanager on a loopback port with its own storage, clustering off; killed when dropped.
struct Alertmanager {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Alertmanager {
    fn start(program: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("alertmanager.yml");
        // A receiver that notifies nobody: the test reads the API only.
        std::fs::write(
            &config,
            "route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n",
        )
        .expect("config written");
        let port = loopback_port();
        let child = Command::new(program)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("alertmanager.log")).expect("log file"),
            ))
            .spawn()
            .expect("alertmanager starts");
        Alertmanager {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("alertmanager.log")).unwrap_or_default()
    }

    /// Creates a silence for `alertname` (retrying until the server is up); returns its id.
    fn silence(&mut self, alertname: &str) -> String {
        let now = jiff::Timestamp::now();
        let body = json!({
            "matchers": [{"name": "alertname", "value": alertname, "isRegex": false, "isEqual": true}],
            "startsAt": now.to_string(),
            "endsAt": (now + jiff::SignedDuration::from_hours(1)).to_string(),
            "createdBy": "watchfloor-test",
            "comment": "silenced by the integration test",
        });
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("alertmanager exited ({status}):\n{}", self.log());
            }
            let answer = crate::support::http()
                .post(format!("{}/api/v2/silences", self.url))
                .json(&body)
                .timeout(Duration::from_secs(5))
                .send()
                .and_then(|r| r.json::<Value>());
            if let Ok(v) = answer
                && let Some(id) = v["silenceID"].as_str()
            {
                return id.to_string();
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "alertmanager did not take a silence within 30s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Debian names the binary prometheus-alertmanager; upstream's tarball names it alertmanager.
fn alertmanager_program() -> Option<&'static str> {
    ["prometheus-alertmanager", "alertmanager"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok())
        .or_else(|| {
            have("prometheus-alertmanager");
            None
        })
}

/// Whether the poll shows what the servers were set up to say.
fn settled(state: &RemoteState, silence: &str) -> bool {
    let prom = state.alerts.as_deref().unwrap_or_default();
    let am = state.am_alerts.as_deref().unwrap_or_default();
    let has = |name: &str, st: AlertState| prom.iter().any(|a| a.name == name && a.state == st);
    has("AlwaysFiring", AlertState::Firing)
        && has("SlowPending", AlertState::Pending)
        && am
            .iter()
            .any(|a| a.name == "AlwaysFiring" && a.silenced_by == [silence])
}

#[test]
fn alert_state_from_real_prometheus_and_alertmanager() {
    if !have("prometheus") {
        return;
    }
    let Some(program) = alertmanager_program() else {
        return;
    };
    let mut am = Alertmanager::start(program);
    let silence = am.silence("AlwaysFiring");
    let prom = evaluating_rules(RULES, &am.url);
    let prom_cfg = PrometheusConfig {
        environment: "prod".into(),
        url: prom.url.parse().expect("URL"),
        auth: Auth::None,
        compat: PrometheusCompat::V2,
    };
    let am_cfg = AlertmanagerConfig {
        environment: "prod".into(),
        url: am.url.parse().expect("URL"),
        auth: Auth::None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let http = watchfloor::metrics::scrape::http_client().expect("HTTP client");
    let start = Instant::now();
    let state = loop {
        let state = runtime.block_on(remote::poll(&http, "prod", Some(&prom_cfg), Some(&am_cfg)));
        if settled(&state, &silence) {
            break state;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not settled within 60s; last poll: {state:#?}\nprometheus log:\n{}\nalertmanager log:\n{}",
            prom.log(),
            am.log()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    eprintln!("settled after {:?}", start.elapsed());

    assert!(
        state.statuses.iter().all(|s| s.error.is_none()),
        "{:?}",
        state.statuses
    );
    assert_eq!(state.statuses.len(), 2);
    let rules: Vec<(&str, Option<&str>)> = state
        .rules
        .iter()
        .map(|r| (r.name.as_str(), r.error.as_deref()))
        .collect();
    assert_eq!(rules, [("AlwaysFiring", None), ("SlowPending", None)]);
    assert!(
        state
            .rules
            .iter()
            .all(|r| r.origin.ends_with(" › remote-test"))
    );
    let ours = state
        .silences
        .iter()
        .find(|s| s.id == silence)
        .expect("our silence is listed");
    assert_eq!(ours.matchers_text(), "{alertname=\"AlwaysFiring\"}");
    assert_eq!(ours.state, remote::SilenceState::Active);
    assert_eq!(ours.created_by, "watchfloor-test");

    // A local evaluator that thinks the slow alert already fires is contradicted, not believed.
    let mut local = state
        .alerts
        .clone()
        .unwrap_or_default()
        .into_iter()
        .find(|a| a.name == "SlowPending")
        .expect("SlowPending");
    local.source = Source::Local;
    local.state = AlertState::Firing;
    let merged = remote::merge(vec![local], state.alerts.clone(), state.am_alerts.clone());
    let firing = merged
        .iter()
        .find(|a| a.name == "AlwaysFiring")
        .expect("AlwaysFiring");
    assert_eq!(firing.state, AlertState::Firing);
    assert_eq!(firing.source, Source::Prometheus);
    assert_eq!(firing.silenced_by, [silence]);
    assert_eq!(firing.expr.as_deref(), Some("vector(1)"));
    assert_eq!(firing.value, Some(1.0));
    assert_eq!(firing.label("severity"), Some("page"));
    assert_eq!(
        firing.annotations,
        [("summary".to_string(), "value 1".to_string())]
    );
    assert!(firing.active_at.is_some());
    let pending = merged
        .iter()
        .find(|a| a.name == "SlowPending")
        .expect("SlowPending");
    assert_eq!(pending.state, AlertState::Pending);
    assert_eq!(pending.source, Source::Prometheus);
    assert_eq!(
        pending.disagreement.as_deref(),
        Some("local evaluation says firing")
    );
    assert_eq!(merged.len(), 2, "{merged:#?}");
}
