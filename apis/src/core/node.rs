//! Nodes and Namespaces: SetDefaults_NodeStatus, the v1 podCIDR/podCIDRs conversion,
//! SetDefaults_NamespaceStatus, ValidateNode(Update) and ValidateNamespace(StatusUpdate).

use super::pod_defaults::round_resource_list;
use super::scheduling::validate_taint_effect;
use crate::field::{ErrorList, Path, duplicate_go, forbidden, invalid};
use crate::json::{self, with_mut};
use crate::{gofmt, meta, net};
use apimachinery::validation as v;
use serde_json::{Value, json};

/// SetDefaults_NodeStatus (allocatable defaults to capacity) and podCIDRs kept in step with
/// podCIDR, as a round trip through the internal type leaves them.
pub fn default_node(node: &mut Value) {
    if let Some(spec) = json::ensure_object(node, "spec") {
        let cidr = json::string(spec, "podCIDR").to_string();
        if !cidr.is_empty() && json::items(spec, "podCIDRs").is_empty() {
            spec["podCIDRs"] = json!([cidr]);
        }
        if cidr.is_empty()
            && let Some(first) = json::items(spec, "podCIDRs").first().cloned()
        {
            spec["podCIDR"] = first;
        }
    }
    with_mut(node, "/status", |status| {
        with_mut(status, "/capacity", round_resource_list);
        with_mut(status, "/allocatable", round_resource_list);
        if json::get(status, "allocatable").is_none()
            && let Some(cap) = json::get(status, "capacity").cloned()
        {
            status["allocatable"] = cap;
        }
    });
}

/// ValidateNode.
pub fn validate_node(node: &Value) -> ErrorList {
    let mut errs = validate_taints(node);
    errs.extend(validate_node_resources(node));
    let cidrs = json::items(node.get("spec").unwrap_or(&Value::Null), "podCIDRs");
    let cp = Path::new("spec").child("podCIDRs");
    for (i, c) in cidrs.iter().enumerate() {
        errs.extend(net::validate_cidr(&cp.index(i), c.as_str().unwrap_or_default()));
    }
    if cidrs.len() > 1 {
        errs.extend(validate_dual_stack_cidrs(node, cidrs, &cp));
    }
    errs
}

fn validate_dual_stack_cidrs(node: &Value, cidrs: &[Value], p: &Path) -> ErrorList {
    let families: Vec<Option<bool>> = cidrs
        .iter()
        .map(|c| net::parse_cidr(c.as_str().unwrap_or_default()).map(|(ip, _)| net::is_ipv6(&ip)))
        .collect();
    let mut errs = Vec::new();
    let dual = families.len() == 2 && families.iter().all(Option::is_some) && families[0] != families[1];
    if !dual {
        let rendered = gofmt::string_slice(node.pointer("/spec/podCIDRs"));
        errs.push(crate::field::invalid_go(p, &rendered, "may specify no more than one CIDR for each IP family"));
    }
    let mut seen = Vec::new();
    for (i, c) in cidrs.iter().enumerate() {
        if seen.contains(&c) {
            errs.push(crate::field::duplicate(&p.index(i), c.clone()));
        }
        seen.push(c);
    }
    errs
}

/// validateNodeTaints; Kubernetes reports them under `metadata.taints`.
fn validate_taints(node: &Value) -> ErrorList {
    let p = Path::new("metadata").child("taints");
    let mut errs = Vec::new();
    let mut seen: Vec<(&str, &str)> = Vec::new();
    let taints = node.pointer("/spec/taints").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    for (i, t) in taints.iter().enumerate() {
        let tp = p.index(i);
        let (key, value, effect) = (json::string(t, "key"), json::string(t, "value"), json::string(t, "effect"));
        errs.extend(meta::validate_label_name(key, &tp.child("key")));
        let msgs = v::is_valid_label_value(value);
        if !msgs.is_empty() {
            errs.push(invalid(&tp.child("value"), value, msgs.join(";")));
        }
        errs.extend(validate_taint_effect(effect, &tp.child("effect")));
        if seen.contains(&(key, effect)) {
            let rendered = format!(
                "core.Taint{{Key:{}, Value:{}, Effect:{}, TimeAdded:(*v1.Time)(nil)}}: taints must be unique by key and effect pair",
                gofmt::quote(key),
                gofmt::quote(value),
                gofmt::quote(effect)
            );
            errs.push(duplicate_go(&tp, &rendered));
            continue;
        }
        seen.push((key, effect));
    }
    errs
}

