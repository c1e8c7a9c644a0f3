//! `schedule_one` against hand-built snapshots: every filter, every score, and the failure message.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PersistentVolume,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeSpec, PodAffinity, PodAffinityTerm,
    PodAntiAffinity, PreferredSchedulingTerm, TopologySpreadConstraint, VolumeNodeAffinity, WeightedPodAffinityTerm,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use scheduler::cache::Cache;
use scheduler::framework::Framework;
use scheduler::testing::{node, pod};
use scheduler::{PodInfo, Snapshot, schedule_one};

fn info(p: k8s_openapi::api::core::v1::Pod) -> PodInfo {
    PodInfo::new(p)
}

fn place(p: k8s_openapi::api::core::v1::Pod, snapshot: &Snapshot) -> Result<String, String> {
    schedule_one(&info(p), snapshot).map_err(|e| e.to_string())
}

fn selector(key: &str, value: &str) -> Option<LabelSelector> {
    Some(LabelSelector { match_labels: Some([(key.to_string(), value.to_string())].into()), match_expressions: None })
}

fn term(key: &str, value: &str, topology: &str) -> PodAffinityTerm {
    PodAffinityTerm { label_selector: selector(key, value), topology_key: topology.into(), ..Default::default() }
}

fn anti_affinity(t: PodAffinityTerm) -> Affinity {
    Affinity {
        pod_anti_affinity: Some(PodAntiAffinity {
            required_during_scheduling_ignored_during_execution: Some(vec![t]),
            preferred_during_scheduling_ignored_during_execution: None,
        }),
        ..Default::default()
    }
}

fn affinity(t: PodAffinityTerm) -> Affinity {
    Affinity {
        pod_affinity: Some(PodAffinity {
            required_during_scheduling_ignored_during_execution: Some(vec![t]),
            preferred_during_scheduling_ignored_during_execution: None,
        }),
        ..Default::default()
    }
}

fn requirement(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key: key.into(),
        operator: op.into(),
        values: (!values.is_empty()).then(|| values.iter().map(|v| v.to_string()).collect()),
    }
}

fn required_node_affinity(expressions: Vec<NodeSelectorRequirement>) -> Affinity {
    Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: Some(expressions),
                    match_fields: None,
                }],
            }),
            preferred_during_scheduling_ignored_during_execution: None,
        }),
        ..Default::default()
    }
}

fn spread(key: &str, max_skew: i32, when: &str, app: &str) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew,
        topology_key: key.into(),
        when_unsatisfiable: when.into(),
        label_selector: selector("app", app),
        ..Default::default()
    }
}

const MASTER: &str = "node-role.kubernetes.io/master";

#[test]
fn a_pod_lands_on_the_only_ready_node() {
    let snapshot = Snapshot::from_objects(vec![node("n1").build(), node("n2").ready("False").build()], vec![]);
    assert_eq!(place(pod("web").build(), &snapshot), Ok("n1".into()));
}

#[test]
fn a_pod_that_tolerates_the_master_taint_can_land_on_the_master() {
    let snapshot = Snapshot::from_objects(vec![node("master").taint(MASTER, "", "NoSchedule").build()], vec![]);
    let p = pod("ds").toleration(MASTER, "Exists", "", "NoSchedule").build();
    assert_eq!(place(p, &snapshot), Ok("master".into()));
}

#[test]
fn a_pod_without_the_toleration_avoids_the_tainted_master() {
    let nodes = vec![node("master").taint(MASTER, "", "NoSchedule").build(), node("worker").build()];
    let snapshot = Snapshot::from_objects(nodes, vec![]);
    for _ in 0..5 {
        assert_eq!(place(pod("web").build(), &snapshot), Ok("worker".into()));
    }
}

