//! ValidateDeploymentSpec, ValidateReplicaSetSpec, ValidateDaemonSetSpec,
//! ValidateStatefulSetSpec, and the update rules of their apps/v1 strategies.

use super::rollout;
use crate::core::{validate_template, workload_template_rules};
use crate::field::{ErrorList, Path, forbidden, invalid, invalid_go, nonnegative, required};
use crate::{gofmt, json, meta};
use serde_json::Value;

fn spec_of(obj: &Value) -> Value {
    json::get(obj, "spec").cloned().unwrap_or_default()
}

fn nonnegative_field(spec: &Value, f: &str, p: &Path) -> ErrorList {
    nonnegative(json::int(spec, f).unwrap_or(0), &p.child(f))
}

/// A required, non-empty, well-formed selector (`kind` names the workload in the message).
fn validate_selector(spec: &Value, kind: &str, p: &Path) -> ErrorList {
    let sp = p.child("selector");
    let Some(sel) = json::get(spec, "selector") else {
        return vec![required(&sp, "")];
    };
    let mut errs = meta::validate_label_selector(Some(sel), &sp);
    if meta::selector_is_empty(sel) {
        errs.push(invalid_go(&sp, &gofmt::label_selector(Some(sel)), &format!("empty selector is invalid for {kind}")));
    }
    errs
}

/// The selector must select the template's labels (skipped when the selector is empty).
fn template_matches_selector(spec: &Value, p: &Path, invalid_detail: &str) -> ErrorList {
    let sel = json::get(spec, "selector");
    let labels = spec.pointer("/template/metadata/labels");
    match meta::selector(sel) {
        None => vec![invalid_go(&p.child("selector"), &gofmt::label_selector(sel), invalid_detail)],
        Some(s) if !s.is_empty() && !meta::matches(&s, labels) => {
            vec![meta::selector_mismatch(labels, &p.children(&["template", "metadata", "labels"]))]
        }
        Some(_) => Vec::new(),
    }
}

/// ValidatePodTemplateSpecForReplicaSet: the template of a Deployment or ReplicaSet.
fn replica_set_template(spec: &Value, p: &Path) -> ErrorList {
    let mut errs = template_matches_selector(spec, p, "invalid label selector");
    let tp = p.child("template");
    let template = json::get(spec, "template");
    errs.extend(validate_template(template, &tp));
    errs.extend(workload_template_rules(template, "ReplicaSet", &tp));
    errs
}

/// ValidateDeploymentSpec.
pub fn validate_deployment(obj: &Value) -> ErrorList {
    let p = Path::new("spec");
    let spec = spec_of(obj);
    let mut errs = nonnegative_field(&spec, "replicas", &p);
    errs.extend(validate_selector(&spec, "deployment", &p));
    errs.extend(replica_set_template(&spec, &p));
    errs.extend(rollout::deployment_strategy(&spec, &p.child("strategy")));
    errs.extend(nonnegative_field(&spec, "minReadySeconds", &p));
    if json::get(&spec, "revisionHistoryLimit").is_some() {
        errs.extend(nonnegative_field(&spec, "revisionHistoryLimit", &p));
    }
    if let Some(deadline) = json::int(&spec, "progressDeadlineSeconds") {
        errs.extend(nonnegative_field(&spec, "progressDeadlineSeconds", &p));
        if deadline <= json::int(&spec, "minReadySeconds").unwrap_or(0) {
            errs.push(invalid(&p.child("progressDeadlineSeconds"), deadline, "must be greater than minReadySeconds"));
        }
    }
    errs
}

/// ValidateReplicaSetSpec (its empty-selector message says "deployment", as Kubernetes' does).
pub fn validate_replica_set(obj: &Value) -> ErrorList {
    let p = Path::new("spec");
    let spec = spec_of(obj);
    let mut errs = nonnegative_field(&spec, "replicas", &p);
    errs.extend(nonnegative_field(&spec, "minReadySeconds", &p));
    errs.extend(validate_selector(&spec, "deployment", &p));
    errs.extend(replica_set_template(&spec, &p));
    errs
}

