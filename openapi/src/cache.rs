//! Builds each document once and keeps its serialized JSON and content hash.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use bytes::Bytes;
use serde_json::Value;

use crate::{Resource, group_versions, v2, v3};

/// A serialized document and the hash of exactly those bytes.
#[derive(Clone, Debug)]
pub struct Document {
    json: Bytes,
    hash: String,
}

impl Document {
    /// Serializes the document (compact JSON) and hashes the result.
    pub fn new(value: &Value) -> Self {
        // Serializing a `Value` cannot fail: its keys are strings and it has no foreign types.
        let json = serde_json::to_vec(value).unwrap_or_default();
        let hash = hash(&json);
        Document { json: Bytes::from(json), hash }
    }

    /// The `application/json` body; cloning it is cheap.
    pub fn json(&self) -> Bytes {
        self.json.clone()
    }

    /// 32 uppercase hex digits, stable for identical content (the `?hash=` of v3 URLs).
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The `ETag` header value: the hash, quoted, as Kubernetes sends it.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.hash)
    }
}

/// Every document for one resource table, each built on first use.
///
/// Build a new `Cache` when the resource table changes (e.g. a CRD is added).
#[derive(Debug)]
pub struct Cache {
    resources: Vec<Resource>,
    group_versions: BTreeMap<String, OnceLock<Document>>,
    root: OnceLock<Document>,
    v2: OnceLock<Document>,
}

impl Cache {
    /// Cheap: nothing is generated until a document is asked for.
    pub fn new(resources: &[Resource]) -> Self {
        let group_versions = group_versions(resources).into_keys().map(|path| (path, OnceLock::new())).collect();
        Cache { resources: resources.to_vec(), group_versions, root: OnceLock::new(), v2: OnceLock::new() }
    }

    /// `GET /openapi/v3`. Builds every group-version document, since the index holds their hashes.
    pub fn v3_root(&self) -> &Document {
        self.root.get_or_init(|| {
            let hashes: Vec<(&str, &str)> = self
                .group_versions
                .keys()
                .filter_map(|path| Some((path.as_str(), self.v3_group_version(path)?.hash())))
                .collect();
            Document::new(&v3::root(hashes))
        })
    }

    /// `GET /openapi/v3/<gv_path>`; None for an unknown group-version.
    pub fn v3_group_version(&self, gv_path: &str) -> Option<&Document> {
        let cell = self.group_versions.get(gv_path)?;
        Some(cell.get_or_init(|| {
            let value = crate::v3_group_version(&self.resources, gv_path).unwrap_or_default();
            Document::new(&value)
        }))
    }

    /// `GET /openapi/v2` as JSON.
    pub fn v2(&self) -> &Document {
        self.v2.get_or_init(|| Document::new(&v2::document(group_versions(&self.resources).into_values())))
    }
}

/// FNV-1a, 128 bits: stable across builds and platforms, and no extra dependency.
fn hash(bytes: &[u8]) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let hash = bytes.iter().fold(OFFSET, |hash, byte| (hash ^ u128::from(*byte)).wrapping_mul(PRIME));
    format!("{hash:032X}")
}
