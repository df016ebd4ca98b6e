//! Where lines come from: one container of one pod in one cluster, and the short label a line is
//! prefixed with (pod suffix, container when the pod has several, cluster when the tail spans
//! several), readable without colour.

use std::collections::HashMap;

use crate::kube::ClusterId;

/// Index of a source in its [`Sources`]; lines carry it instead of their names.
pub type SourceId = u32;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceKey {
    pub cluster: ClusterId,
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub key: SourceKey,
    /// `x2kqd`, `x2kqd/sidecar`, `eastus x2kqd`.
    pub label: String,
    /// The pod went away (deleted, replaced by a rollout).
    pub gone: bool,
}

/// The sources of one tail, in the order they appeared.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    list: Vec<Source>,
    index: HashMap<SourceKey, SourceId>,
}

impl Sources {
    /// The id of `key`, registering it (with the label `label` makes) when it is new.
    pub fn id(&mut self, key: &SourceKey, label: impl FnOnce() -> String) -> SourceId {
        if let Some(&id) = self.index.get(key) {
            return id;
        }
        let id = self.list.len() as SourceId;
        self.list.push(Source {
            key: key.clone(),
            label: label(),
            gone: false,
        });
        self.index.insert(key.clone(), id);
        id
    }

    pub fn lookup(&self, key: &SourceKey) -> Option<SourceId> {
        self.index.get(key).copied()
    }

    pub fn get(&self, id: SourceId) -> Option<&Source> {
        self.list.get(id as usize)
    }

    pub fn get_mut(&mut self, id: SourceId) -> Option<&mut Source> {
        self.list.get_mut(id as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Source> {
        self.list.iter()
    }

    /// Pods (not containers) still there.
    pub fn live_pods(&self) -> usize {
        let mut pods: Vec<(ClusterId, &str)> = self
            .list
            .iter()
            .filter(|s| !s.gone)
            .map(|s| (s.key.cluster, s.key.pod.as_str()))
            .collect();
        pods.sort_unstable();
        pods.dedup();
        pods.len()
    }

    /// The widest label, for aligning the prefix column.
    pub fn label_width(&self) -> usize {
        use unicode_width::UnicodeWidthStr;
        self.list.iter().map(|s| s.label.width()).max().unwrap_or(0)
    }
}

/// The part of a pod name that tells its replicas apart: `web-7f9c4-x2kqd` → `x2kqd`.
pub fn pod_suffix(pod: &str) -> &str {
    match pod.rsplit_once('-') {
        Some((_, tail)) if !tail.is_empty() => tail,
        _ => pod,
    }
}

/// A source's prefix: the pod suffix, `/container` when its pod has several, and the cluster
/// first when the tail spans clusters.
pub fn label(key: &SourceKey, several_containers: bool, cluster: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(c) = cluster {
        out.push_str(c);
        out.push(' ');
    }
    out.push_str(pod_suffix(&key.pod));
    if several_containers {
        out.push('/');
        out.push_str(&key.container);
    }
    out
}
