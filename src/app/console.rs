//! Starting the console: settings and fleet layout in, one watcher set per cluster, the input
//! thread and the clock tick, the terminal guard, and the event loop until the user quits.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ::kube::Client;
use jiff::Timestamp;
use tokio::sync::mpsc;

use super::audit::AuditLog;
use super::dispatch::{ClusterFacts, Dispatcher, KubeExecutor};
use super::event_loop::{self, Inbox, Runner};
use super::terminal::TerminalGuard;
use crate::config::commands::Settings;
use crate::config::fleet::FleetLayout;
use crate::config::kubeconfig::LoadedKubeconfig;
use crate::kube::watch::{Clock, ClusterHandle, spawn_cluster};
use crate::kube::{KubeMsg, client, detail, ops};
use crate::metrics::runtime::MetricsRuntime;
use crate::state::{EnvState, Level, Msg, State};
use crate::view::Styles;

/// Room for batches from all clusters; see `kube::watch` for why it is bounded.
const KUBE_QUEUE: usize = 256;

/// Everything the console needs, read and checked before the terminal is touched.
pub struct Console {
    pub settings: Settings,
    pub layout: FleetLayout,
    pub kubeconfig: LoadedKubeconfig,
    /// Where changes are recorded; `None` (no home directory) disables changes.
    pub audit_log: Option<PathBuf>,
    /// `--prometheus-compat`: overrides every environment's `prometheus_compat` for the local
    /// rule evaluation.
    pub prometheus_compat: Option<crate::config::endpoints::PrometheusCompat>,
}

/// Builds the initial state: environments and clusters from the layout, keymap and warnings.
pub fn initial_state(console: &Console, now: Timestamp) -> State {
    let envs = console
        .layout
        .environments
        .iter()
        .map(|e| EnvState {
            name: e.name.clone(),
            color: e.color.clone(),
            protected: e.protected,
            readonly: e.readonly,
        })
        .collect();
    let clusters = console
        .layout
        .clusters
        .iter()
        .map(|c| (c.context.clone(), c.env, c.short.clone()))
        .collect();
    let mut state = State::new(envs, clusters, console.settings.keymap.clone(), now);
    state.readonly = console.layout.readonly;
    state.warnings = console.settings.warnings.clone();
    state
        .warnings
        .extend(console.layout.warnings.iter().cloned());
    state
        .warnings
        .extend(console.kubeconfig.warnings.iter().cloned());
    state.tz = jiff::tz::TimeZone::system();
    state.log_lines = console.settings.loaded.config.ui.log_lines;
    state
}

/// Starts one watcher set per cluster. A context that cannot even make a client is reported as
/// unreachable with its reason, and the others go on.
pub async fn connect(
    console: &Console,
    tx: &mpsc::Sender<KubeMsg>,
    clock: Clock,
) -> Vec<Option<ClusterHandle>> {
    let mut handles = Vec::new();
    for (id, c) in console.layout.clusters.iter().enumerate() {
        let namespaces = console.layout.environments[c.env].namespaces.clone();
        let handle = match client::client_config(&console.kubeconfig.kubeconfig, &c.context).await {
            Ok(config) => spawn_cluster(id, config, tx.clone(), Arc::clone(&clock), namespaces),
            Err(e) => Err(e),
        };
        match handle {
            Ok(h) => handles.push(Some(h)),
            Err(error) => {
                let now = clock();
                let state = crate::kube::ConnState::Unreachable {
                    since: now,
                    error,
                    retry_at: now,
                };
                let _ = tx
                    .send(KubeMsg::Conn {
                        cluster: id,
                        state,
                        at: now,
                    })
                    .await;
                handles.push(None);
            }
        }
    }
    handles
}

/// Carries out effects against the clusters; results come back on the cluster channel.
pub struct KubeRunner {
    pub clients: Vec<Option<Client>>,
    pub tx: mpsc::Sender<KubeMsg>,
    /// Every change goes through it.
    pub dispatcher: Arc<Dispatcher>,
    /// Running log tails; they stop when the runner is dropped.
    pub logs: crate::kube::logs::LogTasks,
    /// Scrapers, the series store and its tasks; None when scraping is off.
    pub metrics: Option<MetricsRuntime>,
}

