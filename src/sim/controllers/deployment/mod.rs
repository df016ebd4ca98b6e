//! The deployment controller: one ReplicaSet per pod template, revisions, scaling, rollouts and
//! status, after kube-controller-manager's `pkg/controller/deployment`.
//!
//! Each Deployment is synced as the real `syncDeployment` does it (claim ReplicaSets; paused or
//! scaling event → `sync`; otherwise the strategy's rollout), except that the status and revision
//! the real controller writes in several `UpdateStatus` calls are collected and written once.

use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};

use super::super::events::{self, Source};
use super::super::selector::LabelSelector;
use super::super::store::Store;
use super::cache::Cache;
use super::{controller_of, controller_ref};

mod new_rs;
mod rollout;
mod scale;
mod status;
#[cfg(test)]
mod tests;
mod util;

use util::*;

const SOURCE: Source<'static> = Source {
    component: "deployment-controller",
    host: None,
};

pub(super) fn reconcile(store: &mut Store, now: Timestamp, cache: &mut Cache) {
    let mut keys = std::mem::take(&mut cache.dirty_deployments);
    keys.extend(cache.requeue_deployments.iter().cloned());
    for (ns, name) in keys {
        let Some(d) = store.get::<Deployment>(&ns, &name) else {
            cache.requeue_deployments.remove(&(ns, name));
            continue;
        };
        let uid = d.metadata.uid.as_deref().unwrap_or("");
        let mine = cache.replicasets_of(uid);
        let orphans: Vec<_> = cache
            .rs_orphans
            .get(&ns)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        let waiting = Sync::new(store, now, &d, cache).run(mine, orphans);
        if waiting {
            cache.requeue_deployments.insert((ns, name));
        } else {
            cache.requeue_deployments.remove(&(ns, name));
        }
    }
}

/// The ReplicaSets of one Deployment: the one running its current template, and the others.
struct Sets {
    new: Option<Arc<ReplicaSet>>,
    old: Vec<Arc<ReplicaSet>>,
}

impl Sets {
    fn all(&self) -> Vec<Arc<ReplicaSet>> {
        self.old.iter().chain(self.new.as_ref()).cloned().collect()
    }

    /// The old ReplicaSets that still want replicas.
    fn active_old(&self) -> Vec<Arc<ReplicaSet>> {
        self.old
            .iter()
            .filter(|rs| util::rs_replicas(rs) > 0)
            .cloned()
            .collect()
    }

    /// Puts a freshly written ReplicaSet in place of its older copy.
    fn replace(&mut self, updated: Arc<ReplicaSet>) {
        let name = &updated.metadata.name;
        if let Some(new) = self.new.as_mut().filter(|n| &n.metadata.name == name) {
            *new = updated;
        } else if let Some(old) = self.old.iter_mut().find(|o| &o.metadata.name == name) {
            *old = updated;
        }
    }
}

/// The sync of one Deployment, with the status and revision it will write at the end.
struct Sync<'a> {
    store: &'a mut Store,
    now: Timestamp,
    d: &'a Deployment,
    cache: &'a Cache,
    status: DeploymentStatus,
    revision: Option<String>,
}

