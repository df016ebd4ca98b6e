//! The console's alert side: the `[rules]` files evaluated locally for every environment over
//! the scraped series (as that environment's Prometheus would evaluate them), each
//! environment's Prometheus and Alertmanager polled, and one [`AlertsSnapshot`] sent to the UI
//! whenever either changes. Remote answers are the truth ([`remote::merge`]).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::model::{AlertsSnapshot, Source, SourceStatus};
use super::promql::{
    Compat, CounterWindow, Engine, LabelsRef, MatchOp, Matcher, MemStore, Queryable,
    SelectionCache, SeriesData, SeriesRef, owned_series,
};
use super::remote::{self, RemoteState};
use super::rulefile::{self, RuleFile};
use super::rules::{EvalTarget, GroupState};
use crate::config::endpoints::{AlertmanagerConfig, PrometheusConfig};
use crate::kube::watch::Clock;
use crate::metrics::store::Store;
use crate::state::Msg;

/// How often remote sources are asked. Prometheus evaluates every 15 s by default; asking more
/// often shows nothing new.
pub const POLL_EVERY: Duration = Duration::from_secs(15);

/// How long series written back by rules (recording results, `ALERTS`) are kept.
const OUTPUT_RETENTION_MS: i64 = 3_600_000;

/// One environment as the alert side sees it.
#[derive(Clone, Debug)]
pub struct EnvSetup {
    pub name: String,
    /// Its clusters' context names: the `cluster` label of the series scraped from them.
    pub clusters: Vec<String>,
    pub compat: Compat,
    pub prometheus: Option<PrometheusConfig>,
    pub alertmanager: Option<AlertmanagerConfig>,
}

/// The rule files found by `[rules] files`, and the ones that could not be used, in words.
#[derive(Debug, Default)]
pub struct LoadedRules {
    pub files: Vec<RuleFile>,
    pub errors: Vec<String>,
}

/// Expands the configured patterns (already absolute) and loads every file. A file with errors
/// is left out whole (as Prometheus refuses to load it) and its errors are reported.
pub fn load_rules(patterns: &[String]) -> LoadedRules {
    let mut out = LoadedRules::default();
    let mut paths = Vec::new();
    for pattern in patterns {
        match glob::glob(pattern) {
            Ok(found) => {
                let before = paths.len();
                for entry in found {
                    match entry {
                        Ok(p) => paths.push(p),
                        Err(e) => out.errors.push(format!("{pattern}: {e}")),
                    }
                }
                if paths.len() == before && !pattern.contains(['*', '?', '[']) {
                    out.errors.push(format!("{pattern}: no such file"));
                }
            }
            Err(e) => out.errors.push(format!("{pattern}: bad pattern: {e}")),
        }
    }
    paths.sort();
    paths.dedup();
    for path in paths {
        match rulefile::load(&path) {
            Ok(file) => out.files.push(file),
            Err(errors) => out.errors.extend(errors.into_iter().map(|e| e.to_string())),
        }
    }
    out
}

/// The series one environment's rules read: the scraped series of its clusters, plus what its
/// own rules wrote back. Writes go to the latter only.
struct EnvView<'a> {
    store: &'a Store,
    /// `cluster=~"a|b"`: the environment's clusters. None: every series (one environment).
    cluster: Option<&'a Matcher>,
    /// The store's selections the group's rules share (the store does not change while the
    /// group runs; the outputs do, so they are read afresh).
    cache: SelectionCache<'a>,
    outputs: &'a mut MemStore,
}

impl EnvView<'_> {
    /// The selection as the scraped store answers it: the environment's clusters only.
    fn scraped(&self, matchers: &[Matcher]) -> Vec<Matcher> {
        let mut scraped: Vec<Matcher> = matchers.to_vec();
        if let Some(c) = self.cluster {
            scraped.push(c.clone());
        }
        scraped
    }
}

