//! Pod volumes on the node, under `<data-dir>/agent/pods/<uid>/volumes/<plugin>/<name>`:
//! emptyDir (disk or Memory), hostPath, configMap, secret, downwardAPI, projected (with the
//! service account token), and persistentVolumeClaim bound to a hostPath or local PV. Files are
//! written as the kubelet's atomic writer does (`..data` symlink swap), so updates propagate.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{
    ConfigMap, DownwardAPIVolumeFile, KeyToPath, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Volume,
};
use kube::Api;

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("configmap \"{0}\" not found")]
    ConfigMapNotFound(String),
    #[error("secret \"{0}\" not found")]
    SecretNotFound(String),
    #[error("persistentvolumeclaim \"{0}\" not found")]
    ClaimNotFound(String),
    #[error("persistentvolumeclaim \"{0}\" is not bound")]
    ClaimNotBound(String),
    #[error("persistentvolume \"{0}\" is neither hostPath nor local")]
    UnsupportedPersistentVolume(String),
    #[error("hostPath type check failed: {path} is not a {kind}")]
    HostPathType { path: String, kind: String },
    #[error("volume \"{0}\": this volume type is not supported by minik8s")]
    Unsupported(String),
    #[error("volume \"{name}\": {source}")]
    Io { name: String, source: std::io::Error },
    #[error("reading {what}: {source}")]
    Api { what: String, source: kube::Error },
}

/// The pod's own directory on the node.
pub fn pod_dir(data_dir: &Path, uid: &str) -> PathBuf {
    data_dir.join("agent").join("pods").join(uid)
}

fn volume_dir(pod_dir: &Path, plugin: &str, name: &str) -> PathBuf {
    pod_dir.join("volumes").join(format!("kubernetes.io~{plugin}")).join(name)
}

/// One file of a configMap/secret/downwardAPI/projected volume: relative path, bytes, mode.
pub type Payload = BTreeMap<String, (Vec<u8>, u32)>;

fn io(name: &str) -> impl FnOnce(std::io::Error) -> VolumeError + '_ {
    move |source| VolumeError::Io { name: name.into(), source }
}

/// Items (or every key) of a ConfigMap/Secret as payload files.
pub fn key_payload(data: BTreeMap<String, Vec<u8>>, items: Option<&[KeyToPath]>, mode: u32) -> Payload {
    let mut out = Payload::new();
    match items {
        Some(items) if !items.is_empty() => {
            for it in items {
                if let Some(v) = data.get(&it.key) {
                    out.insert(it.path.clone(), (v.clone(), it.mode.map_or(mode, |m| m as u32)));
                }
            }
        }
        _ => {
            for (k, v) in data {
                out.insert(k, (v, mode));
            }
        }
    }
    out
}

fn cm_bytes(cm: &ConfigMap) -> BTreeMap<String, Vec<u8>> {
    let mut m: BTreeMap<String, Vec<u8>> =
        cm.data.clone().unwrap_or_default().into_iter().map(|(k, v)| (k, v.into_bytes())).collect();
    m.extend(cm.binary_data.clone().unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)));
    m
}

fn secret_bytes(s: &Secret) -> BTreeMap<String, Vec<u8>> {
    let mut m: BTreeMap<String, Vec<u8>> =
        s.string_data.clone().unwrap_or_default().into_iter().map(|(k, v)| (k, v.into_bytes())).collect();
    m.extend(s.data.clone().unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)));
    m
}

/// `key="value"` lines, sorted, as the downward API writes labels and annotations.
fn map_lines(m: Option<&BTreeMap<String, String>>) -> String {
    m.into_iter().flatten().map(|(k, v)| format!("{k}=\"{v}\"\n")).collect()
}

/// Files of a downwardAPI volume (or projected source).
pub fn downward_payload(pod: &Pod, items: &[DownwardAPIVolumeFile], mode: u32, src: &crate::env::Sources) -> Payload {
    let mut out = Payload::new();
    let spec = pod.spec.clone().unwrap_or_default();
    for it in items {
        let value = if let Some(f) = &it.field_ref {
            match f.field_path.as_str() {
                "metadata.labels" => map_lines(pod.metadata.labels.as_ref()),
                "metadata.annotations" => map_lines(pod.metadata.annotations.as_ref()),
                p => crate::env::field_value(pod, p, src).unwrap_or_default(),
            }
        } else if let Some(r) = &it.resource_field_ref {
            let own = spec.containers.first().cloned().unwrap_or_default();
            crate::env::resource_value(pod, &own, r, src)
        } else {
            continue;
        };
        out.insert(it.path.clone(), (value.into_bytes(), it.mode.map_or(mode, |m| m as u32)));
    }
    out
}

fn read_dir_payload(dir: &Path, payload: &Payload) -> bool {
    payload.iter().all(|(p, (bytes, _))| std::fs::read(dir.join("..data").join(p)).ok().as_ref() == Some(bytes))
        && std::fs::read_dir(dir.join("..data")).map(|d| d.count()).unwrap_or(0)
            == payload.keys().map(|k| k.split('/').next().unwrap_or(k)).collect::<std::collections::BTreeSet<_>>().len()
}

