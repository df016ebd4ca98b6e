//! The log of an api, web or worker container, computed for any window: start-up lines, then
//! one line per slot of `1/log-rate` seconds (access lines with 5xx and ERROR lines in proportion
//! to the error fraction, job lines for workers, dependency errors while one is down), then the
//! stack trace of a crash or the lines of a graceful shutdown. OOM-killed and SIGKILLed
//! instances end silently.
//!
//! Slot `k` is written at a fixed jitter inside `[k, k+1)/rate` after the start, so a window is
//! found by index arithmetic and any split of a window gives the same lines.

use jiff::Timestamp;
use serde_json::Value;

use super::health::iso_millis;
use super::maths::{Latency, plus, secs, unit};
use super::model::{DepRole, Instance, Traffic, salt};
use super::profile::{HealthStyle, Kind, LogFormat};
use super::routes::{self, SERVER_ERRORS, pick_code, pick_route};
use super::{ExitReason, LogLine, splitmix};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// One thing the app logged, before it is rendered as JSON or text.
pub struct Entry {
    pub at: Timestamp,
    pub level: Level,
    pub logger: &'static str,
    pub msg: String,
    pub fields: Vec<(&'static str, Value)>,
    /// A stack trace: a `stack` field in JSON, raw lines in text.
    pub stack: &'static [&'static str],
}

impl Entry {
    pub fn new(at: Timestamp, level: Level, logger: &'static str, msg: impl Into<String>) -> Self {
        Self {
            at,
            level,
            logger,
            msg: msg.into(),
            fields: Vec::new(),
            stack: &[],
        }
    }

    fn with(mut self, key: &'static str, v: impl Into<Value>) -> Self {
        self.fields.push((key, v.into()));
        self
    }
}

fn level_name(style: HealthStyle, level: Level) -> &'static str {
    match (style, level) {
        (_, Level::Error) => "ERROR",
        (HealthStyle::Arq, Level::Info) => "LOG",
        (HealthStyle::Arq, Level::Warn) | (HealthStyle::Plain, Level::Warn) => "WARN",
        (HealthStyle::Arxos, Level::Warn) => "WARNING",
        (_, Level::Info) => "INFO",
    }
}

/// Renders `e` in the app's format and style and appends it when it falls in `[from, to)`.
fn emit(inst: &Instance<'_>, e: Entry, from: Timestamp, to: Timestamp, out: &mut Vec<LogLine>) {
    if e.at < from || e.at >= to {
        return;
    }
    let style = inst.profile.health;
    match inst.profile.logs {
        LogFormat::Json => {
            // Written by hand so the keys come in the order people read them: ts, level,
            // logger, msg, then the fields (serde_json's map would sort them).
            let text_of = |v: &Value| v.to_string();
            let mut text = format!(
                "{{\"ts\":{},\"level\":{},\"logger\":{},\"msg\":{}",
                text_of(&iso_millis(e.at).into()),
                text_of(
                    &level_name(HealthStyle::Plain, e.level)
                        .to_lowercase()
                        .into()
                ),
                text_of(&e.logger.into()),
                text_of(&e.msg.into()),
            );
            let mut fields = e.fields;
            if !e.stack.is_empty() {
                fields.push(("stack", Value::from(e.stack.join("\n"))));
            }
            for (k, v) in &fields {
                text.push(',');
                text.push_str(&text_of(&(*k).into()));
                text.push(':');
                text.push_str(&text_of(v));
            }
            text.push('}');
            out.push(LogLine { at: e.at, text });
        }
        LogFormat::Text => {
            let level = level_name(style, e.level);
            let text = match style {
                HealthStyle::Plain => {
                    format!("{} {level:<5} {}: {}", iso_millis(e.at), e.logger, e.msg)
                }
                HealthStyle::Arxos => format!(
                    "{} {level} [{}] {}",
                    e.at.strftime("%Y-%m-%d %H:%M:%S,%3f"),
                    e.logger,
                    e.msg
                ),
                HealthStyle::Arq => format!(
                    "[Nest] 1  - {} {level:>7} [{}] {}",
                    e.at.strftime("%m/%d/%Y, %-I:%M:%S %p"),
                    e.logger,
                    e.msg
                ),
            };
            out.push(LogLine { at: e.at, text });
            for line in e.stack {
                out.push(LogLine {
                    at: e.at,
                    text: (*line).to_string(),
                });
            }
        }
    }
}

