//! Request routing for the simulated API server: authentication, URL parsing, authorization and
//! dispatch to the typed handlers.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod, ResourceQuota, Service};

use super::cluster::{Cluster, User};
use super::http::{self as h, Body, Query};
use super::kinds::{self, Res, ResInfo};
use super::status::ApiError;
use super::{authz, discovery, logs, protobuf, proxy, resource, scale};

/// The real API server's request-body limit.
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// A parsed resource URL.
#[derive(Debug)]
pub struct ResPath {
    pub info: &'static ResInfo,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
    /// Everything after the subresource segment, for proxy paths.
    pub tail: String,
}

/// What one request asks for, with everything a handler needs.
pub struct Call {
    pub cluster: Arc<Cluster>,
    pub path: ResPath,
    pub method: Method,
    pub query: Query,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub user: User,
    pub raw_query: Option<String>,
}

impl Call {
    pub fn wants_table(&self) -> bool {
        self.headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("as=Table"))
    }

    pub fn namespace(&self) -> &str {
        self.path.namespace.as_deref().unwrap_or("")
    }

    pub fn name(&self) -> &str {
        self.path.name.as_deref().unwrap_or("")
    }
}

pub async fn handle(
    cluster: Arc<Cluster>,
    addr: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    if let Some(delay) = cluster.api_delay() {
        tokio::time::sleep(delay).await;
    }
    match route(cluster, addr, req).await {
        Ok(resp) => resp,
        Err(err) => h::error(&err),
    }
}

async fn route(
    cluster: Arc<Cluster>,
    addr: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();

    // Health and version are public, as on a real server (system:public-info-viewer).
    match segments.as_slice() {
        ["version"] => return Ok(h::json_value(StatusCode::OK, &discovery::version())),
        ["healthz"] | ["livez"] | ["readyz"] => {
            return Ok(h::response(StatusCode::OK, "text/plain", "ok"));
        }
        _ => {}
    }
    let user = authenticate(&cluster, &parts.headers)?;

    let doc = match segments.as_slice() {
        ["api"] => Some(discovery::api_versions(addr)),
        ["apis"] => Some(discovery::api_group_list()),
        ["api", "v1"] => discovery::resource_list("", "v1"),
        ["apis", group] => Some(discovery::api_group(group).ok_or_else(ApiError::no_route)?),
        ["apis", group, version] => {
            Some(discovery::resource_list(group, version).ok_or_else(ApiError::no_route)?)
        }
        _ => None,
    };
    if let Some(doc) = doc {
        if parts.method != Method::GET {
            return Err(ApiError::method_not_allowed(parts.method.as_str()));
        }
        return Ok(h::json_value(StatusCode::OK, &doc));
    }

    let (group, version, rest) = match segments.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(ApiError::no_route()),
    };
    let mut query = Query::parse(parts.uri.query());
    let (rest, legacy_watch) = match rest {
        ["watch", rest @ ..] => (rest, true),
        _ => (rest, false),
    };
    if legacy_watch {
        query = query.with("watch", "true");
    }
    let res_path = parse_resource_path(group, version, rest, &path)?;

    let body = match read_body(body).await {
        Ok(body) => body,
        // The rest of the body is still in flight: close the connection after answering, so
        // the client does not reuse it for its next request (as Go's net/http does).
        Err(err) => {
            let mut resp = h::error(&err);
            resp.headers_mut()
                .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
            return Ok(resp);
        }
    };
    let call = Call {
        cluster,
        path: res_path,
        method: parts.method,
        query,
        headers: parts.headers,
        body,
        user,
        raw_query: parts.uri.query().map(str::to_string),
    };
    let verb = verb_of(&call)?;
    let call = decode_protobuf(call)?;
    authz::check(&call, verb)?;
    dispatch(call, verb).await
}

/// Turns a protobuf body into JSON where the simulator can, and refuses it clearly elsewhere.
fn decode_protobuf(mut call: Call) -> Result<Call, ApiError> {
    let content_type = call
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if call.body.is_empty() || !protobuf::is_protobuf(content_type) {
        return Ok(call);
    }
    if call.path.info.res != Res::SelfSubjectAccessReviews {
        return Err(ApiError::unsupported_body(
            "the simulated API server reads JSON request bodies only, and this client sent protobuf; \
             kubectl sends protobuf for `create <kind>`/`run`/`expose`: use `kubectl create -f FILE --validate=false` instead",
        ));
    }
    let review = protobuf::self_subject_access_review(&call.body).map_err(|e| {
        ApiError::bad_request(format!("error decoding SelfSubjectAccessReview: {e}"))
    })?;
    call.body = Bytes::from(serde_json::to_vec(&review).unwrap_or_default());
    call.headers.insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(call)
}

