//! The API server's proxy subresources: `pods/{name}:{port}/proxy/{path}` and
//! `services/{name}:{port}/proxy/{path}`, answered by the pod's app with the real error texts
//! (`no endpoints available for service "x"`, `error trying to reach service: dial tcp ...`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::{HeaderValue, Response, StatusCode, header};
use k8s_openapi::api::core::v1::{Container, Pod, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::app::{AppRequest, PodView, Unreachable};
use super::cluster::Cluster;
use super::http::{Body, full};
use super::kubelet::serves_port;
use super::status::ApiError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyTarget {
    Pod {
        namespace: String,
        name: String,
        port: Option<String>,
    },
    Service {
        namespace: String,
        name: String,
        port: Option<String>,
    },
}

/// Splits `name`, `name:port` or `scheme:name:port` (`utilnet.SplitSchemeNamePort`). An invalid
/// segment comes back whole as the name, which [`serve_proxy`] then rejects.
pub fn parse_target(segment: &str) -> (Option<&str>, &str, Option<&str>) {
    let parts: Vec<&str> = segment.split(':').collect();
    let (scheme, name, port) = match parts.as_slice() {
        [name] => (None, *name, None),
        [name, port] => (None, *name, Some(*port)),
        [scheme, name, port] if matches!(*scheme, "" | "http" | "https") => {
            (Some(*scheme), *name, Some(*port))
        }
        _ => return (None, segment, None),
    };
    (
        scheme.filter(|s| !s.is_empty()),
        name,
        port.filter(|p| !p.is_empty()),
    )
}

/// Where a proxied request goes once resolved.
struct Backend {
    pod: Arc<Pod>,
    ip: String,
    port: u16,
}

/// Spreads service requests over the ready pods (the real one picks at random).
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The longest a proxied request waits out the app's latency, in real time.
const MAX_LATENCY: Duration = Duration::from_secs(5);

fn unreachable(what: &str) -> ApiError {
    ApiError::unavailable(format!("error trying to reach service: {what}"))
}

fn container_port(pod: &Pod, name: &str) -> Option<u16> {
    pod.spec
        .as_ref()?
        .containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .find(|p| p.name.as_deref() == Some(name))
        .and_then(|p| u16::try_from(p.container_port).ok())
}

fn pod_ip(pod: &Pod) -> Option<String> {
    pod.status
        .as_ref()?
        .pod_ip
        .clone()
        .filter(|ip| !ip.is_empty())
}

fn resolve_pod(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    port: Option<&str>,
) -> Result<Backend, ApiError> {
    if name.contains(':') {
        return Err(ApiError::bad_request(format!(
            "invalid pod request {name:?}"
        )));
    }
    let pod = cluster
        .store()
        .get::<Pod>(namespace, name)
        .ok_or_else(|| ApiError::not_found("pods", "", name))?;
    // No port: the first port any container declares, else plain HTTP's.
    let first = || {
        pod.spec
            .as_ref()?
            .containers
            .iter()
            .find_map(|c| c.ports.as_ref()?.first().map(|p| p.container_port))
    };
    let port = port
        .map(str::to_string)
        .or_else(|| first().map(|p| p.to_string()));
    let ip = pod_ip(&pod).ok_or_else(|| ApiError::bad_request("address not allowed"))?;
    let port = match port.as_deref() {
        None => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(n) => n,
            Err(_) => container_port(&pod, p)
                .ok_or_else(|| unreachable(&format!("dial tcp: address {ip}:{p}: unknown port")))?,
        },
    };
    Ok(Backend { pod, ip, port })
}