impl KubeRunner {
    /// A runner over the clusters' clients, with the dispatcher for `console`'s fleet.
    pub fn new(
        console: &Console,
        handles: &[Option<ClusterHandle>],
        tx: mpsc::Sender<KubeMsg>,
        clock: Clock,
    ) -> Self {
        let clients: Vec<Option<Client>> = handles
            .iter()
            .map(|h| h.as_ref().map(|h| h.client().clone()))
            .collect();
        let dispatcher = Dispatcher {
            clusters: cluster_facts(console),
            readonly: console.layout.readonly,
            audit: match &console.audit_log {
                Some(path) => AuditLog::open(path),
                None => Err("no audit log: this user has no home directory".into()),
            },
            executor: Arc::new(KubeExecutor {
                clients: clients.clone(),
            }),
            clock,
        };
        Self {
            clients,
            tx,
            dispatcher: Arc::new(dispatcher),
            logs: crate::kube::logs::LogTasks::new(
                crate::config::paths::Paths::discover().map(|p| p.data_dir.join("logs")),
            ),
            metrics: None,
        }
    }
}

/// Starts scraping (unless `[scraping] enabled = false`): one scrape client per cluster, made
/// from the same kubeconfig context as its watchers, and the metrics tasks.
pub async fn start_metrics(
    console: &Console,
    state: &mut State,
    ui: mpsc::UnboundedSender<Msg>,
    clock: Clock,
) -> Option<MetricsRuntime> {
    let config = &console.settings.loaded.config.scraping;
    if !config.enabled {
        return None;
    }
    let mut contexts = Vec::new();
    let mut clients = Vec::new();
    for c in &console.layout.clusters {
        contexts.push(c.context.clone());
        let client = match client::client_config(&console.kubeconfig.kubeconfig, &c.context).await {
            Ok(config) => crate::metrics::scrape::scrape_client(config).ok(),
            Err(_) => None,
        };
        clients.push(client);
    }
    let remotes = remotes(console, state);
    state.metrics.enabled = true;
    state.metrics.scraping = Some(Arc::new(config.clone()));
    Some(MetricsRuntime::start_with_remote(
        config, contexts, clients, remotes, ui, clock,
    ))
}

/// The `[[prometheus]]` of each environment being watched, with its clusters. One that cannot
/// be set up (its token file is missing, say) is a warning, and its clusters are scraped.
fn remotes(console: &Console, state: &mut State) -> Vec<crate::metrics::runtime::Remote> {
    let mut out = Vec::new();
    for p in &console.settings.loaded.config.prometheus {
        let Some(env) = console
            .layout
            .environments
            .iter()
            .position(|e| e.name == p.environment)
        else {
            continue;
        };
        let clusters: Vec<(usize, String)> = console
            .layout
            .clusters
            .iter()
            .enumerate()
            .filter(|(_, c)| c.env == env)
            .map(|(id, c)| (id, c.context.clone()))
            .collect();
        let client = crate::metrics::scrape::http_client()
            .and_then(|http| crate::metrics::remote::PromClient::new(p, http));
        match client {
            Ok(client) => out.push(crate::metrics::runtime::Remote { client, clusters }),
            Err(e) => state.warnings.push(format!(
                "prometheus for {}: {e}; its clusters' metrics are scraped instead",
                p.environment
            )),
        }
    }
    out
}

/// Per cluster: its context, kubeconfig user and environment's protection, for the dispatcher.
fn cluster_facts(console: &Console) -> Vec<ClusterFacts> {
    console
        .layout
        .clusters
        .iter()
        .map(|c| {
            let env = &console.layout.environments[c.env];
            let user = console
                .kubeconfig
                .kubeconfig
                .contexts
                .iter()
                .find(|n| n.name == c.context)
                .and_then(|n| n.context.as_ref()?.user.clone())
                .unwrap_or_default();
            ClusterFacts {
                context: c.context.clone(),
                user,
                environment: env.name.clone(),
                protected: env.protected,
                readonly: env.readonly,
            }
        })
        .collect()
}

