//! A realistic alerts snapshot over the test fleet (names from the seed fleet): HighErrorRate
//! firing on arq/arq-backend in prod-westus, SlowResponseTime pending on covetpy/covet-api, a
//! resolved RedisDown, a silenced crash loop in staging, a firing alert local evaluation
//! disagrees with, an alert whose rule fails locally (a subquery), and staging's Prometheus down.

use std::sync::Arc;

use jiff::Timestamp;

use super::AlertsMsg;
use crate::alerts::model::{Alert, AlertState, AlertsSnapshot, RuleStatus, Source, SourceStatus};
use crate::kube::{Change, KubeMsg, Row};
use crate::state::testing::{at, fleet_state, pod, t0, workload};
use crate::state::{Msg, State, update};

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    out.sort();
    out
}

/// An alert with the fields every one has; the caller adjusts the rest.
pub fn alert(name: &str, state: AlertState, env: &str, labels: &[(&str, &str)]) -> Alert {
    let mut all = vec![("alertname", name)];
    all.extend_from_slice(labels);
    Alert {
        name: name.into(),
        state,
        labels: pairs(&all),
        annotations: Vec::new(),
        active_at: Some(at(-60)),
        resolved_at: None,
        value: Some(1.0),
        expr: None,
        origin: None,
        source: Source::Prometheus,
        environment: env.into(),
        silenced_by: Vec::new(),
        inhibited_by: Vec::new(),
        disagreement: None,
    }
}

fn rule(env: &str, origin: &str, name: &str, expr: &str, error: Option<&str>) -> RuleStatus {
    RuleStatus {
        environment: env.into(),
        origin: origin.into(),
        name: name.into(),
        expr: expr.into(),
        error: error.map(Into::into),
        last_eval: Some(at(-10)),
        source: Source::Local,
    }
}

const ERROR_RATIO: &str = "sum(rate(http_requests_total{job=\"arq-backend\",code=~\"5..\"}[5m])) / sum(rate(http_requests_total{job=\"arq-backend\"}[5m])) > 0.05";

