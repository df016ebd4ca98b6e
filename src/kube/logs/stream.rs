//! One container's log stream: reads lines, batches them to the UI through a bounded outbox, and
//! when the connection breaks (or a quiet stream hits the client's read timeout) reconnects with
//! back-off from the last line's timestamp, skipping the lines it already delivered.

use std::time::{Duration, Instant};

use ::kube::api::{Api, LogParams};
use futures::{AsyncBufReadExt, StreamExt};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use tokio::sync::mpsc;

use super::{LogEvent, LogEventKind, LogOpts, SourceKey};
use crate::kube::KubeMsg;
use crate::kube::error::from_kube;
use crate::logs::Outbox;
use crate::logs::line::split_timestamp;

/// Lines held for the UI at most, per stream; beyond this the oldest are given up and counted.
pub const OUTBOX_LINES: usize = 5_000;
/// A batch goes out after this long, or at [`BATCH_LINES`].
const BATCH_EVERY: Duration = Duration::from_millis(100);
const BATCH_LINES: usize = 500;
const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(8);
/// A reconnect slower than this is shown as a gap, whatever broke the stream.
const GAP_AFTER: Duration = Duration::from_secs(1);

/// How a connection ended.
enum End {
    /// The server closed it: the container ended or restarted, or the pod is going.
    Eof,
    /// The client's read timeout on a quiet stream: nothing was lost.
    Quiet,
    /// The connection broke.
    Broken,
}

/// What was delivered last, to resume after it without repeating it.
#[derive(Default)]
struct Resume {
    last: Option<Timestamp>,
    /// Texts already delivered with the `last` timestamp (a resume repeats that second).
    at_last: Vec<String>,
}

impl Resume {
    /// Whether a line is new; remembers it if so.
    fn fresh(&mut self, ts: Option<Timestamp>, text: &str) -> bool {
        let Some(ts) = ts else { return true };
        match self.last {
            Some(last) if ts < last => false,
            Some(last) if ts == last => {
                if self.at_last.iter().any(|t| t == text) {
                    return false;
                }
                self.at_last.push(text.to_string());
                true
            }
            _ => {
                self.last = Some(ts);
                self.at_last.clear();
                self.at_last.push(text.to_string());
                true
            }
        }
    }

    /// `sinceTime` for a resume: the last line's second (the API takes whole seconds, and
    /// rounding up would lose lines; the repeats are skipped by [`Resume::fresh`]).
    fn since(&self) -> Option<Timestamp> {
        let last = self.last?;
        Timestamp::from_second(last.as_second()).ok()
    }
}