impl Queryable for EnvView<'_> {
    /// [`Queryable::select_ref`] with the labels copied out (the evaluator reads the latter).
    fn select(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesData> {
        owned_series(self.select_ref(matchers, start_ms, end_ms))
    }

    /// What the evaluator reads: the store's labels borrowed, its selections shared between
    /// the group's rules.
    fn select_ref(&self, matchers: &[Matcher], start_ms: i64, end_ms: i64) -> Vec<SeriesRef<'_>> {
        let mut out = self.cache.select_ref(matchers, start_ms, end_ms, || {
            self.store
                .select_ref(&self.scraped(matchers), start_ms, end_ms)
        });
        out.extend(self.outputs.select_ref(matchers, start_ms, end_ms));
        out
    }

    /// Shared as [`Cached`] shares them: the store summarises these windows from its chunks,
    /// and `rate(x[5m])` under `sum by (a)` in one rule and `sum by (b)` in the next read the
    /// same ones.
    fn select_counter_ref(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
        drop_values: bool,
    ) -> Vec<(LabelsRef<'_>, CounterWindow)> {
        let mut out =
            self.cache
                .select_counter_ref(matchers, (start_ms, end_ms), drop_values, || {
                    self.store.select_counter_ref(
                        &self.scraped(matchers),
                        start_ms,
                        end_ms,
                        drop_values,
                    )
                });
        out.extend(
            self.outputs
                .select_counter_ref(matchers, start_ms, end_ms, drop_values),
        );
        out
    }

    fn select_newest_ref(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Vec<(LabelsRef<'_>, i64, f64)> {
        let mut out = self
            .cache
            .select_newest_ref(matchers, start_ms, end_ms, || {
                self.store
                    .select_newest_ref(&self.scraped(matchers), start_ms, end_ms)
            });
        out.extend(self.outputs.select_newest_ref(matchers, start_ms, end_ms));
        out
    }
}

impl EvalTarget for EnvView<'_> {
    fn append(&mut self, labels: &[(String, String)], t_ms: i64, v: f64) -> Result<(), String> {
        self.outputs.append(labels, t_ms, v)
    }
}

/// One environment's local evaluation.
struct LocalEnv {
    engine: Engine,
    cluster: Option<Matcher>,
    groups: Vec<Scheduled>,
    outputs: MemStore,
}

struct Scheduled {
    group: GroupState,
    /// When it runs next (ms).
    due_ms: i64,
}

impl LocalEnv {
    fn new(env: &EnvSetup, files: &[RuleFile], default_interval: Duration, now_ms: i64) -> Self {
        let cluster = if env.clusters.is_empty() {
            None
        } else {
            let alternatives: Vec<String> = env.clusters.iter().map(|c| regex::escape(c)).collect();
            Matcher::new("cluster", MatchOp::Re, &alternatives.join("|")).ok()
        };
        let mut groups = Vec::new();
        for file in files {
            for g in &file.groups {
                let group = GroupState::new(&file.path, g, default_interval);
                let every = group.interval().as_millis().max(1) as i64;
                // Spread groups over their interval as Prometheus does (a stable offset per
                // group), so a hundred groups do not all run in the same second.
                let offset = stable_hash(&[&env.name, &file.path, &g.name]) % every as u64;
                groups.push(Scheduled {
                    group,
                    due_ms: now_ms + offset as i64,
                });
            }
        }
        LocalEnv {
            engine: Engine {
                compat: env.compat,
                ..Engine::default()
            },
            cluster,
            groups,
            outputs: MemStore::new(),
        }
    }

    /// Runs the groups due by `now_ms`; true when any ran.
    fn run_due(&mut self, store: &Store, now_ms: i64) -> bool {
        let mut ran = false;
        for s in &mut self.groups {
            if s.due_ms > now_ms {
                continue;
            }
            let every = s.group.interval().as_millis().max(1) as i64;
            // Evaluate at the slot's own time; slots missed while the console was busy are
            // skipped, as Prometheus skips missed iterations.
            let missed = (now_ms - s.due_ms) / every;
            let at = s.due_ms + missed * every;
            let mut view = EnvView {
                store,
                cluster: self.cluster.as_ref(),
                cache: SelectionCache::plan(&self.engine, s.group.exprs(), at),
                outputs: &mut self.outputs,
            };
            s.group.eval(&self.engine, &mut view, at, &[]);
            s.due_ms = at + every;
            ran = true;
        }
        if ran {
            self.outputs.trim(now_ms - OUTPUT_RETENTION_MS);
        }
        ran
    }
}

