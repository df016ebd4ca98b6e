//! Watches, as the real API server serves them: newline-delimited JSON events replayed from a
//! resourceVersion (or synthesized from the current state), bookmarks, a clean end at
//! `timeoutSeconds`, and a `410 Expired` ERROR event when the history no longer reaches back.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc;

use super::api::Call;
use super::http::{self as h, Body};
use super::kinds::Res;
use super::resource::{Filter, Served};
use super::status::ApiError;
use super::store::{EventType, Since, WatchEvent};
use super::table::{self, IncludeObject};
use super::views;

/// A watch without `timeoutSeconds` ends after this long, as the real server's minRequestTimeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);
/// How often an idle watch with bookmarks allowed gets one (the real server: about once a minute).
const BOOKMARK_EVERY: Duration = Duration::from_secs(5);

/// How an event's object is encoded for this watch.
struct Encoder {
    res: Res,
    kind: &'static str,
    api_version: String,
    table: Option<IncludeObject>,
    sent_columns: bool,
}

impl Encoder {
    /// One event. `obj` is the typed object when at hand; a Table watch decodes it from the JSON
    /// otherwise (history keeps only JSON).
    fn event<T: Served>(
        &mut self,
        ty: &str,
        obj: Option<&T>,
        json: &Bytes,
        now: jiff::Timestamp,
    ) -> Bytes {
        let object = match self.table {
            Some(include) => {
                let decoded;
                let obj = match obj {
                    Some(o) => Some(o),
                    None => {
                        decoded = serde_json::from_slice::<T>(json).ok();
                        decoded.as_ref()
                    }
                };
                let t = obj.map(|o| table::table_for_object(o, now, include, !self.sent_columns));
                self.sent_columns = true;
                Bytes::from(serde_json::to_vec(&t).unwrap_or_default())
            }
            None => views::render(self.res, json),
        };
        frame(ty, &object)
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let annotations = if initial_end {
            ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}"
        } else {
            ""
        };
        let object = format!(
            "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{{\"resourceVersion\":\"{rv}\",\"creationTimestamp\":null{annotations}}}}}",
            self.kind, self.api_version
        );
        frame("BOOKMARK", object.as_bytes())
    }
}