const NODE_TRACE: &[&str] = &[
    "Error: Connection terminated unexpectedly",
    "    at Connection.<anonymous> (/app/node_modules/pg/lib/client.js:132:73)",
    "    at Object.onceWrapper (node:events:632:28)",
    "    at Connection.emit (node:events:518:28)",
    "    at Socket.<anonymous> (/app/node_modules/pg/lib/connection.js:63:12)",
    "    at Socket.emit (node:events:518:28)",
    "    at TCP.<anonymous> (node:net:337:12)",
];

const PYTHON_TRACE: &[&str] = &[
    "Traceback (most recent call last):",
    "  File \"/usr/local/lib/python3.11/site-packages/gunicorn/arbiter.py\", line 609, in spawn_worker",
    "    worker.init_process()",
    "  File \"/app/services/export.py\", line 214, in run_export",
    "    result = await self.pool.fetch(query, *args)",
    "  File \"/usr/local/lib/python3.11/site-packages/asyncpg/pool.py\", line 563, in fetch",
    "    return await con.fetch(query, *args, timeout=timeout)",
    "asyncpg.exceptions.TooManyConnectionsError: sorry, too many clients already",
];

/// Start-up lines at fractions of the start-up time.
fn start_lines(inst: &Instance<'_>) -> Vec<Entry> {
    let span = inst.ready_at - inst.start;
    let at = |f: f64| plus(inst.pod.started_at, span * f);
    let info = |f, logger, msg: String| Entry::new(at(f), Level::Info, logger, msg);
    let mut out = match inst.profile.health {
        HealthStyle::Arq => vec![
            info(0.02, "NestFactory", "Starting Nest application...".into()),
            info(
                0.3,
                "InstanceLoader",
                "AppModule dependencies initialized".into(),
            ),
        ],
        HealthStyle::Arxos => vec![
            info(0.01, "gunicorn.error", "Starting gunicorn 21.2.0".into()),
            info(
                0.05,
                "gunicorn.error",
                "Listening at: http://0.0.0.0:8000 (1)".into(),
            ),
            info(0.1, "gunicorn.error", "Booting worker with pid: 7".into()),
            info(0.4, "uvicorn.error", "Started server process [7]".into()),
            info(
                0.5,
                "uvicorn.error",
                "Waiting for application startup.".into(),
            ),
        ],
        HealthStyle::Plain => vec![
            info(
                0.01,
                "main",
                format!("starting {} version {}", inst.app, inst.pod.tag()),
            ),
            info(0.05, "http", "listening on :8080".into()),
        ],
    };
    for (i, dep) in inst.deps.iter().enumerate() {
        let f = 0.6 + 0.05 * i as f64;
        let t = inst.start + span * f;
        let what = match dep.role {
            DepRole::Database => "database",
            DepRole::Cache => "redis",
            DepRole::Other => "service",
        };
        out.push(if dep.down_at(t) {
            Entry::new(
                at(f),
                Level::Error,
                "deps",
                format!("unable to connect to {what} {}, retrying", dep.name),
            )
        } else {
            info(f, "deps", format!("connected to {what} {}", dep.name))
        });
    }
    let ready = match (inst.profile.health, inst.profile.kind) {
        (_, Kind::Worker) => "worker started, consuming queue default".to_string(),
        (HealthStyle::Arq, _) => "Nest application successfully started".into(),
        (HealthStyle::Arxos, _) => "Application startup complete.".into(),
        (HealthStyle::Plain, _) => "ready".into(),
    };
    let logger = match inst.profile.health {
        HealthStyle::Arq => "NestApplication",
        HealthStyle::Arxos => "uvicorn.error",
        HealthStyle::Plain => "main",
    };
    out.push(info(1.0, logger, ready));
    out
}

