//! What changes between two pod templates, in the terms an on-call engineer reads: images, env
//! vars, resources, probes, labels and annotations, one line each, and one line naming the JSON
//! paths of anything else. The `pod-template-hash` label is never a difference.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Container, EnvVar, PodTemplateSpec, Probe};
use serde_json::Value;

use super::rollback::{POD_TEMPLATE_HASH, prune};
use crate::kube::convert::probe_spec;

/// How many JSON paths the "other fields changed" line names before it counts the rest.
const MAX_PATHS: usize = 8;

/// Which side of the diff a line is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Change {
    /// In the `from` template only (what goes away).
    Removed,
    /// In the `to` template only (what comes in).
    Added,
    /// `other fields changed: ...`: fields without a line of their own differ.
    Changed,
}

impl Change {
    /// How a diff line starts: `-`, `+`, `~`.
    pub fn sign(self) -> char {
        match self {
            Change::Removed => '-',
            Change::Added => '+',
            Change::Changed => '~',
        }
    }
}

/// One line of a template diff.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DiffLine {
    pub change: Change,
    /// `image app: arq/backend:2.5.0`, `env app FEATURE_X=true`,
    /// `resources app limits.memory=512Mi`, `probe app readiness: HTTP GET :3001/health every 10s`.
    pub text: String,
}

/// One described fact of a template; `slot` pairs the old and new value of the same thing.
struct Fact {
    slot: String,
    text: String,
}

/// The lines that take a Deployment from template `from` to template `to`, removed before added
/// for each thing, in container order.
pub fn template_diff(from: &PodTemplateSpec, to: &PodTemplateSpec) -> Vec<DiffLine> {
    let (a, b) = (facts(from), facts(to));
    let mut slots: Vec<&str> = Vec::new();
    for f in a.iter().chain(&b) {
        if !slots.contains(&f.slot.as_str()) {
            slots.push(&f.slot);
        }
    }
    let mut out = Vec::new();
    for slot in slots {
        let texts = |facts: &'_ [Fact]| -> Vec<String> {
            facts
                .iter()
                .filter(|f| f.slot == slot)
                .map(|f| f.text.clone())
                .collect()
        };
        let (old, new) = (texts(&a), texts(&b));
        for t in old.iter().filter(|t| !new.contains(t)) {
            out.push(DiffLine {
                change: Change::Removed,
                text: t.clone(),
            });
        }
        for t in new.iter().filter(|t| !old.contains(t)) {
            out.push(DiffLine {
                change: Change::Added,
                text: t.clone(),
            });
        }
    }
    let mut paths = Vec::new();
    diff_paths(&rest(from), &rest(to), "", &mut paths);
    if !paths.is_empty() {
        let more = paths.len().saturating_sub(MAX_PATHS);
        paths.truncate(MAX_PATHS);
        let mut text = format!("other fields changed: {}", paths.join(", "));
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
        out.push(DiffLine {
            change: Change::Changed,
            text,
        });
    }
    out
}

fn facts(t: &PodTemplateSpec) -> Vec<Fact> {
    let mut out = Vec::new();
    let mut fact = |slot: String, text: String| out.push(Fact { slot, text });
    if let Some(meta) = &t.metadata {
        for (k, v) in meta.labels.iter().flatten() {
            if k != POD_TEMPLATE_HASH {
                fact(format!("label/{k}"), format!("label {k}={v}"));
            }
        }
        for (k, v) in meta.annotations.iter().flatten() {
            fact(format!("annotation/{k}"), format!("annotation {k}={v}"));
        }
    }
    let Some(spec) = &t.spec else { return out };
    let init = spec.init_containers.iter().flatten().map(|c| (c, true));
    for (c, is_init) in init.chain(spec.containers.iter().map(|c| (c, false))) {
        let name = if is_init {
            format!("{} (init)", c.name)
        } else {
            c.name.clone()
        };
        let image = c.image.as_deref().unwrap_or("(none)");
        fact(format!("image/{name}"), format!("image {name}: {image}"));
        for e in c.env.iter().flatten() {
            fact(
                format!("env/{name}/{}", e.name),
                format!("env {name} {}", env_words(e)),
            );
        }
        for e in c.env_from.iter().flatten() {
            let prefix = e.prefix.as_deref().unwrap_or_default();
            let source = if let Some(cm) = &e.config_map_ref {
                format!("configmap {}", cm.name)
            } else if let Some(s) = &e.secret_ref {
                format!("secret {}", s.name)
            } else {
                "an unknown source".to_string()
            };
            let with = if prefix.is_empty() {
                String::new()
            } else {
                format!(" with prefix {prefix}")
            };
            fact(
                format!("envfrom/{name}/{source}/{prefix}"),
                format!("env {name} all from {source}{with}"),
            );
        }
        if let Some(r) = &c.resources {
            for (kind, map) in [("requests", &r.requests), ("limits", &r.limits)] {
                for (res, q) in map.iter().flatten() {
                    fact(
                        format!("resources/{name}/{kind}.{res}"),
                        format!("resources {name} {kind}.{res}={}", q.0),
                    );
                }
            }
        }
        for (kind, p) in [
            ("liveness", &c.liveness_probe),
            ("readiness", &c.readiness_probe),
            ("startup", &c.startup_probe),
        ] {
            if let Some(p) = p {
                fact(
                    format!("probe/{name}/{kind}"),
                    format!("probe {name} {kind}: {}", probe_words(p, c)),
                );
            }
        }
    }
    out
}

