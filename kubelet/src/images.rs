//! Image import without a registry: OCI-layout and Docker archives (`docker save`) are written
//! into containerd's content store and named in namespace `k8s.io` through containerd's own API,
//! where CRI sees them at once. `<data-dir>/agent/images/*.tar` is imported at every start (k3s'
//! airgap convention); [`import_file`] is `minik8s image import`.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use containerd_client::services::v1 as ctrd;
use containerd_client::services::v1::content_client::ContentClient;
use containerd_client::services::v1::images_client::ImagesClient;
use containerd_client::services::v1::leases_client::LeasesClient;
use containerd_client::types::Descriptor;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tonic::transport::Channel;

/// containerd's namespace for everything CRI manages.
pub const NAMESPACE: &str = "k8s.io";
const SMALL: u64 = 1 << 20;
const CHUNK: usize = 1 << 20;
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is neither an OCI layout nor a Docker archive: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("cannot reach containerd: {0}")]
    Connect(#[from] crate::cri::CriError),
    #[error("containerd refused {step} of {path}: {}", .source.message())]
    Containerd { step: &'static str, path: PathBuf, source: tonic::Status },
}

/// What one archive brought in.
#[derive(Debug, Default)]
pub struct Imported {
    pub images: Vec<String>,
    pub blobs_written: usize,
    pub bytes_written: u64,
}

/// One archive read into memory: small files by path, and the large entries by path + size.
#[derive(Default)]
struct Archive {
    small: HashMap<String, Vec<u8>>,
    large: Vec<(String, u64)>,
}

fn clean(path: &str) -> String {
    path.trim_start_matches("./").to_string()
}

fn read_archive(path: &Path) -> std::io::Result<Archive> {
    let mut archive = Archive::default();
    let mut tar = tar::Archive::new(std::fs::File::open(path)?);
    for entry in tar.entries()? {
        let mut entry = entry?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = clean(&entry.path()?.to_string_lossy());
        let size = entry.size();
        if size <= SMALL {
            let mut data = Vec::with_capacity(size as usize);
            entry.read_to_end(&mut data)?;
            archive.small.insert(name, data);
        } else {
            archive.large.push((name, size));
        }
    }
    Ok(archive)
}

/// Reads the large entries one at a time, calling `each(path, bytes)` (peak memory: one layer).
fn for_each_large(
    path: &Path,
    wanted: &[(String, u64)],
    mut each: impl FnMut(String, Vec<u8>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    let mut tar = tar::Archive::new(std::fs::File::open(path)?);
    for entry in tar.entries()? {
        let mut entry = entry?;
        let name = clean(&entry.path()?.to_string_lossy());
        if wanted.iter().any(|(w, _)| *w == name) {
            let mut data = Vec::with_capacity(entry.size() as usize);
            entry.read_to_end(&mut data)?;
            each(name, data)?;
        }
    }
    Ok(())
}

pub fn sha256_digest(data: &[u8]) -> String {
    let hash = Sha256::digest(data);
    let mut s = String::from("sha256:");
    for b in hash {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Docker Hub's short names, as containerd and the kubelet normalise them:
/// `busybox` -> `docker.io/library/busybox:latest`, `me/app:1` -> `docker.io/me/app:1`.
pub fn normalize_reference(name: &str) -> String {
    let (repo, tag) = split_tag(name);
    let first = repo.split('/').next().unwrap_or("");
    let has_registry = repo.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let repo = match (has_registry, repo.contains('/')) {
        (true, _) => repo.to_string(),
        (false, true) => format!("docker.io/{repo}"),
        (false, false) => format!("docker.io/library/{repo}"),
    };
    match tag {
        Some(t) => format!("{repo}{t}"),
        None => format!("{repo}:latest"),
    }
}

/// Splits `repo[:tag][@digest]` into the repository and the `:tag`/`@digest` suffix.
fn split_tag(name: &str) -> (&str, Option<&str>) {
    if let Some(at) = name.find('@') {
        return (&name[..at], Some(&name[at..]));
    }
    let slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
    match name[slash..].rfind(':') {
        Some(i) => (&name[..slash + i], Some(&name[slash + i..])),
        None => (name, None),
    }
}

#[derive(Deserialize)]
struct OciIndex {
    manifests: Vec<OciDescriptor>,
}

#[derive(Deserialize, Clone)]
struct OciDescriptor {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: i64,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct OciManifest {
    #[serde(default)]
    config: Option<OciDescriptor>,
    #[serde(default)]
    layers: Vec<OciDescriptor>,
    #[serde(default)]
    manifests: Vec<OciDescriptor>,
}

#[derive(Deserialize)]
struct DockerEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// A blob to write: its digest, bytes, and the GC labels that keep its children alive.
struct Blob {
    digest: String,
    data: Vec<u8>,
    labels: HashMap<String, String>,
}

/// The images named by an OCI index: `io.containerd.image.name`, else a full
/// `org.opencontainers.image.ref.name`.
fn oci_names(index: &OciIndex) -> Vec<(String, OciDescriptor)> {
    let mut out = Vec::new();
    for m in &index.manifests {
        let name = m
            .annotations
            .get("io.containerd.image.name")
            .or_else(|| m.annotations.get("org.opencontainers.image.ref.name").filter(|n| n.contains('/')))
            .map(|n| normalize_reference(n));
        if let Some(name) = name {
            out.push((name, m.clone()));
        }
    }
    out
}

/// `containerd.io/gc.ref.content.*` labels of a manifest or index blob, as containerd's own
/// importer sets them, so the garbage collector keeps configs, layers and child manifests.
fn gc_labels(blob: &[u8]) -> HashMap<String, String> {
    let mut labels = HashMap::new();
    let Ok(m) = serde_json::from_slice::<OciManifest>(blob) else {
        return labels;
    };
    if let Some(c) = m.config {
        labels.insert("containerd.io/gc.ref.content.config".into(), c.digest);
    }
    for (i, l) in m.layers.into_iter().enumerate() {
        labels.insert(format!("containerd.io/gc.ref.content.l.{i}"), l.digest);
    }
    for (i, c) in m.manifests.into_iter().enumerate() {
        labels.insert(format!("containerd.io/gc.ref.content.m.{i}"), c.digest);
    }
    labels
}

/// The image records and blobs of an OCI layout.
/// Images to name (reference -> target) and blobs to write.
type OciPlan = (Vec<(String, Descriptor)>, Vec<Blob>);

fn plan_oci(archive: &mut Archive, index: &[u8]) -> Result<OciPlan, String> {
    let index: OciIndex = serde_json::from_slice(index).map_err(|e| format!("index.json: {e}"))?;
    let images = oci_names(&index)
        .into_iter()
        .map(|(name, d)| (name, descriptor(&d.media_type, &d.digest, d.size)))
        .collect::<Vec<_>>();
    if images.is_empty() {
        return Err("index.json names no image (annotation io.containerd.image.name)".into());
    }
    let small = std::mem::take(&mut archive.small);
    let blobs = small
        .into_iter()
        .filter_map(|(path, data)| {
            let hex = path.strip_prefix("blobs/sha256/")?;
            let labels = gc_labels(&data);
            Some(Blob { digest: format!("sha256:{hex}"), data, labels })
        })
        .collect();
    Ok((images, blobs))
}

fn descriptor(media_type: &str, digest: &str, size: i64) -> Descriptor {
    Descriptor { media_type: media_type.into(), digest: digest.into(), size, annotations: HashMap::new() }
}

fn layer_media_type(data: &[u8]) -> &'static str {
    if data.starts_with(&[0x1f, 0x8b]) {
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    } else {
        "application/vnd.docker.image.rootfs.diff.tar"
    }
}

/// Imports one archive into containerd's namespace `k8s.io`.
pub async fn import_file(socket: &Path, path: &Path) -> Result<Imported, ImportError> {
    let read_err = |source| ImportError::Read { path: path.to_path_buf(), source };
    let owned = path.to_path_buf();
    let mut archive = tokio::task::spawn_blocking(move || read_archive(&owned))
        .await
        .map_err(|e| read_err(std::io::Error::other(e)))?
        .map_err(read_err)?;
    let store = Store::connect(socket, path).await?;
    let result = if let Some(index) = archive.small.get("index.json").cloned() {
        import_oci(&store, path, &mut archive, &index).await
    } else if let Some(manifest) = archive.small.get("manifest.json").cloned() {
        import_docker(&store, path, &mut archive, &manifest).await
    } else {
        Err(ImportError::Format { path: path.to_path_buf(), reason: "no index.json or manifest.json".into() })
    };
    store.release().await;
    result
}

async fn import_oci(store: &Store, path: &Path, archive: &mut Archive, index: &[u8]) -> Result<Imported, ImportError> {
    let (images, blobs) =
        plan_oci(archive, index).map_err(|reason| ImportError::Format { path: path.to_path_buf(), reason })?;
    let mut done = Imported::default();
    for blob in blobs {
        store.write(blob, &mut done).await?;
    }
    let large = std::mem::take(&mut archive.large);
    for blob in
        read_large(path, large, |name, _| name.strip_prefix("blobs/sha256/").map(|h| format!("sha256:{h}"))).await?
    {
        store.write(blob, &mut done).await?;
    }
    for (name, target) in images {
        store.name_image(&name, target).await?;
        done.images.push(name);
    }
    Ok(done)
}

/// Reads the large entries in a blocking thread; `digest_of` names each (None: hash it).
async fn read_large(
    path: &Path,
    large: Vec<(String, u64)>,
    digest_of: fn(&str, &[u8]) -> Option<String>,
) -> Result<Vec<Blob>, ImportError> {
    let owned = path.to_path_buf();
    let read = tokio::task::spawn_blocking(move || {
        let mut blobs = Vec::new();
        for_each_large(&owned, &large, |name, data| {
            let digest = digest_of(&name, &data).unwrap_or_else(|| sha256_digest(&data));
            blobs.push((name, Blob { digest, data, labels: HashMap::new() }));
            Ok(())
        })
        .map(|()| blobs)
    });
    let read_err = |source| ImportError::Read { path: path.to_path_buf(), source };
    let blobs = read.await.map_err(|e| read_err(std::io::Error::other(e)))?.map_err(read_err)?;
    Ok(blobs.into_iter().map(|(_, b)| b).collect())
}

async fn import_docker(
    store: &Store,
    path: &Path,
    archive: &mut Archive,
    manifest: &[u8],
) -> Result<Imported, ImportError> {
    let format = |reason: String| ImportError::Format { path: path.to_path_buf(), reason };
    let entries: Vec<DockerEntry> =
        serde_json::from_slice(manifest).map_err(|e| format(format!("manifest.json: {e}")))?;
    // Every layer file, small or large, keyed by its path in the archive.
    let mut files: HashMap<String, Blob> = HashMap::new();
    for (name, data) in archive.small.drain() {
        let digest = sha256_digest(&data);
        files.insert(name, Blob { digest, data, labels: HashMap::new() });
    }
    let large = std::mem::take(&mut archive.large);
    let names: Vec<String> = large.iter().map(|(n, _)| n.clone()).collect();
    for (name, blob) in names.into_iter().zip(read_large(path, large, |_, _| None).await?) {
        files.insert(name, blob);
    }
    let mut done = Imported::default();
    for entry in entries {
        let target = docker_manifest(store, &entry, &mut files, &mut done).await?.map_err(format)?;
        for tag in entry.repo_tags.unwrap_or_default() {
            let name = normalize_reference(&tag);
            store.name_image(&name, target.clone()).await?;
            done.images.push(name);
        }
    }
    Ok(done)
}

/// Writes one Docker archive entry's config and layers and a schema-2 manifest over them.
async fn docker_manifest(
    store: &Store,
    entry: &DockerEntry,
    files: &mut HashMap<String, Blob>,
    done: &mut Imported,
) -> Result<Result<Descriptor, String>, ImportError> {
    let Some(config) = files.get(&entry.config) else {
        return Ok(Err(format!("{} is missing", entry.config)));
    };
    let config_desc =
        serde_json::json!({"mediaType": DOCKER_CONFIG, "digest": config.digest, "size": config.data.len()});
    let mut layers = Vec::new();
    for l in &entry.layers {
        let Some(layer) = files.get(l) else {
            return Ok(Err(format!("{l} is missing")));
        };
        layers.push(serde_json::json!({"mediaType": layer_media_type(&layer.data), "digest": layer.digest, "size": layer.data.len()}));
    }
    let manifest =
        serde_json::json!({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "config": config_desc, "layers": layers});
    let data = serde_json::to_vec(&manifest).unwrap_or_default();
    for name in std::iter::once(&entry.config).chain(&entry.layers) {
        if let Some(blob) = files.remove(name) {
            store.write(blob, done).await?;
        }
    }
    let target = descriptor(DOCKER_MANIFEST, &sha256_digest(&data), data.len() as i64);
    let labels = gc_labels(&data);
    store.write(Blob { digest: target.digest.clone(), data, labels }, done).await?;
    Ok(Ok(target))
}

/// containerd's content and image stores in namespace `k8s.io`, under one lease so nothing
/// written is collected before the image naming it exists.
struct Store {
    channel: Channel,
    lease: Option<String>,
    path: PathBuf,
}

impl Store {
    async fn connect(socket: &Path, path: &Path) -> Result<Store, ImportError> {
        let channel = crate::cri::unix_channel(socket)?;
        let mut store = Store { channel, lease: None, path: path.to_path_buf() };
        let id = format!("minik8s-import-{}", std::process::id());
        let mut leases = LeasesClient::new(store.channel.clone());
        let req = ctrd::CreateRequest {
            id: id.clone(),
            labels: HashMap::from([("containerd.io/gc.expire".into(), expire_in_an_hour())]),
        };
        let created = leases.create(store.request(req)).await;
        store.lease = created.ok().map(|_| id);
        Ok(store)
    }

    fn request<T>(&self, msg: T) -> tonic::Request<T> {
        let mut req = tonic::Request::new(msg);
        let md = req.metadata_mut();
        md.insert("containerd-namespace", tonic::metadata::MetadataValue::from_static(NAMESPACE));
        if let Some(lease) = self.lease.as_deref().and_then(|l| l.parse().ok()) {
            md.insert("containerd-lease", lease);
        }
        req
    }

    fn refused(&self, step: &'static str) -> impl FnOnce(tonic::Status) -> ImportError + '_ {
        move |source| ImportError::Containerd { step, path: self.path.clone(), source }
    }

    async fn has(&self, digest: &str) -> bool {
        let mut content = ContentClient::new(self.channel.clone());
        let req = ctrd::InfoRequest { digest: digest.into() };
        content.info(self.request(req)).await.is_ok()
    }

    /// Writes a blob unless containerd has it already (a reimport writes nothing).
    async fn write(&self, blob: Blob, done: &mut Imported) -> Result<(), ImportError> {
        if self.has(&blob.digest).await {
            return Ok(());
        }
        let total = blob.data.len() as i64;
        let reference = format!("minik8s-{}-{}", blob.digest, std::process::id());
        let mut reqs = Vec::new();
        let mut offset = 0usize;
        for chunk in blob.data.chunks(CHUNK) {
            reqs.push(write_req(ctrd::WriteAction::Write, &reference, total, offset, chunk.to_vec()));
            offset += chunk.len();
        }
        let mut commit = write_req(ctrd::WriteAction::Commit, &reference, total, offset, Vec::new());
        commit.expected = blob.digest.clone();
        commit.labels = blob.labels;
        reqs.push(commit);
        let mut content = ContentClient::new(self.channel.clone());
        let stream = futures::stream::iter(reqs);
        match content.write(self.request(stream)).await {
            Ok(resp) => drain(resp.into_inner()).await.map_err(self.refused("writing a blob"))?,
            Err(s) if s.code() == tonic::Code::AlreadyExists => {}
            Err(s) => return Err(self.refused("writing a blob")(s)),
        }
        done.blobs_written += 1;
        done.bytes_written += total as u64;
        Ok(())
    }

    /// Creates the image record, or points an existing one at the new target.
    async fn name_image(&self, name: &str, target: Descriptor) -> Result<(), ImportError> {
        let mut images = ImagesClient::new(self.channel.clone());
        let image = ctrd::Image {
            name: name.into(),
            labels: HashMap::new(),
            target: Some(target),
            created_at: None,
            updated_at: None,
        };
        let req = ctrd::CreateImageRequest { image: Some(image.clone()), source_date_epoch: None };
        match images.create(self.request(req)).await {
            Ok(_) => Ok(()),
            Err(s) if s.code() == tonic::Code::AlreadyExists => {
                let req = ctrd::UpdateImageRequest { image: Some(image), update_mask: None, source_date_epoch: None };
                images.update(self.request(req)).await.map(drop).map_err(self.refused("updating the image"))
            }
            Err(s) => Err(self.refused("creating the image")(s)),
        }
    }

    async fn release(&self) {
        if let Some(id) = &self.lease {
            let mut leases = LeasesClient::new(self.channel.clone());
            let req = ctrd::DeleteRequest { id: id.clone(), sync: false };
            let _ = leases.delete(self.request(req)).await;
        }
    }
}

fn write_req(
    action: ctrd::WriteAction,
    reference: &str,
    total: i64,
    offset: usize,
    data: Vec<u8>,
) -> ctrd::WriteContentRequest {
    ctrd::WriteContentRequest {
        action: action as i32,
        r#ref: reference.into(),
        total,
        expected: String::new(),
        offset: offset as i64,
        data,
        labels: HashMap::new(),
    }
}

async fn drain(mut stream: tonic::Streaming<ctrd::WriteContentResponse>) -> Result<(), tonic::Status> {
    while stream.message().await?.is_some() {}
    Ok(())
}

fn expire_in_an_hour() -> String {
    let t = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3600);
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The socket of the node's containerd: `--container-runtime-endpoint` if given, else the one
/// minik8s runs under the data dir (for `minik8s image import` and `minik8s image ls`).
pub fn socket(data_dir: &Path, endpoint: Option<&Path>) -> PathBuf {
    endpoint.map(Path::to_path_buf).unwrap_or_else(|| crate::containerd::Paths::new(data_dir).socket)
}

/// `minik8s image ls`: every image CRI sees, with its names and size.
pub async fn list(socket: &Path) -> Result<Vec<k8s_cri::v1::Image>, crate::cri::CriError> {
    crate::cri::Cri::connect(socket)?.list_images().await
}

/// Imports every `*.tar` in `dir`, printing one line per archive; failures are reported and
/// skipped (one bad archive must not keep the node from starting).
pub async fn import_dir(socket: &Path, dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tar"))
        .collect();
    files.sort();
    let mut names = Vec::new();
    for file in files {
        let started = std::time::Instant::now();
        match import_file(socket, &file).await {
            Ok(done) => {
                eprintln!(
                    "kubelet: imported {} ({}; {} new blobs, {} bytes) in {:?}",
                    file.display(),
                    done.images.join(", "),
                    done.blobs_written,
                    done.bytes_written,
                    started.elapsed()
                );
                names.extend(done.images);
            }
            Err(e) => eprintln!("kubelet: skipping image archive: {e}"),
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_name_means_docker_hubs_library() {
        assert_eq!(normalize_reference("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(normalize_reference("nginx:1.14"), "docker.io/library/nginx:1.14");
        assert_eq!(normalize_reference("me/app:1"), "docker.io/me/app:1");
    }

    #[test]
    fn a_name_with_a_registry_is_kept() {
        assert_eq!(normalize_reference("registry.k8s.io/pause:3.10"), "registry.k8s.io/pause:3.10");
        assert_eq!(normalize_reference("localhost:5000/x"), "localhost:5000/x:latest");
        assert_eq!(normalize_reference("busybox@sha256:ab"), "docker.io/library/busybox@sha256:ab");
    }

    #[test]
    fn a_manifest_keeps_its_config_and_layers_from_the_garbage_collector() {
        let m = br#"{"config":{"mediaType":"c","digest":"sha256:c","size":1},"layers":[{"mediaType":"l","digest":"sha256:l0","size":1}]}"#;
        let labels = gc_labels(m);
        assert_eq!(labels["containerd.io/gc.ref.content.config"], "sha256:c");
        assert_eq!(labels["containerd.io/gc.ref.content.l.0"], "sha256:l0");
    }

    #[test]
    fn an_oci_index_names_images_by_the_containerd_annotation() {
        let index: OciIndex = serde_json::from_str(r#"{"manifests":[{"mediaType":"m","digest":"sha256:a","size":3,"annotations":{"io.containerd.image.name":"docker.io/library/busybox:1.36"}},{"mediaType":"m","digest":"sha256:b","size":3,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}"#).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<String> = oci_names(&index).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["docker.io/library/busybox:1.36"]);
    }

    #[test]
    fn a_gzip_layer_is_typed_as_gzip() {
        assert!(layer_media_type(&[0x1f, 0x8b, 8]).ends_with("gzip"));
        assert!(layer_media_type(b"plain").ends_with(".tar"));
    }
}
