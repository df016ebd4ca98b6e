//! Printers for the core/v1 kinds other than Pod: Namespace, Node, Service, ResourceQuota and Event.

use std::collections::BTreeSet;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, Namespace, Node, ResourceQuota, Service};
use serde_json::Value;

use super::{Column, NAME_DESC, Printable, age, format_labels, micro_since, name, since};

impl Printable for Namespace {
    fn column_definitions() -> Vec<Column> {
        vec![
            Column::name(),
            Column::new("Status", "string", "The status of the namespace"),
            Column::age(),
        ]
    }

    fn cells(&self, now: Timestamp) -> Vec<Value> {
        let phase = self.status.as_ref().and_then(|s| s.phase.clone());
        vec![
            name(&self.metadata),
            phase.unwrap_or_default().into(),
            age(&self.metadata, now),
        ]
    }
}

const NODE_ADDRESSES_DESC: &str = "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";

impl Printable for Node {
    fn column_definitions() -> Vec<Column> {
        vec![
            Column::name(),
            Column::new("Status", "string", "The status of the node"),
            Column::new("Roles", "string", "The roles of the node"),
            Column::age(),
            Column::new("Version", "string", "Kubelet Version reported by the node."),
            Column::new("Internal-IP", "string", NODE_ADDRESSES_DESC).wide(),
            Column::new("External-IP", "string", NODE_ADDRESSES_DESC).wide(),
            Column::new(
                "OS-Image",
                "string",
                "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
            )
            .wide(),
            Column::new(
                "Kernel-Version",
                "string",
                "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
            )
            .wide(),
            Column::new(
                "Container-Runtime",
                "string",
                "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
            )
            .wide(),
        ]
    }

    fn cells(&self, now: Timestamp) -> Vec<Value> {
        let status = self.status.as_ref();
        // Only the Ready condition counts; with duplicates the last one wins (Go fills a map).
        let ready = status
            .and_then(|s| s.conditions.as_deref())
            .unwrap_or_default()
            .iter()
            .rev()
            .find(|c| c.type_ == "Ready");
        let mut states = vec![match ready {
            Some(c) if c.status == "True" => "Ready",
            Some(_) => "NotReady",
            None => "Unknown",
        }];
        if self
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false)
        {
            states.push("SchedulingDisabled");
        }

        let info = status.and_then(|s| s.node_info.as_ref());
        let field = |f: fn(&k8s_openapi::api::core::v1::NodeSystemInfo) -> &String| {
            info.map(f).map(String::as_str).unwrap_or("")
        };
        let or_unknown = |s: &str| -> Value {
            if s.is_empty() {
                "<unknown>".into()
            } else {
                s.into()
            }
        };
        let address = |type_: &str| -> Value {
            status
                .and_then(|s| s.addresses.as_deref())
                .unwrap_or_default()
                .iter()
                .find(|a| a.type_ == type_)
                .map_or_else(|| "<none>".into(), |a| a.address.clone().into())
        };

        vec![
            name(&self.metadata),
            states.join(",").into(),
            node_roles(self).into(),
            age(&self.metadata, now),
            field(|i| &i.kubelet_version).into(),
            address("InternalIP"),
            address("ExternalIP"),
            or_unknown(field(|i| &i.os_image)),
            or_unknown(field(|i| &i.kernel_version)),
            or_unknown(field(|i| &i.container_runtime_version)),
        ]
    }
}

/// `findNodeRoles`: `node-role.kubernetes.io/<role>` label keys and the `kubernetes.io/role`
/// label's value, sorted and de-duplicated.
fn node_roles(node: &Node) -> String {
    let mut roles = BTreeSet::new();
    for (k, v) in node.metadata.labels.iter().flatten() {
        if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.insert(role.to_owned());
            }
        } else if k == "kubernetes.io/role" && !v.is_empty() {
            roles.insert(v.clone());
        }
    }
    if roles.is_empty() {
        return "<none>".to_owned();
    }
    roles.into_iter().collect::<Vec<_>>().join(",")
}

