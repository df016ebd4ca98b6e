//! The kubelet's memory of one pod: sandbox and address, its containers, deletion, and the times
//! its conditions last changed.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;

use super::lifecycle::{CState, CtrRt, Ctx};
use super::runtime::NodeRt;
use crate::sim::app::{pick, stable_hash};

/// Most transitions one pod may make in one tick: a clock that jumped hours ahead replays them,
/// but a bug can never spin the cluster loop.
const MAX_STEPS: usize = 20_000;

/// A condition's value and when it last changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cond {
    pub status: bool,
    pub since: Timestamp,
}

impl Cond {
    fn set(&mut self, status: bool, t: Timestamp) -> bool {
        if self.status == status {
            return false;
        }
        *self = Cond { status, since: t };
        true
    }
}

#[derive(Debug)]
pub struct PodRt {
    pub uid: String,
    pub node: String,
    pub host_ip: String,
    pub slot: Option<u32>,
    pub pod_ip: Option<String>,
    /// When the kubelet admitted the pod: `startTime`, and the probe workers' phase.
    pub accepted_at: Timestamp,
    /// When the sandbox will be up; None once it is.
    sandbox_at: Option<Timestamp>,
    pub containers: Vec<CtrRt>,
    pub deleting: bool,
    /// PodReadyToStartContainers.
    pub sandbox: Cond,
    /// Ready and ContainersReady (the same without readiness gates).
    pub ready: Cond,
    /// The status needs writing.
    pub dirty: bool,
    /// The key this pod has in the due index.
    pub indexed: Option<Timestamp>,
}

impl PodRt {
    pub fn new(pod: &Pod, node_name: &str, node: &NodeRt, seed: u64, now: Timestamp) -> Self {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let sandbox_delay = pick(stable_hash(seed ^ 21, &[uid.as_bytes()]), 300, 900);
        let containers = pod
            .spec
            .as_ref()
            .map(|s| s.containers.as_slice())
            .unwrap_or(&[]);
        Self {
            uid,
            node: node_name.to_string(),
            host_ip: node.host_ip.clone(),
            slot: None,
            pod_ip: None,
            accepted_at: now,
            sandbox_at: Some(now + SignedDuration::from_millis(sandbox_delay)),
            containers: containers.iter().map(|c| CtrRt::new(c, now)).collect(),
            deleting: false,
            sandbox: Cond {
                status: false,
                since: now,
            },
            ready: Cond {
                status: false,
                since: now,
            },
            dirty: true,
            indexed: None,
        }
    }

    pub fn due(&self) -> Option<Timestamp> {
        self.containers
            .iter()
            .filter_map(CtrRt::due)
            .chain(self.sandbox_at)
            .min()
    }

    /// Deleted, and every container has stopped: the kubelet may remove the pod.
    pub fn finished(&self) -> bool {
        self.deleting
            && self
                .containers
                .iter()
                .all(|c| matches!(c.state, CState::Done))
    }

    /// Runs every transition due up to `now`, in time order.
    pub fn advance(&mut self, ctx: &mut Ctx<'_>, now: Timestamp) {
        for _ in 0..MAX_STEPS {
            match self.due() {
                Some(t) if t <= now => self.step_at(ctx, t),
                _ => return,
            }
        }
    }

    fn step_at(&mut self, ctx: &mut Ctx<'_>, t: Timestamp) {
        if self.sandbox_at.is_some_and(|s| s <= t) {
            self.sandbox_at = None;
            let slot = ctx.node.ips.allocate();
            self.slot = Some(slot);
            self.pod_ip = Some(ctx.node.pod_ip(slot));
            self.sandbox.set(true, t);
            if let Some(first) = self.containers.first_mut()
                && let CState::Creating { at: at @ None, .. } = &mut first.state
            {
                *at = Some(t);
            }
        }
        let pod_ip = self.pod_ip.clone().unwrap_or_default();
        let mut ctx = Ctx {
            app: ctx.app,
            seed: ctx.seed,
            pod: ctx.pod,
            pod_ip: &pod_ip,
            node: &mut *ctx.node,
            events: &mut *ctx.events,
        };
        for i in 0..self.containers.len() {
            if self.containers[i].due().is_none_or(|d| d > t) {
                continue;
            }
            let first_start = self.containers[i].step(&mut ctx, i, t);
            // Containers start one after the other, each once the one before it runs.
            if first_start
                && let Some(next) = self.containers.get_mut(i + 1)
                && let CState::Creating { at: at @ None, .. } = &mut next.state
            {
                *at = Some(t);
            }
        }
        self.dirty = true;
        let all_ready = !self.containers.is_empty() && self.containers.iter().all(|c| c.ready);
        self.ready.set(all_ready, t);
        if self.finished() {
            // The sandbox goes with the last container.
            self.sandbox.set(false, t);
        }
    }

    /// Notices what changed in the stored pod: deletion and image changes.
    pub fn observe(&mut self, ctx: &mut Ctx<'_>, now: Timestamp) {
        let pod = ctx.pod;
        if pod.metadata.deletion_timestamp.is_some() && !self.deleting {
            self.deleting = true;
            self.dirty = true;
            let grace = pod
                .metadata
                .deletion_grace_period_seconds
                .or_else(|| pod.spec.as_ref()?.termination_grace_period_seconds)
                .unwrap_or(30);
            self.sandbox_at = None;
            for c in &mut self.containers {
                c.begin_deletion(ctx, now, grace);
            }
            return;
        }
        if self.deleting {
            return;
        }
        let specs = pod
            .spec
            .as_ref()
            .map(|s| s.containers.as_slice())
            .unwrap_or(&[]);
        for (c, spec) in self.containers.iter_mut().zip(specs) {
            if spec.image.as_deref().unwrap_or("") != c.image {
                c.change_image(ctx, now);
                // Until the new image is pulled, the status keeps naming the old one.
                self.dirty = true;
            }
        }
    }
}
