//! Roles, ClusterRoles, their bindings, and Leases.

mod common;

use common::{create_errors, defaulted, update_errors};
use serde_json::{Value, json};

const RBAC: &str = "rbac.authorization.k8s.io";

fn role(rules: Value) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "reader", "namespace": "default"}, "rules": rules})
}

fn binding(role_ref: Value, subjects: Value) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "read", "namespace": "default"}, "roleRef": role_ref, "subjects": subjects})
}

#[test]
fn a_role_rule_needs_verbs() {
    let r = role(json!([{"apiGroups": [""], "resources": ["pods"]}]));
    assert_eq!(
        create_errors(RBAC, "Role", r),
        vec!["rules[0].verbs: Required value: verbs must contain at least one value"]
    );
}

#[test]
fn a_resource_rule_needs_groups_and_resources() {
    let r = role(json!([{"verbs": ["get"]}]));
    assert_eq!(
        create_errors(RBAC, "Role", r),
        vec![
            "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
            "rules[0].resources: Required value: resource rules must supply at least one resource"
        ]
    );
}

#[test]
fn a_role_may_not_grant_non_resource_urls() {
    let r = role(json!([{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]));
    assert_eq!(
        create_errors(RBAC, "Role", r),
        vec![
            r#"rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs"#
        ]
    );
}

#[test]
fn a_cluster_role_may_grant_non_resource_urls() {
    let mut r = role(json!([{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]));
    r["kind"] = json!("ClusterRole");
    assert!(create_errors(RBAC, "ClusterRole", r).is_empty());
}

#[test]
fn a_binding_role_ref_group_defaults_to_rbac() {
    let b = binding(json!({"kind": "Role", "name": "reader"}), json!([{"kind": "User", "name": "jane"}]));
    let b = defaulted(RBAC, "RoleBinding", b);
    assert_eq!(b["roleRef"]["apiGroup"], RBAC);
    assert_eq!(b["subjects"][0]["apiGroup"], RBAC);
    assert!(create_errors(RBAC, "RoleBinding", b).is_empty());
}

#[test]
fn a_binding_needs_a_role_ref_name() {
    let b = binding(json!({"kind": "Role"}), json!([]));
    assert_eq!(create_errors(RBAC, "RoleBinding", b), vec!["roleRef.name: Required value"]);
}

#[test]
fn a_binding_role_ref_kind_must_be_a_role() {
    let b = binding(json!({"kind": "Pod", "name": "x"}), json!([]));
    assert_eq!(
        create_errors(RBAC, "RoleBinding", b),
        vec![r#"roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole""#]
    );
}

#[test]
fn a_service_account_subject_has_no_api_group() {
    let b = binding(
        json!({"kind": "Role", "name": "reader"}),
        json!([{"kind": "ServiceAccount", "name": "default", "apiGroup": "rbac.authorization.k8s.io"}]),
    );
    assert_eq!(
        create_errors(RBAC, "RoleBinding", b),
        vec![r#"subjects[0].apiGroup: Unsupported value: "rbac.authorization.k8s.io": supported values: """#]
    );
}

#[test]
fn a_binding_role_ref_cannot_change() {
    let old = binding(json!({"kind": "Role", "name": "reader"}), json!([]));
    let new = binding(json!({"kind": "ClusterRole", "name": "admin"}), json!([]));
    assert_eq!(
        update_errors(RBAC, "RoleBinding", old, new),
        vec![
            r#"roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"admin"}: cannot change roleRef"#
        ]
    );
}

#[test]
fn a_cluster_role_binding_binds_only_cluster_roles() {
    let mut b = binding(json!({"kind": "Role", "name": "reader"}), json!([]));
    b["kind"] = json!("ClusterRoleBinding");
    assert_eq!(
        create_errors(RBAC, "ClusterRoleBinding", b),
        vec![r#"roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole""#]
    );
}

fn lease(spec: Value) -> Value {
    json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "node-1", "namespace": "kube-node-lease"}, "spec": spec})
}

#[test]
fn a_node_lease_is_valid() {
    let l = lease(json!({"holderIdentity": "node-1", "leaseDurationSeconds": 40}));
    assert!(create_errors("coordination.k8s.io", "Lease", l).is_empty());
}

#[test]
fn a_lease_duration_must_be_positive() {
    let l = lease(json!({"leaseDurationSeconds": 0}));
    assert_eq!(
        create_errors("coordination.k8s.io", "Lease", l),
        vec!["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]
    );
}

#[test]
fn unknown_groups_and_kinds_are_left_alone() {
    let mut obj = json!({"spec": {"x": 1}});
    apis::default("example.com", "Widget", &mut obj);
    assert_eq!(obj, json!({"spec": {"x": 1}}));
    assert!(apis::validate("example.com", "Widget", &obj, None).is_empty());
    assert!(apis::validate("", "ServiceAccount", &obj, None).is_empty());
}
