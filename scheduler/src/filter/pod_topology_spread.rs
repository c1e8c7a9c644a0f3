//! PodTopologySpread (DoNotSchedule): placing the pod must not make any constraint's skew (its
//! domain's matching pods minus the emptiest domain's) exceed maxSkew.

use super::taint_toleration::tolerates_node;
use super::{FilterPlugin, PreFilter};
use crate::cache::Snapshot;
use crate::framework::{CycleState, Plugin, Status};
use crate::node_info::NodeInfo;
use crate::pod_info::{PodInfo, SpreadConstraint};
use crate::selector::Selector;
use crate::topology::{Column, NONE};

/// kube-scheduler's reason when the skew would be exceeded.
pub const REASON: &str = "node(s) didn't match pod topology spread constraints";
/// kube-scheduler's reason when the node lacks a topology key.
pub const REASON_MISSING_LABEL: &str = "node(s) didn't match pod topology spread constraints (missing required label)";

/// Matching pods per domain for each DoNotSchedule constraint.
#[derive(Clone, Debug)]
pub struct State {
    constraints: Vec<Counted>,
}

#[derive(Clone, Debug)]
struct Counted {
    constraint: SpreadConstraint,
    self_match: i64,
    /// The domain (value id) of each node by position; empty when no node has the key.
    node_domain: Vec<u32>,
    /// Matching pods per domain id.
    counts: Vec<i64>,
    /// The global minimum over the eligible domains (0 below minDomains).
    min: i64,
}

/// The plugin.
pub struct PodTopologySpread;

impl FilterPlugin for PodTopologySpread {
    fn plugin(&self) -> Plugin {
        Plugin::PodTopologySpread
    }

    fn pre_filter(&self, pod: &PodInfo, snapshot: &Snapshot, state: &mut CycleState) -> Result<PreFilter, Status> {
        let hard: Vec<&SpreadConstraint> = pod.spread.iter().filter(|c| c.hard).collect();
        if hard.is_empty() {
            return Ok(PreFilter::Skip);
        }
        let columns: Vec<Option<&Column>> =
            hard.iter().map(|c| snapshot.label_index().column(&c.topology_key)).collect();
        let mut counted: Vec<Counted> = hard
            .iter()
            .zip(&columns)
            .map(|(c, column)| Counted {
                constraint: (*c).clone(),
                self_match: i64::from(c.selector.matches(pod.labels())),
                node_domain: column.map(|col| col.values.clone()).unwrap_or_default(),
                counts: vec![0; column.map_or(0, |col| col.names.len())],
                min: 0,
            })
            .collect();
        let mut present: Vec<Vec<bool>> = counted.iter().map(|c| vec![false; c.counts.len()]).collect();
        if counted.iter().all(|c| !c.node_domain.is_empty()) {
            for (i, node) in snapshot.nodes().iter().enumerate() {
                if counted.iter().any(|c| c.node_domain[i] == NONE) {
                    continue;
                }
                for (entry, present) in counted.iter_mut().zip(present.iter_mut()) {
                    if !counts_node(pod, &entry.constraint, node) {
                        continue;
                    }
                    let domain = entry.node_domain[i] as usize;
                    present[domain] = true;
                    entry.counts[domain] += count_matching(&entry.constraint.selector, &pod.namespace, node);
                }
            }
        }
        for (entry, present) in counted.iter_mut().zip(&present) {
            let eligible: Vec<i64> = entry.counts.iter().zip(present).filter(|(_, p)| **p).map(|(n, _)| *n).collect();
            let domains = i64::try_from(eligible.len()).unwrap_or(i64::MAX);
            entry.min = if domains < entry.constraint.min_domains {
                0
            } else {
                eligible.iter().copied().min().unwrap_or(i64::from(i32::MAX))
            };
        }
        state.spread = Some(State { constraints: counted });
        Ok(PreFilter::Run)
    }

    fn filter(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
        let Some(spread) = state.spread.as_ref() else {
            return Ok(());
        };
        let domain = |entry: &Counted| entry.node_domain.get(node.index).copied().unwrap_or(NONE);
        if spread.constraints.iter().any(|c| domain(c) == NONE) {
            return Err(Status::unresolvable(Plugin::PodTopologySpread, REASON_MISSING_LABEL));
        }
        for entry in &spread.constraints {
            let matching = entry.counts.get(domain(entry) as usize).copied().unwrap_or(0);
            let skew = matching + entry.self_match - entry.min;
            if skew > entry.constraint.max_skew {
                return Err(Status::unschedulable(Plugin::PodTopologySpread, REASON));
            }
        }
        Ok(())
    }
}

/// Whether the node's pods count for the constraint: nodeAffinityPolicy Honor counts only nodes
/// the pod's node affinity allows; nodeTaintsPolicy Honor only nodes whose taints it tolerates.
pub fn counts_node(pod: &PodInfo, constraint: &SpreadConstraint, node: &NodeInfo) -> bool {
    (!constraint.honor_node_affinity
        || pod.node_affinity.is_empty()
        || pod.node_affinity.matches(node.labels(), &node.name))
        && (!constraint.honor_taints || tolerates_node(pod, node))
}

/// Pods on the node in `namespace`, not terminating, matching `selector`. An empty selector
/// counts none (as kube-scheduler's countPodsMatchSelector).
pub fn count_matching(selector: &Selector, namespace: &str, node: &NodeInfo) -> i64 {
    if matches!(selector, Selector::All(r) if r.is_empty()) || selector.is_nothing() {
        return 0;
    }
    let n = node
        .pods
        .iter()
        .filter(|p| !p.terminating() && p.namespace == namespace && selector.matches(p.labels()))
        .count();
    i64::try_from(n).unwrap_or(i64::MAX)
}
