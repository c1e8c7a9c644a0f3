//! Node registration and status: capacity from /proc, addresses, nodeInfo, labels and taints,
//! and the Ready condition, written through the nodes/status subresource with merge patches.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{
    DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSpec, NodeStatus, NodeSystemInfo, Taint,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::watcher;

pub const KUBELET_VERSION: &str = "v1.33.0-minik8s";
/// Pods per node, the kubelet's default `--max-pods`.
pub const MAX_PODS: u32 = 110;

/// What the machine is, read once at start.
#[derive(Clone, Debug, PartialEq)]
pub struct Machine {
    pub cpus: usize,
    pub memory_bytes: u64,
    pub storage_bytes: u64,
    pub hostname: String,
    pub internal_ip: IpAddr,
    pub kernel: String,
    pub os_image: String,
    pub machine_id: String,
    pub boot_id: String,
    pub runtime_version: String,
}

fn read_trim(path: &str) -> String {
    std::fs::read_to_string(path).map(|s| s.trim().to_string()).unwrap_or_default()
}

fn cpus() -> usize {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let n = info.lines().filter(|l| l.starts_with("processor")).count();
    n.max(1)
}

/// MemTotal from /proc/meminfo, in bytes.
pub fn parse_meminfo(meminfo: &str) -> u64 {
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// PRETTY_NAME from /etc/os-release ("Debian GNU/Linux 12 (bookworm)").
pub fn parse_os_release(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| "Linux".into())
}

fn storage_bytes(dir: &Path) -> u64 {
    rustix::fs::statvfs(dir).map(|s| s.f_blocks * s.f_frsize).unwrap_or(0)
}

/// The address of the interface holding the default route (no packet is sent), else the first
/// non-loopback address, else loopback.
pub fn primary_ip() -> IpAddr {
    let routed = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("10.255.255.255:9").map(|()| s))
        .and_then(|s| s.local_addr());
    if let Ok(a) = routed
        && !a.ip().is_unspecified()
    {
        return a.ip();
    }
    IpAddr::from([127, 0, 0, 1])
}

impl Machine {
    pub fn probe(data_dir: &Path, node_ip: Option<IpAddr>, runtime_version: String) -> Machine {
        Machine {
            cpus: cpus(),
            memory_bytes: parse_meminfo(&std::fs::read_to_string("/proc/meminfo").unwrap_or_default()),
            storage_bytes: storage_bytes(data_dir),
            hostname: read_trim("/proc/sys/kernel/hostname"),
            internal_ip: node_ip.unwrap_or_else(primary_ip),
            kernel: read_trim("/proc/sys/kernel/osrelease"),
            os_image: parse_os_release(&std::fs::read_to_string("/etc/os-release").unwrap_or_default()),
            machine_id: read_trim("/etc/machine-id"),
            boot_id: read_trim("/proc/sys/kernel/random/boot_id"),
            runtime_version,
        }
    }
}

/// Kubernetes' name for this machine's architecture (GOARCH).
pub fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// `--node-label KEY=VALUE` into a pair.
pub fn parse_label(s: &str) -> Option<(String, String)> {
    let (k, v) = s.split_once('=')?;
    (!k.is_empty()).then(|| (k.to_string(), v.to_string()))
}

/// `--node-taint KEY[=VALUE]:EFFECT` into a Taint.
pub fn parse_taint(s: &str) -> Option<Taint> {
    let (kv, effect) = s.rsplit_once(':')?;
    if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
        return None;
    }
    let (key, value) = match kv.split_once('=') {
        Some((k, v)) => (k, Some(v.to_string())),
        None => (kv, None),
    };
    Some(Taint { key: key.to_string(), value, effect: effect.to_string(), time_added: None })
}

/// The labels the kubelet puts on its node (plus the server-role labels k3s uses).
pub fn labels(config: &crate::Config) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    l.insert("kubernetes.io/hostname".into(), config.node_name.clone());
    l.insert("kubernetes.io/os".into(), "linux".into());
    l.insert("kubernetes.io/arch".into(), arch().into());
    l.insert("beta.kubernetes.io/os".into(), "linux".into());
    l.insert("beta.kubernetes.io/arch".into(), arch().into());
    if config.control_plane {
        l.insert("node-role.kubernetes.io/control-plane".into(), "true".into());
        l.insert("node-role.kubernetes.io/master".into(), "true".into());
    }
    l.extend(config.node_labels.iter().filter_map(|s| parse_label(s)));
    l
}

