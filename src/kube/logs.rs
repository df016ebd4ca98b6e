//! Log streams: per-container `pods/{name}/log` streams that reconnect with back-off and resume
//! where they stopped, and a follower per cluster that watches the tailed pods (a workload's label
//! selector, or one pod by name) and starts a stream for each container as pods appear, marking
//! the ones that went away. Lines reach the UI in batches as `KubeMsg::Logs`; nothing here grows
//! without bound when the UI is slow (see `logs::Outbox`).

mod stream;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use ::kube::Client;
use ::kube::api::Api;
use ::kube::runtime::watcher::{self, Event as WatchEvent, watcher};
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};

use super::error::from_watcher;
use super::{ClusterId, KubeMsg};
pub use crate::logs::SourceKey;

/// Which pods of a namespace a tail reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PodSelect {
    /// One pod, by name.
    Name(String),
    /// A workload's pods, by its selector: new ones are followed as they appear.
    Labels(BTreeMap<String, String>),
}

/// What to tail in one cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogTarget {
    pub cluster: ClusterId,
    pub namespace: String,
    pub pods: PodSelect,
    /// Only this container (None: every container of each pod).
    pub container: Option<String>,
}

/// The server-side options of a tail. Timestamps are always requested (a reconnect resumes from
/// the last one); the view strips them when they are not wanted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogOpts {
    /// The last N lines of each container at the start.
    pub tail: Option<i64>,
    /// Only lines from the last this many seconds at the start.
    pub since_seconds: Option<i64>,
    /// The previous (terminated) instance of each container; no follow.
    pub previous: bool,
}

/// One report from a tail. `session` tells reports of the current tail from a replaced one's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    pub session: u64,
    pub kind: LogEventKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEventKind {
    /// A container's stream started. `initial`: it was there when the tail began (not a pod
    /// that appeared later); `containers`: how many its pod has, to label lines.
    Added {
        source: SourceKey,
        containers: usize,
        initial: bool,
    },
    /// Lines in order, with the kubelet's timestamps; `dropped` lines before them were given up
    /// because the console did not keep up.
    Lines {
        source: SourceKey,
        lines: Vec<(Option<Timestamp>, String)>,
        dropped: u64,
    },
    /// The stream broke and was reconnected after `after`; it resumed at its last line.
    Gap { source: SourceKey, after: Duration },
    /// The pod went away.
    Gone { source: SourceKey },
    /// An error or a word about one source or the whole tail.
    Note {
        source: Option<SourceKey>,
        text: String,
    },
    /// A save finished: the file written, or why not.
    Saved(Result<String, String>),
}

fn send_event(
    tx: &mpsc::Sender<KubeMsg>,
    session: u64,
    kind: LogEventKind,
) -> impl Future<Output = bool> {
    let tx = tx.clone();
    async move {
        tx.send(KubeMsg::Logs(LogEvent { session, kind }))
            .await
            .is_ok()
    }
}

/// Starts tailing `target` with `client`; lines and markers arrive on `tx` tagged with
/// `session`. Dropping or aborting the returned task stops every stream it started.
pub fn spawn_tail(
    client: Client,
    session: u64,
    target: LogTarget,
    opts: LogOpts,
    tx: mpsc::Sender<KubeMsg>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(follow(client, session, target, opts, tx))
}

