//! Job pods: built from the template with the Job's labels, the tracking finalizer and, for
//! Indexed Jobs, the completion index; and the back-off before replacing failed pods.

use super::view::{
    COMPLETION_INDEX, CONTROLLER_UID, JOB_NAME, LEGACY_CONTROLLER_UID, LEGACY_JOB_NAME, TRACKING_FINALIZER, View,
};
use crate::pod_control::pod_from_template;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

/// Kubernetes' DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff.
const BACKOFF: SignedDuration = SignedDuration::from_secs(10);
const MAX_BACKOFF: SignedDuration = SignedDuration::from_secs(600);

/// Whether the pod still carries the Job's tracking finalizer.
pub fn has_finalizer(p: &Pod) -> bool {
    p.metadata.finalizers.iter().flatten().any(|f| f == TRACKING_FINALIZER)
}

/// The pod's completion index annotation, if valid.
pub fn index_of(p: &Pod) -> Option<i32> {
    p.metadata.annotations.as_ref()?.get(COMPLETION_INDEX)?.parse().ok().filter(|i| *i >= 0)
}

/// A pod for the Job, with the labels the API server adds to Job templates (added here
/// when missing), the tracking finalizer and, for an index, its annotation, label,
/// JOB_COMPLETION_INDEX variable and hostname `<job>-<index>`.
pub fn job_pod(v: &View, owner: OwnerReference, index: Option<i32>) -> Pod {
    let mut pod = pod_from_template(&v.template, owner);
    let labels = pod.metadata.labels.get_or_insert_default();
    for (k, val) in
        [(CONTROLLER_UID, &v.uid), (LEGACY_CONTROLLER_UID, &v.uid), (JOB_NAME, &v.name), (LEGACY_JOB_NAME, &v.name)]
    {
        labels.entry(k.into()).or_insert_with(|| val.clone());
    }
    pod.metadata.finalizers.get_or_insert_default().push(TRACKING_FINALIZER.into());
    let Some(i) = index else {
        pod.metadata.generate_name = Some(format!("{}-", v.name));
        return pod;
    };
    pod.metadata.generate_name = Some(format!("{}-{i}-", v.name));
    labels.insert(COMPLETION_INDEX.into(), i.to_string());
    pod.metadata.annotations.get_or_insert_default().insert(COMPLETION_INDEX.into(), i.to_string());
    let spec = pod.spec.get_or_insert_default();
    if spec.hostname.as_deref().is_none_or(str::is_empty) {
        spec.hostname = Some(format!("{}-{i}", v.name));
    }
    let env = EnvVar {
        name: "JOB_COMPLETION_INDEX".into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: format!("metadata.annotations['{COMPLETION_INDEX}']"),
                api_version: None,
            }),
            ..Default::default()
        }),
        value: None,
    };
    let inits = spec.init_containers.iter_mut().flatten();
    for c in spec.containers.iter_mut().chain(inits) {
        let vars = c.env.get_or_insert_default();
        if !vars.iter().any(|e| e.name == env.name) {
            vars.push(env.clone());
        }
    }
    pod
}

/// When the pod finished: its containers' latest finish, else its creation.
fn finished_at(p: &Pod) -> Timestamp {
    let statuses = p.status.as_ref().and_then(|s| s.container_statuses.as_ref());
    statuses
        .into_iter()
        .flatten()
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref().map(|t| t.0))
        .max()
        .unwrap_or_else(|| crate::pod_state::created(&p.metadata))
}

/// How long until another pod may be created: 10 s doubling per failure since the last
/// success, up to 10 minutes, counted from the last failure (Kubernetes' backoff record).
pub fn creation_delay(pods: &[&Pod], now: Timestamp) -> Option<SignedDuration> {
    let phase = crate::pod_state::phase;
    let last_success = pods.iter().filter(|p| phase(p) == "Succeeded").map(|p| finished_at(p)).max();
    let failures: Vec<Timestamp> = pods
        .iter()
        .filter(|p| phase(p) == "Failed")
        .map(|p| finished_at(p))
        .filter(|t| last_success.is_none_or(|s| *t > s))
        .collect();
    let last = failures.iter().max()?;
    let exp = u32::try_from(failures.len() - 1).unwrap_or(u32::MAX).min(16);
    let delay = BACKOFF.checked_mul(1 << exp).unwrap_or(MAX_BACKOFF).min(MAX_BACKOFF);
    let left = (*last + delay).duration_since(now);
    left.is_positive().then_some(left)
}
