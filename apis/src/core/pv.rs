//! PersistentVolumes and PersistentVolumeClaims: their defaults (SetDefaults_PersistentVolume,
//! SetDefaults_PersistentVolumeClaim(Spec)) and ValidatePersistentVolume(Claim)(Update).

use super::pod_defaults::{default_rbd, round_resource_list};
use super::{scheduling, volume};
use crate::field::{ErrorList, Path, forbidden, invalid, not_supported, not_supported_go, required, too_long};
use crate::json::{self, default_nil, default_zero, with_mut};
use crate::meta;
use apimachinery::validation as v;
use serde_json::{Value, json};

const ACCESS_MODES: [&str; 4] = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const VOLUME_MODES: [&str; 2] = ["Block", "Filesystem"];

/// SetDefaults_PersistentVolume.
pub fn default_pv(pv: &mut Value) {
    if let Some(status) = json::ensure_object(pv, "status") {
        default_zero(status, "phase", json!("Pending"));
    }
    let Some(spec) = json::ensure_object(pv, "spec") else {
        return;
    };
    default_zero(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
    default_nil(spec, "volumeMode", json!("Filesystem"));
    with_mut(spec, "/capacity", round_resource_list);
    with_mut(spec, "/hostPath", |h| default_nil(h, "type", json!("")));
    with_mut(spec, "/rbd", default_rbd);
    with_mut(spec, "/iscsi", |s| default_zero(s, "iscsiInterface", json!("default")));
}

/// SetDefaults_PersistentVolumeClaim: a new claim is Pending.
pub fn default_pvc(pvc: &mut Value) {
    if let Some(status) = json::ensure_object(pvc, "status") {
        default_zero(status, "phase", json!("Pending"));
    }
    if let Some(spec) = json::ensure_object(pvc, "spec") {
        default_claim_spec(spec);
    }
}

/// SetDefaults_PersistentVolumeClaimSpec.
pub fn default_claim_spec(spec: &mut Value) {
    default_nil(spec, "volumeMode", json!("Filesystem"));
    with_mut(spec, "/resources", |r| {
        with_mut(r, "/requests", round_resource_list);
        with_mut(r, "/limits", round_resource_list);
    });
}

fn validate_access_modes(spec: &Value, p: &Path, empty_detail: &str) -> ErrorList {
    let modes = json::items(spec, "accessModes");
    let mp = p.child("accessModes");
    let mut errs = Vec::new();
    if modes.is_empty() {
        errs.push(required(&mp, empty_detail));
    }
    let (mut rwop, mut other) = (false, false);
    for m in modes {
        let m = m.as_str().unwrap_or_default();
        if !ACCESS_MODES.contains(&m) {
            errs.push(not_supported(&mp, m, &ACCESS_MODES));
        } else if m == "ReadWriteOncePod" {
            rwop = true;
        } else {
            other = true;
        }
    }
    if rwop && other {
        errs.push(forbidden(&mp, "may not use ReadWriteOncePod with other access modes"));
    }
    errs
}

fn validate_volume_mode(spec: &Value, p: &Path) -> ErrorList {
    match json::str_of(spec, "volumeMode") {
        Some(m) if !VOLUME_MODES.contains(&m) => vec![not_supported(&p.child("volumeMode"), m, &VOLUME_MODES)],
        _ => Vec::new(),
    }
}

fn validate_class_name(spec: &Value, field: &str, p: &Path) -> ErrorList {
    let name = json::string(spec, field);
    if name.is_empty() {
        return Vec::new();
    }
    v::is_dns1123_subdomain(name).into_iter().map(|m| invalid(&p.child(field), name, m)).collect()
}

/// ValidatePersistentVolumeClaimSpec.
pub fn validate_claim_spec(spec: &Value, p: &Path) -> ErrorList {
    let mut errs = validate_access_modes(spec, p, "at least 1 access mode is required");
    errs.extend(meta::validate_label_selector(spec.get("selector"), &p.child("selector")));
    let sp = p.child("resources").key("storage");
    match spec.pointer("/resources/requests/storage") {
        None => errs.push(required(&sp, "")),
        Some(raw) => match super::resources::parse_quantity(raw, &sp) {
            Ok(q) if q.is_zero() || q.is_negative() => {
                errs.push(invalid(&sp, q.canonical(), "must be greater than zero"))
            }
            Ok(_) => {}
            Err(e) => errs.push(*e),
        },
    }
    errs.extend(validate_class_name(spec, "storageClassName", p));
    errs.extend(validate_volume_mode(spec, p));
    for f in ["dataSource", "dataSourceRef"] {
        if let Some(ds) = json::get(spec, f) {
            errs.extend(validate_data_source(ds, &p.child(f)));
        }
    }
    errs
}

/// validateDataSource / validateDataSourceRef.
fn validate_data_source(ds: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    for f in ["name", "kind"] {
        if json::string(ds, f).is_empty() {
            errs.push(required(&p.child(f), ""));
        }
    }
    let group = json::string(ds, "apiGroup");
    let kind = json::string(ds, "kind");
    if group.is_empty() && kind != "PersistentVolumeClaim" {
        errs.push(invalid(p, kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
    }
    if !group.is_empty() {
        errs.extend(v::is_dns1123_subdomain(group).into_iter().map(|m| invalid(&p.child("apiGroup"), group, m)));
    }
    errs
}

pub fn validate_pvc(pvc: &Value) -> ErrorList {
    let spec = json::get(pvc, "spec").cloned().unwrap_or_default();
    validate_claim_spec(&spec, &Path::new("spec"))
}

/// ValidatePersistentVolumeClaimUpdate: a claim's spec is immutable, save its volumeName
/// (set once) and, once bound, a larger storage request.
pub fn validate_pvc_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_pvc(new);
    let spec = json::get(new, "spec").cloned().unwrap_or_default();
    let old_spec = json::get(old, "spec").cloned().unwrap_or_default();
    let mut munged = spec.clone();
    let mut base = old_spec.clone();
    if json::string(&old_spec, "volumeName").is_empty() {
        base["volumeName"] = spec.get("volumeName").cloned().unwrap_or(Value::Null);
    }
    if old_spec.get("storageClassName").is_none() {
        base["storageClassName"] = spec.get("storageClassName").cloned().unwrap_or(Value::Null);
    }
    let bound = new.pointer("/status/phase").and_then(Value::as_str) == Some("Bound");
    if bound
        && let Some(s) = old_spec.pointer("/resources/requests/storage")
        && let Some(r) = munged.pointer_mut("/resources/requests").and_then(Value::as_object_mut)
    {
        r.insert("storage".to_string(), s.clone());
    }
    if !json::semantic_eq(Some(&munged), Some(&base)) {
        errs.push(forbidden(
            &Path::new("spec"),
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        ));
    }
    errs.extend(storage_not_decreased(&spec, &old_spec));
    errs.extend(crate::field::immutable(spec.get("volumeMode"), old_spec.get("volumeMode"), &Path::new("volumeMode")));
    errs
}

fn storage_not_decreased(spec: &Value, old: &Value) -> ErrorList {
    let q = |s: &Value| {
        s.pointer("/resources/requests/storage")
            .and_then(|raw| super::resources::parse_quantity(raw, &Path::new("x")).ok())
    };
    match (q(spec), q(old)) {
        (Some(n), Some(o)) if n < o => vec![forbidden(
            &Path::new("spec").children(&["resources", "requests", "storage"]),
            "field can not be less than previous value",
        )],
        _ => Vec::new(),
    }
}

/// PersistentVolume sources, in ValidatePersistentVolumeSpec's order.
const PV_SOURCES: [&str; 22] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "flocker",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "scaleIO",
    "local",
    "storageos",
    "csi",
];

/// ValidatePersistentVolume.
pub fn validate_pv(pv: &Value) -> ErrorList {
    let p = Path::new("spec");
    let spec = json::get(pv, "spec").cloned().unwrap_or_default();
    let mut errs = validate_access_modes(&spec, &p, "");
    errs.extend(validate_capacity(&spec, &p.child("capacity")));
    if let Some(policy) = json::str_of(&spec, "persistentVolumeReclaimPolicy").filter(|s| !s.is_empty()) {
        let allowed = ["Delete", "Recycle", "Retain"];
        if !allowed.contains(&policy) {
            errs.push(not_supported(&p.child("persistentVolumeReclaimPolicy"), policy, &allowed));
        }
    }
    let affinity = json::get(&spec, "nodeAffinity");
    if let Some(na) = affinity {
        match json::get(na, "required") {
            Some(r) => errs.extend(scheduling::validate_node_selector(r, &p.children(&["nodeAffinity", "required"]))),
            None => errs
                .push(required(&p.children(&["nodeAffinity", "required"]), "must specify required node constraints")),
        }
    }
    errs.extend(validate_pv_sources(&spec, affinity.is_some(), &p));
    let root_path = spec
        .pointer("/hostPath/path")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty() && s.trim_end_matches('/').is_empty());
    let root_recycle = root_path && json::string(&spec, "persistentVolumeReclaimPolicy") == "Recycle";
    if root_recycle {
        errs.push(forbidden(
            &p.child("persistentVolumeReclaimPolicy"),
            "may not be 'recycle' for a hostPath mount of '/'",
        ));
    }
    errs.extend(validate_class_name(&spec, "storageClassName", &p));
    errs.extend(validate_volume_mode(&spec, &p));
    errs
}

