//! The I/O of one cluster: a watcher per kind (and namespace), a `/version` poller and a
//! supervisor that batches the watchers' changes and folds their failures into a connection
//! state. Each cluster has its own tasks and client, so a slow or dead cluster holds up no other.

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::kube::api::Api;
use ::kube::runtime::watcher::{self, DefaultBackoff, Event as WatchEvent, watcher};
use ::kube::{Client, Config, Resource};
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, Pod};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::client::{WATCH_TIMEOUT_SECS, client};
use super::convert::{event_row, hpa_row, key, pod_row, replicaset_row, workload_row};
use super::error::{Failure, from_kube, from_watcher};
use super::rows::{Change, Kind, ObjKey, Row};
use super::supervisor::{Report, supervise};
use super::{ClusterId, KubeMsg, ServerInfo};

/// The console's clock: wall time in the app, anything in tests.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// How often `/version` is asked while the cluster answers, and while it does not.
pub const VERSION_EVERY: Duration = Duration::from_secs(30);
pub const VERSION_RETRY: Duration = Duration::from_secs(5);
/// A `/version` that takes longer than this counts as no answer: it is how a cluster that went
/// silent (no refusal, no reset) is noticed before its watches time out.
pub const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

/// Room for reports from the watchers to the supervisor: enough for a few list pages, small
/// enough that a stalled UI slows the watchers instead of growing memory.
const REPORTS: usize = 4_096;

/// The running tasks of one cluster. Dropping it stops them all (the `JoinSet` aborts them).
pub struct ClusterHandle {
    id: ClusterId,
    client: Client,
    _tasks: JoinSet<()>,
}

impl ClusterHandle {
    pub fn id(&self) -> ClusterId {
        self.id
    }

    /// The cluster's client, for detail fetches and actions (cheap to clone).
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Starts watching one cluster: Pods, Deployments, ReplicaSets, autoscaling/v2 HPAs and core/v1
/// Events, cluster-wide or in each of `namespaces`. Must be called inside a tokio runtime.
///
/// Messages go out on `tx`, a bounded channel: a UI that falls behind slows the watchers (and,
/// through TCP, the servers) rather than letting batches pile up in memory; one cluster's
/// messages never wait for another cluster. The connect, read and write timeouts of `config` are
/// replaced (see `client::apply_timeouts`). Fails only when no client can be made from `config`.
pub fn spawn_cluster(
    id: ClusterId,
    config: Config,
    tx: mpsc::Sender<KubeMsg>,
    clock: Clock,
    namespaces: Vec<String>,
) -> Result<ClusterHandle, String> {
    let client = client(config)?;
    let (reports, rx) = mpsc::channel(REPORTS);
    let mut tasks = JoinSet::new();
    let mut namespaces = namespaces;
    namespaces.sort();
    namespaces.dedup();
    let scopes: Vec<Option<String>> = if namespaces.is_empty() {
        vec![None]
    } else {
        namespaces.into_iter().map(Some).collect()
    };
    // With one scope per kind, a relist is bracketed by Relisting/Listed and the state drops what
    // was not listed. With several, one namespace's relist must not drop another's rows, so each
    // watcher works out its own deletions instead (see `Tracking`).
    let markers = scopes.len() == 1;
    let mut kinds = Vec::new();
    for scope in &scopes {
        for kind in Kind::ALL {
            let src = kinds.len();
            kinds.push(markers.then_some(kind));
            let ctx = Ctx {
                src,
                kind,
                what: match scope {
                    Some(ns) => format!("{} in {ns}", kind.plural()),
                    None => kind.plural().to_string(),
                },
                track: !markers,
                clock: Arc::clone(&clock),
                reports: reports.clone(),
            };
            let c = client.clone();
            let ns = scope.as_deref();
            match kind {
                Kind::Pod => tasks.spawn(watch(api::<Pod>(c, ns), ctx, |p, now| {
                    Row::Pod(Arc::new(pod_row(p, now)))
                })),
                Kind::Deployment => tasks.spawn(watch(api::<Deployment>(c, ns), ctx, |d, _| {
                    Row::Deployment(Arc::new(workload_row(d)))
                })),
                Kind::ReplicaSet => tasks.spawn(watch(api::<ReplicaSet>(c, ns), ctx, |r, _| {
                    Row::ReplicaSet(Arc::new(replicaset_row(r)))
                })),
                Kind::Hpa => {
                    tasks.spawn(watch(api::<HorizontalPodAutoscaler>(c, ns), ctx, |h, _| {
                        Row::Hpa(Arc::new(hpa_row(h)))
                    }))
                }
                Kind::Event => tasks.spawn(watch(api::<Event>(c, ns), ctx, |e, _| {
                    Row::Event(Arc::new(event_row(e)))
                })),
            };
        }
    }
    tasks.spawn(poll_version(client.clone(), reports));
    tasks.spawn(supervise(id, rx, tx, clock, kinds));
    Ok(ClusterHandle {
        id,
        client,
        _tasks: tasks,
    })
}

fn api<K>(client: Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    }
}

/// What one watcher task needs besides its Api.
struct Ctx {
    src: usize,
    kind: Kind,
    /// `pods`, `events in shop`: how errors name it.
    what: String,
    /// Work out deletions across relists here (several namespaces per kind).
    track: bool,
    clock: Clock,
    reports: mpsc::Sender<Report>,
}

