//! ValidateService, ValidateServiceUpdate and ValidateServiceStatusUpdate.

use super::container::{dns_label, port_num, validate_protocol};
use super::handler::port_num_or_name;
use super::service::externally_accessible;
use crate::field::{ErrorList, Path, duplicate, duplicate_go, forbidden, invalid, invalid_go, not_supported, required};
use crate::{gofmt, json, meta, net};
use apimachinery::validation as v;
use serde_json::Value;
use std::collections::HashSet;

/// isHeadlessService: exactly one cluster IP, `None`.
fn is_headless(spec: &Value) -> bool {
    let ips = json::items(spec, "clusterIPs");
    ips.len() == 1 && ips[0].as_str() == Some("None")
}

pub fn validate_service(svc: &Value) -> ErrorList {
    let p = Path::new("spec");
    let spec = json::get(svc, "spec").cloned().unwrap_or_default();
    let ty = json::string(&spec, "type");
    let mut errs = Vec::new();
    if json::items(&spec, "ports").is_empty() && !is_headless(&spec) && ty != "ExternalName" {
        errs.push(required(&p.child("ports"), ""));
    }
    errs.extend(validate_by_type(&spec, &p));
    errs.extend(validate_ports(&spec, &p.child("ports")));
    errs.extend(meta::validate_labels(spec.get("selector"), &p.child("selector")));
    errs.extend(validate_session_affinity(&spec, &p));
    errs.extend(validate_cluster_ips(&spec, &p));
    for (i, ip) in json::items(&spec, "externalIPs").iter().enumerate() {
        let ip = ip.as_str().unwrap_or_default();
        let ip_errs = net::validate_ip(&p.child("externalIPs").index(i), ip);
        if ip_errs.is_empty() {
            errs.extend(net::validate_non_special_ip(ip, &p.child("externalIPs").index(i)));
        }
        errs.extend(ip_errs);
    }
    errs.extend(validate_type(ty, &p.child("type")));
    errs.extend(validate_node_ports(&spec, &p.child("ports")));
    errs.extend(validate_load_balancer_fields(svc, &spec, &p));
    errs.extend(validate_traffic_policies(&spec, &p));
    errs
}

fn validate_type(ty: &str, p: &Path) -> ErrorList {
    match ty {
        "" => vec![required(p, "")],
        "ClusterIP" | "ExternalName" | "LoadBalancer" | "NodePort" => Vec::new(),
        other => vec![not_supported(p, other, &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"])],
    }
}

/// The per-type rules: no headless NodePort/LoadBalancer; ExternalName needs a name, no IPs.
fn validate_by_type(spec: &Value, p: &Path) -> ErrorList {
    let ty = json::string(spec, "type");
    let mut errs = Vec::new();
    match ty {
        "LoadBalancer" | "NodePort" if is_headless(spec) => errs.push(invalid(
            &p.child("clusterIPs").index(0),
            "None",
            format!("may not be set to 'None' for {ty} services"),
        )),
        "ExternalName" => {
            for f in ["clusterIPs", "ipFamilies"] {
                if !json::items(spec, f).is_empty() {
                    errs.push(forbidden(&p.child(f), "may not be set for ExternalName services"));
                }
            }
            if json::get(spec, "ipFamilyPolicy").is_some() {
                errs.push(forbidden(&p.child("ipFamilyPolicy"), "may not be set for ExternalName services"));
            }
            errs.extend(validate_external_name(spec, p));
        }
        _ => {}
    }
    errs
}

/// The value (a CNAME) may have a trailing dot to denote it as fully qualified.
fn validate_external_name(spec: &Value, p: &Path) -> ErrorList {
    let cname = json::string(spec, "externalName").trim_end_matches('.');
    let ep = p.child("externalName");
    if cname.is_empty() {
        return vec![required(&ep, "")];
    }
    v::is_dns1123_subdomain(cname).into_iter().map(|m| invalid(&ep, cname, m)).collect()
}

/// validateServicePort for each port, then duplicate (protocol, port) pairs.
fn validate_ports(spec: &Value, p: &Path) -> ErrorList {
    let ports = json::items(spec, "ports");
    let mut errs = Vec::new();
    let mut names = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        errs.extend(validate_port(port, ports.len() > 1, &mut names, &p.index(i)));
    }
    let mut seen = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let protocol = json::string(port, "protocol");
        let number = json::int(port, "port").unwrap_or(0);
        if !seen.insert((protocol, number)) {
            let rendered = format!(
                "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{number}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
                gofmt::quote(protocol)
            );
            errs.push(duplicate_go(&p.index(i), &rendered));
        }
    }
    errs
}

