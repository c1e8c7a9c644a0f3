//! CustomResourceDefinitions: each served version of an established CRD becomes a row of the
//! registry, served by the same generic REST path as the built-in kinds.

use crate::decode::DecodeError;
use crate::meta;
use crate::registry::{Kind, NameRule};
use crate::status::FieldError;
use serde_json::{Value, json};

/// Custom resources are kept as sent: no compiled-in type to decode them through.
pub fn untyped(value: &Value) -> Result<Value, DecodeError> {
    Ok(value.clone())
}

/// Registry rows live for the process; a CRD's strings are leaked once per (re)definition,
/// bounded by how often CRDs change.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

fn leak_list(v: &Value) -> &'static [&'static str] {
    let items: Vec<&'static str> = v.as_array().into_iter().flatten().filter_map(Value::as_str).map(leak).collect();
    Box::leak(items.into_boxed_slice())
}

/// The registry rows of one CRD: one per served version.
pub fn kinds(crd: &Value) -> Vec<Kind> {
    let spec = &crd["spec"];
    let names = &spec["names"];
    let group = leak(spec["group"].as_str().unwrap_or_default());
    let kind = leak(names["kind"].as_str().unwrap_or_default());
    let plural = leak(names["plural"].as_str().unwrap_or_default());
    let singular = names["singular"].as_str().map(str::to_string).unwrap_or_else(|| kind.to_lowercase());
    let singular = leak(&singular);
    let short_names = leak_list(&names["shortNames"]);
    let categories = leak_list(&names["categories"]);
    let namespaced = spec["scope"] != "Cluster";
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    versions
        .iter()
        .filter(|v| v["served"] != false)
        .map(|v| Kind {
            group,
            version: leak(v["name"].as_str().unwrap_or_default()),
            kind,
            plural,
            singular,
            short_names,
            categories,
            namespaced,
            subresources: subresources(v),
            names: NameRule::Dns1123Subdomain,
            generation: true,
            fields: &[],
            decode: untyped,
        })
        .collect()
}

fn subresources(version: &Value) -> &'static [&'static str] {
    let subs = &version["subresources"];
    match (subs.get("status").is_some(), subs.get("scale").is_some()) {
        (true, true) => &["status", "scale"],
        (true, false) => &["status"],
        (false, true) => &["scale"],
        (false, false) => &[],
    }
}

/// A CRD's name must be `<plural>.<group>`, as apiextensions-apiserver checks.
pub fn validate(crd: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = &crd["spec"];
    let (plural, group) =
        (spec["names"]["plural"].as_str().unwrap_or_default(), spec["group"].as_str().unwrap_or_default());
    let name = meta::name(crd).unwrap_or_default();
    if name != format!("{plural}.{group}") {
        errs.push(FieldError::invalid("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"));
    }
    if group.is_empty() || !group.contains('.') {
        errs.push(FieldError::invalid("spec.group", group, "should be a domain with at least one dot"));
    }
    for msg in apimachinery::validation::is_dns1035_label(plural) {
        errs.push(FieldError::invalid("spec.names.plural", plural, msg));
    }
    if spec["names"]["kind"].as_str().unwrap_or_default().is_empty() {
        errs.push(FieldError::required("spec.names.kind", ""));
    }
    let storage = spec["versions"].as_array().into_iter().flatten().filter(|v| v["storage"] == true).count();
    if storage != 1 {
        errs.push(FieldError::invalid(
            "spec.versions",
            Value::Null,
            "must have exactly one version marked as storage version",
        ));
    }
    errs
}

/// What apiextensions-apiserver reports once a CRD's names are accepted and it is served.
pub fn established_status(crd: &Value) -> Value {
    let now = meta::now();
    let storage: Vec<Value> = crd["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["storage"] == true)
        .map(|v| v["name"].clone())
        .collect();
    let condition = |t: &str, reason: &str, message: &str| json!({"type": t, "status": "True", "lastTransitionTime": now, "reason": reason, "message": message});
    json!({
        "acceptedNames": crd["spec"]["names"],
        "storedVersions": storage,
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd() -> Value {
        json!({"metadata": {"name": "widgets.example.com"}, "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd"]},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}}},
                         {"name": "v1beta1", "served": false, "storage": false}]}})
    }

    #[test]
    fn each_served_version_becomes_a_kind() {
        let k = kinds(&crd());
        assert_eq!(k.len(), 1);
        assert_eq!((k[0].group, k[0].version, k[0].plural, k[0].singular), ("example.com", "v1", "widgets", "widget"));
        assert_eq!(k[0].short_names, ["wd"]);
        assert_eq!(k[0].subresources, ["status"]);
    }

    #[test]
    fn the_name_must_be_plural_dot_group() {
        let mut c = crd();
        c["metadata"]["name"] = json!("widgets");
        assert!(validate(&c)[0].message().contains("must be spec.names.plural+\".\"+spec.group"));
        assert!(validate(&crd()).is_empty());
    }
}