/// The line (or lines) of slot `k`, written at `at`.
fn slot_lines(inst: &Instance<'_>, k: u64, at: Timestamp, t: f64, h: u64) -> Vec<Entry> {
    let u = unit(splitmix(h ^ 1));
    let (traffic, err) = inst.traffic(t);
    if traffic == Traffic::None {
        // Unready for a dependency: the app logs its reconnect attempts, not every slot.
        return match inst.deps_down(t).next() {
            Some(dep) if u < 0.2 => vec![Entry::new(
                at,
                Level::Error,
                "deps",
                format!(
                    "{} unavailable: connection refused, retrying in 5s",
                    dep.name
                ),
            )],
            _ => Vec::new(),
        };
    }
    let memory = inst.memory(t) / inst.tuned.limit;
    if memory > 0.85 && u < 0.1 {
        return vec![Entry::new(
            at,
            Level::Warn,
            "runtime",
            format!("high memory usage: {:.0}% of limit", memory * 100.0),
        )];
    }
    let failed = u < err;
    let latency = Latency::new(inst.tuned.p50, inst.tuned.p95, inst.extra_latency(t))
        .sample(unit(splitmix(h ^ 2)), unit(splitmix(h ^ 3)));
    let ms = (latency * 1000.0 * 10.0).round() / 10.0;
    let id = format!("{:08x}", splitmix(h ^ 4) as u32);
    let reason = if traffic == Traffic::Draining {
        let dep = inst
            .deps_down(t)
            .next()
            .map_or("dependency", |d| d.name.as_str());
        format!("{dep} unavailable: connection refused")
    } else {
        "QueryFailedError: deadlock detected".to_string()
    };
    if inst.profile.kind == Kind::Worker {
        const JOBS: [&str; 3] = ["send-email", "generate-report", "sync-inventory"];
        let job = JOBS[(splitmix(h ^ 5) % 3) as usize];
        let n = 10_000 + k;
        return vec![if failed {
            Entry::new(
                at,
                Level::Error,
                "worker",
                format!("job {n} {job} failed: {reason}"),
            )
            .with("job_id", n)
            .with("queue", "default")
        } else {
            Entry::new(
                at,
                Level::Info,
                "worker",
                format!("job {n} {job} completed in {ms}ms"),
            )
            .with("job_id", n)
            .with("queue", "default")
            .with("duration_ms", ms)
        }];
    }
    let rs = routes::routes(inst.profile.kind, inst.profile.health);
    let Some(route) = pick_route(rs, unit(splitmix(h ^ 6))) else {
        return Vec::new();
    };
    let code = if traffic == Traffic::Draining {
        503
    } else if failed {
        pick_code(&SERVER_ERRORS, u / err.max(1e-12))
    } else {
        pick_code(route.codes, unit(splitmix(h ^ 7)))
    };
    let path = routes::concrete(route.template, splitmix(h ^ 8));
    let client = format!(
        "10.244.{}.{}",
        splitmix(h ^ 9) % 8,
        2 + splitmix(h ^ 10) % 250
    );
    let msg = match inst.profile.health {
        HealthStyle::Arxos => format!(
            "{client}:{} - \"{} {path} HTTP/1.1\" {code} {}",
            40_000 + splitmix(h ^ 11) % 20_000,
            route.method,
            routes::reason(code)
        ),
        _ => format!("{} {path} {code} {ms}ms", route.method),
    };
    let logger = match inst.profile.health {
        HealthStyle::Arq => "HTTP",
        HealthStyle::Arxos => "uvicorn.access",
        HealthStyle::Plain => "http",
    };
    let level = if code >= 500 {
        Level::Warn
    } else {
        Level::Info
    };
    let mut lines = vec![
        Entry::new(at, level, logger, msg)
            .with("method", route.method)
            .with("path", path.clone())
            .with("route", route.template)
            .with("status", code)
            .with("duration_ms", ms)
            .with("client_ip", client)
            .with("request_id", id.clone()),
    ];
    if code >= 500 {
        lines.push(
            Entry::new(
                at,
                Level::Error,
                "app",
                format!("request {id} failed: {reason}"),
            )
            .with("request_id", id)
            .with("route", route.template),
        );
    }
    lines
}

