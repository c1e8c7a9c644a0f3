//! DaemonSet plans over nodes, daemon pods and revisions built in memory.

use super::plan::{Observed, Plan, plan};
use super::view::View;
use crate::revision::{CONTROLLER_REVISION_HASH, Step};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::{Value, json};
use std::collections::HashMap;

fn daemonset(extra_spec: Value) -> DaemonSet {
    let mut spec = json!({
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "c", "image": "agent:1"}]}}
    });
    crate::test_support::merge(&mut spec, &extra_spec);
    serde_json::from_value(
        json!({"metadata": {"name": "agent", "namespace": "default", "uid": "ds-uid", "generation": 1}, "spec": spec}),
    )
    .unwrap()
}

fn node(name: &str, labels: Value, taints: Value) -> Node {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints}})).unwrap()
}

fn nodes(n: usize) -> Vec<Node> {
    (0..n).map(|i| node(&format!("n{i}"), json!({}), json!([]))).collect()
}

fn now() -> Timestamp {
    "2025-01-02T00:00:00Z".parse().unwrap()
}

struct World {
    ds: DaemonSet,
    nodes: Vec<Node>,
    pods: Vec<Pod>,
    revisions: Vec<ControllerRevision>,
    in_sync: bool,
    backoff: HashMap<String, SignedDuration>,
}

impl World {
    fn new(ds: DaemonSet, nodes: Vec<Node>) -> World {
        World { ds, nodes, pods: Vec::new(), revisions: Vec::new(), in_sync: true, backoff: HashMap::new() }
    }

    fn plan(&self) -> Plan<'_> {
        let o = Observed {
            nodes: self.nodes.iter().collect(),
            pods: self.pods.iter().collect(),
            revisions: self.revisions.iter().collect(),
            in_sync: self.in_sync,
            backoff: &self.backoff,
            now: now(),
        };
        plan(&View::of(&self.ds), &o)
    }

    /// Stores the revision the plan creates and returns its hash.
    fn commit_revision(&mut self) -> String {
        let p = self.plan();
        let hash = p.hash.clone();
        if let Step::Create(r) = p.history {
            let mut r = *r;
            r.metadata.owner_references.get_or_insert_default();
            self.revisions.push(r);
        }
        hash
    }

    fn daemon_pod(&mut self, name: &str, node: &str, hash: &str, phase: &str, ready: bool) {
        let mut p =
            crate::pod_state::fixtures::pod(name, &[("app", "agent"), (CONTROLLER_REVISION_HASH, hash)], phase, ready);
        p.spec.as_mut().unwrap().node_name = Some(node.into());
        p.metadata.owner_references = Some(vec![super::plan::controller_ref(&View::of(&self.ds))]);
        self.pods.push(p);
    }

    fn set_image(&mut self, image: &str) {
        let t = &mut self.ds.spec.as_mut().unwrap().template;
        t.spec.as_mut().unwrap().containers[0].image = Some(image.into());
    }
}

fn deleted(p: &Plan<'_>) -> Vec<String> {
    let mut v: Vec<String> = p.delete.iter().map(|v| v.name.clone()).collect();
    v.sort();
    v
}

#[test]
fn a_daemonset_creates_one_pod_per_eligible_node() {
    let w = World::new(daemonset(json!({})), nodes(3));
    let p = w.plan();
    assert_eq!(p.create_on, ["n0", "n1", "n2"]);
    assert_eq!(p.status.desired_number_scheduled, 3);
    assert_eq!(p.status.current_number_scheduled, 0);
}

#[test]
fn a_node_selector_keeps_pods_off_other_nodes() {
    let ds = daemonset(json!({"template": {"spec": {"nodeSelector": {"role": "edge"}}}}));
    let w = World::new(ds, vec![node("a", json!({"role": "edge"}), json!([])), node("b", json!({}), json!([]))]);
    assert_eq!(w.plan().create_on, ["a"]);
}

#[test]
fn a_tainted_master_gets_a_pod_only_when_the_taint_is_tolerated() {
    let master =
        || node("master", json!({}), json!([{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}]));
    let w = World::new(daemonset(json!({})), vec![master(), node("w", json!({}), json!([]))]);
    assert_eq!(w.plan().create_on, ["w"]);
    let tolerant = daemonset(
        json!({"template": {"spec": {"tolerations": [{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}]}}}),
    );
    let w = World::new(tolerant, vec![master(), node("w", json!({}), json!([]))]);
    assert_eq!(w.plan().create_on, ["master", "w"]);
}

#[test]
fn nothing_is_created_while_earlier_creations_are_unseen() {
    let mut w = World::new(daemonset(json!({})), nodes(2));
    w.in_sync = false;
    assert!(w.plan().create_on.is_empty());
}

#[test]
fn the_first_sync_creates_a_controller_revision_labelled_with_the_pod_hash() {
    let w = World::new(daemonset(json!({})), nodes(1));
    let p = w.plan();
    let Step::Create(r) = &p.history else { panic!("expected a new revision") };
    assert_eq!(r.revision, 1);
    assert_eq!(r.metadata.labels.as_ref().unwrap()[CONTROLLER_REVISION_HASH], p.hash);
    assert_eq!(r.metadata.name.as_deref(), Some(format!("agent-{}", p.hash).as_str()));
    assert_eq!(r.metadata.labels.as_ref().unwrap()["app"], "agent", "revisions carry the template labels");
}

