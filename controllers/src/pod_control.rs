//! Creating and deleting controlled children: pods from a template with a controller
//! reference (Kubernetes' PodControl), and the create/delete/patch calls every workload uses.

use futures::future::join_all;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// A pod as Kubernetes' GetPodFromTemplate builds it: the template's labels, annotations,
/// finalizers and spec, controlled by `owner`. The name is left to the caller.
pub fn pod_from_template(template: &PodTemplateSpec, owner: OwnerReference) -> Pod {
    let meta = template.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            labels: meta.labels,
            annotations: meta.annotations,
            finalizers: meta.finalizers,
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

/// The generateName prefix for a controller's pods: `<name>-`, so pods are `<name>-xxxxx`.
pub fn generate_name(owner_name: &str) -> String {
    format!("{owner_name}-")
}

/// Whether an API error is this HTTP status.
pub fn is_status(err: &kube::Error, code: u16) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == code)
}

/// Whether the API answered 404.
pub fn is_not_found(err: &kube::Error) -> bool {
    is_status(err, 404)
}

/// Whether the API answered 409 AlreadyExists (as opposed to a Conflict).
pub fn is_already_exists(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 409 && s.reason == "AlreadyExists")
}

/// Creates `obj` in its namespace.
pub async fn create<K>(api: &Api<K>, obj: &K) -> kube::Result<K>
where
    K: Resource + Clone + Serialize + DeserializeOwned + Debug,
{
    api.create(&PostParams::default(), obj).await
}

/// Deletes `name` if it is still the object with `uid`. Returns false when it was already
/// gone (its deletion will then never be observed by the caller's watch).
pub async fn delete<K>(api: &Api<K>, name: &str, uid: Option<&str>) -> kube::Result<bool>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let dp = DeleteParams {
        preconditions: uid.map(|u| Preconditions { uid: Some(u.to_string()), resource_version: None }),
        ..Default::default()
    };
    match api.delete(name, &dp).await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Applies a JSON merge patch to `name`.
pub async fn merge_patch<K>(api: &Api<K>, name: &str, patch: &serde_json::Value) -> kube::Result<K>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch)).await
}

/// Creates `count` objects built by `make`, in Kubernetes' slow-start batches (1, 2, 4, ...),
/// stopping after the first batch with a failure. Returns what was created and the first
/// error.
pub async fn slow_start_create<K>(
    api: &Api<K>,
    count: usize,
    make: impl Fn(usize) -> K,
) -> (Vec<K>, Option<kube::Error>)
where
    K: Resource<Scope = NamespaceResourceScope> + Clone + Serialize + DeserializeOwned + Debug,
{
    let mut created = Vec::new();
    let mut batch = 1;
    while created.len() < count {
        let start = created.len();
        let n = batch.min(count - start);
        let objs: Vec<K> = (start..start + n).map(&make).collect();
        let mut error = None;
        for r in join_all(objs.iter().map(|o| create(api, o))).await {
            match r {
                Ok(o) => created.push(o),
                Err(e) => error = error.or(Some(e)),
            }
        }
        if error.is_some() {
            return (created, error);
        }
        batch *= 2;
    }
    (created, None)
}

/// Adopts and releases children as a claim decided: a merge patch each, in order. A child
/// already gone is skipped; the first other failure is returned with the child's name.
pub async fn apply_claims<K>(
    api: &Api<K>,
    owner: &OwnerReference,
    adopt: &[&K],
    release: &[&K],
) -> Result<(), (String, kube::Error)>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    use crate::controller_ref::{adopt_patch, release_patch};
    let adopts = adopt.iter().map(|c| (c.meta(), adopt_patch(c.meta(), owner)));
    let releases = release.iter().map(|c| (c.meta(), release_patch(c.meta(), &owner.uid)));
    for (meta, patch) in adopts.chain(releases) {
        let name = meta.name.clone().unwrap_or_default();
        match merge_patch(api, &name, &patch).await {
            Ok(_) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err((name, e)),
        }
    }
    Ok(())
}
