//! The admin kubeconfig: cluster, client certificate and context `minik8s`.

use crate::pki::{Pki, PkiError, write};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use std::path::Path;

/// The kubeconfig document for `server` (e.g. https://127.0.0.1:6443) as YAML.
pub fn render(pki: &Pki, server: &str) -> String {
    let doc = json!({
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "minik8s", "cluster": {"server": server,
            "certificate-authority-data": STANDARD.encode(&pki.ca_cert)}}],
        "users": [{"name": "minik8s", "user": {
            "client-certificate-data": STANDARD.encode(&pki.admin_cert),
            "client-key-data": STANDARD.encode(&pki.admin_key)}}],
        "contexts": [{"name": "minik8s", "context": {"cluster": "minik8s", "user": "minik8s"}}],
        "current-context": "minik8s",
    });
    serde_yaml::to_string(&doc).unwrap_or_default()
}

pub fn write_to(path: &Path, pki: &Pki, server: &str, mode: u32) -> Result<(), PkiError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| PkiError::Io { path: dir.into(), source })?;
    }
    write(path, &render(pki, server), mode)
}
