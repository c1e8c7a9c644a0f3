//! A node with the sums the filters need kept up to date: requested resources, used host ports,
//! pods with affinity terms.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Taint};

use crate::pod_info::{HostPort, PodInfo};
use crate::resources::Resources;
use crate::selector::{Labels, NO_LABELS};

/// The taint a node whose Ready condition is False is treated as carrying.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// The taint a node whose Ready condition is Unknown (or missing) is treated as carrying.
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// The taint a cordoned node is treated as carrying.
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// One node and the pods on it (bound or assumed).
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// metadata.name.
    pub name: String,
    /// The node's position in the snapshot (for `topology` columns).
    pub index: usize,
    /// The node object as last seen.
    pub node: Arc<Node>,
    /// spec.taints, plus not-ready or unreachable (NoSchedule) when the Ready condition is not
    /// True and the node does not already carry that taint, as the node lifecycle controller's
    /// TaintNodesByCondition would add.
    pub taints: Vec<Taint>,
    /// spec.unschedulable (cordoned).
    pub unschedulable: bool,
    /// status.allocatable.
    pub allocatable: Resources,
    /// The sum of the pods' requests.
    pub requested: Resources,
    /// The sum of the pods' non-zero cpu requests (for scoring).
    pub non_zero_milli_cpu: i64,
    /// The sum of the pods' non-zero memory requests (for scoring).
    pub non_zero_memory: i64,
    /// The pods on the node.
    pub pods: Vec<Arc<PodInfo>>,
    /// Host ports in use, one entry per claiming container port.
    pub used_ports: Vec<HostPort>,
    /// How many of the pods have any pod (anti-)affinity term.
    pub pods_with_affinity: usize,
    /// How many of the pods have a required anti-affinity term.
    pub pods_with_required_anti_affinity: usize,
    /// Non-terminating pods per (namespace, controller uid), for default spreading.
    controllers: Vec<(String, String, u32)>,
}

impl NodeInfo {
    /// A node with no pods.
    pub fn new(node: Arc<Node>) -> NodeInfo {
        let mut info = NodeInfo {
            name: String::new(),
            index: 0,
            node: node.clone(),
            taints: Vec::new(),
            unschedulable: false,
            allocatable: Resources::default(),
            requested: Resources::default(),
            non_zero_milli_cpu: 0,
            non_zero_memory: 0,
            pods: Vec::new(),
            used_ports: Vec::new(),
            pods_with_affinity: 0,
            pods_with_required_anti_affinity: 0,
            controllers: Vec::new(),
        };
        info.set_node(node);
        info
    }

    /// Replaces the node object, keeping the pods.
    pub fn set_node(&mut self, node: Arc<Node>) {
        self.name = node.metadata.name.clone().unwrap_or_default();
        self.taints = effective_taints(&node);
        self.unschedulable = node.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false);
        let status = node.status.as_ref();
        self.allocatable = Resources::from_list(status.and_then(|s| s.allocatable.as_ref()));
        self.node = node;
    }

    /// metadata.labels.
    pub fn labels(&self) -> &Labels {
        self.node.metadata.labels.as_ref().unwrap_or(&NO_LABELS)
    }

    /// Adds a pod and its requests.
    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        self.account(&pod, 1);
        self.pods.push(pod);
    }

    /// Removes the pod with this uid, returning it.
    pub fn remove_pod(&mut self, uid: &str) -> Option<Arc<PodInfo>> {
        let at = self.pods.iter().position(|p| p.uid == uid)?;
        let pod = self.pods.swap_remove(at);
        self.account(&pod, -1);
        Some(pod)
    }

    fn account(&mut self, pod: &PodInfo, sign: i64) {
        let r = &pod.requests;
        if sign > 0 {
            self.requested.add(&r.requests);
            self.used_ports.extend(pod.host_ports.iter().cloned());
        } else {
            self.requested.sub(&r.requests);
            for port in &pod.host_ports {
                if let Some(at) = self.used_ports.iter().position(|p| p == port) {
                    self.used_ports.swap_remove(at);
                }
            }
        }
        self.non_zero_milli_cpu += sign * r.non_zero_milli_cpu;
        self.non_zero_memory += sign * r.non_zero_memory;
        let delta = |n: &mut usize, yes: bool| {
            if yes {
                *n = n.saturating_add_signed(sign as isize);
            }
        };
        delta(&mut self.pods_with_affinity, pod.has_affinity());
        delta(&mut self.pods_with_required_anti_affinity, !pod.required_anti_affinity.is_empty());
        if let Some(uid) = pod.controller_uid.as_ref().filter(|_| !pod.terminating()) {
            self.count_controller(&pod.namespace, uid, sign);
        }
    }

    fn count_controller(&mut self, namespace: &str, uid: &str, sign: i64) {
        let at = self.controllers.iter().position(|(ns, u, _)| u == uid && ns == namespace);
        match (at, sign > 0) {
            (Some(at), true) => self.controllers[at].2 += 1,
            (Some(at), false) => {
                self.controllers[at].2 -= 1;
                if self.controllers[at].2 == 0 {
                    self.controllers.swap_remove(at);
                }
            }
            (None, true) => self.controllers.push((namespace.to_string(), uid.to_string(), 1)),
            (None, false) => {}
        }
    }

    /// Non-terminating pods on the node in `namespace` whose controller has this uid.
    pub fn pods_of_controller(&self, namespace: &str, uid: &str) -> i64 {
        self.controllers.iter().find(|(ns, u, _)| u == uid && ns == namespace).map_or(0, |(_, _, n)| i64::from(*n))
    }
}

/// The node's taints plus the one its Ready condition implies.
fn effective_taints(node: &Node) -> Vec<Taint> {
    let mut taints = node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
        .map(|c| c.status.as_str());
    let implied = match ready {
        Some("True") => None,
        Some("False") => Some(TAINT_NOT_READY),
        _ => Some(TAINT_UNREACHABLE),
    };
    if let Some(key) = implied {
        let present = taints.iter().any(|t| t.key == key && t.effect == "NoSchedule");
        if !present {
            taints.push(Taint {
                key: key.to_string(),
                effect: "NoSchedule".to_string(),
                value: None,
                time_added: None,
            });
        }
    }
    taints
}
