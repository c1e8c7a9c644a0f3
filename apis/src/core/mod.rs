//! The core ("") group: Pods and everything that embeds a PodSpec, Services, ConfigMaps,
//! Secrets, volumes and claims, Nodes, Namespaces (pkg/apis/core/v1 and validation).

mod config;
mod container;
mod controller;
mod env_source;
mod handler;
mod node;
mod pod;
mod pod_defaults;
mod pod_update;
mod pv;
mod resources;
mod scheduling;
mod security;
mod service;
mod service_update;
mod service_validation;
mod volume;

pub(crate) use container::{dns_label, port_num};
pub(crate) use controller::workload_template_rules;
pub(crate) use pod::validate_template;
pub(crate) use pod_defaults::default_pod_spec;
pub(crate) use pv::default_claim_spec;

use crate::field::{ErrorList, Path, forbidden, immutable, invalid};
use crate::json;
use crate::net;
use serde_json::Value;

pub fn default(kind: &str, obj: &mut Value) {
    match kind {
        "Pod" => pod_defaults::default_pod(obj),
        "PodTemplate" => json::with_mut(obj, "/template/spec", default_pod_spec),
        "ReplicationController" => controller::default_rc(obj),
        "Service" => service::default_service(obj),
        "Secret" => config::default_secret(obj),
        "PersistentVolume" => pv::default_pv(obj),
        "PersistentVolumeClaim" => pv::default_pvc(obj),
        "Node" => node::default_node(obj),
        "Namespace" => node::default_namespace(obj),
        "Endpoints" => default_endpoints(obj),
        _ => {}
    }
}

/// SetDefaults_Endpoints: ports are TCP unless said otherwise.
fn default_endpoints(obj: &mut Value) {
    json::each_mut(obj, "subsets", |s| {
        json::each_mut(s, "ports", |p| json::default_zero(p, "protocol", serde_json::json!("TCP")))
    });
}

pub fn validate(kind: &str, obj: &Value, old: Option<&Value>) -> ErrorList {
    match (kind, old) {
        ("Pod", None) => pod::validate_pod(obj),
        ("Pod", Some(old)) => pod_update::validate_pod_update(obj, old),
        ("PodTemplate", _) => controller::validate_pod_template(obj),
        ("ReplicationController", _) => controller::validate_rc(obj),
        ("Service", None) => service_validation::validate_service(obj),
        ("Service", Some(old)) => service_validation::validate_service_update(obj, old),
        ("ConfigMap", None) => config::validate_config_map(obj),
        ("ConfigMap", Some(old)) => config::validate_config_map_update(obj, old),
        ("Secret", None) => config::validate_secret(obj),
        ("Secret", Some(old)) => config::validate_secret_update(obj, old),
        ("PersistentVolume", None) => pv::validate_pv(obj),
        ("PersistentVolume", Some(old)) => pv::validate_pv_update(obj, old),
        ("PersistentVolumeClaim", None) => pv::validate_pvc(obj),
        ("PersistentVolumeClaim", Some(old)) => pv::validate_pvc_update(obj, old),
        ("Node", None) => node::validate_node(obj),
        ("Node", Some(old)) => node::validate_node_update(obj, old),
        ("Namespace", None) => node::validate_namespace(obj),
        _ => Vec::new(),
    }
}

pub fn prepare_update(kind: &str, obj: &mut Value, old: &Value) {
    if kind == "Service" {
        service::prepare_update(obj, old);
    }
}

pub fn validate_status(kind: &str, obj: &Value, old: &Value) -> ErrorList {
    let sp = Path::new("status");
    match kind {
        "Pod" => validate_pod_status(obj, old),
        "ReplicationController" => crate::apps::replica_counts(obj, &sp),
        "Service" => service_validation::validate_service_status(obj),
        "Namespace" => node::validate_namespace_status(obj),
        "Node" => node::validate_node_update(obj, old),
        "PersistentVolumeClaim" => validate_pvc_status(obj),
        _ => Vec::new(),
    }
}

