//! The minimal app every simulated pod runs unless the fleet says otherwise: health endpoints, a
//! few Prometheus metrics, an access log, and faults chosen by the image tag so tests can drive
//! them through the real API (`kubectl set image deploy/web app=web:1-crash`).
//!
//! Tags: `crash` exits 1 about 5 s after start, after a traceback; `oom` is OOMKilled (137) about
//! 12 s after start; `unready` answers /readyz 503 forever; `slowstart` answers /healthz and
//! /readyz 503 for its first 20 s; `hang` stops answering /healthz after 30 s and ignores SIGTERM.

use jiff::{SignedDuration, Timestamp};

use super::{App, AppRequest, AppResponse, Exit, LogLine, PodView, Unreachable, pick};

#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultApp;

/// Salts keep the draws for different purposes independent.
const SALT_EXIT: u64 = 1;
const SALT_LINE: u64 = 2;
const SALT_CPU: u64 = 3;

const SLOWSTART: SignedDuration = SignedDuration::from_secs(20);
const HANG_AFTER: SignedDuration = SignedDuration::from_secs(30);

fn has(pod: &PodView<'_>, fault: &str) -> bool {
    pod.tag().contains(fault)
}

impl DefaultApp {
    fn starting(pod: &PodView<'_>, now: Timestamp) -> bool {
        has(pod, "slowstart") && pod.uptime(now) < SLOWSTART
    }

    /// The instance's own exit, fixed at start: what `next_exit` answers and what the crash
    /// output in the logs is timed by.
    fn own_exit(pod: &PodView<'_>) -> Option<(Timestamp, Exit)> {
        let h = pod.hash(SALT_EXIT);
        let (after_ms, exit) = if has(pod, "crash") {
            (pick(h, 4_000, 6_000), Exit::code(1))
        } else if has(pod, "oom") {
            (pick(h, 10_000, 14_000), Exit::oom_killed())
        } else {
            return None;
        };
        let at = pod
            .started_at
            .saturating_add(SignedDuration::from_millis(after_ms))
            .ok()?;
        Some((at, exit))
    }

    /// Requests served so far: one access-log line a second.
    fn requests(pod: &PodView<'_>, now: Timestamp) -> i64 {
        pod.uptime(now).as_secs().max(0)
    }

    fn metrics(pod: &PodView<'_>, now: Timestamp) -> String {
        let served = Self::requests(pod, now);
        let not_found = served / 40;
        let start = pod.started_at.as_millisecond() as f64 / 1000.0;
        let rss = 24_000_000 + (pick(pod.hash(SALT_CPU), 0, 16_000_000)) + served * 1_000;
        format!(
            "# HELP http_requests_total Total number of HTTP requests served.\n\
             # TYPE http_requests_total counter\n\
             http_requests_total{{code=\"200\",method=\"get\"}} {ok}\n\
             http_requests_total{{code=\"404\",method=\"get\"}} {not_found}\n\
             # HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n\
             # TYPE process_start_time_seconds gauge\n\
             process_start_time_seconds {start:.3}\n\
             # HELP process_resident_memory_bytes Resident memory size in bytes.\n\
             # TYPE process_resident_memory_bytes gauge\n\
             process_resident_memory_bytes {rss}\n",
            ok = served - not_found,
        )
    }

    fn access_line(pod: &PodView<'_>, k: i64, at: Timestamp) -> String {
        const PATHS: &[&str] = &[
            "/",
            "/api/items",
            "/api/items/42",
            "/api/orders",
            "/static/app.js",
        ];
        let h = pod.hash(SALT_LINE ^ (k as u64).wrapping_mul(0x9e37));
        let (status, path) = if k % 40 == 39 {
            (404, "/favicon.ico")
        } else {
            (200, PATHS[(h % PATHS.len() as u64) as usize])
        };
        format!(
            "10.244.0.1 - - [{}] \"GET {path} HTTP/1.1\" {status} {} \"-\" \"Mozilla/5.0\"",
            at.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            pick(h >> 16, 120, 4_000),
        )
    }

    fn push(
        out: &mut Vec<LogLine>,
        from: Timestamp,
        to: Timestamp,
        at: Timestamp,
        text: impl Into<String>,
    ) {
        if from <= at && at < to {
            out.push(LogLine {
                at,
                text: text.into(),
            });
        }
    }

