//! What the detail view fetches on demand: one GET of the object, its conditions and the facts
//! the rows leave out (pod IP, QoS class, rollout settings).

use std::time::Duration;

use ::kube::Client;
use ::kube::api::Api;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::de::DeserializeOwned;

use super::convert::{controller, int_or_string, time};
use super::error::from_kube;
use super::{ClusterId, Condition, Detail, DetailError, Kind, ObjKey};

/// A detail fetch gives up after this long: someone is looking at the screen, waiting.
pub const DETAIL_TIMEOUT: Duration = Duration::from_secs(15);

/// GETs the object and gathers its conditions and facts. Errors are written for people
/// (`pod shop/web-1: not found`, `timed out after 15s`).
pub async fn fetch_detail(
    client: Client,
    cluster: ClusterId,
    kind: Kind,
    key: ObjKey,
) -> Result<Detail, DetailError> {
    let fail = |message: String| DetailError {
        cluster,
        kind,
        key: key.clone(),
        message,
    };
    let what = format!("{} {}", singular(kind), key);
    let (conditions, facts) = match kind {
        Kind::Pod => pod(&get::<Pod>(&client, &key, &what).await.map_err(fail)?),
        Kind::Deployment => deployment(&get(&client, &key, &what).await.map_err(fail)?),
        Kind::ReplicaSet => replicaset(&get(&client, &key, &what).await.map_err(fail)?),
        Kind::Hpa => hpa(&get(&client, &key, &what).await.map_err(fail)?),
        Kind::Event => {
            return Err(fail(
                "events have no detail view: the row holds all there is".into(),
            ));
        }
    };
    Ok(Detail {
        cluster,
        kind,
        key,
        conditions,
        facts,
    })
}

fn singular(kind: Kind) -> &'static str {
    match kind {
        Kind::Pod => "pod",
        Kind::Deployment => "deployment",
        Kind::ReplicaSet => "replicaset",
        Kind::Hpa => "hpa",
        Kind::Event => "event",
    }
}

async fn get<K>(client: &Client, key: &ObjKey, what: &str) -> Result<K, String>
where
    K: ::kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::namespaced(client.clone(), &key.namespace);
    match tokio::time::timeout(DETAIL_TIMEOUT, api.get(&key.name)).await {
        Ok(Ok(obj)) => Ok(obj),
        Ok(Err(e)) => {
            let failure = from_kube(what, &e);
            Err(if failure.transport {
                format!("{what}: {}", failure.text)
            } else {
                failure.text
            })
        }
        Err(_) => Err(format!(
            "{what}: no answer within {}s",
            DETAIL_TIMEOUT.as_secs()
        )),
    }
}

type Parts = (Vec<Condition>, Vec<(String, String)>);

fn fact(facts: &mut Vec<(String, String)>, name: &str, value: impl Into<String>) {
    let value = value.into();
    if !value.is_empty() {
        facts.push((name.to_string(), value));
    }
}

fn when(t: Option<Timestamp>) -> String {
    t.map(|t| t.to_string()).unwrap_or_default()
}

fn condition(
    kind: &str,
    status: &str,
    reason: &Option<String>,
    message: &Option<String>,
    at: &Option<Time>,
) -> Condition {
    let some = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    Condition {
        kind: kind.to_string(),
        status: status.to_string(),
        reason: some(reason),
        message: some(message),
        last_transition: time(at),
    }
}

fn pod(p: &Pod) -> Parts {
    let status = p.status.as_ref();
    let spec = p.spec.as_ref();
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            condition(
                &c.type_,
                &c.status,
                &c.reason,
                &c.message,
                &c.last_transition_time,
            )
        })
        .collect();
    let mut facts = Vec::new();
    let ips: Vec<&str> = status
        .and_then(|s| s.pod_ips.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|ip| ip.ip.as_str())
        .collect();
    let ips = if ips.is_empty() {
        status.and_then(|s| s.pod_ip.clone()).unwrap_or_default()
    } else {
        ips.join(", ")
    };
    fact(
        &mut facts,
        "Node",
        spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
    );
    fact(&mut facts, "Pod IP", ips);
    fact(
        &mut facts,
        "Host IP",
        status.and_then(|s| s.host_ip.clone()).unwrap_or_default(),
    );
    fact(
        &mut facts,
        "QoS class",
        status.and_then(|s| s.qos_class.clone()).unwrap_or_default(),
    );
    fact(
        &mut facts,
        "Started",
        when(status.and_then(|s| time(&s.start_time))),
    );
    fact(
        &mut facts,
        "Phase",
        status.and_then(|s| s.phase.clone()).unwrap_or_default(),
    );
    fact(
        &mut facts,
        "Reason",
        status.and_then(|s| s.reason.clone()).unwrap_or_default(),
    );
    fact(
        &mut facts,
        "Message",
        status.and_then(|s| s.message.clone()).unwrap_or_default(),
    );
    if let Some((kind, name)) = controller(&p.metadata) {
        fact(&mut facts, "Controlled by", format!("{kind}/{name}"));
    }
    fact(
        &mut facts,
        "Restart policy",
        spec.and_then(|s| s.restart_policy.clone())
            .unwrap_or_default(),
    );
    (conditions, facts)
}