#[test]
fn the_failure_message_counts_nodes_per_reason_like_kube_scheduler() {
    let nodes = vec![
        node("worker").cpu("1").build(),
        node("master1").taint(MASTER, "", "NoSchedule").build(),
        node("master2").taint(MASTER, "", "NoSchedule").build(),
    ];
    let snapshot = Snapshot::from_objects(nodes, vec![]);
    let err = place(pod("big").cpu("2").build(), &snapshot).unwrap_err();
    assert_eq!(
        err,
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/master: }."
    );
}

#[test]
fn reasons_sort_as_strings_so_ten_comes_before_two() {
    let mut nodes: Vec<_> = (0..10).map(|i| node(&format!("t{i}")).taint("a", "b", "NoExecute").build()).collect();
    nodes.push(node("c1").unschedulable().build());
    nodes.push(node("c2").unschedulable().build());
    let err = place(pod("web").build(), &Snapshot::from_objects(nodes, vec![])).unwrap_err();
    assert_eq!(err, "0/12 nodes are available: 10 node(s) had untolerated taint {a: b}, 2 node(s) were unschedulable.");
}

#[test]
fn a_node_that_lacks_two_resources_counts_under_both_reasons() {
    let snapshot = Snapshot::from_objects(vec![node("n1").cpu("1").memory("1Gi").build()], vec![]);
    let err = place(pod("big").cpu("2").memory("2Gi").build(), &snapshot).unwrap_err();
    assert_eq!(err, "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.");
}

#[test]
fn no_nodes_means_no_nodes_available_to_schedule_pods() {
    let err = place(pod("web").build(), &Snapshot::default()).unwrap_err();
    assert_eq!(err, "no nodes available to schedule pods");
}

#[test]
fn a_cordoned_node_takes_no_new_pods_unless_tolerated() {
    let snapshot = Snapshot::from_objects(vec![node("n1").unschedulable().build()], vec![]);
    let err = place(pod("web").build(), &snapshot).unwrap_err();
    assert_eq!(err, "0/1 nodes are available: 1 node(s) were unschedulable.");
    let tolerant = pod("ds").toleration("node.kubernetes.io/unschedulable", "Exists", "", "NoSchedule").build();
    assert_eq!(place(tolerant, &snapshot), Ok("n1".into()));
}

#[test]
fn a_not_ready_node_is_treated_as_tainted_not_ready() {
    let snapshot =
        Snapshot::from_objects(vec![node("n1").ready("False").build(), node("n2").ready("Unknown").build()], vec![]);
    let err = place(pod("web").build(), &snapshot).unwrap_err();
    assert_eq!(
        err,
        "0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, \
         1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }."
    );
    let tolerate_all = pod("cni").toleration("", "Exists", "", "").build();
    assert!(place(tolerate_all, &snapshot).is_ok());
}

#[test]
fn no_execute_taints_also_repel_and_prefer_no_schedule_only_scores() {
    let nodes =
        vec![node("a").taint("k", "v", "NoExecute").build(), node("b").taint("k", "v", "PreferNoSchedule").build()];
    let snapshot = Snapshot::from_objects(nodes, vec![]);
    assert_eq!(place(pod("web").build(), &snapshot), Ok("b".into()));
}

#[test]
fn prefer_no_schedule_taints_are_avoided_when_another_node_is_clean() {
    let nodes = vec![node("soft").taint("k", "v", "PreferNoSchedule").build(), node("clean").build()];
    let snapshot = Snapshot::from_objects(nodes, vec![]);
    for _ in 0..5 {
        assert_eq!(place(pod("web").build(), &snapshot), Ok("clean".into()));
    }
}

#[test]
fn an_equal_toleration_must_match_the_taint_value() {
    let snapshot = Snapshot::from_objects(vec![node("n1").taint("gpu", "yes", "NoSchedule").build()], vec![]);
    assert!(place(pod("a").toleration("gpu", "Equal", "no", "NoSchedule").build(), &snapshot).is_err());
    assert!(place(pod("b").toleration("gpu", "", "yes", "").build(), &snapshot).is_ok());
}

