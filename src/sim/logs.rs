//! `GET .../pods/{name}/log`: container logs with the real options and error texts.
//!
//! Nothing is stored: the lines of a container instance are computed by its app from the pod's
//! status (start, restart count, how it ended) and the clock, so memory does not grow with the
//! fleet. Like a rotated log file, only the newest [`MAX_LINES`] lines of an instance are kept.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

use super::app::{App, Exit, ExitReason, LogLine, PodView};
use super::cluster::Cluster;
use super::http::{Body, Query, response, streaming};
use super::kubelet::runtime::normalize_image;
use super::status::ApiError;

/// The most lines one container instance keeps (the kubelet rotates logs at 10 MiB).
pub const MAX_LINES: usize = 10_000;
/// How often a follower looks for new lines, in real time.
const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// The `PodLogOptions` of one request, validated as the API server does.
#[derive(Debug, Default)]
pub struct LogOptions {
    pub container: Option<String>,
    pub follow: bool,
    pub previous: bool,
    pub timestamps: bool,
    pub tail_lines: Option<usize>,
    pub since: Option<Since>,
    pub limit_bytes: Option<usize>,
}

#[derive(Clone, Copy, Debug)]
pub enum Since {
    Seconds(i64),
    Time(Timestamp),
}

impl LogOptions {
    pub fn parse(query: &Query, pod: &str) -> Result<Self, ApiError> {
        let since_time = match query.get("sinceTime").filter(|s| !s.is_empty()) {
            Some(s) => Some(s.parse::<Timestamp>().map_err(|_| {
                ApiError::bad_request(format!(
                    "invalid value for sinceTime: parsing time {s:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse {s:?} as \"2006\""
                ))
            })?),
            None => None,
        };
        let (tail, limit, since_seconds) = (
            query.int("tailLines")?,
            query.int("limitBytes")?,
            query.int("sinceSeconds")?,
        );
        let mut errors = Vec::new();
        if let Some(t) = tail.filter(|t| *t < 0) {
            errors.push(format!(
                "tailLines: Invalid value: {t}: must be greater than or equal to 0"
            ));
        }
        if let Some(l) = limit.filter(|l| *l < 1) {
            errors.push(format!(
                "limitBytes: Invalid value: {l}: must be greater than 0"
            ));
        }
        match (since_seconds, since_time) {
            (Some(_), Some(_)) => {
                errors.push(
                    ": Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"
                        .into(),
                );
            }
            (Some(s), None) if s < 1 => errors.push(format!(
                "sinceSeconds: Invalid value: {s}: must be greater than 0"
            )),
            _ => {}
        }
        if !errors.is_empty() {
            let causes = if errors.len() == 1 {
                errors.remove(0)
            } else {
                format!("[{}]", errors.join(", "))
            };
            return Err(ApiError::invalid("PodLogOptions", "", pod, &causes));
        }
        Ok(Self {
            container: query
                .get("container")
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            follow: query.flag("follow")?,
            previous: query.flag("previous")?,
            timestamps: query.flag("timestamps")?,
            tail_lines: tail.map(|t| t as usize),
            since: since_seconds
                .map(Since::Seconds)
                .or(since_time.map(Since::Time)),
            limit_bytes: limit.map(|l| l as usize),
        })
    }
}

/// `validateContainer`: the named container, or the only one.
fn pick_container(pod: &Pod, wanted: Option<&str>, name: &str) -> Result<String, ApiError> {
    let spec = pod.spec.as_ref();
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or(&[]);
    let all: Vec<&str> = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or(&[])
        .iter()
        .chain(containers)
        .map(|c| c.name.as_str())
        .collect();
    match wanted {
        Some(c) if all.contains(&c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {name}"
        ))),
        None if containers.len() == 1 => Ok(containers[0].name.clone()),
        None if containers.is_empty() => Err(ApiError::bad_request(format!(
            "a container name must be specified for pod {name}"
        ))),
        None => Err(ApiError::bad_request(format!(
            "a container name must be specified for pod {name}, choose one of: [{}]",
            all.join(" ")
        ))),
    }
}

