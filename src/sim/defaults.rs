//! Defaulting and the basic validation the real API server applies to what clients send, so an
//! object read back looks like one read from a real cluster (and `rollout undo` diffs stay quiet).

use serde_json::{Map, Value, json};

use super::kinds::Res;
use super::status::ApiError;

fn set_default(obj: &mut Map<String, Value>, key: &str, value: Value) {
    if obj.get(key).is_none_or(Value::is_null) {
        obj.insert(key.to_string(), value);
    }
}

fn object_at<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    v.get_mut(key).and_then(Value::as_object_mut)
}

/// Fills in the fields the API server defaults for `res`.
pub fn apply(res: Res, v: &mut Value) {
    match res {
        Res::Pods => {
            if let Some(spec) = object_at(v, "spec") {
                pod_spec(spec);
                set_default(spec, "serviceAccountName", "default".into());
                set_default(spec, "serviceAccount", "default".into());
                set_default(spec, "enableServiceLinks", true.into());
                set_default(spec, "priority", 0.into());
                set_default(spec, "preemptionPolicy", "PreemptLowerPriority".into());
                set_default(
                    spec,
                    "tolerations",
                    json!([
                        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
                    ]),
                );
            }
        }
        Res::Deployments => {
            if let Some(spec) = object_at(v, "spec") {
                set_default(spec, "replicas", 1.into());
                set_default(spec, "revisionHistoryLimit", 10.into());
                set_default(spec, "progressDeadlineSeconds", 600.into());
                set_default(
                    spec,
                    "strategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
                );
                if let Some(strategy) = spec.get_mut("strategy").and_then(Value::as_object_mut) {
                    set_default(strategy, "type", "RollingUpdate".into());
                    if strategy.get("type") == Some(&Value::from("RollingUpdate")) {
                        set_default(strategy, "rollingUpdate", json!({}));
                        if let Some(ru) = strategy
                            .get_mut("rollingUpdate")
                            .and_then(Value::as_object_mut)
                        {
                            set_default(ru, "maxSurge", "25%".into());
                            set_default(ru, "maxUnavailable", "25%".into());
                        }
                    }
                }
                template(spec);
            }
        }
        Res::ReplicaSets => {
            if let Some(spec) = object_at(v, "spec") {
                set_default(spec, "replicas", 1.into());
                template(spec);
            }
        }
        Res::Services => service(v),
        Res::Namespaces => {
            let name = v["metadata"]["name"].clone();
            if let Some(meta) = object_at(v, "metadata") {
                set_default(meta, "labels", json!({}));
                if let Some(labels) = meta.get_mut("labels").and_then(Value::as_object_mut) {
                    labels.insert("kubernetes.io/metadata.name".into(), name);
                }
            }
            let obj = v.as_object_mut().expect("checked to be an object");
            set_default(obj, "spec", json!({"finalizers": ["kubernetes"]}));
            set_default(obj, "status", json!({"phase": "Active"}));
        }
        _ => {}
    }
}

fn template(spec: &mut Map<String, Value>) {
    if let Some(tpl) = spec.get_mut("template").and_then(Value::as_object_mut) {
        set_default(tpl, "metadata", json!({}));
        if let Some(pod) = tpl.get_mut("spec").and_then(Value::as_object_mut) {
            pod_spec(pod);
        }
    }
}

fn pod_spec(spec: &mut Map<String, Value>) {
    set_default(spec, "restartPolicy", "Always".into());
    set_default(spec, "terminationGracePeriodSeconds", 30.into());
    set_default(spec, "dnsPolicy", "ClusterFirst".into());
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "schedulerName", "default-scheduler".into());
    for key in ["containers", "initContainers"] {
        if let Some(list) = spec.get_mut(key).and_then(Value::as_array_mut) {
            for c in list.iter_mut().filter_map(Value::as_object_mut) {
                container(c);
            }
        }
    }
}

fn container(c: &mut Map<String, Value>) {
    set_default(c, "terminationMessagePath", "/dev/termination-log".into());
    set_default(c, "terminationMessagePolicy", "File".into());
    set_default(c, "resources", json!({}));
    let image = c.get("image").and_then(Value::as_str).unwrap_or("");
    let tag = image
        .rsplit('/')
        .next()
        .unwrap_or("")
        .split_once(':')
        .map(|(_, t)| t);
    let policy = if image.contains('@') || tag.is_some_and(|t| t != "latest") {
        "IfNotPresent"
    } else {
        "Always"
    };
    set_default(c, "imagePullPolicy", policy.into());
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(p, "protocol", "TCP".into());
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe).and_then(Value::as_object_mut) {
            set_default(p, "timeoutSeconds", 1.into());
            set_default(p, "periodSeconds", 10.into());
            set_default(p, "successThreshold", 1.into());
            set_default(p, "failureThreshold", 3.into());
            if let Some(get) = p.get_mut("httpGet").and_then(Value::as_object_mut) {
                set_default(get, "scheme", "HTTP".into());
            }
        }
    }
}

