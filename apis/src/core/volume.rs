//! Pod volumes and their use by containers: ValidateVolumes, validateVolumeSource,
//! ValidateVolumeMounts and ValidateVolumeDevices.

use super::env_source;
use crate::field::{ErrorList, Path, duplicate, forbidden, invalid, not_found, not_supported, required};
use crate::json;
use serde_json::Value;
use std::collections::HashMap;

/// The pod's valid volumes by name.
pub type Volumes = HashMap<String, Value>;

/// Volume sources in the order validateVolumeSource checks them, with the name its
/// "may not specify more than 1 volume type" error uses (Kubernetes' own spellings).
const SOURCES: [(&str, &str); 30] = [
    ("emptyDir", "emptyDir"),
    ("hostPath", "hostPath"),
    ("gitRepo", "gitRepo"),
    ("gcePersistentDisk", "gcePersistentDisk"),
    ("awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret"),
    ("nfs", "nfs"),
    ("iscsi", "iscsi"),
    ("glusterfs", "glusterfs"),
    ("flocker", "flocker"),
    ("persistentVolumeClaim", "persistentVolumeClaim"),
    ("rbd", "rbd"),
    ("cinder", "cinder"),
    ("cephfs", "cephFS"),
    ("quobyte", "quobyte"),
    ("downwardAPI", "downwarAPI"),
    ("fc", "fc"),
    ("flexVolume", "flexVolume"),
    ("configMap", "configMap"),
    ("azureFile", "azureFile"),
    ("vsphereVolume", "vsphereVolume"),
    ("photonPersistentDisk", "photonPersistentDisk"),
    ("portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk"),
    ("storageos", "storageos"),
    ("projected", "projected"),
    ("scaleIO", "scaleIO"),
    ("csi", "csi"),
    ("ephemeral", "ephemeral"),
    ("image", "image"),
];

/// ValidateVolumes: names are DNS-1123 labels, unique, each with exactly one source.
pub fn validate_volumes(spec: &Value, is_pod: bool, p: &Path) -> (Volumes, ErrorList) {
    let mut vols = Volumes::new();
    let mut errs = Vec::new();
    for (i, vol) in json::items(spec, "volumes").iter().enumerate() {
        let vp = p.index(i);
        let name = json::string(vol, "name");
        let mut el = validate_source(vol, is_pod, &vp);
        let np = vp.child("name");
        if name.is_empty() {
            el.push(required(&np, ""));
        } else {
            el.extend(super::container::dns_label(name, &np));
        }
        if vols.contains_key(name) {
            el.push(duplicate(&np, name));
        }
        if el.is_empty() {
            vols.insert(name.to_string(), vol.clone());
        }
        errs.extend(el);
    }
    (vols, errs)
}

/// validateVolumeSource: exactly one source, each checked.
fn validate_source(vol: &Value, is_pod: bool, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let mut count = 0;
    for (key, forbidden_name) in SOURCES {
        let Some(src) = json::get(vol, key) else {
            continue;
        };
        if count > 0 {
            errs.push(forbidden(&p.child(forbidden_name), "may not specify more than 1 volume type"));
            continue;
        }
        count += 1;
        errs.extend(validate_one_source(key, src, is_pod, &p.child(key)));
    }
    if count == 0 {
        errs.push(required(p, "must specify a volume type"));
    }
    errs
}

fn validate_one_source(key: &str, src: &Value, is_pod: bool, p: &Path) -> ErrorList {
    match key {
        "emptyDir" => validate_empty_dir(src, p),
        "hostPath" => validate_host_path(src, p),
        "secret" => validate_projection_like(src, "secretName", p),
        "configMap" => validate_projection_like(src, "name", p),
        "persistentVolumeClaim" => require_str(src, "claimName", p),
        "nfs" => validate_nfs(src, p),
        "downwardAPI" => validate_downward_api(src, p),
        "projected" => validate_projected(src, p),
        "csi" => super::pv::validate_csi_driver(json::string(src, "driver"), &p.child("driver")),
        "ephemeral" => validate_ephemeral(src, p),
        "image" => validate_image(src, is_pod, p),
        _ => Vec::new(),
    }
}

