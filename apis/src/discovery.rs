//! The discovery.k8s.io group: EndpointSlices (pkg/apis/discovery/v1/defaults.go,
//! pkg/apis/discovery/validation).

use crate::field::{ErrorList, Path, duplicate, immutable, invalid, not_supported, required, too_many};
use crate::json::{self, default_nil, each_mut};
use crate::{meta, net};
use apimachinery::validation as v;
use serde_json::{Value, json};

const ADDRESS_TYPES: [&str; 3] = ["FQDN", "IPv4", "IPv6"];

/// SetDefaults_EndpointPort: a port has a name (possibly "") and a protocol (TCP).
pub fn default(kind: &str, obj: &mut Value) {
    if kind == "EndpointSlice" {
        each_mut(obj, "ports", |p| {
            default_nil(p, "name", json!(""));
            default_nil(p, "protocol", json!("TCP"));
        });
    }
}

pub fn validate(kind: &str, obj: &Value, old: Option<&Value>) -> ErrorList {
    if kind != "EndpointSlice" {
        return Vec::new();
    }
    let address_type = json::string(obj, "addressType");
    let ap = Path::new("addressType");
    let mut errs = match address_type {
        "" => vec![required(&ap, "")],
        t if !ADDRESS_TYPES.contains(&t) => vec![not_supported(&ap, t, &ADDRESS_TYPES)],
        _ => Vec::new(),
    };
    errs.extend(validate_endpoints(obj, address_type, &Path::new("endpoints")));
    errs.extend(validate_ports(obj, &Path::new("ports")));
    if let Some(old) = old {
        errs.extend(immutable(obj.get("addressType"), old.get("addressType"), &ap));
    }
    errs
}

/// validateEndpoints: 1 to 100 addresses of the slice's type each, at most 1000 endpoints.
fn validate_endpoints(obj: &Value, address_type: &str, p: &Path) -> ErrorList {
    let endpoints = json::items(obj, "endpoints");
    if endpoints.len() > 1000 {
        return vec![too_many(p, endpoints.len(), 1000)];
    }
    let mut errs = Vec::new();
    for (i, ep) in endpoints.iter().enumerate() {
        let epp = p.index(i);
        let addrs = json::items(ep, "addresses");
        let ap = epp.child("addresses");
        if addrs.is_empty() {
            errs.push(required(&ap, "must contain at least 1 address"));
        } else if addrs.len() > 100 {
            errs.push(too_many(&ap, addrs.len(), 100));
        }
        for (j, a) in addrs.iter().enumerate() {
            errs.extend(validate_address(a.as_str().unwrap_or_default(), address_type, &ap.index(j)));
        }
        if let Some(node) = json::str_of(ep, "nodeName") {
            errs.extend(v::is_dns1123_subdomain(node).into_iter().map(|m| invalid(&epp.child("nodeName"), node, m)));
        }
        let tp = epp.child("deprecatedTopology");
        errs.extend(meta::validate_labels(ep.get("deprecatedTopology"), &tp));
        if let Some(h) = json::str_of(ep, "hostname") {
            errs.extend(crate::core::dns_label(h, &epp.child("hostname")));
        }
    }
    errs
}

fn validate_address(addr: &str, address_type: &str, p: &Path) -> ErrorList {
    match address_type {
        "IPv4" | "IPv6" => {
            let ip_errs =
                if address_type == "IPv4" { net::validate_ipv4(p, addr) } else { net::validate_ipv6(p, addr) };
            if ip_errs.is_empty() { net::validate_non_special_ip(addr, p) } else { ip_errs }
        }
        "FQDN" => fully_qualified_domain_name(addr, p),
        _ => Vec::new(),
    }
}

/// IsFullyQualifiedDomainName: a subdomain of at least two labels (a trailing dot allowed).
fn fully_qualified_domain_name(name: &str, p: &Path) -> ErrorList {
    if name.is_empty() {
        return vec![required(p, "")];
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    let errs = v::is_dns1123_subdomain(name);
    if !errs.is_empty() {
        return vec![invalid(p, name, errs.join(","))];
    }
    if name.split('.').count() < 2 {
        return vec![invalid(p, name, "should be a domain with at least two segments separated by dots")];
    }
    Vec::new()
}

/// validatePorts: names DNS labels and unique, protocols known.
fn validate_ports(obj: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let mut names = Vec::new();
    for (i, port) in json::items(obj, "ports").iter().enumerate() {
        let pp = p.index(i);
        let name = json::string(port, "name");
        if !name.is_empty() {
            errs.extend(crate::core::dns_label(name, &pp.child("name")));
        }
        if names.contains(&name) {
            errs.push(duplicate(&pp.child("name"), name));
        }
        names.push(name);
        match json::str_of(port, "protocol") {
            None => errs.push(required(&pp.child("protocol"), "")),
            Some("TCP" | "UDP" | "SCTP") => {}
            Some(other) => errs.push(not_supported(&pp.child("protocol"), other, &["SCTP", "TCP", "UDP"])),
        }
        if let Some(app) = json::str_of(port, "appProtocol") {
            errs.extend(meta::validate_label_name(app, &pp.child("appProtocol")));
        }
    }
    errs
}
