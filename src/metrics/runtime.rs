//! The metrics side of the console at run time: one scraper per cluster (pods through the API
//! server's proxy) and one for the configured URLs feed one ingest task that parses and appends
//! to the store; a snapshot task computes the golden signals for the tables every few seconds
//! and keeps the store within its retention and cap; the console's questions (panel, explorer,
//! chart) are answered on the blocking pool so a big store never stalls the UI.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::ingest;
use super::queries;
use super::remote::PromClient;
use super::scrape::{ScrapeEvent, Scraper, Target};
use super::signals::{MetricsSnapshot, Restarts, ScrapeHealth};
use super::store::{Store, StoreConfig, TargetId};
use crate::config::sources::ScrapingConfig;
use crate::kube::ClusterId;
use crate::kube::watch::Clock;
use crate::state::Msg;
use crate::state::metrics::{MetricsMsg, MetricsQuery};

/// Scrape events queued before scrapers wait for the ingest task.
const EVENT_QUEUE: usize = 1024;
/// Failing targets listed per cluster in the snapshot.
const FAILING_SHOWN: usize = 5;

/// The rate window: four scrape intervals, at least a minute (Prometheus's advice for `rate`).
pub fn rate_window(interval: Duration) -> Duration {
    (interval * 4).max(Duration::from_secs(60))
}

/// What the ingest task knows of a target.
struct Known {
    id: TargetId,
    cluster: Option<ClusterId>,
    labels: Vec<(String, String)>,
}

/// Per target, the outcome of its last scrape.
#[derive(Default)]
struct Book {
    /// key → (cluster, up, error, bad lines).
    last: HashMap<String, (Option<ClusterId>, bool, Option<String>, usize)>,
    throttled: HashMap<Option<ClusterId>, bool>,
}

impl Book {
    fn health(&self, clusters: usize) -> (Vec<ScrapeHealth>, ScrapeHealth) {
        let mut per = vec![ScrapeHealth::default(); clusters];
        let mut urls = ScrapeHealth::default();
        let mut keys: Vec<&String> = self.last.keys().collect();
        keys.sort();
        for key in keys {
            let (cluster, up, error, bad) = &self.last[key];
            let h = match cluster {
                Some(c) => match per.get_mut(*c) {
                    Some(h) => h,
                    None => continue,
                },
                None => &mut urls,
            };
            h.targets += 1;
            h.bad_lines += bad;
            if *up {
                h.up += 1;
            } else if h.failing.len() < FAILING_SHOWN {
                h.failing
                    .push((key.clone(), error.clone().unwrap_or_default()));
            }
        }
        for (cluster, throttled) in &self.throttled {
            match cluster {
                Some(c) => {
                    if let Some(h) = per.get_mut(*c) {
                        h.throttled = *throttled;
                    }
                }
                None => urls.throttled = *throttled,
            }
        }
        (per, urls)
    }
}

enum Command {
    /// The targets of one cluster (None: the URLs) now.
    Targets(Option<ClusterId>, Vec<Target>),
    /// Every container's restart count in one cluster now.
    Restarts(ClusterId, Vec<Restarts>),
}

/// The running metrics side; dropping it stops the scrapers and tasks.
pub struct MetricsRuntime {
    store: Arc<RwLock<Store>>,
    scrapers: Vec<Option<Scraper>>,
    _urls: Option<Scraper>,
    commands: mpsc::UnboundedSender<Command>,
    ui: mpsc::UnboundedSender<Msg>,
    contexts: Arc<Vec<String>>,
    rate_window: Duration,
    clock: Clock,
    remotes: Arc<Vec<Remote>>,
    _tasks: JoinSet<()>,
}

impl MetricsRuntime {
    /// Starts scrapers for the clusters that have a scrape client (`clients[i]` for cluster i)
    /// and for the configured URLs, and the ingest and snapshot tasks. Must run inside tokio.
    pub fn start(
        config: &ScrapingConfig,
        contexts: Vec<String>,
        clients: Vec<Option<kube::Client>>,
        ui: mpsc::UnboundedSender<Msg>,
        clock: Clock,
    ) -> Self {
        Self::start_with_remote(config, contexts, clients, Vec::new(), ui, clock)
    }

