//! Service ClusterIP and NodePort allocation, as kube-apiserver's service REST storage does it.
//!
//! The allocated sets are derived from the stored Services at each allocation (under one lock,
//! held until the write is stored), so allocations survive restarts and are released when a
//! Service is deleted or changes type, with no separate bitmap to keep consistent.

use crate::status::FieldError;
use rand::Rng;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::Ipv4Addr;

/// The ranges Services are allocated from.
#[derive(Clone, Debug)]
pub struct ServiceRanges {
    network: u32,
    prefix: u32,
    cidr: String,
    node_ports: (u16, u16),
}

/// What is already taken, read from every stored Service.
#[derive(Default, Debug)]
pub struct Taken {
    pub ips: HashSet<Ipv4Addr>,
    pub node_ports: HashSet<u16>,
}

impl Taken {
    pub fn add_service(&mut self, svc: &Value) {
        for ip in svc.pointer("/spec/clusterIPs").and_then(Value::as_array).into_iter().flatten() {
            if let Some(ip) = ip.as_str().and_then(|s| s.parse().ok()) {
                self.ips.insert(ip);
            }
        }
        for p in node_ports(svc) {
            self.node_ports.insert(p);
        }
    }
}

fn node_ports(svc: &Value) -> Vec<u16> {
    let ports = svc.pointer("/spec/ports").and_then(Value::as_array).into_iter().flatten();
    let mut out: Vec<u16> = ports.filter_map(|p| p["nodePort"].as_u64()).map(|p| p as u16).collect();
    if let Some(h) = svc.pointer("/spec/healthCheckNodePort").and_then(Value::as_u64) {
        out.push(h as u16);
    }
    out
}

impl ServiceRanges {
    /// Parses `10.233.0.0/18` and a NodePort range.
    pub fn new(cidr: &str, node_ports: (u16, u16)) -> Option<ServiceRanges> {
        let (net, bits) = cidr.split_once('/')?;
        let ip: Ipv4Addr = net.parse().ok()?;
        let prefix: u32 = bits.parse().ok().filter(|b| (8..=30).contains(b))?;
        let mask = u32::MAX << (32 - prefix);
        Some(ServiceRanges { network: u32::from(ip) & mask, prefix, cidr: cidr.into(), node_ports })
    }

    fn size(&self) -> u32 {
        1 << (32 - self.prefix)
    }

    fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX << (32 - self.prefix);
        u32::from(ip) & mask == self.network
    }

    /// The n-th address of the range (1 = the `kubernetes` Service).
    pub fn nth(&self, n: u32) -> Ipv4Addr {
        Ipv4Addr::from(self.network + n)
    }

    /// Fills spec.clusterIP(s) and nodePorts of a Service being created or updated; `old` is
    /// the stored Service on update (its allocations are kept when the client omits them).
    pub fn allocate(&self, svc: &mut Value, old: Option<&Value>, taken: &Taken) -> Vec<FieldError> {
        if let Some(old) = old {
            keep_allocated(svc, old);
        }
        let mut errs = self.allocate_ip(svc, old, taken);
        errs.extend(self.allocate_node_ports(svc, old, taken));
        errs
    }

    fn allocate_ip(&self, svc: &mut Value, old: Option<&Value>, taken: &Taken) -> Vec<FieldError> {
        let spec = &mut svc["spec"];
        if spec["type"] == "ExternalName" {
            return Vec::new();
        }
        let requested = spec["clusterIP"].as_str().unwrap_or_default().to_string();
        if requested == "None" {
            spec["clusterIPs"] = json!(["None"]);
            return Vec::new();
        }
        let unchanged =
            old.and_then(|o| o.pointer("/spec/clusterIP")).and_then(Value::as_str) == Some(requested.as_str());
        if !requested.is_empty() && unchanged {
            spec["clusterIPs"] = json!([requested]);
            return Vec::new();
        }
        match self.pick_ip(&requested, taken) {
            Ok(ip) => {
                spec["clusterIP"] = json!(ip.to_string());
                spec["clusterIPs"] = json!([ip.to_string()]);
                Vec::new()
            }
            Err(detail) => {
                vec![FieldError::invalid(
                    "spec.clusterIPs",
                    json!([requested]),
                    format!("failed to allocate IP {requested}: {detail}"),
                )]
            }
        }
    }

    fn pick_ip(&self, requested: &str, taken: &Taken) -> Result<Ipv4Addr, String> {
        if !requested.is_empty() {
            let ip: Ipv4Addr = requested.parse().map_err(|_| "not a valid IPv4 address".to_string())?;
            if !self.contains(ip) || ip == self.nth(0) || ip == self.nth(self.size() - 1) {
                return Err(format!(
                    "the provided IP ({ip}) is not in the valid range. The range of valid IPs is {}",
                    self.cidr
                ));
            }
            if taken.ips.contains(&ip) {
                return Err("provided IP is already allocated".into());
            }
            return Ok(ip);
        }
        // Dynamic addresses come from above the static band (the lower 1/16, at least 16 and at
        // most 256 addresses), as Kubernetes does since 1.27, so pinned IPs rarely collide.
        let band = (self.size() / 16).clamp(16, 256);
        let mut rng = rand::rng();
        for _ in 0..self.size() {
            let ip = self.nth(rng.random_range(band..self.size() - 1));
            if !taken.ips.contains(&ip) {
                return Ok(ip);
            }
        }
        Err("range is full".into())
    }

    fn allocate_node_ports(&self, svc: &mut Value, old: Option<&Value>, taken: &Taken) -> Vec<FieldError> {
        let kind = svc["spec"]["type"].as_str().unwrap_or("ClusterIP").to_string();
        let wants =
            kind == "NodePort" || (kind == "LoadBalancer" && svc["spec"]["allocateLoadBalancerNodePorts"] != false);
        let own: HashSet<u16> = old.map(node_ports).unwrap_or_default().into_iter().collect();
        let mut used: HashSet<u16> = taken.node_ports.difference(&own).copied().collect();
        let mut errs = Vec::new();
        let Some(ports) = svc["spec"]["ports"].as_array_mut() else { return errs };
        for (i, port) in ports.iter_mut().enumerate() {
            let requested = port["nodePort"].as_u64().map(|p| p as u16);
            match (wants, requested) {
                (false, _) => {}
                (true, Some(p)) => match self.check_port(p, &used) {
                    Ok(()) => {
                        used.insert(p);
                    }
                    Err(detail) => errs.push(FieldError::invalid(&format!("spec.ports[{i}].nodePort"), p, detail)),
                },
                (true, None) => match self.pick_port(&used) {
                    Some(p) => {
                        used.insert(p);
                        port["nodePort"] = json!(p);
                    }
                    None => errs.push(FieldError::invalid(&format!("spec.ports[{i}].nodePort"), 0, "range is full")),
                },
            }
        }
        errs
    }

    fn check_port(&self, p: u16, used: &HashSet<u16>) -> Result<(), String> {
        let (lo, hi) = self.node_ports;
        if p < lo || p > hi {
            return Err(format!("provided port is not in the valid range. The range of valid ports is {lo}-{hi}"));
        }
        if used.contains(&p) {
            return Err("provided port is already allocated".into());
        }
        Ok(())
    }

    fn pick_port(&self, used: &HashSet<u16>) -> Option<u16> {
        let (lo, hi) = self.node_ports;
        let mut rng = rand::rng();
        let start = rng.random_range(lo..=hi);
        (start..=hi).chain(lo..start).find(|p| !used.contains(p))
    }
}

/// On update, a client that omits clusterIP or nodePorts keeps what was allocated (as
/// Kubernetes' patchAllocatedValues does), so `kubectl apply` and `replace` don't churn them.
fn keep_allocated(svc: &mut Value, old: &Value) {
    let spec = &mut svc["spec"];
    if spec["clusterIP"].as_str().unwrap_or_default().is_empty() && old["spec"]["type"] != "ExternalName" {
        spec["clusterIP"] = old["spec"]["clusterIP"].clone();
    }
    let old_ports = old.pointer("/spec/ports").and_then(Value::as_array).cloned().unwrap_or_default();
    for port in spec["ports"].as_array_mut().into_iter().flatten() {
        if port.get("nodePort").is_some_and(|p| !p.is_null()) {
            continue;
        }
        let same = old_ports.iter().find(|o| o["port"] == port["port"] && o["protocol"] == port["protocol"]);
        if let Some(np) = same.and_then(|o| o.get("nodePort")).filter(|p| !p.is_null()) {
            port["nodePort"] = np.clone();
        }
    }
}

