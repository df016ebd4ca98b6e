//! One log line: where it came from, when it was written (the server's RFC3339Nano prefix,
//! requested always so a reconnect can resume where it stopped) and its text; and the readable
//! rendering of a JSON line.

use jiff::Timestamp;
use serde_json::Value;

use super::source::SourceId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub source: SourceId,
    /// When the container wrote it, as the kubelet stamped it (None if the line had no stamp).
    pub ts: Option<Timestamp>,
    pub text: String,
}

/// Splits the `timestamps=true` prefix off a raw line: `2026-11-22T14:02:11.123456789Z text`.
/// A line without a parsable stamp is kept whole.
pub fn split_timestamp(raw: &str) -> (Option<Timestamp>, &str) {
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    match raw.split_once(' ') {
        Some((stamp, rest)) => match stamp.parse::<Timestamp>() {
            Ok(ts) => (Some(ts), rest),
            Err(_) => (None, raw),
        },
        // A stamped empty line arrives as the stamp alone.
        None => match raw.parse::<Timestamp>() {
            Ok(ts) => (Some(ts), ""),
            Err(_) => (None, raw),
        },
    }
}

const LEVEL_KEYS: &[&str] = &["level", "lvl", "severity", "loglevel"];
const MSG_KEYS: &[&str] = &["msg", "message", "log"];
const TIME_KEYS: &[&str] = &["time", "ts", "timestamp", "@timestamp"];

/// A JSON object line as `LEVEL message  time=… key=value …` (level, message and time first, the
/// other fields in name order); None when the line is not a JSON object.
pub fn readable(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(trimmed) else {
        return None;
    };
    let find = |keys: &[&'static str]| keys.iter().find_map(|k| map.get(*k).map(|v| (*k, v)));
    let level = find(LEVEL_KEYS);
    let msg = find(MSG_KEYS);
    let time = find(TIME_KEYS);
    let mut out = String::new();
    if let Some((_, v)) = level {
        out.push_str(&format!("{:<5}", plain(v).to_uppercase()));
    }
    if let Some((_, v)) = msg {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&plain(v));
    }
    let used: Vec<&str> = [level, msg].iter().flatten().map(|(k, _)| *k).collect();
    let mut fields: Vec<(&str, &Value)> = Vec::new();
    if let Some(t) = time {
        fields.push(t);
    }
    fields.extend(
        map.iter()
            .map(|(k, v)| (k.as_str(), v))
            .filter(|(k, _)| !used.contains(k) && time.is_none_or(|(t, _)| t != *k)),
    );
    for (i, (k, v)) in fields.iter().enumerate() {
        out.push_str(if i == 0 && !out.is_empty() {
            "  "
        } else if out.is_empty() {
            ""
        } else {
            " "
        });
        out.push_str(&format!("{k}={}", quoted(v)));
    }
    Some(out)
}

/// A value as text: strings without their quotes.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A field value: quoted only when it would not read as one word.
fn quoted(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() || s.contains(char::is_whitespace) || s.contains('=') => {
            format!("{s:?}")
        }
        other => plain(other),
    }
}

#[cfg(test)]
mod tests;
