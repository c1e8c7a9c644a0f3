//! NodeAffinity scoring: the sum of the weights of the preferred terms the node matches.

use super::{ScorePlugin, default_normalize};
use crate::cache::Snapshot;
use crate::framework::{CycleState, Plugin};
use crate::node_info::NodeInfo;
use crate::pod_info::PodInfo;

/// The plugin.
pub struct NodeAffinity;

impl ScorePlugin for NodeAffinity {
    fn plugin(&self) -> Plugin {
        Plugin::NodeAffinity
    }

    fn pre_score(&self, pod: &PodInfo, _: &Snapshot, _: &[&NodeInfo], _: &mut CycleState) -> bool {
        !pod.preferred_node_affinity.is_empty()
    }

    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        pod.preferred_node_affinity
            .iter()
            .filter(|(_, term)| term.matches(node.labels(), &node.name))
            .map(|(weight, _)| weight)
            .sum()
    }

    fn normalize(&self, _: &CycleState, _: &[&NodeInfo], scores: &mut [i64]) {
        default_normalize(scores, false);
    }
}
