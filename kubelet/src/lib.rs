//! The kubelet (not built yet).

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
    pub cluster_dns: std::net::IpAddr,
    pub cluster_domain: String,
    /// Bearer token the API server presents to the kubelet's own HTTPS server (logs, exec).
    pub server_token: String,
}

/// Runs the node until the client's watches end.
pub async fn run(_client: kube::Client, _config: Config) {}