    /// As [`MetricsRuntime::start`], with environments' Prometheus servers: each is asked for
    /// its clusters' golden signals at every snapshot, and its answer wins over the scraped one.
    pub fn start_with_remote(
        config: &ScrapingConfig,
        contexts: Vec<String>,
        clients: Vec<Option<kube::Client>>,
        remotes: Vec<Remote>,
        ui: mpsc::UnboundedSender<Msg>,
        clock: Clock,
    ) -> Self {
        let store = Arc::new(RwLock::new(Store::new(StoreConfig {
            retention_ms: config.retention.0.as_millis() as i64,
            memory_cap_bytes: usize::try_from(config.memory_cap.0).unwrap_or(usize::MAX),
        })));
        let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let concurrency = config.concurrency.max(1) as usize;
        let scrapers: Vec<Option<Scraper>> = clients
            .into_iter()
            .map(|c| {
                c.map(|c| {
                    Scraper::spawn_pods(c, concurrency, events_tx.clone(), Arc::clone(&clock))
                })
            })
            .collect();
        let url_targets = super::scrape::url_targets(config);
        let book = Arc::new(Mutex::new(Book::default()));
        let urls = if url_targets.is_empty() {
            None
        } else {
            let _ = commands.send(Command::Targets(None, url_targets.clone()));
            match super::scrape::http_client() {
                Ok(http) => {
                    let s = Scraper::spawn_urls(
                        http,
                        concurrency,
                        events_tx.clone(),
                        Arc::clone(&clock),
                    );
                    s.set_targets(url_targets);
                    Some(s)
                }
                Err(e) => {
                    // Shown as each URL target's failure.
                    if let Ok(mut b) = book.lock() {
                        for t in url_targets {
                            b.last.insert(t.key, (None, false, Some(e.clone()), 0));
                        }
                    }
                    None
                }
            }
        };
        drop(events_tx);
        let contexts = Arc::new(contexts);
        let rate_window = rate_window(config.interval.0);
        let remotes = Arc::new(remotes);
        let mut tasks = JoinSet::new();
        tasks.spawn(ingest_loop(Ingest {
            store: Arc::clone(&store),
            book: Arc::clone(&book),
            events: events_rx,
            commands: commands_rx,
            contexts: Arc::clone(&contexts),
            clock: Arc::clone(&clock),
            every: config.interval.0,
        }));
        tasks.spawn(snapshot_loop(SnapshotTask {
            store: Arc::clone(&store),
            book,
            contexts: Arc::clone(&contexts),
            ui: ui.clone(),
            clock: Arc::clone(&clock),
            every: (config.interval.0 / 3).max(Duration::from_secs(5)),
            rate_window,
            remotes: Arc::clone(&remotes),
        }));
        Self {
            store,
            scrapers,
            _urls: urls,
            commands,
            ui,
            contexts,
            rate_window,
            clock,
            remotes,
            _tasks: tasks,
        }
    }

    /// The store, for tests and benchmarks that look inside.
    pub fn store(&self) -> Arc<RwLock<Store>> {
        Arc::clone(&self.store)
    }

    /// The pods to scrape in `cluster` changed.
    pub fn set_targets(&self, cluster: ClusterId, targets: Vec<Target>) {
        let Some(Some(scraper)) = self.scrapers.get(cluster) else {
            return;
        };
        // The ingest task learns the labels first, so no result arrives for a stranger.
        let _ = self
            .commands
            .send(Command::Targets(Some(cluster), targets.clone()));
        scraper.set_targets(targets);
    }

    /// The cluster's restart counts changed; they are appended at every scrape interval.
    pub fn set_restarts(&self, cluster: ClusterId, restarts: Vec<Restarts>) {
        let _ = self.commands.send(Command::Restarts(cluster, restarts));
    }

    /// Answers a console question on the blocking pool.
    pub fn query(&self, query: MetricsQuery) {
        // A panel of a cluster whose environment has a Prometheus: that server's range queries,
        // the scraped samples when it cannot answer.
        if let MetricsQuery::Panel { cluster, .. } = &query
            && let Some(at) = self
                .remotes
                .iter()
                .position(|r| r.clusters.iter().any(|(id, _)| id == cluster))
        {
            let remotes = Arc::clone(&self.remotes);
            let ui = self.ui.clone();
            let now = (self.clock)();
            let rate_window = self.rate_window;
            let local = self.local(query.clone());
            tokio::spawn(async move {
                let MetricsQuery::Panel {
                    cluster,
                    kind,
                    key,
                    window_secs,
                } = query
                else {
                    return;
                };
                let r = &remotes[at];
                let answer = super::remote::panel::panel(
                    &r.client,
                    &r.clusters,
                    cluster,
                    kind,
                    &key,
                    window_secs,
                    rate_window,
                    now,
                )
                .await;
                match answer {
                    Ok(panel) => {
                        let _ = ui.send(Msg::Metrics(MetricsMsg::Panel(panel)));
                    }
                    Err(_) => local(),
                }
            });
            return;
        }
        (self.local(query))();
    }