    fn start_lines(pod: &PodView<'_>, from: Timestamp, to: Timestamp, out: &mut Vec<LogLine>) {
        let ms = |n: i64| {
            pod.started_at
                .saturating_add(SignedDuration::from_millis(n))
                .unwrap_or(pod.started_at)
        };
        let h = pod.hash(SALT_LINE);
        Self::push(
            out,
            from,
            to,
            ms(pick(h, 5, 120)),
            format!("starting {} version {}", pod.container, pod.tag()),
        );
        Self::push(
            out,
            from,
            to,
            ms(pick(h >> 8, 150, 300)),
            "listening on :8080",
        );
        if has(pod, "slowstart") {
            Self::push(
                out,
                from,
                to,
                ms(320),
                "warming caches, not serving health checks yet",
            );
            Self::push(
                out,
                from,
                to,
                ms(SLOWSTART.as_millis() as i64),
                "caches warm, ready",
            );
        }
    }

    fn end_lines(pod: &PodView<'_>, from: Timestamp, to: Timestamp, out: &mut Vec<LogLine>) {
        let Some((at, exit)) = pod.ended else { return };
        let own = Self::own_exit(pod).is_some_and(|(t, e)| t == at && e == exit);
        let lines: &[&str] = if own && exit.code == 1 {
            &[
                "ERROR unhandled exception, exiting",
                "Traceback (most recent call last):",
                "  File \"/app/server.py\", line 88, in <module>",
                "    main()",
                "  File \"/app/server.py\", line 81, in main",
                "    cache = connect_cache(settings.CACHE_URL)",
                "  File \"/app/cache.py\", line 23, in connect_cache",
                "    raise ConnectionError(f\"cannot reach cache at {url}\")",
                "ConnectionError: cannot reach cache at redis://cache:6379/0",
            ]
        } else if own || exit == Exit::sigkilled() {
            // Killed by the kernel or by SIGKILL: the process gets no chance to say anything.
            &[]
        } else {
            &[
                "received SIGTERM, shutting down gracefully",
                "server stopped",
            ]
        };
        for line in lines {
            Self::push(out, from, to, at, *line);
        }
    }
}

impl App for DefaultApp {
    fn http(
        &self,
        pod: &PodView<'_>,
        req: &AppRequest<'_>,
        now: Timestamp,
    ) -> Result<AppResponse, Unreachable> {
        let latency = SignedDuration::from_millis(pick(pod.hash(now.as_second() as u64), 1, 15));
        let healthy = !Self::starting(pod, now);
        let resp = match req.path {
            "/healthz" | "/livez" | "/health" => {
                if has(pod, "hang") && pod.uptime(now) >= HANG_AFTER {
                    return Err(Unreachable::Timeout);
                }
                if healthy {
                    AppResponse::text(200, "ok")
                } else {
                    AppResponse::text(503, "starting")
                }
            }
            "/readyz" | "/ready" => {
                if healthy && !has(pod, "unready") {
                    AppResponse::text(200, "ok")
                } else {
                    AppResponse::text(503, "not ready")
                }
            }
            "/metrics" => AppResponse {
                content_type: "text/plain; version=0.0.4; charset=utf-8".into(),
                ..AppResponse::text(200, Self::metrics(pod, now))
            },
            "/" => AppResponse::text(
                200,
                format!("{} ({}) on {}\n", pod.name, pod.image, pod.namespace),
            ),
            _ => AppResponse::text(404, "404 page not found\n"),
        };
        Ok(AppResponse { latency, ..resp })
    }

    fn next_exit(&self, pod: &PodView<'_>, _now: Timestamp) -> Option<(Timestamp, Exit)> {
        Self::own_exit(pod)
    }

    fn on_sigterm(&self, pod: &PodView<'_>, now: Timestamp) -> Exit {
        if has(pod, "hang") && pod.uptime(now) >= HANG_AFTER {
            Exit::sigkilled()
        } else {
            Exit::code(0)
        }
    }

    fn log_lines(&self, pod: &PodView<'_>, from: Timestamp, to: Timestamp, out: &mut Vec<LogLine>) {
        // Nothing is written after the end (a crash's output is stamped at the end itself).
        let end = match pod.ended {
            Some((at, _)) => to.min(at),
            None => to,
        };
        let begin = from.max(pod.started_at);
        if begin >= to {
            return;
        }
        let first = out.len();
        Self::start_lines(pod, begin, end, out);
        // Access line k (k >= 1) is written in the k-th second of uptime, at a fixed jitter.
        let offset = begin.duration_since(pod.started_at).as_secs().max(1);
        for k in offset.saturating_sub(1).max(1).. {
            let jitter = pick(pod.hash(SALT_LINE ^ k as u64), 0, 900_000_000);
            let Ok(at) = pod
                .started_at
                .saturating_add(SignedDuration::from_secs(k) + SignedDuration::from_nanos(jitter))
            else {
                break;
            };
            if at >= end {
                break;
            }
            if has(pod, "oom")
                && let Some((oom_at, _)) = Self::own_exit(pod)
                && oom_at.duration_since(at) < SignedDuration::from_secs(4)
            {
                let left = oom_at.duration_since(at).as_millis();
                let used = 100 - left / 400;
                Self::push(
                    out,
                    begin,
                    end,
                    at,
                    format!("WARN memory usage at {used}% of limit"),
                );
                continue;
            }
            Self::push(out, begin, end, at, Self::access_line(pod, k, at));
        }
        if let Some((at, _)) = pod.ended
            && begin <= at
        {
            Self::end_lines(pod, begin, to, out);
        }
        out[first..].sort_by_key(|l| l.at);
    }

