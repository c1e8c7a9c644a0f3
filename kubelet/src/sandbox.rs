//! The pod's sandbox as CRI's RunPodSandbox wants it (the kubelet's generatePodSandboxConfig):
//! metadata and labels, hostname, DNS, namespaces, port mappings, log directory, cgroup parent.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;

use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{Pod, PodSpec};

use crate::runtime_pod::{LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID};

/// Where the kubelet keeps container logs (CRI's log_directory), as Kubernetes does.
pub const POD_LOGS_ROOT: &str = "/var/log/pods";

/// Node-wide settings every sandbox uses.
#[derive(Clone, Debug)]
pub struct Settings {
    pub cluster_dns: IpAddr,
    pub cluster_domain: String,
    /// The host's /etc/resolv.conf, for dnsPolicy Default and hostNetwork pods.
    pub host_resolv: String,
}

fn meta(pod: &Pod) -> (&str, &str, &str) {
    let m = &pod.metadata;
    (
        m.namespace.as_deref().unwrap_or("default"),
        m.name.as_deref().unwrap_or_default(),
        m.uid.as_deref().unwrap_or_default(),
    )
}

pub fn spec(pod: &Pod) -> PodSpec {
    pod.spec.clone().unwrap_or_default()
}

/// /var/log/pods/<namespace>_<name>_<uid>
pub fn log_directory(pod: &Pod) -> PathBuf {
    let (ns, name, uid) = meta(pod);
    PathBuf::from(POD_LOGS_ROOT).join(format!("{ns}_{name}_{uid}"))
}

/// The labels that tie runtime objects back to the pod.
pub fn pod_labels(pod: &Pod) -> HashMap<String, String> {
    let (ns, name, uid) = meta(pod);
    let mut l: HashMap<String, String> = pod.metadata.labels.clone().unwrap_or_default().into_iter().collect();
    l.insert(LABEL_POD_NAME.into(), name.into());
    l.insert(LABEL_POD_NAMESPACE.into(), ns.into());
    l.insert(LABEL_POD_UID.into(), uid.into());
    l
}

/// A pod's hostname: spec.hostname, else its name, cut to 63 characters (a DNS label).
pub fn hostname(pod: &Pod) -> String {
    let s = spec(pod);
    let name = s.hostname.clone().unwrap_or_else(|| meta(pod).1.to_string());
    name.chars().take(63).collect::<String>().trim_end_matches(['-', '.']).to_string()
}

fn resolv_field<'a>(resolv: &'a str, key: &str) -> Vec<&'a str> {
    resolv
        .lines()
        .filter_map(|l| l.trim().strip_prefix(key))
        .filter(|rest| rest.starts_with([' ', '\t']))
        .flat_map(|rest| rest.split_whitespace())
        .collect()
}

fn host_dns(resolv: &str) -> cri::DnsConfig {
    let own = |v: Vec<&str>| v.into_iter().map(String::from).collect::<Vec<_>>();
    cri::DnsConfig {
        servers: own(resolv_field(resolv, "nameserver")),
        searches: own(resolv_field(resolv, "search")),
        options: own(resolv_field(resolv, "options")),
    }
}

/// DNS per dnsPolicy: ClusterFirst points at the cluster DNS and searches the pod's namespace
/// first, then `svc.<domain>`, `<domain>`, then the host's own search path; ndots:5.
pub fn dns_config(pod: &Pod, settings: &Settings) -> cri::DnsConfig {
    let s = spec(pod);
    let host_network = s.host_network.unwrap_or(false);
    let policy = s.dns_policy.as_deref().unwrap_or("ClusterFirst");
    let mut dns = match policy {
        "None" => cri::DnsConfig::default(),
        "Default" => host_dns(&settings.host_resolv),
        "ClusterFirst" if host_network => host_dns(&settings.host_resolv),
        _ => cluster_dns(meta(pod).0, settings),
    };
    if let Some(extra) = s.dns_config {
        dns.servers.extend(extra.nameservers.unwrap_or_default());
        dns.searches.extend(extra.searches.unwrap_or_default());
        for o in extra.options.unwrap_or_default() {
            let name = o.name.unwrap_or_default();
            dns.options.retain(|x| x.split(':').next() != Some(name.as_str()));
            dns.options.push(match o.value {
                Some(v) => format!("{name}:{v}"),
                None => name,
            });
        }
    }
    dns.searches.dedup();
    dns
}