fn validate_port<'a>(port: &'a Value, require_name: bool, names: &mut HashSet<&'a str>, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let name = json::string(port, "name");
    if require_name && name.is_empty() {
        errs.push(required(&p.child("name"), ""));
    } else if !name.is_empty() {
        errs.extend(dns_label(name, &p.child("name")));
        if !names.insert(name) {
            errs.push(duplicate(&p.child("name"), name));
        }
    }
    errs.extend(port_num(json::int(port, "port").unwrap_or(0), &p.child("port")));
    errs.extend(validate_protocol(json::string(port, "protocol"), &p.child("protocol")));
    errs.extend(port_num_or_name(port.get("targetPort"), &p.child("targetPort")));
    if let Some(app) = json::str_of(port, "appProtocol") {
        errs.extend(meta::validate_label_name(app, &p.child("appProtocol")));
    }
    errs
}

fn validate_session_affinity(spec: &Value, p: &Path) -> ErrorList {
    let affinity = json::string(spec, "sessionAffinity");
    let cp = p.child("sessionAffinityConfig");
    match affinity {
        "" => vec![required(&p.child("sessionAffinity"), "")],
        "ClientIP" => validate_client_ip_config(json::get(spec, "sessionAffinityConfig"), &cp),
        "None" if json::get(spec, "sessionAffinityConfig").is_some() => {
            vec![forbidden(&cp, "must not be set when session affinity is None")]
        }
        "None" => Vec::new(),
        other => vec![not_supported(&p.child("sessionAffinity"), other, &["ClientIP", "None"])],
    }
}

/// validateClientIPAffinityConfig: a timeout of 1 to 86400 seconds.
fn validate_client_ip_config(config: Option<&Value>, p: &Path) -> ErrorList {
    let detail = "when session affinity type is ClientIP";
    let Some(config) = config else {
        return vec![required(p, detail)];
    };
    let Some(client) = json::get(config, "clientIP") else {
        return vec![required(&p.child("clientIP"), detail)];
    };
    let tp = p.children(&["clientIP", "timeoutSeconds"]);
    let Some(timeout) = json::int(client, "timeoutSeconds") else {
        return vec![required(&tp, detail)];
    };
    if timeout <= 0 || timeout > 86400 {
        return vec![invalid(&tp, timeout, "must be greater than 0 and less than 86400")];
    }
    Vec::new()
}

/// ValidateServiceClusterIPsRelatedFields.
fn validate_cluster_ips(spec: &Value, p: &Path) -> ErrorList {
    if json::string(spec, "type") == "ExternalName" {
        return Vec::new();
    }
    let ips_path = p.child("clusterIPs");
    let ips = json::items(spec, "clusterIPs");
    let rendered = gofmt::string_slice(spec.get("clusterIPs"));
    let mut errs = Vec::new();
    let cluster_ip = json::string(spec, "clusterIP");
    if !cluster_ip.is_empty() {
        if ips.is_empty() {
            errs.push(required(&ips_path, ""));
        } else if ips[0].as_str() != Some(cluster_ip) {
            errs.push(invalid_go(&ips_path, &rendered, "first value must match `clusterIP`"));
        }
    } else if !ips.is_empty() {
        errs.push(invalid_go(&ips_path, &rendered, "must be empty when `clusterIP` is not specified"));
    }
    errs.extend(validate_families(spec, p));
    let (ip_errs, bad_ips) = validate_ip_list(ips, &ips_path, &rendered);
    errs.extend(ip_errs);
    if bad_ips {
        return errs;
    }
    errs.extend(validate_dual_stack(spec, &ips_path, &rendered));
    errs
}

fn validate_families(spec: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let mut seen = Vec::new();
    for (i, f) in json::items(spec, "ipFamilies").iter().enumerate() {
        let f = f.as_str().unwrap_or_default();
        let fp = p.child("ipFamilies").index(i);
        if f != "IPv4" && f != "IPv6" {
            errs.push(not_supported(&fp, f, &["IPv4", "IPv6"]));
        }
        if seen.contains(&f) {
            errs.push(duplicate(&fp, f));
        }
        seen.push(f);
    }
    if let Some(policy) = json::str_of(spec, "ipFamilyPolicy") {
        let allowed = ["PreferDualStack", "RequireDualStack", "SingleStack"];
        if !allowed.contains(&policy) {
            errs.push(not_supported(&p.child("ipFamilyPolicy"), policy, &allowed));
        }
    }
    errs
}

/// Each cluster IP valid, `None` only alone, at most two; whether any was invalid.
fn validate_ip_list(ips: &[Value], p: &Path, rendered: &str) -> (ErrorList, bool) {
    let mut errs = Vec::new();
    let mut bad = false;
    for (i, ip) in ips.iter().enumerate() {
        let ip = ip.as_str().unwrap_or_default();
        if i == 0 && ip == "None" {
            if ips.len() > 1 {
                bad = true;
                errs.push(invalid_go(p, rendered, "'None' must be the first and only value"));
            }
            continue;
        }
        let e = net::validate_ip(&p.index(i), ip);
        bad |= !e.is_empty();
        errs.extend(e);
    }
    if ips.len() > 2 {
        errs.push(invalid_go(p, rendered, "may only hold up to 2 values"));
    }
    (errs, bad)
}

