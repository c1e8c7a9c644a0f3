//! Which pods a scale-down removes first: Kubernetes' ActivePodsWithRanks ordering.

use crate::pod_state::{created, is_ready, node_name, phase, ready_since};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use std::cmp::Ordering;
use std::collections::HashMap;

/// The annotation that lets users say which pods to remove first (lower cost goes first).
const DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// The `diff` pods to delete out of `pods`, most deletable first: unscheduled before
/// scheduled, Pending before Unknown before Running, not ready before ready, lower deletion
/// cost first, pods doubled up on a node (counting `related` pods) first, ready for less
/// time first, more restarts first, newer first.
pub fn pods_to_delete<'a>(pods: &[&'a Pod], related: &[&Pod], diff: usize, now: Timestamp) -> Vec<&'a Pod> {
    let mut on_node: HashMap<&str, usize> = HashMap::new();
    for p in related.iter().filter(|p| crate::pod_state::is_active(p)) {
        *on_node.entry(node_name(p).unwrap_or_default()).or_default() += 1;
    }
    let mut ranked: Vec<(&Pod, usize)> =
        pods.iter().map(|p| (*p, on_node.get(node_name(p).unwrap_or_default()).copied().unwrap_or(0))).collect();
    if diff < ranked.len() {
        ranked.sort_by(|a, b| compare(a, b, now));
    }
    ranked.into_iter().take(diff).map(|(p, _)| p).collect()
}

fn phase_ordinal(pod: &Pod) -> u8 {
    match phase(pod) {
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    }
}

fn deletion_cost(pod: &Pod) -> i32 {
    pod.metadata.annotations.as_ref().and_then(|a| a.get(DELETION_COST)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn max_restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs.iter().map(|c| c.restart_count).max())
        .unwrap_or(0)
}

/// Less is deleted first.
fn compare(a: &(&Pod, usize), b: &(&Pod, usize), now: Timestamp) -> Ordering {
    let (pa, ra) = (a.0, a.1);
    let (pb, rb) = (b.0, b.1);
    let unassigned = |p: &Pod| node_name(p).is_none();
    unassigned(pb)
        .cmp(&unassigned(pa))
        .then(phase_ordinal(pa).cmp(&phase_ordinal(pb)))
        .then(is_ready(pa).cmp(&is_ready(pb)))
        .then(deletion_cost(pa).cmp(&deletion_cost(pb)))
        .then(rb.cmp(&ra))
        .then_with(|| ready_time_order(pa, pb, now))
        .then(max_restarts(pb).cmp(&max_restarts(pa)))
        .then_with(|| newer_first(Some(created(&pa.metadata)), Some(created(&pb.metadata)), now, pa, pb))
}

fn ready_time_order(a: &Pod, b: &Pod, now: Timestamp) -> Ordering {
    if !(is_ready(a) && is_ready(b)) {
        return Ordering::Equal;
    }
    newer_first(ready_since(a), ready_since(b), now, a, b)
}

/// Kubernetes' LogarithmicScaleDown: times in the same power-of-two age bucket compare
/// equal (broken by UID); an unknown time counts as newest.
fn newer_first(ta: Option<Timestamp>, tb: Option<Timestamp>, now: Timestamp, a: &Pod, b: &Pod) -> Ordering {
    match (ta, tb) {
        (Some(x), Some(y)) if x == y => Ordering::Equal,
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => match age_bucket(x, now).cmp(&age_bucket(y, now)) {
            Ordering::Equal => a.metadata.uid.cmp(&b.metadata.uid),
            other => other,
        },
    }
}

fn age_bucket(t: Timestamp, now: Timestamp) -> i64 {
    let nanos = now.as_nanosecond() - t.as_nanosecond();
    if nanos <= 0 {
        return -1;
    }
    (nanos as f64).log2() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pod_state::fixtures::pod;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn names(pods: &[&Pod]) -> Vec<String> {
        pods.iter().map(|p| p.metadata.name.clone().unwrap()).collect()
    }

    fn on(mut p: Pod, node: &str) -> Pod {
        p.spec.as_mut().unwrap().node_name = Some(node.into());
        p
    }

    fn now() -> Timestamp {
        "2025-01-02T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn scale_down_removes_unscheduled_before_scheduled_pods() {
        let a = on(pod("a", &[], "Running", true), "n1");
        let b = pod("b", &[], "Pending", false);
        let picked = pods_to_delete(&[&a, &b], &[], 1, now());
        assert_eq!(names(&picked), ["b"]);
    }

    #[test]
    fn scale_down_prefers_pending_then_unknown_then_running() {
        let a = on(pod("a", &[], "Running", false), "n1");
        let b = on(pod("b", &[], "Unknown", false), "n1");
        let c = on(pod("c", &[], "Pending", false), "n1");
        let picked = pods_to_delete(&[&a, &b, &c], &[], 2, now());
        assert_eq!(names(&picked), ["c", "b"]);
    }

    #[test]
    fn scale_down_removes_not_ready_pods_before_ready_ones() {
        let a = on(pod("a", &[], "Running", true), "n1");
        let b = on(pod("b", &[], "Running", false), "n1");
        assert_eq!(names(&pods_to_delete(&[&a, &b], &[], 1, now())), ["b"]);
    }

    #[test]
    fn scale_down_removes_pods_with_more_restarts_first() {
        use k8s_openapi::api::core::v1::ContainerStatus;
        let a = on(pod("a", &[], "Running", true), "n1");
        let mut b = on(pod("b", &[], "Running", true), "n1");
        b.status.as_mut().unwrap().container_statuses =
            Some(vec![ContainerStatus { restart_count: 3, ..Default::default() }]);
        assert_eq!(names(&pods_to_delete(&[&a, &b], &[], 1, now())), ["b"]);
    }

    #[test]
    fn scale_down_removes_newer_pods_before_older_ones() {
        let a = on(pod("a", &[], "Running", false), "n1");
        let mut b = on(pod("b", &[], "Running", false), "n1");
        let later: Timestamp = "2025-01-01T20:00:00Z".parse().unwrap();
        b.metadata.creation_timestamp = Some(Time(later));
        assert_eq!(names(&pods_to_delete(&[&a, &b], &[], 1, now())), ["b"]);
    }

    #[test]
    fn scale_down_removes_pods_doubled_up_on_a_node_first() {
        let a = on(pod("a", &[], "Running", true), "n1");
        let b = on(pod("b", &[], "Running", true), "n2");
        let c = on(pod("c", &[], "Running", true), "n2");
        let picked = pods_to_delete(&[&a, &b], &[&a, &b, &c], 1, now());
        assert_eq!(names(&picked), ["b"]);
    }

    #[test]
    fn a_lower_deletion_cost_is_removed_first() {
        let mut a = on(pod("a", &[], "Running", true), "n1");
        a.metadata.annotations = Some([(DELETION_COST.to_string(), "-5".to_string())].into());
        let b = on(pod("b", &[], "Running", true), "n1");
        assert_eq!(names(&pods_to_delete(&[&b, &a], &[], 1, now())), ["a"]);
    }
}
