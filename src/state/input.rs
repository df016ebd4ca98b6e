//! Keys: text entry for the command and filter lines, and keymap actions everywhere else.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;

use super::command::{self, Command};
use super::filter::Filter;
use super::screen::{DetailTarget, Item, Scope, Screen, ViewKind};
use super::{DetailLoad, Effect, Level, Mode, State};
use crate::action::Action;
use crate::kube::{Kind, ObjKey};

/// Deepest the navigation stack grows; older screens are forgotten.
const MAX_DEPTH: usize = 32;

pub(super) fn key(state: &mut State, key: KeyEvent, now: Timestamp) -> Vec<Effect> {
    // Ctrl-C always quits, whatever mode and keymap: it is what a stuck user reaches for.
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        state.quit = true;
        return vec![Effect::Quit];
    }
    if state.dialog.is_some() {
        return super::dialog::key(state, key, now);
    }
    match state.mode.clone() {
        Mode::Command(line) => text_entry(state, key, line, now, true),
        Mode::Filter(line) => text_entry(state, key, line, now, false),
        Mode::Help => {
            match state.keymap.action(&key) {
                Some(Action::Quit) => {
                    state.quit = true;
                    return vec![Effect::Quit];
                }
                Some(Action::Help | Action::Back) => state.mode = Mode::Normal,
                _ if key.code == KeyCode::Esc => state.mode = Mode::Normal,
                _ => {}
            }
            Vec::new()
        }
        Mode::Normal => match state.keymap.action(&key) {
            Some(action) => act(state, action, now),
            None => Vec::new(),
        },
    }
}

fn text_entry(
    state: &mut State,
    key: KeyEvent,
    mut line: String,
    now: Timestamp,
    command: bool,
) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => {
            state.mode = Mode::Normal;
            if !command {
                set_filter(state, "", now);
            }
            return Vec::new();
        }
        KeyCode::Enter => {
            state.mode = Mode::Normal;
            if command {
                return run_command(state, &line, now);
            }
            return Vec::new();
        }
        KeyCode::Backspace => {
            if line.pop().is_none() {
                state.mode = Mode::Normal;
                return Vec::new();
            }
        }
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            line.push(c);
        }
        _ => return Vec::new(),
    }
    if !command {
        // The filter applies as it is typed, as in k9s.
        set_filter(state, &line, now);
        state.mode = Mode::Filter(line);
    } else {
        state.mode = Mode::Command(line);
    }
    Vec::new()
}

fn set_filter(state: &mut State, text: &str, now: Timestamp) {
    if state.screen().kind == ViewKind::Logs {
        return super::logs::set_filter(state, text, now);
    }
    match Filter::parse(text) {
        Ok(filter) => {
            let screen = state.screen_mut();
            screen.filter = filter;
            screen.filter_text = text.trim().to_string();
            screen.selected = 0;
            screen.offset = 0;
            state.refresh(now);
        }
        // A half-typed regex is normal: keep the last good filter and say why.
        Err(e) => state.notify(Level::Warning, e, now),
    }
}

fn run_command(state: &mut State, line: &str, now: Timestamp) -> Vec<Effect> {
    match command::parse(state, line) {
        Ok(Command::Quit) => state.quit = true,
        Ok(Command::Help) => state.mode = Mode::Help,
        Ok(Command::Metrics) => return super::metrics::open_explorer(state, now),
        Ok(Command::Show(kind, scope)) => push(state, Screen::new(kind, scope), now),
        Err(e) => state.notify(Level::Error, e, now),
    }
    Vec::new()
}

pub(super) fn push(state: &mut State, screen: Screen, now: Timestamp) {
    if state.nav.len() >= MAX_DEPTH {
        state.nav.remove(1);
    }
    state.nav.push(screen);
    state.refresh(now);
}

