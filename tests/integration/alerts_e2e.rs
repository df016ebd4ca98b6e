//! Alert rules end to end: a real Prometheus (Debian's package) loads the seed fleet's arQ rules
//! and scrapes arQ's pods in one simulated cluster through the API server's pod proxy, with the
//! target labels watchfloor's scraper gives them (cluster, instance, job, namespace, pod,
//! workload); a scripted incident (errors on the backend, then Redis down) makes rules go
//! pending and then firing. watchfloor's side scrapes the same pods with its own scrapers into
//! its series store and evaluates the same rules with its evaluator and alert state machine
//! (`alerts::rules::GroupState`); both sides are sampled every evaluation and must agree on the
//! set of (alert, labels) pending and firing, a transition allowed one evaluation's lag.
//!
//! The rules are a test copy of `fleets/rules/arq.rules.yml` with windows and `for` scaled down
//! (5m windows to 15s, `for` to 3-5s, evaluated every second), so an incident plays out in two
//! minutes instead of ten; the expressions, labels and annotations are the shipped ones.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use serde_json::Value;
use watchfloor::sim::fleet::FleetOptions;
use watchfloor::sim::fleetfile::{self, Action, Step};
use watchfloor::sim::timeline;

use crate::prometheus::{Prometheus, alerts, prometheus_with, settled_targets};
use crate::support::{TestFleet, have};

const CLUSTER: &str = "prod-westus";
const NAMESPACE: &str = "arq";
/// Both sides evaluate (and the test samples) once a second.
const EVAL: Duration = Duration::from_secs(1);

/// The shipped arQ rules with their windows and `for` scaled down for a two-minute test.
fn scaled_rules() -> String {
    let text = include_str!("../../fleets/rules/arq.rules.yml");
    let scaled = text
        .replace("[5m]", "[15s]")
        .replace("for: 1m", "for: 3s")
        .replace("for: 2m", "for: 5s")
        .replace("for: 5m", "for: 5s")
        .replace("for: 10m", "for: 5s");
    // A rule edit that the replacements no longer reach would make the test wait for minutes.
    assert!(
        !scaled.contains("for: 1m") && !scaled.contains("for: 2m") && !scaled.contains("[5m]"),
        "{scaled}"
    );
    scaled
}

/// An alert's identity: its name and full label set (alertname included).
pub type Key = BTreeMap<String, String>;
/// What one side says at one evaluation: each active alert's state ("pending" or "firing").
pub type Snapshot = BTreeMap<Key, String>;

/// Prometheus's alerts as a snapshot.
fn snapshot(alerts: &[Value]) -> Snapshot {
    alerts
        .iter()
        .filter_map(|a| {
            let labels: Key = a["labels"]
                .as_object()?
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            Some((labels, a["state"].as_str()?.to_string()))
        })
        .collect()
}

