//! DefaultPreemption: when no node fits, find the node where evicting the fewest, least important
//! lower-priority pods makes room, and name those pods as victims.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cache::Snapshot;
use crate::framework::{Code, FitError, Framework, Status};
use crate::node_info::NodeInfo;
use crate::pod_info::PodInfo;

/// The reason for nodes where only changing the node or the pod can help.
pub const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
/// The reason for nodes without lower-priority pods.
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";

/// A node and the pods to evict there.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The node the pod is nominated to.
    pub node: String,
    /// The pods to evict, most important first.
    pub victims: Vec<Arc<PodInfo>>,
}

/// Chooses victims for `pod`, which `fit` says fits nowhere. On failure returns the post-filter
/// message ("preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.").
pub fn preempt(framework: &Framework, pod: &PodInfo, snapshot: &Snapshot, fit: &FitError) -> Result<Candidate, String> {
    if let Some(reason) = not_eligible(pod, snapshot) {
        return Err(format!("preemption: {reason}"));
    }
    let mut reasons: Vec<(String, Vec<String>)> = Vec::new();
    let mut candidates = Vec::new();
    let prepared = framework.prepare(pod, snapshot).ok();
    let enough = candidates_to_find(snapshot.nodes().len());
    for (name, status) in &fit.node_statuses {
        let node = snapshot.node(name);
        let (Some(node), Some(prepared), Code::Unschedulable) = (node, prepared.as_ref(), status.code) else {
            reasons.push((name.clone(), vec![NOT_HELPFUL.to_string()]));
            continue;
        };
        if candidates.len() >= enough {
            break;
        }
        match victims_on(pod, node, |n| prepared.filter(pod, n)) {
            Ok(victims) => candidates.push(Candidate { node: name.clone(), victims }),
            Err(status) => reasons.push((name.clone(), status.reasons)),
        }
    }
    if let Some(best) = pick(candidates) {
        return Ok(best);
    }
    Err(format!("preemption: {}", message(fit.num_all_nodes, &reasons)))
}

/// kube-scheduler's PodEligibleToPreemptOthers.
fn not_eligible(pod: &PodInfo, snapshot: &Snapshot) -> Option<&'static str> {
    if pod.never_preempts() {
        return Some("not eligible due to preemptionPolicy=Never.");
    }
    let node = snapshot.node(pod.nominated_node()?)?;
    let waiting = node.pods.iter().any(|p| p.terminating() && p.priority < pod.priority);
    waiting.then_some("not eligible due to a terminating pod on the nominated node.")
}

/// Candidates are searched until this many are found: 10% of the nodes, at least 100.
fn candidates_to_find(nodes: usize) -> usize {
    (nodes / 10).max(100)
}

/// Removes every lower-priority pod; if the pod then fits, puts back as many as still allow it,
/// most important first (kube-scheduler's SelectVictimsOnNode, without PodDisruptionBudgets).
fn victims_on(
    pod: &PodInfo,
    node: &NodeInfo,
    fits: impl Fn(&NodeInfo) -> Result<(), Status>,
) -> Result<Vec<Arc<PodInfo>>, Status> {
    let mut lower: Vec<Arc<PodInfo>> = node.pods.iter().filter(|p| p.priority < pod.priority).cloned().collect();
    if lower.is_empty() {
        return Err(Status::unschedulable(crate::framework::Plugin::DefaultPreemption, NO_VICTIMS));
    }
    let mut trial = node.clone();
    for victim in &lower {
        trial.remove_pod(&victim.uid);
    }
    fits(&trial)?;
    lower.sort_by(|a, b| b.priority.cmp(&a.priority).then_with(|| a.start_time().cmp(&b.start_time())));
    let mut victims = Vec::new();
    for candidate in lower {
        trial.add_pod(candidate.clone());
        if fits(&trial).is_err() {
            trial.remove_pod(&candidate.uid);
            victims.push(candidate);
        }
    }
    Ok(victims)
}

/// kube-scheduler's pickOneNodeForPreemption: lowest highest-victim priority, then lowest sum of
/// priorities, then fewest victims, then the latest-started most important victim.
fn pick(candidates: Vec<Candidate>) -> Option<Candidate> {
    candidates.into_iter().min_by(|a, b| {
        let top = |c: &Candidate| c.victims.first().map(|v| v.priority).unwrap_or(i32::MIN);
        let sum =
            |c: &Candidate| c.victims.iter().map(|v| i64::from(v.priority) + i64::from(i32::MAX) + 1).sum::<i64>();
        let started = |c: &Candidate| c.victims.first().and_then(|v| v.start_time());
        top(a)
            .cmp(&top(b))
            .then_with(|| sum(a).cmp(&sum(b)))
            .then_with(|| a.victims.len().cmp(&b.victims.len()))
            .then_with(|| started(b).cmp(&started(a)))
    })
}

/// "0/N nodes are available: <histogram>." over the preemption statuses.
fn message(all: usize, reasons: &[(String, Vec<String>)]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, list) in reasons {
        for reason in list {
            *counts.entry(reason.as_str()).or_default() += 1;
        }
    }
    let mut lines: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
    lines.sort();
    format!("0/{all} nodes are available: {}.", lines.join(", "))
}