#[test]
fn node_selector_is_respected_if_matching() {
    let nodes = vec![node("n1").build(), node("n2").label("disk", "ssd").build()];
    let snapshot = Snapshot::from_objects(nodes, vec![]);
    assert_eq!(place(pod("web").node_selector("disk", "ssd").build(), &snapshot), Ok("n2".into()));
}

#[test]
fn node_selector_is_respected_if_not_matching() {
    let snapshot = Snapshot::from_objects(vec![node("n1").build(), node("n2").build()], vec![]);
    let err = place(pod("web").node_selector("disk", "nvme").build(), &snapshot).unwrap_err();
    assert_eq!(err, "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.");
}

#[test]
fn required_node_affinity_supports_every_operator() {
    let nodes = vec![
        node("small").label("cores", "2").label("zone", "a").build(),
        node("large").label("cores", "16").label("zone", "b").label("gpu", "yes").build(),
    ];
    let snapshot = Snapshot::from_objects(nodes, vec![]);
    let cases = [
        (requirement("zone", "In", &["b"]), "large"),
        (requirement("zone", "NotIn", &["b"]), "small"),
        (requirement("gpu", "Exists", &[]), "large"),
        (requirement("gpu", "DoesNotExist", &[]), "small"),
        (requirement("cores", "Gt", &["4"]), "large"),
        (requirement("cores", "Lt", &["4"]), "small"),
    ];
    for (expression, expected) in cases {
        let p = pod("web").affinity(required_node_affinity(vec![expression.clone()])).build();
        assert_eq!(place(p, &snapshot), Ok(expected.to_string()), "{expression:?}");
    }
}

#[test]
fn match_fields_pin_a_pod_to_a_node_by_name() {
    let nodes = vec![node("n1").build(), node("n2").build(), node("n3").build()];
    let snapshot = Snapshot::from_objects(nodes, vec![]);
    let a = Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: None,
                    match_fields: Some(vec![requirement("metadata.name", "In", &["n3"])]),
                }],
            }),
            preferred_during_scheduling_ignored_during_execution: None,
        }),
        ..Default::default()
    };
    assert_eq!(place(pod("ds").affinity(a).build(), &snapshot), Ok("n3".into()));
}

#[test]
fn preferred_node_affinity_steers_the_pod_to_the_heavier_term() {
    let nodes = vec![node("a").label("zone", "a").build(), node("b").label("zone", "b").build()];
    let snapshot = Snapshot::from_objects(nodes, vec![]);
    let preferred = |zone: &str, weight: i32| PreferredSchedulingTerm {
        weight,
        preference: NodeSelectorTerm {
            match_expressions: Some(vec![requirement("zone", "In", &[zone])]),
            match_fields: None,
        },
    };
    let a = Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: None,
            preferred_during_scheduling_ignored_during_execution: Some(vec![preferred("a", 10), preferred("b", 80)]),
        }),
        ..Default::default()
    };
    for _ in 0..5 {
        assert_eq!(place(pod("web").affinity(a.clone()).build(), &snapshot), Ok("b".into()));
    }
}

#[test]
fn resource_limits_of_pods_that_are_allowed_to_run_are_enforced() {
    let nodes = vec![node("n1").cpu("2").build()];
    let existing = vec![pod("old").cpu("1500m").on("n1").build()];
    let snapshot = Snapshot::from_objects(nodes, existing);
    assert_eq!(place(pod("fits").cpu("500m").build(), &snapshot), Ok("n1".into()));
    let err = place(pod("too-big").cpu("501m").build(), &snapshot).unwrap_err();
    assert_eq!(err, "0/1 nodes are available: 1 Insufficient cpu.");
}

#[test]
fn a_full_node_reports_too_many_pods() {
    let snapshot = Snapshot::from_objects(vec![node("n1").pods("1").build()], vec![pod("old").on("n1").build()]);
    assert_eq!(place(pod("web").build(), &snapshot).unwrap_err(), "0/1 nodes are available: 1 Too many pods.");
}