/// The last words of an instance that ended at `at`.
fn end_lines(inst: &Instance<'_>, at: Timestamp, exit: super::Exit) -> Vec<Entry> {
    let own_crash = inst.exit.is_some_and(|(_, e)| e == exit) && exit.code == 1;
    if exit.reason == ExitReason::OomKilled || exit == super::Exit::sigkilled() {
        return Vec::new();
    }
    let style = inst.profile.health;
    if own_crash {
        let (logger, msg, stack) = match style {
            HealthStyle::Arq => (
                "ExceptionHandler",
                "Connection terminated unexpectedly",
                NODE_TRACE,
            ),
            _ => (
                "gunicorn.error",
                "Exception in worker process",
                PYTHON_TRACE,
            ),
        };
        let mut e = Entry::new(at, Level::Error, logger, msg);
        e.stack = stack;
        return vec![e];
    }
    if exit.code != 0 {
        return Vec::new();
    }
    let lines: &[(&'static str, &str)] = match style {
        HealthStyle::Arq => &[
            (
                "NestApplication",
                "Received SIGTERM, closing the application",
            ),
            ("NestApplication", "Nest application closed"),
        ],
        HealthStyle::Arxos => &[
            ("gunicorn.error", "Handling signal: term"),
            ("gunicorn.error", "Worker exiting (pid: 7)"),
            ("gunicorn.error", "Shutting down: Master"),
        ],
        HealthStyle::Plain => &[
            ("main", "received SIGTERM, shutting down gracefully"),
            ("main", "server stopped"),
        ],
    };
    lines
        .iter()
        .map(|(logger, msg)| Entry::new(at, Level::Info, logger, *msg))
        .collect()
}

/// The slots of `[from, to)` at `rate` lines per second after `start`, with their times.
pub fn slots(
    start: Timestamp,
    rate: f64,
    from: Timestamp,
    to: Timestamp,
    h: impl Fn(u64) -> u64,
    mut each: impl FnMut(u64, Timestamp),
) {
    if rate.is_nan() || rate <= 0.0 || to <= from {
        return;
    }
    let (s, a, b) = (secs(start), secs(from), secs(to));
    let lo = (((a - s).max(0.0) * rate).floor() as u64).saturating_sub(1);
    let hi = ((b - s).max(0.0) * rate).ceil() as u64 + 1;
    for k in lo..=hi {
        let at = plus(start, (k as f64 + unit(h(k))) / rate);
        if from <= at && at < to {
            each(k, at);
        }
    }
}

/// Appends the lines the instance wrote in `[from, to)`, oldest first.
pub fn lines(inst: &Instance<'_>, from: Timestamp, to: Timestamp, out: &mut Vec<LogLine>) {
    let start = inst.pod.started_at;
    // The process writes nothing after its exit; its last words are stamped at the exit.
    let exit = inst.at(inst.exit_at());
    let end = match inst.pod.ended {
        Some((at, _)) => at.min(exit),
        None => exit,
    };
    let first = out.len();
    let quiet_from = inst.at(inst.hang_at);
    for e in start_lines(inst) {
        emit(inst, e, from, to.min(end), out);
    }
    let ready = inst.at(inst.ready_at);
    let stop = to.min(end).min(quiet_from);
    let base = inst.pod.hash(salt::LINE);
    slots(
        start,
        inst.tuned.log_rate,
        from.max(ready),
        stop,
        |k| splitmix(base ^ k),
        |k, at| {
            let h = splitmix(base ^ k.wrapping_mul(0x9e37_79b9));
            for e in slot_lines(inst, k, at, secs(at), h) {
                emit(inst, e, from, stop, out);
            }
        },
    );
    if let Some((at, exit)) = inst.pod.ended {
        for e in end_lines(inst, at, exit) {
            emit(inst, e, from, to, out);
        }
    }
    out[first..].sort_by_key(|l| l.at);
}

#[cfg(test)]
mod tests;