fn require_str(src: &Value, f: &str, p: &Path) -> ErrorList {
    if json::string(src, f).is_empty() {
        return vec![required(&p.child(f), "")];
    }
    Vec::new()
}

fn validate_empty_dir(src: &Value, p: &Path) -> ErrorList {
    let Some(limit) = json::get(src, "sizeLimit") else {
        return Vec::new();
    };
    let negative = super::resources::parse_quantity(limit, p).is_ok_and(|q| q.is_negative());
    if negative {
        return vec![forbidden(&p.child("sizeLimit"), "SizeLimit field must be a valid resource quantity")];
    }
    Vec::new()
}

/// validateHostPathVolumeSource.
pub fn validate_host_path(src: &Value, p: &Path) -> ErrorList {
    let path = json::string(src, "path");
    if path.is_empty() {
        return vec![required(&p.child("path"), "")];
    }
    let mut errs = no_backsteps(path, &p.child("path"));
    if let Some(t) = json::str_of(src, "type") {
        const TYPES: [&str; 8] =
            ["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"];
        if !TYPES.contains(&t) {
            errs.push(not_supported(&p.child("type"), t, &TYPES));
        }
    }
    errs
}

fn validate_nfs(src: &Value, p: &Path) -> ErrorList {
    let mut errs = require_str(src, "server", p);
    errs.extend(require_str(src, "path", p));
    let path = json::string(src, "path");
    if !path.starts_with('/') {
        errs.push(invalid(&p.child("path"), path, "must be an absolute path"));
    }
    errs
}

/// validateSecretVolumeSource / validateConfigMapVolumeSource.
fn validate_projection_like(src: &Value, name_field: &str, p: &Path) -> ErrorList {
    let mut errs = require_str(src, name_field, p);
    errs.extend(file_mode(src, "defaultMode", p));
    for (i, item) in json::items(src, "items").iter().enumerate() {
        errs.extend(validate_key_to_path(item, &p.child("items").index(i)));
    }
    errs
}

/// A file mode must be between 0 and 0777.
fn file_mode(src: &Value, f: &str, p: &Path) -> ErrorList {
    match json::int(src, f) {
        Some(m) if !(0..=0o777).contains(&m) => {
            vec![invalid(&p.child(f), m, "must be a number between 0 and 0777 (octal), both inclusive")]
        }
        _ => Vec::new(),
    }
}

/// validateKeyToPath.
fn validate_key_to_path(item: &Value, p: &Path) -> ErrorList {
    let mut errs = require_str(item, "key", p);
    errs.extend(require_str(item, "path", p));
    errs.extend(local_non_reserved_path(json::string(item, "path"), &p.child("path")));
    errs.extend(file_mode(item, "mode", p));
    errs
}

/// validateDownwardAPIVolumeSource.
fn validate_downward_api(src: &Value, p: &Path) -> ErrorList {
    let mut errs = file_mode(src, "defaultMode", p);
    for item in json::items(src, "items") {
        errs.extend(validate_downward_file(item, p));
    }
    errs
}

/// validVolumeDownwardAPIFieldPathExpressions, sorted.
const VOLUME_FIELD_PATHS: [&str; 5] =
    ["metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"];

