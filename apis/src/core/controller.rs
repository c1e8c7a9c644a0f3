//! ReplicationControllers and PodTemplates: SetDefaults_ReplicationController,
//! ValidateReplicationController(Spec) and ValidatePodTemplate.

use super::pod::{template_restart_policy, validate_template};
use super::pod_defaults::default_pod_spec;
use crate::field::{ErrorList, Path, forbidden, nonnegative, not_supported, required};
use crate::json::{self, default_nil, with_mut};
use crate::meta;
use serde_json::{Value, json};

/// SetDefaults_ReplicationController: selector and labels from the template's labels.
pub fn default_rc(rc: &mut Value) {
    let labels = rc.pointer("/spec/template/metadata/labels").filter(|l| l.is_object()).cloned();
    if let Some(labels) = labels {
        if let Some(spec) = json::ensure_object(rc, "spec")
            && json::is_zero(spec.get("selector"))
        {
            spec["selector"] = labels.clone();
        }
        if let Some(md) = json::ensure_object(rc, "metadata")
            && json::is_zero(md.get("labels"))
        {
            md["labels"] = labels;
        }
    }
    if let Some(spec) = json::ensure_object(rc, "spec") {
        default_nil(spec, "replicas", json!(1));
    }
    with_mut(rc, "/spec/template/spec", default_pod_spec);
}

/// ValidateReplicationControllerSpec.
pub fn validate_rc(rc: &Value) -> ErrorList {
    let p = Path::new("spec");
    let spec = json::get(rc, "spec").cloned().unwrap_or_default();
    let mut errs = nonnegative(json::int(&spec, "minReadySeconds").unwrap_or(0), &p.child("minReadySeconds"));
    let selector = json::object(&spec, "selector").filter(|s| !s.is_empty());
    if selector.is_none() {
        errs.push(required(&p.child("selector"), ""));
    }
    errs.extend(nonnegative(json::int(&spec, "replicas").unwrap_or(0), &p.child("replicas")));
    let tp = p.child("template");
    let Some(template) = json::get(&spec, "template") else {
        errs.push(required(&tp, ""));
        return errs;
    };
    let labels = template.pointer("/metadata/labels");
    if let Some(sel) = selector {
        let labels_map = json::string_map(labels);
        if !sel.iter().all(|(k, v)| labels_map.get(k).map(String::as_str) == v.as_str()) {
            errs.push(meta::selector_mismatch(labels, &tp.children(&["metadata", "labels"])));
        }
    }
    errs.extend(validate_template(Some(template), &tp));
    errs.extend(workload_template_rules(Some(template), "ReplicationController", &tp));
    errs
}

/// What every always-running workload requires of its template: restartPolicy Always and no
/// activeDeadlineSeconds.
pub fn workload_template_rules(template: Option<&Value>, kind: &str, tp: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let policy = template_restart_policy(template);
    if policy != "Always" {
        errs.push(not_supported(&tp.children(&["spec", "restartPolicy"]), policy, &["Always"]));
    }
    if template.and_then(|t| json::at(t, "/spec/activeDeadlineSeconds")).is_some() {
        errs.push(forbidden(
            &tp.children(&["spec", "activeDeadlineSeconds"]),
            format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
    errs
}

/// ValidatePodTemplate.
pub fn validate_pod_template(pt: &Value) -> ErrorList {
    validate_template(json::get(pt, "template"), &Path::new("template"))
}
