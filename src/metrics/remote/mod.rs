//! An environment's own Prometheus, when it is reachable: instant and range queries over its
//! HTTP API, with the bearer token or basic-auth password read from its file or environment
//! variable at every request (so a rotated token file just works) and never shown.

pub mod golden;
pub mod panel;
mod parse;

#[cfg(test)]
mod tests;

use std::time::Duration;

use jiff::Timestamp;

use crate::config::endpoints::{Auth, PrometheusConfig};
use parse::Problem;
pub use parse::{InstantSeries, Labels, RangeSeries};

/// How long one query may take, end to end. Prometheus is told a little less (its `timeout`
/// parameter), so a slow query ends with its own error rather than ours.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(15);

/// The most of an answer read: a careless range query over thousands of series must not
/// take the console's memory.
pub const ANSWER_LIMIT: usize = 64 * 1024 * 1024;

/// A client for one `[[prometheus]]`. Its `Debug` shows where the secret comes from, never
/// the secret.
#[derive(Clone)]
pub struct PromClient {
    environment: String,
    /// The API root, ending in `/` so relative joins keep any path prefix.
    base: url::Url,
    auth: Auth,
    http: reqwest::Client,
}

impl std::fmt::Debug for PromClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromClient")
            .field("environment", &self.environment)
            .field("url", &redacted(&self.base))
            .field("auth", &auth_source(&self.auth))
            .finish()
    }
}

/// Where the credentials come from, in the config's words (no value).
fn auth_source(auth: &Auth) -> String {
    use crate::config::endpoints::SecretSource;
    let source = |s: &SecretSource| match s {
        SecretSource::File(p) => format!("file {}", p.display()),
        SecretSource::Env(v) => format!("environment variable {v}"),
    };
    match auth {
        Auth::None => "none".into(),
        Auth::Bearer(s) => format!("bearer token from {}", source(s)),
        Auth::Basic { username, password } => {
            format!(
                "basic auth as {username}, password from {}",
                source(password)
            )
        }
    }
}

/// A failed query: which Prometheus, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("prometheus.{environment}: {kind}")]
pub struct RemoteError {
    pub environment: String,
    pub kind: RemoteErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteErrorKind {
    #[error("cannot read the credentials: {0}")]
    Credentials(String),
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("no answer within {}s", .0.as_secs())]
    Timeout(Duration),
    #[error("{code} — {hint}")]
    Denied { code: String, hint: String },
    #[error("{code}: {excerpt}")]
    Http { code: String, excerpt: String },
    /// Prometheus's own error (`errorType`: bad_data, execution, timeout, ...).
    #[error("{error_type}: {error}")]
    Query { error_type: String, error: String },
    #[error("{0}")]
    BadAnswer(String),
}

impl PromClient {
    /// A client for `config`, sending with `http` (see [`super::scrape::http_client`]). The
    /// credentials are checked here, so a missing file shows at start-up, and read again at
    /// each request.
    pub fn new(config: &PrometheusConfig, http: reqwest::Client) -> Result<PromClient, String> {
        let mut base = config.url.0.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let client = PromClient {
            environment: config.environment.clone(),
            base,
            auth: config.auth.clone(),
            http,
        };
        let checked = match &client.auth {
            Auth::None => Ok(()),
            Auth::Bearer(source) => source.read().map(drop),
            Auth::Basic { password, .. } => password.read().map(drop),
        };
        checked.map_err(|e| format!("prometheus.{}: {e}", client.environment))?;
        Ok(client)
    }

    pub fn environment(&self) -> &str {
        &self.environment
    }

    /// An instant query at `at` (Prometheus's now if None): vector or scalar results, each
    /// series' labels (with `__name__` when it has one) and its (ms, value) sample.
    pub async fn instant(
        &self,
        query: &str,
        at: Option<Timestamp>,
    ) -> Result<Vec<(Labels, (i64, f64))>, RemoteError> {
        let mut params = vec![("query", query.to_string()), ("timeout", server_timeout())];
        if let Some(at) = at {
            params.push(("time", seconds(at)));
        }
        let body = self.get("api/v1/query", &params).await?;
        parse::instant(&body)
            .map(|(series, _warnings)| series)
            .map_err(|p| self.problem(p))
    }