#[test]
fn a_failed_daemon_pod_is_deleted_for_replacement_unless_backing_off() {
    let mut w = World::new(daemonset(json!({})), nodes(1));
    let hash = w.commit_revision();
    w.daemon_pod("agent-x", "n0", &hash, "Failed", false);
    let p = w.plan();
    assert_eq!(deleted(&p), ["agent-x"]);
    assert_eq!(p.failed_on, ["n0"]);
    w.backoff.insert("n0".into(), SignedDuration::from_secs(4));
    let p = w.plan();
    assert!(p.delete.is_empty());
    assert_eq!(p.requeue_after, Some(SignedDuration::from_secs(4)));
}

#[test]
fn of_two_pods_on_a_node_the_oldest_is_kept() {
    let mut w = World::new(daemonset(json!({})), nodes(1));
    let hash = w.commit_revision();
    w.daemon_pod("old", "n0", &hash, "Running", true);
    w.daemon_pod("new", "n0", &hash, "Running", true);
    w.pods[1].metadata.creation_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now()));
    assert_eq!(deleted(&w.plan()), ["new"]);
}

#[test]
fn a_pod_on_a_node_it_no_longer_fits_is_deleted_and_counted_misscheduled() {
    let mut w = World::new(
        daemonset(json!({"template": {"spec": {"nodeSelector": {"role": "edge"}}}})),
        vec![node("a", json!({}), json!([]))],
    );
    let hash = w.commit_revision();
    w.daemon_pod("p", "a", &hash, "Running", true);
    let p = w.plan();
    assert_eq!(deleted(&p), ["p"]);
    assert_eq!(p.status.number_misscheduled, 1);
}

#[test]
fn a_running_pod_stays_on_a_node_that_gained_a_no_schedule_taint() {
    let mut w =
        World::new(daemonset(json!({})), vec![node("a", json!({}), json!([{"key": "k", "effect": "NoSchedule"}]))]);
    let hash = w.commit_revision();
    w.daemon_pod("p", "a", &hash, "Running", true);
    assert!(w.plan().delete.is_empty());
}

#[test]
fn status_counts_desired_current_ready_available_and_updated() {
    let mut w = World::new(daemonset(json!({})), nodes(3));
    let hash = w.commit_revision();
    w.daemon_pod("a", "n0", &hash, "Running", true);
    w.daemon_pod("b", "n1", "oldhash", "Pending", false);
    let s = w.plan().status;
    assert_eq!((s.desired_number_scheduled, s.current_number_scheduled, s.number_ready), (3, 2, 1));
    assert_eq!((s.number_available, s.updated_number_scheduled, s.number_unavailable), (Some(1), Some(1), Some(2)));
    assert_eq!(s.observed_generation, Some(1));
}

#[test]
fn a_rolling_update_replaces_at_most_max_unavailable_pods_at_a_time() {
    let mut w = World::new(
        daemonset(json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}}})),
        nodes(5),
    );
    let old = w.commit_revision();
    for i in 0..5 {
        w.daemon_pod(&format!("p{i}"), &format!("n{i}"), &old, "Running", true);
    }
    w.set_image("agent:2");
    let new = w.commit_revision();
    assert_ne!(old, new);
    assert_eq!(w.plan().delete.len(), 2);
    // One node already runs an unavailable new pod: only one more old pod may go.
    w.pods.retain(|p| p.metadata.name.as_deref() != Some("p0"));
    w.daemon_pod("q0", "n0", &new, "Pending", false);
    assert_eq!(w.plan().delete.len(), 1);
}

#[test]
fn unavailable_old_pods_are_replaced_regardless_of_max_unavailable() {
    let mut w = World::new(daemonset(json!({})), nodes(3));
    let old = w.commit_revision();
    for i in 0..3 {
        w.daemon_pod(&format!("p{i}"), &format!("n{i}"), &old, "Running", false);
    }
    w.set_image("agent:2");
    w.commit_revision();
    assert_eq!(w.plan().delete.len(), 3);
}

#[test]
fn on_delete_leaves_old_pods_alone() {
    let mut w = World::new(daemonset(json!({"updateStrategy": {"type": "OnDelete"}})), nodes(2));
    let old = w.commit_revision();
    w.daemon_pod("p0", "n0", &old, "Running", true);
    w.daemon_pod("p1", "n1", &old, "Running", true);
    w.set_image("agent:2");
    w.commit_revision();
    assert!(w.plan().delete.is_empty());
}

#[test]
fn going_back_to_an_old_template_renumbers_its_revision_instead_of_creating_one() {
    let mut w = World::new(daemonset(json!({})), nodes(1));
    let first = w.commit_revision();
    w.set_image("agent:2");
    w.commit_revision();
    w.set_image("agent:1");
    let p = w.plan();
    assert_eq!(p.hash, first);
    assert!(matches!(p.history, Step::Renumber { revision: 3, .. }));
}

#[test]
fn revisions_beyond_the_history_limit_and_unused_by_pods_are_pruned() {
    let mut w = World::new(daemonset(json!({"revisionHistoryLimit": 1})), nodes(1));
    let h1 = w.commit_revision();
    for i in 2..5 {
        w.set_image(&format!("agent:{i}"));
        w.commit_revision();
    }
    w.daemon_pod("p", "n0", &h1, "Running", true);
    let pruned = w.plan().prune_revisions;
    assert_eq!(pruned.len(), 2, "three old revisions, one to keep: the two oldest unused go");
    assert!(!pruned.iter().any(|n| n.ends_with(&h1)));
}
