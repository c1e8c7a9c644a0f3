//! A node's health as its Lease and status show it: conditions turned Unknown when the
//! kubelet stopped reporting, and the condition taints (not-ready, unreachable, pressure,
//! unschedulable) that follow from the conditions (monitorNodeHealth and TaintNodesByCondition).

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::time::Duration;

pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// The conditions the controller turns Unknown when the kubelet goes silent.
const MONITORED: [&str; 4] = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/// NoSchedule taints that follow from a condition having a status.
const CONDITION_TAINTS: [(&str, &str, &str); 6] = [
    ("Ready", "False", NOT_READY),
    ("Ready", "Unknown", UNREACHABLE),
    ("MemoryPressure", "True", "node.kubernetes.io/memory-pressure"),
    ("DiskPressure", "True", "node.kubernetes.io/disk-pressure"),
    ("PIDPressure", "True", "node.kubernetes.io/pid-pressure"),
    ("NetworkUnavailable", "True", "node.kubernetes.io/network-unavailable"),
];

/// The taint keys this controller manages; other taints are the user's.
fn managed(t: &Taint) -> bool {
    let key = t.key.as_str();
    match t.effect.as_str() {
        "NoSchedule" => key == UNSCHEDULABLE || CONDITION_TAINTS.iter().any(|(_, _, k)| *k == key),
        "NoExecute" => key == NOT_READY || key == UNREACHABLE,
        _ => false,
    }
}

/// The last time the node was heard from: its Lease renewal or its Ready heartbeat,
/// and never earlier than its creation or the controller's start (a grace period for both).
pub fn last_heard(node: &Node, lease: Option<&Lease>, started: Timestamp) -> Timestamp {
    let renewed = lease.and_then(|l| l.spec.as_ref()?.renew_time.as_ref()).map(|t| t.0);
    let heartbeat = condition(node, "Ready").and_then(|c| c.last_heartbeat_time.as_ref()).map(|t| t.0);
    let created = node.metadata.creation_timestamp.as_ref().map(|t| t.0);
    [renewed, heartbeat, created, Some(started)].into_iter().flatten().max().unwrap_or(started)
}

pub fn condition<'a>(node: &'a Node, type_: &str) -> Option<&'a NodeCondition> {
    node.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == type_)
}

/// The Ready condition's status ("True", "False", "Unknown"), Unknown when missing.
pub fn ready_status(node: &Node) -> &str {
    condition(node, "Ready").map_or("Unknown", |c| c.status.as_str())
}

/// Whether the node has gone silent for longer than the grace period.
pub fn is_silent(node: &Node, lease: Option<&Lease>, now: Timestamp, grace: Duration, started: Timestamp) -> bool {
    now.duration_since(last_heard(node, lease, started)) > signed(grace)
}