/// Where one watcher is in its list, and (with several namespaces per kind) the keys it holds,
/// to find what vanished while it was not watching.
#[derive(Default)]
struct Tracking {
    /// A list was asked for and nothing came of it yet. The Relisting report waits for the first
    /// page: a cluster that is down would otherwise announce a relist at every retry.
    relist_pending: bool,
    known: HashSet<ObjKey>,
    relisted: HashSet<ObjKey>,
}

/// Objects per page of a list. Each page is decoded whole into typed objects (a Pod is ~9.5 KB
/// decoded) before its rows are made, and with four clusters listing at once those pages were
/// most of the console's memory peak at start-up: with 10,000 pods (`benches/console-perf.sh`,
/// calm) RSS at the first full frame was 103–109 MB with kube-runtime's default of 500, 88–97 MB
/// with 250 and 73–75 MB with 100, and the first frame came no later (0.24–0.29 s). The price is
/// more round trips: a 2,500-pod cluster is 25 requests instead of 5, about a second more over a
/// 50 ms link.
const LIST_PAGE: u32 = 100;

/// Watches one kind in one scope until aborted, converting objects to rows as they come.
async fn watch<K>(api: Api<K>, ctx: Ctx, to_row: fn(&K, Timestamp) -> Row)
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    // Lists come in pages of LIST_PAGE objects; see there for why so small.
    let config = watcher::Config::default()
        .timeout(WATCH_TIMEOUT_SECS)
        .page_size(LIST_PAGE);
    // client-go's reflector backoff (0.8 s doubling to 30 s, jittered), reset after 2 quiet
    // minutes; driven by hand so the delay can be shown as "retrying at".
    let mut backoff = DefaultBackoff::default();
    let mut tracking = Tracking::default();
    loop {
        let mut stream = std::pin::pin!(watcher(api.clone(), config.clone()));
        let mut delay = Duration::from_secs(1);
        while let Some(event) = stream.next().await {
            let reports = match event {
                Ok(e) => handle(&ctx, &mut tracking, e, to_row),
                Err(e) => {
                    delay = backoff.next().unwrap_or(Duration::from_secs(30));
                    vec![Report::Failed(ctx.src, from_watcher(&ctx.what, &e), delay)]
                }
            };
            let failed = matches!(reports.last(), Some(Report::Failed(..)));
            for r in reports {
                if ctx.reports.send(r).await.is_err() {
                    return; // the supervisor is gone: the cluster was dropped
                }
            }
            if failed {
                break;
            }
        }
        // After a failure (or, never expected, the end of the stream) start over with a fresh
        // list: its completion is the proof that this kind's rows are whole again. kube-runtime
        // would resume the watch silently, and a silent resume cannot be told from a dead one.
        tokio::time::sleep(delay).await;
    }
}

fn handle<K: Resource>(
    ctx: &Ctx,
    t: &mut Tracking,
    event: WatchEvent<K>,
    to_row: fn(&K, Timestamp) -> Row,
) -> Vec<Report> {
    let src = ctx.src;
    let apply = |obj: &K| Report::Change(src, Change::Apply(to_row(obj, (ctx.clock)())));
    let mut out = Vec::new();
    if matches!(event, WatchEvent::InitApply(_) | WatchEvent::InitDone) && t.relist_pending {
        t.relist_pending = false;
        out.push(Report::Relisting(src));
    }
    match event {
        WatchEvent::Init => {
            t.relisted.clear();
            t.relist_pending = true;
            out
        }
        WatchEvent::InitApply(obj) => {
            if ctx.track {
                t.relisted.insert(key(obj.meta()));
            }
            out.push(apply(&obj));
            out
        }
        WatchEvent::InitDone => {
            if ctx.track {
                let listed = std::mem::take(&mut t.relisted);
                out.extend(
                    t.known
                        .difference(&listed)
                        .map(|k| Report::Change(src, Change::Delete(ctx.kind, k.clone()))),
                );
                t.known = listed;
            }
            out.push(Report::Listed(src));
            out
        }
        WatchEvent::Apply(obj) => {
            if ctx.track {
                t.known.insert(key(obj.meta()));
            }
            out.push(apply(&obj));
            out
        }
        WatchEvent::Delete(obj) => {
            let k = key(obj.meta());
            if ctx.track {
                t.known.remove(&k);
            }
            out.push(Report::Change(src, Change::Delete(ctx.kind, k)));
            out
        }
    }
}

/// Asks `/version` now and then, timing the round trip; its failures count like a watcher's.
async fn poll_version(client: Client, reports: mpsc::Sender<Report>) {
    loop {
        let started = Instant::now();
        let (report, next) = match tokio::time::timeout(VERSION_TIMEOUT, client.apiserver_version())
            .await
        {
            Ok(Ok(info)) => (
                Ok(ServerInfo {
                    version: info.git_version,
                    rtt: started.elapsed(),
                }),
                VERSION_EVERY,
            ),
            Ok(Err(e)) => (
                Err((from_kube("server version", &e), VERSION_RETRY)),
                VERSION_RETRY,
            ),
            Err(_) => (
                Err((
                    Failure::transport(format!("no answer within {}s", VERSION_TIMEOUT.as_secs())),
                    VERSION_RETRY,
                )),
                VERSION_RETRY,
            ),
        };
        if reports.send(Report::Version(report)).await.is_err() {
            return;
        }
        tokio::time::sleep(next).await;
    }
}