#[test]
fn extended_resources_must_be_allocatable() {
    let nodes = vec![node("cpu-only").build(), node("gpu").allocatable_of("nvidia.com/gpu", "1").build()];
    let snapshot = Snapshot::from_objects(nodes, vec![]);
    assert_eq!(place(pod("train").request("nvidia.com/gpu", "1").build(), &snapshot), Ok("gpu".into()));
    let err = place(pod("train2").request("nvidia.com/gpu", "2").build(), &snapshot).unwrap_err();
    assert_eq!(err, "0/2 nodes are available: 2 Insufficient nvidia.com/gpu.");
}

#[test]
fn ephemeral_storage_requests_are_checked() {
    let snapshot = Snapshot::from_objects(vec![node("n1").allocatable_of("ephemeral-storage", "1Gi").build()], vec![]);
    let err = place(pod("web").request("ephemeral-storage", "2Gi").build(), &snapshot).unwrap_err();
    assert_eq!(err, "0/1 nodes are available: 1 Insufficient ephemeral-storage.");
}

#[test]
fn the_same_host_port_cannot_be_claimed_twice_on_a_node() {
    let nodes = vec![node("n1").build(), node("n2").build()];
    let snapshot = Snapshot::from_objects(nodes, vec![pod("old").host_port(8080, "").on("n1").build()]);
    assert_eq!(place(pod("web").host_port(8080, "").build(), &snapshot), Ok("n2".into()));
}

#[test]
fn a_host_port_on_0_0_0_0_conflicts_with_the_same_port_on_any_host_ip() {
    let snapshot = Snapshot::from_objects(
        vec![node("n1").build()],
        vec![pod("old").host_port(54321, "127.0.0.1").on("n1").build()],
    );
    let err = place(pod("web").host_port(54321, "0.0.0.0").build(), &snapshot).unwrap_err();
    assert_eq!(err, "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.");
}

#[test]
fn different_host_ips_can_share_a_port() {
    let snapshot = Snapshot::from_objects(
        vec![node("n1").build()],
        vec![pod("old").host_port(54321, "127.0.0.1").on("n1").build()],
    );
    assert_eq!(place(pod("web").host_port(54321, "127.0.0.2").build(), &snapshot), Ok("n1".into()));
}

#[test]
fn pod_anti_affinity_keeps_replicas_on_different_nodes() {
    let nodes = vec![node("n1").build(), node("n2").build()];
    let existing = vec![pod("web-1").label("app", "web").on("n1").build()];
    let snapshot = Snapshot::from_objects(nodes, existing);
    let anti = anti_affinity(term("app", "web", "kubernetes.io/hostname"));
    let p = pod("web-2").label("app", "web").affinity(anti.clone()).build();
    assert_eq!(place(p, &snapshot), Ok("n2".into()));
    let only_n1 =
        Snapshot::from_objects(vec![node("n1").build()], vec![pod("web-1").label("app", "web").on("n1").build()]);
    let err = place(pod("web-3").label("app", "web").affinity(anti).build(), &only_n1).unwrap_err();
    assert_eq!(err, "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.");
}

#[test]
fn pod_affinity_puts_the_pod_beside_its_peer() {
    let nodes = vec![
        node("n1").label("zone", "a").build(),
        node("n2").label("zone", "b").build(),
        node("n3").label("zone", "b").build(),
    ];
    let existing = vec![pod("cache").label("app", "cache").on("n3").build()];
    let snapshot = Snapshot::from_objects(nodes, existing);
    let p = pod("web").affinity(affinity(term("app", "cache", "zone"))).build();
    let chosen = place(p, &snapshot).unwrap();
    assert!(chosen == "n2" || chosen == "n3", "{chosen}");
}

#[test]
fn pod_affinity_without_a_matching_pod_fails_as_unresolvable() {
    let snapshot = Snapshot::from_objects(vec![node("n1").build()], vec![]);
    let p = pod("web").affinity(affinity(term("app", "cache", "kubernetes.io/hostname"))).build();
    let err = place(p, &snapshot).unwrap_err();
    assert_eq!(err, "0/1 nodes are available: 1 node(s) didn't match pod affinity rules.");
}

