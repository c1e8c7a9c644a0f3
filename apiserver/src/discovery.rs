//! Discovery: /version, /api, /apis, per-group and per-version documents, in both the legacy
//! and the aggregated (apidiscovery.k8s.io v2 / v2beta1) formats kubectl asks for.

use crate::registry::{Kind, Registry};
use serde_json::{Value, json};

/// The Kubernetes release this server implements.
pub const MAJOR: &str = "1";
pub const MINOR: &str = "33";

pub fn version() -> Value {
    json!({
        "major": MAJOR, "minor": MINOR, "emulationMajor": MAJOR, "emulationMinor": MINOR,
        "minCompatibilityMajor": MAJOR, "minCompatibilityMinor": "32",
        "gitVersion": concat!("v1.33.0-minik8s.", env!("CARGO_PKG_VERSION")),
        "gitCommit": "", "gitTreeState": "clean", "buildDate": "", "goVersion": "n/a (Rust)",
        "compiler": "rustc", "platform": format!("{}/{}", std::env::consts::OS, arch()),
    })
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

pub const VERBS: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
/// The verbs a subresource supports, as Kubernetes lists them in discovery.
pub fn subresource_verbs(sub: &str) -> &'static [&'static str] {
    match sub {
        "binding" | "eviction" => &["create"],
        "log" => &["get"],
        "exec" | "attach" | "portforward" => &["create", "get"],
        "finalize" => &["update"],
        _ => &["get", "patch", "update"],
    }
}

/// The kind a subresource answers with (Scale, Binding, Eviction), else the parent's.
fn subresource_kind(sub: &str) -> Option<(&'static str, &'static str, &'static str)> {
    match sub {
        "scale" => Some(("autoscaling", "v1", "Scale")),
        "binding" => Some(("", "v1", "Binding")),
        "eviction" => Some(("policy", "v1", "Eviction")),
        "exec" | "attach" | "portforward" => Some(("", "v1", "Status")),
        _ => None,
    }
}

/// GET /api (legacy).
pub fn api_versions(address: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
           "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}]})
}

fn group_entry(group: &str, versions: &[&str]) -> Value {
    let vs: Vec<Value> =
        versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
    json!({"name": group, "versions": vs, "preferredVersion": vs[0]})
}

/// GET /apis (legacy).
pub fn api_group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> =
        registry.groups().iter().filter(|(g, _)| !g.is_empty()).map(|(g, vs)| group_entry(g, vs)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// GET /apis/<group>.
pub fn api_group(registry: &Registry, group: &str) -> Option<Value> {
    let (g, vs) = registry.groups().into_iter().find(|(g, _)| *g == group && !g.is_empty())?;
    let mut v = group_entry(g, &vs);
    v["kind"] = json!("APIGroup");
    v["apiVersion"] = json!("v1");
    Some(v)
}

/// GET /api/v1 or /apis/<group>/<version>.
pub fn api_resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for k in registry.in_group_version(group, version) {
        resources.push(resource_entry(k));
        for sub in k.subresources {
            resources.push(json!({"name": format!("{}/{sub}", k.plural), "singularName": "",
                "namespaced": k.namespaced, "kind": subresource_kind(sub).map_or(k.kind, |s| s.2),
                "verbs": subresource_verbs(sub)}));
        }
    }
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}))
}

fn resource_entry(k: &Kind) -> Value {
    let mut r = json!({"name": k.plural, "singularName": k.singular, "namespaced": k.namespaced,
        "kind": k.kind, "verbs": VERBS, "storageVersionHash": storage_version_hash(k)});
    if !k.short_names.is_empty() {
        r["shortNames"] = json!(k.short_names);
    }
    if !k.categories.is_empty() {
        r["categories"] = json!(k.categories);
    }
    r
}

/// A stable per-kind hash (Kubernetes hashes group/version/kind of the storage version).
fn storage_version_hash(k: &Kind) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (k.group, k.version, k.kind).hash(&mut h);
    base64_short(h.finish())
}

fn base64_short(n: u64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(n.to_be_bytes())[..11].to_string()
}

/// Which aggregated format an Accept header asks for, if any.
pub fn aggregated_version(accept: &str) -> Option<&'static str> {
    accept.split(',').find_map(|part| {
        let p = part.replace(' ', "");
        if !p.contains("as=APIGroupDiscoveryList") || !p.contains("g=apidiscovery.k8s.io") {
            return None;
        }
        if p.contains("v=v2beta1") {
            Some("v2beta1")
        } else if p.contains("v=v2") {
            Some("v2")
        } else {
            None
        }
    })
}

/// The aggregated discovery document of the core group (`/api`) or of all named groups (`/apis`).
pub fn aggregated(registry: &Registry, core: bool, version: &str) -> Value {
    let items: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(g, vs)| {
            let versions: Vec<Value> = vs.iter().map(|v| aggregated_version_entry(registry, g, v)).collect();
            let mut item = json!({"metadata": {"creationTimestamp": null}, "versions": versions});
            if !g.is_empty() {
                item["metadata"]["name"] = json!(g);
            }
            item
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": format!("apidiscovery.k8s.io/{version}"),
           "metadata": {}, "items": items})
}

fn aggregated_version_entry(registry: &Registry, group: &str, version: &str) -> Value {
    let resources: Vec<Value> = registry.in_group_version(group, version).map(aggregated_resource).collect();
    json!({"version": version, "resources": resources, "freshness": "Current"})
}

fn aggregated_resource(k: &Kind) -> Value {
    let gvk = json!({"group": k.group, "version": k.version, "kind": k.kind});
    let subs: Vec<Value> = k
        .subresources
        .iter()
        .map(|s| {
            let kind =
                subresource_kind(s).map_or(gvk.clone(), |(g, v, k)| json!({"group": g, "version": v, "kind": k}));
            json!({"subresource": s, "responseKind": kind, "verbs": subresource_verbs(s)})
        })
        .collect();
    let mut r = json!({"resource": k.plural, "responseKind": gvk,
        "scope": if k.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": k.singular, "verbs": VERBS});
    if !k.short_names.is_empty() {
        r["shortNames"] = json!(k.short_names);
    }
    if !k.categories.is_empty() {
        r["categories"] = json!(k.categories);
    }
    if !subs.is_empty() {
        r["subresources"] = json!(subs);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin;

    #[test]
    fn kubectl_asks_for_aggregated_v2_and_v2beta1() {
        let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(aggregated_version(accept), Some("v2"));
        assert_eq!(aggregated_version("application/json"), None);
    }

    #[test]
    fn the_aggregated_apis_document_lists_deployments_with_short_names() {
        let r = Registry::new(builtin());
        let doc = aggregated(&r, false, "v2");
        let apps =
            doc["items"].as_array().and_then(|i| i.iter().find(|g| g["metadata"]["name"] == "apps")).expect("apps");
        let deploy = &apps["versions"][0]["resources"][0];
        assert_eq!(deploy["resource"], "deployments");
        assert_eq!(deploy["shortNames"], json!(["deploy"]));
    }
}
