//! The log view's state: what is tailed (a pod, one of its containers, or a workload in one or
//! every cluster running it), the options (since/tail/previous restart the streams; timestamps,
//! wrap and JSON only change the drawing), the ring buffer and its sources; the keys of the view
//! and the `KubeMsg::Logs` reports folded in.

use jiff::Timestamp;

use super::screen::{Item, Scope, Screen, ViewKind};
use super::{Effect, Level, State};
use crate::action::Action;
use crate::kube::logs::{LogOpts, LogTarget, PodSelect};
use crate::kube::{ClusterId, Kind, ObjKey};
use crate::logs::source::Sources;
use crate::logs::{LogBuffer, LogFilter};

mod fold;
mod text;
pub(super) use fold::event;
pub use text::thousands;

/// The buffer's size when the config does not say (`[ui] log_lines`).
pub const DEFAULT_LOG_LINES: usize = crate::config::DEFAULT_LOG_LINES;

/// Where a tail starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Since {
    /// The last `tail` lines of each container.
    Tail,
    Seconds(i64),
    /// Everything the kubelet still has.
    All,
}

/// The order `LogSince` cycles through.
pub const SINCE: &[Since] = &[
    Since::Tail,
    Since::Seconds(60),
    Since::Seconds(300),
    Since::Seconds(900),
    Since::Seconds(3600),
    Since::All,
];

/// The order `LogTail` cycles through.
pub const TAILS: &[i64] = &[100, 500, 1_000, 5_000];

/// What is tailed, independent of the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tailed {
    Pod {
        name: String,
        /// The pod's containers, to cycle through.
        containers: Vec<String>,
    },
    Workload {
        name: String,
    },
}

#[derive(Clone, Debug)]
pub struct LogView {
    pub session: u64,
    pub namespace: String,
    pub tailed: Tailed,
    /// The cluster it was opened in.
    pub origin: ClusterId,
    /// The clusters tailed (several after widening to every cluster running the workload).
    pub clusters: Vec<ClusterId>,
    /// Only this container.
    pub container: Option<String>,
    pub since: Since,
    pub tail: i64,
    pub previous: bool,
    pub timestamps: bool,
    pub wrap: bool,
    /// JSON lines as they were written rather than as fields.
    pub raw: bool,
    pub buffer: LogBuffer,
    pub sources: Sources,
}

impl LogView {
    pub fn name(&self) -> &str {
        match &self.tailed {
            Tailed::Pod { name, .. } | Tailed::Workload { name } => name,
        }
    }

    /// The server-side options.
    pub fn opts(&self) -> LogOpts {
        LogOpts {
            tail: (self.since == Since::Tail).then_some(self.tail),
            since_seconds: match self.since {
                Since::Seconds(s) => Some(s),
                _ => None,
            },
            previous: self.previous,
        }
    }

    /// `tail 500`, `since 5m`, `everything`.
    pub fn since_text(&self) -> String {
        match self.since {
            Since::Tail => format!("tail {}", self.tail),
            Since::Seconds(s) if s % 3600 == 0 => format!("since {}h", s / 3600),
            Since::Seconds(s) => format!("since {}m", s / 60),
            Since::All => "everything".into(),
        }
    }
}

