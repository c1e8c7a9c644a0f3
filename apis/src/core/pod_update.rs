//! ValidatePodUpdate: a Pod's spec is immutable but for container images, a shorter
//! activeDeadlineSeconds, added tolerations and removed scheduling gates.

use super::pod::validate_pod_metadata_and_spec;
use crate::field::{ErrorList, Path, forbidden, invalid, invalid_go, required};
use crate::{gofmt, json};
use apimachinery::validation::inclusive_range_error;
use serde_json::{Value, json};

/// updatablePodSpecFields, as Kubernetes lists them in its message.
const UPDATABLE: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

pub fn validate_pod_update(new: &Value, old: &Value) -> ErrorList {
    let p = Path::new("spec");
    let new_spec = json::get(new, "spec").cloned().unwrap_or_default();
    let old_spec = json::get(old, "spec").cloned().unwrap_or_default();
    let mut errs = validate_pod_metadata_and_spec(&new_spec, &p);
    for list in ["containers", "initContainers"] {
        let (list_errs, stop) = container_updates(&new_spec, &old_spec, list, &p.child(list));
        errs.extend(list_errs);
        if stop {
            return errs;
        }
    }
    let (deadline_errs, stop) = deadline_update(&new_spec, &old_spec, &p);
    errs.extend(deadline_errs);
    if stop {
        return errs;
    }
    errs.extend(tolerations_only_added(&new_spec, &old_spec, &p.child("tolerations")));
    errs.extend(gates_only_deleted(&new_spec, &old_spec, &p.child("schedulingGates")));
    if json::semantic_eq(Some(&new_spec), Some(&old_spec)) {
        return errs;
    }
    let (munged, munge_errs) = munge(&new_spec, &old_spec, &p);
    errs.extend(munge_errs);
    if !json::semantic_eq(Some(&munged), Some(&old_spec)) {
        let diff = diff(&old_spec, &munged, "spec");
        errs.push(forbidden(&p, format!("pod updates may not change fields other than {UPDATABLE}\n{diff}")));
    }
    errs
}

/// ValidateContainerUpdates: same number of containers, each with an image.
fn container_updates(new: &Value, old: &Value, list: &str, p: &Path) -> (ErrorList, bool) {
    let (n, o) = (json::items(new, list), json::items(old, list));
    if n.len() != o.len() {
        return (vec![forbidden(p, "pod updates may not add or remove containers")], true);
    }
    let mut errs = Vec::new();
    for (i, c) in n.iter().enumerate() {
        let image = json::string(c, "image");
        if image.is_empty() {
            errs.push(required(&p.index(i).child("image"), ""));
        }
    }
    (errs, false)
}

/// activeDeadlineSeconds may be set, or lowered, but never raised or removed.
fn deadline_update(new: &Value, old: &Value, p: &Path) -> (ErrorList, bool) {
    let dp = p.child("activeDeadlineSeconds");
    let old_deadline = json::int(old, "activeDeadlineSeconds");
    let Some(d) = json::int(new, "activeDeadlineSeconds") else {
        if old_deadline.is_some() {
            let e = invalid(&dp, Value::Null, "must not update from a positive integer to nil value");
            return (vec![e], false);
        }
        return (Vec::new(), false);
    };
    if !(0..=i64::from(i32::MAX)).contains(&d) {
        return (vec![invalid(&dp, d, inclusive_range_error(0, i64::from(i32::MAX)))], true);
    }
    if old_deadline.is_some_and(|o| o < d) {
        return (vec![invalid(&dp, d, "must be less than or equal to previous value")], true);
    }
    (Vec::new(), false)
}

/// validateOnlyAddedTolerations: existing tolerations stay, save their tolerationSeconds.
fn tolerations_only_added(new: &Value, old: &Value, p: &Path) -> ErrorList {
    let strip = |t: &Value| {
        let mut t = t.clone();
        if let Value::Object(m) = &mut t {
            m.remove("tolerationSeconds");
        }
        t
    };
    let kept: Vec<Value> = json::items(new, "tolerations").iter().map(strip).collect();
    let all_kept = json::items(old, "tolerations")
        .iter()
        .all(|o| kept.iter().any(|n| json::semantic_eq(Some(n), Some(&strip(o)))));
    if all_kept {
        return Vec::new();
    }
    vec![forbidden(p, "existing toleration can not be modified except its tolerationSeconds")]
}