#[test]
fn the_first_pod_of_a_self_affine_group_can_land_anywhere() {
    let snapshot = Snapshot::from_objects(vec![node("n1").build()], vec![]);
    let p = pod("web").label("app", "web").affinity(affinity(term("app", "web", "kubernetes.io/hostname"))).build();
    assert_eq!(place(p, &snapshot), Ok("n1".into()));
}

#[test]
fn an_existing_pods_anti_affinity_repels_the_newcomer() {
    let nodes = vec![node("n1").build(), node("n2").build()];
    let loner = pod("loner").affinity(anti_affinity(term("app", "web", "kubernetes.io/hostname"))).on("n1").build();
    let snapshot = Snapshot::from_objects(nodes, vec![loner]);
    assert_eq!(place(pod("web").label("app", "web").build(), &snapshot), Ok("n2".into()));
    let only_n1 = Snapshot::from_objects(
        vec![node("n1").build()],
        vec![pod("loner").affinity(anti_affinity(term("app", "web", "kubernetes.io/hostname"))).on("n1").build()],
    );
    let err = place(pod("web").label("app", "web").build(), &only_n1).unwrap_err();
    assert_eq!(err, "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules.");
}

#[test]
fn affinity_terms_look_only_in_their_namespaces() {
    let existing = vec![pod("web-1").namespace("other").label("app", "web").on("n1").build()];
    let snapshot = Snapshot::from_objects(vec![node("n1").build()], existing);
    // The term names no namespaces, so it looks only in the pod's own (default).
    let anti = anti_affinity(term("app", "web", "kubernetes.io/hostname"));
    assert_eq!(place(pod("web-2").label("app", "web").affinity(anti).build(), &snapshot), Ok("n1".into()));
}

#[test]
fn a_namespace_selector_extends_affinity_to_labelled_namespaces() {
    let mut cache = Cache::default();
    cache.set_node(node("n1").build());
    cache.set_node(node("n2").build());
    let ns = k8s_openapi::api::core::v1::Namespace {
        metadata: ObjectMeta {
            name: Some("team".into()),
            labels: Some([("team".to_string(), "a".to_string())].into()),
            ..Default::default()
        },
        ..Default::default()
    };
    cache.set_namespace(&ns);
    cache.set_pod(Arc::new(info(pod("web-1").namespace("team").label("app", "web").on("n1").build())));
    let mut t = term("app", "web", "kubernetes.io/hostname");
    t.namespace_selector = selector("team", "a");
    let p = pod("web-2").label("app", "web").affinity(anti_affinity(t)).build();
    for _ in 0..5 {
        assert_eq!(schedule_one(&info(p.clone()), cache.snapshot()).unwrap(), "n2");
    }
}

#[test]
fn preferred_anti_affinity_spreads_when_possible() {
    let nodes = vec![node("n1").build(), node("n2").build()];
    let existing = vec![pod("web-1").label("app", "web").on("n1").build()];
    let snapshot = Snapshot::from_objects(nodes, existing);
    let a = Affinity {
        pod_anti_affinity: Some(PodAntiAffinity {
            required_during_scheduling_ignored_during_execution: None,
            preferred_during_scheduling_ignored_during_execution: Some(vec![WeightedPodAffinityTerm {
                weight: 100,
                pod_affinity_term: term("app", "web", "kubernetes.io/hostname"),
            }]),
        }),
        ..Default::default()
    };
    for _ in 0..5 {
        assert_eq!(place(pod("web-2").label("app", "web").affinity(a.clone()).build(), &snapshot), Ok("n2".into()));
    }
}

#[test]
fn topology_spread_do_not_schedule_keeps_skew_within_max_skew() {
    let nodes = vec![node("a1").label("zone", "a").build(), node("b1").label("zone", "b").build()];
    let existing = vec![
        pod("w1").label("app", "web").on("a1").build(),
        pod("w2").label("app", "web").on("a1").build(),
        pod("w3").label("app", "web").on("b1").build(),
    ];
    let snapshot = Snapshot::from_objects(nodes, existing);
    let p = pod("w4").label("app", "web").spread(spread("zone", 1, "DoNotSchedule", "web")).build();
    assert_eq!(place(p, &snapshot), Ok("b1".into()));
}

