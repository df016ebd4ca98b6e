//! PostgreSQL and Redis pods. The main container speaks only its wire protocol: it accepts TCP
//! once started unless the World has the datastore down (a `DependencyDown` fault on the pod's
//! `app` label), answers the `pg_isready` / `redis-cli ping` exec probes the same way, and gives
//! no HTTP answer. The `exporter` sidecar serves `/metrics` (postgres-exporter on 9187,
//! redis_exporter on 9121) with `pg_up` / `redis_up` following the same fault.

use jiff::{SignedDuration, Timestamp};

use super::expo::Format;
use super::exporter;
use super::logs::slots;
use super::maths::{plus, secs, unit};
use super::model::{Instance, salt};
use super::profile::Kind;
use super::{AppRequest, AppResponse, ExecResult, LogLine, Unreachable, splitmix};

/// How long an exporter takes to listen after its start.
const EXPORTER_BOOT: f64 = 0.3;

/// Whether the datastore accepts a connection at `t`.
pub fn accepts(inst: &Instance<'_>, t: f64) -> bool {
    inst.alive(t) && !inst.starting(t) && !inst.hung(t) && !inst.self_down(t)
}

/// `pg_isready` and `redis-cli ping` as their real binaries answer; other commands succeed.
pub fn exec(inst: &Instance<'_>, command: &[String], now: Timestamp) -> ExecResult {
    let up = accepts(inst, secs(now));
    let has = |word: &str| command.iter().any(|c| c.contains(word));
    let (code, output) = if has("pg_isready") {
        if up {
            (
                0,
                "/var/run/postgresql:5432 - accepting connections\n".to_string(),
            )
        } else if inst.alive(secs(now)) && inst.starting(secs(now)) {
            (
                1,
                "/var/run/postgresql:5432 - rejecting connections\n".to_string(),
            )
        } else {
            (2, "/var/run/postgresql:5432 - no response\n".to_string())
        }
    } else if has("redis-cli") {
        if up {
            (0, "PONG\n".to_string())
        } else {
            (
                1,
                "Could not connect to Redis at 127.0.0.1:6379: Connection refused\n".to_string(),
            )
        }
    } else {
        (0, String::new())
    };
    ExecResult { code, output }
}

/// The exporter's HTTP answers: its metrics page and landing page.
pub fn exporter_http(
    inst: &Instance<'_>,
    req: &AppRequest<'_>,
    now: Timestamp,
) -> Result<AppResponse, Unreachable> {
    let t = secs(now);
    if !inst.alive(t) || t < inst.start + EXPORTER_BOOT {
        return Err(Unreachable::Refused);
    }
    let resp = match req.path {
        "/metrics" => {
            let format = Format::negotiate(req.headers);
            AppResponse {
                content_type: format.content_type().into(),
                ..AppResponse::text(200, exporter::page(inst, t, format))
            }
        }
        "/" => {
            let name = exporter_name(inst.profile.kind);
            AppResponse {
                content_type: "text/html; charset=utf-8".into(),
                ..AppResponse::text(
                    200,
                    format!(
                        "<html><head><title>{name}</title></head><body><h1>{name}</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n"
                    ),
                )
            }
        }
        _ => AppResponse::text(404, "404 page not found\n"),
    };
    // A scrape of a datastore that is down waits for the connection attempt to fail.
    let wait = if inst.self_down(t) { 0.25 } else { 0.004 };
    Ok(AppResponse {
        latency: SignedDuration::from_secs_f64(wait),
        ..resp
    })
}

fn exporter_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Redis => "Redis Exporter",
        _ => "Postgres Exporter",
    }
}

/// CPU of the datastore process at `t`: background work plus its clients' queries.
pub fn main_cpu(inst: &Instance<'_>, t: f64) -> f64 {
    if !inst.alive(t) {
        0.0
    } else if inst.starting(t) {
        150.0
    } else if !accepts(inst, t) {
        2.0
    } else {
        8.0 + inst.tuned.rps * inst.level(t) * 0.2
    }
}

fn push(out: &mut Vec<LogLine>, from: Timestamp, to: Timestamp, at: Timestamp, text: String) {
    if from <= at && at < to {
        out.push(LogLine { at, text });
    }
}

/// PostgreSQL's and Redis' own log prefixes.
fn prefixed(kind: Kind, at: Timestamp, pid: u32, level: &str, msg: &str) -> String {
    match kind {
        Kind::Redis => format!("1:M {} {level} {msg}", at.strftime("%d %b %Y %H:%M:%S%.3f")),
        _ => format!(
            "{} UTC [{pid}] {level}:  {msg}",
            at.strftime("%Y-%m-%d %H:%M:%S%.3f")
        ),
    }
}

