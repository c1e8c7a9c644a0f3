//! StatefulSet status: replica counts by readiness and revision, and the current and update
//! revisions, the current one catching up once a rolling update completes.

use super::identity::revision_of;
use super::view::View;
use crate::pod_state::{is_available, is_ready, is_terminating, phase, until_available};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::StatefulSetStatus;
use k8s_openapi::api::core::v1::Pod;

/// Status keys a write must carry (a missing one is nulled).
pub const KEYS: &[&str] = &[
    "observedGeneration",
    "replicas",
    "readyReplicas",
    "currentReplicas",
    "updatedReplicas",
    "availableReplicas",
    "currentRevision",
    "updateRevision",
    "collisionCount",
    "conditions",
];

fn count(pods: &[&Pod], f: impl Fn(&Pod) -> bool) -> i32 {
    i32::try_from(pods.iter().filter(|p| f(p)).count()).unwrap_or(i32::MAX)
}

/// Kubernetes' computeReplicaStatus plus completeRollingUpdate.
pub fn compute(
    v: &View,
    pods: &[&Pod],
    current: &str,
    update: &str,
    collision: i32,
    now: Timestamp,
) -> StatefulSetStatus {
    let ready = |p: &Pod| phase(p) == "Running" && is_ready(p);
    let replicas = count(pods, |_| true);
    let ready_n = count(pods, ready);
    let current_n = count(pods, |p| !is_terminating(&p.metadata) && revision_of(p) == Some(current));
    let updated_n = count(pods, |p| !is_terminating(&p.metadata) && revision_of(p) == Some(update));
    let nz = |n: i32| (n != 0).then_some(n);
    let mut s = StatefulSetStatus {
        observed_generation: Some(v.generation),
        replicas,
        ready_replicas: nz(ready_n),
        available_replicas: nz(count(pods, |p| ready(p) && is_available(p, v.min_ready_seconds, now))),
        current_replicas: nz(current_n),
        updated_replicas: nz(updated_n),
        current_revision: Some(current.to_string()),
        update_revision: Some(update.to_string()),
        collision_count: Some(collision),
        conditions: v.status.conditions.clone(),
    };
    if !v.on_delete && updated_n == replicas && ready_n == replicas {
        s.current_replicas = nz(updated_n);
        s.current_revision = Some(update.to_string());
    }
    s
}

/// With minReadySeconds, look again when a ready pod becomes available.
pub fn recheck_after(v: &View, pods: &[&Pod], now: Timestamp) -> Option<SignedDuration> {
    if v.min_ready_seconds <= 0 {
        return None;
    }
    pods.iter().filter_map(|p| until_available(p, v.min_ready_seconds, now)).min()
}

pub fn changed(old: &StatefulSetStatus, new: &StatefulSetStatus) -> bool {
    let norm = |s: &StatefulSetStatus| {
        let mut s = s.clone();
        for f in [&mut s.ready_replicas, &mut s.available_replicas, &mut s.current_replicas, &mut s.updated_replicas] {
            if *f == Some(0) {
                *f = None;
            }
        }
        s
    };
    norm(old) != norm(new)
}