fn quantities(m: &Machine) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".into(), Quantity(m.cpus.to_string())),
        ("memory".into(), Quantity(format!("{}Ki", m.memory_bytes / 1024))),
        ("ephemeral-storage".into(), Quantity(format!("{}Ki", m.storage_bytes / 1024))),
        ("pods".into(), Quantity(MAX_PODS.to_string())),
        ("hugepages-2Mi".into(), Quantity("0".into())),
    ])
}

fn condition(kind: &str, status: bool, reason: &str, message: &str, now: &Time) -> NodeCondition {
    NodeCondition {
        type_: kind.into(),
        status: if status { "True" } else { "False" }.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_heartbeat_time: Some(now.clone()),
        last_transition_time: Some(now.clone()),
    }
}

/// The four conditions a healthy kubelet reports; Ready waits for the pod network.
pub fn conditions(network_ready: bool, now: &Time) -> Vec<NodeCondition> {
    let ready = if network_ready {
        condition("Ready", true, "KubeletReady", "kubelet is posting ready status", now)
    } else {
        condition(
            "Ready",
            false,
            "KubeletNotReady",
            "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
            now,
        )
    };
    vec![
        condition(
            "MemoryPressure",
            false,
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
            now,
        ),
        condition("DiskPressure", false, "KubeletHasNoDiskPressure", "kubelet has no disk pressure", now),
        condition("PIDPressure", false, "KubeletHasSufficientPID", "kubelet has sufficient PID available", now),
        ready,
    ]
}

/// The node's status from the machine, as `kubectl describe node` shows it.
pub fn status(m: &Machine, port: u16, network_ready: bool, now: &Time) -> NodeStatus {
    NodeStatus {
        capacity: Some(quantities(m)),
        allocatable: Some(quantities(m)),
        addresses: Some(vec![
            NodeAddress { type_: "InternalIP".into(), address: m.internal_ip.to_string() },
            NodeAddress { type_: "Hostname".into(), address: m.hostname.clone() },
        ]),
        conditions: Some(conditions(network_ready, now)),
        daemon_endpoints: Some(NodeDaemonEndpoints { kubelet_endpoint: Some(DaemonEndpoint { port: port.into() }) }),
        node_info: Some(NodeSystemInfo {
            architecture: arch().into(),
            boot_id: m.boot_id.clone(),
            container_runtime_version: m.runtime_version.clone(),
            kernel_version: m.kernel.clone(),
            kube_proxy_version: String::new(),
            kubelet_version: KUBELET_VERSION.into(),
            machine_id: m.machine_id.clone(),
            operating_system: "linux".into(),
            os_image: m.os_image.clone(),
            system_uuid: m.machine_id.clone(),
            swap: None,
        }),
        ..Default::default()
    }
}

/// The Node object the kubelet creates when it registers.
pub fn node(config: &crate::Config) -> Node {
    let taints: Vec<Taint> = config.node_taints.iter().filter_map(|t| parse_taint(t)).collect();
    Node {
        metadata: ObjectMeta {
            name: Some(config.node_name.clone()),
            labels: Some(labels(config)),
            annotations: Some(BTreeMap::from([(
                "volumes.kubernetes.io/controller-managed-attach-detach".into(),
                "true".into(),
            )])),
            ..Default::default()
        },
        spec: Some(NodeSpec { taints: (!taints.is_empty()).then_some(taints), ..Default::default() }),
        status: None,
    }
}

/// Creates the node, or (re-registering) merges our labels into the existing one.
pub async fn register(nodes: &Api<Node>, config: &crate::Config) -> kube::Result<Node> {
    let desired = node(config);
    match nodes.create(&PostParams::default(), &desired).await {
        Ok(n) => Ok(n),
        Err(kube::Error::Api(e)) if e.code == 409 => {
            let patch = serde_json::json!({"metadata": {"labels": desired.metadata.labels}});
            nodes.patch(&config.node_name, &PatchParams::default(), &Patch::Merge(&patch)).await
        }
        Err(e) => Err(e),
    }
}

pub async fn patch_status(nodes: &Api<Node>, name: &str, status: &NodeStatus) -> kube::Result<Node> {
    let patch = serde_json::json!({ "status": status });
    nodes.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await
}

