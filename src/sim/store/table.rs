//! One kind's objects: the table, its bounded change history and the broadcast of live changes
//! that watches read.

use std::collections::{BTreeMap, VecDeque};
use std::marker::PhantomData;
use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::broadcast;

use super::{Key, Stored};
use crate::sim::object::SimObject;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// What a label or field selector can see of an object: enough to filter a watch without
/// keeping every past version of the object alive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    pub namespace: String,
    pub name: String,
    pub labels: Option<BTreeMap<String, String>>,
    /// The values of `T::FIELDS`, in order.
    pub fields: Box<[String]>,
}

impl Selection {
    pub fn of<T: SimObject>(obj: &T) -> Self {
        let meta = obj.metadata();
        Self {
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            labels: meta.labels.clone(),
            fields: T::FIELDS
                .iter()
                .map(|f| obj.extra_field(f).unwrap_or_default())
                .collect(),
        }
    }

    /// A field-selector value; None means `T` does not support that field.
    pub fn field<T: SimObject>(&self, path: &str) -> Option<String> {
        match path {
            "metadata.name" => Some(self.name.clone()),
            "metadata.namespace" => Some(self.namespace.clone()),
            _ => T::FIELDS
                .iter()
                .position(|f| *f == path)
                .map(|i| self.fields[i].clone()),
        }
    }
}

/// One change, as a watch delivers it. History keeps these for a while, so they hold the JSON (the
/// table's own, shared) and the selectable state, not the typed object (which is several times
/// larger): readers that need the object look up its current state in the table, as an informer
/// would, or decode the JSON (the final state of a deleted object).
#[derive(Debug)]
pub struct WatchEvent<T> {
    pub rv: u64,
    pub ty: EventType,
    pub key: Key,
    pub json: Bytes,
    pub sel: Selection,
    /// The selectable state before a MODIFIED change, when it differs, so a filtered watch can
    /// tell an object that stopped matching (sent as DELETED) from one that started to (ADDED).
    pub prev_sel: Option<Selection>,
    _kind: PhantomData<fn() -> T>,
}

impl<T: SimObject> WatchEvent<T> {
    pub fn new(
        rv: u64,
        ty: EventType,
        key: Key,
        json: Bytes,
        sel: Selection,
        prev_sel: Option<Selection>,
    ) -> Self {
        Self {
            rv,
            ty,
            key,
            json,
            sel,
            prev_sel,
            _kind: PhantomData,
        }
    }

    /// The object as of this change, decoded from its JSON (for Table output, and the final state
    /// of a deleted object).
    pub fn decode(&self) -> Option<T> {
        serde_json::from_slice(&self.json).ok()
    }
}

/// Outcome of asking for the changes after a resourceVersion.
pub enum Since<T> {
    Events(Vec<Arc<WatchEvent<T>>>),
    /// The history no longer reaches back that far: the watch must answer 410 Expired.
    Expired {
        oldest: u64,
    },
}

/// All objects of one kind.
#[derive(Debug)]
pub struct Table<T> {
    pub(super) items: BTreeMap<Key, Stored<T>>,
    pub(super) history: VecDeque<Arc<WatchEvent<T>>>,
    /// Changes at or below this resourceVersion may be missing from `history`.
    pub(super) compacted_rv: u64,
    pub(super) tx: broadcast::Sender<Arc<WatchEvent<T>>>,
}

/// How many live changes a slow watcher may fall behind before its stream is ended (it then
/// re-watches from its last resourceVersion, served from history). The channel keeps this many
/// recent changes alive until they are overwritten, so it stays well below the history length.
const BROADCAST_CAPACITY: usize = 256;

impl<T: SimObject> Table<T> {
    pub(super) fn new() -> Self {
        Self {
            items: BTreeMap::new(),
            history: VecDeque::new(),
            compacted_rv: 0,
            tx: broadcast::channel(BROADCAST_CAPACITY).0,
        }
    }

    pub fn get(&self, namespace: &str, name: &str) -> Option<&Stored<T>> {
        self.items.get(&(namespace.to_string(), name.to_string()))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Objects in key order, in one namespace or all, starting after `after` (for `continue`).
    pub fn range<'a>(
        &'a self,
        namespace: Option<&'a str>,
        after: Option<&Key>,
    ) -> impl Iterator<Item = (&'a Key, &'a Stored<T>)> + 'a {
        let lower = match (after, namespace) {
            (Some(k), _) => Bound::Excluded(k.clone()),
            (None, Some(ns)) => Bound::Included((ns.to_string(), String::new())),
            (None, None) => Bound::Unbounded,
        };
        self.items
            .range((lower, Bound::Unbounded))
            .take_while(move |(k, _)| namespace.is_none_or(|ns| k.0 == ns))
    }

    /// Every object, typed (kinds kept as JSON alone are decoded one by one).
    pub fn objects(&self) -> impl Iterator<Item = Arc<T>> + '_ {
        self.items.values().map(Stored::obj)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<WatchEvent<T>>> {
        self.tx.subscribe()
    }

    /// The changes with a resourceVersion above `rv`, oldest first.
    pub fn since(&self, rv: u64) -> Since<T> {
        if rv < self.compacted_rv {
            let oldest = self.history.front().map_or(self.compacted_rv + 1, |e| e.rv);
            return Since::Expired { oldest };
        }
        let start = self.history.partition_point(|e| e.rv <= rv);
        Since::Events(self.history.range(start..).cloned().collect())
    }

    pub(super) fn record(&mut self, event: WatchEvent<T>, limit: usize) {
        let event = Arc::new(event);
        // A send error only means nobody is watching right now.
        let _ = self.tx.send(Arc::clone(&event));
        self.history.push_back(event);
        while self.history.len() > limit {
            if let Some(old) = self.history.pop_front() {
                self.compacted_rv = old.rv;
            }
        }
    }
}
