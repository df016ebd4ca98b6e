//! The console's model and its transitions, pure: `update(&mut State, Msg, now) -> Vec<Effect>`.
//! No I/O and no clock reads here; the runner does the I/O and feeds the results back as `Msg`s.

pub mod alerts;
pub mod cluster;
pub mod command;
pub mod dialog;
pub mod filter;
pub mod fleet;
mod input;
pub mod logs;
pub mod metrics;
pub mod screen;
#[cfg(test)]
pub mod testing;

use jiff::{SignedDuration, Timestamp};

use crate::config::keymap::Keymap;
use crate::kube::{ClusterId, Detail, DetailError, Kind, KubeMsg, ObjKey};

pub use cluster::ClusterState;
pub use dialog::{Dialog, Mutation};
pub use fleet::{Cell, FleetRow};
pub use screen::{DetailTarget, Item, Scope, Screen, ViewKind};

/// An environment as the console shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvState {
    pub name: String,
    /// A colour name from the config (the theme resolves it).
    pub color: Option<String>,
    pub protected: bool,
    pub readonly: bool,
}

/// Input from the user, the clusters and the clock.
#[derive(Clone, Debug)]
pub enum Msg {
    Key(crossterm::event::KeyEvent),
    /// Terminal size in cells.
    Resize(u16, u16),
    /// Once a second: ages, notices, stale markers.
    Tick,
    Kube(KubeMsg),
    Metrics(metrics::MetricsMsg),
    /// Alert state from the alerts runtime (local evaluation and remote sources).
    Alerts(alerts::AlertsMsg),
}

/// What `update` asks the runner to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    Quit,
    FetchDetail {
        cluster: ClusterId,
        kind: Kind,
        key: ObjKey,
    },
    /// The revisions of a workload, for the rollback dialog.
    FetchHistory {
        cluster: ClusterId,
        key: ObjKey,
    },
    /// Confirmed changes, for the dispatcher (which checks them again and audits them).
    Mutate(Vec<Mutation>),
    /// Tail logs: one follower per target, its reports tagged with `session`.
    StartLogs {
        session: u64,
        targets: Vec<crate::kube::logs::LogTarget>,
        opts: crate::kube::logs::LogOpts,
    },
    /// Stop every stream of a tail.
    StopLogs {
        session: u64,
    },
    /// Write `text` to `file` under the data directory's `logs/`.
    SaveLogs {
        session: u64,
        file: String,
        text: String,
    },
    /// Compute something from the series store.
    Metrics(metrics::MetricsQuery),
    /// The cluster's pods as the metrics side needs them: the scrape targets (all of them: the
    /// previous list is replaced) and every container's restart count.
    MetricsPods {
        cluster: ClusterId,
        targets: Vec<crate::metrics::scrape::Target>,
        restarts: Vec<crate::metrics::signals::Restarts>,
    },
}

/// The line the user is typing, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Command(String),
    Filter(String),
    Help,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// A message at the bottom of the screen, for a few seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub level: Level,
    pub text: String,
    pub at: Timestamp,
}

/// How long a notice stays.
const NOTICE_FOR: SignedDuration = SignedDuration::from_secs(6);

/// An error stays longer: a failed or refused change must not go unread.
const ERROR_NOTICE_FOR: SignedDuration = SignedDuration::from_secs(30);

/// The detail screen's fetched part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DetailLoad {
    Loading,
    Ready(Detail),
    Failed(String),
}

#[derive(Clone, Debug)]
pub struct State {
    pub envs: Vec<EnvState>,
    pub clusters: Vec<ClusterState>,
    pub fleet: Vec<FleetRow>,
    /// Screens, the current one last; Esc pops.
    pub nav: Vec<Screen>,
    pub mode: Mode,
    pub faults_only: bool,
    pub readonly: bool,
    pub keymap: Keymap,
    /// Problems found in the config, keymap or theme; shown until dismissed.
    pub warnings: Vec<String>,
    pub notice: Option<Notice>,
    pub detail: Option<DetailLoad>,
    /// A scale, rollback or confirmation dialog over the screen; it takes every key.
    pub dialog: Option<Dialog>,
    /// Confirmed changes waiting for the clusters' answers.
    pub pending: Option<dialog::Pending>,
    pub size: (u16, u16),
    /// The zone the clock and times are shown in (UTC in tests).
    pub tz: jiff::tz::TimeZone,
    pub quit: bool,
    /// Something visible changed since the last frame.
    pub dirty: bool,
    /// Rows changed since the fleet was last folded.
    pub fold_pending: bool,
    /// When the fleet was last folded.
    pub last_fold: Option<Timestamp>,
    /// The open log view (its screen is `ViewKind::Logs`).
    pub logs: Option<Box<logs::LogView>>,
    /// The last log tail's session number.
    pub log_session: u64,
    /// The log buffer's size in lines (`[ui] log_lines`).
    pub log_lines: usize,
    /// The scraped metrics: the snapshot the tables show, the panel, the explorer.
    pub metrics: metrics::MetricsState,
    /// The alerts snapshot and the firing counts derived from it.
    pub alerts: alerts::AlertsState,
}

