//! The API server's OpenAPI v2 and v3 documents, generated from the k8s-openapi types.
//!
//! Schemas come from k8s-openapi's `schemars::JsonSchema` impls (so they carry the
//! Kubernetes field docs and definition names); operations are derived from the
//! resource table the server passes in. The free functions build a document each
//! call; [`Cache`] builds each once and keeps its serialized bytes and hash.

mod cache;
mod extensions;
mod kinds;
mod paths;
mod schema;
mod v2;
pub mod v2_protobuf;
mod v3;

use std::collections::BTreeMap;

use serde_json::{Value, json};

pub use cache::{Cache, Document};

/// One resource the API server serves, as its discovery documents describe it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The API group; "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    /// "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection".
    pub verbs: &'static [&'static str],
    /// "status", "scale", "binding", "eviction", "log", "exec", "finalize", ...
    pub subresources: &'static [&'static str],
}

/// The body of `GET /openapi/v3`: a `serverRelativeURL` (with a content hash) per group-version.
pub fn v3_root(resources: &[Resource]) -> Value {
    let hashes: Vec<(String, String)> = group_versions(resources)
        .into_iter()
        .map(|(path, (group, version, members))| {
            let document = v3::document(group, version, &members);
            (path, Document::new(&document).hash().to_owned())
        })
        .collect();
    v3::root(hashes.iter().map(|(path, hash)| (path.as_str(), hash.as_str())))
}

/// The body of `GET /openapi/v3/<gv_path>`, where `gv_path` is "api/v1" or
/// "apis/<group>/<version>"; None for a group-version no resource belongs to.
pub fn v3_group_version(resources: &[Resource], gv_path: &str) -> Option<Value> {
    let (group, version, members) = group_versions(resources).remove(gv_path)?;
    Some(v3::document(group, version, &members))
}

/// The JSON body of `GET /openapi/v2` (Swagger 2.0) for all resources.
pub fn v2(resources: &[Resource]) -> Value {
    v2::document(group_versions(resources).into_values())
}

/// A group-version's resources, keyed by its v3 path and sorted like Kubernetes sorts them.
type GroupVersions<'a> = BTreeMap<String, (&'static str, &'static str, Vec<&'a Resource>)>;

fn group_versions(resources: &[Resource]) -> GroupVersions<'_> {
    let mut out = GroupVersions::new();
    for resource in resources {
        let path = paths::gv_path(resource.group, resource.version);
        out.entry(path).or_insert_with(|| (resource.group, resource.version, Vec::new())).2.push(resource);
    }
    out
}

/// The `info` object of every document.
fn info() -> Value {
    json!({ "title": "Kubernetes", "version": "v1.33.0" })
}

/// The response description Kubernetes gives each status code.
fn code_text(code: &str) -> &'static str {
    match code {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted",
        _ => "Unauthorized",
    }
}

#[cfg(test)]
mod tests;