/// Two IPs must be of different families; IPs must match the families given for them.
fn validate_dual_stack(spec: &Value, p: &Path, rendered: &str) -> ErrorList {
    let ips: Vec<&str> = json::items(spec, "clusterIPs").iter().map(|i| i.as_str().unwrap_or_default()).collect();
    let mut errs = Vec::new();
    if ips.len() > 1 && net::is_ipv6_string(ips[0]) == net::is_ipv6_string(ips[1]) {
        errs.push(invalid_go(p, rendered, "may specify no more than one IP for each IP family"));
    }
    if is_headless(spec) {
        return errs;
    }
    for (i, (ip, family)) in ips.iter().zip(json::items(spec, "ipFamilies")).enumerate() {
        let v6 = net::is_ipv6_string(ip);
        match family.as_str() {
            Some("IPv4") if v6 => errs.push(invalid(
                &p.index(i),
                *ip,
                format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`"),
            )),
            Some("IPv6") if !v6 => errs.push(invalid(
                &p.index(i),
                *ip,
                format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`"),
            )),
            _ => {}
        }
    }
    errs
}

/// nodePort only where a node port is allocated; each (protocol, nodePort) once.
fn validate_node_ports(spec: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let cluster_ip = json::string(spec, "type") == "ClusterIP";
    let mut seen = HashSet::new();
    for (i, port) in json::items(spec, "ports").iter().enumerate() {
        let node_port = json::int(port, "nodePort").unwrap_or(0);
        if node_port == 0 {
            continue;
        }
        let np = p.index(i).child("nodePort");
        if cluster_ip {
            errs.push(forbidden(&np, "may not be used when `type` is 'ClusterIP'"));
        }
        if !seen.insert((json::string(port, "protocol"), node_port)) {
            errs.push(duplicate(&np, node_port));
        }
    }
    errs
}

/// loadBalancerSourceRanges, allocateLoadBalancerNodePorts and loadBalancerClass.
fn validate_load_balancer_fields(svc: &Value, spec: &Value, p: &Path) -> ErrorList {
    let is_lb = json::string(spec, "type") == "LoadBalancer";
    let only_lb = "may only be used when `type` is 'LoadBalancer'";
    let mut errs = Vec::new();
    let ranges = json::items(spec, "loadBalancerSourceRanges");
    if !ranges.is_empty() {
        let rp = p.child("LoadBalancerSourceRanges");
        if !is_lb {
            errs.push(forbidden(&rp, only_lb));
        }
        for (i, r) in ranges.iter().enumerate() {
            errs.extend(net::validate_cidr(&rp.index(i), r.as_str().unwrap_or_default().trim()));
        }
    } else if let Some(val) =
        svc.pointer("/metadata/annotations/service.beta.kubernetes.io~1load-balancer-source-ranges")
    {
        let ap =
            Path::new("metadata").child("annotations").key("service.beta.kubernetes.io/load-balancer-source-ranges");
        if !is_lb {
            errs.push(forbidden(&ap, only_lb));
        }
        let val = val.as_str().unwrap_or_default().trim();
        for cidr in val.split(',').filter(|_| !val.is_empty()) {
            errs.extend(net::validate_cidr(&ap, cidr.trim()));
        }
    }
    if json::get(spec, "allocateLoadBalancerNodePorts").is_some() && !is_lb {
        errs.push(forbidden(&p.child("allocateLoadBalancerNodePorts"), only_lb));
    }
    if is_lb && json::get(spec, "allocateLoadBalancerNodePorts").is_none() {
        errs.push(required(&Path::new("allocateLoadBalancerNodePorts"), ""));
    }
    if let Some(class) = json::str_of(spec, "loadBalancerClass") {
        if is_lb {
            errs.extend(meta::validate_label_name(class, &p.child("loadBalancerClass")));
        } else {
            errs.push(forbidden(&p.child("loadBalancerClass"), only_lb));
        }
    }
    errs
}