impl Printable for Service {
    fn column_definitions() -> Vec<Column> {
        vec![
            Column::name(),
            Column::new(
                "Type",
                "string",
                "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types",
            ),
            Column::new(
                "Cluster-IP",
                "string",
                "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
            ),
            Column::new(
                "External-IP",
                "string",
                "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.",
            ),
            Column::new(
                "Port(s)",
                "string",
                "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
            ),
            Column::age(),
            Column::new(
                "Selector",
                "string",
                "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/",
            )
            .wide(),
        ]
    }

    fn cells(&self, now: Timestamp) -> Vec<Value> {
        let spec = self.spec.as_ref();
        let svc_type = spec.and_then(|s| s.type_.as_deref()).unwrap_or("ClusterIP");
        // clusterIPs[0] is clusterIP once defaulted; an object that only sets clusterIP means it.
        let cluster_ip = spec
            .and_then(|s| s.cluster_ips.as_ref())
            .and_then(|ips| ips.first())
            .or(spec
                .and_then(|s| s.cluster_ip.as_ref())
                .filter(|ip| !ip.is_empty()))
            .cloned()
            .unwrap_or_else(|| "<none>".to_owned());
        let ports = spec
            .and_then(|s| s.ports.as_deref())
            .unwrap_or_default()
            .iter()
            .map(|p| {
                let protocol = p.protocol.as_deref().unwrap_or("TCP");
                match p.node_port {
                    Some(np) if np > 0 => format!("{}:{np}/{protocol}", p.port),
                    _ => format!("{}/{protocol}", p.port),
                }
            })
            .collect::<Vec<_>>()
            .join(",");
        vec![
            name(&self.metadata),
            svc_type.into(),
            cluster_ip.into(),
            external_ip(self, svc_type).into(),
            (if ports.is_empty() {
                "<none>".to_owned()
            } else {
                ports
            })
            .into(),
            age(&self.metadata, now),
            format_labels(spec.and_then(|s| s.selector.as_ref())).into(),
        ]
    }
}

impl Printable for ResourceQuota {
    fn column_definitions() -> Vec<Column> {
        vec![
            Column::name(),
            Column::age(),
            Column::new(
                "Request",
                "string",
                "Request represents a minimum amount of cpu/memory that a container may consume.",
            ),
            Column::new(
                "Limit",
                "string",
                "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
            ),
        ]
    }

    /// `printResourceQuota`: `resource: used/hard` for every resource in `spec.hard`, sorted by
    /// name; `limits.*` resources go to LIMIT, all others to REQUEST. A quantity missing from the
    /// status prints as 0.
    fn cells(&self, now: Timestamp) -> Vec<Value> {
        let hard = self.spec.as_ref().and_then(|s| s.hard.as_ref());
        let status = self.status.as_ref();
        let quantity = |map: Option<
            &std::collections::BTreeMap<
                String,
                k8s_openapi::apimachinery::pkg::api::resource::Quantity,
            >,
        >,
                        key: &str| {
            map.and_then(|m| m.get(key))
                .map_or_else(|| "0".to_owned(), |q| q.0.clone())
        };
        let mut request = Vec::new();
        let mut limit = Vec::new();
        // BTreeMap keys are already sorted as SortableResourceNames sorts them.
        for key in hard.into_iter().flat_map(|h| h.keys()) {
            let cell = format!(
                "{key}: {}/{}",
                quantity(status.and_then(|s| s.used.as_ref()), key),
                quantity(status.and_then(|s| s.hard.as_ref()), key)
            );
            let is_limit = key.split('.').count() > 1 && key.starts_with("limits.");
            if is_limit {
                limit.push(cell);
            } else {
                request.push(cell);
            }
        }
        vec![
            name(&self.metadata),
            age(&self.metadata, now),
            request.join(", ").into(),
            limit.join(", ").into(),
        ]
    }
}

