//! One rule group's evaluation, as Prometheus's `rules` package does it (`Group.Eval`,
//! `RecordingRule.Eval`, `AlertingRule.Eval`): every rule in file order at the group's
//! evaluation time; what a rule produces (recording results, `ALERTS`, `ALERTS_FOR_STATE`) is
//! written back before the next rule runs, so later rules of the same evaluation and every later
//! evaluation read it; a series a rule produced last time and not this time gets a stale marker.
//!
//! Not done (on purpose): restoring `for` state from `ALERTS_FOR_STATE` after a restart. An alert
//! that was pending or firing when watchfloor stopped starts pending again.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;

use crate::alerts::model::{self, AlertState, Source};
use crate::alerts::promql::shared::reads_only_unwritten;
use crate::alerts::promql::{
    Engine, Expr, ExprCache, Labels, MatchOp, Matcher, MemStore, Queryable,
};
use crate::alerts::rulefile::{self, RuleKind};
use crate::metrics::store::STALE_NAN_BITS;

mod eval;
pub mod machine;
#[cfg(test)]
mod tests;

use eval::eval_rule;
pub use eval::query_vector;
pub use machine::{ActiveAlert, AlertSet, Candidate, State, Timing};

/// What a group reads from and writes back to.
pub trait EvalTarget: Queryable + Sync {
    /// Appends one sample (labels sorted, `__name__` included; a stale marker is the NaN with
    /// [`STALE_NAN_BITS`]). Refuses, with Prometheus's storage texts, what its TSDB refuses: a
    /// different value at a time the series already has ("duplicate sample for timestamp"), or
    /// a time before its latest sample ("out of order sample"). Two rules writing the same
    /// series meet these.
    fn append(&mut self, labels: &[(String, String)], t_ms: i64, v: f64) -> Result<(), String>;
}

impl EvalTarget for MemStore {
    fn append(&mut self, labels: &[(String, String)], t_ms: i64, v: f64) -> Result<(), String> {
        let matchers: Vec<Matcher> = labels
            .iter()
            .filter_map(|(k, val)| Matcher::new(k, MatchOp::Equal, val).ok())
            .collect();
        let existing = self
            .select(&matchers, t_ms, i64::MAX)
            .into_iter()
            .find(|s| s.labels.as_slice() == labels);
        if let Some(series) = existing {
            for (t, old) in &series.samples {
                if *t > t_ms {
                    return Err("out of order sample".into());
                }
                if *t == t_ms && old.to_bits() != v.to_bits() {
                    return Err("duplicate sample for timestamp".into());
                }
            }
        }
        self.add(labels, t_ms, v);
        Ok(())
    }
}

/// What a rule's expression returned at a time: a vector (a scalar as one sample without
/// labels), or the error.
pub type QueryFn<'a> = dyn FnMut(&Expr, &dyn Queryable, i64) -> Answer + 'a;

/// A rule expression's answer: its samples, or the rule's error.
pub type Answer = Result<Vec<(Labels, f64)>, String>;

/// What one evaluation did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupEval {
    /// `(rule name, error)` for every rule that failed this time, in rule order.
    pub errors: Vec<(String, String)>,
    /// Samples written back (stale markers included).
    pub written: usize,
}

/// Prometheus's text for a recording rule whose results collide once renamed and relabelled.
pub const DUPLICATE_RECORD: &str =
    "vector contains metrics with the same labelset after applying rule labels";

/// One rule and what the group remembers of it between evaluations.
#[derive(Debug)]
struct RuleState {
    rule: rulefile::Rule,
    /// The rule's labels sorted by name (Prometheus keeps them so).
    labels: Labels,
    alerts: AlertSet,
    /// The series written last time (Prometheus's `seriesInPreviousEval`).
    previous: BTreeSet<Labels>,
    last_error: Option<String>,
    last_eval_ms: Option<i64>,
}

/// One rule group's state across evaluations.
#[derive(Debug)]
pub struct GroupState {
    file: String,
    name: String,
    interval: Duration,
    limit: usize,
    external_url: String,
    rules: Vec<RuleState>,
}

