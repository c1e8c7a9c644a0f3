//! TaintToleration: a node's NoSchedule and NoExecute taints must all be tolerated.

use k8s_openapi::api::core::v1::{Taint, Toleration};

use super::FilterPlugin;
use crate::framework::{CycleState, Plugin, Status};
use crate::node_info::NodeInfo;
use crate::pod_info::PodInfo;

/// The plugin.
pub struct TaintToleration;

impl FilterPlugin for TaintToleration {
    fn plugin(&self) -> Plugin {
        Plugin::TaintToleration
    }

    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
        let tolerations = pod.tolerations();
        let untolerated = node
            .taints
            .iter()
            .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
            .find(|taint| !tolerations.iter().any(|t| tolerates(t, taint)));
        match untolerated {
            None => Ok(()),
            Some(taint) => {
                let value = taint.value.as_deref().unwrap_or_default();
                let reason = format!("node(s) had untolerated taint {{{}: {value}}}", taint.key);
                Err(Status::unresolvable(Plugin::TaintToleration, reason))
            }
        }
    }
}

/// Whether the toleration tolerates the taint (core/v1 Toleration.ToleratesTaint): an empty
/// effect matches every effect, an empty key with Exists every key; the operator defaults to
/// Equal.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or_default();
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or_default();
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or_default() {
        "" | "Equal" => toleration.value.as_deref().unwrap_or_default() == taint.value.as_deref().unwrap_or_default(),
        "Exists" => true,
        _ => false,
    }
}

/// Whether every NoSchedule and NoExecute taint of the node is tolerated (for topology spread's
/// nodeTaintsPolicy Honor).
pub fn tolerates_node(pod: &PodInfo, node: &NodeInfo) -> bool {
    TaintToleration.filter(&crate::framework::CycleState::default(), pod, node).is_ok()
}
