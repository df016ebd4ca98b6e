//! The resources the simulated API server serves: names, scopes, verbs and subresources.
//!
//! Discovery, routing and RBAC all read this one table, so the server advertises exactly what it serves.

/// An endpoint family. Two families can share one store (events in two groups, HPAs in two versions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Res {
    Namespaces,
    Nodes,
    Pods,
    Services,
    ResourceQuotas,
    Events,
    EventsV1,
    Deployments,
    ReplicaSets,
    HpaV1,
    HpaV2,
    SelfSubjectAccessReviews,
}

/// A subresource and what it answers.
#[derive(Debug)]
pub struct SubInfo {
    pub name: &'static str,
    /// `(group, version, kind)` of the subresource's own type, when it differs from the parent's.
    pub kind: (&'static str, &'static str, &'static str),
    pub verbs: &'static [&'static str],
}

#[derive(Debug)]
pub struct ResInfo {
    pub res: Res,
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub verbs: &'static [&'static str],
    pub subresources: &'static [SubInfo],
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const READ_VERBS: &[&str] = &["get", "list", "watch"];
const RW: &[&str] = &["get", "patch", "update"];

const fn sub(name: &'static str, verbs: &'static [&'static str]) -> SubInfo {
    SubInfo {
        name,
        kind: ("", "", ""),
        verbs,
    }
}

pub static RESOURCES: &[ResInfo] = &[
    ResInfo {
        res: Res::Namespaces,
        group: "",
        version: "v1",
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        short_names: &["ns"],
        categories: &[],
        verbs: &[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ],
        subresources: &[sub("status", RW)],
    },
    ResInfo {
        res: Res::Nodes,
        group: "",
        version: "v1",
        plural: "nodes",
        singular: "node",
        kind: "Node",
        namespaced: false,
        short_names: &["no"],
        categories: &[],
        verbs: ALL_VERBS,
        subresources: &[sub("status", RW)],
    },
    ResInfo {
        res: Res::Pods,
        group: "",
        version: "v1",
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        namespaced: true,
        short_names: &["po"],
        categories: &["all"],
        verbs: ALL_VERBS,
        subresources: &[
            SubInfo {
                name: "log",
                kind: ("", "v1", "Pod"),
                verbs: &["get"],
            },
            SubInfo {
                name: "proxy",
                kind: ("", "v1", "PodProxyOptions"),
                verbs: &["create", "delete", "get", "patch", "update"],
            },
            sub("status", RW),
        ],
    },
    ResInfo {
        res: Res::Services,
        group: "",
        version: "v1",
        plural: "services",
        singular: "service",
        kind: "Service",
        namespaced: true,
        short_names: &["svc"],
        categories: &["all"],
        verbs: &[
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ],
        subresources: &[
            SubInfo {
                name: "proxy",
                kind: ("", "v1", "ServiceProxyOptions"),
                verbs: &["create", "delete", "get", "patch", "update"],
            },
            sub("status", RW),
        ],
    },
    ResInfo {
        res: Res::ResourceQuotas,
        group: "",
        version: "v1",
        plural: "resourcequotas",
        singular: "resourcequota",
        kind: "ResourceQuota",
        namespaced: true,
        short_names: &["quota"],
        categories: &[],
        verbs: ALL_VERBS,
        subresources: &[sub("status", RW)],
    },
    ResInfo {
        res: Res::Events,
        group: "",
        version: "v1",
        plural: "events",
        singular: "event",
        kind: "Event",
        namespaced: true,
        short_names: &["ev"],
        categories: &[],
        verbs: ALL_VERBS,
        subresources: &[],
    },
    ResInfo {
        res: Res::EventsV1,
        group: "events.k8s.io",
        version: "v1",
        plural: "events",
        singular: "event",
        kind: "Event",
        namespaced: true,
        short_names: &["ev"],
        categories: &[],
        verbs: READ_VERBS,
        subresources: &[],
    },
    ResInfo {
        res: Res::Deployments,
        group: "apps",
        version: "v1",
        plural: "deployments",
        singular: "deployment",
        kind: "Deployment",
        namespaced: true,
        short_names: &["deploy"],
        categories: &["all"],
        verbs: ALL_VERBS,
        subresources: &[
            SubInfo {
                name: "scale",
                kind: ("autoscaling", "v1", "Scale"),
                verbs: RW,
            },
            sub("status", RW),
        ],
    },
    ResInfo {
        res: Res::ReplicaSets,
        group: "apps",
        version: "v1",
        plural: "replicasets",
        singular: "replicaset",
        kind: "ReplicaSet",
        namespaced: true,
        short_names: &["rs"],
        categories: &["all"],
        verbs: ALL_VERBS,
        subresources: &[
            SubInfo {
                name: "scale",
                kind: ("autoscaling", "v1", "Scale"),
                verbs: RW,
            },
            sub("status", RW),
        ],
    },
    ResInfo {
        res: Res::HpaV2,
        group: "autoscaling",
        version: "v2",
        plural: "horizontalpodautoscalers",
        singular: "horizontalpodautoscaler",
        kind: "HorizontalPodAutoscaler",
        namespaced: true,
        short_names: &["hpa"],
        categories: &["all"],
        verbs: ALL_VERBS,
        subresources: &[sub("status", RW)],
    },
    ResInfo {
        res: Res::HpaV1,
        group: "autoscaling",
        version: "v1",
        plural: "horizontalpodautoscalers",
        singular: "horizontalpodautoscaler",
        kind: "HorizontalPodAutoscaler",
        namespaced: true,
        short_names: &["hpa"],
        categories: &["all"],
        verbs: READ_VERBS,
        subresources: &[],
    },
    ResInfo {
        res: Res::SelfSubjectAccessReviews,
        group: "authorization.k8s.io",
        version: "v1",
        plural: "selfsubjectaccessreviews",
        singular: "selfsubjectaccessreview",
        kind: "SelfSubjectAccessReview",
        namespaced: false,
        short_names: &[],
        categories: &[],
        verbs: &["create"],
        subresources: &[],
    },
];

/// The API groups in preference order, each with its versions (preferred first).
pub static GROUPS: &[(&str, &[&str])] = &[
    ("apps", &["v1"]),
    ("events.k8s.io", &["v1"]),
    ("authorization.k8s.io", &["v1"]),
    ("autoscaling", &["v2", "v1"]),
];

pub fn info(res: Res) -> &'static ResInfo {
    RESOURCES
        .iter()
        .find(|r| r.res == res)
        .expect("every Res has a row in RESOURCES")
}

pub fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static ResInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

pub fn in_group_version(group: &str, version: &str) -> impl Iterator<Item = &'static ResInfo> {
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

impl ResInfo {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn allows(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    pub fn subresource(&self, name: &str) -> Option<&'static SubInfo> {
        self.subresources.iter().find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_version_has_resources() {
        for (group, versions) in GROUPS {
            for v in *versions {
                assert!(in_group_version(group, v).next().is_some(), "{group}/{v}");
            }
        }
        assert_eq!(
            lookup("apps", "v1", "deployments").unwrap().kind,
            "Deployment"
        );
        assert!(lookup("apps", "v1", "statefulsets").is_none());
    }
}