/// The datastore's own log: start-up, periodic background work, and the down windows.
pub fn main_lines(inst: &Instance<'_>, from: Timestamp, to: Timestamp, out: &mut Vec<LogLine>) {
    let kind = inst.profile.kind;
    let end = inst
        .pod
        .ended
        .map_or(to, |(at, _)| to.min(at))
        .min(inst.at(inst.exit_at()));
    let first = out.len();
    let start = inst.pod.started_at;
    let boot: &[(f64, u32, &str, &str)] = match kind {
        Kind::Redis => &[
            (0.0, 1, "#", "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"),
            (0.05, 1, "*", "Running mode=standalone, port=6379."),
            (0.5, 1, "*", "Server initialized"),
            (1.0, 1, "*", "Ready to accept connections tcp"),
        ],
        _ => &[
            (
                0.0,
                1,
                "LOG",
                "starting PostgreSQL 16.4 on x86_64-pc-linux-musl, compiled by gcc (Alpine 13.2.1_git20240309) 13.2.1 20240309, 64-bit",
            ),
            (
                0.05,
                1,
                "LOG",
                "listening on IPv4 address \"0.0.0.0\", port 5432",
            ),
            (
                0.3,
                27,
                "LOG",
                "database system was shut down at 2025-12-31 23:58:01 UTC",
            ),
            (
                1.0,
                1,
                "LOG",
                "database system is ready to accept connections",
            ),
        ],
    };
    let span = inst.ready_at - inst.start;
    for &(f, pid, level, msg) in boot {
        let at = plus(start, span * f);
        push(out, from, end, at, prefixed(kind, at, pid, level, msg));
    }
    for w in &inst.down {
        let (down_at, up_at) = (inst.at(w.from), inst.at(w.until));
        let (lvl, msg, back) = match kind {
            Kind::Redis => (
                "#",
                "Error accepting a client connection: Too many open files",
                "Ready to accept connections tcp",
            ),
            _ => (
                "PANIC",
                "could not write to file \"pg_wal/xlogtemp.31\": No space left on device",
                "database system is ready to accept connections",
            ),
        };
        if w.from >= inst.ready_at {
            push(
                out,
                from,
                end,
                down_at,
                prefixed(kind, down_at, 1, lvl, msg),
            );
        }
        if w.until > inst.ready_at {
            let level = if kind == Kind::Redis { "*" } else { "LOG" };
            push(out, from, end, up_at, prefixed(kind, up_at, 1, level, back));
        }
    }
    let base = inst.pod.hash(salt::LINE);
    let ready = inst.at(inst.ready_at);
    slots(
        start,
        inst.tuned.log_rate,
        from.max(ready),
        end,
        |k| splitmix(base ^ k),
        |k, at| {
            let t = secs(at);
            let down = inst.self_down(t);
            let h = splitmix(base ^ k.wrapping_mul(0x9e37_79b9));
            let (pid, level, msg) = match (kind, down) {
                (Kind::Redis, true) => (
                    1,
                    "#",
                    "Error accepting a client connection: Too many open files".to_string(),
                ),
                (Kind::Redis, false) if k % 3 == 0 => {
                    (1, "*", "100 changes in 300 seconds. Saving...".to_string())
                }
                (Kind::Redis, false) => (
                    1,
                    "*",
                    "Background saving terminated with success".to_string(),
                ),
                (_, true) => (
                    1,
                    "FATAL",
                    "the database system is not accepting connections".to_string(),
                ),
                (_, false) if k % 2 == 0 => (26, "LOG", "checkpoint starting: time".to_string()),
                (_, false) => (
                    26,
                    "LOG",
                    format!(
                        "checkpoint complete: wrote {} buffers ({:.1}%); 0 WAL file(s) added, 0 removed, 0 recycled; write={:.3} s, sync=0.004 s, total={:.3} s",
                        10 + h % 400,
                        unit(h) * 2.0,
                        unit(h >> 3) * 30.0,
                        unit(h >> 3) * 30.0 + 0.01
                    ),
                ),
            };
            push(out, from, end, at, prefixed(kind, at, pid, level, &msg));
        },
    );
    out[first..].sort_by_key(|l| l.at);
}

/// The exporter's log (logfmt): start-up, then one error per scrape while the datastore is down.
pub fn exporter_lines(inst: &Instance<'_>, from: Timestamp, to: Timestamp, out: &mut Vec<LogLine>) {
    let kind = inst.profile.kind;
    let end = inst.pod.ended.map_or(to, |(at, _)| to.min(at));
    let first = out.len();
    let line = |at: Timestamp, level: &str, msg: &str, extra: &str| match kind {
        Kind::Redis => format!(
            "time=\"{}\" level={level} msg=\"{msg}\"{extra}",
            at.strftime("%Y-%m-%dT%H:%M:%SZ")
        ),
        _ => format!(
            "ts={} caller=main.go:86 level={level} msg=\"{msg}\"{extra}",
            at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        ),
    };
    let start = inst.pod.started_at;
    let (listening, extra) = match kind {
        Kind::Redis => ("Providing metrics at :9121/metrics", ""),
        _ => ("Listening on address", " address=:9187"),
    };
    let at = plus(start, 0.1);
    push(out, from, end, at, line(at, "info", listening, extra));
    let base = inst.pod.hash(salt::LINE);
    slots(
        start,
        1.0 / 15.0,
        from,
        end,
        |k| splitmix(base ^ k),
        |_, at| {
            if inst.self_down(secs(at)) {
                let (msg, extra) = match kind {
                    Kind::Redis => (
                        "Couldn't connect to redis instance (redis://localhost:6379)",
                        "",
                    ),
                    _ => (
                        "Error opening connection to database",
                        " err=\"dial tcp 127.0.0.1:5432: connect: connection refused\"",
                    ),
                };
                push(out, from, end, at, line(at, "error", msg, extra));
            }
        },
    );
    out[first..].sort_by_key(|l| l.at);
}

#[cfg(test)]
mod tests;