impl<'a> Sync<'a> {
    fn new(store: &'a mut Store, now: Timestamp, d: &'a Deployment, cache: &'a Cache) -> Self {
        let revision = d
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(REVISION))
            .cloned();
        Self {
            store,
            now,
            d,
            cache,
            status: d.status.clone().unwrap_or_default(),
            revision,
        }
    }

    /// Syncs the Deployment; true when it waits on time (a progress deadline) rather than on a change.
    fn run(mut self, mine: Vec<Arc<ReplicaSet>>, orphans: Vec<Arc<ReplicaSet>>) -> bool {
        let d = self.d;
        let Some(spec) = d.spec.as_ref() else {
            return false;
        };
        let sel = &spec.selector;
        if sel.match_labels.as_ref().is_none_or(|m| m.is_empty())
            && sel.match_expressions.as_ref().is_none_or(|e| e.is_empty())
        {
            // Warned once per generation: a repeated event would be a write on every pass.
            if self.status.observed_generation < d.metadata.generation {
                self.event(
                    "Warning",
                    "SelectingAll",
                    "This deployment is selecting all pods. A non-empty selector is required."
                        .into(),
                );
                self.status.observed_generation = d.metadata.generation;
            }
            self.write();
            return false;
        }
        let Ok(selector) = LabelSelector::from_k8s(sel) else {
            return false;
        };
        let rss = self.claim(mine, orphans, &selector);
        if d.metadata.deletion_timestamp.is_some() {
            let sets = self.split(rss);
            self.status = self.calculate_status(&sets);
        } else {
            self.check_paused_conditions();
            let sets = self.split(rss);
            if paused(d) || self.is_scaling_event(&sets) {
                self.sync(sets);
            } else if is_rolling(d) {
                self.rollout_rolling(sets);
            } else {
                self.rollout_recreate(sets);
            }
        }
        let waiting =
            progress_deadline(d).is_some() && !paused(d) && status::in_progress(&self.status);
        self.write();
        waiting
    }

    fn event(&mut self, type_: &str, reason: &str, message: String) {
        let involved = events::reference(self.d, None);
        events::record(
            self.store, self.now, involved, type_, reason, message, SOURCE,
        );
    }

    fn namespace(&self) -> &'a str {
        self.d.metadata.namespace.as_deref().unwrap_or("")
    }

    /// `ClaimReplicaSets`: keeps the owned ReplicaSets the selector still matches, releases the
    /// others, and adopts orphans it matches.
    fn claim(
        &mut self,
        mine: Vec<Arc<ReplicaSet>>,
        orphans: Vec<Arc<ReplicaSet>>,
        selector: &LabelSelector,
    ) -> Vec<Arc<ReplicaSet>> {
        let uid = self.d.metadata.uid.clone().unwrap_or_default();
        let deleting = self.d.metadata.deletion_timestamp.is_some();
        let mut claimed = Vec::with_capacity(mine.len());
        for rs in mine {
            if deleting || selector.matches(rs.metadata.labels.as_ref()) {
                claimed.push(rs);
                continue;
            }
            let name = rs.metadata.name.clone().unwrap_or_default();
            let _ = self
                .store
                .mutate::<ReplicaSet>(self.namespace(), &name, |r| {
                    if let Some(refs) = r.metadata.owner_references.as_mut() {
                        refs.retain(|o| o.uid != uid);
                    }
                });
        }
        if deleting {
            return claimed;
        }
        let owner = controller_ref("apps/v1", "Deployment", &self.d.metadata);
        for rs in orphans {
            if !selector.matches(rs.metadata.labels.as_ref()) {
                continue;
            }
            // Another Deployment may have taken it earlier in this pass.
            let name = rs.metadata.name.clone().unwrap_or_default();
            let still_orphan = self
                .store
                .get::<ReplicaSet>(self.namespace(), &name)
                .is_some_and(|r| controller_of(&r.metadata).is_none());
            if !still_orphan {
                continue;
            }
            let owner = owner.clone();
            if let Ok(stored) = self
                .store
                .mutate::<ReplicaSet>(self.namespace(), &name, |r| {
                    r.metadata
                        .owner_references
                        .get_or_insert_with(Vec::new)
                        .push(owner);
                })
            {
                claimed.push(stored.obj());
            }
        }
        claimed
    }

    /// Writes the status and revision if the sync changed them.
    fn write(self) {
        let d = self.d;
        let stored_revision = d
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(REVISION));
        let revision_changed = self.revision.is_some() && self.revision.as_ref() != stored_revision;
        let status_changed = d.status.as_ref() != Some(&self.status);
        if !revision_changed && !status_changed {
            return;
        }
        let (ns, name) = (self.namespace(), d.metadata.name.as_deref().unwrap_or(""));
        let (status, revision) = (self.status, self.revision);
        let _ = self.store.mutate::<Deployment>(ns, name, |o| {
            o.status = Some(status);
            if let Some(rev) = revision {
                o.metadata
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert(REVISION.into(), rev);
            }
        });
    }
}
