//! The dialogs of the mutating actions: scale (the HPA's bounds, the same workload in other
//! clusters), rollback (revisions and what each would change), and the confirmation every one of
//! them ends in, which says exactly what will happen where and, in a protected environment, wants
//! the workload's name typed. Confirming is the only way to make a [`Mutation`].

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;

use super::{Effect, Level, State};
use crate::kube::ops::{History, Op};
use crate::kube::{ActionResult, ClusterId, ObjKey, Outcome};

/// Replicas a typed number may ask for; more is almost certainly a typo in an incident.
pub const MAX_REPLICAS: u32 = 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dialog {
    Scale(ScaleDialog),
    Rollback(RollbackDialog),
    Confirm(ConfirmDialog),
}

/// An HPA's bounds, as the scale dialog shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HpaBounds {
    pub name: String,
    pub min: u32,
    pub max: u32,
    pub current: u32,
}

/// The workload in one cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleTarget {
    pub cluster: ClusterId,
    pub current: u32,
    pub hpa: Option<HpaBounds>,
    /// Scaled together with the first target (which is always chosen).
    pub chosen: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleDialog {
    pub key: ObjKey,
    /// The workload where `s` was pressed first, then the same workload in other writable clusters.
    pub targets: Vec<ScaleTarget>,
    pub replicas: u32,
    /// Digits typed since the last +/-: the next digit extends the number.
    pub typing: bool,
    /// 0: the replica count; i > 0: the "also" line of `targets[i]`.
    pub focus: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryLoad {
    Loading,
    Ready(History),
    Failed(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollbackDialog {
    pub cluster: ClusterId,
    pub key: ObjKey,
    pub history: HistoryLoad,
    /// Index into the revisions (newest first).
    pub selected: usize,
}

impl RollbackDialog {
    pub fn revisions(&self) -> &[crate::kube::ops::Revision] {
        match &self.history {
            HistoryLoad::Ready(h) => &h.revisions,
            _ => &[],
        }
    }
}

/// The last step of every mutation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfirmDialog {
    /// `Scale shop/web`.
    pub title: String,
    /// What will happen, one line per cluster.
    pub lines: Vec<String>,
    /// What the user should know first (HPA bounds, zero replicas, a stuck rollout).
    pub warnings: Vec<String>,
    /// The diff or details under the lines.
    pub details: Vec<String>,
    ops: Vec<(ClusterId, ObjKey, Op)>,
    /// In a protected environment: the name to type.
    pub protected_name: Option<String>,
    pub typed: String,
    /// Why the last Enter did not confirm.
    pub refusal: Option<String>,
}

/// A mutation the user confirmed. Only a confirmation dialog makes one; the dispatcher checks it
/// again (read-only, protection, RBAC) and writes the audit log before anything is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mutation {
    pub cluster: ClusterId,
    pub key: ObjKey,
    pub op: Op,
    typed_name: Option<String>,
}

impl Mutation {
    /// The name typed to confirm, if the dialog asked for one.
    pub fn typed_name(&self) -> Option<&str> {
        self.typed_name.as_deref()
    }

    /// A mutation as a confirmation dialog would make it, for the dispatcher's tests.
    #[cfg(test)]
    pub fn confirmed(cluster: ClusterId, key: ObjKey, op: Op, typed: Option<&str>) -> Self {
        Self {
            cluster,
            key,
            op,
            typed_name: typed.map(str::to_string),
        }
    }
}

/// Mutations sent and waiting for their results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub what: String,
    pub expected: usize,
    pub results: Vec<ActionResult>,
}

/// Why `cluster` may not be changed, if it may not.
pub fn readonly_reason(state: &State, cluster: ClusterId) -> Option<String> {
    if state.readonly {
        return Some("read-only: watchfloor runs with --readonly (or readonly = true in the config), so nothing can be changed".into());
    }
    let env = &state.envs[state.clusters[cluster].env];
    env.readonly.then(|| {
        format!(
            "read-only: environment {} is readonly in the config, so nothing in it can be changed",
            env.name
        )
    })
}

fn hpa_bounds(state: &State, cluster: ClusterId, key: &ObjKey) -> Option<HpaBounds> {
    state.clusters[cluster].hpa_for(key).map(|h| HpaBounds {
        name: h.key.name.clone(),
        min: h.min,
        max: h.max,
        current: h.current,
    })
}

