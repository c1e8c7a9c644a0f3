//! InterPodAffinity scoring: preferred affinity (and existing pods' required affinity, weight 1)
//! adds the term's weight to every node in the matching pod's domain; preferred anti-affinity
//! subtracts it. Scores are scaled min to max.

use super::ScorePlugin;
use crate::cache::Snapshot;
use crate::filter::inter_pod_affinity::TopologyCounts;
use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin};
use crate::node_info::NodeInfo;
use crate::pod_info::{AffinityTerm, NamespaceLabels, PodInfo};
use crate::topology::LabelIndex;

/// The weight of an existing pod's required affinity term (kube-scheduler's
/// hardPodAffinityWeight default).
pub const HARD_POD_AFFINITY_WEIGHT: i64 = 1;

/// Weights per topology domain.
#[derive(Clone, Debug, Default)]
pub struct State {
    weights: TopologyCounts,
}

/// The plugin.
pub struct InterPodAffinity;

impl ScorePlugin for InterPodAffinity {
    fn plugin(&self) -> Plugin {
        Plugin::InterPodAffinity
    }

    fn pre_score(&self, pod: &PodInfo, snapshot: &Snapshot, _: &[&NodeInfo], state: &mut CycleState) -> bool {
        let own = !pod.preferred_affinity.is_empty() || !pod.preferred_anti_affinity.is_empty();
        if !own && snapshot.pods_with_affinity() == 0 {
            return false;
        }
        let namespaces = snapshot.namespaces();
        let index = snapshot.label_index();
        let mut weights = TopologyCounts::default();
        for node in snapshot.nodes() {
            if node.pods.is_empty() || (!own && node.pods_with_affinity == 0) {
                continue;
            }
            for existing in node.pods.iter().filter(|p| own || p.has_affinity()) {
                process_existing(pod, existing, node, namespaces, index, &mut weights);
            }
        }
        if weights.is_empty() {
            return false;
        }
        state.affinity_score = Some(State { weights });
        true
    }

    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> i64 {
        state.affinity_score.as_ref().map_or(0, |s| s.weights.sum_for(node.index))
    }

    fn normalize(&self, _: &CycleState, _: &[&NodeInfo], scores: &mut [i64]) {
        let min = scores.iter().copied().min().unwrap_or(0);
        let max = scores.iter().copied().max().unwrap_or(0);
        let spread = max - min;
        for score in scores.iter_mut() {
            *score = if spread > 0 { MAX_NODE_SCORE * (*score - min) / spread } else { 0 };
        }
    }
}

fn process_existing(
    pod: &PodInfo,
    existing: &PodInfo,
    node: &NodeInfo,
    namespaces: &NamespaceLabels,
    index: &LabelIndex,
    out: &mut TopologyCounts,
) {
    let mut add = |terms: &[AffinityTerm], subject: &PodInfo, weight_of: &dyn Fn(&AffinityTerm) -> i64| {
        for term in terms.iter().filter(|t| t.matches(subject, namespaces)) {
            out.add(index, &term.topology_key, node.index, weight_of(term));
        }
    };
    add(&pod.preferred_affinity, existing, &|t| t.weight);
    add(&pod.preferred_anti_affinity, existing, &|t| -t.weight);
    add(&existing.required_affinity, pod, &|_| HARD_POD_AFFINITY_WEIGHT);
    add(&existing.preferred_affinity, pod, &|t| t.weight);
    add(&existing.preferred_anti_affinity, pod, &|t| -t.weight);
}