    /// Answers a question from the local store on the blocking pool (when called).
    fn local(&self, query: MetricsQuery) -> impl FnOnce() + Send + 'static {
        let store = Arc::clone(&self.store);
        let ui = self.ui.clone();
        let contexts = Arc::clone(&self.contexts);
        let now_ms = (self.clock)().as_millisecond();
        let rate_window_ms = self.rate_window.as_millis() as i64;
        move || {
            tokio::task::spawn_blocking(move || {
                let Ok(store) = store.read() else {
                    return;
                };
                let msg = match query {
                    MetricsQuery::Panel {
                        cluster,
                        kind,
                        key,
                        window_secs,
                    } => {
                        let Some(context) = contexts.get(cluster) else {
                            return;
                        };
                        MetricsMsg::Panel(queries::panel(
                            &store,
                            context,
                            cluster,
                            kind,
                            &key,
                            window_secs,
                            rate_window_ms,
                            now_ms,
                        ))
                    }
                    MetricsQuery::Names => MetricsMsg::Names(queries::names(&store)),
                    MetricsQuery::Series { name } => {
                        MetricsMsg::Series(queries::series(&store, &name, now_ms))
                    }
                    MetricsQuery::Chart {
                        labels,
                        window_secs,
                    } => MetricsMsg::Chart(queries::chart(&store, &labels, window_secs, now_ms)),
                };
                let _ = ui.send(Msg::Metrics(msg));
            });
        }
    }
}

struct Ingest {
    store: Arc<RwLock<Store>>,
    book: Arc<Mutex<Book>>,
    events: mpsc::Receiver<ScrapeEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
    contexts: Arc<Vec<String>>,
    clock: Clock,
    /// How often restart counts are appended (the scrape interval).
    every: Duration,
}

async fn ingest_loop(task: Ingest) {
    let Ingest {
        store,
        book,
        mut events,
        mut commands,
        contexts,
        clock,
        every,
    } = task;
    let mut known: HashMap<String, Known> = HashMap::new();
    // Per cluster: its restart-count store target and the counts last told.
    let mut restarts: HashMap<ClusterId, (TargetId, Vec<Restarts>)> = HashMap::new();
    let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let append_restarts = |cluster: ClusterId, target: TargetId, list: &[Restarts]| {
        let context = contexts.get(cluster).map_or("", String::as_str);
        let now = clock().as_millisecond();
        ingest::append_restarts(&store, target, context, list, now);
    };
    loop {
        tokio::select! {
            Some(cmd) = commands.recv() => match cmd {
                Command::Targets(cluster, targets) => {
                    let Ok(mut s) = store.write() else { return };
                    for t in targets {
                        let id = s.target(&t.key);
                        known.insert(t.key, Known { id, cluster, labels: t.labels });
                    }
                }
                Command::Restarts(cluster, list) => {
                    let target = match restarts.get(&cluster) {
                        Some((t, _)) => *t,
                        None => match store.write() {
                            Ok(mut s) => s.target(&format!("kube-state:{cluster}")),
                            Err(_) => return,
                        },
                    };
                    append_restarts(cluster, target, &list);
                    restarts.insert(cluster, (target, list));
                }
            },
            _ = tick.tick() => {
                for (cluster, (target, list)) in &restarts {
                    append_restarts(*cluster, *target, list);
                }
            }
            event = events.recv() => {
                let Some(event) = event else { return };
                match event {
                    ScrapeEvent::Result(result) => {
                        let Some(k) = known.get(&result.key) else { continue };
                        let throttled = matches!(
                            &result.outcome,
                            Err(super::scrape::ScrapeError::Throttled { .. })
                        );
                        let appended = ingest::append(&store, k.id, &k.labels, &result);
                        if let Ok(mut b) = book.lock() {
                            b.last.insert(
                                result.key.clone(),
                                (k.cluster, appended.up, appended.first_error, appended.bad_lines),
                            );
                            b.throttled.insert(k.cluster, throttled);
                        }
                    }
                    ScrapeEvent::Gone { key, at_ms } => {
                        if let Some(k) = known.remove(&key)
                            && let Ok(mut s) = store.write()
                        {
                            s.target_down(k.id, at_ms, true);
                        }
                        if let Ok(mut b) = book.lock() {
                            b.last.remove(&key);
                        }
                    }
                }
            }
        }
    }
}

