//! A stateful pod's identity: name `<set>-<ordinal>`, hostname and subdomain for DNS, the
//! pod-name and pod-index labels, and one PVC per claim template named
//! `<template>-<set>-<ordinal>` (Kubernetes' stateful_set_utils).

use super::view::View;
use crate::label_selector::labels_of;
use crate::pod_control::pod_from_template;
use crate::revision::CONTROLLER_REVISION_HASH;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// `<set>-<ordinal>`.
pub fn pod_name(set: &str, ordinal: i32) -> String {
    format!("{set}-{ordinal}")
}

/// The ordinal of a pod of `set`, if its name is `<set>-<n>`.
pub fn ordinal_of(set: &str, pod: &Pod) -> Option<i32> {
    let name = pod.metadata.name.as_deref()?;
    let n = name.strip_prefix(set)?.strip_prefix('-')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// The revision a pod runs (its controller-revision-hash label, a revision name).
pub fn revision_of(pod: &Pod) -> Option<&str> {
    labels_of(&pod.metadata).get(CONTROLLER_REVISION_HASH).map(String::as_str)
}

/// `<template>-<set>-<ordinal>`.
pub fn claim_name(template: &PersistentVolumeClaim, set: &str, ordinal: i32) -> String {
    format!("{}-{set}-{ordinal}", template.metadata.name.as_deref().unwrap_or_default())
}

/// The claims of one ordinal: each template named for it, with the set's selector labels.
pub fn claims_for(v: &View, ordinal: i32, set_ref: &OwnerReference) -> Vec<PersistentVolumeClaim> {
    v.claims
        .iter()
        .map(|t| {
            let mut c = t.clone();
            c.metadata.name = Some(claim_name(t, &v.name, ordinal));
            c.metadata.namespace = Some(v.namespace.clone());
            let labels = c.metadata.labels.get_or_insert_default();
            labels.extend(v.selector.match_labels.clone().unwrap_or_default());
            c.metadata.owner_references = v.delete_claims_with_set.then(|| vec![set_ref.clone()]);
            c.status = None;
            c
        })
        .collect()
}

/// Kubernetes' newVersionedStatefulSetPod: identity, storage and revision label.
pub fn new_pod(v: &View, template: &PodTemplateSpec, ordinal: i32, revision: &str, owner: OwnerReference) -> Pod {
    let mut pod = pod_from_template(template, owner.clone());
    let name = pod_name(&v.name, ordinal);
    pod.metadata.name = Some(name.clone());
    pod.metadata.namespace = Some(v.namespace.clone());
    let labels = pod.metadata.labels.get_or_insert_default();
    labels.insert(POD_NAME_LABEL.into(), name.clone());
    labels.insert(POD_INDEX_LABEL.into(), ordinal.to_string());
    labels.insert(CONTROLLER_REVISION_HASH.into(), revision.into());
    let spec = pod.spec.get_or_insert_default();
    spec.hostname = Some(name);
    spec.subdomain = Some(v.service_name.clone()).filter(|s| !s.is_empty());
    let claims = claims_for(v, ordinal, &owner);
    let mut volumes: Vec<Volume> = v
        .claims
        .iter()
        .zip(&claims)
        .map(|(t, c)| Volume {
            name: t.metadata.name.clone().unwrap_or_default(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: c.metadata.name.clone().unwrap_or_default(),
                read_only: None,
            }),
            ..Default::default()
        })
        .collect();
    let templated: Vec<String> = volumes.iter().map(|v| v.name.clone()).collect();
    volumes.extend(spec.volumes.take().unwrap_or_default().into_iter().filter(|v| !templated.contains(&v.name)));
    spec.volumes = (!volumes.is_empty()).then_some(volumes);
    pod
}

/// Kubernetes' identityMatches (the labels a live pod can still be given).
pub fn identity_matches(v: &View, pod: &Pod, ordinal: i32) -> bool {
    let labels = labels_of(&pod.metadata);
    let name = pod_name(&v.name, ordinal);
    labels.get(POD_NAME_LABEL) == Some(&name) && labels.get(POD_INDEX_LABEL) == Some(&ordinal.to_string())
}