/// ValidateNodeResources: capacity and allocatable quantities are not negative.
fn validate_node_resources(node: &Value) -> ErrorList {
    let mut errs = Vec::new();
    for list in ["capacity", "allocatable"] {
        let Some(m) = node.pointer(&format!("/status/{list}")).and_then(Value::as_object) else {
            continue;
        };
        for (name, raw) in m {
            let rp = Path::new("status").child(list).child(name);
            match super::resources::parse_quantity(raw, &rp) {
                Ok(q) if q.is_negative() => {
                    errs.push(invalid(&rp, q.canonical(), "must be greater than or equal to 0"))
                }
                Ok(_) => {}
                Err(e) => errs.push(*e),
            }
        }
    }
    errs
}

/// ValidateNodeUpdate: podCIDRs and providerID are set once; taints and resources checked.
pub fn validate_node_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_node_resources(new);
    errs.extend(validate_addresses(new));
    let (n, o) = (new.pointer("/spec/podCIDRs"), old.pointer("/spec/podCIDRs"));
    let old_cidrs = o.and_then(Value::as_array).map_or(0, Vec::len);
    if old_cidrs > 0 && !json::semantic_eq(n, o) {
        errs.push(forbidden(
            &Path::new("spec").child("podCIDRs"),
            "node updates may not change podCIDR except from \"\" to valid",
        ));
    }
    let old_provider = old.pointer("/spec/providerID").and_then(Value::as_str).unwrap_or("");
    let new_provider = new.pointer("/spec/providerID").and_then(Value::as_str).unwrap_or("");
    if !old_provider.is_empty() && old_provider != new_provider {
        errs.push(forbidden(
            &Path::new("spec").child("providerID"),
            "node updates may not change providerID except from \"\" to valid",
        ));
    }
    errs.extend(validate_taints(new));
    errs
}

/// No address appears twice in `status.addresses`.
fn validate_addresses(node: &Value) -> ErrorList {
    let list = node.pointer("/status/addresses").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    let mut errs = Vec::new();
    for (i, a) in list.iter().enumerate() {
        if list[..i].contains(a) {
            let rendered = format!(
                "core.NodeAddress{{Type:{}, Address:{}}}",
                gofmt::quote(json::string(a, "type")),
                gofmt::quote(json::string(a, "address"))
            );
            errs.push(duplicate_go(&Path::new("status").child("addresses").index(i), &rendered));
        }
    }
    errs
}

/// SetDefaults_NamespaceStatus.
pub fn default_namespace(ns: &mut Value) {
    if let Some(status) = json::ensure_object(ns, "status") {
        json::default_zero(status, "phase", json!("Active"));
    }
}

/// ValidateNamespace: finalizer names are standard or fully qualified.
pub fn validate_namespace(ns: &Value) -> ErrorList {
    let p = Path::new("spec").child("finalizers");
    let finalizers = ns.pointer("/spec/finalizers").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    let mut errs = Vec::new();
    for f in finalizers {
        let f = f.as_str().unwrap_or_default();
        errs.extend(meta::validate_label_name(f, &p));
        if !f.contains('/') && !["kubernetes", "orphan", "foregroundDeletion"].contains(&f) {
            errs.push(invalid(&p, f, "name is neither a standard finalizer name nor is it fully qualified"));
        }
    }
    errs
}

/// ValidateNamespaceStatusUpdate: Active unless being deleted, then Terminating.
pub fn validate_namespace_status(ns: &Value) -> ErrorList {
    let phase = ns.pointer("/status/phase").and_then(Value::as_str).unwrap_or("");
    let deleting = json::at(ns, "/metadata/deletionTimestamp").is_some();
    let p = Path::new("status").child("Phase");
    match (deleting, phase) {
        (false, "Active") | (true, "Terminating") => Vec::new(),
        (false, _) => vec![invalid(&p, phase, "may only be 'Active' if `deletionTimestamp` is empty")],
        (true, _) => vec![invalid(&p, phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")],
    }
}
