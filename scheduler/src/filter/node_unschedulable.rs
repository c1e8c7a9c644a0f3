//! NodeUnschedulable: a cordoned node takes only pods tolerating node.kubernetes.io/unschedulable.

use k8s_openapi::api::core::v1::Taint;

use super::FilterPlugin;
use super::taint_toleration::tolerates;
use crate::framework::{CycleState, Plugin, Status};
use crate::node_info::{NodeInfo, TAINT_UNSCHEDULABLE};
use crate::pod_info::PodInfo;

/// kube-scheduler's reason.
pub const REASON: &str = "node(s) were unschedulable";

/// The plugin.
pub struct NodeUnschedulable;

impl FilterPlugin for NodeUnschedulable {
    fn plugin(&self) -> Plugin {
        Plugin::NodeUnschedulable
    }

    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
        if !node.unschedulable {
            return Ok(());
        }
        let taint = Taint {
            key: TAINT_UNSCHEDULABLE.to_string(),
            effect: "NoSchedule".to_string(),
            value: None,
            time_added: None,
        };
        if pod.tolerations().iter().any(|t| tolerates(t, &taint)) {
            return Ok(());
        }
        Err(Status::unresolvable(Plugin::NodeUnschedulable, REASON))
    }
}
