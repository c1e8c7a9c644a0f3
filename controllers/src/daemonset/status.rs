//! DaemonSet status: how many nodes should run the daemon, run it, run it ready, available
//! and updated, and run it without belonging (Kubernetes' updateDaemonSetStatus).

use super::nodes::should_run;
use super::plan::ByNode;
use super::view::View;
use crate::label_selector::labels_of;
use crate::pod_state::{is_available, is_ready};
use crate::revision::CONTROLLER_REVISION_HASH;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::DaemonSetStatus;
use k8s_openapi::api::core::v1::Node;

/// Status keys a write must carry (a missing one is nulled).
pub const KEYS: &[&str] = &[
    "currentNumberScheduled",
    "numberMisscheduled",
    "desiredNumberScheduled",
    "numberReady",
    "observedGeneration",
    "updatedNumberScheduled",
    "numberAvailable",
    "numberUnavailable",
    "collisionCount",
    "conditions",
];

#[derive(Default)]
struct Counts {
    desired: i32,
    current: i32,
    misscheduled: i32,
    ready: i32,
    available: i32,
    updated: i32,
}

pub fn compute(
    d: &View,
    nodes: &[&Node],
    by_node: &ByNode<'_>,
    hash: &str,
    collision: Option<i32>,
    now: Timestamp,
) -> DaemonSetStatus {
    let spec = d.template.spec.clone().unwrap_or_default();
    let mut c = Counts::default();
    for node in nodes {
        let name = node.metadata.name.as_deref().unwrap_or_default();
        let pod = by_node.get(name).and_then(|p| p.first());
        match (should_run(&spec, node).0, pod) {
            (true, None) => c.desired += 1,
            (true, Some(p)) => {
                c.desired += 1;
                c.current += 1;
                c.ready += i32::from(is_ready(p));
                c.available += i32::from(is_available(p, d.min_ready_seconds, now));
                c.updated +=
                    i32::from(labels_of(&p.metadata).get(CONTROLLER_REVISION_HASH).map(String::as_str) == Some(hash));
            }
            (false, Some(_)) => c.misscheduled += 1,
            (false, None) => {}
        }
    }
    let nz = |n: i32| (n != 0).then_some(n);
    DaemonSetStatus {
        current_number_scheduled: c.current,
        number_misscheduled: c.misscheduled,
        desired_number_scheduled: c.desired,
        number_ready: c.ready,
        observed_generation: Some(d.generation),
        updated_number_scheduled: nz(c.updated),
        number_available: nz(c.available),
        number_unavailable: nz(c.desired - c.available),
        collision_count: collision,
        conditions: d.status.conditions.clone(),
    }
}

/// With minReadySeconds, ready pods become available later: look again then.
pub fn recheck_after(d: &View, s: &DaemonSetStatus) -> Option<SignedDuration> {
    (d.min_ready_seconds > 0 && s.number_ready != s.number_available.unwrap_or(0))
        .then(|| SignedDuration::from_secs(i64::from(d.min_ready_seconds)))
}

/// Whether the stored status differs from `new`.
pub fn changed(old: &DaemonSetStatus, new: &DaemonSetStatus) -> bool {
    let norm = |s: &DaemonSetStatus| {
        let mut s = s.clone();
        for f in [&mut s.updated_number_scheduled, &mut s.number_available, &mut s.number_unavailable] {
            if *f == Some(0) {
                *f = None;
            }
        }
        s
    };
    norm(old) != norm(new)
}
