//! The dialogs of the mutating actions: scale (the HPA's bounds, the same workload in other
//! clusters), rollback (revisions and what each would change), and the confirmation every one of
//! them ends in, which says exactly what will happen where and, in a protected environment, wants
//! the workload's name typed. Confirming is the only way to make a [`Mutation`].

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;

use super::{Effect, Level, State};
use crate::kube::ops::Op;
use crate::kube::{ActionResult, ClusterId, ObjKey, Outcome};

mod rollback;
mod scale;

pub use rollback::{HistoryLoad, RollbackDialog, history_loaded, open_rollback};
pub use scale::{HpaBounds, MAX_REPLICAS, ScaleDialog, ScaleTarget, hpa_warning, open_scale};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dialog {
    Scale(ScaleDialog),
    Rollback(RollbackDialog),
    Confirm(ConfirmDialog),
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
    /// Where an answer is still due, and for what.
    pub waiting: Vec<(ClusterId, ObjKey, Op)>,
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
        Dialog::Scale(d) => scale::scale_key(state, d, key, now),
        Dialog::Rollback(d) => rollback::rollback_key(state, d, key, now),
        Dialog::Confirm(d) => confirm_key(state, d, key, now),
    }
}

fn plain(key: &KeyEvent) -> bool {
    !key.modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
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
    // A batch still waiting when another is sent keeps its answers: they are told one by one.
    state.pending = Some(Pending {
        what,
        waiting: mutations
            .iter()
            .map(|m| (m.cluster, m.key.clone(), m.op.clone()))
            .collect(),
        results: Vec::new(),
    });
    vec![Effect::Mutate(mutations)]
}

/// A mutation's result: a notification once every cluster of the batch has answered.
pub fn action_result(state: &mut State, result: ActionResult, now: Timestamp) {
    let single = |state: &State, r: &ActionResult| {
        format!("{}: {}", state.cluster_name(r.cluster), r.outcome.text())
    };
    let due = |p: &Pending| {
        p.waiting
            .iter()
            .position(|(c, k, op)| *c == result.cluster && *k == result.key && *op == result.op)
    };
    let Some((pending, at)) = state
        .pending
        .as_mut()
        .and_then(|p| due(p).map(|at| (p, at)))
    else {
        // Not the batch being waited for (an earlier one's late answer): on its own.
        let level = level_of(std::slice::from_ref(&result));
        let text = single(state, &result);
        state.notify(level, text, now);
        return;
    };
    pending.waiting.remove(at);
    pending.results.push(result);
    if !pending.waiting.is_empty() {
        let total = pending.results.len() + pending.waiting.len();
        let text = format!(
            "{}: {} of {total} clusters answered…",
            pending.what,
            pending.results.len(),
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
