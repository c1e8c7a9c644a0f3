//! Per-kind REST strategies: what a create resets, and which checks every object passes.
//! Mirrors the PrepareForCreate / Validate hooks of Kubernetes' registry strategies.

use crate::meta;
use crate::registry::{Kind, NameRule};
use crate::status::FieldError;
use apimachinery::validation;
use serde_json::{Value, json};

/// Resets what a client may not set on create (usually status), as each strategy does.
pub fn prepare_create(kind: &Kind, obj: &mut Value) {
    match (kind.group, kind.kind) {
        ("", "Namespace") => {
            obj["status"] = json!({"phase": "Active"});
            if obj.pointer("/spec/finalizers").is_none() {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
            }
        }
        ("", "Pod") => {
            let qos = qos_class(obj);
            obj["status"] = json!({"phase": "Pending", "qosClass": qos});
            default_toleration_seconds(obj);
        }
        ("", "PersistentVolume") | ("", "PersistentVolumeClaim") => {
            obj["status"] = json!({"phase": "Pending"});
        }
        // Nodes report their own status at registration; Kubernetes keeps it on create.
        ("", "Node") => {}
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            obj["status"] = crate::crd::established_status(obj);
        }
        _ if kind.has_subresource("status") => {
            if let Value::Object(m) = obj {
                m.remove("status");
            }
        }
        _ => {}
    }
}

/// The DefaultTolerationSeconds admission plugin: pods tolerate a not-ready or unreachable
/// node for 300 s before the node lifecycle controller evicts them.
fn default_toleration_seconds(pod: &mut Value) {
    let mut tolerations = pod.pointer("/spec/tolerations").and_then(Value::as_array).cloned().unwrap_or_default();
    for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
        let covered = tolerations.iter().any(|t| {
            let effect_ok = t["effect"].is_null() || t["effect"] == "NoExecute";
            let key_ok = t["key"] == key || (t["key"].is_null() && t["operator"] == "Exists");
            effect_ok && key_ok
        });
        if !covered {
            tolerations
                .push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
        }
    }
    pod["spec"]["tolerations"] = Value::Array(tolerations);
}

/// The pod's QoS class from its containers' requests and limits (Kubernetes' GetPodQOS).
fn qos_class(pod: &Value) -> &'static str {
    let containers = pod.pointer("/spec/containers").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut any = false;
    let mut guaranteed = !containers.is_empty();
    for c in &containers {
        let req = c.pointer("/resources/requests").and_then(Value::as_object);
        let lim = c.pointer("/resources/limits").and_then(Value::as_object);
        any |= req.is_some_and(|m| !m.is_empty()) || lim.is_some_and(|m| !m.is_empty());
        let full = |r: &str| {
            let l = lim.and_then(|m| m.get(r));
            l.is_some() && req.and_then(|m| m.get(r)).is_none_or(|q| Some(q) == l)
        };
        guaranteed &= full("cpu") && full("memory");
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

/// Kubernetes' defaults for the kind (pkg/apis/*/v1/defaults.go), before validation.
pub fn default(kind: &Kind, obj: &mut Value) {
    apis::default(kind.group, kind.kind, obj);
}

/// What an update keeps from the stored object that the client may leave out.
pub fn prepare_update(kind: &Kind, obj: &mut Value, old: &Value) {
    apis::prepare_update(kind.group, kind.kind, obj, old);
}

/// Kind-specific checks beyond metadata, of a create (old None) or an update.
pub fn validate_kind(kind: &Kind, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    match (kind.group, kind.kind) {
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crate::crd::validate(obj),
        (group, name) => apis::validate(group, name, obj, old),
    }
}

/// Checks of a status write (the status subresource).
pub fn validate_status(kind: &Kind, obj: &Value, old: &Value) -> Vec<FieldError> {
    apis::validate_status(kind.group, kind.kind, obj, old)
}

/// True for kinds whose writes change what the server serves (the registry).
pub fn changes_registry(kind: &Kind) -> bool {
    kind.group == "apiextensions.k8s.io" && kind.kind == "CustomResourceDefinition"
}

/// Checks every object passes whatever its kind: name, namespace, labels, annotations.
pub fn validate_meta(kind: &Kind, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match meta::name(obj) {
        None => errs.push(FieldError::required("metadata.name", "name or generateName is required")),
        Some(n) => {
            for msg in name_errors(kind.names, n) {
                errs.push(FieldError::invalid("metadata.name", n, msg));
            }
        }
    }
    if kind.namespaced
        && let Some(ns) = meta::namespace(obj)
    {
        for msg in validation::is_dns1123_label(ns) {
            errs.push(FieldError::invalid("metadata.namespace", ns, msg));
        }
    }
    errs.extend(label_errors(obj));
    errs.extend(annotation_errors(obj));
    errs
}

fn name_errors(rule: NameRule, name: &str) -> Vec<String> {
    match rule {
        NameRule::Dns1123Subdomain => validation::is_dns1123_subdomain(name),
        NameRule::Dns1123Label => validation::is_dns1123_label(name),
        NameRule::Dns1035Label => validation::is_dns1035_label(name),
        NameRule::PathSegment => path_segment_errors(name),
    }
}

/// Kubernetes' ValidatePathSegmentName.
fn path_segment_errors(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![format!("may not be '{name}'")];
    }
    ["/", "%"].iter().filter(|s| name.contains(*s)).map(|s| format!("may not contain '{s}'")).collect()
}

