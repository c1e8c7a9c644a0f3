//! The apps group: Deployments, ReplicaSets, DaemonSets, StatefulSets
//! (pkg/apis/apps/v1/defaults.go, pkg/apis/apps/validation, pkg/registry/apps/*/strategy.go).

mod rollout;
mod status;
mod validation;

pub(crate) use status::replica_counts;

use crate::core::{default_claim_spec, default_pod_spec};
use crate::field::ErrorList;
use crate::json::{self, default_nil, default_zero, each_mut, ensure_object, with_mut};
use serde_json::{Value, json};

pub fn default(kind: &str, obj: &mut Value) {
    if !matches!(kind, "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet") {
        return;
    }
    let Some(spec) = ensure_object(obj, "spec") else {
        return;
    };
    match kind {
        "Deployment" => default_deployment(spec),
        "ReplicaSet" => default_nil(spec, "replicas", json!(1)),
        "DaemonSet" => default_daemon_set(spec),
        "StatefulSet" => default_stateful_set(spec),
        _ => return,
    }
    with_mut(spec, "/template/spec", default_pod_spec);
}

/// SetDefaults_Deployment.
fn default_deployment(spec: &mut Value) {
    default_nil(spec, "replicas", json!(1));
    if let Some(strategy) = ensure_object(spec, "strategy") {
        default_zero(strategy, "type", json!("RollingUpdate"));
        if json::string(strategy, "type") == "RollingUpdate"
            && let Some(ru) = ensure_object(strategy, "rollingUpdate")
        {
            default_nil(ru, "maxUnavailable", json!("25%"));
            default_nil(ru, "maxSurge", json!("25%"));
        }
    }
    default_nil(spec, "revisionHistoryLimit", json!(10));
    default_nil(spec, "progressDeadlineSeconds", json!(600));
}

/// SetDefaults_DaemonSet.
fn default_daemon_set(spec: &mut Value) {
    if let Some(strategy) = ensure_object(spec, "updateStrategy") {
        default_zero(strategy, "type", json!("RollingUpdate"));
        if json::string(strategy, "type") == "RollingUpdate"
            && let Some(ru) = ensure_object(strategy, "rollingUpdate")
        {
            default_nil(ru, "maxUnavailable", json!(1));
            default_nil(ru, "maxSurge", json!(0));
        }
    }
    default_nil(spec, "revisionHistoryLimit", json!(10));
}

/// SetDefaults_StatefulSet (StatefulSetAutoDeletePVC is GA; MaxUnavailableStatefulSet is off)
/// and the PVC defaults of its claim templates.
fn default_stateful_set(spec: &mut Value) {
    default_zero(spec, "podManagementPolicy", json!("OrderedReady"));
    if let Some(strategy) = ensure_object(spec, "updateStrategy") {
        if json::is_zero(strategy.get("type")) {
            strategy["type"] = json!("RollingUpdate");
            default_nil(strategy, "rollingUpdate", json!({}));
        }
        if json::string(strategy, "type") == "RollingUpdate" {
            json::with_mut(strategy, "/rollingUpdate", |ru| default_nil(ru, "partition", json!(0)));
        }
    }
    if let Some(policy) = ensure_object(spec, "persistentVolumeClaimRetentionPolicy") {
        default_zero(policy, "whenDeleted", json!("Retain"));
        default_zero(policy, "whenScaled", json!("Retain"));
    }
    default_nil(spec, "replicas", json!(1));
    default_nil(spec, "revisionHistoryLimit", json!(10));
    each_mut(spec, "volumeClaimTemplates", |pvc| {
        if let Some(status) = ensure_object(pvc, "status") {
            default_zero(status, "phase", json!("Pending"));
        }
        with_mut(pvc, "/spec", default_claim_spec);
    });
}

pub fn validate(kind: &str, obj: &Value, old: Option<&Value>) -> ErrorList {
    let mut errs = match kind {
        "Deployment" => validation::validate_deployment(obj),
        "ReplicaSet" => validation::validate_replica_set(obj),
        "DaemonSet" => validation::validate_daemon_set(obj),
        "StatefulSet" => validation::validate_stateful_set(obj),
        _ => return Vec::new(),
    };
    if let Some(old) = old {
        errs.extend(validation::validate_update(kind, obj, old));
    }
    errs
}

pub fn validate_status(kind: &str, obj: &Value, old: &Value) -> ErrorList {
    status::validate_status(kind, obj, old)
}