pub async fn run(
    api: Api<Pod>,
    session: u64,
    key: SourceKey,
    opts: LogOpts,
    tx: mpsc::Sender<KubeMsg>,
) {
    let mut resume = Resume::default();
    let mut out: Outbox<(Option<Timestamp>, String)> = Outbox::new(OUTBOX_LINES);
    let mut retry = FIRST_RETRY;
    // When a connection that worked ended, and whether that was a break.
    let mut lost: Option<(Instant, bool)> = None;
    let mut connected = false;
    let note = |text: String| LogEventKind::Note {
        source: Some(key.clone()),
        text,
    };
    loop {
        let params = LogParams {
            container: Some(key.container.clone()),
            follow: !opts.previous,
            previous: opts.previous,
            timestamps: true,
            since_time: resume.since(),
            tail_lines: opts.tail.filter(|_| resume.last.is_none()),
            since_seconds: opts.since_seconds.filter(|_| resume.last.is_none()),
            ..LogParams::default()
        };
        let reader = match api.log_stream(&key.pod, &params).await {
            Ok(r) => r,
            Err(e) => {
                let status = match &e {
                    ::kube::Error::Api(s) => Some((s.code, s.message.clone())),
                    _ => None,
                };
                match status {
                    // The pod is gone; the follower says so.
                    Some((404, _)) => return,
                    Some((400, m)) if m.contains("previous terminated container") => {
                        send(
                            &tx,
                            session,
                            note(format!("{}: no previous instance", key.container)),
                        )
                        .await;
                        return;
                    }
                    // Not started yet (or waiting to restart): try again quietly.
                    Some((400, m)) if m.contains("waiting to start") => {}
                    _ => {
                        // Only a stream that worked has a gap to mark.
                        if connected && lost.is_none_or(|(_, broke)| !broke) {
                            lost = Some((lost.map_or_else(Instant::now, |(t, _)| t), true));
                        }
                        let text =
                            from_kube(&format!("log of {}/{}", key.pod, key.container), &e).text;
                        if retry == FIRST_RETRY
                            && !send(&tx, session, note(format!("{text}; reconnecting"))).await
                        {
                            return;
                        }
                    }
                }
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(MAX_RETRY);
                continue;
            }
        };
        connected = true;
        if let Some((at, broke)) = lost.take() {
            let after = at.elapsed();
            if broke || after >= GAP_AFTER {
                let gap = LogEventKind::Gap {
                    source: key.clone(),
                    after,
                };
                if !flush(&tx, session, &key, &mut out, true).await
                    || !send(&tx, session, gap).await
                {
                    return;
                }
            }
        }
        let mut lines = std::pin::pin!(reader.lines());
        let mut delivered = 0usize;
        let mut next_batch = tokio::time::Instant::now() + BATCH_EVERY;
        let end = loop {
            tokio::select! {
                line = lines.next() => match line {
                    Some(Ok(raw)) => {
                        let (ts, text) = split_timestamp(&raw);
                        if resume.fresh(ts, text) {
                            out.push((ts, text.to_string()));
                            delivered += 1;
                        }
                        if out.len() >= BATCH_LINES && !flush(&tx, session, &key, &mut out, false).await {
                            return;
                        }
                    }
                    Some(Err(e)) if is_timeout(&e) => break End::Quiet,
                    Some(Err(_)) => break End::Broken,
                    None => break End::Eof,
                },
                () = tokio::time::sleep_until(next_batch) => {
                    next_batch = tokio::time::Instant::now() + BATCH_EVERY;
                    if !flush(&tx, session, &key, &mut out, false).await {
                        return;
                    }
                }
            }
        };
        if opts.previous {
            flush(&tx, session, &key, &mut out, true).await;
            return;
        }
        if delivered > 0 {
            retry = FIRST_RETRY;
        }
        match end {
            End::Broken => lost = Some((Instant::now(), true)),
            End::Quiet => lost = Some((Instant::now(), false)),
            End::Eof => {
                lost = Some((Instant::now(), false));
                // A stream that ends without news (a crashed container waiting to restart)
                // must not turn into a busy loop of requests.
                if delivered == 0 {
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(MAX_RETRY);
                }
            }
        }
        if !flush(&tx, session, &key, &mut out, false).await {
            return;
        }
    }
}

/// Whether a read failed because the client's read timeout ran out (the reason travels wrapped
/// in other errors: look down the chain).
fn is_timeout(e: &std::io::Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        next = err.source();
    }
    false
}

async fn send(tx: &mpsc::Sender<KubeMsg>, session: u64, kind: LogEventKind) -> bool {
    tx.send(KubeMsg::Logs(LogEvent { session, kind }))
        .await
        .is_ok()
}

/// Sends what the outbox holds if the channel has room (or, with `wait`, when it has); a full
/// channel leaves the lines in the outbox, which gives up its oldest ones and counts them.
/// False when the UI is gone.
async fn flush(
    tx: &mpsc::Sender<KubeMsg>,
    session: u64,
    key: &SourceKey,
    out: &mut Outbox<(Option<Timestamp>, String)>,
    wait: bool,
) -> bool {
    if out.is_empty() {
        return !tx.is_closed();
    }
    let permit = if wait {
        match tx.reserve().await {
            Ok(p) => p,
            Err(_) => return false,
        }
    } else {
        match tx.try_reserve() {
            Ok(p) => p,
            Err(mpsc::error::TrySendError::Full(())) => return true,
            Err(mpsc::error::TrySendError::Closed(())) => return false,
        }
    };
    let (lines, dropped) = out.take();
    permit.send(KubeMsg::Logs(LogEvent {
        session,
        kind: LogEventKind::Lines {
            source: key.clone(),
            lines,
            dropped,
        },
    }));
    true
}
