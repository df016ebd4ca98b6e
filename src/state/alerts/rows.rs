//! The rows of the `:alerts` and `:rules` tables: scope, filter and order.

use std::collections::BTreeMap;

use super::{AlertKey, cluster_matches, severity_rank, state_word};
use crate::alerts::model::{Alert, AlertState, RuleStatus};
use crate::state::State;
use crate::state::screen::{Item, Scope, Screen};

/// The `:alerts` rows: firing, pending, resolved; then severity; then the newest first.
/// `faults_only` leaves the resolved out.
pub fn items(state: &State, screen: &Screen) -> Vec<Item> {
    let scope = &screen.scope;
    let mut rows: Vec<&Alert> = state
        .alerts
        .snapshot
        .alerts
        .iter()
        .filter(|a| !(state.faults_only && a.state == AlertState::Resolved))
        .filter(|a| in_scope(state, scope, a))
        .filter(|a| passes(screen, a))
        .collect();
    let since = |a: &Alert| std::cmp::Reverse(a.active_at);
    match screen.sort {
        1 => rows.sort_by(|a, b| since(a).cmp(&since(b)).then(a.name.cmp(&b.name))),
        2 => rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.state.cmp(&b.state))),
        _ => rows.sort_by(|a, b| {
            (a.state, severity_rank(a), since(a), &a.name, &a.labels).cmp(&(
                b.state,
                severity_rank(b),
                since(b),
                &b.name,
                &b.labels,
            ))
        }),
    }
    rows.into_iter()
        .map(|a| Item::Alert(AlertKey::of(a)))
        .collect()
}

/// An environment or cluster scope (`:alerts env:prod`, `:alerts @prod-westus`) and a namespace.
fn in_scope(state: &State, scope: &Scope, alert: &Alert) -> bool {
    let env_ok = scope.env.is_none_or(|e| {
        state
            .envs
            .get(e)
            .is_some_and(|e| e.name == alert.environment)
    });
    let cluster_ok = scope.cluster.is_none_or(|c| {
        state.clusters.get(c).is_some_and(|c| {
            state
                .envs
                .get(c.env)
                .is_some_and(|e| e.name == alert.environment)
                && cluster_matches(c, alert.label("cluster"))
        })
    });
    let ns_ok = scope
        .namespace
        .as_deref()
        .is_none_or(|n| alert.label("namespace") == Some(n));
    env_ok && cluster_ok && ns_ok
}

/// The filter over the alert's state, name, environment, labels and summary.
fn passes(screen: &Screen, alert: &Alert) -> bool {
    use crate::state::filter::Filter;
    match &screen.filter {
        None => true,
        Some(f @ Filter::Labels(_)) => {
            let labels: BTreeMap<String, String> = alert.labels.iter().cloned().collect();
            f.matches("", Some(&labels))
        }
        Some(f) => {
            let mut text = format!(
                "{} {} {}",
                state_word(alert.state),
                alert.name,
                alert.environment
            );
            for (k, v) in alert.labels.iter().chain(&alert.annotations) {
                text.push_str(&format!(" {k}={v}"));
            }
            f.matches(&text, None)
        }
    }
}

/// The `:rules` rows: failing rules first, then by environment and name.
pub fn rule_items(state: &State, screen: &Screen) -> Vec<Item> {
    let mut rows: Vec<(usize, &RuleStatus)> = state
        .alerts
        .snapshot
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| !(state.faults_only && r.error.is_none()))
        .filter(|(_, r)| {
            screen
                .scope
                .env
                .is_none_or(|e| state.envs.get(e).is_some_and(|e| e.name == r.environment))
        })
        .filter(|(_, r)| match &screen.filter {
            None => true,
            Some(f) => f.matches(
                &format!(
                    "{} {} {} {} {}",
                    r.environment,
                    r.origin,
                    r.name,
                    r.expr,
                    r.error.as_deref().unwrap_or("ok")
                ),
                None,
            ),
        })
        .collect();
    rows.sort_by(|(_, a), (_, b)| {
        (a.error.is_none(), &a.environment, &a.name).cmp(&(
            b.error.is_none(),
            &b.environment,
            &b.name,
        ))
    });
    rows.into_iter().map(|(i, _)| Item::Rule(i)).collect()
}
