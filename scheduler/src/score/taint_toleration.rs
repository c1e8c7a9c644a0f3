//! TaintToleration scoring: fewer untolerated PreferNoSchedule taints score higher.

use super::{ScorePlugin, default_normalize};
use crate::filter::taint_toleration::tolerates;
use crate::framework::{CycleState, Plugin};
use crate::node_info::NodeInfo;
use crate::pod_info::PodInfo;

/// The plugin.
pub struct TaintToleration;

impl ScorePlugin for TaintToleration {
    fn plugin(&self) -> Plugin {
        Plugin::TaintToleration
    }

    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let tolerations: Vec<_> = pod
            .tolerations()
            .iter()
            .filter(|t| matches!(t.effect.as_deref(), None | Some("") | Some("PreferNoSchedule")))
            .collect();
        let untolerated = node
            .taints
            .iter()
            .filter(|taint| taint.effect == "PreferNoSchedule")
            .filter(|taint| !tolerations.iter().any(|t| tolerates(t, taint)))
            .count();
        i64::try_from(untolerated).unwrap_or(i64::MAX)
    }

    fn normalize(&self, _: &CycleState, _: &[&NodeInfo], scores: &mut [i64]) {
        default_normalize(scores, true);
    }
}
