//! The replica status: counts of the owned active pods and the ReplicaFailure condition
//! (Kubernetes' calculateStatus for ReplicaSets).

use super::owner::Spec;
use crate::label_selector::{labels_of, matches_set};
use crate::pod_state::{is_available, is_ready, until_available};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Status keys a write must carry (a missing one is nulled).
pub const KEYS: &[&str] =
    &["replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration", "conditions"];

/// A failed create or delete in this sync, for the ReplicaFailure condition.
#[derive(Clone, Debug)]
pub struct Failure {
    pub reason: &'static str,
    pub message: String,
}

/// The status after this sync over the active owned pods.
pub fn compute(spec: &Spec, active: &[&Pod], failure: Option<&Failure>, now: Timestamp) -> ReplicaSetStatus {
    let template = spec.template_labels();
    let count = |f: &dyn Fn(&Pod) -> bool| i32::try_from(active.iter().filter(|p| f(p)).count()).unwrap_or(i32::MAX);
    let nz = |n: i32| (n != 0).then_some(n);
    ReplicaSetStatus {
        replicas: count(&|_| true),
        fully_labeled_replicas: nz(count(&|p| matches_set(&template, labels_of(&p.metadata)))),
        ready_replicas: nz(count(&|p| is_ready(p))),
        available_replicas: nz(count(&|p| is_available(p, spec.min_ready_seconds, now))),
        observed_generation: Some(spec.generation),
        conditions: conditions(&spec.status, failure, now),
        ..Default::default()
    }
}

/// Adds ReplicaFailure when this sync failed and none is set; removes it after a clean sync.
fn conditions(old: &ReplicaSetStatus, failure: Option<&Failure>, now: Timestamp) -> Option<Vec<ReplicaSetCondition>> {
    let mut conds = old.conditions.clone().unwrap_or_default();
    let has = conds.iter().any(|c| c.type_ == "ReplicaFailure");
    match failure {
        Some(f) if !has => conds.push(ReplicaSetCondition {
            type_: "ReplicaFailure".into(),
            status: "True".into(),
            reason: Some(f.reason.into()),
            message: Some(f.message.clone()),
            last_transition_time: Some(Time(now)),
        }),
        None => conds.retain(|c| c.type_ != "ReplicaFailure"),
        Some(_) => {}
    }
    (!conds.is_empty()).then_some(conds)
}

/// When to look again so that pods ready but not yet available (minReadySeconds) are
/// counted, as the ReplicaSet controller requeues after minReadySeconds.
pub fn recheck_after(spec: &Spec, active: &[&Pod], now: Timestamp) -> Option<SignedDuration> {
    if spec.min_ready_seconds <= 0 {
        return None;
    }
    active.iter().filter_map(|p| until_available(p, spec.min_ready_seconds, now)).min()
}

/// Whether `new` differs from what is stored, so a write is needed.
pub fn changed(old: &ReplicaSetStatus, new: &ReplicaSetStatus) -> bool {
    let norm = |s: &ReplicaSetStatus| {
        let mut s = s.clone();
        for field in [&mut s.fully_labeled_replicas, &mut s.ready_replicas, &mut s.available_replicas] {
            if *field == Some(0) {
                *field = None;
            }
        }
        if s.conditions.as_ref().is_some_and(Vec::is_empty) {
            s.conditions = None;
        }
        s
    };
    norm(old) != norm(new)
}

#[cfg(test)]
mod tests {
    use super::super::owner::Selector;
    use super::*;
    use crate::pod_state::fixtures::pod;
    use k8s_openapi::api::core::v1::PodTemplateSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

    fn spec(min_ready: i32) -> Spec {
        Spec {
            name: "web".into(),
            namespace: "default".into(),
            uid: "u".into(),
            deleting: false,
            generation: 4,
            replicas: 2,
            min_ready_seconds: min_ready,
            selector: Selector::Labels(LabelSelector::default()),
            template: Some(PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some([("app".to_string(), "web".to_string()), ("v".to_string(), "2".to_string())].into()),
                    ..Default::default()
                }),
                spec: None,
            }),
            status: ReplicaSetStatus::default(),
        }
    }

    #[test]
    fn status_counts_ready_available_and_fully_labeled_pods() {
        let a = pod("a", &[("app", "web"), ("v", "2")], "Running", true);
        let b = pod("b", &[("app", "web")], "Running", false);
        let now = "2025-01-02T00:00:00Z".parse().unwrap();
        let s = compute(&spec(0), &[&a, &b], None, now);
        assert_eq!(s.replicas, 2);
        assert_eq!(s.fully_labeled_replicas, Some(1));
        assert_eq!(s.ready_replicas, Some(1));
        assert_eq!(s.available_replicas, Some(1));
        assert_eq!(s.observed_generation, Some(4));
    }

    #[test]
    fn a_failed_create_sets_replica_failure_and_a_clean_sync_clears_it() {
        let now = "2025-01-02T00:00:00Z".parse().unwrap();
        let f = Failure { reason: "FailedCreate", message: "quota".into() };
        let mut sp = spec(0);
        sp.status = compute(&sp, &[], Some(&f), now);
        assert_eq!(sp.status.conditions.as_ref().unwrap()[0].reason.as_deref(), Some("FailedCreate"));
        assert!(compute(&sp, &[], None, now).conditions.is_none());
    }

    #[test]
    fn ready_pods_are_rechecked_when_min_ready_seconds_elapse() {
        let a = pod("a", &[], "Running", true);
        let since = crate::pod_state::ready_since(&a).unwrap();
        let s = spec(30);
        let later = since + SignedDuration::from_secs(10);
        assert_eq!(recheck_after(&s, &[&a], later), Some(SignedDuration::from_secs(20)));
        assert_eq!(compute(&s, &[&a], None, later).available_replicas, None);
    }
}