impl State {
    /// `clusters`: (context, environment index, short column name).
    pub fn new(
        envs: Vec<EnvState>,
        clusters: Vec<(String, usize, String)>,
        keymap: Keymap,
        now: Timestamp,
    ) -> Self {
        let clusters = clusters
            .into_iter()
            .map(|(context, env, short)| ClusterState::new(context, env, short, now))
            .collect();
        Self {
            envs,
            clusters,
            fleet: Vec::new(),
            nav: vec![Screen::new(ViewKind::Fleet, Scope::default())],
            mode: Mode::Normal,
            faults_only: false,
            readonly: false,
            keymap,
            warnings: Vec::new(),
            notice: None,
            detail: None,
            dialog: None,
            pending: None,
            size: (80, 24),
            tz: jiff::tz::TimeZone::UTC,
            quit: false,
            dirty: true,
            fold_pending: false,
            last_fold: None,
            logs: None,
            log_session: 0,
            log_lines: logs::DEFAULT_LOG_LINES,
            metrics: metrics::MetricsState::default(),
            alerts: alerts::AlertsState::default(),
        }
    }

    pub fn screen(&self) -> &Screen {
        self.nav
            .last()
            .expect("the navigation stack is never empty")
    }

    pub fn screen_mut(&mut self) -> &mut Screen {
        self.nav
            .last_mut()
            .expect("the navigation stack is never empty")
    }

    pub fn env_name(&self, cluster: ClusterId) -> &str {
        &self.envs[self.clusters[cluster].env].name
    }

    /// How headers name a cluster: `dev`, or `PROD` and `eastus` when its environment has
    /// several clusters; a protected environment's name in capitals.
    pub fn cluster_label(&self, id: ClusterId) -> (String, String) {
        let c = &self.clusters[id];
        let env = &self.envs[c.env];
        let env_name = if env.protected {
            env.name.to_uppercase()
        } else {
            env.name.clone()
        };
        let several = self.clusters.iter().filter(|o| o.env == c.env).count() > 1;
        if several {
            (env_name, c.short.clone())
        } else {
            (env_name, String::new())
        }
    }

    /// A cluster as one label: `dev`, `PROD eastus`.
    pub fn cluster_name(&self, id: ClusterId) -> String {
        let (env, short) = self.cluster_label(id);
        if short.is_empty() {
            env
        } else {
            format!("{env} {short}")
        }
    }

    /// The fleet cell of workload `key` in `cluster`.
    pub fn cell(&self, cluster: ClusterId, key: &ObjKey) -> Option<&Cell> {
        let i = self.fleet.binary_search_by(|r| r.key.cmp(key)).ok()?;
        self.fleet[i].cells.get(cluster)?.as_ref()
    }

    /// Cluster ids in the order of the fleet's columns (by environment).
    pub fn columns(&self) -> Vec<ClusterId> {
        let scope = &self.screen().scope;
        fleet::columns(&self.clusters)
            .into_iter()
            .filter(|&c| {
                scope.cluster.is_none_or(|s| s == c)
                    && scope.env.is_none_or(|e| self.clusters[c].env == e)
            })
            .collect()
    }

    /// Rebuilds the current screen's rows.
    pub fn refresh(&mut self, now: Timestamp) {
        let mut screen = self.nav.pop().expect("the navigation stack is never empty");
        screen.refresh(self, now);
        self.nav.push(screen);
        let height = self.table_height();
        self.screen_mut().scroll_into_view(height);
    }

    /// Rows a table can show at the current size (the frame minus header, borders, column titles
    /// and the hint bar).
    pub fn table_height(&self) -> usize {
        usize::from(self.size.1.saturating_sub(6)).max(1)
    }