fn frame(ty: &str, object: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(object.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(ty.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

/// What a filtered watcher sees of one change: an object that stops matching its selector leaves
/// as DELETED, one that starts matching arrives as ADDED.
fn visible<T: Served>(filter: &Filter, ev: &WatchEvent<T>) -> Option<&'static str> {
    let now_matches = filter.matches_selection::<T>(&ev.sel);
    let was = ev
        .prev_sel
        .as_ref()
        .map_or(now_matches, |p| filter.matches_selection::<T>(p));
    match ev.ty {
        EventType::Added => now_matches.then_some("ADDED"),
        EventType::Deleted => was.then_some("DELETED"),
        EventType::Modified => match (was, now_matches) {
            (true, true) => Some("MODIFIED"),
            (false, true) => Some("ADDED"),
            (true, false) => Some("DELETED"),
            (false, false) => None,
        },
    }
}

pub fn watch<T: Served>(call: &Call) -> Result<Response<Body>, ApiError> {
    let filter = Filter::from_call(call)?;
    filter.validate::<T>()?;
    let bookmarks = call.query.flag("allowWatchBookmarks")?;
    let send_initial = call.query.flag("sendInitialEvents")?;
    let timeout = call
        .query
        .int("timeoutSeconds")?
        .filter(|t| *t > 0)
        .map_or(DEFAULT_TIMEOUT, |t| Duration::from_secs(t as u64));
    let rv_param = call.query.get("resourceVersion").filter(|v| !v.is_empty());
    let from_rv: Option<u64> = match rv_param {
        None | Some("0") => None,
        Some(v) => Some(
            v.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {v:?}")))?,
        ),
    };
    let table = if call.wants_table() {
        Some(IncludeObject::parse(call.query.get("includeObject")).map_err(ApiError::bad_request)?)
    } else {
        None
    };
    let info = call.path.info;
    let mut enc = Encoder {
        res: info.res,
        kind: info.kind,
        api_version: info.api_version(),
        table,
        sent_columns: false,
    };

    // Snapshot and subscription are taken under one lock so no change falls between them.
    let (initial, mut rx, start_rv) = {
        let store = call.cluster.store();
        let t = T::table(&store);
        let rx = t.subscribe();
        let rv = store.resource_version();
        let initial: Vec<(&'static str, Option<Arc<T>>, Bytes)> = match from_rv {
            Some(n) if !send_initial => match t.since(n) {
                Since::Events(events) => events
                    .iter()
                    .filter_map(|e| visible(&filter, e).map(|ty| (ty, None, e.json.clone())))
                    .collect(),
                Since::Expired { oldest } => {
                    drop(store);
                    let err = ApiError::gone(format!("too old resource version: {n} ({oldest})"));
                    let body = frame(
                        "ERROR",
                        &serde_json::to_vec(&err.to_status()).unwrap_or_default(),
                    );
                    return Ok(h::json(http::StatusCode::OK, body));
                }
            },
            _ => {
                let mut out = Vec::new();
                // The encoder decodes what it needs (Table output) once the lock is released.
                for (key, s) in t.range(filter.namespace.as_deref(), None) {
                    if filter.admits(key, s)? {
                        out.push(("ADDED", None, s.json()));
                    }
                }
                out
            }
        };
        (initial, rx, rv)
    };

    let (tx, resp) = h::streaming("application/json", 64);
    let cluster = Arc::clone(&call.cluster);
    let mut epoch = cluster.watch_epoch();
    epoch.mark_unchanged();
    tokio::spawn(async move {
        let now = cluster.now();
        for (ty, obj, json) in &initial {
            if tx
                .send(enc.event(ty, obj.as_deref(), json, now))
                .await
                .is_err()
            {
                return;
            }
        }
        if send_initial && tx.send(enc.bookmark(start_rv, true)).await.is_err() {
            return;
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(BOOKMARK_EVERY);
        ticker.tick().await;
        loop {
            tokio::select! {
                // Checked first: once watches are dropped, not one more event may go out.
                biased;
                _ = epoch.changed() => return,
                () = &mut deadline => {
                    if bookmarks {
                        let _ = send_bookmark(&cluster, &mut rx, &filter, &mut enc, &tx).await;
                    }
                    return;
                }
                () = tx.closed() => return,
                _ = ticker.tick(), if bookmarks => {
                    if send_bookmark(&cluster, &mut rx, &filter, &mut enc, &tx).await.is_err() {
                        return;
                    }
                }
                got = rx.recv() => match got {
                    Ok(ev) => {
                        if let Some(ty) = visible(&filter, &ev)
                            && tx.send(enc.event::<T>(ty, None, &ev.json, cluster.now())).await.is_err()
                        {
                            return;
                        }
                    }
                    // Too slow to keep up: end the stream; the client re-watches from its last
                    // resourceVersion and catches up from history, as with a real server.
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return,
                },
            }
        }
    });
    Ok(resp)
}

/// Sends the queued changes and then a bookmark at the store's resourceVersion. Draining under the
/// store lock guarantees no change at or below the bookmark is still in flight.
async fn send_bookmark<T: Served>(
    cluster: &super::cluster::Cluster,
    rx: &mut tokio::sync::broadcast::Receiver<Arc<WatchEvent<T>>>,
    filter: &Filter,
    enc: &mut Encoder,
    tx: &mpsc::Sender<Bytes>,
) -> Result<(), ()> {
    let (pending, rv) = {
        let store = cluster.store();
        let mut pending = Vec::new();
        loop {
            match rx.try_recv() {
                Ok(ev) => pending.push(ev),
                Err(TryRecvError::Empty) => break,
                Err(_) => return Err(()),
            }
        }
        (pending, store.resource_version())
    };
    let now = cluster.now();
    for ev in pending {
        if let Some(ty) = visible(filter, &ev) {
            tx.send(enc.event::<T>(ty, None, &ev.json, now))
                .await
                .map_err(|_| ())?;
        }
    }
    tx.send(enc.bookmark(rv, false)).await.map_err(|_| ())
}