/// `FEATURE_X=true`, `DB_PASSWORD from secret db key password`, `POD from field metadata.name`.
fn env_words(e: &EnvVar) -> String {
    let Some(from) = &e.value_from else {
        return format!("{}={}", e.name, e.value.as_deref().unwrap_or_default());
    };
    let source = if let Some(s) = &from.secret_key_ref {
        format!("secret {} key {}", s.name, s.key)
    } else if let Some(cm) = &from.config_map_key_ref {
        format!("configmap {} key {}", cm.name, cm.key)
    } else if let Some(f) = &from.field_ref {
        format!("field {}", f.field_path)
    } else if let Some(r) = &from.resource_field_ref {
        match r.container_name.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => format!("resource {} of {c}", r.resource),
            None => format!("resource {}", r.resource),
        }
    } else {
        serde_json::to_string(from).unwrap_or_default()
    };
    format!("{} from {source}", e.name)
}

/// `HTTP GET :3001/health every 10s`, with the delay, timeout and failure threshold when they
/// are not the API's defaults.
fn probe_words(p: &Probe, c: &Container) -> String {
    let s = probe_spec(p, c);
    let mut text = format!("{} every {}s", s.handler, s.period_seconds);
    if s.initial_delay_seconds > 0 {
        text.push_str(&format!(", after {}s", s.initial_delay_seconds));
    }
    if s.timeout_seconds != 1 {
        text.push_str(&format!(", timeout {}s", s.timeout_seconds));
    }
    if s.failure_threshold != 3 {
        text.push_str(&format!(", {} failures", s.failure_threshold));
    }
    text
}

/// The template as JSON without what the facts describe, for the "other fields" comparison.
fn rest(t: &PodTemplateSpec) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("labels");
        meta.remove("annotations");
    }
    for list in ["containers", "initContainers"] {
        let Some(cs) = v.pointer_mut(&format!("/spec/{list}")) else {
            continue;
        };
        for c in cs.as_array_mut().into_iter().flatten() {
            let Some(c) = c.as_object_mut() else { continue };
            for field in ["image", "env", "envFrom"] {
                c.remove(field);
            }
            if let Some(r) = c.get_mut("resources").and_then(Value::as_object_mut) {
                r.remove("requests");
                r.remove("limits");
            }
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                let Some(p) = c.get_mut(probe).and_then(Value::as_object_mut) else {
                    continue;
                };
                for field in [
                    "periodSeconds",
                    "initialDelaySeconds",
                    "timeoutSeconds",
                    "failureThreshold",
                ] {
                    p.remove(field);
                }
                for (handler, fields) in [
                    ("httpGet", &["path", "port", "host", "scheme"][..]),
                    ("tcpSocket", &["port", "host"][..]),
                    ("exec", &["command"][..]),
                    ("grpc", &["port", "service"][..]),
                ] {
                    if let Some(h) = p.get_mut(handler).and_then(Value::as_object_mut) {
                        for f in fields {
                            h.remove(*f);
                        }
                    }
                }
            }
        }
    }
    prune(&mut v);
    v
}

/// The paths (`spec.containers[app].args`) where `a` and `b` differ.
fn diff_paths(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let sub = if path.is_empty() {
                    k.clone()
                } else if k.contains(['.', '/']) {
                    format!("{path}[\"{k}\"]")
                } else {
                    format!("{path}.{k}")
                };
                diff_paths(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &sub,
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if named(x) && named(y) => {
            let name = |v: &Value| v["name"].as_str().unwrap_or_default().to_string();
            let mut names: Vec<String> = x.iter().map(name).collect();
            for n in y.iter().map(name) {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
            for n in names {
                let find = |list: &'_ [Value]| {
                    list.iter()
                        .find(|v| v["name"].as_str() == Some(n.as_str()))
                        .cloned()
                };
                let sub = format!("{path}[{n}]");
                match (find(x), find(y)) {
                    (Some(p), Some(q)) => diff_paths(&p, &q, &sub, out),
                    // A whole container (volume, port) came or went: its name says enough.
                    _ => out.push(sub),
                }
            }
        }
        // A field that pruned away on one side (an emptied probe): name what the other has.
        (Value::Null, Value::Object(_)) | (Value::Object(_), Value::Null) => {
            let empty = Value::Object(serde_json::Map::new());
            let (p, q) = if a.is_null() {
                (&empty, b)
            } else {
                (a, &empty)
            };
            diff_paths(p, q, path, out);
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff_paths(p, q, &format!("{path}[{i}]"), out);
            }
        }
        _ => out.push(if path.is_empty() {
            "(the whole template)".to_string()
        } else {
            path.to_string()
        }),
    }
}

/// Whether every element is an object with a `name` (containers, volumes, ports): matched by it.
fn named(list: &[Value]) -> bool {
    !list.is_empty()
        && list
            .iter()
            .all(|v| v.get("name").is_some_and(Value::is_string))
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
