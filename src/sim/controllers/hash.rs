//! Pod-template hashing and comparison: how the deployment controller names a ReplicaSet
//! (`<deployment>-<hash>`) and recognises the ReplicaSet that runs its current template.
//!
//! The real hash is FNV-32a over Go's `spew` dump of the template; that dump cannot be reproduced,
//! so the template's JSON stands in for it. The shape is the real one: the decimal hash encoded with
//! `rand.SafeEncodeString`, which maps each digit into the name alphabet.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::Value;

/// The label that ties a ReplicaSet and its pods to one template.
pub(super) const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// The alphabet of `k8s.io/apimachinery/pkg/util/rand.SafeEncodeString`.
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

fn fnv1a(mut hash: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

fn safe_encode(s: &str) -> String {
    s.chars()
        .map(|c| SAFE_ALPHABET[c as usize % SAFE_ALPHABET.len()] as char)
        .collect()
}

/// `controller.ComputeHash`: the template, then the collision count (when set) as the 8-byte
/// buffer the real code writes (a little-endian u32 and four zero bytes).
pub(super) fn template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let json = serde_json::to_vec(template).unwrap_or_default();
    let mut hash = fnv1a(FNV_OFFSET, &json);
    if let Some(count) = collision_count {
        let mut buf = [0u8; 8];
        buf[..4].copy_from_slice(&(count as u32).to_le_bytes());
        hash = fnv1a(hash, &buf);
    }
    safe_encode(&hash.to_string())
}

/// Cheap structural equality ignoring the hash label; the usual case, since a ReplicaSet's template
/// is a copy of the deployment's plus that label.
pub(super) fn equal_ignore_hash_fast(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    if a.spec != b.spec {
        return false;
    }
    let empty = Default::default();
    let (ma, mb) = (
        a.metadata.as_ref().unwrap_or(&empty),
        b.metadata.as_ref().unwrap_or(&empty),
    );
    let labels = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.labels
            .iter()
            .flatten()
            .filter(|(k, _)| k.as_str() != POD_TEMPLATE_HASH)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
    };
    if labels(ma) != labels(mb) {
        return false;
    }
    let strip = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        let mut m = m.clone();
        m.labels = None;
        if m.annotations.as_ref().is_some_and(|a| a.is_empty()) {
            m.annotations = None;
        }
        m
    };
    strip(ma) == strip(mb)
}

/// `deploymentutil.EqualIgnoreHash` with apimachinery's semantic equality, where a missing list or
/// map equals an empty one: compares the templates' JSON with the hash label and empties removed.
pub(super) fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    equal_ignore_hash_fast(a, b) || normalized(a) == normalized(b)
}

fn normalized(template: &PodTemplateSpec) -> Value {
    let mut v = serde_json::to_value(template).unwrap_or_default();
    if let Some(labels) = v
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(POD_TEMPLATE_HASH);
    }
    prune(&mut v);
    v
}

/// Drops nulls and empty objects and arrays, bottom up.
fn prune(v: &mut Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(map) => {
            map.retain(|_, child| !prune(child));
            map.is_empty()
        }
        Value::Array(list) => {
            for child in list.iter_mut() {
                prune(child);
            }
            list.is_empty()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(image: &str) -> PodTemplateSpec {
        serde_json::from_value(serde_json::json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": image}]}
        }))
        .unwrap()
    }

    #[test]
    fn hash_has_the_real_shape_and_is_stable() {
        let h = template_hash(&template("web:1"), None);
        // The decimal digits of a u32 map into these ten characters only.
        assert!(h.chars().all(|c| "4567896bcdf".contains(c)), "{h}");
        assert!((1..=10).contains(&h.len()));
        assert_eq!(h, template_hash(&template("web:1"), None));
        assert_ne!(h, template_hash(&template("web:2"), None));
        assert_ne!(h, template_hash(&template("web:1"), Some(1)));
        assert_eq!(safe_encode("0123456789"), "456789bcdf");
    }

    #[test]
    fn equality_ignores_the_hash_label_and_empty_fields() {
        let a = template("web:1");
        let mut b = a.clone();
        b.metadata
            .as_mut()
            .unwrap()
            .labels
            .as_mut()
            .unwrap()
            .insert(POD_TEMPLATE_HASH.into(), "abc".into());
        assert!(equal_ignore_hash_fast(&a, &b));
        let mut c = a.clone();
        c.spec.as_mut().unwrap().volumes = Some(vec![]);
        assert!(!equal_ignore_hash_fast(&a, &c));
        assert!(equal_ignore_hash(&a, &c));
        assert!(!equal_ignore_hash(&a, &template("web:2")));
    }
}