/// ValidateDaemonSetSpec.
pub fn validate_daemon_set(obj: &Value) -> ErrorList {
    let p = Path::new("spec");
    let spec = spec_of(obj);
    let sel = json::get(&spec, "selector");
    let mut errs = meta::validate_label_selector(sel, &p.child("selector"));
    let labels = spec.pointer("/template/metadata/labels");
    if meta::selector(sel).is_some_and(|s| !meta::matches(&s, labels)) {
        errs.push(meta::selector_mismatch(labels, &p.children(&["template", "metadata", "labels"])));
    }
    if sel.is_some_and(meta::selector_is_empty) {
        errs.push(invalid_go(
            &p.child("selector"),
            &gofmt::label_selector(sel),
            "empty selector is invalid for daemonset",
        ));
    }
    let tp = p.child("template");
    let template = json::get(&spec, "template");
    errs.extend(validate_template(template, &tp));
    errs.extend(workload_template_rules(template, "DaemonSet", &tp));
    errs.extend(nonnegative_field(&spec, "minReadySeconds", &p));
    errs.extend(rollout::daemon_set_strategy(&spec, &p.child("updateStrategy")));
    if json::get(&spec, "revisionHistoryLimit").is_some() {
        errs.extend(nonnegative_field(&spec, "revisionHistoryLimit", &p));
    }
    errs
}

/// ValidateStatefulSetSpec. Its pod template is checked for labels, annotations and the
/// workload rules only: Kubernetes does not run ValidatePodSpec on it.
pub fn validate_stateful_set(obj: &Value) -> ErrorList {
    let p = Path::new("spec");
    let spec = spec_of(obj);
    let mut errs = match json::string(&spec, "podManagementPolicy") {
        "" => vec![required(&p.child("podManagementPolicy"), "")],
        "OrderedReady" | "Parallel" => Vec::new(),
        other => vec![invalid(&p.child("podManagementPolicy"), other, "must be 'OrderedReady' or 'Parallel'")],
    };
    errs.extend(rollout::stateful_set_strategy(&spec, &p.child("updateStrategy")));
    errs.extend(rollout::claim_retention_policy(&spec, &p.child("persistentVolumeClaimRetentionPolicy")));
    errs.extend(nonnegative_field(&spec, "replicas", &p));
    errs.extend(nonnegative_field(&spec, "minReadySeconds", &p));
    if let Some(start) = spec.pointer("/ordinals/start").and_then(Value::as_i64) {
        errs.extend(nonnegative(start, &p.child("ordinals.start")));
    }
    errs.extend(validate_selector(&spec, "statefulset", &p));
    errs.extend(stateful_set_template(&spec, &p));
    errs
}

/// ValidatePodTemplateSpecForStatefulSet plus the restartPolicy and deadline rules.
fn stateful_set_template(spec: &Value, p: &Path) -> ErrorList {
    let tp = p.child("template");
    let template = json::get(spec, "template");
    let mut errs = template_matches_selector(spec, p, "");
    let md = template.and_then(|t| json::get(t, "metadata"));
    errs.extend(meta::validate_labels(md.and_then(|m| m.get("labels")), &tp.child("labels")));
    errs.extend(meta::validate_annotations(md.and_then(|m| m.get("annotations")), &tp.child("annotations")));
    errs.extend(workload_template_rules(template, "StatefulSet", &tp));
    errs
}

/// The apps/v1 update rules: selectors are immutable; a StatefulSet's spec is, but for a few
/// fields.
pub fn validate_update(kind: &str, new: &Value, old: &Value) -> ErrorList {
    let sp = Path::new("spec");
    let (spec, old_spec) = (spec_of(new), spec_of(old));
    if kind == "StatefulSet" {
        return stateful_set_update(&spec, &old_spec, &sp);
    }
    let (n, o) = (json::get(&spec, "selector"), json::get(&old_spec, "selector"));
    if json::semantic_eq(n, o) {
        return Vec::new();
    }
    vec![invalid_go(&sp.child("selector"), &gofmt::label_selector(n), crate::field::IMMUTABLE)]
}

/// ValidateStatefulSetUpdate: only replicas, ordinals, template, updateStrategy,
/// persistentVolumeClaimRetentionPolicy and minReadySeconds may change.
fn stateful_set_update(spec: &Value, old: &Value, p: &Path) -> ErrorList {
    const MUTABLE: [&str; 6] = [
        "replicas",
        "template",
        "updateStrategy",
        "minReadySeconds",
        "ordinals",
        "persistentVolumeClaimRetentionPolicy",
    ];
    let strip = |s: &Value| {
        let mut s = s.clone();
        if let Value::Object(m) = &mut s {
            MUTABLE.iter().for_each(|f| {
                m.remove(*f);
            });
        }
        s
    };
    if json::semantic_eq(Some(&strip(spec)), Some(&strip(old))) {
        return Vec::new();
    }
    vec![forbidden(
        p,
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    )]
}