/// One container instance whose log is read.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub id: String,
    pub image: String,
    pub started_at: Timestamp,
    pub attempt: i32,
    pub ended: Option<(Timestamp, Exit)>,
}

fn ended(t: &k8s_openapi::api::core::v1::ContainerStateTerminated) -> Option<(Timestamp, Exit)> {
    let reason = ExitReason::parse(t.reason.as_deref().unwrap_or(""));
    Some((
        t.finished_at.as_ref()?.0,
        Exit {
            code: t.exit_code,
            reason,
        },
    ))
}

/// The instance the kubelet would read (`validateContainerLogStatus`), or its error.
pub fn instance(pod: &Pod, container: &str, previous: bool) -> Result<Instance, ApiError> {
    let name = pod.metadata.name.as_deref().unwrap_or("");
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or(&[]);
    let status: Option<&ContainerStatus> = statuses.iter().find(|s| s.name == container);
    let spec_image = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.iter().find(|c| c.name == container))
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    let image = |status: &ContainerStatus| {
        if normalize_image(&spec_image) == status.image {
            spec_image.clone()
        } else {
            status.image.clone()
        }
    };
    let bad = |what: String| {
        Err(ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{name}\" {what}"
        )))
    };
    let Some(s) = status else {
        if previous {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{name}\" not found"
            )));
        }
        return bad("is waiting to start: ContainerCreating".into());
    };
    let state = s.state.clone().unwrap_or_default();
    let last = s.last_state.as_ref().and_then(|l| l.terminated.as_ref());
    // The previous instance is one attempt back, unless the newest one already ended.
    let last_attempt = if state.running.is_some() {
        s.restart_count - 1
    } else {
        s.restart_count
    };
    let from_term =
        |t: &k8s_openapi::api::core::v1::ContainerStateTerminated, attempt| -> Option<Instance> {
            Some(Instance {
                id: t.container_id.clone().filter(|id| !id.is_empty())?,
                image: image(s),
                started_at: t.started_at.as_ref()?.0,
                attempt,
                ended: ended(t),
            })
        };
    if previous {
        return last
            .and_then(|t| from_term(t, last_attempt))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "previous terminated container \"{container}\" in pod \"{name}\" not found"
                ))
            });
    }
    if let Some(r) = &state.running {
        return Ok(Instance {
            id: s.container_id.clone().unwrap_or_default(),
            image: image(s),
            started_at: r.started_at.as_ref().map_or(Timestamp::UNIX_EPOCH, |t| t.0),
            attempt: s.restart_count,
            ended: None,
        });
    }
    if let Some(i) = state
        .terminated
        .as_ref()
        .and_then(|t| from_term(t, s.restart_count))
    {
        return Ok(i);
    }
    if let Some(i) = last.and_then(|t| from_term(t, last_attempt)) {
        return Ok(i);
    }
    match state.waiting.and_then(|w| w.reason) {
        Some(r) if r == "ErrImagePull" => bad("is waiting to start: image can't be pulled".into()),
        Some(r) if r == "ImagePullBackOff" => {
            bad("is waiting to start: trying and failing to pull image".into())
        }
        Some(r) => bad(format!("is waiting to start: {r}")),
        None => bad("is waiting to start - no logs yet".into()),
    }
}

/// The newest `limit` lines of the instance in `[from, to)`, reading backwards in growing chunks
/// so a tail of a long-running container costs what the tail costs.
pub fn tail(
    app: &dyn App,
    view: &PodView<'_>,
    from: Timestamp,
    to: Timestamp,
    limit: usize,
) -> Vec<LogLine> {
    let mut chunks: Vec<Vec<LogLine>> = Vec::new();
    let (mut hi, mut span, mut found) = (to, SignedDuration::from_secs(64), 0);
    while hi > from && found < limit {
        let lo = hi.checked_sub(span).unwrap_or(from).max(from);
        let mut chunk = Vec::new();
        app.log_lines(view, lo, hi, &mut chunk);
        found += chunk.len();
        chunks.push(chunk);
        hi = lo;
        span *= 2;
    }
    let mut lines: Vec<LogLine> = chunks.into_iter().rev().flatten().collect();
    let excess = lines.len().saturating_sub(limit);
    lines.drain(..excess);
    lines
}

