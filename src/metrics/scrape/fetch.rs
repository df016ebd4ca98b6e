//! One scrape: a GET with Prometheus's headers, the status read, the body read up to a limit.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use jiff::Timestamp;

use super::error::excerpt;
use super::{Body, How, ScrapeError, Target};

/// The `Accept` header Prometheus 2.42 sends (captured from Debian's `prometheus` scraping a
/// loopback server): apps that can answer OpenMetrics do, the others answer the 0.0.4 text
/// format. Newer Prometheus versions weigh the same types differently, to the same effect.
pub const ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// The most of a body read. Prometheus has no default limit, but a console on a jump host must
/// not take gigabytes because one app exports a label per user; the largest real endpoints
/// (kube-state-metrics on a big cluster) stay well under this.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The header telling the app how long we wait, as Prometheus sends it.
const TIMEOUT_HEADER: &str = "X-Prometheus-Scrape-Timeout-Seconds";

/// The API server path of a pod proxy target:
/// `/api/v1/namespaces/NS/pods/[https:]POD:PORT/proxy/PATH`.
pub fn proxy_path(namespace: &str, pod: &str, port: &str, path: &str, scheme: &str) -> String {
    let scheme = if scheme == "https" { "https:" } else { "" };
    let path = path.strip_prefix('/').unwrap_or(path);
    format!(
        "/api/v1/namespaces/{}/pods/{scheme}{}:{}/proxy/{}",
        escape(namespace),
        escape(pod),
        escape(port),
        escape_path(path),
    )
}

/// Percent-encodes a path segment (names are DNS labels in practice; anything else must not
/// break the request line).
fn escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Percent-encodes what may not appear in a request path, keeping `/`, `?`, `&`, `=` and
/// existing escapes so an annotated path with a query goes through unchanged.
fn escape_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || "-._~/?&=%:@!$'()*+,;".contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

fn timeout_value(timeout: Duration) -> String {
    format!("{}", timeout.as_secs_f64())
}

/// Scrapes a pod through the API server's proxy with `client` (see [`super::scrape_client`]).
/// `now` is the wall clock at the start, for a `Retry-After` given as a date.
pub async fn fetch_pod(
    client: &kube::Client,
    target: &Target,
    now: Timestamp,
) -> Result<Body, ScrapeError> {
    let How::PodProxy {
        namespace,
        pod,
        port,
        path,
        scheme,
    } = &target.how
    else {
        return Err(ScrapeError::BadTarget("not a pod target".into()));
    };
    let uri = proxy_path(namespace, pod, port, path, scheme);
    let request = http::Request::get(&uri)
        .header(http::header::ACCEPT, ACCEPT)
        .header(TIMEOUT_HEADER, timeout_value(target.timeout))
        .body(kube::client::Body::empty())
        .map_err(|e| ScrapeError::BadTarget(format!("{uri}: {e}")))?;
    let work = async {
        let response = client
            .send(request)
            .await
            .map_err(|e| ScrapeError::Transport(kube_error(&e)))?;
        let (parts, body) = response.into_parts();
        read(parts, body, now).await
    };
    tokio::time::timeout(target.timeout, work)
        .await
        .map_err(|_| ScrapeError::Timeout(target.timeout))?
}

/// Scrapes a URL target directly with `http` (see [`super::http_client`]).
pub async fn fetch_url(
    http: &reqwest::Client,
    target: &Target,
    now: Timestamp,
) -> Result<Body, ScrapeError> {
    let How::Url(url) = &target.how else {
        return Err(ScrapeError::BadTarget("not a URL target".into()));
    };
    let work = async {
        let response = http
            .get(url.clone())
            .header(http::header::ACCEPT, ACCEPT)
            .header(TIMEOUT_HEADER, timeout_value(target.timeout))
            .send()
            .await
            .map_err(|e| ScrapeError::Transport(reqwest_error(&e)))?;
        let response: http::Response<reqwest::Body> = response.into();
        let (parts, body) = response.into_parts();
        read(parts, body, now).await
    };
    tokio::time::timeout(target.timeout, work)
        .await
        .map_err(|_| ScrapeError::Timeout(target.timeout))?
}

/// The status, then the body up to [`BODY_LIMIT`].
async fn read<B>(parts: http::response::Parts, body: B, now: Timestamp) -> Result<Body, ScrapeError>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let status = parts.status;
    if status == http::StatusCode::TOO_MANY_REQUESTS {
        return Err(ScrapeError::Throttled {
            retry_after: parts
                .headers
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, now)),
            pause: Duration::ZERO,
        });
    }
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if status.is_success() && declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(ScrapeError::TooLarge { limit: BODY_LIMIT });
    }
    // An error body is read only as far as its excerpt needs.
    let limit = if status.is_success() {
        BODY_LIMIT
    } else {
        4096
    };
    let bytes = collect(body, limit).await;
    if !status.is_success() {
        let bytes = match bytes {
            Ok(b) | Err(Collect::TooLarge(b)) => b,
            Err(Collect::Failed(_)) => Vec::new(),
        };
        return Err(ScrapeError::Status {
            code: status.as_u16(),
            excerpt: excerpt(&bytes),
        });
    }
    let bytes = bytes.map_err(|e| match e {
        Collect::TooLarge(_) => ScrapeError::TooLarge { limit: BODY_LIMIT },
        Collect::Failed(msg) => ScrapeError::Transport(format!("the body broke off: {msg}")),
    })?;
    let text = String::from_utf8(bytes).map_err(|_| ScrapeError::NotText)?;
    Ok(Body {
        text,
        content_type: parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    })
}

enum Collect {
    /// What was read before the limit (for excerpts).
    TooLarge(Vec<u8>),
    Failed(String),
}

async fn collect<B>(mut body: B, limit: usize) -> Result<Vec<u8>, Collect>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Collect::Failed(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                let room = limit.saturating_sub(out.len());
                out.extend_from_slice(data.get(..room).unwrap_or_default());
                return Err(Collect::TooLarge(out));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub(crate) fn retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = at.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// An error with its causes, each said once ("error trying to connect: tcp connect error:
/// Connection refused").
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg = format!("{msg}: {text}");
        }
        source = s.source();
    }
    msg
}

fn kube_error(e: &kube::Error) -> String {
    chain(e)
}

fn reqwest_error(e: &reqwest::Error) -> String {
    chain(e)
}