fn stable_hash(parts: &[&str]) -> u64 {
    // FNV-1a: stable across runs and builds, unlike std's RandomState.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// What the alert side starts from.
pub struct Setup {
    pub rules: LoadedRules,
    /// `[rules] evaluation_interval`: groups without their own interval run this often.
    pub default_interval: Duration,
    pub envs: Vec<EnvSetup>,
    /// The scraped series; None when scraping is off (then only remote state is shown).
    pub store: Option<Arc<RwLock<Store>>>,
}

/// The running alert side; dropping it stops its tasks.
pub struct AlertsRuntime {
    _tasks: JoinSet<()>,
}

impl AlertsRuntime {
    /// Starts local evaluation (when there are rules and a store) and remote polling (for the
    /// environments with a Prometheus or an Alertmanager). Must run inside tokio.
    pub fn start(setup: Setup, ui: mpsc::UnboundedSender<Msg>, clock: Clock) -> Self {
        let mut tasks = JoinSet::new();
        let (remote_tx, remote_rx) = mpsc::channel(setup.envs.len().max(1) * 2);
        let polled: Vec<(usize, EnvSetup)> = setup
            .envs
            .iter()
            .enumerate()
            .filter(|(_, e)| e.prometheus.is_some() || e.alertmanager.is_some())
            .map(|(i, e)| (i, e.clone()))
            .collect();
        if !polled.is_empty() {
            tasks.spawn(poll_loop(polled, remote_tx));
        }
        tasks.spawn(main_loop(setup, remote_rx, ui, clock));
        AlertsRuntime { _tasks: tasks }
    }
}

/// Asks every polled environment's remote sources, all at once, every [`POLL_EVERY`].
async fn poll_loop(envs: Vec<(usize, EnvSetup)>, tx: mpsc::Sender<(usize, RemoteState)>) {
    let client = match crate::metrics::scrape::http_client() {
        Ok(c) => c,
        Err(e) => {
            for (i, env) in &envs {
                let _ = tx.send((*i, unreachable_state(env, &e))).await;
            }
            return;
        }
    };
    let mut every = tokio::time::interval(POLL_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let polls = envs.iter().map(|(i, env)| {
            let client = &client;
            async move {
                let state = remote::poll(
                    client,
                    &env.name,
                    env.prometheus.as_ref(),
                    env.alertmanager.as_ref(),
                )
                .await;
                (*i, state)
            }
        });
        for answer in futures::future::join_all(polls).await {
            if tx.send(answer).await.is_err() {
                return;
            }
        }
    }
}

/// A remote state saying every configured source of `env` failed with `why`.
fn unreachable_state(env: &EnvSetup, why: &str) -> RemoteState {
    let mut statuses = Vec::new();
    if env.prometheus.is_some() {
        statuses.push(SourceStatus {
            environment: env.name.clone(),
            source: Source::Prometheus,
            error: Some(why.to_owned()),
            at: None,
        });
    }
    if env.alertmanager.is_some() {
        statuses.push(SourceStatus {
            environment: env.name.clone(),
            source: Source::Alertmanager,
            error: Some(why.to_owned()),
            at: None,
        });
    }
    RemoteState {
        statuses,
        ..RemoteState::default()
    }
}

async fn main_loop(
    setup: Setup,
    remote_rx: mpsc::Receiver<(usize, RemoteState)>,
    ui: mpsc::UnboundedSender<Msg>,
    clock: Clock,
) {
    // None once the poller is gone (or was never started: no remote source configured).
    let mut remote_rx = Some(remote_rx);
    let now_ms = clock().as_millisecond();
    let evaluating = setup.store.is_some() && !setup.rules.files.is_empty();
    let mut local: Vec<LocalEnv> = if evaluating {
        setup
            .envs
            .iter()
            .map(|e| LocalEnv::new(e, &setup.rules.files, setup.default_interval, now_ms))
            .collect()
    } else {
        Vec::new()
    };
    let mut remote: Vec<Option<RemoteState>> = vec![None; setup.envs.len()];
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first snapshot says what is configured (and why nothing is evaluated, if so).
    let mut changed = true;
    loop {
        if changed {
            let snapshot = build_snapshot(&setup, &local, &remote);
            let msg = Msg::Alerts(crate::state::alerts::AlertsMsg::Snapshot(snapshot));
            if ui.send(msg).is_err() {
                return;
            }
            changed = false;
        }
        tokio::select! {
            _ = every.tick() => {
                if let Some(store) = setup.store.as_ref().filter(|_| evaluating) {
                    let store = Arc::clone(store);
                    let now_ms = clock().as_millisecond();
                    // Evaluation is CPU work under the store's read lock: off the async workers.
                    let ran = tokio::task::spawn_blocking(move || {
                        let mut ran = false;
                        if let Ok(guard) = store.read() {
                            for env in &mut local {
                                ran |= env.run_due(&guard, now_ms);
                            }
                        }
                        (local, ran)
                    })
                    .await;
                    match ran {
                        Ok((back, ran)) => {
                            local = back;
                            changed |= ran;
                        }
                        // The evaluation panicked: a bug. Stop evaluating rather than loop on it.
                        Err(_) => return,
                    }
                }
            }
            answer = next_remote(&mut remote_rx) => {
                if let Some((i, state)) = answer
                    && let Some(slot) = remote.get_mut(i)
                {
                    *slot = Some(state);
                    changed = true;
                }
            }
        }
    }
}

/// The next remote answer. A closed channel (no poller) is dropped and never ready again:
/// selecting on a closed receiver's `recv` would return at once, forever, and spin a core.
async fn next_remote<T>(rx: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    let Some(r) = rx.as_mut() else {
        return std::future::pending().await;
    };
    let answer = r.recv().await;
    if answer.is_none() {
        *rx = None;
    }
    answer
}

/// Everything the alerts view shows now: per environment, the local alerts merged into the
/// remote ones, every rule's status and every source's health.
fn build_snapshot(
    setup: &Setup,
    local: &[LocalEnv],
    remote: &[Option<RemoteState>],
) -> AlertsSnapshot {
    let mut out = AlertsSnapshot::default();
    for (i, env) in setup.envs.iter().enumerate() {
        let mut local_alerts = Vec::new();
        if let Some(l) = local.get(i) {
            for s in &l.groups {
                local_alerts.extend(s.group.alerts(&env.name));
                out.rules.extend(s.group.statuses(&env.name));
            }
        }
        match remote.get(i).and_then(|r| r.as_ref()) {
            Some(r) => {
                out.alerts.extend(remote::merge(
                    local_alerts,
                    r.alerts.clone(),
                    r.am_alerts.clone(),
                ));
                out.rules.extend(r.rules.iter().cloned());
                out.sources.extend(r.statuses.iter().cloned());
            }
            None => out.alerts.extend(local_alerts),
        }
        if !setup.rules.files.is_empty() && setup.store.is_none() {
            out.sources.push(SourceStatus {
                environment: env.name.clone(),
                source: Source::Local,
                error: Some(
                    "scraping is off ([scraping] enabled = false): rules are not evaluated locally"
                        .into(),
                ),
                at: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::sync::mpsc;

    use super::next_remote;

    #[tokio::test]
    async fn a_closed_poller_channel_is_never_ready_again() {
        // No remote configured: the sender is gone before the loop starts. The old loop selected
        // on `recv()` of the closed channel, which is ready at once every time: 100% of a core.
        let (tx, rx) = mpsc::channel::<u32>(1);
        drop(tx);
        let mut rx = Some(rx);
        assert_eq!(next_remote(&mut rx).await, None, "the close is seen once");
        assert!(rx.is_none());
        let again = tokio::time::timeout(Duration::from_millis(50), next_remote(&mut rx)).await;
        assert!(again.is_err(), "then it waits, it does not return");
    }

    /// One environment's rules see its own clusters' series only, and alerts carry the
    /// `cluster` label of the series that matched.
    #[test]
    fn an_environment_evaluates_over_its_own_clusters() {
        use crate::alerts::model::AlertState;
        use crate::metrics::store::{Incoming, Store, StoreConfig};

        let mut store = Store::new(StoreConfig::default());
        let t0 = 1_795_000_000_000i64;
        for (cluster, up) in [("prod-eastus", 0.0), ("dev", 0.0)] {
            let target = store.target(cluster);
            let labels = [("cluster", cluster), ("job", "pods")];
            for i in 0..3 {
                store.ingest(
                    target,
                    t0 + i * 15_000,
                    [Incoming {
                        name: "up",
                        labels: &labels,
                        value: up,
                        timestamp_ms: None,
                    }],
                );
            }
        }
        let file = super::rulefile::parse(
            "r.yml",
            "groups:\n  - name: g\n    interval: 15s\n    rules:\n      - alert: Down\n        expr: up == 0\n",
        )
        .expect("rule file");
        let env = super::EnvSetup {
            name: "prod".into(),
            clusters: vec!["prod-eastus".into()],
            compat: super::Compat::V3,
            prometheus: None,
            alertmanager: None,
        };
        let mut local = super::LocalEnv::new(&env, &[file], Duration::from_secs(15), t0);
        assert!(local.run_due(&store, t0 + 30_000), "the group was due");
        let alerts: Vec<_> = local
            .groups
            .iter()
            .flat_map(|s| s.group.alerts("prod"))
            .collect();
        assert_eq!(alerts.len(), 1, "dev's target is not prod's: {alerts:?}");
        assert_eq!(alerts[0].label("cluster"), Some("prod-eastus"));
        assert_eq!(
            alerts[0].state,
            AlertState::Firing,
            "no `for`: fires at once"
        );
        assert!(
            !local.run_due(&store, t0 + 31_000),
            "not due again within its interval"
        );
    }

    #[tokio::test]
    async fn answers_come_through_while_the_poller_runs() {
        let (tx, rx) = mpsc::channel::<u32>(1);
        let mut rx = Some(rx);
        tx.send(7).await.unwrap();
        assert_eq!(next_remote(&mut rx).await, Some(7));
        assert!(rx.is_some());
    }
}
