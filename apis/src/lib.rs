//! Kubernetes 1.33's per-kind defaulting and validation of the built-in API types, on objects
//! held as JSON: pkg/apis/<group>/v1/defaults.go and pkg/apis/<group>/validation, with the bits
//! of the REST strategies that shape what is validated (generated Job selectors, Service
//! clusterIPs and IP families).
//!
//! | module           | Kubernetes counterpart                                            |
//! |------------------|-------------------------------------------------------------------|
//! | `core`           | pkg/apis/core (Pod, Service, ConfigMap, Secret, PV, PVC, Node, ...) |
//! | `apps`           | pkg/apis/apps (Deployment, ReplicaSet, DaemonSet, StatefulSet)     |
//! | `batch`          | pkg/apis/batch (Job, CronJob)                                      |
//! | `networking`     | pkg/apis/networking (Ingress, IngressClass, NetworkPolicy)         |
//! | `rbac`           | pkg/apis/rbac (Role, ClusterRole, RoleBinding, ClusterRoleBinding) |
//! | `storage`        | pkg/apis/storage (StorageClass, CSIDriver)                         |
//! | `discovery`      | pkg/apis/discovery (EndpointSlice)                                 |
//! | `coordination`   | pkg/apis/coordination (Lease)                                      |
//! | [`quantity`]     | k8s.io/apimachinery/pkg/api/resource                               |
//! | `field`, `meta`  | util/validation/field, apis/meta/v1/validation                     |
//! | `net`, `cron`, `image`, `gofmt` | IPs and CIDRs, cron schedules, image tags, Go's `%#v` |
//!
//! Every function takes the object as decoded from the client (already shape-checked) and
//! never fails: what is wrong comes back as [`FieldError`]s in Kubernetes' paths and words.

mod apps;
mod batch;
mod coordination;
mod core;
mod cron;
mod discovery;
mod field;
mod gofmt;
mod image;
mod json;
mod meta;
mod net;
mod networking;
pub mod quantity;
mod rbac;
mod storage;

pub use apimachinery::field::{FieldError, FieldErrorKind};
use serde_json::Value;

/// Applies Kubernetes 1.33's defaults for this kind to a decoded object (JSON as the client
/// sent it, already shape-checked). Unknown kinds: nothing.
///
/// Jobs also get the Job strategy's generated selector and pod labels, which need
/// `metadata.uid` and `metadata.name` to be set already.
pub fn default(group: &str, kind: &str, obj: &mut Value) {
    match group {
        "" => core::default(kind, obj),
        "apps" => apps::default(kind, obj),
        "batch" => batch::default(kind, obj),
        "networking.k8s.io" => networking::default(kind, obj),
        "rbac.authorization.k8s.io" => rbac::default(kind, obj),
        "storage.k8s.io" => storage::default(kind, obj),
        "discovery.k8s.io" => discovery::default(kind, obj),
        _ => {}
    }
}

/// Validates a create (old = None) or an update (old = Some(stored object)) of this kind,
/// after defaulting. Returns every error, in Kubernetes' field paths and wording. Metadata
/// name/labels/annotations are the server's to check; this checks spec/data/etc., plus
/// immutability on update.
pub fn validate(group: &str, kind: &str, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    match group {
        "" => core::validate(kind, obj, old),
        "apps" => apps::validate(kind, obj, old),
        "batch" => batch::validate(kind, obj, old),
        "networking.k8s.io" => networking::validate(kind, obj, old),
        "rbac.authorization.k8s.io" => rbac::validate(kind, obj, old),
        "storage.k8s.io" => storage::validate(kind, obj, old),
        "discovery.k8s.io" => discovery::validate(kind, obj, old),
        "coordination.k8s.io" => coordination::validate(kind, obj),
        _ => Vec::new(),
    }
}

/// Validates a write to the `/status` subresource (Kubernetes' *StatusUpdate validators):
/// counts that may not be negative, what a status may not change (a Pod's QoS class, a
/// Namespace's phase). `obj` is the stored object with the new status; `old` the stored one.
pub fn validate_status(group: &str, kind: &str, obj: &Value, old: &Value) -> Vec<FieldError> {
    match group {
        "" => core::validate_status(kind, obj, old),
        "apps" => apps::validate_status(kind, obj, old),
        "batch" => batch::validate_status(kind, obj),
        _ => Vec::new(),
    }
}

/// What a kind's update strategy does to the new object before validation (call after
/// [`default`]): a Service gets back the cluster IPs and node ports the client left out and
/// loses fields its new type no longer uses. Other kinds: nothing.
pub fn prepare_update(group: &str, kind: &str, obj: &mut Value, old: &Value) {
    if group.is_empty() {
        core::prepare_update(kind, obj, old);
    }
}
