//! The rollback dialog: the workload's revisions as the cluster has them, and what going back
//! to one would change.

use crossterm::event::{KeyCode, KeyEvent};
use jiff::Timestamp;

use super::{ConfirmDialog, Dialog, confirmation};
use crate::kube::ops::{History, Op};
use crate::kube::{ClusterId, ObjKey};
use crate::state::{Effect, Level, State};

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

pub(super) fn rollback_key(
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
