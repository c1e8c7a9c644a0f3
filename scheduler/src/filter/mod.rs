//! Filter plugins: each says whether one node can take the pod, and why not.

pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_ports;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod taint_toleration;
pub mod volume_binding;

use crate::cache::Snapshot;
use crate::framework::{CycleState, Plugin, Status};
use crate::node_info::NodeInfo;
use crate::pod_info::PodInfo;

/// What a pre-filter decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreFilter {
    /// Run this plugin's filter on each node.
    Run,
    /// The pod asks nothing of this plugin; every node passes.
    Skip,
}

/// One filter plugin.
pub trait FilterPlugin: Send + Sync {
    /// Which plugin this is.
    fn plugin(&self) -> Plugin;

    /// Computes per-cycle state once; an error rejects the pod for every node.
    fn pre_filter(&self, _pod: &PodInfo, _snapshot: &Snapshot, _state: &mut CycleState) -> Result<PreFilter, Status> {
        Ok(PreFilter::Run)
    }

    /// Whether the node can take the pod.
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<(), Status>;
}

/// kube-scheduler's default filters, in its order.
pub fn default_plugins() -> Vec<Box<dyn FilterPlugin>> {
    vec![
        Box::new(node_unschedulable::NodeUnschedulable),
        Box::new(taint_toleration::TaintToleration),
        Box::new(node_affinity::NodeAffinity),
        Box::new(node_ports::NodePorts),
        Box::new(node_resources_fit::NodeResourcesFit),
        Box::new(volume_binding::VolumeBinding),
        Box::new(pod_topology_spread::PodTopologySpread),
        Box::new(inter_pod_affinity::InterPodAffinity),
    ]
}
