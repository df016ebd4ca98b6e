//! Errors from the API server or the network, written for the on-call reader ("pods: forbidden:
//! ...", "connection refused") and sorted into the two kinds the connection state tells apart:
//! the server answered and said no (degraded), or it could not be reached (unreachable).

#[cfg(test)]
mod tests;

use std::error::Error as StdError;

use ::kube::core::Status;
use ::kube::runtime::watcher;

/// What went wrong, for people, and whether it was the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The server could not be reached or stopped answering (refused, reset, timed out, TLS).
    pub transport: bool,
    pub text: String,
}

impl Failure {
    pub fn api(text: impl Into<String>) -> Self {
        Self {
            transport: false,
            text: text.into(),
        }
    }

    pub fn transport(text: impl Into<String>) -> Self {
        Self {
            transport: true,
            text: text.into(),
        }
    }
}

/// A watcher's error; `what` names the watched thing (`pods`, `events in shop`).
pub fn from_watcher(what: &str, e: &watcher::Error) -> Failure {
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => from_kube(what, e),
        watcher::Error::WatchError(status) => Failure::api(status_text(what, status)),
        watcher::Error::NoResourceVersion => Failure::api(format!(
            "{what}: the server sent no resourceVersion, so they cannot be watched"
        )),
    }
}

/// A kube client error; `what` names the request's subject.
pub fn from_kube(what: &str, e: &::kube::Error) -> Failure {
    match e {
        ::kube::Error::Api(status) => Failure::api(status_text(what, status)),
        ::kube::Error::SerdeError(e) => Failure::api(format!(
            "{what}: the server's answer could not be read: {e}"
        )),
        ::kube::Error::Auth(e) => Failure::api(format!("{what}: authentication failed: {e}")),
        ::kube::Error::HyperError(_) | ::kube::Error::Service(_) | ::kube::Error::ReadEvents(_) => {
            // Credentials that could not be fetched travel inside service errors too; they are
            // not the network's fault.
            if let Some(auth) = find::<::kube::client::AuthError>(e) {
                return Failure::api(format!("{what}: authentication failed: {auth}"));
            }
            Failure::transport(transport_text(e))
        }
        other => Failure::api(format!("{what}: {other}")),
    }
}

/// `pods: forbidden: User "x" cannot list ...`; the reason is dropped when the message says it.
pub fn status_text(what: &str, status: &Status) -> String {
    let reason = if status.reason.is_empty() {
        code_words(status.code)
    } else {
        words(&status.reason)
    };
    let message = status.message.trim();
    // ASCII lowercasing keeps byte offsets, so an index found in `lower` is one in `message`.
    let lower = message.to_ascii_lowercase();
    if message.is_empty() || lower == reason {
        format!("{what}: {reason}")
    } else if let Some(i) = lower.find(&format!("{reason}: ")) {
        // `pods is forbidden: User "x" cannot list ...`: the words before the reason repeat
        // what the prefix says.
        format!("{what}: {reason}: {}", &message[i + reason.len() + 2..])
    } else if lower.contains(&reason) {
        format!("{what}: {message}")
    } else {
        format!("{what}: {reason}: {message}")
    }
}

/// `InternalError` → `internal error`.
fn words(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, ch) in camel.chars().enumerate() {
        if ch.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(ch.to_lowercase());
    }
    out
}

fn code_words(code: u16) -> String {
    match code {
        400 => "bad request".into(),
        401 => "unauthorized".into(),
        403 => "forbidden".into(),
        404 => "not found".into(),
        409 => "conflict".into(),
        410 => "expired".into(),
        429 => "too many requests".into(),
        500 => "internal error".into(),
        503 => "service unavailable".into(),
        504 => "timeout".into(),
        0 => "error".into(),
        code => format!("HTTP {code}"),
    }
}

fn chain<'a>(
    e: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |&e| e.source())
}

fn find<'a, T: StdError + 'static>(e: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    chain(e).find_map(|e| e.downcast_ref::<T>())
}

/// The root cause of a network failure in a few words: `connection refused`, `timed out`,
/// `TLS: invalid peer certificate: UnknownIssuer`, or the deepest message there is.
pub fn transport_text(e: &(dyn StdError + 'static)) -> String {
    for cause in chain(e) {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return format!("TLS: {tls}");
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            // An io::Error's source() skips the error it wraps, so look inside by hand.
            if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return format!("TLS: {tls}");
            }
            if let Some(text) = io_words(io) {
                return text.to_string();
            }
        }
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>()
            && (hyper.is_incomplete_message() || hyper.is_closed())
        {
            return "connection closed by the server".into();
        }
    }
    let deepest = chain(e).last().map(|e| e.to_string()).unwrap_or_default();
    // "Connection refused (os error 111)": the number helps nobody.
    let deepest = match deepest.find(" (os error") {
        Some(i) => deepest[..i].to_string(),
        None => deepest,
    };
    lower_first(&deepest)
}

fn io_words(io: &std::io::Error) -> Option<&'static str> {
    use std::io::ErrorKind as K;
    Some(match io.kind() {
        K::ConnectionRefused => "connection refused",
        K::ConnectionReset => "connection reset",
        K::ConnectionAborted => "connection aborted",
        K::TimedOut => "timed out",
        K::UnexpectedEof | K::BrokenPipe => "connection closed by the server",
        K::NotConnected => "not connected",
        K::AddrNotAvailable => "address not available",
        K::HostUnreachable => "host unreachable",
        K::NetworkUnreachable => "network unreachable",
        _ => return None,
    })
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        // Keep acronyms (`TLS`, `DNS`) as they are.
        Some(first) if !chars.next().is_some_and(char::is_uppercase) => {
            first.to_lowercase().chain(s.chars().skip(1)).collect()
        }
        _ => s.to_string(),
    }
}
