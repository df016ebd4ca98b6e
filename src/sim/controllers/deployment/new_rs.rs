//! The new ReplicaSet, after `getNewReplicaSet`: finding the one that runs the current template,
//! keeping its revision and annotations current, and creating it (`<deployment>-<hash>`) when
//! the template is new.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::super::hash::{self, POD_TEMPLATE_HASH};
use super::super::{by_age, controller_of, controller_ref, nonzero};
use super::status::{self, Cond, PROGRESSING};
use super::util::*;
use super::{Sets, Sync};

impl Sync<'_> {
    /// `getAllReplicaSetsAndSyncRevision` without creating: finds the ReplicaSet of the current
    /// template (the oldest match) and brings its annotations and the deployment's revision up to date.
    pub(super) fn split(&mut self, mut rss: Vec<Arc<ReplicaSet>>) -> Sets {
        rss.sort_by(|a, b| by_age(&a.metadata, &b.metadata));
        let template = &self.d.spec.as_ref().expect("checked by run").template;
        let matches = |fast: bool| {
            rss.iter().position(|rs| {
                let Some(t) = rs.spec.as_ref().and_then(|s| s.template.as_ref()) else {
                    return false;
                };
                if fast {
                    hash::equal_ignore_hash_fast(t, template)
                } else {
                    hash::equal_ignore_hash(t, template)
                }
            })
        };
        // The semantic comparison serializes every template, so it only runs when no copy matches.
        let found = matches(true).or_else(|| matches(false));
        let new = found.map(|i| rss.remove(i));
        let mut sets = Sets { new, old: rss };
        if let Some(new) = sets.new.clone() {
            let new = self.sync_new_rs_annotations(&new, max_revision(&sets.old) + 1);
            let name = new.metadata.name.clone().unwrap_or_default();
            self.revision = new
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(REVISION))
                .cloned()
                .or(self.revision.take());
            if progress_deadline(self.d).is_some()
                && status::condition(&self.status, PROGRESSING).is_none()
            {
                let cond = Cond::new(
                    PROGRESSING,
                    "True",
                    "FoundNewReplicaSet",
                    format!("Found new replica set {name:?}"),
                );
                status::set_condition(&mut self.status, cond.at(self.now));
            }
            sets.new = Some(new);
        }
        sets
    }

    pub(super) fn sync_new_rs_annotations(
        &mut self,
        rs: &Arc<ReplicaSet>,
        new_revision: i64,
    ) -> Arc<ReplicaSet> {
        let mut ann = rs.metadata.annotations.clone().unwrap_or_default();
        let changed = set_new_rs_annotations(self.d, &mut ann, new_revision, true);
        let min_ready = min_ready_seconds(self.d);
        let rs_min_ready = rs
            .spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0);
        if !changed && rs_min_ready == min_ready {
            return Arc::clone(rs);
        }
        let name = rs.metadata.name.clone().unwrap_or_default();
        match self
            .store
            .mutate::<ReplicaSet>(self.namespace(), &name, |r| {
                r.metadata.annotations = Some(ann);
                r.spec
                    .get_or_insert_with(Default::default)
                    .min_ready_seconds = nonzero(min_ready);
            }) {
            Ok(stored) => stored.obj(),
            Err(_) => Arc::clone(rs),
        }
    }

    /// The creating half of `getNewReplicaSet`. `None` means the sync stops here: a name collision
    /// (collisionCount is raised for the next try) or a failed create.
    pub(super) fn create_new_rs(&mut self, old: &[Arc<ReplicaSet>]) -> Option<Arc<ReplicaSet>> {
        let d = self.d;
        let spec = d.spec.as_ref().expect("checked by run");
        let hash = hash::template_hash(&spec.template, self.status.collision_count);
        let mut template = spec.template.clone();
        template
            .metadata
            .get_or_insert_with(Default::default)
            .labels
            .get_or_insert_with(Default::default)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector = spec.selector.clone();
        selector
            .match_labels
            .get_or_insert_with(Default::default)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let name = format!("{}-{hash}", d.metadata.name.as_deref().unwrap_or(""));
        let labels = template.metadata.as_ref().and_then(|m| m.labels.clone());
        let current: i32 = old.iter().map(|rs| rs_replicas(rs)).sum();
        let replicas = new_rs_replicas(d, current, 0);
        let new_revision = max_revision(old) + 1;
        let mut annotations = Default::default();
        set_new_rs_annotations(d, &mut annotations, new_revision, false);
        let rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: d.metadata.namespace.clone(),
                labels,
                annotations: Some(annotations),
                owner_references: Some(vec![controller_ref("apps/v1", "Deployment", &d.metadata)]),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                min_ready_seconds: nonzero(min_ready_seconds(d)),
                selector,
                template: Some(template),
            }),
            status: None,
        };
        let created = match self.store.create(rs, self.now) {
            Ok(stored) => stored.obj(),
            Err(e) if e.reason == "AlreadyExists" => {
                let existing = self.store.get::<ReplicaSet>(self.namespace(), &name)?;
                let ours = controller_of(&existing.metadata).map(|o| o.uid.as_str())
                    == d.metadata.uid.as_deref();
                let same = existing
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .is_some_and(|t| hash::equal_ignore_hash(&spec.template, t));
                if ours && same {
                    self.revision = Some(new_revision.to_string());
                    return Some(existing);
                }
                self.status.collision_count = Some(self.status.collision_count.unwrap_or(0) + 1);
                return None;
            }
            Err(e) => {
                let msg = format!("Failed to create new replica set {name:?}: {}", e.message);
                if progress_deadline(d).is_some() {
                    let cond =
                        Cond::new(PROGRESSING, "False", "ReplicaSetCreateError", msg.clone());
                    status::set_condition(&mut self.status, cond.at(self.now));
                }
                self.event("Warning", "ReplicaSetCreateError", msg);
                return None;
            }
        };
        if replicas > 0 {
            self.event(
                "Normal",
                "ScalingReplicaSet",
                format!("Scaled up replica set {name} from 0 to {replicas}"),
            );
        }
        self.revision = Some(new_revision.to_string());
        if progress_deadline(d).is_some() {
            let cond = Cond::new(
                PROGRESSING,
                "True",
                "NewReplicaSetCreated",
                format!("Created new replica set {name:?}"),
            );
            status::set_condition(&mut self.status, cond.at(self.now));
        }
        Some(created)
    }
}

/// `NewRSNewReplicas`: how big the new ReplicaSet may be, given `current` replicas across all.
pub(super) fn new_rs_replicas(d: &Deployment, current: i32, new_size: i32) -> i32 {
    let replicas = replicas(d);
    if !is_rolling(d) {
        return replicas;
    }
    let max_total = replicas + max_surge(d);
    if current >= max_total {
        return new_size;
    }
    new_size + (max_total - current).min(replicas - new_size)
}