    /// Folds the fleet from the clusters' rows and refreshes the open table.
    pub fn fold(&mut self, now: Timestamp) {
        self.fleet = fleet::build(&self.clusters, now);
        // Alerts name workloads and pods: a new pod may now resolve one.
        if self.alerts.loaded {
            alerts::recount(self);
        }
        self.refresh(now);
        self.fold_pending = false;
        self.last_fold = Some(now);
        self.dirty = true;
    }

    pub fn notify(&mut self, level: Level, text: impl Into<String>, now: Timestamp) {
        self.notice = Some(Notice {
            level,
            text: text.into(),
            at: now,
        });
        self.dirty = true;
    }
}

/// Applies one message. Returns what the runner should do.
pub fn update(state: &mut State, msg: Msg, now: Timestamp) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => {
            // What the user acts on must be current.
            if state.fold_pending {
                state.fold(now);
            }
            let mut effects = input::key(state, key, now);
            effects.extend(logs::reconcile(state));
            state.dirty = true;
            effects
        }
        Msg::Resize(w, h) => {
            state.size = (w, h);
            let height = state.table_height();
            state.screen_mut().scroll_into_view(height);
            state.dirty = true;
            Vec::new()
        }
        Msg::Tick => {
            if state.fold_pending {
                state.fold(now);
            }
            if state.notice.as_ref().is_some_and(|n| {
                let keep = match n.level {
                    Level::Error => ERROR_NOTICE_FOR,
                    _ => NOTICE_FOR,
                };
                now.duration_since(n.at) >= keep
            }) {
                state.notice = None;
            }
            // Ages and the clock move: the frame differs even when no data did.
            state.dirty = true;
            metrics::targets(state, now)
        }
        Msg::Kube(msg) => {
            kube(state, msg, now);
            Vec::new()
        }
        Msg::Metrics(msg) => metrics::update(state, msg, now),
        Msg::Alerts(msg) => {
            alerts::update(state, msg, now);
            Vec::new()
        }
    }
}

fn kube(state: &mut State, msg: KubeMsg, now: Timestamp) {
    match msg {
        KubeMsg::Changes { cluster, changes } => {
            let Some(c) = state.clusters.get_mut(cluster) else {
                return;
            };
            for change in changes {
                c.apply(change, now);
            }
            metrics::pods_changed(state, cluster);
            // Until every cluster has listed once, each batch shows at once (the first full
            // frame is what a user waits for). After that changes are folded and drawn with
            // the once-a-second tick, the frame that moves the clock and the ages anyway: a
            // busy fleet costs the terminal one frame a second, and a change shows within one.
            // A key folds first, so what the user acts on is current.
            let loading = state.last_fold.is_none() || state.clusters.iter().any(|c| !c.loaded());
            if !loading {
                state.fold_pending = true;
                return;
            }
            state.fold(now);
        }
        KubeMsg::Conn {
            cluster,
            state: conn,
            at,
        } => {
            if let Some(c) = state.clusters.get_mut(cluster) {
                c.set_conn(conn, at);
            }
        }
        KubeMsg::Server { cluster, info } => {
            if let Some(c) = state.clusters.get_mut(cluster) {
                c.server = Some(info);
            }
        }
        KubeMsg::Logs(event) => {
            logs::event(state, event, now);
            return;
        }
        KubeMsg::Detail(result) => {
            let current = state.screen().detail.clone();
            let is_current = |cluster, kind, key: &ObjKey| {
                current
                    .as_ref()
                    .is_some_and(|t| t.cluster == cluster && t.kind == kind && t.key == *key)
            };
            match result {
                Ok(d) if is_current(d.cluster, d.kind, &d.key) => {
                    state.detail = Some(DetailLoad::Ready(d));
                }
                Err(DetailError {
                    cluster,
                    kind,
                    key,
                    message,
                }) if is_current(cluster, kind, &key) => {
                    state.detail = Some(DetailLoad::Failed(message));
                }
                // An answer for a screen already left.
                _ => return,
            }
        }
        KubeMsg::History {
            cluster,
            key,
            result,
        } => dialog::history_loaded(state, cluster, &key, result),
        KubeMsg::Action(result) => dialog::action_result(state, result, now),
    }
    state.dirty = true;
}

#[cfg(test)]
mod tests;
