//! The controller manager: each module is one controller, a kube-runtime loop around a plain
//! reconcile function. [`run`] starts them all and returns only when they all stop.

pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod endpointslice;
pub mod garbage_collector;
pub mod job;
pub mod namespace;
pub mod node_lifecycle;
pub mod replicaset;
pub mod serviceaccount;
pub mod statefulset;

use std::time::Duration;

/// Settings of the controller manager (kube-controller-manager's flags, where it has one).
#[derive(Clone, Debug)]
pub struct Config {
    /// Pod CIDR of the cluster, split into one /24 per node (`--cluster-cidr`).
    pub cluster_cidr: String,
    /// A node whose Lease is not renewed for this long is marked NotReady.
    pub node_monitor_grace_period: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cluster_cidr: "10.233.64.0/18".into(),
            node_monitor_grace_period: Duration::from_secs(40),
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
        serviceaccount::run(client),
    );
}