/// validateOnlyDeletedSchedulingGates.
fn gates_only_deleted(new: &Value, old: &Value, p: &Path) -> ErrorList {
    let old_names: Vec<&str> = json::items(old, "schedulingGates").iter().map(|g| json::string(g, "name")).collect();
    json::items(new, "schedulingGates")
        .iter()
        .enumerate()
        .filter(|(_, g)| !old_names.contains(&json::string(g, "name")))
        .map(|(i, g)| {
            forbidden(
                &p.index(i).child("name"),
                format!("only deletion is allowed, but found new scheduling gate '{}'", json::string(g, "name")),
            )
        })
        .collect()
}

/// The new spec with every updatable field set back to the old value.
fn munge(new: &Value, old: &Value, p: &Path) -> (Value, ErrorList) {
    let mut m = new.clone();
    for list in ["containers", "initContainers"] {
        let old_images: Vec<Value> =
            json::items(old, list).iter().map(|c| c.get("image").cloned().unwrap_or(Value::Null)).collect();
        let mut i = 0;
        json::each_mut(&mut m, list, |c| {
            if let (Value::Object(c), Some(img)) = (c, old_images.get(i)) {
                c.insert("image".to_string(), img.clone());
            }
            i += 1;
        });
    }
    for f in ["activeDeadlineSeconds", "schedulingGates", "tolerations"] {
        set_or_remove(&mut m, f, old.get(f));
    }
    let old_grace = json::int(old, "terminationGracePeriodSeconds");
    if old_grace.is_some_and(|g| g < 0) && json::int(&m, "terminationGracePeriodSeconds") == Some(1) {
        set_or_remove(&mut m, "terminationGracePeriodSeconds", old.get("terminationGracePeriodSeconds"));
    }
    let mut errs = Vec::new();
    if !json::items(old, "schedulingGates").is_empty() {
        errs.extend(node_selector_additions(&m, old, &p.child("nodeSelector")));
        set_or_remove(&mut m, "nodeSelector", old.get("nodeSelector"));
    }
    (m, errs)
}

fn set_or_remove(obj: &mut Value, key: &str, value: Option<&Value>) {
    if let Value::Object(m) = obj {
        match value {
            Some(v) => m.insert(key.to_string(), v.clone()),
            None => m.remove(key),
        };
    }
}

/// validateNodeSelectorMutation: a gated pod's nodeSelector may only grow.
fn node_selector_additions(new: &Value, old: &Value, p: &Path) -> ErrorList {
    let (n, o) = (json::string_map(new.get("nodeSelector")), json::string_map(old.get("nodeSelector")));
    if o.iter().all(|(k, v)| n.get(k) == Some(v)) {
        return Vec::new();
    }
    vec![invalid_go(
        p,
        &gofmt::string_map(new.get("nodeSelector")),
        "only additions to spec.nodeSelector are allowed (no mutations or deletions)",
    )]
}

/// A short diff of what changed (Kubernetes prints go-cmp's diff, which this approximates).
fn diff(old: &Value, new: &Value, path: &str) -> String {
    let mut lines = Vec::new();
    collect_diff(Some(old), Some(new), path, &mut lines);
    lines.join("\n")
}

fn collect_diff(old: Option<&Value>, new: Option<&Value>, path: &str, out: &mut Vec<String>) {
    if json::semantic_eq(old, new) {
        return;
    }
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                collect_diff(a.get(k), b.get(k), &format!("{path}.{k}"), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                collect_diff(Some(x), Some(y), &format!("{path}[{i}]"), out);
            }
        }
        _ => {
            let show = |v: Option<&Value>| v.cloned().unwrap_or(json!(null)).to_string();
            out.push(format!("- {path}: {}", show(old)));
            out.push(format!("+ {path}: {}", show(new)));
        }
    }
}
