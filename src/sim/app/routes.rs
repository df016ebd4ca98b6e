//! The HTTP surface of a profiled app: its health, readiness, metrics and info paths per health
//! style (seeds 000 and 001), and the business routes that carry its traffic, each with its share
//! of requests and the status codes of its requests that do not fail.

use super::profile::{HealthStyle, Kind};

/// Where an app answers its probes and scrapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paths {
    pub live: &'static str,
    pub ready: &'static str,
    pub metrics: &'static str,
    pub info: Option<&'static str>,
}

pub fn paths(style: HealthStyle) -> Paths {
    match style {
        HealthStyle::Plain => Paths {
            live: "/healthz",
            ready: "/readyz",
            metrics: "/metrics",
            info: None,
        },
        HealthStyle::Arxos => Paths {
            live: "/healthz",
            ready: "/readyz",
            metrics: "/metrics",
            info: Some("/info"),
        },
        HealthStyle::Arq => Paths {
            live: "/api/v1/health",
            ready: "/api/v1/health/readiness",
            metrics: "/api/v1/metrics",
            info: None,
        },
    }
}

/// One route of the app, as its metrics label it (`route` is the template).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Route {
    pub method: &'static str,
    pub template: &'static str,
    /// Share of the app's requests.
    pub share: f64,
    /// How the requests that do not fail with a 5xx end (shares sum to 1).
    pub codes: &'static [(u16, f64)],
}

/// How the app's own 5xx split (503 also comes from dependencies going down).
pub const SERVER_ERRORS: [(u16, f64); 2] = [(500, 0.85), (503, 0.15)];

const GET: &[(u16, f64)] = &[(200, 0.975), (404, 0.025)];
const POST: &[(u16, f64)] = &[(201, 0.955), (400, 0.03), (401, 0.015)];
const PAGE: &[(u16, f64)] = &[(200, 0.99), (404, 0.01)];
const ASSET: &[(u16, f64)] = &[(200, 0.7), (304, 0.3)];

const fn r(
    method: &'static str,
    template: &'static str,
    share: f64,
    codes: &'static [(u16, f64)],
) -> Route {
    Route {
        method,
        template,
        share,
        codes,
    }
}

/// NestJS labels routes Express-style (`:id`).
const ARQ_API: &[Route] = &[
    r("GET", "/api/v1/projects", 0.3, GET),
    r("GET", "/api/v1/projects/:id", 0.35, GET),
    r("GET", "/api/v1/search", 0.2, GET),
    r("POST", "/api/v1/auth/login", 0.15, POST),
];
/// FastAPI labels routes with `{param}`.
const ARXOS_API: &[Route] = &[
    r("GET", "/api/v1/buildings", 0.3, GET),
    r("GET", "/api/v1/buildings/{building_id}", 0.4, GET),
    r("POST", "/api/v1/svg/parse", 0.2, POST),
    r("POST", "/api/v1/export", 0.1, POST),
];
const PLAIN_API: &[Route] = &[
    r("GET", "/api/items", 0.4, GET),
    r("GET", "/api/items/{id}", 0.35, GET),
    r("GET", "/api/search", 0.1, GET),
    r("POST", "/api/orders", 0.15, POST),
];
const WEB: &[Route] = &[
    r("GET", "/", 0.25, PAGE),
    r("GET", "/dashboard", 0.2, PAGE),
    r("GET", "/static/{path}", 0.5, ASSET),
    r("GET", "/login", 0.05, PAGE),
];

/// The business routes of an app (empty for workers and datastores, whose work is not HTTP).
pub fn routes(kind: Kind, style: HealthStyle) -> &'static [Route] {
    match (kind, style) {
        (Kind::Api, HealthStyle::Arq) => ARQ_API,
        (Kind::Api, HealthStyle::Arxos) => ARXOS_API,
        (Kind::Api, HealthStyle::Plain) => PLAIN_API,
        (Kind::Web, _) => WEB,
        _ => &[],
    }
}

fn is_param(segment: &str) -> bool {
    segment.starts_with(':') || (segment.starts_with('{') && segment.ends_with('}'))
}

/// Whether `path` is an instance of `template` (a parameter matches one non-empty segment).
pub fn matches(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if is_param(ts) && !ps.is_empty() => {}
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return false,
        }
    }
}

/// A concrete path of `template`, with parameters drawn from `h`.
pub fn concrete(template: &str, h: u64) -> String {
    template
        .split('/')
        .enumerate()
        .map(|(i, s)| {
            if !is_param(s) {
                return s.to_string();
            }
            let h = super::splitmix(h ^ i as u64);
            if s.contains("path") {
                const ASSETS: [&str; 4] = ["app.js", "vendor.js", "app.css", "logo.svg"];
                ASSETS[(h % ASSETS.len() as u64) as usize].to_string()
            } else {
                (1 + h % 5_000).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The route `h` falls on, by share.
pub fn pick_route(routes: &'static [Route], u: f64) -> Option<&'static Route> {
    let mut acc = 0.0;
    for r in routes {
        acc += r.share;
        if u < acc {
            return Some(r);
        }
    }
    routes.last()
}

/// The code a share `u` of successful requests falls on.
pub fn pick_code(codes: &[(u16, f64)], u: f64) -> u16 {
    let mut acc = 0.0;
    for &(code, share) in codes {
        acc += share;
        if u < acc {
            return code;
        }
    }
    codes.last().map_or(200, |c| c.0)
}

/// The reason phrase of a status code.
pub fn reason(code: u16) -> &'static str {
    http::StatusCode::from_u16(code)
        .ok()
        .and_then(|c| c.canonical_reason())
        .unwrap_or("Unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_and_templates_match() {
        for kind in [Kind::Api, Kind::Web, Kind::Worker] {
            for style in [HealthStyle::Plain, HealthStyle::Arxos, HealthStyle::Arq] {
                let rs = routes(kind, style);
                if rs.is_empty() {
                    continue;
                }
                let total: f64 = rs.iter().map(|r| r.share).sum();
                assert!((total - 1.0).abs() < 1e-9, "{kind:?} {style:?}");
                for r in rs {
                    let codes: f64 = r.codes.iter().map(|c| c.1).sum();
                    assert!((codes - 1.0).abs() < 1e-9);
                    let path = concrete(r.template, 99);
                    assert!(matches(r.template, &path), "{path} vs {}", r.template);
                }
            }
        }
        assert!(matches("/api/v1/projects/:id", "/api/v1/projects/7"));
        assert!(!matches("/api/v1/projects/:id", "/api/v1/projects/"));
        assert!(!matches("/api/v1/projects/:id", "/api/v1/projects/7/x"));
        assert!(!matches("/api/v1/projects", "/api/v1/projects/7"));
        assert_eq!(pick_code(GET, 0.99), 404);
        assert_eq!(pick_route(ARQ_API, 0.999).unwrap().method, "POST");
        assert_eq!(reason(503), "Service Unavailable");
    }
}
