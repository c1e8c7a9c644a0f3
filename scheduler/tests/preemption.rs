//! Preemption against hand-built snapshots: victims, the chosen node, and the message.

use k8s_openapi::api::core::v1::Pod;
use scheduler::framework::Framework;
use scheduler::preemption::preempt;
use scheduler::testing::{node, pod};
use scheduler::{PodInfo, Snapshot};

fn preempt_for(p: Pod, snapshot: &Snapshot) -> Result<(String, Vec<String>), String> {
    let mut framework = Framework::default();
    let info = PodInfo::new(p);
    let Err(mut fit) = framework.schedule_one(&info, snapshot) else {
        panic!("the pod fits without preemption");
    };
    match preempt(&framework, &info, snapshot, &fit) {
        Ok(candidate) => Ok((candidate.node, candidate.victims.iter().map(|v| v.name.clone()).collect())),
        Err(message) => {
            fit.post_filter_msg = Some(message);
            Err(fit.to_string())
        }
    }
}

const MASTER: &str = "node-role.kubernetes.io/master";

#[test]
fn a_high_priority_pod_preempts_a_lower_priority_pod_to_make_room() {
    let snapshot = Snapshot::from_objects(
        vec![node("n1").cpu("1").build()],
        vec![pod("low").cpu("800m").priority(10).on("n1").build()],
    );
    let result = preempt_for(pod("high").cpu("500m").priority(1000).build(), &snapshot);
    assert_eq!(result, Ok(("n1".into(), vec!["low".into()])));
}

#[test]
fn a_critical_pod_preempts_the_node_whose_victims_matter_least() {
    let snapshot = Snapshot::from_objects(
        vec![node("a").cpu("1").build(), node("b").cpu("1").build()],
        vec![pod("mid").cpu("800m").priority(500).on("a").build(), pod("low").cpu("800m").priority(1).on("b").build()],
    );
    let critical = pod("critical").cpu("500m").priority(2_000_000_000).build();
    assert_eq!(preempt_for(critical, &snapshot), Ok(("b".into(), vec!["low".into()])));
}

#[test]
fn victims_that_can_stay_are_reprieved() {
    let snapshot = Snapshot::from_objects(
        vec![node("n1").cpu("2").build()],
        vec![
            pod("small").cpu("200m").priority(1).on("n1").build(),
            pod("big").cpu("1500m").priority(2).on("n1").build(),
        ],
    );
    let result = preempt_for(pod("high").cpu("1").priority(100).build(), &snapshot);
    assert_eq!(result, Ok(("n1".into(), vec!["big".into()])));
}

#[test]
fn pods_of_equal_or_higher_priority_are_never_victims() {
    let snapshot = Snapshot::from_objects(
        vec![node("n1").cpu("1").build()],
        vec![pod("peer").cpu("800m").priority(100).on("n1").build()],
    );
    let err = preempt_for(pod("high").cpu("500m").priority(100).build(), &snapshot).unwrap_err();
    assert_eq!(
        err,
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
    );
}

#[test]
fn the_message_says_preemption_is_not_helpful_where_only_the_node_can_change() {
    let snapshot = Snapshot::from_objects(
        vec![
            node("worker").cpu("1").build(),
            node("master1").taint(MASTER, "", "NoSchedule").build(),
            node("master2").taint(MASTER, "", "NoSchedule").build(),
        ],
        vec![],
    );
    let err = preempt_for(pod("big").cpu("2").build(), &snapshot).unwrap_err();
    assert_eq!(
        err,
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/master: }. \
         preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, \
         2 Preemption is not helpful for scheduling."
    );
}

#[test]
fn a_selector_mismatch_everywhere_is_not_helped_by_preemption() {
    let snapshot = Snapshot::from_objects(vec![node("n1").build(), node("n2").build(), node("n3").build()], vec![]);
    let err = preempt_for(pod("web").node_selector("disk", "ssd").build(), &snapshot).unwrap_err();
    assert_eq!(
        err,
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. \
         preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    );
}

#[test]
fn a_pod_that_never_preempts_says_so() {
    let snapshot =
        Snapshot::from_objects(vec![node("n1").cpu("1").build()], vec![pod("low").cpu("1").on("n1").build()]);
    let mut p = pod("high").cpu("1").priority(100).build();
    if let Some(spec) = p.spec.as_mut() {
        spec.preemption_policy = Some("Never".into());
    }
    let err = preempt_for(p, &snapshot).unwrap_err();
    assert_eq!(
        err,
        "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."
    );
}

#[test]
fn a_pre_filter_rejection_is_not_helped_by_preemption() {
    let snapshot = Snapshot::from_objects(vec![node("n1").build(), node("n2").build()], vec![]);
    let err = preempt_for(pod("db").claim("missing").build(), &snapshot).unwrap_err();
    assert_eq!(
        err,
        "0/2 nodes are available: persistentvolumeclaim \"missing\" not found. \
         preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    );
}
