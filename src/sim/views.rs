//! Versions served from another version's store: events.k8s.io/v1 Events from core/v1 Events, and
//! autoscaling/v1 HPAs from autoscaling/v2, converted the way the real API server converts them.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::kinds::Res;

/// The JSON a client of `res` sees for a stored object.
pub fn render(res: Res, stored: &Bytes) -> Bytes {
    match res {
        Res::EventsV1 | Res::HpaV1 => {
            let Ok(v) = serde_json::from_slice::<Value>(stored) else {
                return stored.clone();
            };
            let out = if res == Res::EventsV1 {
                event_v1(&v)
            } else {
                hpa_v1(&v)
            };
            Bytes::from(serde_json::to_vec(&out).unwrap_or_default())
        }
        _ => stored.clone(),
    }
}

/// A field-selector path of the view, in the stored type's terms.
pub fn field_path(res: Res, path: &str) -> String {
    if res != Res::EventsV1 {
        return path.to_string();
    }
    if let Some(rest) = path.strip_prefix("regarding.") {
        return format!("involvedObject.{rest}");
    }
    match path {
        "reportingController" => "reportingComponent".into(),
        other => other.into(),
    }
}

fn put(map: &mut Map<String, Value>, key: &str, value: &Value) {
    if !value.is_null() {
        map.insert(key.into(), value.clone());
    }
}

fn event_v1(e: &Value) -> Value {
    let mut out = Map::new();
    out.insert("kind".into(), "Event".into());
    out.insert("apiVersion".into(), "events.k8s.io/v1".into());
    put(&mut out, "metadata", &e["metadata"]);
    out.insert("eventTime".into(), e["eventTime"].clone());
    put(&mut out, "series", &e["series"]);
    let controller = if e["reportingComponent"].is_null() {
        e["source"]["component"].clone()
    } else {
        e["reportingComponent"].clone()
    };
    put(&mut out, "reportingController", &controller);
    let instance = if e["reportingInstance"].is_null() {
        e["source"]["host"].clone()
    } else {
        e["reportingInstance"].clone()
    };
    put(&mut out, "reportingInstance", &instance);
    put(&mut out, "action", &e["action"]);
    put(&mut out, "reason", &e["reason"]);
    put(&mut out, "regarding", &e["involvedObject"]);
    put(&mut out, "related", &e["related"]);
    put(&mut out, "note", &e["message"]);
    put(&mut out, "type", &e["type"]);
    put(&mut out, "deprecatedSource", &e["source"]);
    put(&mut out, "deprecatedFirstTimestamp", &e["firstTimestamp"]);
    put(&mut out, "deprecatedLastTimestamp", &e["lastTimestamp"]);
    put(&mut out, "deprecatedCount", &e["count"]);
    Value::Object(out)
}

fn hpa_v1(h: &Value) -> Value {
    let spec = &h["spec"];
    let status = &h["status"];
    let cpu_target = spec["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["type"] == "Resource" && m["resource"]["name"] == "cpu")
        .map(|m| m["resource"]["target"]["averageUtilization"].clone())
        .unwrap_or(Value::Null);
    let cpu_current = status["currentMetrics"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["type"] == "Resource" && m["resource"]["name"] == "cpu")
        .map(|m| m["resource"]["current"]["averageUtilization"].clone())
        .unwrap_or(Value::Null);
    let mut out_spec = Map::new();
    put(&mut out_spec, "scaleTargetRef", &spec["scaleTargetRef"]);
    put(&mut out_spec, "minReplicas", &spec["minReplicas"]);
    put(&mut out_spec, "maxReplicas", &spec["maxReplicas"]);
    put(&mut out_spec, "targetCPUUtilizationPercentage", &cpu_target);
    let mut out_status = Map::new();
    put(
        &mut out_status,
        "observedGeneration",
        &status["observedGeneration"],
    );
    put(&mut out_status, "lastScaleTime", &status["lastScaleTime"]);
    out_status.insert(
        "currentReplicas".into(),
        status["currentReplicas"].as_i64().unwrap_or(0).into(),
    );
    out_status.insert(
        "desiredReplicas".into(),
        status["desiredReplicas"].as_i64().unwrap_or(0).into(),
    );
    put(
        &mut out_status,
        "currentCPUUtilizationPercentage",
        &cpu_current,
    );
    json!({
        "kind": "HorizontalPodAutoscaler",
        "apiVersion": "autoscaling/v1",
        "metadata": h["metadata"],
        "spec": out_spec,
        "status": out_status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_and_hpa_conversion() {
        let ev = json!({"kind":"Event","apiVersion":"v1","metadata":{"name":"a.1","namespace":"shop"},
            "involvedObject":{"kind":"Pod","name":"web-1"},"reason":"BackOff","message":"Back-off",
            "type":"Warning","source":{"component":"kubelet","host":"node-1"},"count":3});
        let out: Value =
            serde_json::from_slice(&render(Res::EventsV1, &Bytes::from(ev.to_string()))).unwrap();
        assert_eq!(out["apiVersion"], "events.k8s.io/v1");
        assert_eq!(out["regarding"]["name"], "web-1");
        assert_eq!(out["note"], "Back-off");
        assert_eq!(out["reportingController"], "kubelet");
        assert_eq!(out["deprecatedCount"], 3);
        assert_eq!(
            field_path(Res::EventsV1, "regarding.name"),
            "involvedObject.name"
        );

        let hpa = json!({"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v2","metadata":{"name":"web"},
            "spec":{"scaleTargetRef":{"kind":"Deployment","name":"web","apiVersion":"apps/v1"},"minReplicas":2,"maxReplicas":5,
              "metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":70}}}]},
            "status":{"currentReplicas":3,"desiredReplicas":3,
              "currentMetrics":[{"type":"Resource","resource":{"name":"cpu","current":{"averageUtilization":55}}}]}});
        let out: Value =
            serde_json::from_slice(&render(Res::HpaV1, &Bytes::from(hpa.to_string()))).unwrap();
        assert_eq!(out["spec"]["targetCPUUtilizationPercentage"], 70);
        assert_eq!(out["status"]["currentCPUUtilizationPercentage"], 55);
        assert_eq!(out["apiVersion"], "autoscaling/v1");
    }
}