/// ValidatePodStatusUpdate: the node is not changed here, QoS never changes, IPs are valid
/// and terminated containers of pods that do not restart stay terminated.
fn validate_pod_status(new: &Value, old: &Value) -> ErrorList {
    let sp = Path::new("status");
    let mut errs = Vec::new();
    if new.pointer("/spec/nodeName") != old.pointer("/spec/nodeName") {
        errs.push(forbidden(&sp.child("nodeName"), "may not be changed directly"));
    }
    let nominated = new.pointer("/status/nominatedNodeName").and_then(Value::as_str).unwrap_or("");
    if !nominated.is_empty() && new.pointer("/status/nominatedNodeName") != old.pointer("/status/nominatedNodeName") {
        errs.extend(
            apimachinery::validation::is_dns1123_subdomain(nominated)
                .into_iter()
                .map(|m| invalid(&sp.child("nominatedNodeName"), nominated, m)),
        );
    }
    errs.extend(immutable(new.pointer("/status/qosClass"), old.pointer("/status/qosClass"), &sp.child("qosClass")));
    errs.extend(state_transitions(new, old, &sp.child("containerStatuses")));
    errs.extend(pod_ips(new, "podIPs", &sp));
    errs.extend(pod_ips(new, "hostIPs", &sp));
    let host_ip = new.pointer("/status/hostIP").and_then(Value::as_str).unwrap_or("");
    if let Some(first) = new.pointer("/status/hostIPs/0/ip").and_then(Value::as_str)
        && first != host_ip
    {
        errs.push(invalid(&sp.child("hostIPs").index(0).child("ip"), first, "must be equal to `hostIP`"));
    }
    errs
}

/// ValidateContainerStateTransition.
fn state_transitions(new: &Value, old: &Value, p: &Path) -> ErrorList {
    let policy = old.pointer("/spec/restartPolicy").and_then(Value::as_str).unwrap_or("");
    if policy == "Always" {
        return Vec::new();
    }
    let statuses =
        |o: &Value| o.pointer("/status/containerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
    let (new_s, old_s) = (statuses(new), statuses(old));
    let mut errs = Vec::new();
    for (i, o) in old_s.iter().enumerate() {
        let Some(term) = json::at(o, "/state/terminated") else {
            continue;
        };
        if json::int(term, "exitCode").unwrap_or(0) != 0 && policy == "OnFailure" {
            continue;
        }
        let revived = new_s
            .iter()
            .any(|n| json::string(n, "name") == json::string(o, "name") && json::at(n, "/state/terminated").is_none());
        if revived {
            errs.push(forbidden(&p.index(i).child("state"), "may not be transitioned to non-terminated state"));
        }
    }
    errs
}

/// validatePodIPs / validateHostIPs: valid, at most one per family, no duplicates.
fn pod_ips(pod: &Value, field: &str, sp: &Path) -> ErrorList {
    let list = pod.pointer(&format!("/status/{field}")).and_then(Value::as_array).cloned().unwrap_or_default();
    let p = sp.child(field);
    let ips: Vec<&str> = list.iter().map(|i| json::string(i, "ip")).collect();
    let mut errs: ErrorList = ips.iter().enumerate().flat_map(|(i, ip)| net::validate_ip(&p.index(i), ip)).collect();
    if ips.len() > 1 {
        let dual = ips.len() == 2 && net::is_ipv6_string(ips[0]) != net::is_ipv6_string(ips[1]);
        if !dual {
            errs.push(invalid(&p, Value::Array(list.clone()), "may specify no more than one IP for each IP family"));
        }
        for (i, ip) in ips.iter().enumerate() {
            if ips[..i].contains(ip) {
                errs.push(crate::field::duplicate(&p.index(i), list[i].clone()));
            }
        }
    }
    errs
}

/// ValidatePersistentVolumeClaimStatusUpdate: access modes stay, capacities are quantities.
fn validate_pvc_status(pvc: &Value) -> ErrorList {
    let mut errs = Vec::new();
    if pvc.pointer("/spec/accessModes").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        errs.push(crate::field::required(&Path::new("Spec").child("accessModes"), ""));
    }
    if let Some(cap) = pvc.pointer("/status/capacity").and_then(Value::as_object) {
        for (name, raw) in cap {
            let rp = Path::new("status").child("capacity").key(name);
            match resources::parse_quantity(raw, &rp) {
                Ok(q) if q.is_negative() => errs.push(invalid(&rp, q.canonical(), "must be a valid resource quantity")),
                Ok(_) => {}
                Err(e) => errs.push(*e),
            }
        }
    }
    errs
}