/// Whether two sides sampled at the same instants agree, allowing either to be one sample
/// behind or ahead of the other at any transition: a difference at sample `i` is forgiven when
/// one side's state at `i` is the other's at `i - 1` or `i + 1`. A state held differently for
/// two samples in a row is a disagreement.
pub fn agree(ours: &[Snapshot], theirs: &[Snapshot]) -> Result<(), String> {
    let n = ours.len().min(theirs.len());
    let state = |s: &[Snapshot], i: usize, k: &Key| s.get(i).and_then(|m| m.get(k)).cloned();
    let mut problems = Vec::new();
    for i in 0..n {
        let keys: std::collections::BTreeSet<&Key> =
            ours[i].keys().chain(theirs[i].keys()).collect();
        for k in keys {
            let (a, b) = (state(ours, i, k), state(theirs, i, k));
            if a == b {
                continue;
            }
            let near = |s: &[Snapshot], v: &Option<String>| {
                (i > 0 && state(s, i - 1, k) == *v) || (i + 1 < n && state(s, i + 1, k) == *v)
            };
            if !(near(theirs, &a) || near(ours, &b)) {
                problems.push(format!(
                    "sample {i}: {k:?}: watchfloor {a:?}, Prometheus {b:?}"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// The incident: the fleet at real speed (so the sim's seconds are the scrapes' seconds).
fn fleet() -> TestFleet {
    TestFleet::start_with(
        &fleetfile::builtin(),
        FleetOptions {
            speed: 1.0,
            ..Default::default()
        },
    )
}

/// Prometheus scraping arQ's pods of [`CLUSTER`] with watchfloor's target labels, loading
/// [`scaled_rules`]; returns it and the number of targets.
fn start_prometheus(fleet: &TestFleet) -> (Prometheus, usize) {
    let targets: Vec<_> = settled_targets(fleet, CLUSTER)
        .into_iter()
        .filter(|t| t.namespace == NAMESPACE)
        .collect();
    let api = fleet.fleet.cluster(CLUSTER).expect("cluster").server.addr;
    let labels = watchfloor_labels(fleet);
    let groups: String = targets
        .iter()
        .map(|t| {
            let mut l = format!(
                "__metrics_path__: '/api/v1/namespaces/{}/pods/{}:{}/proxy{}'",
                t.namespace, t.pod, t.port, t.path
            );
            for (k, v) in labels.get(&t.pod).into_iter().flatten() {
                // job comes from the job's name, as for watchfloor's POD_JOB.
                if k != "job" {
                    l.push_str(&format!(", {k}: '{v}'"));
                }
            }
            format!("      - targets: ['{api}']\n        labels: {{{l}}}\n")
        })
        .collect();
    let n = targets.len();
    let prometheus = prometheus_with(
        fleet,
        CLUSTER,
        &[("arq.rules.yml", scaled_rules())],
        |dir| {
            format!(
                r#"global: {{scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s}}
rule_files: ['{rules}']
scrape_configs:
  - job_name: {job}
    scheme: https
    tls_config: {{ca_file: {ca}}}
    authorization: {{credentials_file: {token}}}
    static_configs:
{groups}"#,
                rules = dir.join("arq.rules.yml").display(),
                job = watchfloor::metrics::scrape::POD_JOB,
                ca = dir.join("ca.pem").display(),
                token = dir.join("token").display(),
            )
        },
    );
    (prometheus, n)
}

/// The target labels watchfloor's scraper gives each of [`CLUSTER`]'s pods, by pod name.
fn watchfloor_labels(fleet: &TestFleet) -> BTreeMap<String, Vec<(String, String)>> {
    use k8s_openapi::api::core::v1::Pod;
    let running = fleet.fleet.cluster(CLUSTER).expect("cluster");
    let rows: Vec<_> = running
        .cluster
        .store()
        .list::<Pod>(None)
        .iter()
        .map(|p| watchfloor::kube::convert::pod_row(p, jiff::Timestamp::now()))
        .collect();
    let config = watchfloor::config::sources::ScrapingConfig::default();
    watchfloor::metrics::scrape::pod_targets(CLUSTER, rows.iter(), &config)
        .into_iter()
        .filter_map(|t| {
            let pod = t.labels.iter().find(|(k, _)| k == "pod")?.1.clone();
            Some((pod, t.labels))
        })
        .collect()
}

fn apply(fleet: &TestFleet, action: Action) {
    let step = Step {
        at: SignedDuration::ZERO,
        clusters: vec![CLUSTER.into()],
        action,
    };
    let outcomes = fleet
        .runtime
        .block_on(async { timeline::apply(&fleet.fleet, &step) });
    assert!(
        outcomes.iter().all(|o| o.result.is_ok()),
        "{step}: {outcomes:?}"
    );
}

/// Samples Prometheus's alerts once per [`EVAL`] for `span`, appending to `out`.
fn sample(prometheus: &Prometheus, span: Duration, out: &mut Vec<Snapshot>) {
    let end = Instant::now() + span;
    while Instant::now() < end {
        let tick = Instant::now();
        let got = alerts(prometheus)
            .unwrap_or_else(|| panic!("Prometheus stopped answering:\n{}", prometheus.log()));
        out.push(snapshot(&got));
        std::thread::sleep(EVAL.saturating_sub(tick.elapsed()));
    }
}

/// The states `name` went through for the alert whose labels include `with`, in order, each
/// run of equal states once ("inactive" when absent).
fn states_of(samples: &[Snapshot], name: &str, with: (&str, &str)) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for s in samples {
        let state = s
            .iter()
            .find(|(k, _)| {
                k.get("alertname").map(String::as_str) == Some(name)
                    && k.get(with.0).map(String::as_str) == Some(with.1)
            })
            .map_or("inactive".to_string(), |(_, v)| v.clone());
        if seen.last() != Some(&state) {
            seen.push(state);
        }
    }
    seen
}

#[test]
fn a_real_prometheus_takes_the_seed_rules_through_pending_to_firing_over_an_incident() {
    if !have("prometheus") {
        return;
    }
    let fleet = fleet();
    let (mut prometheus, n) = start_prometheus(&fleet);
    prometheus.until_all_up(n);
    // A full rate window of calm first.
    let mut samples = Vec::new();
    sample(&prometheus, Duration::from_secs(16), &mut samples);
    let calm = samples.len();

    // 1. A third of the backend's requests fail, for 25 seconds.
    apply(
        &fleet,
        Action::AddErrors {
            namespace: NAMESPACE.into(),
            app: "arq-backend".into(),
            rate: 0.3,
            duration: Some(SignedDuration::from_secs(25)),
        },
    );
    sample(&prometheus, Duration::from_secs(30), &mut samples);
    // 2. Redis is down for 20 seconds.
    apply(
        &fleet,
        Action::FailDependency {
            namespace: NAMESPACE.into(),
            name: "redis".into(),
            duration: Some(SignedDuration::from_secs(20)),
        },
    );
    sample(&prometheus, Duration::from_secs(30), &mut samples);

    let all = |s: &[Snapshot]| -> Vec<String> {
        let mut v: Vec<String> = s
            .iter()
            .flat_map(|m| m.keys())
            .filter_map(|k| k.get("alertname").cloned())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    assert!(
        all(&samples[..calm]).is_empty(),
        "alerts before the incident: {:?}",
        &samples[..calm]
    );
    let errors = states_of(&samples, "HighErrorRate", ("workload", "arq-backend"));
    assert!(
        errors.starts_with(&["inactive".into(), "pending".into(), "firing".into()]),
        "HighErrorRate on arq-backend went {errors:?}"
    );
    let redis = states_of(&samples, "RedisDown", ("workload", "redis"));
    assert!(
        redis.starts_with(&["inactive".into(), "pending".into(), "firing".into()]),
        "RedisDown went {redis:?}"
    );
    let names = all(&samples);
    for name in &names {
        assert!(
            ["HighErrorRate", "RedisDown", "SlowResponseTime"].contains(&name.as_str()),
            "unexpected alert {name}: {samples:?}"
        );
    }
}

/// What watchfloor's groups read (its scraped store) and write (ALERTS, recordings): a store
/// overlaid with the groups' own output.
struct Overlay {
    store: std::sync::Arc<std::sync::RwLock<watchfloor::metrics::store::Store>>,
    own: watchfloor::alerts::promql::MemStore,
}

impl watchfloor::alerts::promql::Queryable for Overlay {
    fn select(
        &self,
        matchers: &[watchfloor::metrics::store::Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Vec<watchfloor::alerts::promql::SeriesData> {
        let mut out = match self.store.read() {
            Ok(s) => watchfloor::alerts::promql::Queryable::select(&*s, matchers, start_ms, end_ms),
            Err(_) => Vec::new(),
        };
        out.extend(self.own.select(matchers, start_ms, end_ms));
        out
    }
}

impl watchfloor::alerts::rules::EvalTarget for Overlay {
    fn append(&mut self, labels: &[(String, String)], t_ms: i64, v: f64) -> Result<(), String> {
        watchfloor::alerts::rules::EvalTarget::append(&mut self.own, labels, t_ms, v)
    }
}

/// watchfloor's alerts as a snapshot: pending and firing only, as Prometheus's API lists them.
fn our_snapshot(groups: &[watchfloor::alerts::rules::GroupState]) -> Snapshot {
    use watchfloor::alerts::model::AlertState;
    groups
        .iter()
        .flat_map(|g| g.alerts("prod"))
        .filter_map(|a| {
            let state = match a.state {
                AlertState::Pending => "pending",
                AlertState::Firing => "firing",
                _ => return None,
            };
            let mut key: Key = a.labels.into_iter().collect();
            key.insert("alertname".into(), a.name);
            Some((key, state.to_string()))
        })
        .collect()
}

/// Both sides, sampled together.
struct Sides<'a> {
    prometheus: &'a Prometheus,
    groups: Vec<watchfloor::alerts::rules::GroupState>,
    target: Overlay,
    engine: watchfloor::alerts::promql::Engine,
    ours: Vec<Snapshot>,
    theirs: Vec<Snapshot>,
}

impl Sides<'_> {
    /// Evaluates watchfloor's groups and samples both sides once per [`EVAL`] for `span`.
    fn run(&mut self, span: Duration) {
        let end = Instant::now() + span;
        while Instant::now() < end {
            let tick = Instant::now();
            let t_ms = jiff::Timestamp::now().as_millisecond();
            for g in &mut self.groups {
                let report = g.eval(&self.engine, &mut self.target, t_ms, &[]);
                assert!(report.errors.is_empty(), "{:?}", report.errors);
            }
            self.ours.push(our_snapshot(&self.groups));
            let got = alerts(self.prometheus).unwrap_or_else(|| {
                panic!("Prometheus stopped answering:\n{}", self.prometheus.log())
            });
            self.theirs.push(snapshot(&got));
            std::thread::sleep(EVAL.saturating_sub(tick.elapsed()));
        }
    }
}

#[test]
fn watchfloor_and_prometheus_agree_on_pending_and_firing_alerts_over_an_incident() {
    if !have("prometheus") {
        return;
    }
    let fleet = fleet();
    let (mut prometheus, n) = start_prometheus(&fleet);
    // watchfloor's scrapers on the same pods, every second.
    let _enter = fleet.runtime.enter();
    let (runtime, scraped) =
        crate::metrics::scraping_every_second(&fleet, CLUSTER, |r| r.key.namespace == NAMESPACE);
    assert_eq!(scraped, n, "both sides scrape the same pods");
    prometheus.until_all_up(n);

    let file = watchfloor::alerts::rulefile::parse("arq.rules.yml", &scaled_rules())
        .unwrap_or_else(|e| panic!("{:?}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>()));
    let groups = file
        .groups
        .iter()
        .map(|g| watchfloor::alerts::rules::GroupState::new("arq.rules.yml", g, EVAL))
        .collect();
    let mut sides = Sides {
        prometheus: &prometheus,
        groups,
        target: Overlay {
            store: runtime.store(),
            own: watchfloor::alerts::promql::MemStore::new(),
        },
        engine: watchfloor::alerts::promql::Engine {
            compat: watchfloor::alerts::promql::Compat::V2,
            lookback_ms: 5 * 60 * 1000,
        },
        ours: Vec::new(),
        theirs: Vec::new(),
    };
    sides.run(Duration::from_secs(16));
    apply(
        &fleet,
        Action::AddErrors {
            namespace: NAMESPACE.into(),
            app: "arq-backend".into(),
            rate: 0.3,
            duration: Some(SignedDuration::from_secs(25)),
        },
    );
    sides.run(Duration::from_secs(30));
    apply(
        &fleet,
        Action::FailDependency {
            namespace: NAMESPACE.into(),
            name: "redis".into(),
            duration: Some(SignedDuration::from_secs(20)),
        },
    );
    sides.run(Duration::from_secs(30));
    let fired = |s: &[Snapshot]| s.iter().flat_map(|m| m.values()).any(|v| v == "firing");
    assert!(fired(&sides.theirs) && fired(&sides.ours), "nothing fired");
    if let Err(e) = agree(&sides.ours, &sides.theirs) {
        panic!("watchfloor and Prometheus disagree:\n{e}");
    }
}

#[cfg(test)]
mod agree_tests {
    use super::{Key, Snapshot, agree};

    fn snap(entries: &[(&str, &str)]) -> Snapshot {
        entries
            .iter()
            .map(|(name, state)| {
                let key: Key = [("alertname".to_string(), name.to_string())].into();
                (key, state.to_string())
            })
            .collect()
    }

    #[test]
    fn a_transition_one_sample_late_is_agreement() {
        let ours = [
            snap(&[]),
            snap(&[("A", "pending")]),
            snap(&[("A", "firing")]),
        ];
        let theirs = [snap(&[]), snap(&[]), snap(&[("A", "pending")])];
        assert!(agree(&ours, &theirs).is_ok());
    }

    #[test]
    fn a_state_held_differently_for_two_samples_is_not() {
        let ours = [
            snap(&[]),
            snap(&[("A", "pending")]),
            snap(&[("A", "pending")]),
            snap(&[("A", "pending")]),
        ];
        let theirs = [snap(&[]), snap(&[]), snap(&[]), snap(&[])];
        let err = agree(&ours, &theirs).unwrap_err();
        assert!(err.contains("sample 2"), "{err}");
    }

    #[test]
    fn an_alert_only_one_side_ever_has_is_a_disagreement() {
        let ours = vec![snap(&[("B", "firing")]); 3];
        let theirs = [snap(&[]), snap(&[]), snap(&[])];
        assert!(agree(&ours, &theirs).is_err());
    }
}