fn service(v: &mut Value) {
    let seed = v["metadata"]["name"].as_str().unwrap_or("").to_string()
        + v["metadata"]["namespace"].as_str().unwrap_or("");
    let Some(spec) = object_at(v, "spec") else {
        return;
    };
    set_default(spec, "type", "ClusterIP".into());
    set_default(spec, "sessionAffinity", "None".into());
    set_default(spec, "internalTrafficPolicy", "Cluster".into());
    set_default(spec, "ipFamilies", json!(["IPv4"]));
    set_default(spec, "ipFamilyPolicy", "SingleStack".into());
    if spec.get("clusterIP").is_none_or(Value::is_null) {
        // A stable address per service name, inside the usual 10.96.0.0/12 service range.
        let h = seed.bytes().fold(2166136261u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(16777619)
        });
        let ip = format!("10.96.{}.{}", (h >> 8) % 255, (h % 253) + 2);
        spec.insert("clusterIP".into(), ip.clone().into());
        spec.insert("clusterIPs".into(), json!([ip]));
    }
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(p, "protocol", "TCP".into());
            let port = p.get("port").cloned().unwrap_or(Value::Null);
            set_default(p, "targetPort", port);
        }
    }
}

fn invalid(kind: &str, group: &str, name: &str, causes: Vec<String>) -> Result<(), ApiError> {
    if causes.is_empty() {
        return Ok(());
    }
    let text = if causes.len() == 1 {
        causes[0].clone()
    } else {
        format!("[{}]", causes.join(", "))
    };
    Err(ApiError::invalid(kind, group, name, &text))
}

fn pod_spec_causes(spec: &Value, prefix: &str, causes: &mut Vec<String>) {
    match spec["containers"].as_array() {
        Some(list) if !list.is_empty() => {
            for (i, c) in list.iter().enumerate() {
                if c["name"].as_str().is_none_or(str::is_empty) {
                    causes.push(format!("{prefix}.containers[{i}].name: Required value"));
                }
                if c["image"].as_str().is_none_or(str::is_empty) {
                    causes.push(format!("{prefix}.containers[{i}].image: Required value"));
                }
            }
        }
        _ => causes.push(format!("{prefix}.containers: Required value")),
    }
}

/// The checks whose failure a user would hit with kubectl: missing containers, images, a selector
/// that does not match the template, negative replicas.
pub fn validate(res: Res, name: &str, v: &Value) -> Result<(), ApiError> {
    let mut causes = Vec::new();
    match res {
        Res::Pods => {
            pod_spec_causes(&v["spec"], "spec", &mut causes);
            invalid("Pod", "", name, causes)
        }
        Res::Deployments | Res::ReplicaSets => {
            let spec = &v["spec"];
            if let Some(r) = spec["replicas"].as_i64().filter(|r| *r < 0) {
                causes.push(format!(
                    "spec.replicas: Invalid value: {r}: must be greater than or equal to 0"
                ));
            }
            let selector = &spec["selector"];
            let has_selector = selector["matchLabels"]
                .as_object()
                .is_some_and(|m| !m.is_empty())
                || selector["matchExpressions"]
                    .as_array()
                    .is_some_and(|m| !m.is_empty());
            if !has_selector {
                causes.push("spec.selector: Required value".into());
            } else if let Some(wanted) = selector["matchLabels"].as_object() {
                let labels = &spec["template"]["metadata"]["labels"];
                if wanted.iter().any(|(k, val)| &labels[k] != val) {
                    causes.push(
                        "spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`".into(),
                    );
                }
            }
            pod_spec_causes(&spec["template"]["spec"], "spec.template.spec", &mut causes);
            let kind = if res == Res::Deployments {
                "Deployment"
            } else {
                "ReplicaSet"
            };
            invalid(kind, "apps", name, causes)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_defaults_and_validation() {
        let mut d = json!({"metadata": {"name": "web"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                {"name": "app", "image": "web:1.0", "ports": [{"containerPort": 80}],
                 "readinessProbe": {"httpGet": {"path": "/readyz", "port": 80}}}]}}}});
        apply(Res::Deployments, &mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(c["readinessProbe"]["failureThreshold"], 3);
        assert!(validate(Res::Deployments, "web", &d).is_ok());

        d["spec"]["template"]["metadata"]["labels"]["app"] = "other".into();
        d["spec"]["replicas"] = (-1).into();
        let err = validate(Res::Deployments, "web", &d).unwrap_err();
        assert_eq!(err.code, 422);
        assert!(
            err.message
                .starts_with("Deployment.apps \"web\" is invalid: [spec.replicas"),
            "{}",
            err.message
        );
    }

    #[test]
    fn latest_images_are_always_pulled() {
        let mut p = json!({"spec": {"containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "reg:5000/x:latest"}]}});
        apply(Res::Pods, &mut p);
        assert_eq!(p["spec"]["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(p["spec"]["containers"][1]["imagePullPolicy"], "Always");
        let err = validate(Res::Pods, "p", &json!({"spec": {"containers": []}})).unwrap_err();
        assert_eq!(
            err.message,
            "Pod \"p\" is invalid: spec.containers: Required value"
        );
    }
}
