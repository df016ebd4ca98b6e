//! One environment's alerts from up to three sources, with the remote servers as the truth.
//!
//! Alerts are the same alert when their whole label sets are equal (Prometheus's own identity of
//! an alert). Alertmanager receives alerts with the sending Prometheus's external labels added;
//! when those are configured its alerts do not match Prometheus's and show as Alertmanager's own
//! — visible, never lost.

use std::collections::HashMap;

use crate::alerts::model::{Alert, AlertState, Labels};

/// What the local evaluator says, in a disagreement's words.
fn words(state: AlertState) -> &'static str {
    match state {
        AlertState::Firing => "firing",
        AlertState::Pending => "pending",
        AlertState::Resolved => "resolved",
    }
}

/// Remote is the truth; a local verdict that differs is kept as `disagreement` on the remote
/// alert, and local-only alerts are kept, flagged, when a remote answered.
///
/// - Prometheus's pending and firing alerts are the base.
/// - Alertmanager adds its verdict (silenced, inhibited) to the matching alert, and contributes
///   the alerts Prometheus did not list (other Prometheus servers, other senders).
/// - A local alert with a remote counterpart is dropped; if its state differs the remote alert
///   says "local evaluation says pending". Alertmanager lists firing alerts only, so a local
///   pending alert matching one disagrees too (the remote says firing).
/// - A local alert without a remote counterpart is kept as it is, with
///   "not in Prometheus" when Prometheus answered, or "not in Alertmanager" when only
///   Alertmanager answered and the local alert is firing. Neither lists resolved alerts, and
///   Alertmanager never sees pending ones, so those are not disagreements.
/// - With no remote answer the local alerts are returned unchanged.
pub fn merge(
    local: Vec<Alert>,
    prometheus: Option<Vec<Alert>>,
    alertmanager: Option<Vec<Alert>>,
) -> Vec<Alert> {
    if prometheus.is_none() && alertmanager.is_none() {
        return local;
    }
    let prometheus_answered = prometheus.is_some();
    let mut out = prometheus.unwrap_or_default();
    let mut index: HashMap<Labels, usize> = HashMap::with_capacity(out.len());
    for (i, a) in out.iter().enumerate() {
        index.entry(a.labels.clone()).or_insert(i);
    }
    for am in alertmanager.unwrap_or_default() {
        match index.get(&am.labels) {
            Some(&i) => {
                if let Some(base) = out.get_mut(i) {
                    base.silenced_by = am.silenced_by;
                    base.inhibited_by = am.inhibited_by;
                    if base.annotations.is_empty() {
                        base.annotations = am.annotations;
                    }
                }
            }
            None => {
                index.insert(am.labels.clone(), out.len());
                out.push(am);
            }
        }
    }
    for mut mine in local {
        match index.get(&mine.labels).and_then(|&i| out.get_mut(i)) {
            Some(remote) => {
                if remote.state != mine.state {
                    remote.disagreement =
                        Some(format!("local evaluation says {}", words(mine.state)));
                }
            }
            None => {
                mine.disagreement = if prometheus_answered {
                    (mine.state != AlertState::Resolved).then(|| "not in Prometheus".to_string())
                } else {
                    (mine.state == AlertState::Firing).then(|| "not in Alertmanager".to_string())
                };
                out.push(mine);
            }
        }
    }
    out
}