/// The kubelet's atomic writer: files go to a fresh `..<timestamp>` dir, `..data` is swapped to
/// it by rename, and each top-level name is a symlink through `..data`. Unchanged: no write.
pub fn write_atomic(dir: &Path, payload: &Payload) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if dir.join("..data").exists() && read_dir_payload(dir, payload) {
        return Ok(());
    }
    let stamp = format!("..{}", jiff::Timestamp::now().as_nanosecond());
    let fresh = dir.join(&stamp);
    for (path, (bytes, mode)) in payload {
        let file = fresh.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&file, bytes)?;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(*mode))?;
    }
    std::fs::create_dir_all(&fresh)?;
    let old = std::fs::read_link(dir.join("..data")).ok();
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&stamp, &tmp)?;
    std::fs::rename(&tmp, dir.join("..data"))?;
    let tops: std::collections::BTreeSet<&str> = payload.keys().map(|k| k.split('/').next().unwrap_or(k)).collect();
    for top in &tops {
        let link = dir.join(top);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(Path::new("..data").join(top), &link)?;
        }
    }
    for entry in std::fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("..") && !tops.contains(name.as_str()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    if let Some(old) = old.filter(|o| o.as_os_str() != stamp.as_str()) {
        let _ = std::fs::remove_dir_all(dir.join(old));
    }
    Ok(())
}

fn default_mode(m: Option<i32>) -> u32 {
    m.map_or(0o644, |m| m as u32)
}

/// Everything volumes read from the API, fetched on demand.
pub struct Fetch<'a> {
    pub client: &'a kube::Client,
    pub namespace: &'a str,
}

impl Fetch<'_> {
    async fn opt<K>(&self, name: &str) -> Result<Option<K>, VolumeError>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
        K::DynamicType: Default,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), self.namespace);
        api.get_opt(name).await.map_err(|source| VolumeError::Api { what: name.into(), source })
    }

    async fn config_map(&self, name: &str, optional: bool) -> Result<Option<ConfigMap>, VolumeError> {
        match self.opt::<ConfigMap>(name).await? {
            None if !optional => Err(VolumeError::ConfigMapNotFound(name.into())),
            cm => Ok(cm),
        }
    }

    async fn secret(&self, name: &str, optional: bool) -> Result<Option<Secret>, VolumeError> {
        match self.opt::<Secret>(name).await? {
            None if !optional => Err(VolumeError::SecretNotFound(name.into())),
            s => Ok(s),
        }
    }

    /// A bound service account token from the TokenRequest API (None if the API lacks it).
    async fn token(&self, sa: &str, audience: Option<String>, seconds: Option<i64>) -> Option<String> {
        use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
        let api: Api<k8s_openapi::api::core::v1::ServiceAccount> = Api::namespaced(self.client.clone(), self.namespace);
        let req = TokenRequest {
            spec: TokenRequestSpec {
                audiences: audience.into_iter().collect(),
                expiration_seconds: Some(seconds.unwrap_or(3607)),
                ..Default::default()
            },
            ..Default::default()
        };
        let resp: Result<TokenRequest, _> = api.create_subresource("token", sa, &Default::default(), &req).await;
        match resp {
            Ok(t) => t.status.map(|s| s.token),
            Err(e) => {
                tracing::debug!("TokenRequest for {sa}: {e}");
                None
            }
        }
    }
}

/// Prepares every volume of the pod and returns its host path by volume name.
pub async fn prepare(
    pod: &Pod,
    dir: &Path,
    fetch: &Fetch<'_>,
    src: &crate::env::Sources,
) -> Result<HashMap<String, PathBuf>, VolumeError> {
    let mut out = HashMap::new();
    for v in pod.spec.as_ref().and_then(|s| s.volumes.clone()).unwrap_or_default() {
        let path = prepare_one(pod, dir, &v, fetch, src).await?;
        out.insert(v.name.clone(), path);
    }
    Ok(out)
}

