//! The scheduler's view of the cluster: nodes with the pods on them (bound or assumed), namespaces
//! and volumes; the `Snapshot` that plugins read is this view, updated in place between cycles.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;

use crate::node_info::NodeInfo;
use crate::pod_info::{NamespaceLabels, PodInfo};
use crate::queue::{ClusterEvent, NodeDelta};
use crate::topology::LabelIndex;

/// PersistentVolumeClaims (by "namespace/name"), PersistentVolumes and StorageClasses (by name).
#[derive(Clone, Debug, Default)]
pub struct Volumes {
    /// Claims by "namespace/name".
    pub claims: HashMap<String, PersistentVolumeClaim>,
    /// Volumes by name.
    pub volumes: HashMap<String, PersistentVolume>,
    /// Storage classes by name.
    pub classes: HashMap<String, StorageClass>,
}

/// What the plugins read: every node with its pods, plus namespaces, volumes and nominations.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    nodes: Vec<NodeInfo>,
    index: HashMap<String, usize>,
    labels: LabelIndex,
    namespaces: NamespaceLabels,
    volumes: Volumes,
    nominated: HashMap<String, Vec<Arc<PodInfo>>>,
    pods_with_affinity: usize,
    pods_with_required_anti_affinity: usize,
}

impl Snapshot {
    /// Builds a snapshot from objects: nodes, and pods bound to them (by spec.nodeName).
    pub fn from_objects(nodes: Vec<Node>, pods: Vec<Pod>) -> Snapshot {
        let mut cache = Cache::default();
        for node in nodes {
            cache.set_node(node);
        }
        for pod in pods {
            cache.set_pod(Arc::new(PodInfo::new(pod)));
        }
        cache.snapshot
    }

    /// Every node, in a stable order (changed only when nodes come or go).
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// The node with this name.
    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.index.get(name).map(|i| &self.nodes[*i])
    }

    /// Node label values by node position.
    pub fn label_index(&self) -> &LabelIndex {
        &self.labels
    }

    /// Labels of each namespace.
    pub fn namespaces(&self) -> &NamespaceLabels {
        &self.namespaces
    }

    /// Claims, volumes and classes.
    pub fn volumes(&self) -> &Volumes {
        &self.volumes
    }

    /// Pending pods nominated (by preemption) to this node.
    pub fn nominated(&self, node: &str) -> &[Arc<PodInfo>] {
        self.nominated.get(node).map(Vec::as_slice).unwrap_or_default()
    }

    /// Every node with pods nominated to it.
    pub fn nominations(&self) -> impl Iterator<Item = (&str, &[Arc<PodInfo>])> {
        self.nominated.iter().map(|(n, p)| (n.as_str(), p.as_slice()))
    }

    /// How many pods in the cluster have any pod (anti-)affinity term.
    pub fn pods_with_affinity(&self) -> usize {
        self.pods_with_affinity
    }

    /// How many pods in the cluster have a required anti-affinity term.
    pub fn pods_with_required_anti_affinity(&self) -> usize {
        self.pods_with_required_anti_affinity
    }

    fn add_to_node(&mut self, at: usize, pod: Arc<PodInfo>) {
        self.pods_with_affinity += usize::from(pod.has_affinity());
        self.pods_with_required_anti_affinity += usize::from(!pod.required_anti_affinity.is_empty());
        self.nodes[at].add_pod(pod);
    }

    fn remove_from_node(&mut self, at: usize, uid: &str) -> Option<Arc<PodInfo>> {
        let pod = self.nodes[at].remove_pod(uid)?;
        self.pods_with_affinity -= usize::from(pod.has_affinity());
        self.pods_with_required_anti_affinity -= usize::from(!pod.required_anti_affinity.is_empty());
        Some(pod)
    }
}

#[derive(Clone, Debug)]
struct PodState {
    node: String,
    assumed: bool,
}

/// The snapshot plus what is needed to keep it right: where each pod is, which placements are only
/// assumed (bind in flight, watch not caught up), and pods whose node is not known yet.
#[derive(Debug, Default)]
pub struct Cache {
    snapshot: Snapshot,
    pods: HashMap<String, PodState>,
    orphans: HashMap<String, Vec<Arc<PodInfo>>>,
    nominations: HashMap<String, String>,
}

impl Cache {
    /// The snapshot plugins read.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Adds or updates a node; returns what changed for the pods waiting.
    pub fn set_node(&mut self, node: Node) -> Option<ClusterEvent> {
        let name = node.metadata.name.clone().unwrap_or_default();
        let node = Arc::new(node);
        if let Some(&at) = self.snapshot.index.get(&name) {
            let info = &mut self.snapshot.nodes[at];
            let before = info.clone_without_pods();
            info.set_node(node);
            let delta = NodeDelta::between(&before, info);
            if delta.labels {
                self.snapshot.labels.set(at, before.labels(), self.snapshot.nodes[at].labels());
            }
            return (!delta.is_empty()).then_some(ClusterEvent::NodeUpdated(delta));
        }
        let at = self.snapshot.nodes.len();
        let mut info = NodeInfo::new(node);
        info.index = at;
        self.snapshot.labels.push(info.labels());
        self.snapshot.nodes.push(info);
        self.snapshot.index.insert(name.clone(), at);
        for pod in self.orphans.remove(&name).unwrap_or_default() {
            self.snapshot.add_to_node(at, pod);
        }
        Some(ClusterEvent::NodeAdded)
    }