#[test]
fn topology_spread_rejects_with_kube_schedulers_reasons() {
    let nodes =
        vec![node("a1").label("zone", "a").build(), node("b1").label("zone", "b").build(), node("bare").build()];
    let existing = vec![pod("w1").label("app", "web").on("a1").build(), pod("w2").label("app", "web").on("a1").build()];
    let snapshot = Snapshot::from_objects(nodes, existing);
    let mut p = pod("w3").label("app", "web").spread(spread("zone", 1, "DoNotSchedule", "web"));
    p = p.node_selector("kubernetes.io/hostname", "a1");
    // nodeAffinityPolicy Honor: only a1 counts, so its own domain is the minimum (skew 1).
    assert_eq!(place(p.build(), &snapshot), Ok("a1".into()));
    let q = pod("w4").label("app", "web").spread(spread("zone", 1, "DoNotSchedule", "web")).build();
    let snapshot = Snapshot::from_objects(
        vec![node("a1").label("zone", "a").build(), node("bare").build()],
        vec![pod("w1").label("app", "web").on("a1").build()],
    );
    assert_eq!(place(q, &snapshot), Ok("a1".into()));
    let r = pod("w5")
        .label("app", "web")
        .spread(spread("zone", 1, "DoNotSchedule", "web"))
        .node_selector("kubernetes.io/hostname", "bare");
    let err = place(r.build(), &snapshot).unwrap_err();
    assert_eq!(
        err,
        "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, \
         1 node(s) didn't match pod topology spread constraints (missing required label)."
    );
}

#[test]
fn topology_spread_skew_violation_is_reported() {
    let nodes =
        vec![node("a1").label("zone", "a").build(), node("b1").label("zone", "b").taint("x", "", "NoSchedule").build()];
    let existing = vec![pod("w1").label("app", "web").on("a1").build()];
    let snapshot = Snapshot::from_objects(nodes, existing);
    // b1 is tainted but counts (nodeTaintsPolicy Ignore): zone b has 0, so a1 would make skew 2.
    let p = pod("w2").label("app", "web").spread(spread("zone", 1, "DoNotSchedule", "web")).build();
    let err = place(p, &snapshot).unwrap_err();
    assert_eq!(
        err,
        "0/2 nodes are available: 1 node(s) didn't match pod topology spread constraints, 1 node(s) had untolerated taint {x: }."
    );
}

#[test]
fn min_domains_counts_missing_domains_as_empty() {
    let nodes = vec![node("a1").label("zone", "a").build(), node("b1").label("zone", "b").build()];
    let existing = vec![pod("w1").label("app", "web").on("a1").build(), pod("w2").label("app", "web").on("b1").build()];
    let snapshot = Snapshot::from_objects(nodes, existing);
    let mut c = spread("zone", 1, "DoNotSchedule", "web");
    c.min_domains = Some(3);
    // Only 2 of 3 domains exist, so the minimum is 0 and 1 + 1 - 0 > 1 everywhere.
    assert!(place(pod("w3").label("app", "web").spread(c).build(), &snapshot).is_err());
}

#[test]
fn schedule_anyway_spread_prefers_the_emptier_zone() {
    let nodes = vec![node("a1").label("zone", "a").build(), node("b1").label("zone", "b").build()];
    let existing = vec![pod("w1").label("app", "web").on("a1").build(), pod("w2").label("app", "web").on("a1").build()];
    let snapshot = Snapshot::from_objects(nodes, existing);
    for _ in 0..5 {
        let p = pod("w3").label("app", "web").spread(spread("zone", 1, "ScheduleAnyway", "web")).build();
        assert_eq!(place(p, &snapshot), Ok("b1".into()));
    }
}