fn cluster_dns(namespace: &str, settings: &Settings) -> cri::DnsConfig {
    let d = &settings.cluster_domain;
    let mut searches = vec![format!("{namespace}.svc.{d}"), format!("svc.{d}"), d.clone()];
    for s in resolv_field(&settings.host_resolv, "search") {
        if !searches.iter().any(|x| x == s) {
            searches.push(s.to_string());
        }
    }
    cri::DnsConfig { servers: vec![settings.cluster_dns.to_string()], searches, options: vec!["ndots:5".into()] }
}

fn protocol(p: Option<&str>) -> i32 {
    match p {
        Some("UDP") => cri::Protocol::Udp as i32,
        Some("SCTP") => cri::Protocol::Sctp as i32,
        _ => cri::Protocol::Tcp as i32,
    }
}

/// hostPort mappings of every container port that asks for one (portmap does the NAT).
pub fn port_mappings(pod: &Pod) -> Vec<cri::PortMapping> {
    let s = spec(pod);
    let ports = s.containers.iter().flat_map(|c| c.ports.clone().unwrap_or_default());
    ports
        .filter(|p| p.host_port.unwrap_or(0) > 0)
        .map(|p| cri::PortMapping {
            protocol: protocol(p.protocol.as_deref()),
            container_port: p.container_port,
            host_port: p.host_port.unwrap_or(0),
            host_ip: p.host_ip.unwrap_or_default(),
        })
        .collect()
}

/// The namespaces a pod shares with the node (hostNetwork, hostPID, hostIPC) or within itself.
pub fn namespace_options(pod: &Pod) -> cri::NamespaceOption {
    let s = spec(pod);
    let node = cri::NamespaceMode::Node as i32;
    let pick =
        |host: Option<bool>, otherwise: cri::NamespaceMode| if host.unwrap_or(false) { node } else { otherwise as i32 };
    let shared_pid = s.share_process_namespace.unwrap_or(false);
    cri::NamespaceOption {
        network: pick(s.host_network, cri::NamespaceMode::Pod),
        pid: pick(s.host_pid, if shared_pid { cri::NamespaceMode::Pod } else { cri::NamespaceMode::Container }),
        ipc: pick(s.host_ipc, cri::NamespaceMode::Pod),
        ..Default::default()
    }
}

/// The pod's cgroup under the cgroupfs driver: /kubepods[/burstable|/besteffort]/pod<uid>.
pub fn cgroup_parent(pod: &Pod) -> String {
    let uid = meta(pod).2;
    let class =
        pod.status.as_ref().and_then(|s| s.qos_class.clone()).unwrap_or_else(|| crate::status::qos_class(pod).into());
    match class.as_str() {
        "Guaranteed" => format!("/kubepods/pod{uid}"),
        "Burstable" => format!("/kubepods/burstable/pod{uid}"),
        _ => format!("/kubepods/besteffort/pod{uid}"),
    }
}

/// seccomp from a securityContext's seccompProfile (absent: Unconfined, Kubernetes' default).
pub fn seccomp(profile: Option<&k8s_openapi::api::core::v1::SeccompProfile>) -> Option<cri::SecurityProfile> {
    let p = profile?;
    let kind = match p.type_.as_str() {
        "RuntimeDefault" => cri::security_profile::ProfileType::RuntimeDefault,
        "Localhost" => cri::security_profile::ProfileType::Localhost,
        _ => cri::security_profile::ProfileType::Unconfined,
    };
    Some(cri::SecurityProfile {
        profile_type: kind as i32,
        localhost_ref: p.localhost_profile.clone().unwrap_or_default(),
    })
}

fn security_context(pod: &Pod) -> cri::LinuxSandboxSecurityContext {
    let s = spec(pod);
    let psc = s.security_context.clone().unwrap_or_default();
    let privileged = s
        .containers
        .iter()
        .chain(s.init_containers.iter().flatten())
        .any(|c| c.security_context.as_ref().and_then(|sc| sc.privileged).unwrap_or(false));
    cri::LinuxSandboxSecurityContext {
        namespace_options: Some(namespace_options(pod)),
        run_as_user: psc.run_as_user.map(|value| cri::Int64Value { value }),
        run_as_group: psc.run_as_group.map(|value| cri::Int64Value { value }),
        supplemental_groups: psc.supplemental_groups.clone().unwrap_or_default(),
        privileged,
        seccomp: seccomp(psc.seccomp_profile.as_ref()),
        ..Default::default()
    }
}