fn act(state: &mut State, action: Action, now: Timestamp) -> Vec<Effect> {
    let page = state.table_height();
    let kind = state.screen().kind;
    if kind == ViewKind::Logs
        && let Some(effects) = super::logs::act(state, action, now)
    {
        return effects;
    }
    match action {
        Action::Quit => {
            state.quit = true;
            return vec![Effect::Quit];
        }
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom
            if matches!(kind, ViewKind::Detail | ViewKind::AlertDetail) =>
        {
            let screen = state.screen_mut();
            screen.scroll = match action {
                Action::Up => screen.scroll.saturating_sub(1),
                Action::Down => screen.scroll.saturating_add(1),
                Action::PageUp => screen.scroll.saturating_sub(page as u16),
                Action::PageDown => screen.scroll.saturating_add(page as u16),
                Action::Top => 0,
                _ => u16::MAX / 2,
            };
        }
        Action::Up => move_by(state, -1),
        Action::Down => move_by(state, 1),
        Action::PageUp => move_by(state, -(page as isize)),
        Action::PageDown => move_by(state, page as isize),
        Action::Top => move_by(state, isize::MIN / 2),
        Action::Bottom => move_by(state, isize::MAX / 2),
        Action::Left | Action::Right if kind == ViewKind::Fleet => {
            let n = state.columns().len();
            let screen = state.screen_mut();
            screen.column = match action {
                Action::Left => screen.column.saturating_sub(1),
                _ => (screen.column + 1).min(n.saturating_sub(1)),
            };
        }
        Action::Left | Action::Right => {}
        Action::Open => return open(state, now),
        Action::Detail => return detail(state, now),
        Action::Back => back(state, now),
        Action::Command => state.mode = Mode::Command(String::new()),
        Action::Filter => state.mode = Mode::Filter(state.screen().filter_text.clone()),
        Action::Help => state.mode = Mode::Help,
        Action::ViewFleet => show(state, ViewKind::Fleet, now),
        Action::ViewWorkloads => show(state, ViewKind::Workloads, now),
        Action::ViewPods => show(state, ViewKind::Pods, now),
        Action::ViewEvents => show(state, ViewKind::Events, now),
        Action::ViewClusters => show(state, ViewKind::Clusters, now),
        Action::ViewMetrics => return super::metrics::open_explorer(state, now),
        Action::ViewAlerts => show(state, ViewKind::Alerts, now),
        Action::AlertRules => super::alerts::toggle_rules(state, now),
        Action::AlertPods => super::alerts::jump(state, now),
        Action::MetricsWindow => return super::metrics::cycle_window(state),
        Action::MetricsSignal => state.metrics.signal = state.metrics.signal.wrapping_add(1),
        Action::SortNext => {
            let n = kind.sort_columns().len().max(1);
            let screen = state.screen_mut();
            screen.sort = (screen.sort + 1) % n;
            state.refresh(now);
        }
        Action::SortReverse => {
            let screen = state.screen_mut();
            screen.reverse = !screen.reverse;
            state.refresh(now);
        }
        Action::FaultsOnly => {
            state.faults_only = !state.faults_only;
            state.refresh(now);
        }
        Action::Logs => return super::logs::open(state, now),
        // The log view's own keys (`Action::is_log_view`); elsewhere they do nothing. Listed,
        // not guarded, so a new action must be placed here.
        Action::LogFollow
        | Action::LogTimestamps
        | Action::LogWrap
        | Action::LogPrevious
        | Action::LogSince
        | Action::LogTail
        | Action::LogJson
        | Action::LogContainer
        | Action::LogClusters
        | Action::LogSave => {}
        Action::Scale | Action::Restart | Action::Rollback => return mutate(state, action, now),
    }
    Vec::new()
}

