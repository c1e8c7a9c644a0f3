//! NodeResourcesFit: the pod's requests (cpu, memory, ephemeral-storage, extended resources and
//! one pod slot) must fit in the node's allocatable minus what its pods already request.

use std::collections::HashMap;

use super::{FilterPlugin, PreFilter};
use crate::cache::Snapshot;
use crate::framework::{CycleState, Plugin, Status};
use crate::node_info::NodeInfo;
use crate::pod_info::PodInfo;
use crate::resources::Resources;

/// Requests of pods nominated to a node (by preemption) that outrank or equal the pod being
/// scheduled: room held for them.
#[derive(Clone, Debug, Default)]
pub struct Nominated {
    by_node: HashMap<String, (Resources, i64)>,
}

/// The plugin.
pub struct NodeResourcesFit;

impl FilterPlugin for NodeResourcesFit {
    fn plugin(&self) -> Plugin {
        Plugin::NodeResourcesFit
    }

    fn pre_filter(&self, pod: &PodInfo, snapshot: &Snapshot, state: &mut CycleState) -> Result<PreFilter, Status> {
        let mut nominated = Nominated::default();
        for (node, pods) in snapshot.nominations() {
            for other in pods.iter().filter(|p| p.uid != pod.uid && p.priority >= pod.priority) {
                let entry = nominated.by_node.entry(node.to_string()).or_default();
                entry.0.add(&other.requests.requests);
                entry.1 += 1;
            }
        }
        if !nominated.by_node.is_empty() {
            state.nominated = Some(nominated);
        }
        Ok(PreFilter::Run)
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
        let held = state.nominated.as_ref().and_then(|n| n.by_node.get(&node.name));
        let reasons = insufficient(pod, node, held);
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(Status { code: crate::framework::Code::Unschedulable, reasons, plugin: Plugin::NodeResourcesFit })
        }
    }
}

/// The reasons the pod does not fit, in kube-scheduler's words and order.
pub fn insufficient(pod: &PodInfo, node: &NodeInfo, held: Option<&(Resources, i64)>) -> Vec<String> {
    let mut reasons = Vec::new();
    let (held, held_pods) = match held {
        Some((r, n)) => (Some(r), *n),
        None => (None, 0),
    };
    let pods = i64::try_from(node.pods.len()).unwrap_or(i64::MAX);
    if pods + held_pods + 1 > node.allocatable.pods {
        reasons.push("Too many pods".to_string());
    }
    let want = &pod.requests.requests;
    if want.is_zero() {
        return reasons;
    }
    let free = |alloc: i64, used: i64, held: i64| alloc - used - held;
    let h = |f: fn(&Resources) -> i64| held.map(f).unwrap_or(0);
    let a = &node.allocatable;
    let u = &node.requested;
    if want.milli_cpu > 0 && want.milli_cpu > free(a.milli_cpu, u.milli_cpu, h(|r| r.milli_cpu)) {
        reasons.push("Insufficient cpu".to_string());
    }
    if want.memory > 0 && want.memory > free(a.memory, u.memory, h(|r| r.memory)) {
        reasons.push("Insufficient memory".to_string());
    }
    let storage = free(a.ephemeral_storage, u.ephemeral_storage, h(|r| r.ephemeral_storage));
    if want.ephemeral_storage > 0 && want.ephemeral_storage > storage {
        reasons.push("Insufficient ephemeral-storage".to_string());
    }
    for (name, amount) in &want.scalar {
        let held = held.map(|r| r.scalar(name)).unwrap_or(0);
        if *amount > 0 && *amount > free(a.scalar(name), u.scalar(name), held) {
            reasons.push(format!("Insufficient {name}"));
        }
    }
    reasons
}
