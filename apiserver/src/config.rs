//! The API server's configuration, as the binary's flags give it.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub bind_address: IpAddr,
    pub https_port: u16,
    /// Extra names and IPs for the serving certificate (`--tls-san`).
    pub tls_sans: Vec<String>,
    pub token: Option<String>,
    pub write_kubeconfig: PathBuf,
    pub write_kubeconfig_mode: u32,
    pub service_cidr: String,
    pub cluster_cidr: String,
    pub cluster_dns: IpAddr,
    pub cluster_domain: String,
    pub service_node_port_range: (u16, u16),
    /// Watch events kept for replay (older resourceVersions get 410 Gone).
    pub watch_history: usize,
}

impl Config {
    /// The `kubernetes` Service's address: the first address of the service CIDR.
    pub fn kubernetes_service_ip(&self) -> Option<Ipv4Addr> {
        let (net, _) = self.service_cidr.split_once('/')?;
        let ip: Ipv4Addr = net.parse().ok()?;
        Some(Ipv4Addr::from(u32::from(ip) + 1))
    }

    /// The address kubeconfigs and discovery point at.
    pub fn advertise_address(&self) -> String {
        let host = match self.bind_address {
            IpAddr::V4(a) if a.is_unspecified() => "127.0.0.1".to_string(),
            IpAddr::V6(a) if a.is_unspecified() => "127.0.0.1".to_string(),
            IpAddr::V6(a) => format!("[{a}]"),
            a => a.to_string(),
        };
        format!("{host}:{}", self.https_port)
    }

    /// Every name the serving certificate must carry.
    pub fn certificate_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            ["localhost", "127.0.0.1", "kubernetes", "kubernetes.default", "kubernetes.default.svc"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        names.push(format!("kubernetes.default.svc.{}", self.cluster_domain));
        if let Some(ip) = self.kubernetes_service_ip() {
            names.push(ip.to_string());
        }
        if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
            names.push(h.trim().to_lowercase());
        }
        for iface in if_addrs::get_if_addrs().unwrap_or_default() {
            names.push(iface.ip().to_string());
        }
        names.extend(self.tls_sans.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        names.retain(|n| !n.is_empty() && seen.insert(n.clone()));
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubernetes_service_ip_is_the_first_of_the_service_cidr() {
        let c = Config {
            data_dir: "/tmp/x".into(),
            bind_address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            https_port: 6443,
            tls_sans: vec![],
            token: None,
            write_kubeconfig: "/tmp/x/k".into(),
            write_kubeconfig_mode: 0o600,
            service_cidr: "10.233.0.0/18".into(),
            cluster_cidr: "10.233.64.0/18".into(),
            cluster_dns: IpAddr::V4(Ipv4Addr::new(10, 233, 0, 3)),
            cluster_domain: "cluster.local".into(),
            service_node_port_range: (30000, 32767),
            watch_history: 100,
        };
        assert_eq!(c.kubernetes_service_ip(), Some(Ipv4Addr::new(10, 233, 0, 1)));
        assert_eq!(c.advertise_address(), "127.0.0.1:6443");
        assert!(c.certificate_names().contains(&"kubernetes.default.svc.cluster.local".to_string()));
    }
}