pub fn snapshot() -> AlertsSnapshot {
    let mut high = alert(
        "HighErrorRate",
        AlertState::Firing,
        "prod",
        &[
            ("cluster", "prod-westus"),
            ("namespace", "arq"),
            ("deployment", "arq-backend"),
            ("severity", "critical"),
        ],
    );
    high.active_at = Some(at(-252));
    high.value = Some(0.0723);
    high.expr = Some(ERROR_RATIO.into());
    high.origin = Some("rules/arq.yaml › arq-backend".into());
    high.annotations = pairs(&[
        ("summary", "arq-backend error ratio 7.2% in prod-westus"),
        (
            "description",
            "More than 5% of requests to arq-backend fail with a 5xx status.",
        ),
        (
            "runbook_url",
            "https://runbooks.example/arq/high-error-rate",
        ),
    ]);

    let mut slow = alert(
        "SlowResponseTime",
        AlertState::Pending,
        "prod",
        &[
            ("namespace", "covetpy"),
            ("service", "covet-api"),
            ("severity", "warning"),
        ],
    );
    slow.active_at = Some(at(-63));
    slow.value = Some(1.3);
    slow.source = Source::Local;
    slow.origin = Some("rules/covetpy.yaml › latency".into());
    slow.annotations = pairs(&[("summary", "p95 1.3s on covet-api")]);

    let mut redis = alert(
        "RedisDown",
        AlertState::Resolved,
        "prod",
        &[
            ("cluster", "prod-eastus"),
            ("namespace", "arq"),
            ("job", "redis"),
            ("severity", "critical"),
        ],
    );
    redis.active_at = Some(at(-1500));
    redis.resolved_at = Some(at(-300));
    redis.value = Some(0.0);
    redis.annotations = pairs(&[("description", "Redis in arq has been unreachable for 1m.")]);

    let mut crash = alert(
        "KubePodCrashLooping",
        AlertState::Firing,
        "staging",
        &[
            ("namespace", "arxos"),
            ("pod", "export-service-7f9c4-m7n8p"),
            ("severity", "warning"),
        ],
    );
    crash.active_at = Some(at(-900));
    crash.value = Some(4.0);
    crash.source = Source::Alertmanager;
    crash.silenced_by = vec!["3f1c2a9e-5d7b-4c1e-9a0f-2b6d8e4f1a3c".into()];
    crash.annotations = pairs(&[(
        "summary",
        "export-service-7f9c4-m7n8p restarted 4 times in 15m",
    )]);

    let mut mem = alert(
        "HighMemoryUsage",
        AlertState::Firing,
        "prod",
        &[
            ("cluster", "prod-eastus"),
            ("namespace", "arq"),
            ("job", "arq/arq-backend"),
            ("severity", "warning"),
        ],
    );
    mem.active_at = Some(at(-420));
    mem.value = Some(1.93e9);
    mem.disagreement = Some("local evaluation says pending".into());
    mem.annotations = pairs(&[("summary", "arq-backend uses 1.9GB of 2GB")]);

    let mut burn = alert(
        "ErrorBudgetBurn",
        AlertState::Firing,
        "prod",
        &[
            ("namespace", "arq"),
            ("service", "arq-backend"),
            ("severity", "info"),
        ],
    );
    burn.active_at = Some(at(-3720));
    burn.value = Some(14.4);
    burn.origin = Some("rules/slo.yaml › slo-burn".into());
    burn.expr = Some("max_over_time(slo:burn_rate1h[1h:5m]) > 14.4".into());
    burn.annotations = pairs(&[("summary", "arq-backend burns its error budget 14.4x")]);

    let mut watchdog = alert(
        "Watchdog",
        AlertState::Firing,
        "dev",
        &[("severity", "none")],
    );
    watchdog.active_at = Some(at(-86400));
    watchdog.value = Some(1.0);
    watchdog.annotations = pairs(&[("summary", "the alerting pipeline works")]);

    let rules = vec![
        rule(
            "prod",
            "rules/arq.yaml › arq-backend",
            "HighErrorRate",
            ERROR_RATIO,
            None,
        ),
        rule(
            "prod",
            "rules/slo.yaml › slo-burn",
            "ErrorBudgetBurn",
            "max_over_time(slo:burn_rate1h[1h:5m]) > 14.4",
            Some("unsupported: subquery"),
        ),
        rule(
            "staging",
            "rules/arq.yaml › arq-backend",
            "HighErrorRate",
            ERROR_RATIO,
            None,
        ),
    ];
    let sources = vec![
        SourceStatus {
            environment: "prod".into(),
            source: Source::Prometheus,
            error: None,
            at: Some(at(-5)),
        },
        SourceStatus {
            environment: "staging".into(),
            source: Source::Prometheus,
            error: Some("connection refused".into()),
            at: Some(at(-5)),
        },
    ];
    AlertsSnapshot {
        alerts: vec![watchdog, redis, slow, crash, high, mem, burn],
        rules,
        sources,
    }
}

/// The test fleet with covetpy/covet-api added to both prod clusters, and [`snapshot`] loaded.
pub fn alerts_state() -> State {
    let mut s = fleet_state();
    for cluster in [2, 3] {
        let changes = vec![
            Change::Apply(Row::Deployment(Arc::new(workload(
                "covetpy",
                "covet-api",
                2,
                2,
            )))),
            Change::Apply(Row::Pod(Arc::new(pod(
                "covetpy",
                "covet-api",
                "q1w2e",
                "Running",
            )))),
        ];
        update(
            &mut s,
            Msg::Kube(KubeMsg::Changes { cluster, changes }),
            t0(),
        );
    }
    update(&mut s, Msg::Tick, t0());
    load(&mut s, snapshot(), t0());
    s
}

pub fn load(s: &mut State, snapshot: AlertsSnapshot, now: Timestamp) {
    update(s, Msg::Alerts(AlertsMsg::Snapshot(snapshot)), now);
}