/// How long until a node heard from now would go silent.
pub fn until_silent(
    node: &Node,
    lease: Option<&Lease>,
    now: Timestamp,
    grace: Duration,
    started: Timestamp,
) -> Duration {
    let left = signed(grace) - now.duration_since(last_heard(node, lease, started));
    Duration::try_from(left).unwrap_or_default()
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

/// The node's conditions with every monitored one Unknown (reason NodeStatusUnknown, or
/// NodeStatusNeverUpdated for one the kubelet never posted); None when nothing changes.
pub fn unknown_conditions(node: &Node, now: Timestamp) -> Option<Vec<NodeCondition>> {
    let mut conditions = node.status.as_ref().and_then(|s| s.conditions.clone()).unwrap_or_default();
    let mut changed = false;
    for type_ in MONITORED {
        match conditions.iter_mut().find(|c| c.type_ == type_) {
            Some(c) if c.status == "Unknown" => {}
            Some(c) => {
                c.status = "Unknown".into();
                c.reason = Some("NodeStatusUnknown".into());
                c.message = Some("Kubelet stopped posting node status.".into());
                c.last_transition_time = Some(Time(now));
                changed = true;
            }
            None => {
                conditions.push(never_updated(node, type_, now));
                changed = true;
            }
        }
    }
    changed.then_some(conditions)
}

fn never_updated(node: &Node, type_: &str, now: Timestamp) -> NodeCondition {
    NodeCondition {
        type_: type_.into(),
        status: "Unknown".into(),
        reason: Some("NodeStatusNeverUpdated".into()),
        message: Some("Kubelet never posted node status.".into()),
        last_heartbeat_time: node.metadata.creation_timestamp.clone(),
        last_transition_time: Some(Time(now)),
    }
}

/// The taints the node should carry: its own taints, less managed ones no longer called
/// for, plus those its conditions and spec.unschedulable call for (NoExecute ones stamped
/// with timeAdded; existing ones keep theirs). None when nothing changes.
pub fn taints(node: &Node, now: Timestamp) -> Option<Vec<Taint>> {
    let current = node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
    let wanted = wanted_taints(node);
    let is_wanted = |t: &Taint| wanted.iter().any(|(k, e)| *k == t.key && *e == t.effect);
    let mut next: Vec<Taint> = current.iter().filter(|t| !managed(t) || is_wanted(t)).cloned().collect();
    for (key, effect) in &wanted {
        if !next.iter().any(|t| t.key == *key && t.effect == *effect) {
            let time_added = (*effect == "NoExecute").then_some(Time(now));
            next.push(Taint { key: key.clone(), effect: effect.to_string(), value: None, time_added });
        }
    }
    (next != current).then_some(next)
}

fn wanted_taints(node: &Node) -> Vec<(String, &'static str)> {
    let mut wanted: Vec<(String, &'static str)> = CONDITION_TAINTS
        .iter()
        .filter(|(type_, status, _)| condition(node, type_).is_some_and(|c| c.status == *status))
        .map(|(_, _, key)| (key.to_string(), "NoSchedule"))
        .collect();
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        wanted.push((UNSCHEDULABLE.into(), "NoSchedule"));
    }
    match condition(node, "Ready").map(|c| c.status.as_str()) {
        Some("False") => wanted.push((NOT_READY.into(), "NoExecute")),
        Some("Unknown") => wanted.push((UNREACHABLE.into(), "NoExecute")),
        _ => {}
    }
    wanted
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::api::core::v1::{NodeSpec, NodeStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};

    const GRACE: Duration = Duration::from_secs(40);

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    fn node(ready: &str) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some("n1".into()),
                creation_timestamp: Some(Time(at(0))),
                ..Default::default()
            },
            spec: Some(NodeSpec::default()),
            status: Some(NodeStatus {
                conditions: Some(vec![NodeCondition {
                    type_: "Ready".into(),
                    status: ready.into(),
                    last_heartbeat_time: Some(Time(at(0))),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        }
    }

    fn lease(renewed: i64) -> Lease {
        Lease {
            spec: Some(LeaseSpec { renew_time: Some(MicroTime(at(renewed))), ..Default::default() }),
            ..Default::default()
        }
    }

    fn keys(t: &[Taint]) -> Vec<(String, String)> {
        t.iter().map(|t| (t.key.clone(), t.effect.clone())).collect()
    }

    #[test]
    fn a_node_whose_lease_is_renewed_is_not_silent() {
        assert!(!is_silent(&node("True"), Some(&lease(100)), at(120), GRACE, at(0)));
    }

    #[test]
    fn a_node_whose_lease_stopped_for_the_grace_period_is_silent() {
        assert!(is_silent(&node("True"), Some(&lease(100)), at(141), GRACE, at(0)));
    }

    #[test]
    fn a_controller_restart_gives_every_node_a_fresh_grace_period() {
        assert!(!is_silent(&node("True"), Some(&lease(0)), at(1000), GRACE, at(990)));
    }

    #[test]
    fn a_silent_nodes_conditions_become_unknown_with_kubernetes_reason() {
        let conds = unknown_conditions(&node("True"), at(200)).unwrap();
        let ready = conds.iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(ready.status, "Unknown");
        assert_eq!(ready.reason.as_deref(), Some("NodeStatusUnknown"));
        assert_eq!(ready.message.as_deref(), Some("Kubelet stopped posting node status."));
        let memory = conds.iter().find(|c| c.type_ == "MemoryPressure").unwrap();
        assert_eq!(memory.reason.as_deref(), Some("NodeStatusNeverUpdated"));
    }

    #[test]
    fn conditions_already_unknown_are_not_rewritten() {
        let mut n = node("True");
        n.status.as_mut().unwrap().conditions = unknown_conditions(&n, at(200));
        assert_eq!(unknown_conditions(&n, at(300)), None);
    }

    #[test]
    fn an_unknown_node_gets_the_unreachable_taints() {
        let t = taints(&node("Unknown"), at(200)).unwrap();
        assert_eq!(keys(&t), vec![(UNREACHABLE.into(), "NoSchedule".into()), (UNREACHABLE.into(), "NoExecute".into())]);
        assert_eq!(t[1].time_added, Some(Time(at(200))));
        assert_eq!(t[0].time_added, None);
    }

    #[test]
    fn a_not_ready_node_gets_the_not_ready_taints() {
        let t = taints(&node("False"), at(200)).unwrap();
        assert_eq!(keys(&t), vec![(NOT_READY.into(), "NoSchedule".into()), (NOT_READY.into(), "NoExecute".into())]);
    }

    #[test]
    fn a_node_ready_again_loses_its_taints_but_keeps_the_users() {
        let mut n = node("Unknown");
        n.spec.as_mut().unwrap().taints = taints(&n, at(200));
        n.spec.as_mut().unwrap().taints.as_mut().unwrap().push(Taint {
            key: "dedicated".into(),
            effect: "NoSchedule".into(),
            value: Some("gpu".into()),
            time_added: None,
        });
        n.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].status = "True".into();
        assert_eq!(keys(&taints(&n, at(300)).unwrap()), vec![("dedicated".into(), "NoSchedule".into())]);
    }

    #[test]
    fn a_healthy_nodes_taints_are_left_alone() {
        assert_eq!(taints(&node("True"), at(200)), None);
    }

    #[test]
    fn an_existing_no_execute_taint_keeps_its_time_added() {
        let mut n = node("Unknown");
        n.spec.as_mut().unwrap().taints = taints(&n, at(200));
        assert_eq!(taints(&n, at(500)), None);
    }

    #[test]
    fn a_cordoned_node_gets_the_unschedulable_taint() {
        let mut n = node("True");
        n.spec.as_mut().unwrap().unschedulable = Some(true);
        assert_eq!(keys(&taints(&n, at(0)).unwrap()), vec![(UNSCHEDULABLE.into(), "NoSchedule".into())]);
    }
}