/// `l`: opens the log view on the selection (a pod, a workload, a fleet cell, a detail).
pub(super) fn open(state: &mut State, now: Timestamp) -> Vec<Effect> {
    let screen = state.screen();
    let pick: Option<(ClusterId, Kind, ObjKey)> = match (screen.kind, screen.selected_item()) {
        (ViewKind::Pods, Some(Item::Obj(c, key))) => Some((*c, Kind::Pod, key.clone())),
        (ViewKind::Workloads, Some(Item::Obj(c, key))) => Some((*c, Kind::Deployment, key.clone())),
        (ViewKind::Fleet, Some(Item::Workload(key))) => {
            let Some(&c) = state.columns().get(screen.column) else {
                return Vec::new();
            };
            if state.cell(c, key).is_none() {
                let text = format!("{key} does not run in {}", state.clusters[c].context);
                state.notify(Level::Info, text, now);
                return Vec::new();
            }
            Some((c, Kind::Deployment, key.clone()))
        }
        (ViewKind::Detail, _) => screen
            .detail
            .as_ref()
            .filter(|t| matches!(t.kind, Kind::Pod | Kind::Deployment))
            .map(|t| (t.cluster, t.kind, t.key.clone())),
        (ViewKind::Logs, _) => return Vec::new(),
        _ => None,
    };
    let Some((cluster, kind, key)) = pick else {
        let text = "logs: select a pod or a workload (or a fleet cell) first";
        state.notify(Level::Info, text, now);
        return Vec::new();
    };
    let c = &state.clusters[cluster];
    let tailed = if kind == Kind::Pod {
        let containers = c
            .pods
            .get(&key)
            .map(|p| p.containers.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default();
        Tailed::Pod {
            name: key.name.clone(),
            containers,
        }
    } else {
        if c.workloads.get(&key).is_none_or(|w| w.selector.is_empty()) {
            let text = format!("logs: {key} has no pod selector known yet in {}", c.context);
            state.notify(Level::Warning, text, now);
            return Vec::new();
        }
        Tailed::Workload {
            name: key.name.clone(),
        }
    };
    state.log_session += 1;
    let view = LogView {
        session: state.log_session,
        namespace: key.namespace.clone(),
        tailed,
        origin: cluster,
        clusters: vec![cluster],
        container: None,
        since: Since::Tail,
        tail: TAILS[1],
        previous: false,
        timestamps: false,
        wrap: false,
        raw: false,
        buffer: LogBuffer::new(state.log_lines),
        sources: Sources::default(),
    };
    let scope = Scope {
        cluster: Some(cluster),
        namespace: Some(key.namespace.clone()),
        workload: (kind == Kind::Deployment).then(|| key.name.clone()),
        ..Scope::default()
    };
    super::input::push(state, Screen::new(ViewKind::Logs, scope), now);
    let start = start(state, &view);
    state.logs = Some(Box::new(view));
    vec![start]
}

/// The effect that starts `view`'s streams (one target per cluster).
fn start(state: &State, view: &LogView) -> Effect {
    let targets = view
        .clusters
        .iter()
        .filter_map(|&cluster| {
            let pods = match &view.tailed {
                Tailed::Pod { name, .. } => PodSelect::Name(name.clone()),
                Tailed::Workload { name } => {
                    let key = ObjKey::new(view.namespace.clone(), name.clone());
                    let w = state.clusters.get(cluster)?.workloads.get(&key)?;
                    PodSelect::Labels(w.selector.clone())
                }
            };
            Some(LogTarget {
                cluster,
                namespace: view.namespace.clone(),
                pods,
                container: view.container.clone(),
            })
        })
        .collect();
    Effect::StartLogs {
        session: view.session,
        targets,
        opts: view.opts(),
    }
}

/// Starts the tail again under a new session (options that the server applies changed).
fn restart(state: &mut State) -> Vec<Effect> {
    let Some(mut view) = state.logs.take() else {
        return Vec::new();
    };
    let old = view.session;
    state.log_session += 1;
    view.session = state.log_session;
    view.buffer.clear();
    view.sources = Sources::default();
    let start = start(state, &view);
    state.logs = Some(view);
    vec![Effect::StopLogs { session: old }, start]
}

/// A key in the log view. None: not the log view's, handled as anywhere else.
pub(super) fn act(state: &mut State, action: Action, now: Timestamp) -> Option<Vec<Effect>> {
    let page = state.table_height() as isize;
    let view = state.logs.as_mut()?;
    match action {
        Action::Up => view.buffer.scroll(-1),
        Action::Down => view.buffer.scroll(1),
        Action::PageUp => view.buffer.scroll(-page),
        Action::PageDown => view.buffer.scroll(page),
        Action::Top => view.buffer.scroll(isize::MIN / 2),
        Action::Bottom => view.buffer.set_paused(false),
        Action::LogFollow => {
            let paused = view.buffer.paused();
            view.buffer.set_paused(!paused);
        }
        Action::LogTimestamps => view.timestamps = !view.timestamps,
        Action::LogWrap => view.wrap = !view.wrap,
        Action::LogJson => view.raw = !view.raw,
        Action::LogPrevious => {
            view.previous = !view.previous;
            return Some(restart(state));
        }
        Action::LogSince => {
            let i = SINCE.iter().position(|s| *s == view.since).unwrap_or(0);
            view.since = SINCE[(i + 1) % SINCE.len()];
            return Some(restart(state));
        }
        Action::LogTail => {
            if view.since == Since::Tail {
                let i = TAILS.iter().position(|t| *t == view.tail).unwrap_or(0);
                view.tail = TAILS[(i + 1) % TAILS.len()];
            }
            view.since = Since::Tail;
            return Some(restart(state));
        }
        Action::LogContainer => {
            let Tailed::Pod { containers, .. } = &view.tailed else {
                state.notify(
                    Level::Info,
                    "logs: a workload's tail shows every container",
                    now,
                );
                return Some(Vec::new());
            };
            if containers.len() < 2 {
                state.notify(Level::Info, "logs: this pod has one container", now);
                return Some(Vec::new());
            }
            let next = match &view.container {
                None => Some(containers[0].clone()),
                Some(c) => containers
                    .iter()
                    .position(|x| x == c)
                    .and_then(|i| containers.get(i + 1).cloned()),
            };
            view.container = next;
            return Some(restart(state));
        }
        Action::LogClusters => {
            let Tailed::Workload { name } = &view.tailed else {
                state.notify(Level::Info, "logs: a pod lives in one cluster", now);
                return Some(Vec::new());
            };
            let key = ObjKey::new(view.namespace.clone(), name.clone());
            let clusters: Vec<ClusterId> = if view.clusters.len() > 1 {
                vec![view.origin]
            } else {
                super::fleet::columns(&state.clusters)
                    .into_iter()
                    .filter(|&c| state.clusters[c].workloads.contains_key(&key))
                    .collect()
            };
            if clusters.len() <= 1 && view.clusters.len() <= 1 {
                state.notify(
                    Level::Info,
                    format!("logs: {key} runs in no other cluster"),
                    now,
                );
                return Some(Vec::new());
            }
            if let Some(v) = state.logs.as_mut() {
                v.clusters = clusters;
            }
            return Some(restart(state));
        }
        Action::LogSave => {
            let stamp = now.strftime("%Y%m%dT%H%M%SZ");
            let file = format!("{}_{}_{stamp}.log", view.namespace, view.name());
            return Some(vec![Effect::SaveLogs {
                session: view.session,
                file,
                text: view.saved_text(),
            }]);
        }
        // Leaving, filtering, help, commands and the other views work as anywhere.
        Action::Back
        | Action::Filter
        | Action::Command
        | Action::Help
        | Action::Quit
        | Action::ViewFleet
        | Action::ViewWorkloads
        | Action::ViewPods
        | Action::ViewEvents
        | Action::ViewClusters => return None,
        _ => {}
    }
    Some(Vec::new())
}

/// The `/` filter of the log view.
pub(super) fn set_filter(state: &mut State, text: &str, now: Timestamp) {
    match LogFilter::parse(text) {
        Ok(filter) => {
            if let Some(view) = state.logs.as_mut() {
                view.buffer.set_filter(filter);
            }
            state.screen_mut().filter_text = text.trim().to_string();
        }
        Err(e) => state.notify(Level::Warning, e, now),
    }
}

/// After a key: a log view that is no longer on screen stops its streams (and its screen leaves
/// the navigation stack, so Esc does not lead back to a dead tail).
pub(super) fn reconcile(state: &mut State) -> Vec<Effect> {
    if state.screen().kind == ViewKind::Logs || state.logs.is_none() {
        return Vec::new();
    }
    state.nav.retain(|s| s.kind != ViewKind::Logs);
    match state.logs.take() {
        Some(view) => vec![Effect::StopLogs {
            session: view.session,
        }],
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
