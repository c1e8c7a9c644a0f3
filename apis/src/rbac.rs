//! The rbac.authorization.k8s.io group: Roles, ClusterRoles and their bindings
//! (pkg/apis/rbac/v1/defaults.go, pkg/apis/rbac/validation).

use crate::field::{ErrorList, Path, invalid, invalid_go, not_supported, required};
use crate::json::{self, default_zero, each_mut, with_mut};
use crate::{gofmt, meta};
use apimachinery::validation as v;
use serde_json::{Value, json};

const GROUP: &str = "rbac.authorization.k8s.io";

pub fn default(kind: &str, obj: &mut Value) {
    if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
        with_mut(obj, "/roleRef", |r| default_zero(r, "apiGroup", json!(GROUP)));
        each_mut(obj, "subjects", default_subject);
    }
}

/// SetDefaults_Subject: users and groups are RBAC's; service accounts are core's ("").
fn default_subject(s: &mut Value) {
    if matches!(json::string(s, "kind"), "User" | "Group") {
        default_zero(s, "apiGroup", json!(GROUP));
    }
}

pub fn validate(kind: &str, obj: &Value, old: Option<&Value>) -> ErrorList {
    let mut errs = match kind {
        "Role" => validate_rules(obj, true),
        "ClusterRole" => validate_cluster_role(obj),
        "RoleBinding" => validate_binding(obj, true),
        "ClusterRoleBinding" => validate_binding(obj, false),
        _ => return Vec::new(),
    };
    if let Some(old) = old.filter(|_| kind.ends_with("Binding")) {
        errs.extend(role_ref_unchanged(obj, old));
    }
    errs
}

fn validate_rules(role: &Value, namespaced: bool) -> ErrorList {
    json::items(role, "rules")
        .iter()
        .enumerate()
        .flat_map(|(i, r)| validate_policy_rule(r, namespaced, &Path::new("rules").index(i)))
        .collect()
}

/// ValidatePolicyRule: verbs, and either resources (with groups) or non-resource URLs.
fn validate_policy_rule(rule: &Value, namespaced: bool, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    if json::items(rule, "verbs").is_empty() {
        errs.push(required(&p.child("verbs"), "verbs must contain at least one value"));
    }
    if !json::items(rule, "nonResourceURLs").is_empty() {
        let urls = gofmt::string_slice(rule.get("nonResourceURLs"));
        let up = p.child("nonResourceURLs");
        if namespaced {
            errs.push(invalid_go(&up, &urls, "namespaced rules cannot apply to non-resource URLs"));
        }
        let has_resources =
            ["apiGroups", "resources", "resourceNames"].iter().any(|f| !json::items(rule, f).is_empty());
        if has_resources {
            errs.push(invalid_go(&up, &urls, "rules cannot apply to both regular resources and non-resource URLs"));
        }
        return errs;
    }
    if json::items(rule, "apiGroups").is_empty() {
        errs.push(required(&p.child("apiGroups"), "resource rules must supply at least one api group"));
    }
    if json::items(rule, "resources").is_empty() {
        errs.push(required(&p.child("resources"), "resource rules must supply at least one resource"));
    }
    errs
}

/// ValidateClusterRole: its rules, and label selectors for aggregation.
fn validate_cluster_role(role: &Value) -> ErrorList {
    let mut errs = validate_rules(role, false);
    let Some(agg) = json::get(role, "aggregationRule") else {
        return errs;
    };
    let sp = Path::new("aggregationRule").child("clusterRoleSelectors");
    let selectors = json::items(agg, "clusterRoleSelectors");
    if selectors.is_empty() {
        errs.push(required(&sp, "at least one clusterRoleSelector required if aggregationRule is non-nil"));
    }
    for (i, sel) in selectors.iter().enumerate() {
        errs.extend(meta::validate_label_selector(Some(sel), &sp.index(i)));
    }
    errs
}

/// ValidateRoleBinding / ValidateClusterRoleBinding.
fn validate_binding(binding: &Value, namespaced: bool) -> ErrorList {
    let rp = Path::new("roleRef");
    let role_ref = json::get(binding, "roleRef").cloned().unwrap_or_default();
    let mut errs = Vec::new();
    let group = json::string(&role_ref, "apiGroup");
    if group != GROUP {
        errs.push(not_supported(&rp.child("apiGroup"), group, &[GROUP]));
    }
    let kind = json::string(&role_ref, "kind");
    let kinds: &[&str] = if namespaced { &["Role", "ClusterRole"] } else { &["ClusterRole"] };
    if !kinds.contains(&kind) {
        errs.push(not_supported(&rp.child("kind"), kind, kinds));
    }
    let name = json::string(&role_ref, "name");
    if name.is_empty() {
        errs.push(required(&rp.child("name"), ""));
    } else {
        errs.extend(meta::validate_path_segment(name, &rp.child("name")));
    }
    for (i, s) in json::items(binding, "subjects").iter().enumerate() {
        errs.extend(validate_subject(s, namespaced, &Path::new("subjects").index(i)));
    }
    errs
}

/// ValidateRoleBindingSubject.
fn validate_subject(s: &Value, namespaced: bool, p: &Path) -> ErrorList {
    let name = json::string(s, "name");
    let group = json::string(s, "apiGroup");
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push(required(&p.child("name"), ""));
    }
    match json::string(s, "kind") {
        "ServiceAccount" => {
            if !name.is_empty() {
                errs.extend(v::is_dns1123_subdomain(name).into_iter().map(|m| invalid(&p.child("name"), name, m)));
            }
            if !group.is_empty() {
                errs.push(not_supported(&p.child("apiGroup"), group, &[""]));
            }
            if !namespaced && json::string(s, "namespace").is_empty() {
                errs.push(required(&p.child("namespace"), ""));
            }
        }
        "User" | "Group" if group != GROUP => errs.push(not_supported(&p.child("apiGroup"), group, &[GROUP])),
        "User" | "Group" => {}
        other => errs.push(not_supported(&p.child("kind"), other, &["ServiceAccount", "User", "Group"])),
    }
    errs
}

/// ValidateRoleBindingUpdate: `cannot change roleRef`.
fn role_ref_unchanged(new: &Value, old: &Value) -> ErrorList {
    let (n, o) = (json::get(new, "roleRef"), json::get(old, "roleRef"));
    if json::semantic_eq(n, o) {
        return Vec::new();
    }
    vec![invalid_go(&Path::new("roleRef"), &gofmt::role_ref(n), "cannot change roleRef")]
}