/// `s`, `r`, `u`: the dialog for the workload in focus, unless it may not be changed.
fn mutate(state: &mut State, action: Action, now: Timestamp) -> Vec<Effect> {
    let what = match action {
        Action::Scale => "scale",
        Action::Restart => "restart",
        _ => "roll back",
    };
    let Some((cluster, key)) = workload_in_focus(state) else {
        let text = format!("nothing to {what} here: select a workload (or a pod of one)");
        state.notify(Level::Info, text, now);
        return Vec::new();
    };
    if let Some(why) = super::dialog::readonly_reason(state, cluster) {
        state.notify(Level::Warning, why, now);
        return Vec::new();
    }
    match action {
        Action::Scale => super::dialog::open_scale(state, cluster, key),
        Action::Restart => super::dialog::open_restart(state, cluster, key),
        _ => return super::dialog::open_rollback(state, cluster, key),
    }
    Vec::new()
}

/// The workload (Deployment) the user is looking at: the selected workload or fleet cell, the
/// workload of the selected pod, or the one a detail or pods screen is about.
pub(super) fn workload_in_focus(state: &State) -> Option<(crate::kube::ClusterId, ObjKey)> {
    let screen = state.screen();
    let known = |cluster: usize, key: ObjKey| {
        state.clusters[cluster]
            .workloads
            .contains_key(&key)
            .then_some((cluster, key))
    };
    let pod_workload = |cluster: usize, key: &ObjKey| {
        let pod = state.clusters[cluster].pods.get(key)?;
        let name = pod.workload.clone()?;
        known(cluster, ObjKey::new(key.namespace.clone(), name))
    };
    match (screen.kind, screen.selected_item()) {
        (ViewKind::Workloads, Some(Item::Obj(cluster, key))) => known(*cluster, key.clone()),
        (ViewKind::Fleet, Some(Item::Workload(key))) => {
            let cluster = *state.columns().get(screen.column)?;
            known(cluster, key.clone())
        }
        (ViewKind::Pods, Some(Item::Obj(cluster, key))) => pod_workload(*cluster, key),
        (ViewKind::Pods, None) => {
            let cluster = screen.scope.cluster?;
            let ns = screen.scope.namespace.clone()?;
            known(cluster, ObjKey::new(ns, screen.scope.workload.clone()?))
        }
        (ViewKind::Detail, _) => {
            let t = screen.detail.as_ref()?;
            match t.kind {
                Kind::Deployment => known(t.cluster, t.key.clone()),
                Kind::Pod => pod_workload(t.cluster, &t.key),
                _ => None,
            }
        }
        _ => None,
    }
}

fn move_by(state: &mut State, delta: isize) {
    let height = state.table_height();
    let screen = state.screen_mut();
    let last = screen.items.len().saturating_sub(1) as isize;
    screen.selected = (screen.selected as isize)
        .saturating_add(delta)
        .clamp(0, last.max(0)) as usize;
    screen.scroll_into_view(height);
}

/// A view from a key: keeps the current scope, so `3` on prod's workloads shows prod's pods.
fn show(state: &mut State, kind: ViewKind, now: Timestamp) {
    if state.screen().kind == kind {
        return;
    }
    let mut scope = state.screen().scope.clone();
    scope.workload = None;
    scope.alert = None;
    push(state, Screen::new(kind, scope), now);
}

fn back(state: &mut State, now: Timestamp) {
    if !state.screen().filter_text.is_empty() {
        set_filter(state, "", now);
        return;
    }
    if state.nav.len() > 1 {
        // Only leaving a detail forgets it: the log view opened from a detail goes back to it.
        if state.nav.pop().is_some_and(|s| s.kind == ViewKind::Detail) {
            state.detail = None;
        }
        state.refresh(now);
    }
}

