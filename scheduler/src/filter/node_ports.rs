//! NodePorts: a host port (protocol, port) can be claimed once per address; 0.0.0.0 claims all.

use super::{FilterPlugin, PreFilter};
use crate::cache::Snapshot;
use crate::framework::{CycleState, Plugin, Status};
use crate::node_info::NodeInfo;
use crate::pod_info::{HostPort, PodInfo};

/// kube-scheduler's reason.
pub const REASON: &str = "node(s) didn't have free ports for the requested pod ports";

/// The plugin.
pub struct NodePorts;

impl FilterPlugin for NodePorts {
    fn plugin(&self) -> Plugin {
        Plugin::NodePorts
    }

    fn pre_filter(&self, pod: &PodInfo, _: &Snapshot, _: &mut CycleState) -> Result<PreFilter, Status> {
        Ok(if pod.host_ports.is_empty() { PreFilter::Skip } else { PreFilter::Run })
    }

    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
        if pod.host_ports.iter().any(|want| conflicts(&node.used_ports, want)) {
            Err(Status::unschedulable(Plugin::NodePorts, REASON))
        } else {
            Ok(())
        }
    }
}

/// HostPortInfo.CheckConflict: 0.0.0.0 conflicts with the same (protocol, port) on any address;
/// a specific address conflicts with itself and with 0.0.0.0.
pub fn conflicts(used: &[HostPort], want: &HostPort) -> bool {
    used.iter().any(|u| {
        u.port == want.port
            && u.protocol == want.protocol
            && (want.ip == "0.0.0.0" || u.ip == "0.0.0.0" || u.ip == want.ip)
    })
}