fn validate_capacity(spec: &Value, p: &Path) -> ErrorList {
    let Some(cap) = json::object(spec, "capacity").filter(|c| !c.is_empty()) else {
        return vec![required(p, ""), not_supported_go(p, "core.ResourceList(nil)", &["storage"])];
    };
    let mut errs = Vec::new();
    if !cap.contains_key("storage") || cap.len() > 1 {
        errs.push(not_supported(p, Value::Object(cap.clone()), &["storage"]));
    }
    for (name, raw) in cap {
        let rp = p.key(name);
        match super::resources::parse_quantity(raw, &rp) {
            Ok(q) if q.is_negative() => errs.push(invalid(&rp, q.canonical(), "must be a valid resource quantity")),
            Ok(q) if q.is_zero() => errs.push(invalid(&rp, q.canonical(), "must be greater than zero")),
            Ok(_) => {}
            Err(e) => errs.push(*e),
        }
    }
    errs
}

fn validate_pv_sources(spec: &Value, has_affinity: bool, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let mut count = 0;
    for key in PV_SOURCES {
        let Some(src) = json::get(spec, key) else {
            continue;
        };
        if count > 0 && key != "flexVolume" {
            errs.push(forbidden(&p.child(key), "may not specify more than 1 volume type"));
            continue;
        }
        count += 1;
        errs.extend(validate_pv_source(key, src, has_affinity, &p.child(key), p));
    }
    if count == 0 {
        errs.push(required(p, "must specify a volume type"));
    }
    errs
}

