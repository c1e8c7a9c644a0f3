//! PodTopologySpread scoring (ScheduleAnyway, or the system defaults for pods with none): nodes in
//! domains with fewer matching pods score higher.

use super::ScorePlugin;
use crate::cache::Snapshot;
use crate::filter::pod_topology_spread::{count_matching, counts_node};
use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin};
use crate::node_info::NodeInfo;
use crate::pod_info::{PodInfo, SpreadConstraint};
use crate::selector::Selector;
use crate::topology::NONE;

const HOSTNAME: &str = "kubernetes.io/hostname";
const ZONE: &str = "topology.kubernetes.io/zone";

/// Which pods a constraint counts.
#[derive(Clone, Debug)]
enum Matcher {
    Selector(Selector),
    /// The system default constraints count the pods of the same controller. kube-scheduler
    /// derives this selector from the Services, ReplicaSets, StatefulSets and
    /// ReplicationControllers selecting the pod; here the controller ownerReference stands in.
    Controller(String),
}

#[derive(Clone, Debug)]
struct Scored {
    constraint: SpreadConstraint,
    matcher: Matcher,
    /// The domain of each node by position (empty for hostname, counted per node).
    node_domain: Vec<u32>,
    /// Matching pods per domain id; `None` for domains no feasible node is in.
    counts: Vec<Option<i64>>,
    weight: f64,
}

/// Counts per domain for the soft constraints.
#[derive(Clone, Debug, Default)]
pub struct State {
    constraints: Vec<Scored>,
    /// By node position: lacks a key the pod's own constraints need.
    ignored: Vec<bool>,
}

/// The plugin.
pub struct PodTopologySpread;

impl ScorePlugin for PodTopologySpread {
    fn plugin(&self) -> Plugin {
        Plugin::PodTopologySpread
    }

    fn pre_score(&self, pod: &PodInfo, snapshot: &Snapshot, nodes: &[&NodeInfo], state: &mut CycleState) -> bool {
        let (mut scored, require_all) = constraints(pod);
        if scored.is_empty() || nodes.is_empty() {
            return false;
        }
        let index = snapshot.label_index();
        for s in scored.iter_mut().filter(|s| s.constraint.topology_key != HOSTNAME) {
            if let Some(column) = index.column(&s.constraint.topology_key) {
                s.node_domain = column.values.clone();
                s.counts = vec![None; column.names.len()];
            }
        }
        let keys: Vec<Option<&[u32]>> =
            scored.iter().map(|s| index.column(&s.constraint.topology_key).map(|c| c.values.as_slice())).collect();
        let has_all_keys = |at: usize| keys.iter().all(|k| k.is_some_and(|values| values[at] != NONE));
        let mut ignored = vec![false; snapshot.nodes().len()];
        let mut considered = 0;
        for node in nodes {
            if require_all && !has_all_keys(node.index) {
                ignored[node.index] = true;
                continue;
            }
            considered += 1;
            for s in scored.iter_mut() {
                if let Some(domain) = s.node_domain.get(node.index).filter(|d| **d != NONE) {
                    s.counts[*domain as usize].get_or_insert(0);
                }
            }
        }
        let domain_sizes: Vec<usize> = scored
            .iter()
            .map(|s| if s.constraint.topology_key == HOSTNAME { considered } else { s.counts.iter().flatten().count() })
            .collect();
        if scored.iter().any(|s| s.counts.iter().any(Option::is_some)) {
            for (at, node) in snapshot.nodes().iter().enumerate() {
                if require_all && !has_all_keys(at) {
                    continue;
                }
                for s in scored.iter_mut() {
                    let Some(domain) = s.node_domain.get(at).filter(|d| **d != NONE).map(|d| *d as usize) else {
                        continue;
                    };
                    if s.counts[domain].is_none() || !counts_node(pod, &s.constraint, node) {
                        continue;
                    }
                    let n = count_pods(&s.matcher, &pod.namespace, node);
                    if let Some(count) = s.counts[domain].as_mut() {
                        *count += n;
                    }
                }
            }
        }
        for (s, size) in scored.iter_mut().zip(domain_sizes) {
            s.weight = ((size + 2) as f64).ln();
        }
        state.spread_score = Some(State { constraints: scored, ignored });
        true
    }

    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(spread) = state.spread_score.as_ref() else {
            return 0;
        };
        if spread.ignored.get(node.index).copied().unwrap_or(false) {
            return 0;
        }
        let mut score = 0.0;
        for s in &spread.constraints {
            let count = if s.constraint.topology_key == HOSTNAME {
                if !node.labels().contains_key(HOSTNAME) {
                    continue;
                }
                count_pods(&s.matcher, &pod.namespace, node)
            } else {
                match s.node_domain.get(node.index).filter(|d| **d != NONE) {
                    Some(domain) => s.counts[*domain as usize].unwrap_or(0),
                    None => continue,
                }
            };
            score += count as f64 * s.weight + (s.constraint.max_skew - 1) as f64;
        }
        score.round() as i64
    }

    /// Fewer matching pods is better: 100 * (max + min - score) / max; ignored nodes get 0.
    fn normalize(&self, state: &CycleState, nodes: &[&NodeInfo], scores: &mut [i64]) {
        let Some(spread) = state.spread_score.as_ref() else {
            return;
        };
        let considered = |i: usize| !spread.ignored.get(nodes[i].index).copied().unwrap_or(false);
        let (mut min, mut max) = (i64::MAX, 0_i64);
        for (_, score) in scores.iter().enumerate().filter(|(i, _)| considered(*i)) {
            min = min.min(*score);
            max = max.max(*score);
        }
        for (i, score) in scores.iter_mut().enumerate() {
            *score = if !considered(i) {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - *score) / max
            };
        }
    }
}

/// The pod's ScheduleAnyway constraints; for a pod with no constraints at all and a controller,
/// the system defaults (hostname maxSkew 3, zone maxSkew 5). The flag says whether nodes lacking
/// a key are ignored (not for the defaults).
fn constraints(pod: &PodInfo) -> (Vec<Scored>, bool) {
    let scored = |constraint: SpreadConstraint, matcher: Matcher| Scored {
        constraint,
        matcher,
        node_domain: Vec::new(),
        counts: Vec::new(),
        weight: 0.0,
    };
    if !pod.spread.is_empty() {
        let soft = pod
            .spread
            .iter()
            .filter(|c| !c.hard)
            .map(|c| scored(c.clone(), Matcher::Selector(c.selector.clone())))
            .collect();
        return (soft, true);
    }
    let Some(controller) = pod.controller_uid.as_ref() else {
        return (Vec::new(), false);
    };
    let default = |key: &str, max_skew: i64| SpreadConstraint {
        max_skew,
        topology_key: key.to_string(),
        hard: false,
        selector: Selector::everything(),
        min_domains: 1,
        honor_node_affinity: true,
        honor_taints: false,
    };
    let defaults = vec![
        scored(default(HOSTNAME, 3), Matcher::Controller(controller.clone())),
        scored(default(ZONE, 5), Matcher::Controller(controller.clone())),
    ];
    (defaults, false)
}

fn count_pods(matcher: &Matcher, namespace: &str, node: &NodeInfo) -> i64 {
    match matcher {
        Matcher::Selector(selector) => count_matching(selector, namespace, node),
        Matcher::Controller(uid) => node.pods_of_controller(namespace, uid),
    }
}
