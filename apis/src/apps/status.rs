//! Status writes of the workloads: ValidateDeploymentStatusUpdate,
//! ValidateReplicaSetStatusUpdate (and the ReplicationController's), ValidateDaemonSetStatusUpdate,
//! ValidateStatefulSetStatusUpdate.

use crate::field::{ErrorList, Path, invalid, nonnegative_fields};
use crate::json;
use serde_json::Value;

pub fn validate_status(kind: &str, obj: &Value, old: &Value) -> ErrorList {
    let p = Path::new("status");
    let mut errs = match kind {
        "Deployment" => deployment_counts(obj, &p),
        "ReplicaSet" => replica_counts(obj, &p),
        "DaemonSet" => daemon_set_counts(obj, &p),
        "StatefulSet" => stateful_set_counts(obj, &p),
        _ => return Vec::new(),
    };
    if kind != "ReplicaSet" {
        errs.extend(collision_count_not_decremented(obj, old, &p));
    }
    errs
}

fn count(obj: &Value, f: &str) -> i64 {
    obj.pointer(&format!("/status/{f}")).and_then(Value::as_i64).unwrap_or(0)
}

/// `cannot be greater than status.replicas` for each count above the replicas.
fn at_most_replicas(obj: &Value, fields: &[&str], p: &Path) -> ErrorList {
    let replicas = count(obj, "replicas");
    fields
        .iter()
        .filter(|f| count(obj, f) > replicas)
        .map(|f| invalid(&p.child(f), count(obj, f), "cannot be greater than status.replicas"))
        .collect()
}

fn available_at_most_ready(obj: &Value, detail: &str, p: &Path) -> ErrorList {
    let available = count(obj, "availableReplicas");
    if available > count(obj, "readyReplicas") {
        return vec![invalid(&p.child("availableReplicas"), available, detail.to_string())];
    }
    Vec::new()
}

/// ValidateReplicaSetStatus (also ValidateReplicationControllerStatus).
pub fn replica_counts(obj: &Value, p: &Path) -> ErrorList {
    let fields = ["replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration"];
    let mut errs = nonnegative_fields(obj, "/status", &fields, p);
    errs.extend(at_most_replicas(obj, &["fullyLabeledReplicas", "readyReplicas", "availableReplicas"], p));
    errs.extend(available_at_most_ready(obj, "cannot be greater than readyReplicas", p));
    errs
}

/// ValidateDeploymentStatus.
fn deployment_counts(obj: &Value, p: &Path) -> ErrorList {
    let fields = [
        "observedGeneration",
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
        "unavailableReplicas",
        "collisionCount",
    ];
    let mut errs = nonnegative_fields(obj, "/status", &fields, p);
    errs.extend(at_most_replicas(obj, &["updatedReplicas", "readyReplicas", "availableReplicas"], p));
    errs.extend(available_at_most_ready(obj, "cannot be greater than readyReplicas", p));
    errs
}

/// validateDaemonSetStatus.
fn daemon_set_counts(obj: &Value, p: &Path) -> ErrorList {
    let fields = [
        "currentNumberScheduled",
        "numberMisscheduled",
        "desiredNumberScheduled",
        "numberReady",
        "observedGeneration",
        "updatedNumberScheduled",
        "numberAvailable",
        "numberUnavailable",
        "collisionCount",
    ];
    nonnegative_fields(obj, "/status", &fields, p)
}

/// ValidateStatefulSetStatus.
fn stateful_set_counts(obj: &Value, p: &Path) -> ErrorList {
    let fields = [
        "replicas",
        "readyReplicas",
        "currentReplicas",
        "updatedReplicas",
        "availableReplicas",
        "observedGeneration",
        "collisionCount",
    ];
    let mut errs = nonnegative_fields(obj, "/status", &fields, p);
    errs.extend(at_most_replicas(
        obj,
        &["readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas"],
        p,
    ));
    errs.extend(available_at_most_ready(obj, "cannot be greater than status.readyReplicas", p));
    errs
}

/// IsDecremented: the collision count only grows.
fn collision_count_not_decremented(new: &Value, old: &Value, p: &Path) -> ErrorList {
    let get = |o: &Value| json::at(o, "/status/collisionCount").and_then(Value::as_i64);
    let decremented = match (get(new), get(old)) {
        (None, Some(_)) => true,
        (Some(n), Some(o)) => n < o,
        _ => false,
    };
    if decremented {
        return vec![invalid(&p.child("collisionCount"), get(new).unwrap_or(0), "cannot be decremented")];
    }
    Vec::new()
}
