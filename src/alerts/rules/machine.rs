//! One alerting rule's alerts across evaluations: Prometheus's state machine
//! (`AlertingRule.Eval` in its `rules` package), driven by "what the rule's expression returned
//! at t" so it can be tested without an evaluator.
//!
//! Alerts are keyed by their full label set (Prometheus keys them by the label set's hash; the
//! same identity without the collision risk).

use std::collections::BTreeMap;

use crate::alerts::promql::Labels;

/// A resolved alert is kept (and shown as resolved) this long after it stopped firing, as
/// Prometheus keeps it to re-send the resolution to Alertmanager.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// Prometheus's alert states; `Inactive` is a resolved alert still within its retention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Pending,
    Firing,
    Inactive,
}

impl State {
    /// The `alertstate` label value of the `ALERTS` series.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Firing => "firing",
            State::Inactive => "inactive",
        }
    }
}

/// One alert instance.
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveAlert {
    /// Sorted, `alertname` included.
    pub labels: Labels,
    /// Sorted by name.
    pub annotations: Labels,
    pub state: State,
    pub active_at_ms: i64,
    pub fired_at_ms: Option<i64>,
    pub resolved_at_ms: Option<i64>,
    /// When the expression stopped returning this firing alert while `keep_firing_for` holds it.
    pub keep_firing_since_ms: Option<i64>,
    /// The expression's value at the last evaluation that returned this label set.
    pub value: f64,
}

/// One element of the expression's result after templating: the alert it would be.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// Sorted, `alertname` included.
    pub labels: Labels,
    pub annotations: Labels,
    pub value: f64,
}

/// The timing settings of one alerting rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timing {
    /// `for`.
    pub hold_ms: i64,
    /// `keep_firing_for`.
    pub keep_firing_for_ms: i64,
    /// The group's `limit` (0: none).
    pub limit: usize,
}

/// Prometheus's text for two result elements that become the same alert.
pub const DUPLICATE_ALERT: &str =
    "vector contains metrics with the same labelset after applying alert labels";

/// The alerts of one rule.
#[derive(Clone, Debug, Default)]
pub struct AlertSet {
    active: BTreeMap<Labels, ActiveAlert>,
}

impl AlertSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every alert held: pending, firing, and resolved ones within their retention.
    pub fn alerts(&self) -> impl Iterator<Item = &ActiveAlert> {
        self.active.values()
    }

    /// One evaluation at `t_ms` whose expression returned `candidates`. An error leaves the
    /// state as it was (duplicate label sets) or empties it (limit exceeded), as Prometheus does.
    pub fn update(
        &mut self,
        t_ms: i64,
        candidates: Vec<Candidate>,
        timing: Timing,
    ) -> Result<(), String> {
        let mut fresh: BTreeMap<Labels, Candidate> = BTreeMap::new();
        for c in candidates {
            if fresh.contains_key(&c.labels) {
                return Err(DUPLICATE_ALERT.to_owned());
            }
            fresh.insert(c.labels.clone(), c);
        }
        for (labels, c) in &fresh {
            match self.active.get_mut(labels) {
                // A known alert (not resolved): only its value and annotations move.
                Some(a) if a.state != State::Inactive => {
                    a.value = c.value;
                    a.annotations.clone_from(&c.annotations);
                }
                // New, or resolved and back: a new pending alert, ActiveAt now.
                _ => {
                    self.active.insert(
                        labels.clone(),
                        ActiveAlert {
                            labels: labels.clone(),
                            annotations: c.annotations.clone(),
                            state: State::Pending,
                            active_at_ms: t_ms,
                            fired_at_ms: None,
                            resolved_at_ms: None,
                            keep_firing_since_ms: None,
                            value: c.value,
                        },
                    );
                }
            }
        }
        let mut active_pending = 0usize;
        self.active.retain(|labels, a| {
            if !fresh.contains_key(labels) {
                let mut keep_firing = false;
                if a.state == State::Firing && timing.keep_firing_for_ms > 0 {
                    let since = *a.keep_firing_since_ms.get_or_insert(t_ms);
                    keep_firing = t_ms.saturating_sub(since) < timing.keep_firing_for_ms;
                }
                let expired = a
                    .resolved_at_ms
                    .is_some_and(|r| t_ms.saturating_sub(r) > RESOLVED_RETENTION_MS);
                if a.state == State::Pending || expired {
                    return false;
                }
                if !keep_firing {
                    if a.state != State::Inactive {
                        a.state = State::Inactive;
                        a.resolved_at_ms = Some(t_ms);
                    }
                    return true;
                }
            } else {
                a.keep_firing_since_ms = None;
            }
            active_pending += 1;
            if a.state == State::Pending && t_ms.saturating_sub(a.active_at_ms) >= timing.hold_ms {
                a.state = State::Firing;
                a.fired_at_ms = Some(t_ms);
            }
            true
        });
        if timing.limit > 0 && active_pending > timing.limit {
            self.active.clear();
            return Err(format!(
                "exceeded limit of {} with {} alerts",
                timing.limit, active_pending
            ));
        }
        Ok(())
    }

    /// The `ALERTS` and `ALERTS_FOR_STATE` samples of this evaluation (pending and firing
    /// alerts only). `rule_labels` are the rule's labels as written (untemplated): Prometheus
    /// starts from them and overwrites with the alert's labels, so a label whose template
    /// expanded to nothing shows its template text in these series.
    pub fn series(&self, name: &str, rule_labels: &[(String, String)]) -> Vec<(Labels, f64)> {
        let mut out = Vec::new();
        for a in self.active.values().filter(|a| a.state != State::Inactive) {
            let mut base: BTreeMap<&str, &str> = BTreeMap::new();
            for (k, v) in rule_labels.iter().chain(a.labels.iter()) {
                base.insert(k, v);
            }
            base.insert("alertname", name);
            let mut for_state = base.clone();
            for_state.insert("__name__", "ALERTS_FOR_STATE");
            base.insert("__name__", "ALERTS");
            base.insert("alertstate", a.state.as_str());
            let owned = |m: BTreeMap<&str, &str>| -> Labels {
                m.into_iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            };
            out.push((owned(base), 1.0));
            // Whole seconds, as Prometheus writes ActiveAt.Unix().
            out.push((owned(for_state), a.active_at_ms.div_euclid(1000) as f64));
        }
        out
    }
}