async fn prepare_one(
    pod: &Pod,
    dir: &Path,
    v: &Volume,
    fetch: &Fetch<'_>,
    src: &crate::env::Sources,
) -> Result<PathBuf, VolumeError> {
    let name = v.name.as_str();
    if let Some(e) = &v.empty_dir {
        let path = volume_dir(dir, "empty-dir", name);
        std::fs::create_dir_all(&path).map_err(io(name))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).map_err(io(name))?;
        if e.medium.as_deref() == Some("Memory") {
            crate::mounts::ensure_tmpfs(&path, e.size_limit.as_ref().map(|q| q.0.as_str())).map_err(io(name))?;
        }
        return Ok(path);
    }
    if let Some(h) = &v.host_path {
        return host_path(&h.path, h.type_.as_deref().unwrap_or(""));
    }
    if let Some(c) = &v.config_map {
        let path = volume_dir(dir, "configmap", name);
        let cm = fetch.config_map(&c.name, c.optional == Some(true)).await?;
        let payload = key_payload(
            cm.as_ref().map(cm_bytes).unwrap_or_default(),
            c.items.as_deref(),
            default_mode(c.default_mode),
        );
        write_atomic(&path, &payload).map_err(io(name))?;
        return Ok(path);
    }
    if let Some(s) = &v.secret {
        let path = volume_dir(dir, "secret", name);
        let secret_name = s.secret_name.clone().unwrap_or_default();
        let secret = fetch.secret(&secret_name, s.optional == Some(true)).await?;
        let payload = key_payload(
            secret.as_ref().map(secret_bytes).unwrap_or_default(),
            s.items.as_deref(),
            default_mode(s.default_mode),
        );
        write_atomic(&path, &payload).map_err(io(name))?;
        return Ok(path);
    }
    if let Some(d) = &v.downward_api {
        let path = volume_dir(dir, "downward-api", name);
        let payload = downward_payload(pod, d.items.as_deref().unwrap_or(&[]), default_mode(d.default_mode), src);
        write_atomic(&path, &payload).map_err(io(name))?;
        return Ok(path);
    }
    if let Some(p) = &v.projected {
        let path = volume_dir(dir, "projected", name);
        let payload = projected(pod, p, fetch, src).await?;
        write_atomic(&path, &payload).map_err(io(name))?;
        return Ok(path);
    }
    if let Some(c) = &v.persistent_volume_claim {
        return claim_path(&c.claim_name, fetch).await;
    }
    Err(VolumeError::Unsupported(name.into()))
}

async fn projected(
    pod: &Pod,
    p: &k8s_openapi::api::core::v1::ProjectedVolumeSource,
    fetch: &Fetch<'_>,
    src: &crate::env::Sources,
) -> Result<Payload, VolumeError> {
    let mode = default_mode(p.default_mode);
    let mut payload = Payload::new();
    for s in p.sources.iter().flatten() {
        if let Some(c) = &s.config_map {
            let cm = fetch.config_map(&c.name, c.optional == Some(true)).await?;
            payload.extend(key_payload(cm.as_ref().map(cm_bytes).unwrap_or_default(), c.items.as_deref(), mode));
        }
        if let Some(c) = &s.secret {
            let secret = fetch.secret(&c.name, c.optional == Some(true)).await?;
            payload.extend(key_payload(
                secret.as_ref().map(secret_bytes).unwrap_or_default(),
                c.items.as_deref(),
                mode,
            ));
        }
        if let Some(d) = &s.downward_api {
            payload.extend(downward_payload(pod, d.items.as_deref().unwrap_or(&[]), mode, src));
        }
        if let Some(t) = &s.service_account_token {
            let sa = pod.spec.as_ref().and_then(|s| s.service_account_name.clone()).unwrap_or_else(|| "default".into());
            if let Some(token) = fetch.token(&sa, t.audience.clone(), t.expiration_seconds).await {
                payload.insert(t.path.clone(), (token.into_bytes(), mode));
            }
        }
    }
    Ok(payload)
}

/// A hostPath with its `type` checked (and created for the *OrCreate types).
pub fn host_path(path: &str, kind: &str) -> Result<PathBuf, VolumeError> {
    let p = PathBuf::from(path);
    let fail = || VolumeError::HostPathType { path: path.into(), kind: kind.into() };
    let io_err = |source| VolumeError::Io { name: path.into(), source };
    match kind {
        "DirectoryOrCreate" => std::fs::create_dir_all(&p).map_err(io_err)?,
        "FileOrCreate" if !p.exists() => {
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(io_err)?;
            }
            std::fs::write(&p, b"").map_err(io_err)?;
        }
        "Directory" if !p.is_dir() => return Err(fail()),
        "File" if !p.is_file() => return Err(fail()),
        "Socket" | "CharDevice" | "BlockDevice" if !p.exists() => return Err(fail()),
        _ => {}
    }
    Ok(p)
}

async fn claim_path(claim: &str, fetch: &Fetch<'_>) -> Result<PathBuf, VolumeError> {
    let pvc =
        fetch.opt::<PersistentVolumeClaim>(claim).await?.ok_or_else(|| VolumeError::ClaimNotFound(claim.into()))?;
    let pv_name = pvc
        .spec
        .and_then(|s| s.volume_name)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| VolumeError::ClaimNotBound(claim.into()))?;
    let pvs: Api<PersistentVolume> = Api::all(fetch.client.clone());
    let pv = pvs.get(&pv_name).await.map_err(|source| VolumeError::Api { what: pv_name.clone(), source })?;
    let spec = pv.spec.unwrap_or_default();
    let path = spec.host_path.map(|h| h.path).or_else(|| spec.local.map(|l| l.path));
    let path = path.ok_or(VolumeError::UnsupportedPersistentVolume(pv_name))?;
    std::fs::create_dir_all(&path).map_err(|source| VolumeError::Io { name: claim.into(), source })?;
    Ok(PathBuf::from(path))
}

#[cfg(test)]
#[path = "volumes_tests.rs"]
mod tests;
