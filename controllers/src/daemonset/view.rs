//! A DaemonSet with Kubernetes' defaults applied (RollingUpdate, maxUnavailable 1,
//! maxSurge 0, revisionHistoryLimit 10).

use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The update strategy.
#[derive(Clone, Debug, PartialEq)]
pub enum Strategy {
    OnDelete,
    RollingUpdate { max_unavailable: IntOrString, max_surge: IntOrString },
}

#[derive(Clone, Debug)]
pub struct View {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub generation: i64,
    pub deleting: bool,
    pub annotations: std::collections::BTreeMap<String, String>,
    pub selector: LabelSelector,
    pub template: PodTemplateSpec,
    pub strategy: Strategy,
    pub min_ready_seconds: i32,
    pub revision_history_limit: i32,
    pub status: DaemonSetStatus,
}

impl View {
    pub fn of(ds: &DaemonSet) -> View {
        let spec = ds.spec.clone().unwrap_or_default();
        let strategy = match spec.update_strategy.as_ref().and_then(|s| s.type_.as_deref()) {
            Some("OnDelete") => Strategy::OnDelete,
            _ => {
                let ru = spec.update_strategy.and_then(|s| s.rolling_update).unwrap_or_default();
                Strategy::RollingUpdate {
                    max_unavailable: ru.max_unavailable.unwrap_or(IntOrString::Int(1)),
                    max_surge: ru.max_surge.unwrap_or(IntOrString::Int(0)),
                }
            }
        };
        View {
            name: ds.metadata.name.clone().unwrap_or_default(),
            namespace: ds.metadata.namespace.clone().unwrap_or_default(),
            uid: ds.metadata.uid.clone().unwrap_or_default(),
            generation: ds.metadata.generation.unwrap_or_default(),
            deleting: ds.metadata.deletion_timestamp.is_some(),
            annotations: ds.metadata.annotations.clone().unwrap_or_default(),
            selector: spec.selector,
            template: spec.template,
            strategy,
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            revision_history_limit: spec.revision_history_limit.unwrap_or(10),
            status: ds.status.clone().unwrap_or_default(),
        }
    }

    /// (maxSurge, maxUnavailable) for `desired` nodes, percents rounded up, as Kubernetes'
    /// SurgeCount and UnavailableCount; never both zero when there is anything to run.
    pub fn update_budget(&self, desired: i32) -> (i32, i32) {
        let Strategy::RollingUpdate { max_unavailable, max_surge } = &self.strategy else {
            return (0, 0);
        };
        let surge = crate::deployment::scaled(max_surge, desired, true);
        let unavailable = crate::deployment::scaled(max_unavailable, desired, true);
        if desired > 0 && surge == 0 && unavailable == 0 {
            return (0, 1);
        }
        (surge, unavailable)
    }
}
