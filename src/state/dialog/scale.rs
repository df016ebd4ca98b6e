//! The scale dialog: the new count (typed, or +/-), the HPA's bounds, and the same workload in the
//! other clusters that may be changed.

use crossterm::event::{KeyCode, KeyEvent};
use jiff::Timestamp;

use super::{ConfirmDialog, Dialog, confirmation, plain, readonly_reason};
use crate::kube::ops::Op;
use crate::kube::{ClusterId, ObjKey};
use crate::state::{Effect, Level, State};

/// Replicas a typed number may ask for; more is almost certainly a typo in an incident.
pub const MAX_REPLICAS: u32 = 1000;

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
    for other in crate::state::fleet::columns(&state.clusters) {
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

pub(super) fn scale_key(
    state: &mut State,
    mut d: ScaleDialog,
    key: KeyEvent,
    now: Timestamp,
) -> Vec<Effect> {
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
