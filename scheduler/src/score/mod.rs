//! Score plugins: each ranks the feasible nodes for the pod; scores are normalised to 0-100 and
//! weighted as kube-scheduler's defaults.

pub mod balanced_allocation;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_resources_fit;
pub mod pod_topology_spread;
pub mod taint_toleration;

use crate::cache::Snapshot;
use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin};
use crate::node_info::NodeInfo;
use crate::pod_info::PodInfo;

/// One score plugin.
pub trait ScorePlugin: Send + Sync {
    /// Which plugin this is.
    fn plugin(&self) -> Plugin;

    /// Computes per-cycle state; `false` skips the plugin for this pod (every node scores 0).
    fn pre_score(&self, _pod: &PodInfo, _snapshot: &Snapshot, _nodes: &[&NodeInfo], _state: &mut CycleState) -> bool {
        true
    }

    /// The node's raw score.
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64;

    /// Brings raw scores to 0-100.
    fn normalize(&self, _state: &CycleState, _nodes: &[&NodeInfo], _scores: &mut [i64]) {}
}

/// kube-scheduler's default score plugins and weights (ImageLocality left out).
pub fn default_plugins() -> Vec<(Box<dyn ScorePlugin>, i64)> {
    vec![
        (Box::new(taint_toleration::TaintToleration), 3),
        (Box::new(node_affinity::NodeAffinity), 2),
        (Box::new(node_resources_fit::LeastAllocated), 1),
        (Box::new(pod_topology_spread::PodTopologySpread), 2),
        (Box::new(inter_pod_affinity::InterPodAffinity), 2),
        (Box::new(balanced_allocation::BalancedAllocation), 1),
    ]
}

/// kube-scheduler's DefaultNormalizeScore: scale so the highest is 100 (or, reversed, the
/// highest becomes 0); all zero stays 0 (reversed: 100).
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.fill(MAX_NODE_SCORE);
        }
        return;
    }
    for score in scores.iter_mut() {
        let scaled = MAX_NODE_SCORE * *score / max;
        *score = if reverse { MAX_NODE_SCORE - scaled } else { scaled };
    }
}