fn deployment_condition(c: &DeploymentCondition) -> Condition {
    condition(
        &c.type_,
        &c.status,
        &c.reason,
        &c.message,
        &c.last_transition_time,
    )
}

fn deployment(d: &Deployment) -> Parts {
    let spec = d.spec.as_ref();
    let status = d.status.as_ref();
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .map(deployment_condition)
        .collect();
    let mut facts = Vec::new();
    let strategy = spec.and_then(|s| s.strategy.as_ref());
    let text = if strategy.and_then(|s| s.type_.as_deref()) == Some("Recreate") {
        "Recreate".to_string()
    } else {
        let rolling = strategy.and_then(|s| s.rolling_update.as_ref());
        format!(
            "RollingUpdate: max surge {}, max unavailable {}",
            int_or_string(rolling.and_then(|r| r.max_surge.as_ref()), "25%"),
            int_or_string(rolling.and_then(|r| r.max_unavailable.as_ref()), "25%")
        )
    };
    fact(&mut facts, "Strategy", text);
    // The API's defaults where the spec is silent, so the reader sees what is in force.
    let seconds = |v: Option<i32>, default: i32| format!("{}s", v.unwrap_or(default));
    fact(
        &mut facts,
        "Min ready",
        seconds(spec.and_then(|s| s.min_ready_seconds), 0),
    );
    fact(
        &mut facts,
        "Progress deadline",
        seconds(spec.and_then(|s| s.progress_deadline_seconds), 600),
    );
    fact(
        &mut facts,
        "Revision history limit",
        spec.and_then(|s| s.revision_history_limit)
            .unwrap_or(10)
            .to_string(),
    );
    let n = |v: Option<i32>| v.unwrap_or(0);
    fact(
        &mut facts,
        "Replicas",
        format!(
            "{} desired | {} updated | {} total | {} available | {} unavailable",
            spec.and_then(|s| s.replicas).unwrap_or(1),
            n(status.and_then(|s| s.updated_replicas)),
            n(status.and_then(|s| s.replicas)),
            n(status.and_then(|s| s.available_replicas)),
            n(status.and_then(|s| s.unavailable_replicas)),
        ),
    );
    let selector = spec
        .and_then(|s| s.selector.match_labels.as_ref())
        .map(|l| {
            l.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    fact(&mut facts, "Selector", selector);
    if spec.and_then(|s| s.paused) == Some(true) {
        fact(
            &mut facts,
            "Paused",
            "yes: rollouts wait until it is resumed",
        );
    }
    (conditions, facts)
}

fn replicaset(rs: &ReplicaSet) -> Parts {
    let status = rs.status.as_ref();
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            condition(
                &c.type_,
                &c.status,
                &c.reason,
                &c.message,
                &c.last_transition_time,
            )
        })
        .collect();
    let mut facts = Vec::new();
    if let Some((kind, name)) = controller(&rs.metadata) {
        fact(&mut facts, "Controlled by", format!("{kind}/{name}"));
    }
    fact(
        &mut facts,
        "Replicas",
        format!(
            "{} desired | {} current | {} ready",
            rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            status.map_or(0, |s| s.replicas),
            status.and_then(|s| s.ready_replicas).unwrap_or(0),
        ),
    );
    (conditions, facts)
}

fn hpa(h: &HorizontalPodAutoscaler) -> Parts {
    let status = h.status.as_ref();
    let spec = h.spec.as_ref();
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            condition(
                &c.type_,
                &c.status,
                &c.reason,
                &c.message,
                &c.last_transition_time,
            )
        })
        .collect();
    let mut facts = Vec::new();
    if let Some(s) = spec {
        let target = &s.scale_target_ref;
        fact(
            &mut facts,
            "Scale target",
            format!("{}/{}", target.kind, target.name),
        );
        fact(
            &mut facts,
            "Bounds",
            format!(
                "{} to {} replicas",
                s.min_replicas.unwrap_or(1),
                s.max_replicas
            ),
        );
    }
    if let Some(s) = status {
        fact(
            &mut facts,
            "Replicas",
            format!(
                "{} current | {} desired",
                s.current_replicas.unwrap_or(0),
                s.desired_replicas
            ),
        );
        fact(&mut facts, "Last scaled", when(time(&s.last_scale_time)));
    }
    (conditions, facts)
}
