//! Runs the plugins over a snapshot for one pod: pre-filter, filter (stopping once enough feasible
//! nodes are found), score, normalise, weigh, pick; and composes kube-scheduler's failure message.

use std::collections::BTreeMap;
use std::fmt;

use crate::cache::Snapshot;
use crate::filter::{self, FilterPlugin, PreFilter};
use crate::node_info::NodeInfo;
use crate::pod_info::PodInfo;
use crate::score::{self, ScorePlugin};

/// The highest score a plugin gives a node after normalising.
pub const MAX_NODE_SCORE: i64 = 100;
/// Clusters smaller than this are searched in full (kube-scheduler's minFeasibleNodesToFind).
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// The adaptive percentage of nodes searched never drops below this.
pub const MIN_FEASIBLE_NODES_PERCENTAGE: usize = 5;

/// The scheduler's plugins, by kube-scheduler's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Plugin {
    /// spec.schedulingGates.
    SchedulingGates,
    /// spec.unschedulable on the node.
    NodeUnschedulable,
    /// Taints and tolerations.
    TaintToleration,
    /// nodeSelector and node affinity.
    NodeAffinity,
    /// Host ports.
    NodePorts,
    /// Requests against allocatable.
    NodeResourcesFit,
    /// PersistentVolumeClaims and PV node affinity.
    VolumeBinding,
    /// topologySpreadConstraints.
    PodTopologySpread,
    /// Pod affinity and anti-affinity.
    InterPodAffinity,
    /// Balance of cpu and memory use.
    NodeResourcesBalancedAllocation,
    /// Preemption of lower-priority pods.
    DefaultPreemption,
}

impl Plugin {
    /// kube-scheduler's name for the plugin.
    pub fn name(self) -> &'static str {
        match self {
            Plugin::SchedulingGates => "SchedulingGates",
            Plugin::NodeUnschedulable => "NodeUnschedulable",
            Plugin::TaintToleration => "TaintToleration",
            Plugin::NodeAffinity => "NodeAffinity",
            Plugin::NodePorts => "NodePorts",
            Plugin::NodeResourcesFit => "NodeResourcesFit",
            Plugin::VolumeBinding => "VolumeBinding",
            Plugin::PodTopologySpread => "PodTopologySpread",
            Plugin::InterPodAffinity => "InterPodAffinity",
            Plugin::NodeResourcesBalancedAllocation => "NodeResourcesBalancedAllocation",
            Plugin::DefaultPreemption => "DefaultPreemption",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of plugins (which rejected a pod; which an event may help).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PluginSet(u32);

impl PluginSet {
    /// Every plugin.
    pub const ALL: PluginSet = PluginSet(u32::MAX);

    /// The set of these plugins.
    pub fn of(plugins: &[Plugin]) -> PluginSet {
        let mut set = PluginSet::default();
        set.extend(plugins.iter().copied());
        set
    }

    /// Adds a plugin.
    pub fn insert(&mut self, plugin: Plugin) {
        self.0 |= plugin.bit();
    }

    /// Adds plugins.
    pub fn extend(&mut self, plugins: impl IntoIterator<Item = Plugin>) {
        for p in plugins {
            self.insert(p);
        }
    }

    /// Whether the plugin is in the set.
    pub fn contains(self, plugin: Plugin) -> bool {
        self.0 & plugin.bit() != 0
    }

    /// Whether the sets share a plugin.
    pub fn intersects(self, other: PluginSet) -> bool {
        self.0 & other.0 != 0
    }

    /// True for the empty set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// How a node failed a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Preempting pods on the node might make room.
    Unschedulable,
    /// Nothing short of changing the node or the pod helps; preemption is not tried there.
    UnschedulableAndUnresolvable,
}

/// Why a node (or, from a pre-filter, every node) cannot take the pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// Whether preemption could help.
    pub code: Code,
    /// Reasons as kube-scheduler words them ("Insufficient cpu").
    pub reasons: Vec<String>,
    /// The plugin that rejected.
    pub plugin: Plugin,
}

impl Status {
    /// A rejection preemption might resolve.
    pub fn unschedulable(plugin: Plugin, reason: impl Into<String>) -> Status {
        Status { code: Code::Unschedulable, reasons: vec![reason.into()], plugin }
    }