fn validate_pv_source(key: &str, src: &Value, has_affinity: bool, sp: &Path, p: &Path) -> ErrorList {
    match key {
        "hostPath" => volume::validate_host_path(src, sp),
        "local" => {
            let path = json::string(src, "path");
            let mut errs = if path.is_empty() {
                vec![required(&sp.child("path"), "")]
            } else {
                volume::no_backsteps(path, &sp.child("path"))
            };
            if !has_affinity {
                errs.push(required(&p.child("nodeAffinity"), "Local volume requires node affinity"));
            }
            errs
        }
        "nfs" => {
            let mut errs = Vec::new();
            for f in ["server", "path"] {
                if json::string(src, f).is_empty() {
                    errs.push(required(&sp.child(f), ""));
                }
            }
            let path = json::string(src, "path");
            if !path.starts_with('/') {
                errs.push(invalid(&sp.child("path"), path, "must be an absolute path"));
            }
            errs
        }
        "csi" => {
            let mut errs = validate_csi_driver(json::string(src, "driver"), &sp.child("driver"));
            if json::string(src, "volumeHandle").is_empty() {
                errs.push(required(&sp.child("volumeHandle"), ""));
            }
            errs
        }
        _ => Vec::new(),
    }
}

/// ValidateCSIDriverName.
pub fn validate_csi_driver(name: &str, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push(required(p, ""));
    }
    if name.len() > 63 {
        errs.push(too_long(p, 63));
    }
    errs.extend(v::is_dns1123_subdomain(&name.to_lowercase()).into_iter().map(|m| invalid(p, name, m)));
    errs
}

/// ValidatePersistentVolumeUpdate: the volume source and mode never change.
pub fn validate_pv_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_pv(new);
    let source = |pv: &Value| -> Value {
        let spec = json::get(pv, "spec").cloned().unwrap_or_default();
        let mut out = serde_json::Map::new();
        for key in PV_SOURCES {
            if let Some(s) = json::get(&spec, key) {
                out.insert(key.to_string(), s.clone());
            }
        }
        Value::Object(out)
    };
    let (n, o) = (source(new), source(old));
    if !json::semantic_eq(Some(&n), Some(&o)) {
        errs.push(forbidden(
            &Path::new("spec").child("persistentvolumesource"),
            "spec.persistentvolumesource is immutable after creation",
        ));
    }
    errs.extend(crate::field::immutable(
        new.pointer("/spec/volumeMode"),
        old.pointer("/spec/volumeMode"),
        &Path::new("volumeMode"),
    ));
    if let Some(old_affinity) = json::at(old, "/spec/nodeAffinity") {
        let new_affinity = json::at(new, "/spec/nodeAffinity");
        if !json::semantic_eq(new_affinity, Some(old_affinity)) {
            errs.push(invalid(
                &Path::new("nodeAffinity"),
                new_affinity.cloned().unwrap_or(Value::Null),
                "field is immutable, except for updating from beta label to GA",
            ));
        }
    }
    errs
}
