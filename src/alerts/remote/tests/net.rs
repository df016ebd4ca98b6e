//! The client against a loopback fake server: what it sends (credentials, read at each request)
//! and how every failure reads.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::alerts::model::Source;
use crate::alerts::remote::{self, poll_with};
use crate::config::endpoints::{
    AlertmanagerConfig, Auth, PrometheusCompat, PrometheusConfig, SecretSource,
};

/// What the fake answers each request with; `None` never answers (a stalled server).
type Reply = Option<(u16, String)>;

/// Serves `replies` in turn (the last one repeated) and records each request's head.
async fn fake(replies: Vec<Reply>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        let mut n = 0usize;
        while let Ok((mut sock, _)) = listener.accept().await {
            let reply = replies.get(n).or(replies.last()).cloned().flatten();
            n += 1;
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => head.extend_from_slice(&buf[..k]),
                    }
                }
                log.lock()
                    .expect("log")
                    .push(String::from_utf8_lossy(&head).into_owned());
                let Some((code, body)) = reply else {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return;
                };
                let answer = format!(
                    "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

fn prom(url: &str, auth: Auth) -> PrometheusConfig {
    PrometheusConfig {
        environment: "prod".into(),
        url: url.parse().expect("URL"),
        auth,
        compat: PrometheusCompat::V2,
    }
}

fn am(url: &str, auth: Auth) -> AlertmanagerConfig {
    AlertmanagerConfig {
        environment: "prod".into(),
        url: url.parse().expect("URL"),
        auth,
    }
}

fn client() -> reqwest::Client {
    crate::metrics::scrape::http_client().expect("client")
}

const ALERTS: &str = r#"{"status":"success","data":{"alerts":[{"labels":{"alertname":"A"},"state":"firing","value":"1e+00"}]}}"#;
const RULES: &str = r#"{"status":"success","data":{"groups":[{"name":"g","file":"f.yml","rules":[{"name":"A","query":"vector(1)","type":"alerting","health":"ok","alerts":[{"labels":{"alertname":"A"},"state":"firing","value":"1e+00"}]}]}]}}"#;

#[tokio::test]
async fn a_stalled_server_times_out_instead_of_hanging() {
    let (url, _) = fake(vec![None]).await;
    let cfg = prom(&url, Auth::None);
    let started = Instant::now();
    let state = poll_with(
        &client(),
        "prod",
        Some(&cfg),
        None,
        Duration::from_millis(300),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let error = state.statuses[0].error.clone().unwrap_or_default();
    assert_eq!(error, format!("{url}/api/v1/rules: no answer within 0.3s"));
    assert_eq!(state.alerts, None, "no answer is not an empty answer");
}

#[tokio::test]
async fn a_refused_connection_says_so() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let url = format!("http://127.0.0.1:{port}");
    let got = remote::prometheus_alerts(&client(), &prom(&url, Auth::None)).await;
    assert_eq!(
        got,
        Err(format!(
            "cannot reach {url}/api/v1/alerts: connection refused"
        ))
    );
}

#[tokio::test]
async fn http_errors_show_the_status_and_a_short_excerpt() {
    let long = format!("boom {}", "x".repeat(500));
    let (url, _) = fake(vec![
        Some((500, long)),
        Some((200, "<html>login</html>".into())),
    ])
    .await;
    let got = remote::prometheus_alerts(&client(), &prom(&url, Auth::None)).await;
    let error = got.expect_err("an error");
    assert!(
        error.starts_with(&format!(
            "{url}/api/v1/alerts: HTTP 500 Internal Server Error: boom xxx"
        )),
        "{error}"
    );
    assert!(error.chars().count() < 300, "excerpt is short: {error}");
    let got = remote::prometheus_alerts(&client(), &prom(&url, Auth::None)).await;
    let error = got.expect_err("an error");
    assert!(
        error.starts_with(&format!(
            "malformed answer from {url}/api/v1/alerts: not JSON"
        )),
        "{error}"
    );
    assert!(error.ends_with("<html>login</html>"), "{error}");
}

#[tokio::test]
async fn a_login_wall_without_credentials_says_what_to_configure() {
    let (url, _) = fake(vec![Some((401, "Unauthorized".into()))]).await;
    let error = remote::alertmanager_alerts(&client(), &am(&url, Auth::None))
        .await
        .expect_err("an error");
    assert_eq!(
        error,
        format!(
            "{url}/api/v2/alerts: HTTP 401 Unauthorized — the server wants credentials and none are \
             configured: set bearer_token_file, bearer_token_env or basic_auth in [[alertmanager]]"
        )
    );
}

#[tokio::test]
async fn the_bearer_token_file_is_read_at_each_request_and_never_shown() {
    let dir = tempfile::tempdir().expect("dir");
    let token = dir.path().join("token");
    std::fs::write(&token, "first-secret\n").expect("write");
    let (url, seen) = fake(vec![Some((200, ALERTS.into())), Some((403, "no".into()))]).await;
    let cfg = prom(&url, Auth::Bearer(SecretSource::File(token.clone())));
    let alerts = remote::prometheus_alerts(&client(), &cfg)
        .await
        .expect("answer");
    assert_eq!(alerts[0].name, "A");
    std::fs::write(&token, "second-secret").expect("rotate");
    let error = remote::prometheus_alerts(&client(), &cfg)
        .await
        .expect_err("denied");
    assert!(
        error.contains("HTTP 403 Forbidden — check the bearer token in the file"),
        "{error}"
    );
    assert!(!error.contains("secret"), "{error}");
    let heads = seen.lock().expect("log").clone();
    assert!(
        heads[0].starts_with("GET /api/v1/alerts HTTP/1.1"),
        "{}",
        heads[0]
    );
    assert!(
        heads[0]
            .to_lowercase()
            .contains("authorization: bearer first-secret"),
        "{}",
        heads[0]
    );
    assert!(
        heads[1]
            .to_lowercase()
            .contains("authorization: bearer second-secret"),
        "{}",
        heads[1]
    );
}

#[tokio::test]
async fn basic_auth_and_a_path_prefix() {
    let dir = tempfile::tempdir().expect("dir");
    let password = dir.path().join("pw");
    std::fs::write(&password, "hunter2").expect("write");
    let (url, seen) = fake(vec![Some((200, "[]".into()))]).await;
    let auth = Auth::Basic {
        username: "oncall".into(),
        password: SecretSource::File(password),
    };
    let cfg = am(&format!("{url}/alertmanager/"), auth);
    let silences = remote::alertmanager_silences(&client(), &cfg)
        .await
        .expect("answer");
    assert!(silences.is_empty());
    let head = seen.lock().expect("log")[0].clone();
    assert!(
        head.starts_with("GET /alertmanager/api/v2/silences HTTP/1.1"),
        "{head}"
    );
    // base64("oncall:hunter2")
    assert!(
        head.to_lowercase()
            .contains("authorization: basic b25jywxsomh1bnrlcji="),
        "{head}"
    );
}

#[tokio::test]
async fn missing_credentials_fail_before_any_request() {
    let (url, seen) = fake(vec![Some((200, ALERTS.into()))]).await;
    let auth = Auth::Bearer(SecretSource::Env(
        "WATCHFLOOR_TEST_SURELY_UNSET_TOKEN".into(),
    ));
    let error = remote::prometheus_alerts(&client(), &prom(&url, auth))
        .await
        .expect_err("an error");
    assert_eq!(
        error,
        "cannot read the credentials: environment variable WATCHFLOOR_TEST_SURELY_UNSET_TOKEN is not set"
    );
    assert!(seen.lock().expect("log").is_empty());
}

#[tokio::test]
async fn poll_reports_each_source_on_its_own() {
    let (prom_url, _) = fake(vec![Some((200, RULES.into()))]).await;
    let (am_url, seen) = fake(vec![
        Some((200, "[]".into())),
        Some((502, "bad gateway".into())),
    ])
    .await;
    let p = prom(&prom_url, Auth::None);
    let a = am(&am_url, Auth::None);
    let state = poll_with(
        &client(),
        "staging",
        Some(&p),
        Some(&a),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(state.rules.len(), 1);
    let alerts = state.alerts.clone().unwrap_or_default();
    assert_eq!(
        (alerts.len(), alerts[0].environment.as_str()),
        (1, "staging")
    );
    assert_eq!(alerts[0].expr.as_deref(), Some("vector(1)"));
    assert_eq!(state.statuses.len(), 2);
    assert_eq!(
        (state.statuses[0].source, state.statuses[0].error.clone()),
        (Source::Prometheus, None)
    );
    assert_eq!(state.statuses[1].source, Source::Alertmanager);
    // Which of the two concurrent requests got the 502 is up to the scheduler.
    let error = state.statuses[1].error.clone().unwrap_or_default();
    assert!(
        error.contains("HTTP 502 Bad Gateway: bad gateway"),
        "{error}"
    );
    assert_eq!(seen.lock().expect("log").len(), 2);

    let none = poll_with(&client(), "dev", None, None, Duration::from_secs(1)).await;
    assert_eq!(none, remote::RemoteState::default());
}
