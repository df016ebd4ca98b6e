//! One rule's evaluation: the query, then recording rules' renaming and relabelling or alerting
//! rules' templating and state machine (Prometheus's `RecordingRule.Eval` and
//! `AlertingRule.Eval`).

use std::collections::BTreeSet;
use std::time::Duration;

use super::{Answer, Candidate, DUPLICATE_RECORD, RuleState, Timing};
use crate::alerts::promql::{
    Engine, EvalError, Expr, ExprCache, Labels, Queryable, Value, set_label,
};
use crate::alerts::rulefile::RuleKind;
use crate::alerts::template::{self, TemplateData};

/// The expression's result as Prometheus's rule query function returns it: a vector, or a
/// scalar as one sample without labels.
pub fn query_vector(
    engine: &Engine,
    q: &dyn Queryable,
    expr: &Expr,
    t_ms: i64,
    shared: Option<&ExprCache>,
) -> Answer {
    vector(engine.instant_with(q, expr, t_ms, shared))
}

/// An expression's value as a rule's answer: samples, or the rule's error.
pub(super) fn vector(value: Result<Value, EvalError>) -> Answer {
    match value.map_err(|e| e.to_string())? {
        Value::Vector(samples) => Ok(samples.into_iter().map(|s| (s.labels, s.v)).collect()),
        Value::Scalar { v, .. } => Ok(vec![(Vec::new(), v)]),
        Value::String { .. } | Value::Matrix(_) => {
            Err("rule result is not a vector or scalar".to_owned())
        }
    }
}

/// One rule at `t_ms`, given its expression's answer: the samples to write back, or the rule's
/// error.
pub(super) fn eval_rule(
    r: &mut RuleState,
    answer: Answer,
    t_ms: i64,
    limit: usize,
    external_labels: &[(String, String)],
    external_url: &str,
) -> Result<Vec<(Labels, f64)>, String> {
    let result = answer?;
    match &r.rule.kind {
        RuleKind::Record { name } => {
            let mut out = Vec::with_capacity(result.len());
            let mut seen = BTreeSet::new();
            for (mut labels, v) in result {
                labels.sort();
                set_label(&mut labels, "__name__", name);
                for (k, val) in &r.labels {
                    set_label(&mut labels, k, val);
                }
                if !seen.insert(labels.clone()) {
                    return Err(DUPLICATE_RECORD.to_owned());
                }
                out.push((labels, v));
            }
            if limit > 0 && out.len() > limit {
                return Err(format!(
                    "exceeded limit of {} with {} series",
                    limit,
                    out.len()
                ));
            }
            Ok(out)
        }
        RuleKind::Alert {
            name,
            for_,
            keep_firing_for,
            annotations,
        } => {
            let mut annotations = annotations.clone();
            annotations.sort();
            let candidates = result
                .into_iter()
                .map(|(mut sample_labels, value)| {
                    sample_labels.sort();
                    let data = TemplateData {
                        labels: &sample_labels,
                        external_labels,
                        external_url,
                        value,
                    };
                    let mut labels = sample_labels.clone();
                    set_label(&mut labels, "__name__", "");
                    for (k, text) in &r.labels {
                        set_label(&mut labels, k, &template::expand(name, text, &data));
                    }
                    set_label(&mut labels, "alertname", name);
                    let annotations = annotations
                        .iter()
                        .map(|(k, text)| (k.clone(), template::expand(name, text, &data)))
                        .collect();
                    Candidate {
                        labels,
                        annotations,
                        value,
                    }
                })
                .collect();
            let timing = Timing {
                hold_ms: millis(*for_),
                keep_firing_for_ms: millis(*keep_firing_for),
                limit,
            };
            r.alerts.update(t_ms, candidates, timing)?;
            Ok(r.alerts.series(name, &r.labels))
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
