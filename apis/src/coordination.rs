//! The coordination.k8s.io group: Leases (pkg/apis/coordination/validation).

use crate::field::{ErrorList, Path, forbidden, invalid};
use crate::json;
use serde_json::Value;

pub fn validate(kind: &str, obj: &Value) -> ErrorList {
    if kind != "Lease" {
        return Vec::new();
    }
    let p = Path::new("spec");
    let spec = json::get(obj, "spec").cloned().unwrap_or_default();
    let mut errs = Vec::new();
    if let Some(d) = json::int(&spec, "leaseDurationSeconds").filter(|d| *d <= 0) {
        errs.push(invalid(&p.child("leaseDurationSeconds"), d, "must be greater than 0"));
    }
    if let Some(t) = json::int(&spec, "leaseTransitions").filter(|t| *t < 0) {
        errs.push(invalid(&p.child("leaseTransitions"), t, "must be greater than or equal to 0"));
    }
    let strategy = json::string(&spec, "strategy");
    if !strategy.is_empty() && strategy != "OldestEmulationVersion" {
        errs.push(crate::field::not_supported(&p.child("strategy"), strategy, &["OldestEmulationVersion"]));
    }
    if !json::string(&spec, "preferredHolder").is_empty() && strategy.is_empty() {
        errs.push(forbidden(&p.child("preferredHolder"), "may only be specified if `strategy` is defined"));
    }
    errs
}
