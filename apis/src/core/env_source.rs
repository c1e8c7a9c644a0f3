//! Where environment variables come from: validateEnvVarValueFrom (fieldRef, resourceFieldRef,
//! configMapKeyRef, secretKeyRef) and the sources of ValidateEnvFrom.

use crate::field::{ErrorList, Path, invalid, not_supported, required};
use crate::{json, meta};
use apimachinery::validation::{self as v, regex_error};
use serde_json::Value;

/// validEnvDownwardAPIFieldPathExpressions, sorted.
const ENV_FIELD_PATHS: [&str; 9] = [
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// Field paths the downward API can convert at all (ConvertDownwardAPIFieldLabel).
const CONVERTIBLE: [&str; 14] = [
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// validContainerResourceFieldPathExpressions, sorted.
const RESOURCE_FIELD_PATHS: [&str; 6] = [
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

/// validateEnvVarValueFrom: exactly one source, and no `value` beside it.
pub fn validate_value_from(env: &Value, p: &Path) -> ErrorList {
    let Some(from) = json::get(env, "valueFrom") else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    let mut count = 0;
    if let Some(f) = json::get(from, "fieldRef") {
        count += 1;
        errs.extend(validate_field_ref(f, &ENV_FIELD_PATHS, &p.child("fieldRef")));
    }
    if let Some(r) = json::get(from, "resourceFieldRef") {
        count += 1;
        errs.extend(validate_resource_field_ref(r, false, &p.child("resourceFieldRef")));
    }
    for key_ref in ["configMapKeyRef", "secretKeyRef"] {
        if let Some(k) = json::get(from, key_ref) {
            count += 1;
            errs.extend(validate_key_selector(k, &p.child(key_ref)));
        }
    }
    if count == 0 {
        errs.push(invalid(
            p,
            "",
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        ));
    } else if !json::string(env, "value").is_empty() {
        errs.push(invalid(p, "", "may not be specified when `value` is not empty"));
    } else if count > 1 {
        errs.push(invalid(p, "", "may not have more than one field specified at a time"));
    }
    errs
}

/// validateObjectFieldSelector.
pub fn validate_field_ref(f: &Value, supported: &[&str], p: &Path) -> ErrorList {
    let api_version = json::string(f, "apiVersion");
    let field_path = json::string(f, "fieldPath");
    if api_version.is_empty() {
        return vec![required(&p.child("apiVersion"), "")];
    }
    if field_path.is_empty() {
        return vec![required(&p.child("fieldPath"), "")];
    }
    if let Err(e) = convert_field_label(api_version, field_path) {
        return vec![invalid(&p.child("fieldPath"), field_path, format!("error converting fieldPath: {e}"))];
    }
    match split_subscript(field_path) {
        Some(("metadata.annotations", key)) => meta::validate_label_name(&key.to_lowercase(), p),
        Some(("metadata.labels", key)) => meta::validate_label_name(key, p),
        Some((path, _)) => vec![invalid(p, path, "does not support subscript")],
        None if supported.contains(&field_path) => Vec::new(),
        None => vec![not_supported(&p.child("fieldPath"), field_path, supported)],
    }
}

/// ConvertDownwardAPIFieldLabel for v1 Pods.
fn convert_field_label(version: &str, path: &str) -> Result<(), String> {
    if version != "v1" {
        return Err(format!("unsupported pod version: {version}"));
    }
    let base = split_subscript(path).map_or(path, |(b, _)| b);
    match split_subscript(path) {
        Some(("metadata.annotations" | "metadata.labels", _)) => Ok(()),
        None if CONVERTIBLE.contains(&base) => Ok(()),
        _ => Err(format!("field label not supported: {path}")),
    }
}

/// SplitMaybeSubscriptedPath: `metadata.labels['key']` is (`metadata.labels`, `key`).
fn split_subscript(path: &str) -> Option<(&str, &str)> {
    let inner = path.strip_suffix("']")?;
    let (base, key) = inner.split_once("['")?;
    Some((base, key))
}

/// validateContainerResourceFieldSelector; volumes must also name the container.
pub fn validate_resource_field_ref(r: &Value, volume: bool, p: &Path) -> ErrorList {
    let resource = json::string(r, "resource");
    if volume && json::string(r, "containerName").is_empty() {
        return vec![required(&p.child("containerName"), "")];
    }
    if resource.is_empty() {
        return vec![required(&p.child("resource"), "")];
    }
    let hugepages = resource.starts_with("requests.hugepages-") || resource.starts_with("limits.hugepages-");
    if RESOURCE_FIELD_PATHS.contains(&resource) || hugepages {
        return Vec::new();
    }
    vec![not_supported(&p.child("resource"), resource, &RESOURCE_FIELD_PATHS)]
}

/// validateConfigMapKeySelector / validateSecretKeySelector.
fn validate_key_selector(k: &Value, p: &Path) -> ErrorList {
    let name = json::string(k, "name");
    let mut errs: ErrorList =
        v::is_dns1123_subdomain(name).into_iter().map(|m| invalid(&p.child("name"), name, m)).collect();
    let key = json::string(k, "key");
    if key.is_empty() {
        errs.push(required(&p.child("key"), ""));
    } else {
        errs.extend(config_key(key, &p.child("key")));
    }
    errs
}

/// IsConfigMapKey as an error list.
pub fn config_key(key: &str, p: &Path) -> ErrorList {
    config_key_messages(key).into_iter().map(|m| invalid(p, key, m)).collect()
}

/// IsConfigMapKey: `[-._a-zA-Z0-9]+`, at most 253 characters, not `.`, `..` or `..`-prefixed.
pub fn config_key_messages(key: &str) -> Vec<String> {
    let mut msgs = Vec::new();
    if key.len() > 253 {
        msgs.push(v::max_len_error(253));
    }
    let ok = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !ok {
        msgs.push(regex_error(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
            "[-._a-zA-Z0-9]+",
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    match key {
        "." => msgs.push("must not be '.'".to_string()),
        ".." => msgs.push("must not be '..'".to_string()),
        k if k.starts_with("..") => msgs.push("must not start with '..'".to_string()),
        _ => {}
    }
    msgs
}

/// The configMapRef / secretRef of one envFrom entry; count errors go on the list's path.
pub fn validate_env_from_sources(e: &Value, ep: &Path, list: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let mut count = 0;
    for source in ["configMapRef", "secretRef"] {
        let Some(s) = json::get(e, source) else {
            continue;
        };
        count += 1;
        let np = ep.child(source).child("name");
        let name = json::string(s, "name");
        if name.is_empty() {
            errs.push(required(&np, ""));
        } else {
            errs.extend(v::is_dns1123_subdomain(name.trim_end_matches('-')).into_iter().map(|m| invalid(&np, name, m)));
        }
    }
    match count {
        0 => errs.push(invalid(list, "", "must specify one of: `configMapRef` or `secretRef`")),
        1 => {}
        _ => errs.push(invalid(list, "", "may not have more than one field specified at a time")),
    }
    errs
}
