//! The storage.k8s.io group: StorageClasses and CSIDrivers (pkg/apis/storage/v1/defaults.go,
//! pkg/apis/storage/validation).

use crate::field::{ErrorList, Path, forbidden, immutable, invalid, not_supported, required, too_long};
use crate::json::{self, default_nil, ensure_object};
use crate::meta;
use serde_json::{Value, json};

pub fn default(kind: &str, obj: &mut Value) {
    match kind {
        "StorageClass" => {
            default_nil(obj, "reclaimPolicy", json!("Delete"));
            default_nil(obj, "volumeBindingMode", json!("Immediate"));
        }
        "CSIDriver" => default_csi_driver(obj),
        _ => {}
    }
}

/// SetDefaults_CSIDriver.
fn default_csi_driver(obj: &mut Value) {
    let Some(spec) = ensure_object(obj, "spec") else {
        return;
    };
    default_nil(spec, "attachRequired", json!(true));
    default_nil(spec, "podInfoOnMount", json!(false));
    default_nil(spec, "storageCapacity", json!(false));
    default_nil(spec, "fsGroupPolicy", json!("ReadWriteOnceWithFSType"));
    default_nil(spec, "requiresRepublish", json!(false));
    default_nil(spec, "seLinuxMount", json!(false));
    if json::items(spec, "volumeLifecycleModes").is_empty() {
        spec["volumeLifecycleModes"] = json!(["Persistent"]);
    }
}

pub fn validate(kind: &str, obj: &Value, old: Option<&Value>) -> ErrorList {
    match (kind, old) {
        ("StorageClass", None) => validate_storage_class(obj),
        ("StorageClass", Some(old)) => validate_storage_class_update(obj, old),
        _ => Vec::new(),
    }
}

/// ValidateStorageClass.
fn validate_storage_class(sc: &Value) -> ErrorList {
    let provisioner = json::string(sc, "provisioner");
    let pp = Path::new("provisioner");
    let mut errs = Vec::new();
    if provisioner.is_empty() {
        errs.push(required(&pp, ""));
    } else {
        errs.extend(meta::validate_label_name(&provisioner.to_lowercase(), &pp));
    }
    errs.extend(validate_parameters(sc, &Path::new("parameters")));
    if let Some(policy) = json::str_of(sc, "reclaimPolicy").filter(|p| !p.is_empty())
        && policy != "Delete"
        && policy != "Retain"
    {
        errs.push(not_supported(&Path::new("reclaimPolicy"), policy, &["Delete", "Retain"]));
    }
    let mp = Path::new("volumeBindingMode");
    match json::str_of(sc, "volumeBindingMode") {
        None => errs.push(required(&mp, "")),
        Some("Immediate" | "WaitForFirstConsumer") => {}
        Some(other) => errs.push(not_supported(&mp, other, &["Immediate", "WaitForFirstConsumer"])),
    }
    errs.extend(validate_allowed_topologies(sc));
    errs
}

/// validateParameters: at most 512 parameters and 256 KiB, no empty keys.
fn validate_parameters(sc: &Value, p: &Path) -> ErrorList {
    let Some(params) = json::object(sc, "parameters") else {
        return Vec::new();
    };
    if params.len() > 512 {
        return vec![too_long(p, 512)];
    }
    let mut errs = Vec::new();
    let mut size = 0;
    for (k, v) in params {
        if k.is_empty() {
            errs.push(invalid(p, k.as_str(), "field can not be empty."));
        }
        size += k.len() + v.as_str().map_or(0, str::len);
    }
    if size > 256 * 1024 {
        errs.push(too_long(p, 256 * 1024));
    }
    errs
}

/// validateAllowedTopologies: label requirements with values, each key once per term.
fn validate_allowed_topologies(sc: &Value) -> ErrorList {
    let p = Path::new("allowedTopologies");
    let mut errs = Vec::new();
    for (i, term) in json::items(sc, "allowedTopologies").iter().enumerate() {
        let ep = p.index(i).child("matchLabelExpressions");
        let mut keys = Vec::new();
        for (j, req) in json::items(term, "matchLabelExpressions").iter().enumerate() {
            let rp = ep.index(j);
            let key = json::string(req, "key");
            if json::items(req, "values").is_empty() {
                errs.push(required(&rp.child("values"), ""));
            }
            errs.extend(meta::validate_label_name(key, &rp.child("key")));
            if keys.contains(&key) {
                errs.push(crate::field::duplicate(&rp.child("key"), key));
            }
            keys.push(key);
        }
    }
    errs
}

/// ValidateStorageClassUpdate: parameters, provisioner, reclaim policy and binding mode are fixed.
fn validate_storage_class_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = Vec::new();
    let changed = |f: &str| !json::semantic_eq(new.get(f), old.get(f));
    if changed("parameters") {
        errs.push(forbidden(&Path::new("parameters"), "updates to parameters are forbidden."));
    }
    if json::string(new, "provisioner") != json::string(old, "provisioner") {
        errs.push(forbidden(&Path::new("provisioner"), "updates to provisioner are forbidden."));
    }
    if changed("reclaimPolicy") {
        errs.push(forbidden(&Path::new("reclaimPolicy"), "updates to reclaimPolicy are forbidden."));
    }
    errs.extend(immutable(new.get("volumeBindingMode"), old.get("volumeBindingMode"), &Path::new("volumeBindingMode")));
    errs
}