/// External and internal traffic policies, health check node port, traffic distribution.
fn validate_traffic_policies(spec: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let etp = json::string(spec, "externalTrafficPolicy");
    let etp_path = p.child("externalTrafficPolicy");
    if !externally_accessible(spec) {
        if !etp.is_empty() {
            errs.push(invalid(&etp_path, etp, "may only be set for externally-accessible services"));
        }
    } else if etp.is_empty() {
        errs.push(required(&etp_path, ""));
    } else if etp != "Cluster" && etp != "Local" {
        errs.push(not_supported(&etp_path, etp, &["Cluster", "Local"]));
    }
    errs.extend(validate_health_check_port(spec, p));
    let itp = json::str_of(spec, "internalTrafficPolicy");
    let itp_path = p.child("internalTrafficPolicy");
    let ty = json::string(spec, "type");
    match itp {
        None if matches!(ty, "NodePort" | "LoadBalancer" | "ClusterIP") => errs.push(required(&itp_path, "")),
        Some(i) if i != "Cluster" && i != "Local" => errs.push(not_supported(&itp_path, i, &["Cluster", "Local"])),
        _ => {}
    }
    if let Some(td) = json::str_of(spec, "trafficDistribution").filter(|t| *t != "PreferClose") {
        errs.push(not_supported(&p.child("trafficDistribution"), td, &["PreferClose"]));
    }
    errs
}

fn validate_health_check_port(spec: &Value, p: &Path) -> ErrorList {
    let needs = json::string(spec, "type") == "LoadBalancer" && json::string(spec, "externalTrafficPolicy") == "Local";
    let port = json::int(spec, "healthCheckNodePort").unwrap_or(0);
    let hp = p.child("healthCheckNodePort");
    match (needs, port) {
        (false, 0) => Vec::new(),
        (false, n) => vec![invalid(
            &hp,
            n,
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        )],
        (true, 0) => vec![required(&hp, "")],
        (true, n) => port_num(n, &hp),
    }
}

/// ValidateServiceUpdate: cluster IPs and families may not change (save dual-stack
/// upgrades and downgrades), nor loadBalancerClass or the health check node port.
pub fn validate_service_update(new: &Value, old: &Value) -> ErrorList {
    let spec = json::get(new, "spec").cloned().unwrap_or_default();
    let old_spec = json::get(old, "spec").cloned().unwrap_or_default();
    let mut errs = super::service_update::validate_cluster_ip_changes(&spec, &old_spec);
    errs.extend(super::service_update::validate_family_changes(&spec, &old_spec));
    let both_lb = json::string(&spec, "type") == "LoadBalancer" && json::string(&old_spec, "type") == "LoadBalancer";
    if both_lb && !json::semantic_eq(spec.get("loadBalancerClass"), old_spec.get("loadBalancerClass")) {
        let class = spec.get("loadBalancerClass").cloned().unwrap_or(Value::Null);
        errs.push(invalid(&Path::new("spec").child("loadBalancerClass"), class, "may not change once set"));
    }
    let needs_hc =
        |s: &Value| json::string(s, "type") == "LoadBalancer" && json::string(s, "externalTrafficPolicy") == "Local";
    if needs_hc(&spec) && needs_hc(&old_spec) && spec.get("healthCheckNodePort") != old_spec.get("healthCheckNodePort")
    {
        errs.push(forbidden(&Path::new("spec").child("healthCheckNodePort"), "field is immutable"));
    }
    errs.extend(validate_service(new));
    errs
}

/// ValidateServiceStatusUpdate: the load balancer status.
pub fn validate_service_status(new: &Value) -> ErrorList {
    let p = Path::new("status").children(&["loadBalancer", "ingress"]);
    let ingress = new.pointer("/status/loadBalancer/ingress").and_then(Value::as_array).cloned().unwrap_or_default();
    let is_lb = new.pointer("/spec/type").and_then(Value::as_str) == Some("LoadBalancer");
    if !is_lb && !ingress.is_empty() {
        return vec![forbidden(&p, "may only be used when `spec.type` is 'LoadBalancer'")];
    }
    let mut errs = Vec::new();
    for (i, ing) in ingress.iter().enumerate() {
        let ip = json::string(ing, "ip");
        if !ip.is_empty() {
            errs.extend(net::validate_ip(&p.index(i).child("ip"), ip));
        }
        match json::str_of(ing, "ipMode") {
            None if !ip.is_empty() => {
                errs.push(required(&p.index(i).child("ipMode"), "must be specified when `ip` is set"))
            }
            Some(_) if ip.is_empty() => {
                errs.push(forbidden(&p.index(i).child("ipMode"), "may not be specified when `ip` is not set"))
            }
            Some(m) if m != "VIP" && m != "Proxy" => {
                errs.push(not_supported(&p.index(i).child("ipMode"), m, &["Proxy", "VIP"]))
            }
            _ => {}
        }
        let host = json::string(ing, "hostname");
        if !host.is_empty() {
            let hp = p.index(i).child("hostname");
            errs.extend(v::is_dns1123_subdomain(host).into_iter().map(|m| invalid(&hp, host, m)));
            if net::parse_ip(host).is_some() {
                errs.push(invalid(&hp, host, "must be a DNS name, not an IP address"));
            }
        }
    }
    errs
}
