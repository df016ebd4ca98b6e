//! Alerts on screen: the latest [`AlertsSnapshot`] (local evaluation merged with Prometheus and
//! Alertmanager by the runtime), the rows of the `:alerts` and `:rules` tables, an alert's detail,
//! the jump from an alert to the workload its labels name, and the firing counts the fleet and
//! workloads tables show.
//!
//! Pure like the rest of the state: the runtime sends [`AlertsMsg::Snapshot`] whenever a source
//! reports; nothing is asked of it in return (the runtime polls on its own schedule).

mod rows;
mod target;

use std::collections::HashMap;

use jiff::Timestamp;

use super::screen::{Item, Scope, Screen, ViewKind};
use super::{Level, State};
use crate::alerts::model::{Alert, AlertState, AlertsSnapshot, RuleStatus, Source, SourceStatus};
use crate::kube::{ClusterId, ObjKey};

pub use rows::{items, rule_items};
pub use target::{NO_WORKLOAD, Target, cluster_matches, resolve};

/// What the alerts runtime sends.
#[derive(Clone, Debug)]
pub enum AlertsMsg {
    /// Everything known now: it replaces the previous snapshot.
    Snapshot(AlertsSnapshot),
}

/// Which alert a row or a detail screen is about. Alerts have no id: Prometheus identifies one
/// by its label set within a rule, and the console by environment and source on top of that.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey {
    pub environment: String,
    pub labels: Vec<(String, String)>,
    /// Part of the key because a merged snapshot may keep a local-only alert next to a remote
    /// one; a detail whose source changed falls back to the same labels from any source.
    pub source: SourceKey,
}

/// [`Source`] as an orderable key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceKey {
    Local,
    Prometheus,
    Alertmanager,
}

impl From<Source> for SourceKey {
    fn from(s: Source) -> Self {
        match s {
            Source::Local => SourceKey::Local,
            Source::Prometheus => SourceKey::Prometheus,
            Source::Alertmanager => SourceKey::Alertmanager,
        }
    }
}

impl AlertKey {
    pub fn of(alert: &Alert) -> Self {
        Self {
            environment: alert.environment.clone(),
            labels: alert.labels.clone(),
            source: alert.source.into(),
        }
    }
}

/// Firing and pending alerts naming one workload in one cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkloadAlerts {
    pub firing: u32,
    pub pending: u32,
    /// Names of the firing ones, for the line under the fleet.
    pub names: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct AlertsState {
    /// False until the runtime first reports: the tables add their alert column only then.
    pub loaded: bool,
    pub snapshot: AlertsSnapshot,
    /// Where each alert of the snapshot is.
    index: HashMap<AlertKey, usize>,
    /// Firing alerts that are neither silenced nor inhibited, per environment and per cluster.
    pub env_firing: Vec<u32>,
    pub cluster_firing: Vec<u32>,
    /// Per workload in a cluster, the alerts whose labels name it.
    pub workloads: HashMap<(ClusterId, ObjKey), WorkloadAlerts>,
}

impl AlertsState {
    pub fn get(&self, key: &AlertKey) -> Option<&Alert> {
        let exact = self
            .index
            .get(key)
            .and_then(|&i| self.snapshot.alerts.get(i));
        exact.or_else(|| {
            self.snapshot
                .alerts
                .iter()
                .find(|a| a.environment == key.environment && a.labels == key.labels)
        })
    }

    /// Firing (unsilenced) alerts naming this workload in this cluster.
    pub fn firing(&self, cluster: ClusterId, key: &ObjKey) -> u32 {
        self.workloads
            .get(&(cluster, key.clone()))
            .map_or(0, |w| w.firing)
    }

    /// The error of the rule that produced `alert`, if its last evaluation failed.
    pub fn rule_error(&self, alert: &Alert) -> Option<&RuleStatus> {
        self.snapshot.rules.iter().find(|r| {
            r.error.is_some()
                && r.environment == alert.environment
                && r.name == alert.name
                && alert.origin.as_ref().is_none_or(|o| *o == r.origin)
        })
    }

    pub fn failing_rules(&self) -> usize {
        self.snapshot
            .rules
            .iter()
            .filter(|r| r.error.is_some())
            .count()
    }

    /// Sources whose last poll failed.
    pub fn source_errors(&self) -> impl Iterator<Item = &SourceStatus> {
        self.snapshot.sources.iter().filter(|s| s.error.is_some())
    }
}

/// Counts per state for the table's title: (firing, of them silenced or inhibited, pending,
/// resolved).
pub fn counts<'a>(alerts: impl IntoIterator<Item = &'a Alert>) -> (usize, usize, usize, usize) {
    alerts
        .into_iter()
        .fold((0, 0, 0, 0), |(f, s, p, r), a| match a.state {
            AlertState::Firing => (f + 1, s + usize::from(muted(a)), p, r),
            AlertState::Pending => (f, s, p + 1, r),
            AlertState::Resolved => (f, s, p, r + 1),
        })
}

/// Silenced or inhibited: someone already knows. Such alerts are listed but not counted in the
/// fleet, so a known problem does not keep shouting from every screen.
pub fn muted(alert: &Alert) -> bool {
    !alert.silenced_by.is_empty() || !alert.inhibited_by.is_empty()
}

/// Critical first; unknown severities after the three Prometheus conventions.
pub fn severity_rank(alert: &Alert) -> u8 {
    match alert
        .label("severity")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("critical" | "page") => 0,
        Some("warning" | "warn") => 1,
        Some("info" | "none") => 2,
        _ => 3,
    }
}

