//! One GET to a monitoring server's JSON API, with its credentials read at the request and every
//! failure said in words an on-call engineer can act on.
//!
//! The credentials come from [`crate::config::endpoints::SecretSource::read`] (the same source of
//! truth as the metrics client), read at each request so a rotated token file just works, and
//! never put into a message. The transport (connect timeout, no proxy, TLS) is the caller's
//! `reqwest::Client` — [`crate::metrics::scrape::http_client`] in the console.

use std::time::Duration;

use crate::config::endpoints::{Auth, SecretSource};

/// The most of an answer read: a Prometheus with thousands of active alerts answers a few MiB;
/// anything far beyond that is not an alerts answer and must not take the console's memory.
pub const ANSWER_LIMIT: usize = 32 * 1024 * 1024;

/// Where to send a request and how long it may take, connecting included.
pub(crate) struct Endpoint<'a> {
    /// The API root as configured; a path prefix (`/prometheus`) is kept.
    pub url: &'a url::Url,
    pub auth: &'a Auth,
    /// End to end: a dead or stalled server must never hang a poll.
    pub timeout: Duration,
    /// `[[prometheus]]` or `[[alertmanager]]`, for the hint on a refused login.
    pub section: &'static str,
}

/// GETs `path` (relative to the endpoint's URL) and parses the body as JSON.
pub(crate) async fn get_json(
    client: &reqwest::Client,
    ep: &Endpoint<'_>,
    path: &str,
) -> Result<serde_json::Value, String> {
    let body = get(client, ep, path).await?;
    serde_json::from_slice(&body).map_err(|e| {
        format!(
            "malformed answer from {}: not JSON ({e}): {}",
            shown(&join(ep.url, path)),
            crate::metrics::scrape::error_excerpt(&body)
        )
    })
}

/// The endpoint URL joined with `path`, keeping any path prefix of the configured URL.
fn join(base: &url::Url, path: &str) -> url::Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}/{path}"));
    url.set_query(None);
    url
}

/// A URL for messages: no user or password.
fn shown(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

async fn get(client: &reqwest::Client, ep: &Endpoint<'_>, path: &str) -> Result<Vec<u8>, String> {
    let url = join(ep.url, path);
    let shown = shown(&url);
    let req = authorize(client.get(url).timeout(ep.timeout), ep.auth)
        .map_err(|e| format!("cannot read the credentials: {e}"))?;
    let response = req
        .send()
        .await
        .map_err(|e| transport(&shown, ep.timeout, &e))?;
    let status = response.status();
    let body = read_limited(response)
        .await
        .map_err(|e| e.unwrap_or_else(|e| transport(&shown, ep.timeout, &e)))?;
    if status.is_success() {
        return Ok(body);
    }
    let code = match status.canonical_reason() {
        Some(r) => format!("HTTP {} {r}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    };
    if matches!(status.as_u16(), 401 | 403) {
        return Err(format!("{shown}: {code} — {}", denied_hint(ep)));
    }
    Err(format!(
        "{shown}: {code}: {}",
        crate::metrics::scrape::error_excerpt(&body)
    ))
}

/// Adds the credentials, read now.
fn authorize(req: reqwest::RequestBuilder, auth: &Auth) -> Result<reqwest::RequestBuilder, String> {
    Ok(match auth {
        Auth::None => req,
        Auth::Bearer(source) => req.bearer_auth(source.read()?.expose()),
        Auth::Basic { username, password } => {
            req.basic_auth(username, Some(password.read()?.expose()))
        }
    })
}

fn denied_hint(ep: &Endpoint<'_>) -> String {
    let what = |s: &SecretSource| match s {
        SecretSource::File(p) => format!("the file {}", p.display()),
        SecretSource::Env(v) => format!("the environment variable {v}"),
    };
    match ep.auth {
        Auth::None => format!(
            "the server wants credentials and none are configured: set bearer_token_file, \
             bearer_token_env or basic_auth in {}",
            ep.section
        ),
        Auth::Bearer(s) => format!("check the bearer token in {} (expired?)", what(s)),
        Auth::Basic { username, password } => format!(
            "check the basic_auth user {username} and the password in {}",
            what(password)
        ),
    }
}

/// Reads an answer up to [`ANSWER_LIMIT`]; the outer error is ours, the inner reqwest's.
async fn read_limited(
    mut response: reqwest::Response,
) -> Result<Vec<u8>, Result<String, reqwest::Error>> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Err)? {
        if out.len() + chunk.len() > ANSWER_LIMIT {
            return Err(Ok(format!(
                "the answer is larger than {} MiB",
                ANSWER_LIMIT / (1024 * 1024)
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A transport failure in words: "connection refused", "no answer within 10s", or the
/// innermost cause reqwest reports (DNS, TLS, reset).
fn transport(url: &str, timeout: Duration, e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("{url}: no answer within {}", seconds(timeout));
    }
    let mut innermost: Option<String> = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind;
            let words = match io.kind() {
                ErrorKind::ConnectionRefused => Some("connection refused"),
                ErrorKind::ConnectionReset => Some("connection reset by the server"),
                ErrorKind::TimedOut => {
                    return format!("{url}: no answer within {}", seconds(timeout));
                }
                _ => None,
            };
            if let Some(words) = words {
                return format!("cannot reach {url}: {words}");
            }
        }
        innermost = Some(s.to_string());
        source = s.source();
    }
    format!(
        "cannot reach {url}: {}",
        innermost.unwrap_or_else(|| "request failed".into())
    )
}

/// A duration as people say it in a status line: "10s", "0.3s".
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
