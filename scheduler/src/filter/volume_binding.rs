//! VolumeBinding: the pod's PersistentVolumeClaims must exist; a bound claim's volume must allow
//! the node (PV node affinity); an unbound claim must wait for its first consumer, in which case
//! the binder asks for provisioning on the chosen node (annotation volume.kubernetes.io/selected-node).

use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::api::storage::v1::StorageClass;

use super::{FilterPlugin, PreFilter};
use crate::cache::{Snapshot, Volumes};
use crate::framework::{CycleState, Plugin, Status};
use crate::node_info::NodeInfo;
use crate::pod_info::{PodInfo, node_terms};
use crate::selector::{NodeTerm, Requirement};

/// The annotation that asks a provisioner to create the volume on a node.
pub const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// kube-scheduler's reason when a bound volume's node affinity excludes the node.
pub const REASON_NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
/// kube-scheduler's reason when a claim is bound to a volume that does not exist.
pub const REASON_PV_NOT_EXIST: &str = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
/// kube-scheduler's reason when a delayed claim cannot be provisioned in the node's topology.
pub const REASON_BIND_CONFLICT: &str = "node(s) didn't find available persistent volumes to bind";
/// kube-scheduler's pre-filter message for unbound claims of Immediate classes.
pub const REASON_UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";

/// What the pod's claims require of a node.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// For each bound volume with node affinity: one of these terms must match.
    volume_terms: Vec<Vec<NodeTerm>>,
    /// For each claim waiting for its first consumer whose class restricts topology: one of these.
    class_terms: Vec<Vec<NodeTerm>>,
    /// A claim is bound to a missing volume.
    missing_volume: bool,
}

/// The plugin.
pub struct VolumeBinding;

impl FilterPlugin for VolumeBinding {
    fn plugin(&self) -> Plugin {
        Plugin::VolumeBinding
    }

    fn pre_filter(&self, pod: &PodInfo, snapshot: &Snapshot, state: &mut CycleState) -> Result<PreFilter, Status> {
        if pod.claims.is_empty() {
            return Ok(PreFilter::Skip);
        }
        let volumes = snapshot.volumes();
        let mut needs = State::default();
        for name in &pod.claims {
            let claim = claim(volumes, &pod.namespace, name)?;
            match bound_volume(claim) {
                Some(volume) => match volumes.volumes.get(volume) {
                    None => needs.missing_volume = true,
                    Some(pv) => {
                        let required =
                            pv.spec.as_ref().and_then(|s| s.node_affinity.as_ref()).and_then(|a| a.required.as_ref());
                        if let Some(required) = required {
                            needs.volume_terms.push(node_terms(&required.node_selector_terms));
                        }
                    }
                },
                None => {
                    let class = waiting_class(volumes, claim)?;
                    if let Some(terms) = allowed_topologies(class) {
                        needs.class_terms.push(terms);
                    }
                }
            }
        }
        state.volumes = Some(needs);
        Ok(PreFilter::Run)
    }

    fn filter(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
        let Some(needs) = state.volumes.as_ref() else {
            return Ok(());
        };
        if needs.missing_volume {
            return Err(Status::unresolvable(Plugin::VolumeBinding, REASON_PV_NOT_EXIST));
        }
        let fits = |terms: &Vec<NodeTerm>| terms.iter().any(|t| t.matches(node.labels(), &node.name));
        if !needs.volume_terms.iter().all(fits) {
            return Err(Status::unresolvable(Plugin::VolumeBinding, REASON_NODE_CONFLICT));
        }
        if !needs.class_terms.iter().all(fits) {
            return Err(Status::unresolvable(Plugin::VolumeBinding, REASON_BIND_CONFLICT));
        }
        Ok(())
    }
}

fn claim<'a>(volumes: &'a Volumes, namespace: &str, name: &str) -> Result<&'a PersistentVolumeClaim, Status> {
    let Some(claim) = volumes.claims.get(&format!("{namespace}/{name}")) else {
        let reason = format!("persistentvolumeclaim \"{name}\" not found");
        return Err(Status::unresolvable(Plugin::VolumeBinding, reason));
    };
    if claim.metadata.deletion_timestamp.is_some() {
        let reason = format!("persistentvolumeclaim \"{name}\" is being deleted");
        return Err(Status::unresolvable(Plugin::VolumeBinding, reason));
    }
    Ok(claim)
}

fn bound_volume(claim: &PersistentVolumeClaim) -> Option<&str> {
    claim.spec.as_ref()?.volume_name.as_deref().filter(|v| !v.is_empty())
}

/// The class of an unbound claim, which must bind WaitForFirstConsumer.
fn waiting_class<'a>(volumes: &'a Volumes, claim: &PersistentVolumeClaim) -> Result<&'a StorageClass, Status> {
    let name = class_name(claim).unwrap_or_default();
    if name.is_empty() {
        return Err(Status::unresolvable(Plugin::VolumeBinding, REASON_UNBOUND_IMMEDIATE));
    }
    let Some(class) = volumes.classes.get(name) else {
        let reason = format!("storageclass.storage.k8s.io \"{name}\" not found");
        return Err(Status::unresolvable(Plugin::VolumeBinding, reason));
    };
    if class.volume_binding_mode.as_deref() != Some("WaitForFirstConsumer") {
        return Err(Status::unresolvable(Plugin::VolumeBinding, REASON_UNBOUND_IMMEDIATE));
    }
    Ok(class)
}

fn class_name(claim: &PersistentVolumeClaim) -> Option<&str> {
    let annotation = claim.metadata.annotations.as_ref().and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"));
    annotation.map(String::as_str).or_else(|| claim.spec.as_ref()?.storage_class_name.as_deref())
}

fn allowed_topologies(class: &StorageClass) -> Option<Vec<NodeTerm>> {
    let topologies = class.allowed_topologies.as_ref().filter(|t| !t.is_empty())?;
    let terms = topologies
        .iter()
        .map(|t| {
            let requirements = t
                .match_label_expressions
                .iter()
                .flatten()
                .map(|e| Requirement::is_in(&e.key, e.values.clone()))
                .collect();
            NodeTerm::from_requirements(requirements)
        })
        .collect();
    Some(terms)
}

/// The pod's unbound claims that wait for a consumer: the binder sets their selected-node
/// annotation to the chosen node and waits for them to bind before binding the pod.
pub fn unbound_claims(pod: &PodInfo, volumes: &Volumes) -> Vec<String> {
    pod.claims
        .iter()
        .filter(|name| {
            claim(volumes, &pod.namespace, name)
                .is_ok_and(|c| bound_volume(c).is_none() && waiting_class(volumes, c).is_ok())
        })
        .cloned()
        .collect()
}
