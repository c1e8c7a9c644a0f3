//! What controllers read off a pod: phase, readiness, availability (podutil in Kubernetes).

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The pod's phase, "" when the status has none yet.
pub fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default()
}

/// Whether deletion has started (metadata.deletionTimestamp is set).
pub fn is_terminating(meta: &ObjectMeta) -> bool {
    meta.deletion_timestamp.is_some()
}

/// Whether the pod has finished: phase Succeeded or Failed.
pub fn is_finished(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

/// Kubernetes' IsPodActive: not finished and not being deleted.
pub fn is_active(pod: &Pod) -> bool {
    !is_finished(pod) && !is_terminating(&pod.metadata)
}

/// The pod's Ready condition when it is True: the time it became ready, if known.
fn ready_condition(pod: &Pod) -> Option<Option<Timestamp>> {
    let conds = pod.status.as_ref()?.conditions.as_ref()?;
    let c = conds.iter().find(|c| c.type_ == "Ready" && c.status == "True")?;
    Some(c.last_transition_time.as_ref().map(|t| t.0))
}

/// Kubernetes' IsPodReady: the Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some()
}

/// When the pod became ready, if it is ready and says when.
pub fn ready_since(pod: &Pod) -> Option<Timestamp> {
    ready_condition(pod).flatten()
}

/// Kubernetes' IsPodAvailable: ready for at least `min_ready_seconds` at `now`.
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    match ready_condition(pod) {
        None => false,
        Some(_) if min_ready_seconds <= 0 => true,
        Some(None) => false,
        Some(Some(since)) => since + SignedDuration::from_secs(i64::from(min_ready_seconds)) <= now,
    }
}

/// How long until a ready pod becomes available, if it is ready but not yet available.
pub fn until_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> Option<SignedDuration> {
    let since = ready_since(pod)?;
    let at = since + SignedDuration::from_secs(i64::from(min_ready_seconds));
    (at > now).then(|| at.duration_since(now))
}

/// Restarts summed over the pod's containers.
pub fn restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map_or(0, |cs| cs.iter().map(|c| c.restart_count).sum())
}

/// The node the pod is bound to, if any.
pub fn node_name(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).filter(|n| !n.is_empty())
}

/// When the object was created (the epoch when unknown, so it sorts first).
pub fn created(meta: &ObjectMeta) -> Timestamp {
    meta.creation_timestamp.as_ref().map_or(Timestamp::UNIX_EPOCH, |t| t.0)
}

#[cfg(test)]
pub mod fixtures {
    //! Pods in the states tests need.
    use k8s_openapi::api::core::v1::{Pod, PodCondition, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

    /// A pod with a name, labels, phase and readiness.
    pub fn pod(name: &str, labels: &[(&str, &str)], phase: &str, ready: bool) -> Pod {
        let ts: jiff::Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                uid: Some(format!("uid-{name}")),
                labels: Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
                creation_timestamp: Some(Time(ts)),
                ..Default::default()
            },
            spec: Some(PodSpec::default()),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                conditions: ready.then(|| {
                    vec![PodCondition {
                        type_: "Ready".into(),
                        status: "True".into(),
                        last_transition_time: Some(Time(ts)),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::pod;
    use super::*;

    #[test]
    fn a_ready_pod_is_available_only_after_min_ready_seconds() {
        let p = pod("a", &[], "Running", true);
        let t0 = ready_since(&p).unwrap();
        assert!(is_available(&p, 0, t0));
        assert!(!is_available(&p, 10, t0 + SignedDuration::from_secs(9)));
        assert!(is_available(&p, 10, t0 + SignedDuration::from_secs(10)));
        assert_eq!(until_available(&p, 10, t0 + SignedDuration::from_secs(4)), Some(SignedDuration::from_secs(6)));
    }

    #[test]
    fn finished_and_deleting_pods_are_not_active() {
        assert!(is_active(&pod("a", &[], "Running", true)));
        assert!(!is_active(&pod("a", &[], "Succeeded", false)));
        let mut p = pod("a", &[], "Pending", false);
        p.metadata.deletion_timestamp = p.metadata.creation_timestamp.clone();
        assert!(!is_active(&p));
    }
}
