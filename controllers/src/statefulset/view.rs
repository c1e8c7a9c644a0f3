//! A StatefulSet with Kubernetes' defaults applied (replicas 1, OrderedReady, RollingUpdate
//! with partition 0, revisionHistoryLimit 10, PVC retention Retain).

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

#[derive(Clone, Debug)]
pub struct View {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub generation: i64,
    pub deleting: bool,
    pub annotations: std::collections::BTreeMap<String, String>,
    pub replicas: i32,
    pub start: i32,
    pub selector: LabelSelector,
    pub template: PodTemplateSpec,
    pub service_name: String,
    pub claims: Vec<PersistentVolumeClaim>,
    /// Parallel rather than OrderedReady.
    pub parallel: bool,
    pub on_delete: bool,
    pub partition: i32,
    pub min_ready_seconds: i32,
    pub revision_history_limit: i32,
    /// persistentVolumeClaimRetentionPolicy.whenDeleted is Delete.
    pub delete_claims_with_set: bool,
    pub status: StatefulSetStatus,
}

impl View {
    pub fn of(set: &StatefulSet) -> View {
        let spec = set.spec.clone().unwrap_or_default();
        let strategy = spec.update_strategy.unwrap_or_default();
        let when_deleted = spec.persistent_volume_claim_retention_policy.and_then(|p| p.when_deleted);
        View {
            name: set.metadata.name.clone().unwrap_or_default(),
            namespace: set.metadata.namespace.clone().unwrap_or_default(),
            uid: set.metadata.uid.clone().unwrap_or_default(),
            generation: set.metadata.generation.unwrap_or_default(),
            deleting: set.metadata.deletion_timestamp.is_some(),
            annotations: set.metadata.annotations.clone().unwrap_or_default(),
            replicas: spec.replicas.unwrap_or(1).max(0),
            start: spec.ordinals.and_then(|o| o.start).unwrap_or(0).max(0),
            selector: spec.selector,
            template: spec.template,
            service_name: spec.service_name.unwrap_or_default(),
            claims: spec.volume_claim_templates.unwrap_or_default(),
            parallel: spec.pod_management_policy.as_deref() == Some("Parallel"),
            on_delete: strategy.type_.as_deref() == Some("OnDelete"),
            partition: strategy.rolling_update.and_then(|r| r.partition).unwrap_or(0).max(0),
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            revision_history_limit: spec.revision_history_limit.unwrap_or(10),
            delete_claims_with_set: when_deleted.as_deref() == Some("Delete"),
            status: set.status.clone().unwrap_or_default(),
        }
    }
}
