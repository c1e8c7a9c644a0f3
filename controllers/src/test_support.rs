//! Helpers shared by the workload controllers' unit tests.

use serde_json::Value;

/// Applies a JSON merge patch (RFC 7386) to `target`, as the API server would.
pub fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// `obj` with a merge patch applied.
pub fn patched<T: serde::Serialize + serde::de::DeserializeOwned>(obj: &T, patch: &Value) -> T {
    let mut v = serde_json::to_value(obj).expect("serializable");
    merge(&mut v, patch);
    serde_json::from_value(v).expect("patched object decodes")
}