fn format_line(line: &LogLine, timestamps: bool) -> Bytes {
    let text = if timestamps {
        format!("{} {}\n", line.at, line.text)
    } else {
        format!("{}\n", line.text)
    };
    Bytes::from(text)
}

/// Keeps output within `limitBytes`: what is left, shrinking as lines go out.
fn clip(line: Bytes, budget: &mut Option<usize>) -> Option<Bytes> {
    match budget {
        None => Some(line),
        Some(0) => None,
        Some(left) => {
            let take = line.len().min(*left);
            *left -= take;
            Some(line.slice(..take))
        }
    }
}

pub async fn serve_log(
    cluster: Arc<Cluster>,
    namespace: &str,
    pod: &str,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let opts = LogOptions::parse(query, pod)?;
    let now = cluster.now();
    let obj = cluster
        .store()
        .get::<Pod>(namespace, pod)
        .ok_or_else(|| ApiError::not_found("pods", "", pod))?;
    let container = pick_container(&obj, opts.container.as_deref(), pod)?;
    if obj
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_none_or(str::is_empty)
    {
        // No node yet: the API server has no kubelet to ask and answers with nothing.
        return Ok(response(StatusCode::OK, "text/plain", Bytes::new()));
    }
    let inst = instance(&obj, &container, opts.previous)?;
    let app = cluster.kubelet.app();
    let seed = cluster.kubelet.seed();
    let mut view = PodView::of(
        &obj,
        &container,
        &inst.image,
        inst.started_at,
        inst.attempt,
        seed,
    );
    view.ended = inst.ended;
    let until = inst
        .ended
        .map_or(now, |(t, _)| t + SignedDuration::from_nanos(1));
    let from = match opts.since {
        Some(Since::Seconds(s)) => now - SignedDuration::from_secs(s),
        Some(Since::Time(t)) => t,
        None => inst.started_at,
    }
    .max(inst.started_at);
    let limit = opts.tail_lines.unwrap_or(MAX_LINES).min(MAX_LINES);
    let lines = tail(app, &view, from, until, limit);
    let mut budget = opts.limit_bytes;
    let chunks: Vec<Bytes> = lines
        .iter()
        .map_while(|l| clip(format_line(l, opts.timestamps), &mut budget))
        .collect();
    if !opts.follow || inst.ended.is_some() {
        return Ok(response(StatusCode::OK, "text/plain", chunks.concat()));
    }
    let (tx, resp) = streaming("text/plain", 64);
    let (namespace, pod_name) = (namespace.to_string(), pod.to_string());
    let uid = obj.metadata.uid.clone();
    let obj = Arc::clone(&obj);
    tokio::spawn(async move {
        for chunk in chunks {
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
        let mut from = until;
        loop {
            tokio::select! {
                () = tokio::time::sleep(FOLLOW_POLL) => {}
                () = tx.closed() => return,
            }
            let now = cluster.now();
            let current = cluster.store().get::<Pod>(&namespace, &pod_name);
            let Some(current) = current.filter(|p| p.metadata.uid == uid) else {
                return;
            };
            // The instance followed: still running, ended (then its last lines go out), or gone.
            let same = |i: &Instance| i.id == inst.id;
            let ended = match instance(&current, &container, false) {
                Ok(i) if same(&i) => i.ended,
                _ => match instance(&current, &container, true) {
                    Ok(i) if same(&i) => i.ended,
                    _ => return,
                },
            };
            let mut view = PodView::of(
                &obj,
                &container,
                &inst.image,
                inst.started_at,
                inst.attempt,
                seed,
            );
            view.ended = ended;
            let to = ended.map_or(now, |(t, _)| t + SignedDuration::from_nanos(1));
            let mut lines = Vec::new();
            if to > from {
                cluster.kubelet.app().log_lines(&view, from, to, &mut lines);
                from = to;
            }
            for line in &lines {
                let Some(chunk) = clip(format_line(line, opts.timestamps), &mut budget) else {
                    return;
                };
                if tx.send(chunk).await.is_err() {
                    return;
                }
            }
            if ended.is_some() {
                return;
            }
        }
    });
    Ok(resp)
}

#[cfg(test)]
mod tests;
