//! Object metadata: the system fields the server owns (uid, timestamps, resourceVersion,
//! generation) and small accessors over JSON objects.

use rand::Rng;
use serde_json::{Map, Value};

pub fn str_at<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(obj, |v, k| v.get(k))?.as_str()
}

pub fn name(obj: &Value) -> Option<&str> {
    str_at(obj, &["metadata", "name"]).filter(|n| !n.is_empty())
}

pub fn namespace(obj: &Value) -> Option<&str> {
    str_at(obj, &["metadata", "namespace"]).filter(|n| !n.is_empty())
}

/// `metadata`, created if absent (a non-object metadata was already refused by the typed check).
pub fn metadata_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = Value::Object(Map::new());
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        _ => unreachable!("metadata was just made an object"),
    }
}

pub fn set_resource_version(obj: &mut Value, revision: u64) {
    metadata_mut(obj).insert("resourceVersion".into(), Value::String(revision.to_string()));
}

/// The stored form carries no resourceVersion: the store's revision is the truth.
pub fn strip_resource_version(obj: &mut Value) {
    metadata_mut(obj).remove("resourceVersion");
}

pub fn resource_version(obj: &Value) -> Option<&str> {
    str_at(obj, &["metadata", "resourceVersion"]).filter(|v| !v.is_empty())
}

/// RFC 3339 at second precision, as metav1.Time serialises.
pub fn now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Kubernetes' generateName suffix: five characters without vowels or look-alikes.
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// Fills the fields a create owns: uid, creationTimestamp, generation, and drops what a
/// client may not set (deletionTimestamp, resourceVersion).
pub fn fill_for_create(obj: &mut Value, generation: bool) {
    let m = metadata_mut(obj);
    m.insert("uid".into(), Value::String(uuid::Uuid::new_v4().to_string()));
    m.insert("creationTimestamp".into(), Value::String(now()));
    m.remove("deletionTimestamp");
    m.remove("deletionGracePeriodSeconds");
    m.remove("resourceVersion");
    if generation {
        m.insert("generation".into(), Value::from(1));
    } else {
        m.remove("generation");
    }
}

/// Keeps the fields an update may not change from the stored object.
pub fn keep_system_fields(new: &mut Value, old: &Value) {
    let keep = ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"];
    let old_meta = old.get("metadata").cloned().unwrap_or_default();
    let m = metadata_mut(new);
    for k in keep {
        match old_meta.get(k) {
            Some(v) => m.insert(k.into(), v.clone()),
            None => m.remove(k),
        };
    }
}

/// Everything but metadata and status: what a generation bump is measured on.
pub fn spec_changed(new: &Value, old: &Value) -> bool {
    let strip = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Value::Object(m) = &mut v {
            m.remove("metadata");
            m.remove("status");
        }
        v
    };
    strip(new) != strip(old)
}

pub fn bump_generation(obj: &mut Value) {
    let m = metadata_mut(obj);
    let g = m.get("generation").and_then(Value::as_i64).unwrap_or(0);
    m.insert("generation".into(), Value::from(g + 1));
}

pub fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
        .unwrap_or_default()
}

pub fn is_terminating(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_create_sets_uid_timestamp_and_generation_one() {
        let mut o = json!({"metadata": {"name": "a", "resourceVersion": "9"}});
        fill_for_create(&mut o, true);
        assert_eq!(o["metadata"]["generation"], 1);
        assert!(o["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36));
        assert!(o["metadata"].get("resourceVersion").is_none());
    }

    #[test]
    fn only_non_metadata_non_status_changes_count_as_spec_changes() {
        let a = json!({"metadata": {"labels": {"x": "1"}}, "spec": {"r": 1}, "status": {"s": 1}});
        let b = json!({"metadata": {"labels": {"x": "2"}}, "spec": {"r": 1}, "status": {"s": 2}});
        assert!(!spec_changed(&a, &b));
        assert!(spec_changed(&a, &json!({"spec": {"r": 2}})));
    }

    #[test]
    fn generated_suffixes_use_the_kubernetes_alphabet() {
        let s = random_suffix();
        assert_eq!(s.len(), 5);
        assert!(s.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
    }
}
