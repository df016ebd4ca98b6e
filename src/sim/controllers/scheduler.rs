//! The scheduler: binds each waiting pod to the feasible node running the fewest pods (ties by
//! name), or marks it Unschedulable with kube-scheduler's wording of why no node fits.
//!
//! Filters modelled: node readiness (as the node lifecycle controller's not-ready/unreachable
//! taints), cordoning, NoSchedule/NoExecute taints against tolerations, nodeSelector, and the node's
//! pod capacity. Resource requests, affinity and preemption itself are not simulated.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod, PodCondition, Taint, Toleration};

use super::super::events::{self, Source};
use super::super::store::Store;
use super::cache::{Cache, key_of, pods_at};
use super::{by_age, quantity, time};

const SOURCE: Source<'static> = Source {
    component: "default-scheduler",
    host: None,
};

/// The kubelet's default `maxPods`.
const DEFAULT_MAX_PODS: usize = 110;

pub(super) fn reconcile(store: &mut Store, now: Timestamp, cache: &mut Cache) {
    if std::mem::take(&mut cache.retry_unschedulable) {
        cache.unschedulable.clear();
    }
    let mut waiting: Vec<Arc<Pod>> = pods_at(
        store,
        cache
            .unscheduled
            .iter()
            .filter(|key| !cache.unschedulable.contains(*key)),
    );
    if waiting.is_empty() {
        return;
    }
    // The scheduling queue orders pods of equal priority by age.
    waiting.sort_by(|a, b| by_age(&a.metadata, &b.metadata));
    let nodes = store.list::<Node>(None);
    let mut load = cache.per_node.clone();
    for pod in waiting {
        let scheduler = pod.spec.as_ref().and_then(|s| s.scheduler_name.as_deref());
        if scheduler.is_some_and(|s| s != "default-scheduler") {
            continue;
        }
        match pick(&pod, &nodes, &load) {
            Ok(node) => bind(store, now, &pod, &node, &mut load),
            Err(message) => {
                unschedulable(store, now, &pod, message);
                cache.unschedulable.insert(key_of(&pod.metadata));
            }
        }
    }
}

fn bind(
    store: &mut Store,
    now: Timestamp,
    pod: &Pod,
    node: &str,
    load: &mut HashMap<String, usize>,
) {
    let (ns, name) = (
        pod.metadata.namespace.as_deref().unwrap_or(""),
        pod.metadata.name.as_deref().unwrap_or(""),
    );
    let bound = store.mutate::<Pod>(ns, name, |p| {
        p.spec.get_or_insert_with(Default::default).node_name = Some(node.to_string());
        set_scheduled(p, now, "True", None, None);
    });
    if let Ok(bound) = bound {
        *load.entry(node.to_string()).or_default() += 1;
        let message = format!("Successfully assigned {ns}/{name} to {node}");
        events::record(
            store,
            now,
            events::reference(&*bound.obj(), None),
            "Normal",
            "Scheduled",
            message,
            SOURCE,
        );
    }
}

/// Records the failure once per distinct reason; the real scheduler's retries only bump the
/// event's count, which a pass-per-tick loop would turn into a write on every tick.
fn unschedulable(store: &mut Store, now: Timestamp, pod: &Pod, message: String) {
    let already = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .into_iter()
        .flatten()
        .any(|c| {
            c.type_ == "PodScheduled"
                && c.status == "False"
                && c.message.as_deref() == Some(&message)
        });
    if already {
        return;
    }
    let (ns, name) = (
        pod.metadata.namespace.as_deref().unwrap_or(""),
        pod.metadata.name.as_deref().unwrap_or(""),
    );
    let msg = message.clone();
    if let Ok(stored) = store.mutate::<Pod>(ns, name, |p| {
        set_scheduled(p, now, "False", Some("Unschedulable"), Some(msg));
    }) {
        events::record(
            store,
            now,
            events::reference(&*stored.obj(), None),
            "Warning",
            "FailedScheduling",
            message,
            SOURCE,
        );
    }
}

fn set_scheduled(
    pod: &mut Pod,
    now: Timestamp,
    status: &str,
    reason: Option<&str>,
    message: Option<String>,
) {
    let conditions = pod
        .status
        .get_or_insert_with(Default::default)
        .conditions
        .get_or_insert_with(Vec::new);
    let transition = conditions
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == status)
        .and_then(|c| c.last_transition_time.clone())
        .or_else(|| time(now));
    conditions.retain(|c| c.type_ != "PodScheduled");
    conditions.push(PodCondition {
        type_: "PodScheduled".into(),
        status: status.into(),
        reason: reason.map(str::to_string),
        message,
        last_transition_time: transition,
        ..Default::default()
    });
}

