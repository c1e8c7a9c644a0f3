//! Writing a controller's status through the status subresource with a JSON merge patch.

use kube::api::{Patch, PatchParams};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::fmt::Debug;

/// A merge patch that makes the status exactly `status`: each key in `keys` that the new
/// status omits (a zero counter, a cleared time) is sent as null, so it does not linger.
/// With `resource_version`, the write fails with a Conflict when the object has moved on,
/// as Kubernetes' UpdateStatus does.
pub fn status_patch<S: Serialize>(status: &S, keys: &[&str], resource_version: Option<&str>) -> Value {
    let mut body = match serde_json::to_value(status) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for k in keys {
        body.entry(k.to_string()).or_insert(Value::Null);
    }
    let mut patch = json!({"status": body});
    if let Some(rv) = resource_version {
        patch["metadata"] = json!({"resourceVersion": rv});
    }
    patch
}

/// Sends a status merge patch to `name`'s status subresource.
pub async fn patch_status<K>(api: &Api<K>, name: &str, patch: &Value) -> kube::Result<K>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(patch)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::ReplicaSetStatus;

    #[test]
    fn zeroed_counters_are_nulled_so_they_do_not_linger() {
        let s = ReplicaSetStatus { replicas: 0, ready_replicas: None, ..Default::default() };
        let p = status_patch(&s, &["readyReplicas", "replicas"], Some("5"));
        assert_eq!(p["status"]["readyReplicas"], Value::Null);
        assert!(p["status"].as_object().unwrap().contains_key("readyReplicas"));
        assert_eq!(p["status"]["replicas"], 0);
        assert_eq!(p["metadata"]["resourceVersion"], "5");
    }
}