/// Services that don't get node ports lose any they had (type changed to ClusterIP).
pub fn drop_unwanted_node_ports(svc: &mut Value) {
    let kind = svc["spec"]["type"].as_str().unwrap_or("ClusterIP");
    if kind == "NodePort" || kind == "LoadBalancer" {
        return;
    }
    for port in svc["spec"]["ports"].as_array_mut().into_iter().flatten() {
        if let Value::Object(m) = port {
            m.remove("nodePort");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges() -> ServiceRanges {
        ServiceRanges::new("10.233.0.0/18", (30000, 32767)).expect("ranges")
    }

    #[test]
    fn a_pinned_cluster_ip_in_range_is_honoured_once() {
        let r = ranges();
        let mut svc = json!({"spec": {"clusterIP": "10.233.10.10", "ports": [{"port": 80}]}});
        let mut taken = Taken::default();
        assert!(r.allocate(&mut svc, None, &taken).is_empty());
        assert_eq!(svc["spec"]["clusterIPs"], json!(["10.233.10.10"]));
        taken.add_service(&svc);
        let mut again = json!({"spec": {"clusterIP": "10.233.10.10", "ports": [{"port": 80}]}});
        let errs = r.allocate(&mut again, None, &taken);
        assert_eq!(
            errs[0].message(),
            r#"spec.clusterIPs: Invalid value: ["10.233.10.10"]: failed to allocate IP 10.233.10.10: provided IP is already allocated"#
        );
    }

    #[test]
    fn an_ip_outside_the_service_cidr_is_refused() {
        let mut svc = json!({"spec": {"clusterIP": "10.96.0.10"}});
        let errs = ranges().allocate(&mut svc, None, &Taken::default());
        assert!(errs[0].message().contains("is not in the valid range. The range of valid IPs is 10.233.0.0/18"));
    }

    #[test]
    fn dynamic_ips_avoid_the_static_band() {
        let mut svc = json!({"spec": {"ports": [{"port": 80}]}});
        ranges().allocate(&mut svc, None, &Taken::default());
        let ip: Ipv4Addr = svc["spec"]["clusterIP"].as_str().and_then(|s| s.parse().ok()).expect("ip");
        assert!(u32::from(ip) - u32::from(Ipv4Addr::new(10, 233, 0, 0)) >= 256);
    }

    #[test]
    fn node_ports_are_allocated_for_node_port_services_and_clashes_refused() {
        let r = ranges();
        let mut a = json!({"spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}, {"port": 443}]}});
        assert!(r.allocate(&mut a, None, &Taken::default()).is_empty());
        assert!(a["spec"]["ports"][1]["nodePort"].as_u64().is_some_and(|p| (30000..=32767).contains(&p)));
        let mut taken = Taken::default();
        taken.add_service(&a);
        let mut b = json!({"spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}});
        let errs = r.allocate(&mut b, None, &taken);
        assert_eq!(
            errs[0].message(),
            "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"
        );
        let mut c = json!({"spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 80}]}});
        assert!(r.allocate(&mut c, None, &taken)[0].message().contains("The range of valid ports is 30000-32767"));
    }

    #[test]
    fn an_update_that_omits_allocations_keeps_them() {
        let r = ranges();
        let old = json!({"spec": {"type": "NodePort", "clusterIP": "10.233.5.5", "clusterIPs": ["10.233.5.5"],
                                  "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30001}]}});
        let mut taken = Taken::default();
        taken.add_service(&old);
        let mut new = json!({"spec": {"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP"}]}});
        assert!(r.allocate(&mut new, Some(&old), &taken).is_empty());
        assert_eq!(
            (new["spec"]["clusterIP"].as_str(), new["spec"]["ports"][0]["nodePort"].as_u64()),
            (Some("10.233.5.5"), Some(30001))
        );
    }

    #[test]
    fn headless_and_external_name_services_get_no_address() {
        let r = ranges();
        let mut h = json!({"spec": {"clusterIP": "None"}});
        r.allocate(&mut h, None, &Taken::default());
        assert_eq!(h["spec"]["clusterIPs"], json!(["None"]));
        let mut e = json!({"spec": {"type": "ExternalName", "externalName": "db.external.com"}});
        r.allocate(&mut e, None, &Taken::default());
        assert!(e["spec"].get("clusterIP").is_none());
    }
}