/// Why a node does not fit, worded as the scheduler's filter plugins word it, and whether
/// preempting other pods could help.
enum Misfit {
    Unresolvable(String),
    Resolvable(String),
}

fn pick(
    pod: &Pod,
    nodes: &[std::sync::Arc<Node>],
    load: &HashMap<String, usize>,
) -> Result<String, String> {
    if nodes.is_empty() {
        return Err("no nodes available to schedule pods".into());
    }
    let mut best: Option<(usize, &str)> = None;
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut preemption: BTreeMap<&str, usize> = BTreeMap::new();
    for node in nodes {
        let name = node.metadata.name.as_deref().unwrap_or("");
        let pods_on = load.get(name).copied().unwrap_or(0);
        match misfit(pod, node, pods_on) {
            None => {
                if best.is_none_or(|(n, b)| (pods_on, name) < (n, b)) {
                    best = Some((pods_on, name));
                }
            }
            Some(m) => {
                let (reason, hint) = match m {
                    Misfit::Unresolvable(r) => (r, "Preemption is not helpful for scheduling"),
                    Misfit::Resolvable(r) => (r, "No preemption victims found for incoming pod"),
                };
                *reasons.entry(reason).or_default() += 1;
                *preemption.entry(hint).or_default() += 1;
            }
        }
    }
    if let Some((_, name)) = best {
        return Ok(name.to_string());
    }
    let n = nodes.len();
    let histogram = |counts: Vec<String>| {
        let mut counts = counts;
        counts.sort();
        counts.join(", ")
    };
    let filters = histogram(reasons.iter().map(|(r, c)| format!("{c} {r}")).collect());
    let preempt = histogram(preemption.iter().map(|(r, c)| format!("{c} {r}")).collect());
    Err(format!(
        "0/{n} nodes are available: {filters}. preemption: 0/{n} nodes are available: {preempt}."
    ))
}

/// The first filter the node fails, in the scheduler's plugin order.
fn misfit(pod: &Pod, node: &Node, pods_on: usize) -> Option<Misfit> {
    let spec = pod.spec.as_ref();
    let node_spec = node.spec.as_ref();
    if node_spec.and_then(|s| s.unschedulable).unwrap_or(false)
        && !tolerated(
            spec.and_then(|s| s.tolerations.as_deref()),
            &unschedulable_taint(),
        )
    {
        return Some(Misfit::Unresolvable("node(s) were unschedulable".into()));
    }
    let tolerations = spec.and_then(|s| s.tolerations.as_deref());
    let untolerated = taints(node)
        .into_iter()
        .filter(|t| matches!(t.effect.as_str(), "NoSchedule" | "NoExecute"))
        .find(|t| !tolerated(tolerations, t));
    if let Some(t) = untolerated {
        let value = t.value.as_deref().unwrap_or("");
        return Some(Misfit::Unresolvable(format!(
            "node(s) had untolerated taint {{{}: {value}}}",
            t.key
        )));
    }
    let node_labels = node.metadata.labels.as_ref();
    let selector_ok = spec
        .and_then(|s| s.node_selector.as_ref())
        .into_iter()
        .flatten()
        .all(|(k, v)| node_labels.and_then(|l| l.get(k)) == Some(v));
    if !selector_ok {
        return Some(Misfit::Unresolvable(
            "node(s) didn't match Pod's node affinity/selector".into(),
        ));
    }
    let max_pods = node
        .status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .and_then(|a| a.get("pods"))
        .and_then(|q| quantity(&q.0))
        .map_or(DEFAULT_MAX_PODS, |n| n as usize);
    if pods_on >= max_pods {
        return Some(Misfit::Resolvable("Too many pods".into()));
    }
    None
}

fn unschedulable_taint() -> Taint {
    Taint {
        key: "node.kubernetes.io/unschedulable".into(),
        effect: "NoSchedule".into(),
        ..Default::default()
    }
}

/// The node's taints plus the ones the node lifecycle controller adds for a node that is not Ready.
fn taints(node: &Node) -> Vec<Taint> {
    let mut taints: Vec<Taint> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.as_str());
    // A node that never reported is taken as healthy: the simulator's nodes are unless told otherwise.
    let implied = match ready {
        None | Some("True") => None,
        Some("False") => Some("node.kubernetes.io/not-ready"),
        Some(_) => Some("node.kubernetes.io/unreachable"),
    };
    if let Some(key) = implied
        && !taints.iter().any(|t| t.key == key)
    {
        taints.push(Taint {
            key: key.into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        });
    }
    taints
}

