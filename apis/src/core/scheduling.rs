//! Where a pod may run: tolerations, node and pod affinity, topology spread constraints
//! (ValidateTolerations, validateAffinity, validateTopologySpreadConstraints).

use crate::field::{ErrorList, Path, duplicate, forbidden, invalid, not_supported, required};
use crate::{json, meta};
use apimachinery::validation as v;
use serde_json::Value;

/// ValidateTolerations.
pub fn validate_tolerations(list: &[Value], p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let tp = p.index(i);
        let (key, op) = (json::string(t, "key"), json::string(t, "operator"));
        let (value, effect) = (json::string(t, "value"), json::string(t, "effect"));
        if !key.is_empty() {
            errs.extend(meta::validate_label_name(key, &tp.child("key")));
        }
        if key.is_empty() && op != "Exists" {
            errs.push(invalid(
                &tp.child("operator"),
                op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if json::get(t, "tolerationSeconds").is_some() && effect != "NoExecute" {
            errs.push(invalid(
                &tp.child("effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        errs.extend(validate_toleration_operator(op, value, &tp.child("operator")));
        if !effect.is_empty() {
            errs.extend(validate_taint_effect(effect, &tp.child("effect")));
        }
    }
    errs
}

fn validate_toleration_operator(op: &str, value: &str, p: &Path) -> ErrorList {
    match op {
        "Equal" | "" => {
            let msgs = v::is_valid_label_value(value);
            if msgs.is_empty() {
                return Vec::new();
            }
            vec![invalid(p, value, msgs.join(";"))]
        }
        "Exists" if !value.is_empty() => vec![invalid(p, value, "value must be empty when `operator` is 'Exists'")],
        "Exists" => Vec::new(),
        other => vec![not_supported(p, other, &["Equal", "Exists"])],
    }
}

/// validateTaintEffect.
pub fn validate_taint_effect(effect: &str, p: &Path) -> ErrorList {
    match effect {
        "NoSchedule" | "PreferNoSchedule" | "NoExecute" => Vec::new(),
        "" => vec![required(p, "")],
        other => vec![not_supported(p, other, &["NoSchedule", "PreferNoSchedule", "NoExecute"])],
    }
}

/// validateAffinity.
pub fn validate_affinity(spec: &Value, p: &Path) -> ErrorList {
    let Some(a) = json::get(spec, "affinity") else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    if let Some(na) = json::get(a, "nodeAffinity") {
        errs.extend(validate_node_affinity(na, &p.child("nodeAffinity")));
    }
    for kind in ["podAffinity", "podAntiAffinity"] {
        if let Some(pa) = json::get(a, kind) {
            errs.extend(validate_pod_affinity(pa, &p.child(kind)));
        }
    }
    errs
}

fn validate_node_affinity(na: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let req = "requiredDuringSchedulingIgnoredDuringExecution";
    if let Some(sel) = json::get(na, req) {
        errs.extend(validate_node_selector(sel, &p.child(req)));
    }
    let pref = "preferredDuringSchedulingIgnoredDuringExecution";
    for (i, term) in json::items(na, pref).iter().enumerate() {
        let tp = p.child(pref).index(i);
        errs.extend(weight(term, &tp));
        let preference = json::get(term, "preference").cloned().unwrap_or_default();
        errs.extend(validate_node_selector_term(&preference, false, &tp.child("preference")));
    }
    errs
}

fn weight(term: &Value, p: &Path) -> ErrorList {
    let w = json::int(term, "weight").unwrap_or(0);
    if (1..=100).contains(&w) {
        return Vec::new();
    }
    vec![invalid(&p.child("weight"), w, "must be in the range 1-100")]
}

/// ValidateNodeSelector.
pub fn validate_node_selector(sel: &Value, p: &Path) -> ErrorList {
    let tp = p.child("nodeSelectorTerms");
    let terms = json::items(sel, "nodeSelectorTerms");
    if terms.is_empty() {
        return vec![required(&tp, "must have at least one node selector term")];
    }
    terms.iter().enumerate().flat_map(|(i, t)| validate_node_selector_term(t, true, &tp.index(i))).collect()
}

/// ValidateNodeSelectorTerm; preferred terms allow any label value.
fn validate_node_selector_term(term: &Value, strict_values: bool, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    for (j, r) in json::items(term, "matchExpressions").iter().enumerate() {
        errs.extend(validate_node_requirement(r, strict_values, &p.child("matchExpressions").index(j)));
    }
    for (j, r) in json::items(term, "matchFields").iter().enumerate() {
        errs.extend(validate_field_requirement(r, &p.child("matchFields").index(j)));
    }
    errs
}

/// ValidateNodeSelectorRequirement.
fn validate_node_requirement(r: &Value, strict_values: bool, p: &Path) -> ErrorList {
    let values = json::items(r, "values");
    let op = json::string(r, "operator");
    let vp = p.child("values");
    let mut errs = Vec::new();
    match op {
        "In" | "NotIn" if values.is_empty() => {
            errs.push(required(&vp, "must be specified when `operator` is 'In' or 'NotIn'"))
        }
        "Exists" | "DoesNotExist" if !values.is_empty() => {
            errs.push(forbidden(&vp, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        }
        "Gt" | "Lt" if values.len() != 1 => {
            errs.push(required(&vp, "must be specified single value when `operator` is 'Lt' or 'Gt'"))
        }
        "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt" => {}
        other => errs.push(invalid(&p.child("operator"), other, "not a valid selector operator")),
    }
    errs.extend(meta::validate_label_name(json::string(r, "key"), &p.child("key")));
    if strict_values {
        for (i, val) in values.iter().enumerate() {
            let val = val.as_str().unwrap_or_default();
            errs.extend(v::is_valid_label_value(val).into_iter().map(|m| invalid(&vp.index(i), val, m)));
        }
    }
    errs
}

/// ValidateNodeFieldSelectorRequirement: only `metadata.name In/NotIn [one]`.
fn validate_field_requirement(r: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let values = json::items(r, "values");
    match json::string(r, "operator") {
        "In" | "NotIn" if values.len() != 1 => errs.push(required(
            &p.child("values"),
            "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
        )),
        "In" | "NotIn" => {}
        other => errs.push(invalid(&p.child("operator"), other, "not a valid selector operator")),
    }
    let key = json::string(r, "key");
    if key != "metadata.name" {
        errs.push(invalid(&p.child("key"), key, "not a valid field selector key"));
    } else {
        for (i, val) in values.iter().enumerate() {
            let val = val.as_str().unwrap_or_default();
            errs.extend(v::is_dns1123_subdomain(val).into_iter().map(|m| invalid(&p.child("values").index(i), val, m)));
        }
    }
    errs
}

fn validate_pod_affinity(pa: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let req = "requiredDuringSchedulingIgnoredDuringExecution";
    for (i, term) in json::items(pa, req).iter().enumerate() {
        errs.extend(validate_pod_affinity_term(term, &p.child(req).index(i)));
    }
    let pref = "preferredDuringSchedulingIgnoredDuringExecution";
    for (i, wt) in json::items(pa, pref).iter().enumerate() {
        let wp = p.child(pref).index(i);
        errs.extend(weight(wt, &wp));
        let term = json::get(wt, "podAffinityTerm").cloned().unwrap_or_default();
        errs.extend(validate_pod_affinity_term(&term, &wp.child("podAffinityTerm")));
    }
    errs
}

/// validatePodAffinityTerm.
fn validate_pod_affinity_term(term: &Value, p: &Path) -> ErrorList {
    let mut errs = meta::validate_label_selector(term.get("labelSelector"), &p.child("labelSelector"));
    errs.extend(meta::validate_label_selector(term.get("namespaceSelector"), &p.child("namespaceSelector")));
    for ns in json::items(term, "namespaces") {
        let ns = ns.as_str().unwrap_or_default();
        errs.extend(v::is_dns1123_label(ns).into_iter().map(|m| invalid(&p.child("namespace"), ns, m)));
    }
    let key = json::string(term, "topologyKey");
    if key.is_empty() {
        errs.push(required(&p.child("topologyKey"), "can not be empty"));
    }
    errs.extend(meta::validate_label_name(key, &p.child("topologyKey")));
    errs
}

/// validateTopologySpreadConstraints.
pub fn validate_topology_spread(list: &[Value], p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let cp = p.index(i);
        let skew = json::int(c, "maxSkew").unwrap_or(0);
        if skew <= 0 {
            errs.push(invalid(&cp.child("maxSkew"), skew, "must be greater than zero"));
        }
        let key = json::string(c, "topologyKey");
        if key.is_empty() {
            errs.push(required(&cp.child("topologyKey"), "can not be empty"));
        }
        let action = json::string(c, "whenUnsatisfiable");
        if action != "DoNotSchedule" && action != "ScheduleAnyway" {
            errs.push(not_supported(&cp.child("whenUnsatisfiable"), action, &["DoNotSchedule", "ScheduleAnyway"]));
        }
        let repeated = list[i + 1..]
            .iter()
            .any(|o| json::string(o, "topologyKey") == key && json::string(o, "whenUnsatisfiable") == action);
        if repeated {
            errs.push(duplicate(&cp.child("{topologyKey, whenUnsatisfiable}"), format!("{{{key}, {action}}}")));
        }
        errs.extend(meta::validate_label_selector(c.get("labelSelector"), &cp.child("labelSelector")));
    }
    errs
}