/// Watches the target's pods and keeps one stream per started container.
async fn follow(
    client: Client,
    session: u64,
    target: LogTarget,
    opts: LogOpts,
    tx: mpsc::Sender<KubeMsg>,
) {
    let api: Api<Pod> = Api::namespaced(client, &target.namespace);
    let config = match &target.pods {
        PodSelect::Name(name) => {
            watcher::Config::default().fields(&format!("metadata.name={name}"))
        }
        PodSelect::Labels(labels) => {
            let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            watcher::Config::default().labels(&selector.join(","))
        }
    }
    .timeout(super::client::WATCH_TIMEOUT_SECS);
    // Every stream task lives in this set: when the follower is aborted, they all stop.
    let mut tasks = JoinSet::new();
    let mut streams: HashMap<SourceKey, AbortHandle> = HashMap::new();
    let mut pods: HashSet<String> = HashSet::new();
    let mut listed: HashSet<String> = HashSet::new();
    let mut initial = true;
    let mut events = std::pin::pin!(watcher(api.clone(), config));
    let mut failing = false;
    while let Some(event) = events.next().await {
        // Reap finished streams so the set does not grow over a long tail.
        while tasks.try_join_next().is_some() {}
        let event = match event {
            Ok(e) => {
                failing = false;
                e
            }
            Err(e) => {
                // The watcher retries by itself; say so once, not at every attempt.
                if !failing {
                    let text = format!("{} (retrying)", from_watcher("pods", &e).text);
                    if !send_event(&tx, session, LogEventKind::Note { source: None, text }).await {
                        return;
                    }
                }
                failing = true;
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let mut gone = Vec::new();
        let mut seen = Vec::new();
        match event {
            WatchEvent::Init => listed.clear(),
            WatchEvent::InitApply(pod) => {
                listed.insert(pod.metadata.name.clone().unwrap_or_default());
                seen.push(pod);
            }
            WatchEvent::Apply(pod) => seen.push(pod),
            WatchEvent::InitDone => {
                gone.extend(pods.iter().filter(|p| !listed.contains(*p)).cloned());
                initial = false;
            }
            WatchEvent::Delete(pod) => gone.push(pod.metadata.name.clone().unwrap_or_default()),
        }
        for pod in seen {
            let name = pod.metadata.name.clone().unwrap_or_default();
            pods.insert(name.clone());
            let containers = started(&pod, target.container.as_deref());
            let count = pod.spec.as_ref().map_or(0, |s| s.containers.len());
            for container in containers {
                let key = SourceKey {
                    cluster: target.cluster,
                    namespace: target.namespace.clone(),
                    pod: name.clone(),
                    container,
                };
                if streams.contains_key(&key) {
                    continue;
                }
                let added = LogEventKind::Added {
                    source: key.clone(),
                    containers: count,
                    initial,
                };
                if !send_event(&tx, session, added).await {
                    return;
                }
                // A pod that appears later is read from its start; the ones there at the start
                // get the tail's tail/since.
                let opts = if initial {
                    opts.clone()
                } else {
                    LogOpts {
                        previous: opts.previous,
                        ..LogOpts::default()
                    }
                };
                let task = stream::run(api.clone(), session, key.clone(), opts, tx.clone());
                streams.insert(key, tasks.spawn(task));
            }
        }
        for name in gone {
            pods.remove(&name);
            let keys: Vec<SourceKey> = streams.keys().filter(|k| k.pod == name).cloned().collect();
            for key in keys {
                // The stream ends by itself once the pod is gone (after its last lines).
                streams.remove(&key);
                if !send_event(&tx, session, LogEventKind::Gone { source: key }).await {
                    return;
                }
            }
        }
    }
}

/// The containers of `pod` that have started at least once (only those have a log), limited to
/// `only` when given, in the pod's order.
fn started(pod: &Pod, only: Option<&str>) -> Vec<String> {
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or(&[]);
    let spec = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[]);
    spec.iter()
        .filter(|c| only.is_none_or(|o| o == c.name))
        .filter(|c| {
            statuses.iter().any(|s| {
                s.name == c.name
                    && (s
                        .state
                        .as_ref()
                        .is_some_and(|st| st.running.is_some() || st.terminated.is_some())
                        || s.last_state
                            .as_ref()
                            .is_some_and(|l| l.terminated.is_some()))
            })
        })
        .map(|c| c.name.clone())
        .collect()
}

/// The tails a runner has started, by session, and where saved logs go. Dropping it stops
/// every stream.
#[derive(Default)]
pub struct LogTasks {
    tails: HashMap<u64, Vec<tokio::task::JoinHandle<()>>>,
    /// `<data dir>/logs`; None when the system has no data directory.
    pub dir: Option<std::path::PathBuf>,
}

impl LogTasks {
    /// Saved logs go to `dir`.
    pub fn new(dir: Option<std::path::PathBuf>) -> Self {
        Self {
            tails: HashMap::new(),
            dir,
        }
    }

    /// Starts a follower per target whose cluster has a client; a cluster without one gets a
    /// note in the view instead.
    pub fn start(
        &mut self,
        clients: &[Option<Client>],
        session: u64,
        targets: Vec<LogTarget>,
        opts: LogOpts,
        tx: &mpsc::Sender<KubeMsg>,
    ) {
        let mut handles = Vec::new();
        for target in targets {
            match clients.get(target.cluster).cloned().flatten() {
                Some(client) => handles.push(spawn_tail(
                    client,
                    session,
                    target,
                    opts.clone(),
                    tx.clone(),
                )),
                None => {
                    let text = "this cluster has no client (see the clusters view)".to_string();
                    let ev = LogEvent {
                        session,
                        kind: LogEventKind::Note { source: None, text },
                    };
                    let _ = tx.try_send(KubeMsg::Logs(ev));
                }
            }
        }
        self.tails.insert(session, handles);
    }

    pub fn stop(&mut self, session: u64) {
        for h in self.tails.remove(&session).unwrap_or_default() {
            h.abort();
        }
    }

    /// How many tails are running (for tests).
    pub fn running(&self) -> usize {
        self.tails.len()
    }

    /// Writes `text` to `file` in the logs directory, off the UI thread; the outcome comes back as
    /// `LogEventKind::Saved`.
    pub fn save(&self, session: u64, file: String, text: String, tx: &mpsc::Sender<KubeMsg>) {
        let dir = self.dir.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let result = tokio::task::spawn_blocking(move || {
                let dir = dir.ok_or("this system has no data directory to save logs in")?;
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                let path = dir.join(&file);
                std::fs::write(&path, text)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                Ok::<_, String>(path.display().to_string())
            })
            .await
            .unwrap_or_else(|e| Err(format!("the save failed: {e}")));
            let _ = tx
                .send(KubeMsg::Logs(LogEvent {
                    session,
                    kind: LogEventKind::Saved(result),
                }))
                .await;
        });
    }
}

impl Drop for LogTasks {
    fn drop(&mut self) {
        for (_, handles) in self.tails.drain() {
            for h in handles {
                h.abort();
            }
        }
    }
}