/// `getServiceExternalIP` as the server calls it (wide, so load-balancer addresses are never
/// clipped to 16 characters).
fn external_ip(svc: &Service, svc_type: &str) -> String {
    let spec = svc.spec.as_ref();
    let external_ips = spec
        .and_then(|s| s.external_ips.as_deref())
        .unwrap_or_default();
    match svc_type {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_owned()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let lb: BTreeSet<&str> = svc
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_deref())
                .unwrap_or_default()
                .iter()
                .filter_map(|i| {
                    i.ip.as_deref()
                        .filter(|ip| !ip.is_empty())
                        .or(i.hostname.as_deref().filter(|h| !h.is_empty()))
                })
                .collect();
            let mut all: Vec<&str> = lb.into_iter().collect();
            if !external_ips.is_empty() {
                all.extend(external_ips.iter().map(String::as_str));
                return all.join(",");
            }
            if all.is_empty() {
                "<pending>".to_owned()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => spec
            .and_then(|s| s.external_name.clone())
            .unwrap_or_default(),
        _ => "<unknown>".to_owned(),
    }
}

impl Printable for Event {
    fn column_definitions() -> Vec<Column> {
        vec![
            Column::new(
                "Last Seen",
                "string",
                "The time at which the most recent occurrence of this event was recorded.",
            ),
            Column::new(
                "Type",
                "string",
                "Type of this event (Normal, Warning), new types could be added in the future",
            ),
            Column::new(
                "Reason",
                "string",
                "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
            ),
            Column::new("Object", "string", "The object that this event is about."),
            Column::new(
                "Subobject",
                "string",
                "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.",
            )
            .wide(),
            Column::new(
                "Source",
                "string",
                "The component reporting this event. Should be a short machine understandable string.",
            )
            .wide(),
            Column::new(
                "Message",
                "string",
                "A human-readable description of the status of this operation.",
            ),
            Column::new(
                "First Seen",
                "string",
                "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
            )
            .wide(),
            Column::new(
                "Count",
                "string",
                "The number of times this event has occurred.",
            )
            .wide(),
            Column::new("Name", "string", NAME_DESC)
                .format("name")
                .wide(),
        ]
    }

    fn cells(&self, now: Timestamp) -> Vec<Value> {
        // Events from the events.k8s.io API have only eventTime (and a series when repeated).
        let first_seen = match &self.first_timestamp {
            Some(t) => since(Some(t), now),
            None => micro_since(self.event_time.as_ref(), now),
        };
        let mut last_seen = match &self.last_timestamp {
            Some(t) => since(Some(t), now),
            None => first_seen.clone(),
        };
        let mut count = self.count.unwrap_or(0);
        if let Some(series) = &self.series {
            last_seen = micro_since(series.last_observed_time.as_ref(), now);
            count = series.count.unwrap_or(0);
        } else if count == 0 {
            count = 1;
        }

        let involved = &self.involved_object;
        let kind = involved.kind.as_deref().unwrap_or("").to_lowercase();
        let target = match involved.name.as_deref() {
            Some(n) if !n.is_empty() => format!("{kind}/{n}"),
            _ => kind,
        };

        let source = self.source.as_ref();
        let component = first_non_empty(
            source.and_then(|s| s.component.as_deref()),
            self.reporting_component.as_deref(),
        );
        let host = first_non_empty(
            source.and_then(|s| s.host.as_deref()),
            self.reporting_instance.as_deref(),
        );
        let source = if host.is_empty() {
            component.to_owned()
        } else {
            format!("{component}, {host}")
        };

        vec![
            last_seen.into(),
            self.type_.clone().unwrap_or_default().into(),
            self.reason.clone().unwrap_or_default().into(),
            target.into(),
            involved.field_path.clone().unwrap_or_default().into(),
            source.into(),
            self.message.as_deref().unwrap_or("").trim().into(),
            first_seen.into(),
            i64::from(count).into(),
            name(&self.metadata),
        ]
    }
}

fn first_non_empty<'a>(a: Option<&'a str>, b: Option<&'a str>) -> &'a str {
    [a, b]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty())
        .unwrap_or("")
}
