//! Prometheus's `GET /api/v1/alerts` and `GET /api/v1/rules` answers as [`Alert`]s and
//! [`RuleStatus`]es. Written against 2.42 (Debian's); fields added later (`keepFiringSince`,
//! `keepFiringFor`, group `limit`, ...) are read when present and never required.

use serde_json::Value;

use super::json::At;
use crate::alerts::model::{Alert, AlertState, RuleStatus, Source};

/// The `data` of a `{"status": "success", "data": ...}` envelope, or Prometheus's own error.
fn data(body: &Value) -> Result<At<'_>, String> {
    let root = At::root(body);
    match root.field("status")?.str()? {
        "success" => root.field("data"),
        "error" => {
            let error_type = root
                .opt("errorType")
                .and_then(|t| t.value.as_str().map(str::to_string))
                .unwrap_or_else(|| "error".into());
            let error = root
                .opt("error")
                .and_then(|t| t.value.as_str().map(str::to_string))
                .unwrap_or_default();
            Err(format!("Prometheus says {error_type}: {error}"))
        }
        other => Err(root.error(&format!("status {other:?} is neither success nor error"))),
    }
}

/// `/api/v1/alerts`: the active (pending and firing) alerts.
pub(crate) fn alerts(body: &Value, environment: &str) -> Result<Vec<Alert>, String> {
    let mut out = Vec::new();
    for item in data(body)?.field("alerts")?.items()? {
        if let Some(alert) = alert(&item, environment, None, None)? {
            out.push(alert);
        }
    }
    Ok(out)
}

/// One alert object, as both endpoints write it. None for an `inactive` one (not listed by
/// 2.42, but nothing forbids a server from listing it).
fn alert(
    at: &At<'_>,
    environment: &str,
    expr: Option<&str>,
    origin: Option<&str>,
) -> Result<Option<Alert>, String> {
    let labels = at.field("labels")?.labels()?;
    let state_at = at.field("state")?;
    let state = match state_at.str()? {
        "firing" => AlertState::Firing,
        "pending" => AlertState::Pending,
        "inactive" => return Ok(None),
        other => return Err(state_at.error(&format!("unknown alert state {other:?}"))),
    };
    let annotations = match at.opt("annotations") {
        Some(a) => a.labels()?,
        None => Vec::new(),
    };
    let active_at = match at.opt("activeAt") {
        Some(t) => t.time()?,
        None => None,
    };
    let value = match at.opt("value") {
        Some(v) => Some(v.float_text()?),
        None => None,
    };
    let name = labels
        .iter()
        .find(|(k, _)| k == "alertname")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    Ok(Some(Alert {
        name,
        state,
        labels,
        annotations,
        active_at,
        resolved_at: None,
        value,
        expr: expr.map(str::to_string),
        origin: origin.map(str::to_string),
        source: Source::Prometheus,
        environment: environment.to_string(),
        silenced_by: Vec::new(),
        inhibited_by: Vec::new(),
        disagreement: None,
    }))
}

/// How a rule's origin is written for Prometheus's rules: "FILE › GROUP", as the local
/// evaluator writes its own, so both sources read alike in the detail.
pub(crate) fn origin(file: &str, group: &str) -> String {
    if file.is_empty() {
        group.to_string()
    } else {
        format!("{file} › {group}")
    }
}

/// `/api/v1/rules`: every rule's health, and the active alerts of the alerting rules (with the
/// rule's expression and group, which `/api/v1/alerts` does not say).
pub(crate) fn rules(
    body: &Value,
    environment: &str,
) -> Result<(Vec<RuleStatus>, Vec<Alert>), String> {
    let mut statuses = Vec::new();
    let mut alerts = Vec::new();
    for group in data(body)?.field("groups")?.items()? {
        let group_name = group.field("name")?.str()?;
        let file = match group.opt("file") {
            Some(f) => f.str()?,
            None => "",
        };
        let origin = origin(file, group_name);
        for rule in group.field("rules")?.items()? {
            let name = rule.field("name")?.str()?;
            let expr = rule.field("query")?.str()?;
            let health = match rule.opt("health") {
                Some(h) => h.str()?,
                None => "unknown",
            };
            let last_error = match rule.opt("lastError") {
                Some(e) => e.str()?,
                None => "",
            };
            let error = match (health, last_error) {
                (_, e) if !e.is_empty() => Some(e.to_string()),
                ("err", _) => Some("the last evaluation failed".to_string()),
                _ => None,
            };
            let last_eval = match rule.opt("lastEvaluation") {
                Some(t) => t.time()?,
                None => None,
            };
            // Type-checked though not kept: a number here tells a broken answer from a good one.
            if let Some(t) = rule.opt("evaluationTime")
                && !t.value.is_number()
            {
                return Err(t.error("expected a number of seconds"));
            }
            statuses.push(RuleStatus {
                environment: environment.to_string(),
                origin: origin.clone(),
                name: name.to_string(),
                expr: expr.to_string(),
                error,
                last_eval,
                source: Source::Prometheus,
            });
            let kind = rule.field("type")?;
            match kind.str()? {
                "alerting" => {
                    let Some(list) = rule.opt("alerts") else {
                        continue;
                    };
                    for item in list.items()? {
                        if let Some(a) = alert(&item, environment, Some(expr), Some(&origin))? {
                            alerts.push(a);
                        }
                    }
                }
                "recording" => {}
                other => return Err(kind.error(&format!("unknown rule type {other:?}"))),
            }
        }
    }
    Ok((statuses, alerts))
}
