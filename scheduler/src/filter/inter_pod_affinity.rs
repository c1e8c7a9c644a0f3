//! InterPodAffinity (required terms): the pod's affinity must find matching pods in the node's
//! domain, its anti-affinity must find none, and no existing pod's anti-affinity may reject it.

use ahash::AHashMap;

use super::{FilterPlugin, PreFilter};
use crate::cache::Snapshot;
use crate::framework::{CycleState, Plugin, Status};
use crate::node_info::NodeInfo;
use crate::pod_info::{AffinityTerm, NamespaceLabels, PodInfo};

/// kube-scheduler's reason when an existing pod's anti-affinity rejects the pod.
pub const REASON_EXISTING_ANTI_AFFINITY: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
/// kube-scheduler's reason when the pod's affinity finds no matching pods.
pub const REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// kube-scheduler's reason when the pod's anti-affinity finds matching pods.
pub const REASON_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";

/// Counts (or weights) per topology domain: key, then value.
#[derive(Clone, Debug, Default)]
pub struct TopologyCounts(AHashMap<String, AHashMap<String, i64>>);

impl TopologyCounts {
    /// Adds `n` to the domain `key=value`.
    pub fn add(&mut self, key: &str, value: &str, n: i64) {
        if !self.0.contains_key(key) {
            self.0.insert(key.to_string(), AHashMap::new());
        }
        let Some(values) = self.0.get_mut(key) else {
            return;
        };
        match values.get_mut(value) {
            Some(count) => *count += n,
            None => {
                values.insert(value.to_string(), n);
            }
        }
    }

    /// The count of the domain `key=value`.
    pub fn get(&self, key: &str, value: &str) -> i64 {
        self.0.get(key).and_then(|v| v.get(value)).copied().unwrap_or(0)
    }

    /// True when no domain has been counted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every topology key counted, with its domains.
    pub fn keys(&self) -> impl Iterator<Item = (&String, &AHashMap<String, i64>)> {
        self.0.iter()
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
        let mut counts = State {
            matches_itself: matches_all(&pod.required_affinity, pod, namespaces),
            ..State::default()
        };
        for node in snapshot.nodes() {
            if node.pods_with_required_anti_affinity > 0 {
                count_existing_anti_affinity(pod, node, namespaces, &mut counts.existing_anti);
            }
            if own_terms {
                count_own_terms(pod, node, namespaces, &mut counts);
            }
        }
        state.affinity = Some(counts);
        Ok(PreFilter::Run)
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
        let Some(counts) = state.affinity.as_ref() else {
            return Ok(());
        };
        let labels = node.labels();
        let existing_rejects = counts
            .existing_anti
            .keys()
            .any(|(key, values)| labels.get(key).is_some_and(|v| values.get(v).is_some_and(|n| *n > 0)));
        if existing_rejects {
            return Err(Status::unschedulable(Plugin::InterPodAffinity, REASON_EXISTING_ANTI_AFFINITY));
        }
        if !satisfies_affinity(pod, counts, node) {
            return Err(Status::unresolvable(Plugin::InterPodAffinity, REASON_AFFINITY));
        }
        let anti_rejects = pod.required_anti_affinity.iter().any(|t| {
            labels.get(&t.topology_key).is_some_and(|v| counts.anti_affinity.get(&t.topology_key, v) > 0)
        });
        if anti_rejects {
            return Err(Status::unschedulable(Plugin::InterPodAffinity, REASON_ANTI_AFFINITY));
        }
        Ok(())
    }
}

/// Domains where an existing pod's required anti-affinity term matches the incoming pod.
fn count_existing_anti_affinity(pod: &PodInfo, node: &NodeInfo, namespaces: &NamespaceLabels, out: &mut TopologyCounts) {
    for existing in node.pods.iter().filter(|p| !p.required_anti_affinity.is_empty()) {
        for term in &existing.required_anti_affinity {
            if let Some(value) = node.labels().get(&term.topology_key)
                && term.matches(pod, namespaces)
            {
                out.add(&term.topology_key, value, 1);
            }
        }
    }
}

/// Domains with pods matching the incoming pod's required terms. For affinity a pod counts only
/// if it matches every term; for anti-affinity each term counts on its own (as kube-scheduler).
fn count_own_terms(pod: &PodInfo, node: &NodeInfo, namespaces: &NamespaceLabels, out: &mut State) {
    let labels = node.labels();
    for existing in &node.pods {
        if !pod.required_affinity.is_empty() && matches_all(&pod.required_affinity, existing, namespaces) {
            for term in &pod.required_affinity {
                if let Some(value) = labels.get(&term.topology_key) {
                    out.affinity.add(&term.topology_key, value, 1);
                }
            }
        }
        for term in &pod.required_anti_affinity {
            if let Some(value) = labels.get(&term.topology_key)
                && term.matches(existing, namespaces)
            {
                out.anti_affinity.add(&term.topology_key, value, 1);
            }
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
        match node.labels().get(&term.topology_key) {
            Some(value) => {
                if counts.affinity.get(&term.topology_key, value) <= 0 {
                    pods_exist = false;
                }
            }
            None => return false,
        }
    }
    if pods_exist {
        return true;
    }
    counts.affinity.is_empty() && counts.matches_itself
}