/// validateDownwardAPIVolumeFile (errors are reported on the source's path, as Kubernetes does).
fn validate_downward_file(file: &Value, p: &Path) -> ErrorList {
    let mut errs = require_str(file, "path", p);
    errs.extend(local_non_reserved_path(json::string(file, "path"), &p.child("path")));
    match (json::get(file, "fieldRef"), json::get(file, "resourceFieldRef")) {
        (Some(f), r) => {
            errs.extend(env_source::validate_field_ref(f, &VOLUME_FIELD_PATHS, &p.child("fieldRef")));
            if r.is_some() {
                errs.push(invalid(p, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"));
            }
        }
        (None, Some(r)) => errs.extend(env_source::validate_resource_field_ref(r, true, &p.child("resourceFieldRef"))),
        (None, None) => errs.push(required(p, "one of fieldRef and resourceFieldRef is required")),
    }
    errs.extend(file_mode(file, "mode", p));
    errs
}

/// validateProjectedVolumeSource and validateProjectionSources.
fn validate_projected(src: &Value, p: &Path) -> ErrorList {
    let mut errs = file_mode(src, "defaultMode", p);
    for (i, source) in json::items(src, "sources").iter().enumerate() {
        let sp = p.child("sources").index(i);
        let kinds = ["secret", "configMap", "downwardAPI", "serviceAccountToken", "clusterTrustBundle"];
        let count = kinds.iter().filter(|k| json::get(source, k).is_some()).count();
        errs.extend(validate_projection(source, p, &sp));
        if count > 1 {
            errs.push(forbidden(&sp, "may not specify more than 1 volume type per source"));
        }
    }
    errs
}

fn validate_projection(source: &Value, p: &Path, sp: &Path) -> ErrorList {
    let mut errs = Vec::new();
    for kind in ["secret", "configMap"] {
        if let Some(s) = json::get(source, kind) {
            let kp = sp.child(kind);
            errs.extend(require_str(s, "name", &kp));
            for (i, item) in json::items(s, "items").iter().enumerate() {
                errs.extend(validate_key_to_path(item, &kp.child("items").index(i)));
            }
        }
    }
    if let Some(d) = json::get(source, "downwardAPI") {
        for item in json::items(d, "items") {
            errs.extend(validate_downward_file(item, &sp.child("downwardAPI")));
        }
    }
    if let Some(t) = json::get(source, "serviceAccountToken") {
        errs.extend(validate_token_projection(t, p, &sp.child("serviceAccountToken")));
    }
    errs
}

fn validate_token_projection(t: &Value, p: &Path, tp: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let secs = json::int(t, "expirationSeconds").unwrap_or(0);
    if secs < 600 {
        errs.push(invalid(&tp.child("expirationSeconds"), secs, "may not specify a duration less than 10 minutes"));
    }
    if secs > 1 << 32 {
        errs.push(invalid(&tp.child("expirationSeconds"), secs, "may not specify a duration larger than 2^32 seconds"));
    }
    match json::string(t, "path") {
        "" => errs.push(required(&p.child("path"), "")),
        path => errs.extend(local_non_reserved_path(path, &p.child("path"))),
    }
    errs
}

fn validate_ephemeral(src: &Value, p: &Path) -> ErrorList {
    let Some(tmpl) = json::get(src, "volumeClaimTemplate") else {
        return vec![required(&p.child("volumeClaimTemplate"), "")];
    };
    let tp = p.child("volumeClaimTemplate");
    let spec = json::get(tmpl, "spec").cloned().unwrap_or(Value::Null);
    super::pv::validate_claim_spec(&spec, &tp.child("spec"))
}

fn validate_image(src: &Value, is_pod: bool, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    if is_pod && json::string(src, "reference").is_empty() {
        errs.push(required(&p.child("reference"), ""));
    }
    match json::string(src, "pullPolicy") {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => errs.push(required(&p.child("pullPolicy"), "")),
        other => errs.push(not_supported(&p.child("pullPolicy"), other, &["Always", "IfNotPresent", "Never"])),
    }
    errs
}

/// validatePathNoBacksteps: no `..` element.
pub fn no_backsteps(path: &str, p: &Path) -> ErrorList {
    if path.split('/').any(|e| e == "..") {
        return vec![invalid(p, path, "must not contain '..'")];
    }
    Vec::new()
}

/// validateLocalDescendingPath: relative, no `..` element.
fn local_descending_path(path: &str, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    if path.starts_with('/') {
        errs.push(invalid(p, path, "must be a relative path"));
    }
    errs.extend(no_backsteps(path, p));
    errs
}

/// ValidateLocalNonReservedPath: also may not start with `..`.
fn local_non_reserved_path(path: &str, p: &Path) -> ErrorList {
    let mut errs = local_descending_path(path, p);
    if path.starts_with("..") && !path.starts_with("../") {
        errs.push(invalid(p, path, "must not start with '..'"));
    }
    errs
}

/// ValidateVolumeMounts of one container.
pub fn validate_mounts(c: &Value, vols: &Volumes, p: &Path) -> ErrorList {
    let devices: Vec<(&str, &str)> = json::items(c, "volumeDevices")
        .iter()
        .map(|d| (json::string(d, "name"), json::string(d, "devicePath")))
        .collect();
    let privileged = c.pointer("/securityContext/privileged") == Some(&Value::Bool(true));
    let mut errs = Vec::new();
    let mut mount_points = Vec::new();
    for (i, m) in json::items(c, "volumeMounts").iter().enumerate() {
        let mp = p.index(i);
        let (name, path) = (json::string(m, "name"), json::string(m, "mountPath"));
        errs.extend(validate_mount_target(name, path, vols, &mp));
        if mount_points.contains(&path) {
            errs.push(invalid(&mp.child("mountPath"), path, "must be unique"));
        }
        mount_points.push(path);
        if devices.iter().any(|(n, _)| *n == name) {
            errs.push(invalid(&mp.child("name"), name, "must not already exist in volumeDevices"));
        }
        if devices.iter().any(|(_, d)| *d == path) {
            errs.push(invalid(&mp.child("mountPath"), path, "must not already exist as a path in volumeDevices"));
        }
        errs.extend(validate_sub_paths(m, p));
        errs.extend(validate_propagation(m, privileged, p));
    }
    errs
}

fn validate_mount_target(name: &str, path: &str, vols: &Volumes, mp: &Path) -> ErrorList {
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push(required(&mp.child("name"), ""));
    }
    if !vols.contains_key(name) {
        errs.push(not_found(&mp.child("name"), name));
    }
    if path.is_empty() {
        errs.push(required(&mp.child("mountPath"), ""));
    }
    errs
}

/// subPath and subPathExpr, reported on the list's path as Kubernetes does.
fn validate_sub_paths(m: &Value, p: &Path) -> ErrorList {
    let (sub, expr) = (json::string(m, "subPath"), json::string(m, "subPathExpr"));
    let mut errs = Vec::new();
    if !sub.is_empty() {
        errs.extend(local_descending_path(sub, &p.child("subPath")));
    }
    if !expr.is_empty() {
        if !sub.is_empty() {
            errs.push(invalid(&p.child("subPathExpr"), expr, "subPathExpr and subPath are mutually exclusive"));
        }
        errs.extend(local_descending_path(expr, &p.child("subPathExpr")));
    }
    errs
}

/// validateMountPropagation and validateMountRecursiveReadOnly.
fn validate_propagation(m: &Value, privileged: bool, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let prop = json::str_of(m, "mountPropagation");
    if let Some(mode) = prop {
        let pp = p.child("mountPropagation");
        if !["Bidirectional", "HostToContainer", "None"].contains(&mode) {
            errs.push(not_supported(&pp, mode, &["Bidirectional", "HostToContainer", "None"]));
        }
        if mode == "Bidirectional" && !privileged {
            errs.push(forbidden(&pp, "Bidirectional mount propagation is available only to privileged containers"));
        }
    }
    let rp = p.child("recursiveReadOnly");
    match json::str_of(m, "recursiveReadOnly") {
        None | Some("Disabled") => {}
        Some("Enabled" | "IfPossible") => {
            if !json::boolean(m, "readOnly") {
                errs.push(forbidden(&rp, "may only be specified when readOnly is true"));
            }
            if prop.is_some_and(|m| m != "None") {
                errs.push(forbidden(&rp, "may only be specified when mountPropagation is None or not specified"));
            }
        }
        Some(other) => errs.push(not_supported(&rp, other, &["Disabled", "Enabled", "IfPossible"])),
    }
    errs
}

/// ValidateVolumeDevices: block devices come from PVC-backed volumes.
pub fn validate_devices(c: &Value, vols: &Volumes, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    for (i, d) in json::items(c, "volumeDevices").iter().enumerate() {
        let dp = p.index(i);
        let name = json::string(d, "name");
        if name.is_empty() {
            errs.push(required(&dp.child("name"), ""));
        }
        match vols.get(name) {
            None => errs.push(not_found(&dp.child("name"), name)),
            Some(v) if json::get(v, "persistentVolumeClaim").is_none() && json::get(v, "ephemeral").is_none() => {
                errs.push(invalid(
                    &dp.child("name"),
                    name,
                    "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode",
                ));
            }
            Some(_) => {}
        }
        if json::string(d, "devicePath").is_empty() {
            errs.push(required(&dp.child("devicePath"), ""));
        }
    }
    errs
}