#[test]
fn replicas_of_one_controller_spread_across_nodes_by_default() {
    let nodes = vec![node("n1").build(), node("n2").build()];
    let existing =
        vec![pod("web-1").controller("rs-1").on("n1").build(), pod("web-2").controller("rs-1").on("n1").build()];
    let snapshot = Snapshot::from_objects(nodes, existing);
    for _ in 0..5 {
        assert_eq!(place(pod("web-3").controller("rs-1").build(), &snapshot), Ok("n2".into()));
    }
}

#[test]
fn least_allocated_prefers_the_emptier_node() {
    let nodes = vec![node("busy").build(), node("idle").build()];
    let snapshot = Snapshot::from_objects(nodes, vec![pod("old").cpu("3").memory("6Gi").on("busy").build()]);
    for _ in 0..5 {
        assert_eq!(place(pod("web").cpu("100m").build(), &snapshot), Ok("idle".into()));
    }
}

#[test]
fn assumed_pods_count_against_the_node_before_the_watch_confirms() {
    let mut cache = Cache::default();
    cache.set_node(node("n1").cpu("1").build());
    cache.set_node(node("n2").cpu("1").build());
    let mut framework = Framework::default();
    let mut placed = Vec::new();
    for i in 0..2 {
        let p = Arc::new(info(pod(&format!("p{i}")).cpu("800m").build()));
        let result = framework.schedule_one(&p, cache.snapshot()).unwrap();
        cache.assume(p, &result.node);
        placed.push(result.node);
    }
    placed.sort();
    assert_eq!(placed, vec!["n1", "n2"]);
    let third = info(pod("p2").cpu("800m").build());
    assert!(framework.schedule_one(&third, cache.snapshot()).is_err());
    cache.forget("uid-p0");
    assert!(framework.schedule_one(&third, cache.snapshot()).is_ok());
}

#[test]
fn a_bound_pod_seen_by_the_watch_replaces_its_assumed_self() {
    let mut cache = Cache::default();
    cache.set_node(node("n1").cpu("1").build());
    let p = Arc::new(info(pod("p").cpu("600m").build()));
    cache.assume(p, "n1");
    cache.set_pod(Arc::new(info(pod("p").cpu("600m").on("n1").build())));
    assert!(!cache.is_assumed("uid-p"));
    assert_eq!(cache.snapshot().node("n1").unwrap().requested.milli_cpu, 600);
    cache.forget("uid-p");
    assert_eq!(cache.snapshot().node("n1").unwrap().requested.milli_cpu, 600);
}

#[test]
fn pods_bound_to_an_unknown_node_are_counted_once_it_appears() {
    let mut cache = Cache::default();
    cache.set_pod(Arc::new(info(pod("early").cpu("1").on("late").build())));
    cache.set_node(node("late").cpu("1").build());
    assert_eq!(cache.snapshot().node("late").unwrap().requested.milli_cpu, 1000);
}

fn claim(name: &str, volume: Option<&str>, class: Option<&str>) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: ObjectMeta { name: Some(name.into()), namespace: Some("default".into()), ..Default::default() },
        spec: Some(PersistentVolumeClaimSpec {
            volume_name: volume.map(str::to_string),
            storage_class_name: class.map(str::to_string),
            ..Default::default()
        }),
        status: None,
    }
}

