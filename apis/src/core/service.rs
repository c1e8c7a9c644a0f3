//! Service defaults (SetDefaults_Service), the IP-family and clusterIPs normalisation the
//! Service REST storage applies (NormalizeClusterIPs, initIPFamilyFields), and what its update
//! strategy patches or drops (patchAllocatedValues, dropTypeDependentFields).
//!
//! The cluster is single-stack IPv4, as minik8s runs it.

use crate::json::{self, default_nil, default_zero, each_mut};
use serde_json::{Value, json};

/// SetDefaults_Service plus the create-time normalisation of clusterIPs and IP families.
pub fn default_service(svc: &mut Value) {
    let Some(spec) = json::ensure_object(svc, "spec") else {
        return;
    };
    default_session_affinity(spec);
    default_zero(spec, "type", json!("ClusterIP"));
    each_mut(spec, "ports", default_port);
    let ty = json::string(spec, "type").to_string();
    if externally_accessible(spec) {
        default_zero(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if matches!(ty.as_str(), "ClusterIP" | "NodePort" | "LoadBalancer") {
        default_nil(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        default_nil(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    normalize_cluster_ips_on_create(spec);
    default_ip_families(spec);
    if ty == "LoadBalancer" {
        json::with_mut(svc, "/status/loadBalancer", |lb| {
            each_mut(lb, "ingress", |ing| {
                if !json::string(ing, "ip").is_empty() {
                    default_nil(ing, "ipMode", json!("VIP"));
                }
            })
        });
    }
}

fn default_session_affinity(spec: &mut Value) {
    default_zero(spec, "sessionAffinity", json!("None"));
    match json::string(spec, "sessionAffinity") {
        "None" => {
            if let Value::Object(m) = spec {
                m.remove("sessionAffinityConfig");
            }
        }
        "ClientIP" => {
            let has_timeout = json::at(spec, "/sessionAffinityConfig/clientIP/timeoutSeconds").is_some();
            if !has_timeout {
                spec["sessionAffinityConfig"] = json!({"clientIP": {"timeoutSeconds": 10800}});
            }
        }
        _ => {}
    }
}

/// Protocol TCP; an unset (0 or "") targetPort is the port.
fn default_port(port: &mut Value) {
    default_zero(port, "protocol", json!("TCP"));
    let target_unset = json::is_zero(port.get("targetPort"));
    if target_unset {
        let p = port.get("port").cloned().unwrap_or(json!(0));
        port["targetPort"] = p;
    }
}

/// service.ExternallyAccessible: NodePort, LoadBalancer, or ClusterIP with external IPs.
pub fn externally_accessible(spec: &Value) -> bool {
    match json::string(spec, "type") {
        "NodePort" | "LoadBalancer" => true,
        "ClusterIP" => !json::items(spec, "externalIPs").is_empty(),
        _ => false,
    }
}

/// An old client that sent only `clusterIP` gets `clusterIPs` to match.
fn normalize_cluster_ips_on_create(spec: &mut Value) {
    let ip = json::string(spec, "clusterIP").to_string();
    if !ip.is_empty() && json::items(spec, "clusterIPs").is_empty() {
        spec["clusterIPs"] = json!([ip]);
    }
}

/// ipFamilyPolicy and ipFamilies, as the IP allocator initialises them on a single-stack
/// IPv4 cluster (headless services without a selector get RequireDualStack).
fn default_ip_families(spec: &mut Value) {
    if json::string(spec, "type") == "ExternalName" {
        return;
    }
    let headless = json::string(spec, "clusterIP") == "None";
    let no_selector = json::object(spec, "selector").is_none_or(|m| m.is_empty());
    let policy = if headless && no_selector { "RequireDualStack" } else { "SingleStack" };
    default_nil(spec, "ipFamilyPolicy", json!(policy));
    if json::items(spec, "ipFamilies").is_empty() {
        spec["ipFamilies"] = json!([family_of_ips(spec)]);
    }
}

/// The family of the first requested cluster IP, else the cluster's (IPv4).
fn family_of_ips(spec: &Value) -> &'static str {
    let first = json::items(spec, "clusterIPs").first().and_then(Value::as_str).unwrap_or("");
    if crate::net::is_ipv6_string(first) { "IPv6" } else { "IPv4" }
}

/// What the Service update path does before validation: re-apply allocated values the client
/// left out (patchAllocatedValues), keep clusterIP/clusterIPs in step (NormalizeClusterIPs)
/// and drop what the new type no longer uses (dropTypeDependentFields).
pub fn prepare_update(new: &mut Value, old: &Value) {
    let old_spec = json::get(old, "spec").cloned().unwrap_or_default();
    let Some(spec) = json::ensure_object(new, "spec") else {
        return;
    };
    patch_allocated_values(spec, &old_spec);
    normalize_cluster_ips_on_update(spec, &old_spec);
    for f in ["ipFamilyPolicy", "ipFamilies"] {
        if needs_cluster_ip(spec)
            && needs_cluster_ip(&old_spec)
            && json::is_zero(spec.get(f))
            && let Some(v) = json::get(&old_spec, f)
        {
            spec[f] = v.clone();
        }
    }
    drop_type_dependent_fields(spec, &old_spec);
    if json::string(spec, "type") != "LoadBalancer"
        && let Some(status) = new.get_mut("status").filter(|s| s.is_object())
    {
        status["loadBalancer"] = json!({});
    }
}

fn needs_cluster_ip(spec: &Value) -> bool {
    json::string(spec, "type") != "ExternalName"
}

fn needs_node_port(spec: &Value) -> bool {
    match json::string(spec, "type") {
        "NodePort" => true,
        "LoadBalancer" => spec.get("allocateLoadBalancerNodePorts") != Some(&json!(false)),
        _ => false,
    }
}

fn needs_health_check_port(spec: &Value) -> bool {
    json::string(spec, "type") == "LoadBalancer" && json::string(spec, "externalTrafficPolicy") == "Local"
}

fn patch_allocated_values(spec: &mut Value, old: &Value) {
    if needs_cluster_ip(old) && needs_cluster_ip(spec) {
        if json::string(spec, "clusterIP").is_empty()
            && let Some(ip) = json::get(old, "clusterIP")
        {
            spec["clusterIP"] = ip.clone();
        }
        if json::items(spec, "clusterIPs").is_empty() && !json::items(old, "clusterIPs").is_empty() {
            spec["clusterIPs"] = old["clusterIPs"].clone();
        }
    }
    if needs_node_port(old) && needs_node_port(spec) {
        patch_node_ports(spec, old);
    }
    if needs_health_check_port(old)
        && needs_health_check_port(spec)
        && let Some(p) = json::get(old, "healthCheckNodePort")
    {
        default_zero(spec, "healthCheckNodePort", p.clone());
    }
}

/// Node ports the client left unset come back from the old port of the same name.
fn patch_node_ports(spec: &mut Value, old: &Value) {
    let used_by = |s: &Value| -> Vec<i64> {
        json::items(s, "ports").iter().filter_map(|p| json::int(p, "nodePort")).filter(|n| *n != 0).collect()
    };
    let new_used = used_by(spec);
    let used: Vec<i64> = used_by(old).into_iter().filter(|n| new_used.contains(n)).collect();
    let by_name: Vec<(String, i64)> = json::items(old, "ports")
        .iter()
        .map(|p| (json::string(p, "name").to_string(), json::int(p, "nodePort").unwrap_or(0)))
        .collect();
    each_mut(spec, "ports", |p| {
        if json::int(p, "nodePort").unwrap_or(0) != 0 {
            return;
        }
        let name = json::string(p, "name").to_string();
        let old_port = by_name.iter().find(|(n, _)| *n == name).map_or(0, |(_, v)| *v);
        if old_port != 0 && !used.contains(&old_port) {
            p["nodePort"] = json!(old_port);
        }
    });
}

fn normalize_cluster_ips_on_update(spec: &mut Value, old: &Value) {
    let same_ip = json::string(spec, "clusterIP") == json::string(old, "clusterIP");
    let same_ips = json::semantic_eq(spec.get("clusterIPs"), old.get("clusterIPs"));
    if !json::items(old, "clusterIPs").is_empty() && json::items(spec, "clusterIPs").is_empty() && same_ip {
        spec["clusterIPs"] = old["clusterIPs"].clone();
    }
    if same_ip {
        return;
    }
    let cleared = !json::string(old, "clusterIP").is_empty() && json::string(spec, "clusterIP").is_empty();
    if cleared && same_ips {
        remove(spec, "clusterIPs");
    } else if !cleared && same_ips {
        spec["clusterIPs"] = json!([json::string(spec, "clusterIP")]);
    }
}

fn remove(spec: &mut Value, key: &str) {
    if let Value::Object(m) = spec {
        m.remove(key);
    }
}

/// dropTypeDependentFields: values the old type needed, unchanged by the client, are wiped.
fn drop_type_dependent_fields(spec: &mut Value, old: &Value) {
    let same = |spec: &Value, f: &str| json::semantic_eq(spec.get(f), old.get(f));
    if needs_cluster_ip(old) && !needs_cluster_ip(spec) {
        if same(spec, "clusterIPs") {
            remove(spec, "clusterIP");
            remove(spec, "clusterIPs");
        }
        for f in ["ipFamilies", "ipFamilyPolicy"] {
            if same(spec, f) {
                remove(spec, f);
            }
        }
    }
    if needs_node_port(old) && !needs_node_port(spec) && same_node_ports(spec, old) {
        each_mut(spec, "ports", |p| remove(p, "nodePort"));
    }
    if needs_health_check_port(old) && !needs_health_check_port(spec) && same(spec, "healthCheckNodePort") {
        remove(spec, "healthCheckNodePort");
    }
    let was_lb = json::string(old, "type") == "LoadBalancer";
    if was_lb && json::string(spec, "type") != "LoadBalancer" {
        for f in ["allocateLoadBalancerNodePorts", "loadBalancerClass"] {
            if same(spec, f) {
                remove(spec, f);
            }
        }
    }
    if externally_accessible(old) && !externally_accessible(spec) && same(spec, "externalTrafficPolicy") {
        remove(spec, "externalTrafficPolicy");
    }
}

fn same_node_ports(spec: &Value, old: &Value) -> bool {
    let ports = |s: &Value| -> Vec<i64> {
        json::items(s, "ports").iter().map(|p| json::int(p, "nodePort").unwrap_or(0)).collect()
    };
    ports(spec) == ports(old)
}
