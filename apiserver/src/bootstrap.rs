//! What the API server makes for itself at start: the system namespaces.

use crate::meta;
use crate::registry::Registry;
use crate::rest::encode_stored;
use crate::status::ApiError;
use crate::storage::{Storage, StorageError};
use crate::strategy;
use serde_json::json;

/// Namespaces every Kubernetes cluster has.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

pub async fn namespaces(store: &dyn Storage, registry: &Registry) -> Result<(), ApiError> {
    let Some(kind) = registry.resource("", "v1", "namespaces") else {
        return Ok(());
    };
    for name in SYSTEM_NAMESPACES {
        let key = kind.key(None, name);
        if store.get(&key).await?.is_some() {
            continue;
        }
        let mut ns = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}}});
        strategy::prepare_create(kind, &mut ns);
        meta::fill_for_create(&mut ns, false);
        match store.create(&key, encode_stored(&ns)?).await {
            Ok(_) | Err(StorageError::AlreadyExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