fn is_ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_deref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// `ResourceLocation` of services: the port by number or name, then a ready endpoint.
fn resolve_service(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    port: Option<&str>,
) -> Result<Backend, ApiError> {
    if name.contains(':') {
        return Err(ApiError::bad_request(format!(
            "invalid service request {name:?}"
        )));
    }
    let store = cluster.store();
    let svc: Arc<Service> = store
        .get::<Service>(namespace, name)
        .ok_or_else(|| ApiError::not_found("services", "", name))?;
    let spec = svc.spec.clone().unwrap_or_default();
    let ports = spec.ports.unwrap_or_default();
    let mut wanted = port.unwrap_or("").to_string();
    if let Ok(n) = wanted.parse::<i32>() {
        let p = ports.iter().find(|p| p.port == n).ok_or_else(|| {
            ApiError::unavailable(format!("no service port {n} found for service {name:?}"))
        })?;
        wanted = p.name.clone().unwrap_or_default();
    }
    let no_endpoints =
        || ApiError::unavailable(format!("no endpoints available for service {name:?}"));
    let svc_port = ports
        .iter()
        .find(|p| p.name.as_deref().unwrap_or("") == wanted)
        .ok_or_else(no_endpoints)?;
    let selector = spec
        .selector
        .filter(|s| !s.is_empty())
        .ok_or_else(no_endpoints)?;
    let target = svc_port
        .target_port
        .clone()
        .unwrap_or(IntOrString::Int(svc_port.port));
    let endpoints: Vec<Backend> = store
        .pods
        .range(Some(namespace), None)
        .map(|(_, s)| s.obj())
        .filter(|p| {
            let labels = p.metadata.labels.as_ref();
            selector
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
                && is_ready(p)
        })
        .filter_map(|p| {
            let port = match &target {
                IntOrString::Int(n) => u16::try_from(*n).ok()?,
                IntOrString::String(s) => container_port(&p, s)?,
            };
            Some(Backend {
                ip: pod_ip(&p)?,
                pod: p,
                port,
            })
        })
        .collect();
    drop(store);
    let n = endpoints.len();
    if n == 0 {
        return Err(no_endpoints());
    }
    let pick = NEXT.fetch_add(1, Ordering::Relaxed) % n;
    endpoints.into_iter().nth(pick).ok_or_else(no_endpoints)
}

/// The running container that accepts connections on `port`, with its start and restart count.
fn listener(pod: &Pod, port: u16) -> Option<(&Container, jiff::Timestamp, i32)> {
    let containers = &pod.spec.as_ref()?.containers;
    let declared = |c: &&Container| {
        c.ports
            .iter()
            .flatten()
            .any(|p| p.container_port == i32::from(port))
    };
    let c = containers
        .iter()
        .find(declared)
        .or_else(|| containers.iter().find(|c| serves_port(c, port)))?;
    let (status, started) = crate::sim::kubelet::runtime::running_since(pod, &c.name)?;
    Some((c, started, status.restart_count))
}

pub async fn serve_proxy(
    cluster: Arc<Cluster>,
    target: ProxyTarget,
    method: http::Method,
    path: &str,
    query: Option<&str>,
    headers: &http::HeaderMap,
    body: bytes::Bytes,
) -> Result<Response<Body>, ApiError> {
    let backend = match &target {
        ProxyTarget::Pod {
            namespace,
            name,
            port,
        } => resolve_pod(&cluster, namespace, name, port.as_deref())?,
        ProxyTarget::Service {
            namespace,
            name,
            port,
        } => resolve_service(&cluster, namespace, name, port.as_deref())?,
    };
    let Backend { pod, ip, port } = backend;
    let refused = || {
        unreachable(&format!(
            "dial tcp {ip}:{port}: connect: connection refused"
        ))
    };
    let (container, started, restarts) = listener(&pod, port).ok_or_else(refused)?;
    let image = container.image.as_deref().unwrap_or("");
    let view = PodView::of(
        &pod,
        &container.name,
        image,
        started,
        restarts,
        cluster.kubelet.seed(),
    );
    let path = if path.is_empty() { "/" } else { path };
    let req = AppRequest {
        method: &method,
        path,
        query,
        headers,
        body: &body,
        port,
    };
    let answer = cluster.kubelet.app().http(&view, &req, cluster.now());
    let resp = match answer {
        Ok(r) => r,
        Err(Unreachable::Refused) => return Err(refused()),
        Err(Unreachable::Timeout) => {
            return Err(unreachable("net/http: timeout awaiting response headers"));
        }
    };
    let wait = cluster
        .clock
        .real_duration(resp.latency.unsigned_abs())
        .min(MAX_LATENCY);
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    let mut out = Response::new(full(resp.body));
    *out.status_mut() = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::BAD_GATEWAY);
    if let Ok(ct) = HeaderValue::from_str(&resp.content_type) {
        out.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