/// Enter: fleet cell -> the workload in that cluster -> its pods -> a pod's detail.
fn open(state: &mut State, now: Timestamp) -> Vec<Effect> {
    // An alert's detail has no rows: Enter goes on to the workload its labels name.
    if state.screen().kind == ViewKind::AlertDetail {
        super::alerts::jump(state, now);
        return Vec::new();
    }
    let Some(item) = state.screen().selected_item().cloned() else {
        return Vec::new();
    };
    let kind = state.screen().kind;
    match (kind, item) {
        (ViewKind::Fleet, Item::Workload(key)) => {
            let columns = state.columns();
            let Some(&cluster) = columns.get(state.screen().column) else {
                return Vec::new();
            };
            if state.cell(cluster, &key).is_none() {
                let name = &state.clusters[cluster].context;
                state.notify(Level::Info, format!("{key} does not run in {name}"), now);
                return Vec::new();
            }
            let scope = Scope {
                cluster: Some(cluster),
                namespace: Some(key.namespace.clone()),
                ..Scope::default()
            };
            push(state, Screen::new(ViewKind::Workloads, scope), now);
            state.screen_mut().select(&Item::Obj(cluster, key));
            state.refresh(now);
        }
        (ViewKind::Workloads, Item::Obj(cluster, key)) => {
            let scope = Scope {
                cluster: Some(cluster),
                namespace: Some(key.namespace.clone()),
                workload: Some(key.name.clone()),
                ..Scope::default()
            };
            push(state, Screen::new(ViewKind::Pods, scope), now);
        }
        (ViewKind::Clusters, Item::Cluster(cluster)) => {
            let scope = Scope {
                cluster: Some(cluster),
                ..Scope::default()
            };
            push(state, Screen::new(ViewKind::Workloads, scope), now);
        }
        (ViewKind::Pods | ViewKind::Events, _) => return detail(state, now),
        (ViewKind::Metrics, item) => return super::metrics::open(state, item, now),
        (ViewKind::Alerts, _) => super::alerts::open_detail(state, now),
        _ => {}
    }
    Vec::new()
}

/// `d`: the detail of the selected pod or workload (an event shows what it is about).
fn detail(state: &mut State, now: Timestamp) -> Vec<Effect> {
    let Some(item) = state.screen().selected_item().cloned() else {
        return Vec::new();
    };
    if state.screen().kind == ViewKind::Alerts {
        super::alerts::open_detail(state, now);
        return Vec::new();
    }
    let target = match (state.screen().kind, item) {
        (ViewKind::Pods, Item::Obj(cluster, key)) => DetailTarget {
            cluster,
            kind: Kind::Pod,
            key,
        },
        (ViewKind::Workloads, Item::Obj(cluster, key)) => DetailTarget {
            cluster,
            kind: Kind::Deployment,
            key,
        },
        (ViewKind::Fleet, Item::Workload(key)) => {
            let columns = state.columns();
            let Some(&cluster) = columns.get(state.screen().column) else {
                return Vec::new();
            };
            if state.cell(cluster, &key).is_none() {
                return Vec::new();
            }
            DetailTarget {
                cluster,
                kind: Kind::Deployment,
                key,
            }
        }
        (ViewKind::Events, Item::Obj(cluster, key)) => {
            let Some(ev) = state.clusters[cluster].events.get(&key) else {
                return Vec::new();
            };
            let kind = match ev.object_kind.as_str() {
                "Pod" => Kind::Pod,
                "Deployment" => Kind::Deployment,
                other => {
                    let text =
                        format!("no detail view for a {other} yet (pods and deployments have one)");
                    state.notify(Level::Info, text, now);
                    return Vec::new();
                }
            };
            DetailTarget {
                cluster,
                kind,
                key: crate::kube::ObjKey::new(key.namespace.clone(), ev.object_name.clone()),
            }
        }
        _ => return Vec::new(),
    };
    let mut screen = Screen::new(ViewKind::Detail, state.screen().scope.clone());
    screen.detail = Some(target.clone());
    push(state, screen, now);
    state.detail = Some(DetailLoad::Loading);
    state.metrics.panel = None;
    let mut effects = vec![Effect::FetchDetail {
        cluster: target.cluster,
        kind: target.kind,
        key: target.key,
    }];
    effects.extend(super::metrics::panel_query(state));
    effects
}
