//! NodeResourcesFit scoring, LeastAllocated: nodes with more cpu and memory left after placing
//! the pod score higher (non-zero requests, so pods without requests still count).

use super::ScorePlugin;
use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin};
use crate::node_info::NodeInfo;
use crate::pod_info::PodInfo;

/// The plugin.
pub struct LeastAllocated;

impl ScorePlugin for LeastAllocated {
    fn plugin(&self) -> Plugin {
        Plugin::NodeResourcesFit
    }

    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let cpu = (node.non_zero_milli_cpu + pod.requests.non_zero_milli_cpu, node.allocatable.milli_cpu);
        let memory = (node.non_zero_memory + pod.requests.non_zero_memory, node.allocatable.memory);
        let mut total = 0;
        let mut weights = 0;
        for (requested, allocatable) in [cpu, memory] {
            if allocatable == 0 {
                continue;
            }
            total += least_requested(requested, allocatable);
            weights += 1;
        }
        if weights == 0 { 0 } else { total / weights }
    }
}

/// (capacity - requested) * 100 / capacity, 0 when over capacity.
fn least_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}