/// `Toleration.ToleratesTaint`.
fn tolerated(tolerations: Option<&[Toleration]>, taint: &Taint) -> bool {
    tolerations.into_iter().flatten().any(|t| {
        let effect_ok = t
            .effect
            .as_deref()
            .is_none_or(|e| e.is_empty() || e == taint.effect);
        let key_ok = t
            .key
            .as_deref()
            .is_none_or(|k| k.is_empty() || k == taint.key);
        let value_ok = match t.operator.as_deref() {
            Some("Exists") => true,
            _ => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        };
        effect_ok && key_ok && value_ok
    })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{Event, Node, Pod};

    use super::super::testing::*;

    fn node_of(p: &Pod) -> String {
        p.spec
            .as_ref()
            .unwrap()
            .node_name
            .clone()
            .unwrap_or_default()
    }

    #[test]
    fn spreads_pods_over_ready_nodes_and_records_events() {
        let mut h = Harness::with_nodes(&["node-b", "node-a", "node-c"]);
        h.store
            .mutate::<Node>("", "node-c", |n| set_ready(n, "False"))
            .unwrap();
        h.create_deployment(deployment("web", 4));
        h.step();
        h.step();
        let pods = h.store.list::<Pod>(Some(NS));
        let mut nodes: Vec<_> = pods.iter().map(|p| node_of(p)).collect();
        nodes.sort();
        assert_eq!(nodes, ["node-a", "node-a", "node-b", "node-b"]);
        let p = &pods[0];
        let cond = p.status.as_ref().unwrap().conditions.as_ref().unwrap();
        assert!(
            cond.iter()
                .any(|c| c.type_ == "PodScheduled" && c.status == "True")
        );
        let name = p.metadata.name.clone().unwrap();
        let msg = format!("Successfully assigned {NS}/{name} to {}", node_of(p));
        assert!(
            h.store
                .list::<Event>(Some(NS))
                .iter()
                .any(|e| e.message.as_deref() == Some(&msg)
                    && e.source.as_ref().unwrap().component.as_deref()
                        == Some("default-scheduler"))
        );
    }

    #[test]
    fn explains_why_nothing_fits() {
        let mut h = Harness::without_nodes();
        h.create_deployment(deployment("web", 1));
        h.step();
        h.step();
        let pod = &h.store.list::<Pod>(Some(NS))[0];
        let cond = pod.status.as_ref().unwrap().conditions.as_ref().unwrap();
        let sched = cond.iter().find(|c| c.type_ == "PodScheduled").unwrap();
        assert_eq!(sched.status, "False");
        assert_eq!(sched.reason.as_deref(), Some("Unschedulable"));
        assert_eq!(
            sched.message.as_deref(),
            Some("no nodes available to schedule pods")
        );
        // A repeat of the same failure writes nothing.
        let rv = h.store.resource_version();
        h.step();
        assert_eq!(h.store.resource_version(), rv);

        h.add_node("node-1");
        h.store
            .mutate::<Node>("", "node-1", |n| set_ready(n, "False"))
            .unwrap();
        h.add_node("node-2");
        h.store
            .mutate::<Node>("", "node-2", |n| {
                n.spec.get_or_insert_with(Default::default).unschedulable = Some(true)
            })
            .unwrap();
        h.step();
        let pod = &h.store.list::<Pod>(Some(NS))[0];
        let cond = pod.status.as_ref().unwrap().conditions.as_ref().unwrap();
        let sched = cond.iter().find(|c| c.type_ == "PodScheduled").unwrap();
        assert_eq!(
            sched.message.as_deref(),
            Some(
                "0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, \
                 1 node(s) were unschedulable. preemption: 0/2 nodes are available: \
                 2 Preemption is not helpful for scheduling."
            )
        );
        let failures = h
            .store
            .list::<Event>(Some(NS))
            .iter()
            .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
            .count();
        assert_eq!(failures, 2);

        h.store
            .mutate::<Node>("", "node-1", |n| set_ready(n, "True"))
            .unwrap();
        h.step();
        assert_eq!(node_of(&h.store.list::<Pod>(Some(NS))[0]), "node-1");
    }
}