/// The whole RunPodSandbox config for one attempt.
pub fn config(pod: &Pod, attempt: u32, settings: &Settings) -> cri::PodSandboxConfig {
    let (ns, name, uid) = meta(pod);
    let s = spec(pod);
    let host_network = s.host_network.unwrap_or(false);
    let sysctls = s.security_context.as_ref().and_then(|c| c.sysctls.clone()).unwrap_or_default();
    cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata { name: name.into(), uid: uid.into(), namespace: ns.into(), attempt }),
        // A hostNetwork sandbox has no UTS namespace of its own: setting a hostname fails.
        hostname: if host_network { String::new() } else { hostname(pod) },
        log_directory: log_directory(pod).to_string_lossy().into_owned(),
        dns_config: Some(dns_config(pod, settings)),
        port_mappings: port_mappings(pod),
        labels: pod_labels(pod),
        annotations: pod.metadata.annotations.clone().unwrap_or_default().into_iter().collect(),
        linux: Some(cri::LinuxPodSandboxConfig {
            cgroup_parent: cgroup_parent(pod),
            security_context: Some(security_context(pod)),
            sysctls: sysctls.into_iter().map(|s| (s.name, s.value)).collect(),
            ..Default::default()
        }),
        windows: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(yaml: serde_json::Value) -> Pod {
        serde_json::from_value(yaml).unwrap_or_else(|e| panic!("{e}"))
    }

    fn settings() -> Settings {
        Settings {
            cluster_dns: IpAddr::from([10, 233, 0, 3]),
            cluster_domain: "cluster.local".into(),
            host_resolv: "nameserver 192.168.1.1\nsearch corp.example\n".into(),
        }
    }

    fn bb() -> Pod {
        pod(
            serde_json::json!({"metadata": {"name": "bb", "namespace": "web", "uid": "u1"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
        )
    }

    #[test]
    fn the_dns_config_searches_the_pod_namespace_first() {
        let dns = dns_config(&bb(), &settings());
        assert_eq!(dns.servers, ["10.233.0.3"]);
        assert_eq!(dns.searches, ["web.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"]);
        assert_eq!(dns.options, ["ndots:5"]);
    }

    #[test]
    fn a_host_network_pod_uses_the_hosts_dns_and_sets_no_hostname() {
        let p = pod(
            serde_json::json!({"metadata": {"name": "h", "uid": "u"}, "spec": {"hostNetwork": true, "containers": [{"name": "c"}]}}),
        );
        let c = config(&p, 0, &settings());
        assert_eq!(c.hostname, "");
        assert_eq!(c.dns_config.unwrap_or_default().servers, ["192.168.1.1"]);
        let ns = namespace_options(&p);
        assert_eq!(ns.network, cri::NamespaceMode::Node as i32);
    }

    #[test]
    fn dns_config_options_override_the_defaults() {
        let p = pod(
            serde_json::json!({"metadata": {"name": "d"}, "spec": {"dnsConfig": {"options": [{"name": "ndots", "value": "2"}], "searches": ["x.y"]}, "containers": [{"name": "c"}]}}),
        );
        let dns = dns_config(&p, &settings());
        assert_eq!(dns.options, ["ndots:2"]);
        assert!(dns.searches.contains(&"x.y".to_string()));
    }

    #[test]
    fn a_host_port_becomes_a_port_mapping() {
        let p = pod(
            serde_json::json!({"metadata": {"name": "w"}, "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81}]}]}}),
        );
        let m = port_mappings(&p);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].container_port, m[0].host_port), (80, 8080));
    }

    #[test]
    fn logs_go_under_var_log_pods_by_namespace_name_and_uid() {
        assert_eq!(log_directory(&bb()), PathBuf::from("/var/log/pods/web_bb_u1"));
        let c = config(&bb(), 2, &settings());
        assert_eq!(c.metadata.map(|m| m.attempt), Some(2));
        assert_eq!(c.labels["io.kubernetes.pod.uid"], "u1");
        assert_eq!(c.hostname, "bb");
    }

    #[test]
    fn a_best_effort_pod_lives_in_the_besteffort_cgroup() {
        assert_eq!(cgroup_parent(&bb()), "/kubepods/besteffort/podu1");
    }
}
