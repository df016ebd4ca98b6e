//! Error texts as the on-call reader sees them, and which kind each failure is.

use std::io;

use super::*;

fn status(code: u16, reason: &str, message: &str) -> Status {
    let mut s = Status::failure(message, reason);
    s.code = code;
    s
}

#[test]
fn api_errors_read_well() {
    let forbidden = status(
        403,
        "Forbidden",
        "pods is forbidden: User \"dev\" cannot list resource \"pods\" in API group \"\" at the cluster scope",
    );
    assert_eq!(
        status_text("pods", &forbidden),
        "pods: forbidden: User \"dev\" cannot list resource \"pods\" in API group \"\" at the cluster scope"
    );
    assert_eq!(
        status_text("pods", &status(401, "Unauthorized", "Unauthorized")),
        "pods: unauthorized"
    );
    assert_eq!(
        status_text(
            "events",
            &status(
                500,
                "InternalError",
                "Internal error occurred: etcdserver: request timed out"
            )
        ),
        "events: Internal error occurred: etcdserver: request timed out"
    );
    assert_eq!(
        status_text(
            "pod shop/web-1",
            &status(404, "NotFound", "pods \"web-1\" not found")
        ),
        "pod shop/web-1: pods \"web-1\" not found"
    );
    assert_eq!(
        status_text("pods", &status(503, "", "")),
        "pods: service unavailable"
    );
    assert_eq!(
        status_text("pods", &status(418, "", "teapot")),
        "pods: HTTP 418: teapot"
    );

    let f = from_kube("pods", &::kube::Error::Api(Box::new(forbidden)));
    assert!(!f.transport);
    let w = from_watcher(
        "pods",
        &watcher::Error::WatchError(Box::new(status(500, "InternalError", "boom"))),
    );
    assert_eq!(w, Failure::api("pods: internal error: boom"));
    assert!(!from_watcher("hpas", &watcher::Error::NoResourceVersion).transport);
}

/// An error that wraps another, as hyper and the connectors do.
#[derive(Debug)]
struct Wrap(&'static str, Box<dyn StdError + Send + Sync>);

impl std::fmt::Display for Wrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl StdError for Wrap {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.1.as_ref())
    }
}

fn service(inner: impl StdError + Send + Sync + 'static) -> ::kube::Error {
    ::kube::Error::Service(Box::new(Wrap(
        "client error (Connect)",
        Box::new(Wrap("tcp connect error", Box::new(inner))),
    )))
}

#[test]
fn network_errors_say_the_root_cause() {
    let refused = io::Error::new(
        io::ErrorKind::ConnectionRefused,
        "Connection refused (os error 111)",
    );
    assert_eq!(
        from_kube("pods", &service(refused)),
        Failure::transport("connection refused")
    );
    let timeout = io::Error::new(io::ErrorKind::TimedOut, "deadline has elapsed");
    assert_eq!(
        from_kube("pods", &service(timeout)),
        Failure::transport("timed out")
    );
    let dns = io::Error::other("failed to lookup address information: Name or service not known");
    assert_eq!(
        from_kube("pods", &service(dns)).text,
        "failed to lookup address information: Name or service not known"
    );
    let tls = io::Error::new(
        io::ErrorKind::InvalidData,
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
    );
    let f = from_kube("pods", &service(tls));
    assert!(f.transport);
    assert!(
        f.text.starts_with("TLS: invalid peer certificate"),
        "{}",
        f.text
    );
    let wrapped = watcher::Error::WatchStartFailed(service(io::Error::new(
        io::ErrorKind::ConnectionReset,
        "reset",
    )));
    assert_eq!(
        from_watcher("pods", &wrapped),
        Failure::transport("connection reset")
    );
    // The deepest message, os error number dropped, first letter lowered (acronyms kept).
    let odd = io::Error::other("Weird failure (os error 99)");
    assert_eq!(from_kube("pods", &service(odd)).text, "weird failure");
    assert_eq!(lower_first("TLS handshake"), "TLS handshake");
}
