//! The kubelet: registers the node, keeps its Lease, and runs the pods bound to it in
//! containerd over CRI. [`run`] is the boot script; each module is one job.

pub mod backoff;
mod boot;
pub mod cni;
pub mod container;
pub mod containerd;
pub mod cri;
pub mod env;
pub mod events;
pub mod grpc_probe;
pub mod http_probe;
pub mod images;
pub mod kuberuntime;
pub mod lease;
pub mod logs;
pub mod mounts;
pub mod node_status;
pub mod pleg;
pub mod pod_actions;
pub mod pod_worker;
pub mod probes;
pub mod quantity;
pub mod runtime_pod;
pub mod sandbox;
pub mod server;
pub mod status;
pub mod streaming;
pub mod volumes;

pub use boot::import_images;

use std::net::IpAddr;
use std::path::PathBuf;

/// Settings of the node agent (k3s agent flag names where k3s has one).
#[derive(Clone, Debug)]
pub struct Config {
    pub node_name: String,
    pub data_dir: PathBuf,
    /// An already running containerd's socket; None = minik8s runs its own.
    pub container_runtime_endpoint: Option<PathBuf>,
    pub node_labels: Vec<String>,
    pub node_taints: Vec<String>,
    pub cluster_dns: IpAddr,
    pub cluster_domain: String,
    /// Bearer token the API server presents to the kubelet's own HTTPS server (logs, exec).
    pub server_token: String,
    /// This node runs the control plane (`minik8s server`): label it as k3s labels a server.
    pub control_plane: bool,
    /// The node's InternalIP (`--node-ip`); None = the address of the default route.
    pub node_ip: Option<IpAddr>,
    /// Port of the kubelet's HTTPS API (`--kubelet-port`, 10250).
    pub kubelet_port: u16,
}

impl Config {
    /// Defaults for everything but the node's name and data dir.
    pub fn for_node(node_name: &str, data_dir: PathBuf) -> Config {
        Config {
            node_name: node_name.into(),
            data_dir,
            container_runtime_endpoint: None,
            node_labels: Vec::new(),
            node_taints: Vec::new(),
            cluster_dns: IpAddr::from([10, 233, 0, 3]),
            cluster_domain: "cluster.local".into(),
            server_token: String::new(),
            control_plane: false,
            node_ip: None,
            kubelet_port: 10250,
        }
    }
}

/// Runs the node until the client's watches end. A failed boot step (containerd missing, the
/// API refusing the node) is printed and ends the kubelet; the API server keeps serving.
pub async fn run(client: kube::Client, config: Config) {
    if let Err(e) = boot::run(client, config).await {
        eprintln!("kubelet: {e}");
    }
}