impl Runner for KubeRunner {
    fn run(&mut self, effect: crate::state::Effect) {
        use crate::state::Effect;
        match effect {
            Effect::Quit => {}
            Effect::Metrics(query) => {
                if let Some(m) = &self.metrics {
                    m.query(query);
                }
            }
            Effect::MetricsPods {
                cluster,
                targets,
                restarts,
            } => {
                if let Some(m) = &self.metrics {
                    m.set_targets(cluster, targets);
                    m.set_restarts(cluster, restarts);
                }
            }
            Effect::FetchDetail { cluster, kind, key } => {
                let Some(Some(client)) = self.clients.get(cluster).cloned() else {
                    let err = crate::kube::DetailError {
                        cluster,
                        kind,
                        key,
                        message: "this cluster has no client (see the clusters view)".into(),
                    };
                    let _ = self.tx.try_send(KubeMsg::Detail(Err(err)));
                    return;
                };
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let result = detail::fetch_detail(client, cluster, kind, key).await;
                    let _ = tx.send(KubeMsg::Detail(result)).await;
                });
            }
            Effect::FetchHistory { cluster, key } => {
                let client = self.clients.get(cluster).cloned().flatten();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let result = match client {
                        Some(c) => ops::history(&c, &key.namespace, &key.name).await,
                        None => Err("this cluster has no client (see the clusters view)".into()),
                    };
                    let msg = KubeMsg::History {
                        cluster,
                        key,
                        result,
                    };
                    let _ = tx.send(msg).await;
                });
            }
            Effect::Mutate(mutations) => {
                // Each cluster of a bulk change answers on its own; none waits for another.
                for m in mutations {
                    let dispatcher = Arc::clone(&self.dispatcher);
                    let tx = self.tx.clone();
                    tokio::spawn(async move {
                        let result = dispatcher.dispatch(m).await;
                        let _ = tx.send(KubeMsg::Action(result)).await;
                    });
                }
            }
            Effect::StartLogs {
                session,
                targets,
                opts,
            } => self
                .logs
                .start(&self.clients, session, targets, opts, &self.tx),
            Effect::StopLogs { session } => self.logs.stop(session),
            Effect::SaveLogs {
                session,
                file,
                text,
            } => self.logs.save(session, file, text, &self.tx),
        }
    }
}

fn wall_clock() -> Clock {
    Arc::new(Timestamp::now)
}

/// Reads terminal input on its own thread (crossterm's read blocks) and sends it on.
fn spawn_input(ui: mpsc::UnboundedSender<Msg>) {
    use ratatui::crossterm::event::{self, Event, KeyEventKind};
    std::thread::spawn(move || {
        loop {
            let msg = match event::read() {
                Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => Msg::Key(k),
                Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                Ok(_) => continue,
                Err(_) => break,
            };
            if ui.send(msg).is_err() {
                break;
            }
        }
    });
}

/// Runs the console in this terminal until the user quits. Call inside a tokio runtime.
pub async fn run(console: Console) -> color_eyre::Result<()> {
    let clock = wall_clock();
    let mut state = initial_state(&console, clock());
    let styles = Styles::new(&console.settings.palette);
    let (kube_tx, kube_rx) = mpsc::channel(KUBE_QUEUE);
    let (ui_tx, ui_rx) = mpsc::unbounded_channel();
    let handles = connect(&console, &kube_tx, Arc::clone(&clock)).await;
    let mut runner = KubeRunner::new(&console, &handles, kube_tx.clone(), Arc::clone(&clock));
    runner.metrics = start_metrics(&console, &mut state, ui_tx.clone(), Arc::clone(&clock)).await;
    // Stops with the console (dropped when `run` returns).
    let _alerts = super::alerts::start_alerts(
        &console,
        &mut state,
        runner.metrics.as_ref().map(|m| m.store()),
        ui_tx.clone(),
        Arc::clone(&clock),
    );
    if let Err(e) = &runner.dispatcher.audit {
        state
            .warnings
            .push(format!("scale, restart and rollback are disabled: {e}"));
    }
    let mut guard = TerminalGuard::enter()?;
    let size = guard.terminal.size()?;
    state.size = (size.width, size.height);
    if !state.warnings.is_empty() {
        let n = state.warnings.len();
        state.notify(
            Level::Warning,
            format!("{n} configuration warning(s): press ? to read them"),
            clock(),
        );
    }
    spawn_input(ui_tx.clone());
    let tick = ui_tx.clone();
    let ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if tick.send(Msg::Tick).is_err() {
                break;
            }
        }
    });
    drop(ui_tx);
    let mut inbox = Inbox {
        kube: kube_rx,
        ui: ui_rx,
    };
    let result = event_loop::run(
        &mut guard.terminal,
        state,
        &styles,
        &mut inbox,
        &mut runner,
        || clock(),
    )
    .await;
    ticker.abort();
    // Restore the terminal before anything else prints, then stop the watchers.
    drop(guard);
    drop(handles);
    result?;
    Ok(())
}