impl GroupState {
    /// A group as loaded from `file`; without its own `interval` it runs every
    /// `default_interval` (the global evaluation interval).
    pub fn new(file: &str, group: &rulefile::Group, default_interval: Duration) -> Self {
        let rules = group
            .rules
            .iter()
            .map(|r| {
                let mut labels = r.labels.clone();
                labels.sort();
                RuleState {
                    rule: r.clone(),
                    labels,
                    alerts: AlertSet::new(),
                    previous: BTreeSet::new(),
                    last_error: None,
                    last_eval_ms: None,
                }
            })
            .collect();
        GroupState {
            file: file.to_owned(),
            name: group.name.clone(),
            interval: group.interval.unwrap_or(default_interval),
            limit: group.limit,
            external_url: String::new(),
            rules,
        }
    }

    /// The URL templates see as `$externalURL` (Prometheus's `--web.external-url`).
    pub fn set_external_url(&mut self, url: &str) {
        self.external_url = url.to_owned();
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The group's expressions, in rule order.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> + Clone {
        self.rules.iter().map(|r| &r.rule.parsed)
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The error of every rule that failed at the last evaluation, in rule order.
    pub fn last_errors(&self) -> Vec<(String, String)> {
        self.rules
            .iter()
            .filter_map(|r| Some((rule_name(&r.rule).to_owned(), r.last_error.clone()?)))
            .collect()
    }

    /// Each alerting rule's name and its alerts (pending, firing and resolved), in rule order.
    pub fn alert_sets(&self) -> impl Iterator<Item = (&str, &AlertSet)> {
        self.rules.iter().filter_map(|r| match &r.rule.kind {
            RuleKind::Alert { name, .. } => Some((name.as_str(), &r.alerts)),
            RuleKind::Record { .. } => None,
        })
    }

    /// One evaluation of every rule in order at `t_ms`; each rule's output is appended to `q`
    /// before the next rule runs.
    ///
    /// The rules that read nothing the group writes (its recording rules' names, `ALERTS`,
    /// `ALERTS_FOR_STATE`) answer the same before or after the group's earlier rules, so their
    /// expressions are evaluated first, all at once on one thread per core (as Prometheus 3's
    /// `concurrent-rule-eval` does); the rules then run in order as before, the others querying
    /// as they come.
    pub fn eval(
        &mut self,
        engine: &Engine,
        q: &mut dyn EvalTarget,
        t_ms: i64,
        external_labels: &[(String, String)],
    ) -> GroupEval {
        // What this group writes changes between its rules; everything else it reads does not
        // while it runs, so repeated subexpressions over the latter are evaluated once.
        let mut written: BTreeSet<&str> = BTreeSet::from(["ALERTS", "ALERTS_FOR_STATE"]);
        for r in &self.rules {
            if let RuleKind::Record { name } = &r.rule.kind {
                written.insert(name);
            }
        }
        let writes = |name: &str| written.contains(name);
        let shared = ExprCache::plan(self.exprs(), t_ms, &writes);
        let independent: Vec<(usize, &Expr)> = self
            .exprs()
            .enumerate()
            .filter(|(_, e)| reads_only_unwritten(e, &writes))
            .collect();
        let mut early: Vec<Option<Answer>> = vec![None; self.rules.len()];
        if independent.len() > 1 {
            let exprs: Vec<&Expr> = independent.iter().map(|&(_, e)| e).collect();
            let answers = engine.instant_each(&*q, &exprs, t_ms, Some(&shared));
            for ((i, _), answer) in independent.iter().zip(answers) {
                if let Some(slot) = early.get_mut(*i) {
                    *slot = Some(eval::vector(answer));
                }
            }
        }
        drop(written);
        let mut query = |expr: &Expr, q: &dyn Queryable, t: i64| {
            query_vector(engine, q, expr, t, Some(&shared))
        };
        self.run(early, &mut query, q, t_ms, external_labels)
    }

    /// [`GroupState::eval`] with the query function given (Prometheus's `QueryFunc`): the
    /// group's logic without the evaluator, for tests and for callers that wrap queries.
    pub fn eval_with(
        &mut self,
        query: &mut QueryFn<'_>,
        q: &mut dyn EvalTarget,
        t_ms: i64,
        external_labels: &[(String, String)],
    ) -> GroupEval {
        self.run(Vec::new(), query, q, t_ms, external_labels)
    }

    /// The rules in order: rule i takes `early[i]` as its expression's answer when there is one,
    /// else queries.
    fn run(
        &mut self,
        mut early: Vec<Option<Answer>>,
        query: &mut QueryFn<'_>,
        q: &mut dyn EvalTarget,
        t_ms: i64,
        external_labels: &[(String, String)],
    ) -> GroupEval {
        let mut report = GroupEval::default();
        let limit = self.limit;
        for (i, r) in self.rules.iter_mut().enumerate() {
            r.last_eval_ms = Some(t_ms);
            let answer = match early.get_mut(i).and_then(Option::take) {
                Some(answer) => answer,
                None => query(&r.rule.parsed, &*q, t_ms),
            };
            let produced =
                match eval_rule(r, answer, t_ms, limit, external_labels, &self.external_url) {
                    Ok(v) => v,
                    Err(e) => {
                        // As Prometheus: the error is kept, nothing is written, and the series of
                        // the last good evaluation are not marked stale.
                        report
                            .errors
                            .push((rule_name(&r.rule).to_owned(), e.clone()));
                        r.last_error = Some(e);
                        continue;
                    }
                };
            r.last_error = None;
            let mut written = BTreeSet::new();
            for (labels, v) in produced {
                match q.append(&labels, t_ms, v) {
                    Ok(()) => {
                        report.written += 1;
                        written.insert(labels);
                    }
                    // As Prometheus: the rule's error, the other samples still written.
                    Err(e) => r.last_error = Some(e),
                }
            }
            if let Some(e) = &r.last_error {
                report
                    .errors
                    .push((rule_name(&r.rule).to_owned(), e.clone()));
            }
            for gone in r.previous.difference(&written) {
                // Refused when another rule wrote the series at this time: expected, ignored,
                // as Prometheus ignores it.
                if q.append(gone, t_ms, f64::from_bits(STALE_NAN_BITS)).is_ok() {
                    report.written += 1;
                }
            }
            r.previous = written;
        }
        report
    }

    /// The group's alerts as the console shows them.
    pub fn alerts(&self, environment: &str) -> Vec<model::Alert> {
        let origin = format!("{} › {}", self.file, self.name);
        let mut out = Vec::new();
        for r in &self.rules {
            let RuleKind::Alert { name, .. } = &r.rule.kind else {
                continue;
            };
            for a in r.alerts.alerts() {
                out.push(model::Alert {
                    name: name.clone(),
                    state: match a.state {
                        State::Pending => AlertState::Pending,
                        State::Firing => AlertState::Firing,
                        State::Inactive => AlertState::Resolved,
                    },
                    labels: a.labels.clone(),
                    annotations: a.annotations.clone(),
                    active_at: timestamp(a.active_at_ms),
                    resolved_at: a.resolved_at_ms.and_then(timestamp),
                    value: Some(a.value),
                    expr: Some(r.rule.expr.clone()),
                    origin: Some(origin.clone()),
                    source: Source::Local,
                    environment: environment.to_owned(),
                    silenced_by: Vec::new(),
                    inhibited_by: Vec::new(),
                    disagreement: None,
                });
            }
        }
        out
    }

    /// Every rule's health at its last evaluation.
    pub fn statuses(&self, environment: &str) -> Vec<model::RuleStatus> {
        let origin = format!("{} › {}", self.file, self.name);
        self.rules
            .iter()
            .map(|r| model::RuleStatus {
                environment: environment.to_owned(),
                origin: origin.clone(),
                name: rule_name(&r.rule).to_owned(),
                expr: r.rule.expr.clone(),
                error: r.last_error.clone(),
                last_eval: r.last_eval_ms.and_then(timestamp),
                source: Source::Local,
            })
            .collect()
    }
}

fn timestamp(ms: i64) -> Option<Timestamp> {
    Timestamp::from_millisecond(ms).ok()
}

/// The `record` or `alert` name.
pub fn rule_name(rule: &rulefile::Rule) -> &str {
    match &rule.kind {
        RuleKind::Record { name } | RuleKind::Alert { name, .. } => name,
    }
}
