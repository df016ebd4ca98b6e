//! Alertmanager's `GET /api/v2/alerts` and `GET /api/v2/silences` answers (v2 API, 0.25 and
//! later). Alertmanager lists only unresolved alerts and has no pending state: every alert it
//! lists is firing, and its verdict (silenced, inhibited) is what the console adds to it.

use std::collections::HashMap;
use std::fmt;

use jiff::Timestamp;
use serde_json::Value;

use super::json::At;
use crate::alerts::model::{Alert, AlertState, Source};

/// One silence, as Alertmanager reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Silence {
    pub id: String,
    pub environment: String,
    pub matchers: Vec<SilenceMatcher>,
    pub created_by: String,
    pub comment: String,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub state: SilenceState,
}

/// A silence's state; a state a newer Alertmanager adds is kept as its word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SilenceState {
    Active,
    /// Starts in the future.
    Pending,
    Expired,
    Other(String),
}

/// One matcher of a silence. Displays as Alertmanager writes it: `severity=~"warn|page"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SilenceMatcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    /// False for the negative matchers (`!=`, `!~`); absent before Alertmanager 0.22, so true
    /// by default.
    pub is_equal: bool,
}

impl fmt::Display for SilenceMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match (self.is_equal, self.is_regex) {
            (true, false) => "=",
            (false, false) => "!=",
            (true, true) => "=~",
            (false, true) => "!~",
        };
        write!(f, "{}{op}{:?}", self.name, self.value)
    }
}

impl Silence {
    /// The matchers as one line: `{alertname="X", severity!~"nope.*"}`.
    pub fn matchers_text(&self) -> String {
        let parts: Vec<String> = self.matchers.iter().map(|m| m.to_string()).collect();
        format!("{{{}}}", parts.join(", "))
    }
}

/// `/api/v2/alerts`. `inhibitedBy` holds the fingerprints of the inhibiting alerts; when that
/// alert is in the same answer it is named ("AlwaysFiring (2a7a97fbf890646a)"), since a bare
/// fingerprint tells the on-call reader nothing.
pub(crate) fn alerts(body: &Value, environment: &str) -> Result<Vec<Alert>, String> {
    let items = At::root(body).items()?;
    let mut names: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    let mut inhibitors: Vec<Vec<String>> = Vec::with_capacity(items.len());
    for item in &items {
        let labels = item.field("labels")?.labels()?;
        let annotations = match item.opt("annotations") {
            Some(a) => a.labels()?,
            None => Vec::new(),
        };
        let active_at = match item.opt("startsAt") {
            Some(t) => t.time()?,
            None => None,
        };
        let status = item.field("status")?;
        let state = status.field("state")?;
        match state.str()? {
            "active" | "suppressed" | "unprocessed" => {}
            other => return Err(state.error(&format!("unknown alert state {other:?}"))),
        }
        let list = |name: &str| match status.opt(name) {
            Some(l) => l.strings(),
            None => Ok(Vec::new()),
        };
        let silenced_by = list("silencedBy")?;
        inhibitors.push(list("inhibitedBy")?);
        let name = labels
            .iter()
            .find(|(k, _)| k == "alertname")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        if let Some(fp) = item.opt("fingerprint") {
            names.insert(fp.str()?.to_string(), name.clone());
        }
        out.push(Alert {
            name,
            state: AlertState::Firing,
            labels,
            annotations,
            active_at,
            resolved_at: None,
            value: None,
            expr: None,
            origin: None,
            source: Source::Alertmanager,
            environment: environment.to_string(),
            silenced_by,
            inhibited_by: Vec::new(),
            disagreement: None,
        });
    }
    for (alert, fps) in out.iter_mut().zip(inhibitors) {
        alert.inhibited_by = fps
            .into_iter()
            .map(|fp| match names.get(&fp) {
                Some(name) if !name.is_empty() => format!("{name} ({fp})"),
                _ => fp,
            })
            .collect();
    }
    Ok(out)
}

/// `/api/v2/silences`: all of them, expired ones included (Alertmanager keeps those a while).
pub(crate) fn silences(body: &Value, environment: &str) -> Result<Vec<Silence>, String> {
    let mut out = Vec::new();
    for item in At::root(body).items()? {
        let state_at = item.field("status")?.field("state")?;
        let state = match state_at.str()? {
            "active" => SilenceState::Active,
            "pending" => SilenceState::Pending,
            "expired" => SilenceState::Expired,
            other => SilenceState::Other(other.to_string()),
        };
        let mut matchers = Vec::new();
        for m in item.field("matchers")?.items()? {
            matchers.push(SilenceMatcher {
                name: m.field("name")?.str()?.to_string(),
                value: m.field("value")?.str()?.to_string(),
                is_regex: m.field("isRegex")?.bool()?,
                is_equal: match m.opt("isEqual") {
                    Some(b) => b.bool()?,
                    None => true,
                },
            });
        }
        let text = |name: &str| match item.opt(name) {
            Some(t) => t.str().map(str::to_string),
            None => Ok(String::new()),
        };
        let time = |name: &str| match item.opt(name) {
            Some(t) => t.time(),
            None => Ok(None),
        };
        out.push(Silence {
            id: item.field("id")?.str()?.to_string(),
            environment: environment.to_string(),
            matchers,
            created_by: text("createdBy")?,
            comment: text("comment")?,
            starts_at: time("startsAt")?,
            ends_at: time("endsAt")?,
            state,
        });
    }
    Ok(out)
}
