//! Why a scrape gave no body, in words for the person on call.

use std::time::Duration;

/// A failed scrape. The `Display` is what the console shows next to the target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScrapeError {
    #[error("no answer within {}: the scrape timed out", secs(*.0))]
    Timeout(Duration),
    #[error("answered HTTP {code}{}{}", reason(*code), excerpt_suffix(excerpt))]
    Status { code: u16, excerpt: String },
    #[error("the body is larger than {} MiB; it was not read further", .limit / (1024 * 1024))]
    TooLarge { limit: usize },
    #[error("the body is not UTF-8 text (protobuf or binary?)")]
    NotText,
    #[error("cannot reach it: {0}")]
    Transport(String),
    /// The API server answered 429 (API priority and fairness): the whole cluster's scraper
    /// pauses for `pause`.
    #[error("the API server is throttling (429 Too Many Requests): scrapes of this cluster pause for {}", secs(*.pause))]
    Throttled {
        /// What the server asked for in `Retry-After`, if anything.
        retry_after: Option<Duration>,
        /// How long the scraper actually pauses.
        pause: Duration,
    },
    #[error("bad target: {0}")]
    BadTarget(String),
}

fn secs(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn reason(code: u16) -> String {
    http::StatusCode::from_u16(code)
        .ok()
        .and_then(|c| c.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    }
}

/// The longest excerpt of an error body kept: enough for an API server `Status` message or a
/// one-line app error, short enough for a table cell.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// A short, single-line excerpt of an error body. A Kubernetes `Status` object (what the API
/// server answers when the pod proxy itself fails) is reduced to its `message`.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        });
    let text = message.unwrap_or_else(|| text.into_owned());
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(EXCERPT_CHARS).collect();
    if one_line.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    out
}
