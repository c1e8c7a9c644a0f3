//! NodeResourcesBalancedAllocation: nodes whose cpu and memory would be used in similar fractions
//! score higher: (1 - standard deviation of the fractions) * 100.

use super::ScorePlugin;
use crate::cache::Snapshot;
use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin};
use crate::node_info::NodeInfo;
use crate::pod_info::PodInfo;

/// The plugin.
pub struct BalancedAllocation;

impl ScorePlugin for BalancedAllocation {
    fn plugin(&self) -> Plugin {
        Plugin::NodeResourcesBalancedAllocation
    }

    /// Best-effort pods (no cpu or memory requests) are not scored, as since Kubernetes 1.33.
    fn pre_score(&self, pod: &PodInfo, _: &Snapshot, _: &[&NodeInfo], _: &mut CycleState) -> bool {
        let r = &pod.requests.requests;
        r.milli_cpu != 0 || r.memory != 0
    }

    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let want = &pod.requests.requests;
        let cpu = (node.requested.milli_cpu + want.milli_cpu, node.allocatable.milli_cpu);
        let memory = (node.requested.memory + want.memory, node.allocatable.memory);
        let fractions: Vec<f64> = [cpu, memory]
            .into_iter()
            .filter(|(_, allocatable)| *allocatable != 0)
            .map(|(requested, allocatable)| (requested as f64 / allocatable as f64).min(1.0))
            .collect();
        let deviation = match fractions.as_slice() {
            [a, b] => ((a - b) / 2.0).abs(),
            _ => 0.0,
        };
        ((1.0 - deviation) * MAX_NODE_SCORE as f64) as i64
    }
}
