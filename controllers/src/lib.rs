//! The controller manager: each module is one controller, a kube-runtime loop around a plain
//! reconcile function. [`run`] starts them all and returns only when they all stop.

pub mod controller_ref;
pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod endpointslice;
pub mod expectations;
pub mod garbage_collector;
pub mod informer;
pub mod job;
pub mod label_selector;
pub mod namespace;
pub mod node_ipam;
pub mod node_lifecycle;
pub mod pod_control;
pub mod pod_state;
pub mod recorder;
pub mod replicaset;
pub mod resource_discovery;
pub mod revision;
pub mod root_ca_publisher;
pub mod semantic;
pub mod serviceaccount;
pub mod statefulset;
pub mod status_write;
#[cfg(test)]
mod test_support;

use std::time::Duration;

/// Settings of the controller manager (kube-controller-manager's flags, where it has one).
#[derive(Clone, Debug)]
pub struct Config {
    /// Pod CIDR of the cluster, split into one /24 per node (`--cluster-cidr`).
    pub cluster_cidr: String,
    /// A node whose Lease is not renewed for this long is marked NotReady.
    pub node_monitor_grace_period: Duration,
    /// PEM of the cluster CA, published in every namespace as ConfigMap kube-root-ca.crt (none when empty).
    pub root_ca: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cluster_cidr: "10.233.64.0/18".into(),
            node_monitor_grace_period: Duration::from_secs(40),
            root_ca: String::new(),
        }
    }
}

/// Runs every controller until all of them stop.
pub async fn run(client: kube::Client, config: Config) {
    tokio::join!(
        deployment::run(client.clone()),
        replicaset::run(client.clone()),
        daemonset::run(client.clone()),
        statefulset::run(client.clone()),
        job::run(client.clone()),
        cronjob::run(client.clone()),
        endpointslice::run(client.clone()),
        namespace::run(client.clone()),
        garbage_collector::run(client.clone()),
        node_lifecycle::run(client.clone(), config.clone()),
        serviceaccount::run(client, config),
    );
}
