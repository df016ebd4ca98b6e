//! Where a pod's `/metrics` are: the `prometheus.io/scrape|port|path|scheme` annotations that
//! Prometheus's Kubernetes examples relabel on, else a container port named `metrics` or
//! `http-metrics`.

use k8s_openapi::api::core::v1::Pod;

use crate::kube::rows::{Scrape, ScrapeSpec};

/// Container port names that mean "metrics here" without any annotation.
const METRICS_PORT_NAMES: [&str; 2] = ["metrics", "http-metrics"];

pub(super) fn scrape(pod: &Pod) -> Scrape {
    let annotations = pod.metadata.annotations.as_ref();
    let get = |k: &str| {
        annotations
            .and_then(|a| a.get(k))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let named = named_port(pod);
    match get("prometheus.io/scrape") {
        Some("false") => Scrape::OptedOut,
        Some("true") => Scrape::At(ScrapeSpec {
            port: get("prometheus.io/port")
                .map(|p| resolve(pod, p))
                .or(named)
                .or_else(|| first_port(pod)),
            path: path(get("prometheus.io/path")),
            scheme: scheme(get("prometheus.io/scheme")),
        }),
        _ => match named {
            Some(port) => Scrape::At(ScrapeSpec {
                port: Some(port),
                path: path(get("prometheus.io/path")),
                scheme: scheme(get("prometheus.io/scheme")),
            }),
            None => Scrape::Unsaid,
        },
    }
}

fn path(annotated: Option<&str>) -> Option<String> {
    annotated.map(|p| {
        if p.starts_with('/') {
            p.to_string()
        } else {
            format!("/{p}")
        }
    })
}

/// A port annotation naming a container port (`http-metrics`) as its number: the API server's
/// pod proxy takes numbers.
fn resolve(pod: &Pod, port: &str) -> String {
    if port.parse::<u16>().is_ok() {
        return port.to_string();
    }
    ports(pod)
        .find(|p| p.name.as_deref() == Some(port))
        .map_or_else(|| port.to_string(), |p| p.container_port.to_string())
}

fn scheme(annotated: Option<&str>) -> String {
    match annotated {
        Some(s) if s.eq_ignore_ascii_case("https") => "https".to_string(),
        _ => "http".to_string(),
    }
}

fn ports(pod: &Pod) -> impl Iterator<Item = &k8s_openapi::api::core::v1::ContainerPort> {
    pod.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
}

/// The number of the first container port named `metrics` or `http-metrics`.
fn named_port(pod: &Pod) -> Option<String> {
    ports(pod)
        .find(|p| {
            p.name
                .as_deref()
                .is_some_and(|n| METRICS_PORT_NAMES.contains(&n))
        })
        .map(|p| p.container_port.to_string())
}

fn first_port(pod: &Pod) -> Option<String> {
    ports(pod).next().map(|p| p.container_port.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(annotations: serde_json::Value, ports: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "n", "annotations": annotations},
            "spec": {"containers": [{"name": "app", "image": "x", "ports": ports}]},
        }))
        .unwrap()
    }

    fn at(port: &str, path: Option<&str>) -> Scrape {
        Scrape::At(ScrapeSpec {
            port: Some(port.into()),
            path: path.map(str::to_string),
            scheme: "http".into(),
        })
    }

    #[test]
    fn annotations_name_port_and_path() {
        let p = pod(
            serde_json::json!({"prometheus.io/scrape": "true", "prometheus.io/port": "9187",
                               "prometheus.io/path": "metrics/pg"}),
            serde_json::json!([{"containerPort": 8080}]),
        );
        assert_eq!(scrape(&p), at("9187", Some("/metrics/pg")));
    }

    #[test]
    fn a_port_named_metrics_is_enough_and_false_opts_out() {
        let named = serde_json::json!([{"containerPort": 8080, "name": "http"},
                                       {"containerPort": 9090, "name": "http-metrics"}]);
        assert_eq!(
            scrape(&pod(serde_json::json!({}), named.clone())),
            at("9090", None)
        );
        assert_eq!(
            scrape(&pod(
                serde_json::json!({"prometheus.io/scrape": "false"}),
                named
            )),
            Scrape::OptedOut
        );
        let unnamed = serde_json::json!([{"containerPort": 8080, "name": "http"}]);
        assert_eq!(
            scrape(&pod(serde_json::json!({}), unnamed.clone())),
            Scrape::Unsaid
        );
        // Annotated without a port: the named port, else the first one.
        assert_eq!(
            scrape(&pod(
                serde_json::json!({"prometheus.io/scrape": "true"}),
                unnamed
            )),
            at("8080", None)
        );
        // A named port in the annotation becomes its number.
        let p = pod(
            serde_json::json!({"prometheus.io/scrape": "true", "prometheus.io/port": "web"}),
            serde_json::json!([{"containerPort": 3001, "name": "web"}]),
        );
        assert_eq!(scrape(&p), at("3001", None));
    }
}