fn volumes_cache() -> Cache {
    let mut cache = Cache::default();
    cache.set_node(node("n1").build());
    cache.set_node(node("n2").build());
    let volumes = cache.volumes_mut();
    volumes.claims.insert("default/bound".into(), claim("bound", Some("pv-n2"), Some("local-path")));
    volumes.claims.insert("default/waiting".into(), claim("waiting", None, Some("local-path")));
    volumes.claims.insert("default/immediate".into(), claim("immediate", None, Some("fast")));
    let pv = PersistentVolume {
        metadata: ObjectMeta { name: Some("pv-n2".into()), ..Default::default() },
        spec: Some(PersistentVolumeSpec {
            node_affinity: Some(VolumeNodeAffinity {
                required: Some(NodeSelector {
                    node_selector_terms: vec![NodeSelectorTerm {
                        match_expressions: Some(vec![requirement("kubernetes.io/hostname", "In", &["n2"])]),
                        match_fields: None,
                    }],
                }),
            }),
            ..Default::default()
        }),
        status: None,
    };
    volumes.volumes.insert("pv-n2".into(), pv);
    let class = |name: &str, mode: &str| StorageClass {
        metadata: ObjectMeta { name: Some(name.into()), ..Default::default() },
        provisioner: "rancher.io/local-path".into(),
        volume_binding_mode: Some(mode.into()),
        ..Default::default()
    };
    volumes.classes.insert("local-path".into(), class("local-path", "WaitForFirstConsumer"));
    volumes.classes.insert("fast".into(), class("fast", "Immediate"));
    cache
}

#[test]
fn a_missing_claim_fails_every_node_with_the_pre_filter_message() {
    let cache = volumes_cache();
    let err = schedule_one(&info(pod("db").claim("nope").build()), cache.snapshot()).unwrap_err();
    assert_eq!(err.to_string(), "0/2 nodes are available: persistentvolumeclaim \"nope\" not found.");
}

#[test]
fn a_bound_volumes_node_affinity_pins_the_pod() {
    let cache = volumes_cache();
    for _ in 0..5 {
        assert_eq!(schedule_one(&info(pod("db").claim("bound").build()), cache.snapshot()).unwrap(), "n2");
    }
}

#[test]
fn an_unbound_wait_for_first_consumer_claim_schedules_and_asks_for_provisioning() {
    let cache = volumes_cache();
    let p = info(pod("db").claim("waiting").build());
    assert!(schedule_one(&p, cache.snapshot()).is_ok());
    let claims = scheduler::filter::volume_binding::unbound_claims(&p, cache.snapshot().volumes());
    assert_eq!(claims, vec!["waiting".to_string()]);
}

#[test]
fn an_unbound_immediate_claim_keeps_the_pod_pending() {
    let cache = volumes_cache();
    let err = schedule_one(&info(pod("db").claim("immediate").build()), cache.snapshot()).unwrap_err();
    assert_eq!(err.to_string(), "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims.");
}

#[test]
fn sampling_stops_after_enough_feasible_nodes_and_rotates_the_start() {
    let nodes: Vec<_> = (0..1000).map(|i| node(&format!("n{i:04}")).build()).collect();
    let snapshot = Snapshot::from_objects(nodes, vec![]);
    let mut framework = Framework::default();
    assert_eq!(framework.num_feasible_nodes_to_find(1000), 420);
    assert_eq!(framework.num_feasible_nodes_to_find(5000), 500);
    assert_eq!(framework.num_feasible_nodes_to_find(50), 50);
    assert_eq!(framework.num_feasible_nodes_to_find(150), 100);
    let first = framework.schedule_one(&info(pod("a").build()), &snapshot).unwrap();
    assert_eq!(first.evaluated, 420);
    let second = framework.schedule_one(&info(pod("b").build()), &snapshot).unwrap();
    assert_eq!(second.evaluated, 420);
}

#[test]
fn nominated_pods_hold_room_on_their_node_against_lower_priority_pods() {
    let mut cache = Cache::default();
    cache.set_node(node("n1").cpu("1").build());
    let mut nominated = pod("important").cpu("800m").priority(1000).build();
    nominated.status =
        Some(k8s_openapi::api::core::v1::PodStatus { nominated_node_name: Some("n1".into()), ..Default::default() });
    let nominated = Arc::new(info(nominated));
    cache.nominate(&nominated, Some("n1"));
    let low = info(pod("low").cpu("500m").priority(0).build());
    assert!(schedule_one(&low, cache.snapshot()).is_err());
    assert_eq!(schedule_one(&nominated, cache.snapshot()).unwrap(), "n1");
}