fn authenticate(cluster: &Cluster, headers: &HeaderMap) -> Result<User, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)?;
    cluster
        .user_by_token(token)
        .cloned()
        .ok_or_else(ApiError::unauthorized)
}

/// How much of an oversized body is read and thrown away before answering 413. Answering at
/// the limit and closing made a client still sending the rest see a broken pipe instead of the
/// answer (a CI run under load did); Go's net/http drains a little for the same reason.
const DRAIN_AFTER_LIMIT: usize = 16 * 1024 * 1024;

async fn read_body(mut body: Incoming) -> Result<Bytes, ApiError> {
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| ApiError::bad_request(format!("error reading the request body: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen <= MAX_BODY {
            kept.extend_from_slice(&data);
        } else if seen > MAX_BODY.saturating_add(DRAIN_AFTER_LIMIT) {
            break;
        }
    }
    if seen > MAX_BODY {
        return Err(ApiError::too_large(MAX_BODY));
    }
    Ok(Bytes::from(kept))
}

/// Splits `namespaces/{ns}/{plural}/{name}/{sub}/{tail...}` and the cluster-scoped forms.
fn parse_resource_path(
    group: &str,
    version: &str,
    rest: &[&str],
    raw: &str,
) -> Result<ResPath, ApiError> {
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, tail @ ..]
            if kinds::lookup(group, version, plural).is_some_and(|r| r.namespaced) =>
        {
            (Some((*ns).to_string()), {
                let mut v = vec![*plural];
                v.extend_from_slice(tail);
                v
            })
        }
        _ => (None, rest.to_vec()),
    };
    let Some((plural, rest)) = rest.split_first() else {
        return Err(ApiError::no_route());
    };
    let info = kinds::lookup(group, version, plural).ok_or_else(ApiError::no_route)?;
    let name = rest.first().map(|s| (*s).to_string());
    let sub = rest.get(1).map(|s| (*s).to_string());
    if let Some(sub) = &sub
        && info.subresource(sub).is_none()
    {
        return Err(ApiError::no_route());
    }
    if sub.as_deref() != Some("proxy") && rest.len() > 2 {
        return Err(ApiError::no_route());
    }
    // The proxy tail is taken from the raw path so empty segments and a trailing slash survive.
    let tail = match &sub {
        Some(s) if s == "proxy" => {
            let marker = format!("/{}/proxy", name.as_deref().unwrap_or(""));
            raw.find(&marker)
                .map(|i| raw[i + marker.len()..].trim_start_matches('/').to_string())
                .unwrap_or_default()
        }
        _ => String::new(),
    };
    Ok(ResPath {
        info,
        namespace,
        name,
        sub,
        tail,
    })
}

/// The RBAC verb of a request.
fn verb_of(call: &Call) -> Result<&'static str, ApiError> {
    let p = &call.path;
    let verb = match (&call.method, p.name.is_some()) {
        (&Method::GET, false) if call.query.flag("watch")? => "watch",
        (&Method::GET, false) => "list",
        (&Method::GET, true) if call.query.flag("watch")? => "watch",
        (&Method::GET, true) => "get",
        (&Method::HEAD, _) => "get",
        (&Method::POST, false) => "create",
        (&Method::POST, true) if p.sub.is_some() => "create",
        (&Method::PUT, true) => "update",
        (&Method::PATCH, true) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        (&Method::OPTIONS, _) if p.sub.as_deref() == Some("proxy") => "get",
        (m, _) => return Err(ApiError::method_not_allowed(m.as_str())),
    };
    let allowed = match &p.sub {
        Some(sub) => p
            .info
            .subresource(sub)
            .is_some_and(|s| s.verbs.contains(&verb)),
        None => p.info.allows(verb),
    };
    if !allowed {
        return Err(ApiError::method_not_allowed(call.method.as_str()));
    }
    Ok(verb)
}

/// Calls `$body` with `$t` bound to the stored type of the resource.
macro_rules! with_type {
    ($res:expr, $t:ident => $body:expr) => {
        match $res {
            Res::Namespaces => {
                type $t = Namespace;
                $body
            }
            Res::Nodes => {
                type $t = Node;
                $body
            }
            Res::Pods => {
                type $t = Pod;
                $body
            }
            Res::Services => {
                type $t = Service;
                $body
            }
            Res::ResourceQuotas => {
                type $t = ResourceQuota;
                $body
            }
            Res::Events | Res::EventsV1 => {
                type $t = Event;
                $body
            }
            Res::Deployments => {
                type $t = Deployment;
                $body
            }
            Res::ReplicaSets => {
                type $t = ReplicaSet;
                $body
            }
            Res::HpaV1 | Res::HpaV2 => {
                type $t = HorizontalPodAutoscaler;
                $body
            }
            Res::SelfSubjectAccessReviews => unreachable!("handled before dispatch"),
        }
    };
}