/// The node's spec.podCIDR: at once if set, else the first one the node IPAM controller sets
/// within `wait`; None if none came.
pub async fn wait_for_pod_cidr(nodes: &Api<Node>, node: &Node, wait: Duration) -> Option<String> {
    let cidr = |n: &Node| n.spec.as_ref().and_then(|s| s.pod_cidr.clone()).filter(|c| !c.is_empty());
    if let Some(c) = cidr(node) {
        return Some(c);
    }
    let name = node.metadata.name.clone().unwrap_or_default();
    let cfg = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let stream = watcher::watcher(nodes.clone(), cfg);
    let found = tokio::time::timeout(wait, async {
        let mut stream = std::pin::pin!(stream);
        while let Some(ev) = stream.next().await {
            if let Ok(watcher::Event::Apply(n) | watcher::Event::InitApply(n)) = ev
                && let Some(c) = cidr(&n)
            {
                return Some(c);
            }
        }
        None
    });
    found.await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> crate::Config {
        crate::Config::for_node("n1", "/tmp/x".into())
    }

    #[test]
    fn the_node_is_labelled_with_its_hostname_os_and_arch() {
        let l = labels(&config());
        assert_eq!(l["kubernetes.io/hostname"], "n1");
        assert_eq!(l["kubernetes.io/os"], "linux");
        assert_eq!(l["kubernetes.io/arch"], arch());
    }

    #[test]
    fn a_server_node_carries_the_control_plane_and_master_roles() {
        let mut c = config();
        c.control_plane = true;
        let l = labels(&c);
        assert_eq!(l["node-role.kubernetes.io/control-plane"], "true");
        assert_eq!(l["node-role.kubernetes.io/master"], "true");
    }

    #[test]
    fn node_labels_and_taints_from_flags_are_applied() {
        let mut c = config();
        c.node_labels = vec!["disk=ssd".into()];
        c.node_taints = vec!["dedicated=gpu:NoSchedule".into(), "bad".into()];
        let n = node(&c);
        assert_eq!(n.metadata.labels.unwrap_or_default()["disk"], "ssd");
        let taints = n.spec.and_then(|s| s.taints).unwrap_or_default();
        assert_eq!(taints.len(), 1);
        assert_eq!(taints[0].value.as_deref(), Some("gpu"));
        assert_eq!(taints[0].effect, "NoSchedule");
    }

    #[test]
    fn a_taint_without_value_has_only_key_and_effect() {
        let t = parse_taint("node.kubernetes.io/special:NoExecute").unwrap_or_else(|| panic!("parsed"));
        assert_eq!(t.key, "node.kubernetes.io/special");
        assert_eq!(t.value, None);
    }

    #[test]
    fn memory_is_read_from_meminfo_in_bytes() {
        assert_eq!(parse_meminfo("MemTotal:       24684020 kB\nMemFree: 1 kB"), 24684020 * 1024);
    }

    #[test]
    fn the_os_image_is_the_pretty_name() {
        let t = "NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
        assert_eq!(parse_os_release(t), "Debian GNU/Linux 12 (bookworm)");
    }

    #[test]
    fn status_reports_110_pods_the_kubelet_port_and_ready() {
        let m = Machine {
            cpus: 2,
            memory_bytes: 2048 * 1024,
            storage_bytes: 0,
            hostname: "vm".into(),
            internal_ip: IpAddr::from([10, 0, 0, 2]),
            kernel: "6.1".into(),
            os_image: "Debian".into(),
            machine_id: "m".into(),
            boot_id: "b".into(),
            runtime_version: "containerd://1.6.20".into(),
        };
        let now = Time(jiff::Timestamp::now());
        let s = status(&m, 10250, true, &now);
        let cap = s.capacity.unwrap_or_default();
        assert_eq!(cap["pods"].0, "110");
        assert_eq!(cap["cpu"].0, "2");
        assert_eq!(cap["memory"].0, "2048Ki");
        let port = s.daemon_endpoints.and_then(|d| d.kubelet_endpoint).map(|e| e.port);
        assert_eq!(port, Some(10250));
        let ready = s.conditions.unwrap_or_default().into_iter().find(|c| c.type_ == "Ready");
        assert_eq!(ready.map(|c| c.status), Some("True".into()));
        let info = s.node_info.unwrap_or_default();
        assert_eq!(info.kubelet_version, "v1.33.0-minik8s");
        assert_eq!(info.container_runtime_version, "containerd://1.6.20");
    }
}