/// Folds an environment's Prometheus answer into the snapshot: for its clusters it replaces
/// the scraped golden signals and pod usage (the server is the truth); a failure keeps the
/// scraped ones and says why.
pub fn merge_remote(
    snapshot: &mut MetricsSnapshot,
    clusters: &[ClusterId],
    answer: Result<super::remote::golden::RemoteGolden, String>,
) {
    let outcome = match answer {
        Ok(g) => {
            snapshot.golden.retain(|(c, _), _| !clusters.contains(c));
            snapshot.usage.retain(|(c, _), _| !clusters.contains(c));
            snapshot.golden.extend(
                g.workloads
                    .into_iter()
                    .filter(|((c, _), _)| clusters.contains(c)),
            );
            snapshot.usage.extend(
                g.pods
                    .into_iter()
                    .filter(|((c, _), _)| clusters.contains(c)),
            );
            Ok(())
        }
        Err(e) => Err(e),
    };
    for &id in clusters {
        if snapshot.remote.len() <= id {
            snapshot.remote.resize(id + 1, None);
        }
        snapshot.remote[id] = Some(outcome.clone());
    }
}

/// An environment's Prometheus and the clusters it holds the metrics of.
pub struct Remote {
    pub client: PromClient,
    /// (cluster id, kubeconfig context).
    pub clusters: Vec<(ClusterId, String)>,
}

struct SnapshotTask {
    store: Arc<RwLock<Store>>,
    book: Arc<Mutex<Book>>,
    contexts: Arc<Vec<String>>,
    ui: mpsc::UnboundedSender<Msg>,
    clock: Clock,
    every: Duration,
    rate_window: Duration,
    remotes: Arc<Vec<Remote>>,
}

async fn snapshot_loop(task: SnapshotTask) {
    let mut tick = tokio::time::interval(task.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ids: HashMap<String, ClusterId> = task
        .contexts
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), i))
        .collect();
    let ids = Arc::new(ids);
    loop {
        tick.tick().await;
        let store = Arc::clone(&task.store);
        let book = Arc::clone(&task.book);
        let ids = Arc::clone(&ids);
        let now = (task.clock)();
        let window_ms = task.rate_window.as_millis() as i64;
        let clusters = task.contexts.len();
        let computed = tokio::task::spawn_blocking(move || {
            if let Ok(mut s) = store.write() {
                s.gc(now.as_millisecond());
            }
            let s = store.read().ok()?;
            let labels = super::golden::Labels { clusters: &ids };
            let at = now.as_millisecond();
            let stats = s.stats();
            let (per, urls) = book.lock().ok()?.health(clusters);
            Some(MetricsSnapshot {
                at: Some(now),
                window_secs: window_ms as u64 / 1000,
                golden: super::golden::workloads(&s, &labels, at, window_ms),
                usage: super::golden::pods(&s, &labels, at, window_ms),
                clusters: per,
                urls,
                store: stats,
                remote: Vec::new(),
            })
        })
        .await;
        let Ok(Some(mut snapshot)) = computed else {
            continue;
        };
        snapshot.remote = vec![None; clusters];
        let asked = task
            .remotes
            .iter()
            .map(|r| super::remote::golden::golden(&r.client, &r.clusters, now, task.rate_window));
        let answers = futures::future::join_all(asked).await;
        for (remote, answer) in task.remotes.iter().zip(answers) {
            let ids: Vec<ClusterId> = remote.clusters.iter().map(|(id, _)| *id).collect();
            merge_remote(&mut snapshot, &ids, answer.map_err(|e| e.to_string()));
        }
        if task
            .ui
            .send(Msg::Metrics(MetricsMsg::Snapshot(Arc::new(snapshot))))
            .is_err()
        {
            return;
        }
    }
}
