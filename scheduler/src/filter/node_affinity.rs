//! NodeAffinity: nodeSelector and requiredDuringSchedulingIgnoredDuringExecution node affinity.

use super::{FilterPlugin, PreFilter};
use crate::cache::Snapshot;
use crate::framework::{CycleState, Plugin, Status};
use crate::node_info::NodeInfo;
use crate::pod_info::PodInfo;

/// kube-scheduler's reason.
pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";

/// The plugin.
pub struct NodeAffinity;

impl FilterPlugin for NodeAffinity {
    fn plugin(&self) -> Plugin {
        Plugin::NodeAffinity
    }

    fn pre_filter(&self, pod: &PodInfo, _: &Snapshot, _: &mut CycleState) -> Result<PreFilter, Status> {
        Ok(if pod.node_affinity.is_empty() { PreFilter::Skip } else { PreFilter::Run })
    }

    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
        if pod.node_affinity.matches(node.labels(), &node.name) {
            Ok(())
        } else {
            Err(Status::unresolvable(Plugin::NodeAffinity, REASON))
        }
    }
}