async fn dispatch(call: Call, verb: &'static str) -> Result<Response<Body>, ApiError> {
    let res = call.path.info.res;
    if res == Res::SelfSubjectAccessReviews {
        return authz::self_subject_access_review(&call);
    }
    match call.path.sub.as_deref() {
        Some("log") => {
            let cluster = Arc::clone(&call.cluster);
            return logs::serve_log(cluster, call.namespace(), call.name(), &call.query).await;
        }
        Some("proxy") => return serve_proxy(call).await,
        Some("scale") => {
            return match res {
                Res::Deployments => scale::handle::<Deployment>(&call, verb),
                Res::ReplicaSets => scale::handle::<ReplicaSet>(&call, verb),
                _ => Err(ApiError::no_route()),
            };
        }
        _ => {}
    }
    with_type!(res, T => match verb {
        "list" => resource::list::<T>(&call),
        "watch" => resource::watch::<T>(&call),
        "get" => resource::get::<T>(&call),
        "create" => resource::create::<T>(&call),
        "update" => resource::update::<T>(&call),
        "patch" => resource::patch::<T>(&call),
        "delete" => resource::delete::<T>(&call),
        "deletecollection" => resource::delete_collection::<T>(&call),
        _ => Err(ApiError::method_not_allowed(call.method.as_str())),
    })
}

async fn serve_proxy(call: Call) -> Result<Response<Body>, ApiError> {
    let (scheme_port, name, port) = proxy::parse_target(call.name());
    let _ = scheme_port;
    let namespace = call.namespace().to_string();
    let target = match call.path.info.res {
        Res::Pods => proxy::ProxyTarget::Pod {
            namespace,
            name: name.to_string(),
            port: port.map(str::to_string),
        },
        Res::Services => proxy::ProxyTarget::Service {
            namespace,
            name: name.to_string(),
            port: port.map(str::to_string),
        },
        _ => return Err(ApiError::no_route()),
    };
    let path = format!("/{}", call.path.tail);
    proxy::serve_proxy(
        Arc::clone(&call.cluster),
        target,
        call.method.clone(),
        &path,
        call.raw_query.as_deref(),
        &call.headers,
        call.body.clone(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str) -> Result<ResPath, ApiError> {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segs.as_slice() {
            ["api", "v1", rest @ ..] => parse_resource_path("", "v1", rest, path),
            ["apis", g, v, rest @ ..] => parse_resource_path(g, v, rest, path),
            _ => Err(ApiError::no_route()),
        }
    }

    #[test]
    fn resource_paths() {
        let p = parse("/api/v1/namespaces/shop/pods/web-1/log").unwrap();
        assert_eq!(p.info.plural, "pods");
        assert_eq!(p.namespace.as_deref(), Some("shop"));
        assert_eq!(p.name.as_deref(), Some("web-1"));
        assert_eq!(p.sub.as_deref(), Some("log"));

        let p = parse("/api/v1/namespaces/shop").unwrap();
        assert_eq!(p.info.plural, "namespaces");
        assert_eq!(p.name.as_deref(), Some("shop"));

        let p = parse("/api/v1/namespaces/shop/status").unwrap();
        assert_eq!(p.info.plural, "namespaces");
        assert_eq!(p.sub.as_deref(), Some("status"));

        let p = parse("/api/v1/pods").unwrap();
        assert!(p.namespace.is_none() && p.name.is_none());

        let p = parse("/api/v1/namespaces/shop/pods/web-1:8080/proxy/metrics/x/").unwrap();
        assert_eq!(p.tail, "metrics/x/");
        assert_eq!(p.name.as_deref(), Some("web-1:8080"));

        let p = parse("/apis/apps/v1/namespaces/shop/deployments/web/scale").unwrap();
        assert_eq!(p.sub.as_deref(), Some("scale"));

        assert!(parse("/apis/apps/v1/namespaces/shop/statefulsets").is_err());
        assert!(parse("/api/v1/namespaces/shop/pods/web-1/exec").is_err());
        assert!(parse("/api/v1/namespaces/shop/pods/a/log/extra").is_err());
    }
}
