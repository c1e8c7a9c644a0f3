//! InterPodAffinity (required terms): the pod's affinity must find matching pods in the node's
//! domain, its anti-affinity must find none, and no existing pod's anti-affinity may reject it.

use super::{FilterPlugin, PreFilter};
use crate::cache::Snapshot;
use crate::framework::{CycleState, Plugin, Status};
use crate::node_info::NodeInfo;
use crate::pod_info::{AffinityTerm, NamespaceLabels, PodInfo};
use crate::topology::{LabelIndex, NONE};

/// kube-scheduler's reason when an existing pod's anti-affinity rejects the pod.
pub const REASON_EXISTING_ANTI_AFFINITY: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
/// kube-scheduler's reason when the pod's affinity finds no matching pods.
pub const REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// kube-scheduler's reason when the pod's anti-affinity finds matching pods.
pub const REASON_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";

/// Counts (or weights) per topology domain for a few topology keys, kept by the value ids of the
/// snapshot's label columns so no label string is hashed or copied per node.
#[derive(Clone, Debug, Default)]
pub struct TopologyCounts {
    keys: Vec<KeyCounts>,
    added: bool,
}

#[derive(Clone, Debug)]
struct KeyCounts {
    key: String,
    node_domain: Vec<u32>,
    counts: Vec<i64>,
}

impl KeyCounts {
    fn domain(&self, at: usize) -> Option<usize> {
        self.node_domain.get(at).filter(|d| **d != NONE).map(|d| *d as usize)
    }
}

impl TopologyCounts {
    /// Adds `n` to the domain (for `key`) of the node at position `at`; nothing if the node
    /// lacks the label.
    pub fn add(&mut self, index: &LabelIndex, key: &str, at: usize, n: i64) {
        let position = match self.keys.iter().position(|k| k.key == key) {
            Some(p) => p,
            None => {
                let Some(column) = index.column(key) else {
                    return;
                };
                self.keys.push(KeyCounts {
                    key: key.to_string(),
                    node_domain: column.values.clone(),
                    counts: vec![0; column.names.len()],
                });
                self.keys.len() - 1
            }
        };
        let entry = &mut self.keys[position];
        if let Some(domain) = entry.domain(at) {
            entry.counts[domain] += n;
            self.added = true;
        }
    }

    /// The count of the domain (for `key`) of the node at `at`.
    pub fn get(&self, key: &str, at: usize) -> i64 {
        self.keys.iter().find(|k| k.key == key).and_then(|k| k.domain(at).map(|d| k.counts[d])).unwrap_or(0)
    }

    /// The sum over every key of the counts of the node's domains.
    pub fn sum_for(&self, at: usize) -> i64 {
        self.keys.iter().filter_map(|k| k.domain(at).map(|d| k.counts[d])).sum()
    }

    /// Whether any key's domain of the node has a positive count.
    pub fn any_positive(&self, at: usize) -> bool {
        self.keys.iter().any(|k| k.domain(at).is_some_and(|d| k.counts[d] > 0))
    }

    /// True when nothing has been counted.
    pub fn is_empty(&self) -> bool {
        !self.added
    }
}

/// Counts computed once per cycle.
#[derive(Clone, Debug, Default)]
pub struct State {
    existing_anti: TopologyCounts,
    affinity: TopologyCounts,
    anti_affinity: TopologyCounts,
    matches_itself: bool,
}

/// The plugin.
pub struct InterPodAffinity;

impl FilterPlugin for InterPodAffinity {
    fn plugin(&self) -> Plugin {
        Plugin::InterPodAffinity
    }

    fn pre_filter(&self, pod: &PodInfo, snapshot: &Snapshot, state: &mut CycleState) -> Result<PreFilter, Status> {
        let own_terms = !pod.required_affinity.is_empty() || !pod.required_anti_affinity.is_empty();
        if !own_terms && snapshot.pods_with_required_anti_affinity() == 0 {
            return Ok(PreFilter::Skip);
        }
        let namespaces = snapshot.namespaces();
        let index = snapshot.label_index();
        let mut counts =
            State { matches_itself: matches_all(&pod.required_affinity, pod, namespaces), ..State::default() };
        for node in snapshot.nodes() {
            if node.pods_with_required_anti_affinity > 0 {
                count_existing_anti_affinity(pod, node, namespaces, index, &mut counts.existing_anti);
            }
            if own_terms && !node.pods.is_empty() {
                count_own_terms(pod, node, namespaces, index, &mut counts);
            }
        }
        state.affinity = Some(counts);
        Ok(PreFilter::Run)
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
        let Some(counts) = state.affinity.as_ref() else {
            return Ok(());
        };
        if counts.existing_anti.any_positive(node.index) {
            return Err(Status::unschedulable(Plugin::InterPodAffinity, REASON_EXISTING_ANTI_AFFINITY));
        }
        if !satisfies_affinity(pod, counts, node) {
            return Err(Status::unresolvable(Plugin::InterPodAffinity, REASON_AFFINITY));
        }
        let anti_rejects =
            pod.required_anti_affinity.iter().any(|t| counts.anti_affinity.get(&t.topology_key, node.index) > 0);
        if anti_rejects {
            return Err(Status::unschedulable(Plugin::InterPodAffinity, REASON_ANTI_AFFINITY));
        }
        Ok(())
    }
}

/// Domains where an existing pod's required anti-affinity term matches the incoming pod.
fn count_existing_anti_affinity(
    pod: &PodInfo,
    node: &NodeInfo,
    namespaces: &NamespaceLabels,
    index: &LabelIndex,
    out: &mut TopologyCounts,
) {
    for existing in node.pods.iter().filter(|p| !p.required_anti_affinity.is_empty()) {
        for term in existing.required_anti_affinity.iter().filter(|t| t.matches(pod, namespaces)) {
            out.add(index, &term.topology_key, node.index, 1);
        }
    }
}

/// Domains with pods matching the incoming pod's required terms. For affinity a pod counts only
/// if it matches every term; for anti-affinity each term counts on its own (as kube-scheduler).
fn count_own_terms(pod: &PodInfo, node: &NodeInfo, namespaces: &NamespaceLabels, index: &LabelIndex, out: &mut State) {
    for existing in &node.pods {
        if !pod.required_affinity.is_empty() && matches_all(&pod.required_affinity, existing, namespaces) {
            for term in &pod.required_affinity {
                out.affinity.add(index, &term.topology_key, node.index, 1);
            }
        }
        for term in pod.required_anti_affinity.iter().filter(|t| t.matches(existing, namespaces)) {
            out.anti_affinity.add(index, &term.topology_key, node.index, 1);
        }
    }
}

fn matches_all(terms: &[AffinityTerm], pod: &PodInfo, namespaces: &NamespaceLabels) -> bool {
    terms.iter().all(|t| t.matches(pod, namespaces))
}

/// Every affinity term's domain on this node has a matching pod; or no pod anywhere matches and
/// the pod matches its own terms (the first of a group that attracts itself).
fn satisfies_affinity(pod: &PodInfo, counts: &State, node: &NodeInfo) -> bool {
    let mut pods_exist = true;
    for term in &pod.required_affinity {
        if !node.labels().contains_key(&term.topology_key) {
            return false;
        }
        if counts.affinity.get(&term.topology_key, node.index) <= 0 {
            pods_exist = false;
        }
    }
    if pods_exist {
        return true;
    }
    counts.affinity.is_empty() && counts.matches_itself
}