    fn cpu_millicores(&self, pod: &PodView<'_>, now: Timestamp) -> f64 {
        let base = pick(pod.hash(SALT_CPU), 15, 60) as f64;
        let wave =
            (now.as_second() as f64 / 90.0 + (pod.hash(SALT_CPU) % 628) as f64 / 100.0).sin();
        base * (1.0 + 0.2 * wave)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn view<'a>(
        image: &'a str,
        empty: &'a BTreeMap<String, String>,
        start: Timestamp,
    ) -> PodView<'a> {
        PodView {
            namespace: "shop",
            name: "web-1",
            uid: "u-1",
            labels: empty,
            annotations: empty,
            container: "app",
            image,
            started_at: start,
            restart_count: 0,
            ended: None,
            seed: 7,
        }
    }

    fn get(app: &DefaultApp, pod: &PodView<'_>, path: &str, now: Timestamp) -> u16 {
        let headers = http::HeaderMap::new();
        let req = AppRequest {
            method: &http::Method::GET,
            path,
            query: None,
            headers: &headers,
            body: b"",
            port: 8080,
        };
        app.http(pod, &req, now).map(|r| r.status).unwrap_or(0)
    }

    #[test]
    fn faults_follow_the_tag() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let secs = |s| t0 + SignedDuration::from_secs(s);
        let empty = BTreeMap::new();
        let app = DefaultApp;
        let ok = view("web:1.0", &empty, t0);
        assert_eq!(get(&app, &ok, "/healthz", secs(1)), 200);
        assert_eq!(get(&app, &ok, "/nope", secs(1)), 404);
        assert!(app.next_exit(&ok, t0).is_none());
        let slow = view("web:1.0-slowstart", &empty, t0);
        assert_eq!(get(&app, &slow, "/healthz", secs(19)), 503);
        assert_eq!(get(&app, &slow, "/healthz", secs(20)), 200);
        assert_eq!(
            get(&app, &view("web:unready", &empty, t0), "/readyz", secs(600)),
            503
        );
        let (at, exit) = app.next_exit(&view("web:crash", &empty, t0), t0).unwrap();
        assert_eq!(exit, Exit::code(1));
        assert!((4..6).contains(&at.duration_since(t0).as_secs()));
        let (_, exit) = app.next_exit(&view("web:oom", &empty, t0), t0).unwrap();
        assert_eq!(exit.reason.as_str(), "OOMKilled");
    }

    #[test]
    fn logs_are_computed_per_window_and_end_with_the_crash() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let empty = BTreeMap::new();
        let app = DefaultApp;
        let pod = view("web:1", &empty, t0);
        let mut all = Vec::new();
        app.log_lines(&pod, t0, t0 + SignedDuration::from_secs(60), &mut all);
        assert_eq!(all.len(), 2 + 59, "two start-up lines, then one a second");
        // Any split of the window gives the same lines.
        let mut parts = Vec::new();
        let mid = t0 + SignedDuration::from_millis(30_500);
        app.log_lines(&pod, t0, mid, &mut parts);
        app.log_lines(&pod, mid, t0 + SignedDuration::from_secs(60), &mut parts);
        assert_eq!(all, parts);
        assert!(all.windows(2).all(|w| w[0].at <= w[1].at));

        let mut crash = view("web:crash", &empty, t0);
        let end = app.next_exit(&crash, t0).unwrap();
        crash.ended = Some(end);
        let mut lines = Vec::new();
        app.log_lines(
            &crash,
            t0,
            end.0 + SignedDuration::from_nanos(1),
            &mut lines,
        );
        assert!(lines.last().unwrap().text.starts_with("ConnectionError"));
        assert!(lines.iter().all(|l| l.at <= end.0));
    }
}
