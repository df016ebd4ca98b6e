//! What an api, web or worker container answers over HTTP, per health style: liveness,
//! readiness with its dependency checks, `/info`, the metrics page, the business routes, and
//! the 404/405 bodies of its framework (Go's net/http, FastAPI, NestJS).

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::expo::Format;
use super::maths::{Latency, between, python_timedelta, secs, unit};
use super::metrics;
use super::model::{Dep, DepRole, Instance, salt};
use super::profile::{HealthStyle, Kind};
use super::routes::{self, SERVER_ERRORS, paths, pick_code};
use super::{AppRequest, AppResponse, Unreachable, splitmix, stable_hash};

/// `2024-01-15T10:30:00Z`, as the Arxos seed shows it.
pub fn iso_seconds(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `2025-11-07T12:00:00.000Z`, JavaScript's `toISOString()`.
pub fn iso_millis(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The result of one dependency check of the readiness endpoint.
struct Check<'d> {
    dep: &'d Dep,
    /// Response time in milliseconds, or the client library's error.
    result: Result<f64, String>,
}

/// The key a check is reported under: `database`, `redis`, or the service name.
fn check_key(dep: &Dep) -> &str {
    match dep.role {
        DepRole::Database => "database",
        DepRole::Cache => "redis",
        DepRole::Other => &dep.name,
    }
}

/// The error the app's client library reports for a dependency that is down or timed out.
fn check_error(style: HealthStyle, dep: &Dep, timed_out: bool) -> String {
    let (name, port) = (&dep.name, dep.role.port());
    match (style, dep.role, timed_out) {
        (HealthStyle::Arq, DepRole::Database, true) => {
            "timeout exceeded when trying to connect".into()
        }
        (HealthStyle::Arq, DepRole::Cache, true) => "Command timed out".into(),
        (HealthStyle::Arq, _, _) => format!("connect ECONNREFUSED {name}:{port}"),
        (HealthStyle::Arxos, _, true) => "TimeoutError: connection attempt timed out".into(),
        (HealthStyle::Arxos, DepRole::Cache, false) => {
            format!("Error 111 connecting to {name}:{port}. Connection refused.")
        }
        (HealthStyle::Arxos, _, false) => {
            format!("[Errno 111] Connect call failed ('{name}', {port})")
        }
        (HealthStyle::Plain, _, true) => format!("{name}: context deadline exceeded"),
        (HealthStyle::Plain, _, false) => {
            format!("{name}: dial tcp {name}:{port}: connect: connection refused")
        }
    }
}

/// Runs the dependency checks at `t`; a flapping slot times out the first check.
fn checks<'d>(inst: &'d Instance<'_>, t: f64, call: u64) -> Vec<Check<'d>> {
    let flap = inst.flap_failing(t);
    inst.deps
        .iter()
        .enumerate()
        .map(|(i, dep)| {
            let result = if dep.down_at(t) {
                Err(check_error(inst.profile.health, dep, false))
            } else if flap && i == 0 {
                Err(check_error(inst.profile.health, dep, true))
            } else {
                let ms = between(splitmix(call ^ i as u64), 0.8, 4.5);
                Ok(ms + dep.extra_latency(t) * 1000.0)
            };
            Check { dep, result }
        })
        .collect()
}

fn level(percent: f64) -> &'static str {
    if percent < 80.0 {
        "ok"
    } else if percent < 90.0 {
        "warning"
    } else {
        "critical"
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Arxos' `uptime` and `system` sections at `t`.
fn arxos_system(inst: &Instance<'_>, t: f64) -> (Value, Value, bool) {
    let up = (t - inst.start).max(0.0) as i64;
    let memory = round1(100.0 * inst.memory(t) / inst.tuned.limit);
    let cpu = round1((inst.cpu_millicores(t) / 10.0).min(100.0));
    let disk = round1(
        (between(inst.pod.hash(salt::MEMORY) >> 3, 20.0, 55.0) + up as f64 / 7_200.0).min(97.0),
    );
    let degraded = [memory, cpu, disk].iter().any(|&p| p >= 80.0);
    let uptime = json!({"uptime_seconds": up, "uptime_formatted": python_timedelta(up)});
    let system = json!({
        "memory": {"percent": memory, "status": level(memory)},
        "cpu": {"percent": cpu, "status": level(cpu)},
        "disk": {"percent": disk, "status": level(disk)},
    });
    (uptime, system, degraded)
}

/// A check as Arxos reports it: `{status, response_time_ms}`.
fn arxos_check(c: &Check<'_>) -> Value {
    match &c.result {
        Ok(ms) => json!({
            "status": if *ms > 200.0 { "slow" } else { "ok" },
            "response_time_ms": (ms * 100.0).round() / 100.0,
        }),
        Err(e) => json!({"status": "error", "error": e, "response_time_ms": null}),
    }
}

/// The framework's answer to a path it has no handler for.
fn not_found(style: HealthStyle, method: &str, path: &str) -> AppResponse {
    match style {
        HealthStyle::Plain => AppResponse::text(404, "404 page not found\n"),
        HealthStyle::Arxos => AppResponse::json(404, &json!({"detail": "Not Found"})),
        HealthStyle::Arq => AppResponse::json(
            404,
            &json!({"message": format!("Cannot {method} {path}"), "error": "Not Found", "statusCode": 404}),
        ),
    }
}

/// The framework's answer to a method the path does not take.
fn wrong_method(style: HealthStyle, method: &str, path: &str) -> AppResponse {
    match style {
        HealthStyle::Plain => AppResponse::text(405, "Method Not Allowed\n"),
        HealthStyle::Arxos => AppResponse::json(405, &json!({"detail": "Method Not Allowed"})),
        HealthStyle::Arq => not_found(style, method, path),
    }
}

fn liveness(inst: &Instance<'_>, t: f64, now: Timestamp) -> AppResponse {
    let style = inst.profile.health;
    if inst.starting(t) {
        return match style {
            HealthStyle::Arq => AppResponse::json(
                503,
                &json!({"status": "error", "timestamp": iso_millis(now)}),
            ),
            _ => AppResponse::text(503, "starting\n"),
        };
    }
    match style {
        HealthStyle::Plain => AppResponse::text(200, "ok\n"),
        HealthStyle::Arq => {
            AppResponse::json(200, &json!({"status": "ok", "timestamp": iso_millis(now)}))
        }
        HealthStyle::Arxos => {
            let (uptime, system, degraded) = arxos_system(inst, t);
            let body = json!({
                "status": if degraded { "degraded" } else { "healthy" },
                "timestamp": iso_seconds(now),
                "uptime": uptime,
                "system": system,
            });
            AppResponse::json(200, &body)
        }
    }
}

/// The readiness answer and how long its checks took.
fn readiness(inst: &Instance<'_>, t: f64, now: Timestamp, call: u64) -> (AppResponse, f64) {
    let style = inst.profile.health;
    let checks = checks(inst, t, call);
    let took: f64 = checks
        .iter()
        .map(|c| c.result.as_ref().map_or(0.0, |ms| ms / 1000.0))
        .sum();
    let starting = inst.starting(t);
    let failed = checks.iter().find_map(|c| c.result.as_ref().err());
    // Also false in a flapping slot of an app with no dependency to blame.
    let ready = inst.ready(t);
    let code = if ready { 200 } else { 503 };
    let resp = match style {
        HealthStyle::Plain => {
            let body = if ready {
                "ok\n".to_string()
            } else if starting {
                "not ready: starting\n".to_string()
            } else if let Some(e) = failed {
                format!("not ready: {e}\n")
            } else {
                "not ready: health check timed out\n".to_string()
            };
            AppResponse::text(code, body)
        }
        HealthStyle::Arq => {
            let mut map = serde_json::Map::new();
            for c in &checks {
                let v = match &c.result {
                    Ok(_) => Value::from("healthy"),
                    Err(e) => Value::from(e.as_str()),
                };
                map.insert(check_key(c.dep).to_string(), v);
            }
            let body = json!({
                "status": if ready { "ok" } else { "error" },
                "checks": map,
                "timestamp": iso_millis(now),
            });
            AppResponse::json(code, &body)
        }
        HealthStyle::Arxos => {
            let (uptime, system, degraded) = arxos_system(inst, t);
            let slow = checks
                .iter()
                .any(|c| c.result.as_ref().is_ok_and(|ms| *ms > 200.0));
            let status = if !ready {
                "unhealthy"
            } else if degraded || slow {
                "degraded"
            } else {
                "healthy"
            };
            let mut body = json!({
                "status": status,
                "timestamp": iso_seconds(now),
                "uptime": uptime,
                "system": system,
            });
            if let Some(obj) = body.as_object_mut() {
                for c in &checks {
                    obj.insert(check_key(c.dep).to_string(), arxos_check(c));
                }
            }
            AppResponse::json(code, &body)
        }
    };
    (resp, took)
}

fn info(inst: &Instance<'_>, t: f64) -> AppResponse {
    let labels = inst.pod.labels;
    let environment = labels
        .get("environment")
        .or_else(|| labels.get("env"))
        .map_or(inst.pod.namespace, |s| s.as_str());
    let up = (t - inst.start).max(0.0) as i64;
    let body = json!({
        "service": inst.app,
        "version": inst.pod.tag(),
        "environment": environment,
        "hostname": inst.pod.name,
        "python_version": "3.11.9",
        "started_at": iso_seconds(inst.at(inst.start)),
        "uptime": {"uptime_seconds": up, "uptime_formatted": python_timedelta(up)},
        "dependencies": inst.profile.depends_on,
    });
    AppResponse::json(200, &body)
}

/// A request to one of the app's business routes: its outcome is drawn per request from the
/// error fraction at `t`, its latency from the latency distribution.
fn business(
    inst: &Instance<'_>,
    route: &routes::Route,
    path: &str,
    t: f64,
    call: u64,
) -> (AppResponse, f64) {
    let style = inst.profile.health;
    let u = unit(splitmix(call ^ 1));
    // Without the injected latency: every answer gets that added below.
    let latency = Latency::new(inst.tuned.p50, inst.tuned.p95, 0.0)
        .sample(unit(splitmix(call ^ 2)), unit(splitmix(call ^ 3)))
        .min(30.0);
    let dep_down = inst.deps_down(t).next();
    let code = if dep_down.is_some() || inst.starting(t) {
        503
    } else if u < inst.error_fraction(t) {
        pick_code(&SERVER_ERRORS, u / inst.error_fraction(t).max(1e-12))
    } else {
        pick_code(route.codes, unit(splitmix(call ^ 4)))
    };
    let resp = if code >= 500 {
        match style {
            HealthStyle::Plain => {
                AppResponse::text(code, format!("{}\n", routes::reason(code).to_lowercase()))
            }
            HealthStyle::Arxos => AppResponse::json(code, &json!({"detail": routes::reason(code)})),
            HealthStyle::Arq => AppResponse::json(
                code,
                &json!({"statusCode": code, "message": routes::reason(code)}),
            ),
        }
    } else if inst.profile.kind == Kind::Web {
        let page = format!(
            "<!doctype html><html><head><title>{}</title></head><body><div id=\"root\"></div><script src=\"/static/app.js\"></script></body></html>\n",
            inst.app
        );
        AppResponse {
            content_type: "text/html; charset=utf-8".into(),
            ..AppResponse::text(code, page)
        }
    } else {
        let id = path.rsplit('/').next().unwrap_or("").parse::<u64>().ok();
        let body = match (code, id) {
            (200, Some(id)) => json!({"id": id, "name": format!("{}-{id}", inst.app)}),
            (200 | 201, None) => json!({"items": [{"id": call % 1000}], "total": 1 + call % 50}),
            _ => json!({"statusCode": code, "message": routes::reason(code)}),
        };
        AppResponse::json(code, &body)
    };
    (resp, latency)
}

/// Answers one HTTP request to an api, web or worker container.
pub fn http(
    inst: &Instance<'_>,
    req: &AppRequest<'_>,
    now: Timestamp,
) -> Result<AppResponse, Unreachable> {
    let t = secs(now);
    if !inst.alive(t) || t < inst.listen_at {
        return Err(Unreachable::Refused);
    }
    if inst.hung(t) {
        return Err(Unreachable::Timeout);
    }
    let style = inst.profile.health;
    let p = paths(style);
    let method = req.method.as_str();
    let read = matches!(*req.method, http::Method::GET | http::Method::HEAD);
    let call = stable_hash(
        inst.pod.hash(salt::CALL),
        &[&now.as_nanosecond().to_le_bytes(), req.path.as_bytes()],
    );
    let mut took = between(call, 0.001, 0.006);
    let path = req.path;
    let health = [Some(p.live), Some(p.ready), Some(p.metrics), p.info];
    let resp = if health.contains(&Some(path)) && !read {
        wrong_method(style, method, path)
    } else if path == p.metrics {
        let format = Format::negotiate(req.headers);
        AppResponse {
            content_type: format.content_type().into(),
            ..AppResponse::text(200, metrics::service(inst, t, format))
        }
    } else if path == p.live {
        liveness(inst, t, now)
    } else if path == p.ready {
        let (resp, checks) = readiness(inst, t, now, call);
        took += checks;
        resp
    } else if Some(path) == p.info {
        info(inst, t)
    } else {
        let rs = routes::routes(inst.profile.kind, style);
        let same_path: Vec<_> = rs
            .iter()
            .filter(|r| routes::matches(r.template, path))
            .collect();
        match same_path
            .iter()
            .find(|r| r.method == method || (r.method == "GET" && method == "HEAD"))
        {
            Some(route) => {
                let (resp, latency) = business(inst, route, path, t, call);
                took = latency;
                resp
            }
            None if !same_path.is_empty() => wrong_method(style, method, path),
            None => not_found(style, method, path),
        }
    };
    let latency = took + inst.extra_latency(t);
    let mut resp = AppResponse {
        latency: SignedDuration::try_from_secs_f64(latency).unwrap_or(SignedDuration::MAX),
        ..resp
    };
    if *req.method == http::Method::HEAD {
        resp.body = bytes::Bytes::new();
    }
    Ok(resp)
}

#[cfg(test)]
mod tests;
