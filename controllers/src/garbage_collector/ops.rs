//! The collector's API calls: read an object's metadata, delete it with a propagation policy
//! and a UID precondition, rewrite its finalizers or owner references with a JSON patch that
//! only applies to the version read.

use super::decide::Propagation;
use crate::resource_discovery::ResourceType;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams, Preconditions, PropagationPolicy};
use kube::core::ObjectMeta;
use kube::{Api, Client};
use serde_json::{Value, json};

/// One object, as the collector addresses it.
pub struct Target<'a> {
    pub resource: &'a ResourceType,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
}

fn api(client: &Client, t: &Target<'_>) -> Api<DynamicObject> {
    match (t.resource.namespaced, t.namespace) {
        (true, Some(ns)) => Api::namespaced_with(client.clone(), ns, &t.resource.api),
        _ => Api::all_with(client.clone(), &t.resource.api),
    }
}

/// The object's current metadata, None when it does not exist.
pub async fn metadata(client: &Client, t: &Target<'_>) -> Result<Option<ObjectMeta>, kube::Error> {
    Ok(api(client, t).get_metadata_opt(t.name).await?.map(|m| m.metadata))
}

/// Deletes the object if it still has this UID; a missing object or another object of the
/// same name counts as done.
pub async fn delete(client: &Client, t: &Target<'_>, uid: &str, policy: Propagation) -> Result<(), kube::Error> {
    let dp = DeleteParams {
        propagation_policy: Some(match policy {
            Propagation::Background => PropagationPolicy::Background,
            Propagation::Foreground => PropagationPolicy::Foreground,
            Propagation::Orphan => PropagationPolicy::Orphan,
        }),
        preconditions: Some(Preconditions { uid: Some(uid.into()), resource_version: None }),
        ..Default::default()
    };
    match api(client, t).delete(t.name, &dp).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.is_not_found() || s.is_conflict() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Sets metadata.finalizers, if the object is still at the version `read` describes.
pub async fn set_finalizers(
    client: &Client,
    t: &Target<'_>,
    read: &ObjectMeta,
    finalizers: Vec<String>,
) -> Result<(), kube::Error> {
    patch(client, t, read, json!({"op": "replace", "path": "/metadata/finalizers", "value": finalizers})).await
}

/// Sets metadata.ownerReferences (removing the field when empty), if the object is still at
/// the version `read` describes.
pub async fn set_owner_references(
    client: &Client,
    t: &Target<'_>,
    read: &ObjectMeta,
    refs: Vec<OwnerReference>,
) -> Result<(), kube::Error> {
    let op = if refs.is_empty() {
        json!({"op": "remove", "path": "/metadata/ownerReferences"})
    } else {
        json!({"op": "replace", "path": "/metadata/ownerReferences", "value": refs})
    };
    patch(client, t, read, op).await
}

/// A JSON patch guarded by `test` operations on the UID and resourceVersion read, so it
/// never overwrites a change it did not see; a vanished object counts as done.
async fn patch(client: &Client, t: &Target<'_>, read: &ObjectMeta, op: Value) -> Result<(), kube::Error> {
    let doc = json!([
        {"op": "test", "path": "/metadata/uid", "value": read.uid},
        {"op": "test", "path": "/metadata/resourceVersion", "value": read.resource_version},
        op,
    ]);
    let patch: json_patch::Patch = serde_json::from_value(doc).map_err(kube::Error::SerdeError)?;
    match api(client, t).patch(t.name, &PatchParams::default(), &Patch::<()>::Json(patch)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}