fn label_errors(obj: &Value) -> Vec<FieldError> {
    let Some(labels) = obj.pointer("/metadata/labels").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    for (k, v) in labels {
        for msg in validation::is_qualified_name(k) {
            errs.push(FieldError::invalid("metadata.labels", k.as_str(), msg));
        }
        let value = v.as_str().unwrap_or_default();
        for msg in validation::is_valid_label_value(value) {
            errs.push(FieldError::invalid(&format!("metadata.labels[{k}]"), value, msg));
        }
    }
    errs
}

/// Annotation keys are qualified names; all values together stay under 256 KiB.
fn annotation_errors(obj: &Value) -> Vec<FieldError> {
    let Some(annotations) = obj.pointer("/metadata/annotations").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    let mut total = 0;
    for (k, v) in annotations {
        total += k.len() + v.as_str().map_or(0, str::len);
        for msg in validation::is_qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid("metadata.annotations", k.as_str(), msg));
        }
    }
    if total > 256 * 1024 {
        errs.push(FieldError {
            kind: crate::status::FieldErrorKind::TooLong,
            field: "metadata.annotations".into(),
            value: None,
            detail: "may not be more than 262144 bytes".into(),
        });
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{Registry, builtin};

    #[test]
    fn a_created_pod_starts_pending_with_its_qos_class() {
        let r = Registry::new(builtin());
        let pods = r.resource("", "v1", "pods").expect("pods");
        let mut pod = json!({"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]},
            "status": {"phase": "Running"}});
        prepare_create(pods, &mut pod);
        assert_eq!(pod["status"], json!({"phase": "Pending", "qosClass": "Guaranteed"}));
    }

    #[test]
    fn a_service_name_must_be_a_dns_1035_label() {
        let r = Registry::new(builtin());
        let svc = r.resource("", "v1", "services").expect("services");
        let errs = validate_meta(svc, &json!({"metadata": {"name": "rootSvc"}}));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message().starts_with("metadata.name: Invalid value: \"rootSvc\": a DNS-1035 label"));
    }

    #[test]
    fn role_names_may_hold_colons_but_not_slashes() {
        let r = Registry::new(builtin());
        let roles = r.resource("rbac.authorization.k8s.io", "v1", "clusterroles").expect("roles");
        assert!(validate_meta(roles, &json!({"metadata": {"name": "system:node"}})).is_empty());
        assert!(!validate_meta(roles, &json!({"metadata": {"name": "a/b"}})).is_empty());
    }
}