/// `s`: the scale dialog for `key` in `cluster`, offering the same workload in the other
/// clusters that may be changed.
pub fn open_scale(state: &mut State, cluster: ClusterId, key: ObjKey) {
    let Some(w) = state.clusters[cluster].workloads.get(&key) else {
        return;
    };
    let mut targets = vec![ScaleTarget {
        cluster,
        current: w.desired,
        hpa: hpa_bounds(state, cluster, &key),
        chosen: true,
    }];
    for other in super::fleet::columns(&state.clusters) {
        if other == cluster || readonly_reason(state, other).is_some() {
            continue;
        }
        if let Some(w) = state.clusters[other].workloads.get(&key) {
            targets.push(ScaleTarget {
                cluster: other,
                current: w.desired,
                hpa: hpa_bounds(state, other, &key),
                chosen: false,
            });
        }
    }
    let replicas = targets[0].current;
    state.dialog = Some(Dialog::Scale(ScaleDialog {
        key,
        targets,
        replicas,
        typing: false,
        focus: 0,
    }));
}

/// `r`: straight to the confirmation.
pub fn open_restart(state: &mut State, cluster: ClusterId, key: ObjKey) {
    let Some(w) = state.clusters[cluster].workloads.get(&key) else {
        return;
    };
    let mut warnings = Vec::new();
    if w.paused {
        warnings.push(format!(
            "{key} is paused: the cluster will refuse a restart (run rollout resume first)"
        ));
    }
    let line = format!(
        "{}: restart {key}: every pod is replaced, as its {} strategy allows",
        state.cluster_name(cluster),
        w.strategy
    );
    let confirm = confirmation(
        state,
        format!("Restart {key}"),
        vec![line],
        warnings,
        Vec::new(),
        vec![(cluster, key, Op::Restart)],
    );
    state.dialog = Some(Dialog::Confirm(confirm));
}

/// `u`: the revision list, loaded from the cluster.
pub fn open_rollback(state: &mut State, cluster: ClusterId, key: ObjKey) -> Vec<Effect> {
    state.dialog = Some(Dialog::Rollback(RollbackDialog {
        cluster,
        key: key.clone(),
        history: HistoryLoad::Loading,
        selected: 0,
    }));
    vec![Effect::FetchHistory { cluster, key }]
}

/// The revisions arrived (or could not be read).
pub fn history_loaded(
    state: &mut State,
    cluster: ClusterId,
    key: &ObjKey,
    result: Result<History, String>,
) {
    let Some(Dialog::Rollback(d)) = &mut state.dialog else {
        return;
    };
    if d.cluster != cluster || d.key != *key {
        return;
    }
    d.history = match result {
        Ok(h) => {
            // Start on the revision `kubectl rollout undo` would pick: the newest that is not
            // the current one.
            d.selected = h.revisions.iter().position(|r| !r.current).unwrap_or(0);
            HistoryLoad::Ready(h)
        }
        Err(e) => HistoryLoad::Failed(e),
    };
}

fn confirmation(
    state: &State,
    title: String,
    lines: Vec<String>,
    warnings: Vec<String>,
    details: Vec<String>,
    ops: Vec<(ClusterId, ObjKey, Op)>,
) -> ConfirmDialog {
    let protected = ops
        .iter()
        .any(|(c, _, _)| state.envs[state.clusters[*c].env].protected);
    ConfirmDialog {
        title,
        lines,
        warnings,
        details,
        protected_name: protected.then(|| ops[0].1.name.clone()),
        ops,
        typed: String::new(),
        refusal: None,
    }
}

/// A key while a dialog is open. Every dialog closes on Esc without changing anything.
pub(super) fn key(state: &mut State, key: KeyEvent, now: Timestamp) -> Vec<Effect> {
    let Some(dialog) = state.dialog.take() else {
        return Vec::new();
    };
    if key.code == KeyCode::Esc {
        state.notify(Level::Info, "cancelled: nothing was changed", now);
        return Vec::new();
    }
    match dialog {
        Dialog::Scale(d) => scale_key(state, d, key, now),
        Dialog::Rollback(d) => rollback_key(state, d, key, now),
        Dialog::Confirm(d) => confirm_key(state, d, key, now),
    }
}