/// Applies a message from the runtime.
pub fn update(state: &mut State, msg: AlertsMsg, now: Timestamp) {
    match msg {
        AlertsMsg::Snapshot(snapshot) => {
            let first_failure = state.alerts.loaded
                && state.alerts.source_errors().next().is_none()
                && snapshot.sources.iter().any(|s| s.error.is_some());
            state.alerts.index = snapshot
                .alerts
                .iter()
                .enumerate()
                .map(|(i, a)| (AlertKey::of(a), i))
                .collect();
            state.alerts.snapshot = snapshot;
            state.alerts.loaded = true;
            let text = state
                .alerts
                .source_errors()
                .next()
                .map(|s| source_words(state, s));
            if first_failure && let Some(text) = text {
                state.notify(Level::Warning, text, now);
            }
            recount(state);
            state.refresh(now);
            state.dirty = true;
        }
    }
}

/// `prod: Prometheus unreachable (connection refused) — showing local evaluation`.
pub fn source_words(state: &State, s: &SourceStatus) -> String {
    let name = match s.source {
        Source::Local => "local evaluation",
        Source::Prometheus => "Prometheus",
        Source::Alertmanager => "Alertmanager",
    };
    let Some(error) = &s.error else {
        return format!("{}: {name} ok", s.environment);
    };
    let local = state
        .alerts
        .snapshot
        .rules
        .iter()
        .any(|r| r.environment == s.environment && r.source == Source::Local);
    let consequence = match s.source {
        Source::Prometheus if local => " — showing local evaluation",
        Source::Prometheus => " — no local rules: alert state unknown",
        Source::Alertmanager => " — silences and inhibitions unknown",
        Source::Local => "",
    };
    format!(
        "{}: {name} unreachable ({error}){consequence}",
        s.environment
    )
}

/// Recomputes the firing counts: after a snapshot, and after the fleet is folded (a pod named
/// by an alert may have appeared).
pub fn recount(state: &mut State) {
    let mut env_firing = vec![0; state.envs.len()];
    let mut cluster_firing = vec![0; state.clusters.len()];
    let mut workloads: HashMap<(ClusterId, ObjKey), WorkloadAlerts> = HashMap::new();
    for alert in &state.alerts.snapshot.alerts {
        let firing = alert.state == AlertState::Firing;
        if alert.state == AlertState::Resolved || muted(alert) {
            continue;
        }
        if firing && let Some(env) = state.envs.iter().position(|e| e.name == alert.environment) {
            env_firing[env] += 1;
            for (id, c) in state.clusters.iter().enumerate() {
                if c.env == env && cluster_matches(c, alert.label("cluster")) {
                    cluster_firing[id] += 1;
                }
            }
        }
        let Ok(t) = resolve(state, alert) else {
            continue;
        };
        for cluster in t.clusters {
            let w = workloads.entry((cluster, t.key.clone())).or_default();
            if firing {
                w.firing += 1;
                if !w.names.contains(&alert.name) {
                    w.names.push(alert.name.clone());
                }
            } else {
                w.pending += 1;
            }
        }
    }
    let a = &mut state.alerts;
    a.env_firing = env_firing;
    a.cluster_firing = cluster_firing;
    a.workloads = workloads;
}

/// The state in words: a firing alert shouts in capitals, so it reads without colour.
pub fn state_word(s: AlertState) -> &'static str {
    match s {
        AlertState::Firing => "FIRING",
        AlertState::Pending => "pending",
        AlertState::Resolved => "resolved",
    }
}

/// `E` in the alerts views: the rules (failing first), or back to the alerts.
pub fn toggle_rules(state: &mut State, now: Timestamp) {
    match state.screen().kind {
        ViewKind::AlertRules => {
            state.nav.pop();
            state.refresh(now);
        }
        ViewKind::Alerts | ViewKind::AlertDetail => {
            let mut scope = state.screen().scope.clone();
            scope.alert = None;
            super::input::push(state, Screen::new(ViewKind::AlertRules, scope), now);
        }
        _ => {}
    }
}

/// Enter or `d` on an alert: its detail.
pub fn open_detail(state: &mut State, now: Timestamp) {
    let Some(Item::Alert(key)) = state.screen().selected_item().cloned() else {
        return;
    };
    let mut scope = state.screen().scope.clone();
    scope.alert = Some(key);
    super::input::push(state, Screen::new(ViewKind::AlertDetail, scope), now);
}

/// The alert the current screen is about: the detail's, or the table's selected one.
pub fn alert_in_focus(state: &State) -> Option<&Alert> {
    let screen = state.screen();
    match (screen.kind, screen.selected_item()) {
        (ViewKind::AlertDetail, _) => state.alerts.get(screen.scope.alert.as_ref()?),
        (ViewKind::Alerts, Some(Item::Alert(key))) => state.alerts.get(key),
        _ => None,
    }
}

/// Enter on a detail, or `P`: the pods of the workload the alert's labels name.
pub fn jump(state: &mut State, now: Timestamp) {
    let Some(alert) = alert_in_focus(state) else {
        return;
    };
    let name = alert.name.clone();
    match resolve(state, alert) {
        Err(why) => state.notify(Level::Info, format!("{name}: {why}"), now),
        Ok(t) => {
            let scope = Scope {
                env: (t.clusters.len() != 1).then_some(t.env),
                cluster: match t.clusters.as_slice() {
                    [one] => Some(*one),
                    _ => None,
                },
                namespace: Some(t.key.namespace.clone()),
                workload: Some(t.key.name.clone()),
                ..Scope::default()
            };
            super::input::push(state, Screen::new(ViewKind::Pods, scope), now);
            let text = format!("{name} → {} (named by its {} label)", t.key, t.via);
            state.notify(Level::Info, text, now);
        }
    }
}

#[cfg(test)]
pub mod fixture;
#[cfg(test)]
mod tests;