    /// Removes a node; its pods wait as orphans until they are deleted or the node returns.
    pub fn remove_node(&mut self, name: &str) {
        let Some(at) = self.snapshot.index.remove(name) else {
            return;
        };
        let uids: Vec<String> = self.snapshot.nodes[at].pods.iter().map(|p| p.uid.clone()).collect();
        let mut orphans = Vec::new();
        for uid in uids {
            orphans.extend(self.snapshot.remove_from_node(at, &uid));
        }
        if !orphans.is_empty() {
            self.orphans.insert(name.to_string(), orphans);
        }
        self.snapshot.nodes.swap_remove(at);
        self.snapshot.labels.swap_remove(at);
        if let Some(moved) = self.snapshot.nodes.get_mut(at) {
            moved.index = at;
            self.snapshot.index.insert(moved.name.clone(), at);
        }
    }

    /// Names of all nodes.
    pub fn node_names(&self) -> Vec<String> {
        self.snapshot.nodes.iter().map(|n| n.name.clone()).collect()
    }

    /// Adds or updates a pod bound to a node (spec.nodeName set), confirming an assumed one.
    pub fn set_pod(&mut self, pod: Arc<PodInfo>) -> Option<ClusterEvent> {
        let node = pod.node_name()?.to_string();
        let previous = match self.pods.get(&pod.uid).cloned() {
            Some(state) => self.detach(&pod.uid, &state.node).map(|p| (p, state.assumed)),
            None => None,
        };
        let event = match &previous {
            None => Some(ClusterEvent::AssignedPodAdded),
            Some((_, true)) => Some(ClusterEvent::AssignedPodAdded),
            Some((old, false)) if old.labels() != pod.labels() || old.requests != pod.requests => {
                Some(ClusterEvent::AssignedPodUpdated)
            }
            Some(_) => None,
        };
        self.attach(pod, node, false);
        event
    }

    /// Removes a pod (deleted, or finished); `None` if it was not known.
    pub fn remove_pod(&mut self, uid: &str) -> Option<ClusterEvent> {
        let state = self.pods.remove(uid)?;
        self.detach(uid, &state.node)?;
        Some(ClusterEvent::AssignedPodDeleted)
    }

    /// Records a pod as on `node` before its binding is confirmed, so the next cycles see its
    /// requests there.
    pub fn assume(&mut self, pod: Arc<PodInfo>, node: &str) {
        if let Some(state) = self.pods.get(&pod.uid).cloned() {
            self.detach(&pod.uid, &state.node);
        }
        self.attach(pod, node.to_string(), true);
    }

    /// Undoes `assume` (the bind failed). A pod the watch has confirmed is kept.
    pub fn forget(&mut self, uid: &str) -> Option<ClusterEvent> {
        if self.pods.get(uid).is_some_and(|s| s.assumed) {
            return self.remove_pod(uid);
        }
        None
    }

    /// True when the pod is placed only by assumption.
    pub fn is_assumed(&self, uid: &str) -> bool {
        self.pods.get(uid).is_some_and(|s| s.assumed)
    }

    /// True when the pod is placed, assumed or confirmed.
    pub fn has_pod(&self, uid: &str) -> bool {
        self.pods.contains_key(uid)
    }

    /// Uids of all placed pods.
    pub fn pod_uids(&self) -> Vec<String> {
        self.pods.keys().cloned().collect()
    }

    /// Records (or, with `None`, clears) the node a pending pod is nominated to.
    pub fn nominate(&mut self, pod: &Arc<PodInfo>, node: Option<&str>) {
        self.clear_nomination(&pod.uid);
        if let Some(node) = node {
            self.nominations.insert(pod.uid.clone(), node.to_string());
            self.snapshot.nominated.entry(node.to_string()).or_default().push(pod.clone());
        }
    }

    /// Clears the nomination of the pod with this uid.
    pub fn clear_nomination(&mut self, uid: &str) {
        let Some(old) = self.nominations.remove(uid) else {
            return;
        };
        if let Some(list) = self.snapshot.nominated.get_mut(&old) {
            list.retain(|p| p.uid != uid);
            if list.is_empty() {
                self.snapshot.nominated.remove(&old);
            }
        }
    }

    /// Adds or updates a namespace; an event when its labels changed.
    pub fn set_namespace(&mut self, namespace: &Namespace) -> Option<ClusterEvent> {
        let name = namespace.metadata.name.clone().unwrap_or_default();
        let labels = namespace.metadata.labels.clone().unwrap_or_default();
        let old = self.snapshot.namespaces.insert(name, labels.clone());
        (old.as_ref() != Some(&labels)).then_some(ClusterEvent::NamespaceChanged)
    }

    /// Removes a namespace.
    pub fn remove_namespace(&mut self, name: &str) {
        self.snapshot.namespaces.remove(name);
    }

    /// Claims, volumes and classes, for the watch to update.
    pub fn volumes_mut(&mut self) -> &mut Volumes {
        &mut self.snapshot.volumes
    }

    fn attach(&mut self, pod: Arc<PodInfo>, node: String, assumed: bool) {
        self.pods.insert(pod.uid.clone(), PodState { node: node.clone(), assumed });
        match self.snapshot.index.get(&node) {
            Some(&at) => self.snapshot.add_to_node(at, pod),
            None => self.orphans.entry(node).or_default().push(pod),
        }
    }

    fn detach(&mut self, uid: &str, node: &str) -> Option<Arc<PodInfo>> {
        if let Some(&at) = self.snapshot.index.get(node) {
            return self.snapshot.remove_from_node(at, uid);
        }
        let list = self.orphans.get_mut(node)?;
        let at = list.iter().position(|p| p.uid == uid)?;
        let pod = list.swap_remove(at);
        if list.is_empty() {
            self.orphans.remove(node);
        }
        Some(pod)
    }
}

impl NodeInfo {
    /// A copy of the node's own fields, for comparing before and after an update.
    fn clone_without_pods(&self) -> NodeInfo {
        NodeInfo::new(self.node.clone())
    }
}