fn plain(key: &KeyEvent) -> bool {
    !key.modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

fn scale_key(state: &mut State, mut d: ScaleDialog, key: KeyEvent, now: Timestamp) -> Vec<Effect> {
    match key.code {
        KeyCode::Char('+') | KeyCode::Right => {
            d.replicas = (d.replicas + 1).min(MAX_REPLICAS);
            d.typing = false;
        }
        KeyCode::Char('-') | KeyCode::Left => {
            d.replicas = d.replicas.saturating_sub(1);
            d.typing = false;
        }
        KeyCode::Char(c) if c.is_ascii_digit() && plain(&key) => {
            let digit = c.to_digit(10).unwrap_or(0);
            let typed = if d.typing {
                d.replicas.saturating_mul(10).saturating_add(digit)
            } else {
                digit
            };
            if typed > MAX_REPLICAS {
                state.notify(
                    Level::Warning,
                    format!("at most {MAX_REPLICAS} replicas from here"),
                    now,
                );
            } else {
                d.replicas = typed;
                d.typing = true;
            }
        }
        KeyCode::Backspace => {
            d.replicas /= 10;
            d.typing = true;
        }
        KeyCode::Down | KeyCode::Tab | KeyCode::Char('j') => {
            d.focus = (d.focus + 1).min(d.targets.len().saturating_sub(1));
        }
        KeyCode::Up | KeyCode::BackTab | KeyCode::Char('k') => d.focus = d.focus.saturating_sub(1),
        KeyCode::Char(' ') if d.focus > 0 => {
            let t = &mut d.targets[d.focus];
            t.chosen = !t.chosen;
        }
        KeyCode::Enter => {
            let chosen: Vec<&ScaleTarget> = d.targets.iter().filter(|t| t.chosen).collect();
            if chosen.iter().all(|t| t.current == d.replicas) {
                state.notify(
                    Level::Info,
                    format!("{} already wants {} replicas there", d.key, d.replicas),
                    now,
                );
            } else {
                let confirm = scale_confirmation(state, &d);
                state.dialog = Some(Dialog::Confirm(confirm));
                return Vec::new();
            }
        }
        _ => {}
    }
    state.dialog = Some(Dialog::Scale(d));
    Vec::new()
}

/// What the HPA will make of `replicas`, if one manages the workload.
pub fn hpa_warning(key: &ObjKey, hpa: &HpaBounds, replicas: u32) -> Option<String> {
    let HpaBounds { name, min, max, .. } = hpa;
    let back_to = if replicas > *max {
        max
    } else if replicas < *min {
        min
    } else {
        return None;
    };
    Some(format!(
        "HPA {name} keeps {key} between {min} and {max} replicas: it will set {replicas} back to {back_to}"
    ))
}

fn scale_confirmation(state: &State, d: &ScaleDialog) -> ConfirmDialog {
    let mut lines = Vec::new();
    let mut warnings = Vec::new();
    let mut ops = Vec::new();
    for t in d.targets.iter().filter(|t| t.chosen) {
        let place = state.cluster_name(t.cluster);
        lines.push(format!(
            "{place}: {} replicas {} → {}",
            d.key, t.current, d.replicas
        ));
        if let Some(w) = t
            .hpa
            .as_ref()
            .and_then(|h| hpa_warning(&d.key, h, d.replicas))
        {
            warnings.push(format!("{place}: {w}"));
        }
        if d.replicas == 0 {
            warnings.push(format!(
                "{place}: 0 replicas: {} stops serving there",
                d.key
            ));
        }
        ops.push((
            t.cluster,
            d.key.clone(),
            Op::Scale {
                replicas: d.replicas,
            },
        ));
    }
    confirmation(
        state,
        format!("Scale {}", d.key),
        lines,
        warnings,
        Vec::new(),
        ops,
    )
}

fn rollback_key(
    state: &mut State,
    mut d: RollbackDialog,
    key: KeyEvent,
    now: Timestamp,
) -> Vec<Effect> {
    let n = d.revisions().len();
    match key.code {
        KeyCode::Down | KeyCode::Char('j') => {
            d.selected = (d.selected + 1).min(n.saturating_sub(1))
        }
        KeyCode::Up | KeyCode::Char('k') => d.selected = d.selected.saturating_sub(1),
        KeyCode::Enter => {
            if let HistoryLoad::Ready(h) = &d.history {
                match rollback_confirmation(state, &d, h) {
                    Ok(confirm) => {
                        state.dialog = Some(Dialog::Confirm(confirm));
                        return Vec::new();
                    }
                    Err(why) => state.notify(Level::Warning, why, now),
                }
            }
        }
        _ => {}
    }
    state.dialog = Some(Dialog::Rollback(d));
    Vec::new()
}

fn rollback_confirmation(
    state: &State,
    d: &RollbackDialog,
    h: &History,
) -> Result<ConfirmDialog, String> {
    if h.paused {
        return Err(format!(
            "{} is paused: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
            d.key
        ));
    }
    let Some(to) = h.revisions.get(d.selected) else {
        return Err("no revision to roll back to".into());
    };
    if to.current {
        return Err(format!(
            "revision {} is what {} runs now: pick an older one",
            to.revision, d.key
        ));
    }
    let from = h.revisions.iter().find(|r| r.current);
    let from_words = from.map_or_else(
        || "its current template".to_string(),
        |r| format!("revision {} ({})", r.revision, r.images.join(", ")),
    );
    let line = format!(
        "{}: roll {} back from {from_words} to revision {} ({})",
        state.cluster_name(d.cluster),
        d.key,
        to.revision,
        to.images.join(", ")
    );
    let mut warnings = Vec::new();
    if let Some(w) = state.clusters[d.cluster].workloads.get(&d.key)
        && let Some(reason) = &w.stalled
    {
        warnings.push(format!(
            "the current rollout is stuck ({reason}); rolling back replaces it"
        ));
    }
    let details = to
        .diff
        .iter()
        .map(|l| format!("{} {}", l.change.sign(), l.text))
        .collect();
    Ok(confirmation(
        state,
        format!("Roll back {}", d.key),
        vec![line],
        warnings,
        details,
        vec![(
            d.cluster,
            d.key.clone(),
            Op::Rollback {
                to_revision: Some(to.revision),
            },
        )],
    ))
}

fn confirm_key(
    state: &mut State,
    mut d: ConfirmDialog,
    key: KeyEvent,
    now: Timestamp,
) -> Vec<Effect> {
    match (&d.protected_name, key.code) {
        (Some(_), KeyCode::Char(c)) if plain(&key) => {
            d.typed.push(c);
            d.refusal = None;
        }
        (Some(_), KeyCode::Backspace) => {
            d.typed.pop();
        }
        (None, KeyCode::Char('n')) => {
            state.notify(Level::Info, "cancelled: nothing was changed", now);
            return Vec::new();
        }
        (None, KeyCode::Char('y')) | (_, KeyCode::Enter) => {
            if let Some(name) = &d.protected_name
                && d.typed != *name
            {
                d.refusal = Some(format!("type {name} exactly to confirm, or Esc to cancel"));
            } else {
                return send(state, d, now);
            }
        }
        _ => {}
    }
    state.dialog = Some(Dialog::Confirm(d));
    Vec::new()
}

fn send(state: &mut State, d: ConfirmDialog, now: Timestamp) -> Vec<Effect> {
    let typed = d.protected_name.as_ref().map(|_| d.typed.clone());
    let mutations: Vec<Mutation> = d
        .ops
        .into_iter()
        .map(|(cluster, key, op)| Mutation {
            cluster,
            key,
            op,
            typed_name: typed.clone(),
        })
        .collect();
    let what = d.title.clone();
    state.notify(
        Level::Info,
        format!("{what}: sent, waiting for the cluster…"),
        now,
    );
    state.pending = Some(Pending {
        what,
        expected: mutations.len(),
        results: Vec::new(),
    });
    vec![Effect::Mutate(mutations)]
}

/// A mutation's result: a notification once every cluster of the batch has answered.
pub fn action_result(state: &mut State, result: ActionResult, now: Timestamp) {
    let single = |state: &State, r: &ActionResult| {
        format!("{}: {}", state.cluster_name(r.cluster), r.outcome.text())
    };
    let Some(pending) = state.pending.as_mut() else {
        let level = level_of(std::slice::from_ref(&result));
        let text = single(state, &result);
        state.notify(level, text, now);
        return;
    };
    pending.results.push(result);
    if pending.results.len() < pending.expected {
        let text = format!(
            "{}: {} of {} clusters answered…",
            pending.what,
            pending.results.len(),
            pending.expected
        );
        state.notify(Level::Info, text, now);
        return;
    }
    let Some(pending) = state.pending.take() else {
        return;
    };
    let level = level_of(&pending.results);
    let text = pending
        .results
        .iter()
        .map(|r| single(state, r))
        .collect::<Vec<_>>()
        .join("; ");
    state.notify(level, text, now);
}

fn level_of(results: &[ActionResult]) -> Level {
    if results
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Failed(_) | Outcome::Refused(_)))
    {
        Level::Error
    } else {
        Level::Info
    }
}

impl ConfirmDialog {
    /// The mutations this dialog would send, for the view.
    pub fn ops(&self) -> &[(ClusterId, ObjKey, Op)] {
        &self.ops
    }
}

#[cfg(test)]
mod tests;