    /// A range query from `start` to `end` every `step`: each series' labels and samples.
    pub async fn range(
        &self,
        query: &str,
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<Vec<(Labels, Vec<(i64, f64)>)>, RemoteError> {
        let params = vec![
            ("query", query.to_string()),
            ("start", seconds(start)),
            ("end", seconds(end)),
            ("step", format!("{}", step.as_secs_f64().max(0.001))),
            ("timeout", server_timeout()),
        ];
        let body = self.get("api/v1/query_range", &params).await?;
        parse::range(&body)
            .map(|(series, _warnings)| series)
            .map_err(|p| self.problem(p))
    }

    fn error(&self, kind: RemoteErrorKind) -> RemoteError {
        RemoteError {
            environment: self.environment.clone(),
            kind,
        }
    }

    fn problem(&self, p: Problem) -> RemoteError {
        self.error(match p {
            Problem::Api { error_type, error } => RemoteErrorKind::Query { error_type, error },
            Problem::Malformed(m) | Problem::Unexpected(m) => RemoteErrorKind::BadAnswer(m),
        })
    }

    /// Adds the credentials, read now.
    fn authorize(&self, req: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, String> {
        Ok(match &self.auth {
            Auth::None => req,
            Auth::Bearer(source) => {
                let token = source.read()?;
                req.bearer_auth(token.expose())
            }
            Auth::Basic { username, password } => {
                let password = password.read()?;
                req.basic_auth(username, Some(password.expose()))
            }
        })
    }

    async fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Vec<u8>, RemoteError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| self.error(RemoteErrorKind::BadAnswer(format!("bad URL: {e}"))))?;
        let shown = redacted(&url);
        let req = self
            .authorize(self.http.get(url).query(params).timeout(QUERY_TIMEOUT))
            .map_err(|e| self.error(RemoteErrorKind::Credentials(e)))?;
        let response = req.send().await.map_err(|e| self.transport(&shown, &e))?;
        let status = response.status();
        let body = read_limited(response)
            .await
            .map_err(|e| self.error(e.unwrap_or_else(|e| self.transport_kind(&shown, &e))))?;
        if status.is_success() {
            return Ok(body);
        }
        // Prometheus answers query errors with 4xx/5xx and its JSON error: that says more.
        if let Some(p) = parse::api_error(&body) {
            return Err(self.problem(p));
        }
        let code = match status.canonical_reason() {
            Some(r) => format!("{} {r}", status.as_u16()),
            None => status.as_u16().to_string(),
        };
        if matches!(status.as_u16(), 401 | 403) {
            return Err(self.error(RemoteErrorKind::Denied {
                code,
                hint: self.denied_hint(),
            }));
        }
        Err(self.error(RemoteErrorKind::Http {
            code,
            excerpt: crate::metrics::scrape::error_excerpt(&body),
        }))
    }

    fn denied_hint(&self) -> String {
        use crate::config::endpoints::SecretSource;
        let what = |s: &SecretSource| match s {
            SecretSource::File(p) => format!("the file {}", p.display()),
            SecretSource::Env(v) => format!("the environment variable {v}"),
        };
        match &self.auth {
            Auth::None => {
                "the server wants credentials: set bearer_token_file, bearer_token_env or basic_auth"
                    .into()
            }
            Auth::Bearer(s) => format!("check the bearer token in {} (expired?)", what(s)),
            Auth::Basic { username, password } => format!(
                "check the basic_auth user {username} and the password in {}",
                what(password)
            ),
        }
    }

    fn transport(&self, url: &str, e: &reqwest::Error) -> RemoteError {
        self.error(self.transport_kind(url, e))
    }

    fn transport_kind(&self, url: &str, e: &reqwest::Error) -> RemoteErrorKind {
        if e.is_timeout() {
            return RemoteErrorKind::Timeout(QUERY_TIMEOUT);
        }
        // reqwest's errors name the URL; ours is shown without any user:password in it.
        let mut reason = String::new();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            let text = s.to_string();
            if !reason.contains(&text) {
                if !reason.is_empty() {
                    reason.push_str(": ");
                }
                reason.push_str(&text);
            }
            source = s.source();
        }
        if reason.is_empty() {
            reason = "request failed".into();
        }
        RemoteErrorKind::Unreachable {
            url: url.to_string(),
            reason,
        }
    }
}

/// Reads an answer up to [`ANSWER_LIMIT`]; the outer error is ours, the inner reqwest's.
async fn read_limited(
    mut response: reqwest::Response,
) -> Result<Vec<u8>, Result<RemoteErrorKind, reqwest::Error>> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Err)? {
        if out.len() + chunk.len() > ANSWER_LIMIT {
            return Err(Ok(RemoteErrorKind::BadAnswer(format!(
                "the answer is larger than {} MiB; narrow the query",
                ANSWER_LIMIT / (1024 * 1024)
            ))));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A URL for messages: without user or password.
fn redacted(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.to_string()
}

fn server_timeout() -> String {
    format!("{}s", QUERY_TIMEOUT.as_secs().saturating_sub(1).max(1))
}

/// A timestamp as the API takes it: Unix seconds with milliseconds.
fn seconds(t: Timestamp) -> String {
    // Milliseconds fit an f64 exactly for any date jiff can hold.
    format!("{:.3}", t.as_millisecond() as f64 / 1000.0)
}