    /// A rejection preemption cannot resolve.
    pub fn unresolvable(plugin: Plugin, reason: impl Into<String>) -> Status {
        Status { code: Code::UnschedulableAndUnresolvable, reasons: vec![reason.into()], plugin }
    }
}

/// Why no node fits, with what kube-scheduler needs to word it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FitError {
    /// How many nodes the cluster has.
    pub num_all_nodes: usize,
    /// Each rejected node (by name) with its status.
    pub node_statuses: Vec<(String, Status)>,
    /// The message of a pre-filter that rejected the pod for every node.
    pub pre_filter_msg: Option<String>,
    /// The message of the post-filter (preemption), appended after the filters'.
    pub post_filter_msg: Option<String>,
    /// The plugins that rejected the pod, to decide which events retry it.
    pub plugins: PluginSet,
}

impl FitError {
    fn no_nodes() -> FitError {
        FitError {
            num_all_nodes: 0,
            node_statuses: Vec::new(),
            pre_filter_msg: None,
            post_filter_msg: None,
            plugins: PluginSet::default(),
        }
    }

    /// How many nodes were rejected for each reason, as "N reason" sorted as strings (so
    /// "10 x" sorts before "2 y", as kube-scheduler's sort.Strings does).
    pub fn histogram(&self) -> Vec<String> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, status) in &self.node_statuses {
            for reason in &status.reasons {
                *counts.entry(reason.as_str()).or_default() += 1;
            }
        }
        let mut lines: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
        lines.sort();
        lines
    }
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.num_all_nodes == 0 && self.pre_filter_msg.is_none() {
            return f.write_str("no nodes available to schedule pods");
        }
        write!(f, "0/{} nodes are available:", self.num_all_nodes)?;
        match &self.pre_filter_msg {
            Some(msg) => write!(f, " {msg}.")?,
            None => {
                let lines = self.histogram();
                if !lines.is_empty() {
                    write!(f, " {}.", lines.join(", "))?;
                }
            }
        }
        if let Some(msg) = &self.post_filter_msg {
            write!(f, " {msg}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FitError {}

/// The outcome of a successful cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleResult {
    /// The chosen node.
    pub node: String,
    /// How many nodes were filtered.
    pub evaluated: usize,
    /// How many of them fit.
    pub feasible: usize,
}

/// Plugin state for one cycle: each plugin's pre-filter and pre-score results.
#[derive(Debug, Default)]
pub struct CycleState {
    /// Resources held on nodes for pods nominated there with at least this pod's priority.
    pub nominated: Option<filter::node_resources_fit::Nominated>,
    /// Topology spread counts for the DoNotSchedule constraints.
    pub spread: Option<filter::pod_topology_spread::State>,
    /// Inter-pod affinity counts per topology domain.
    pub affinity: Option<filter::inter_pod_affinity::State>,
    /// Claims the pod uses.
    pub volumes: Option<filter::volume_binding::State>,
    /// Topology spread counts for scoring.
    pub spread_score: Option<score::pod_topology_spread::State>,
    /// Inter-pod affinity weights per topology domain.
    pub affinity_score: Option<score::inter_pod_affinity::State>,
}

/// The filter and score plugins with kube-scheduler's default weights, and the node sampling.
pub struct Framework {
    filters: Vec<Box<dyn FilterPlugin>>,
    scores: Vec<(Box<dyn ScorePlugin>, i64)>,
    /// percentageOfNodesToScore; 0 is kube-scheduler's adaptive default (50% - nodes/125, >= 5%).
    pub percentage_of_nodes_to_score: usize,
    next_start: usize,
    rng: u64,
}

impl Default for Framework {
    fn default() -> Self {
        Framework {
            filters: filter::default_plugins(),
            scores: score::default_plugins(),
            percentage_of_nodes_to_score: 0,
            next_start: 0,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

impl fmt::Debug for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Framework").field("next_start", &self.next_start).finish_non_exhaustive()
    }
}

/// Picks a node for `pod` from `snapshot` with the default plugins, searching every node.
pub fn schedule_one(pod: &PodInfo, snapshot: &Snapshot) -> Result<String, FitError> {
    let mut framework = Framework { percentage_of_nodes_to_score: 100, ..Framework::default() };
    framework.schedule_one(pod, snapshot).map(|r| r.node)
}

impl Framework {
    /// Picks a node for `pod`. Nodes are searched round-robin from where the last cycle stopped,
    /// until `num_feasible_nodes_to_find` fit; those are scored.
    pub fn schedule_one(&mut self, pod: &PodInfo, snapshot: &Snapshot) -> Result<ScheduleResult, FitError> {
        let nodes = snapshot.nodes();
        if nodes.is_empty() {
            return Err(FitError::no_nodes());
        }
        let mut state = CycleState::default();
        let filters = self.pre_filter(pod, snapshot, &mut state, nodes)?;
        if let Some(result) = self.try_nominated(pod, snapshot, &state, &filters) {
            return Ok(result);
        }
        let want = self.num_feasible_nodes_to_find(nodes.len());
        let start = self.next_start % nodes.len();
        let (feasible, evaluated) = find_feasible(pod, nodes, &state, &filters, want, start);
        let next_start = (start + evaluated) % nodes.len();
        if feasible.is_empty() {
            // Every node failed; run them again to collect why (the success path allocates no
            // statuses).
            let statuses: Vec<(usize, Status)> = nodes
                .iter()
                .enumerate()
                .filter_map(|(i, n)| run_filters(&filters, &state, pod, n).err().map(|s| (i, s)))
                .collect();
            self.next_start = next_start;
            let mut plugins = PluginSet::default();
            for (_, status) in &statuses {
                plugins.insert(status.plugin);
            }
            let node_statuses = statuses.into_iter().map(|(i, s)| (nodes[i].name.clone(), s)).collect();
            return Err(FitError {
                num_all_nodes: nodes.len(),
                node_statuses,
                pre_filter_msg: None,
                post_filter_msg: None,
                plugins,
            });
        }
        self.next_start = next_start;
        let feasible: Vec<&NodeInfo> = feasible.into_iter().map(|i| &nodes[i]).collect();
        let node = if feasible.len() == 1 {
            feasible[0].name.clone()
        } else {
            let totals = self.score(pod, snapshot, &mut state, &feasible);
            self.select_host(&feasible, &totals)
        };
        Ok(ScheduleResult { node, evaluated, feasible: feasible.len() })
    }

    /// Runs the pre-filters once, for evaluating the pod against changed nodes (preemption's
    /// what-ifs).
    pub fn prepare(&self, pod: &PodInfo, snapshot: &Snapshot) -> Result<Prepared<'_>, FitError> {
        let mut state = CycleState::default();
        let filters = self.pre_filter(pod, snapshot, &mut state, snapshot.nodes())?;
        Ok(Prepared { state, filters })
    }

    fn pre_filter(
        &self,
        pod: &PodInfo,
        snapshot: &Snapshot,
        state: &mut CycleState,
        nodes: &[NodeInfo],
    ) -> Result<Vec<&dyn FilterPlugin>, FitError> {
        let mut active = Vec::with_capacity(self.filters.len());
        for plugin in &self.filters {
            match plugin.pre_filter(pod, snapshot, state) {
                Ok(PreFilter::Run) => active.push(plugin.as_ref()),
                Ok(PreFilter::Skip) => {}
                Err(status) => {
                    let message = status.reasons.join(", ");
                    return Err(FitError {
                        num_all_nodes: nodes.len(),
                        node_statuses: nodes.iter().map(|n| (n.name.clone(), status.clone())).collect(),
                        pre_filter_msg: Some(message),
                        post_filter_msg: None,
                        plugins: PluginSet::of(&[status.plugin]),
                    });
                }
            }
        }
        Ok(active)
    }

    /// A pod nominated by an earlier preemption goes to that node if it fits there now.
    fn try_nominated(
        &self,
        pod: &PodInfo,
        snapshot: &Snapshot,
        state: &CycleState,
        filters: &[&dyn FilterPlugin],
    ) -> Option<ScheduleResult> {
        let node = snapshot.node(pod.nominated_node()?)?;
        run_filters(filters, state, pod, node).ok()?;
        Some(ScheduleResult { node: node.name.clone(), evaluated: 1, feasible: 1 })
    }

    fn score(&self, pod: &PodInfo, snapshot: &Snapshot, state: &mut CycleState, nodes: &[&NodeInfo]) -> Vec<i64> {
        let mut totals = vec![0_i64; nodes.len()];
        let mut scores = vec![0_i64; nodes.len()];
        for (plugin, weight) in &self.scores {
            if !plugin.pre_score(pod, snapshot, nodes, state) {
                continue;
            }
            for (score, node) in scores.iter_mut().zip(nodes) {
                *score = plugin.score(state, pod, node);
            }
            plugin.normalize(state, nodes, &mut scores);
            for (total, score) in totals.iter_mut().zip(&scores) {
                *total += score * weight;
            }
        }
        totals
    }

    /// The highest total; ties broken at random (reservoir sampling), as kube-scheduler does.
    fn select_host(&mut self, nodes: &[&NodeInfo], totals: &[i64]) -> String {
        let mut best = 0;
        let mut ties = 1_u64;
        for i in 1..nodes.len() {
            if totals[i] > totals[best] {
                best = i;
                ties = 1;
            } else if totals[i] == totals[best] {
                ties += 1;
                if self.next_random().is_multiple_of(ties) {
                    best = i;
                }
            }
        }
        nodes[best].name.clone()
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64: tie-breaking needs spread, not quality.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// How many feasible nodes to find before scoring (kube-scheduler's numFeasibleNodesToFind).
    pub fn num_feasible_nodes_to_find(&self, all: usize) -> usize {
        if all < MIN_FEASIBLE_NODES_TO_FIND {
            return all;
        }
        let mut percentage = self.percentage_of_nodes_to_score;
        if percentage == 0 {
            percentage = 50_usize.saturating_sub(all / 125).max(MIN_FEASIBLE_NODES_PERCENTAGE);
        }
        if percentage >= 100 {
            return all;
        }
        (all * percentage / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
    }
}

/// The pre-filtered state of one pod, to run the filters against any node.
pub struct Prepared<'a> {
    state: CycleState,
    filters: Vec<&'a dyn FilterPlugin>,
}

impl Prepared<'_> {
    /// Whether the pod fits on `node`.
    pub fn filter(&self, pod: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
        run_filters(&self.filters, &self.state, pod, node)
    }
}

/// Filters nodes round-robin from `start` until `want` fit: (feasible, evaluated).
fn find_feasible(
    pod: &PodInfo,
    nodes: &[NodeInfo],
    state: &CycleState,
    filters: &[&dyn FilterPlugin],
    want: usize,
    start: usize,
) -> (Vec<usize>, usize) {
    let n = nodes.len();
    let mut feasible = Vec::with_capacity(want.min(n));
    let mut evaluated = 0;
    for offset in 0..n {
        let at = (start + offset) % n;
        evaluated += 1;
        if run_filters(filters, state, pod, &nodes[at]).is_ok() {
            feasible.push(at);
            if feasible.len() >= want {
                break;
            }
        }
    }
    (feasible, evaluated)
}

/// Runs the filters in order, stopping at the first rejection (as kube-scheduler does).
fn run_filters(
    filters: &[&dyn FilterPlugin],
    state: &CycleState,
    pod: &PodInfo,
    node: &NodeInfo,
) -> Result<(), Status> {
    for plugin in filters {
        plugin.filter(state, pod, node)?;
    }
    Ok(())
}
