//! The CRI v1 client: RuntimeService and ImageService over containerd's unix socket. Every call
//! is one method here, so the rest of the kubelet sees typed results and one error type.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use k8s_cri::v1 as cri;
use k8s_cri::v1::image_service_client::ImageServiceClient;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use tonic::transport::{Channel, Endpoint};

/// A failed CRI call: which call, and containerd's gRPC status.
#[derive(Debug, thiserror::Error)]
pub enum CriError {
    #[error("cannot connect to the container runtime at {path}: {source}")]
    Connect { path: PathBuf, source: tonic::transport::Error },
    #[error("the container runtime did not answer at {path} within {waited:?}")]
    NotReady { path: PathBuf, waited: Duration },
    #[error("CRI {call} failed: {}", .source.message())]
    Call { call: &'static str, source: tonic::Status },
}

impl CriError {
    /// The gRPC code of a failed call (NotFound lets callers treat "already gone" as done).
    pub fn code(&self) -> Option<tonic::Code> {
        match self {
            CriError::Call { source, .. } => Some(source.code()),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code() == Some(tonic::Code::NotFound)
    }
}

pub type Result<T, E = CriError> = std::result::Result<T, E>;

fn call(call: &'static str) -> impl FnOnce(tonic::Status) -> CriError {
    move |source| CriError::Call { call, source }
}

/// Opens a lazy gRPC channel over a unix socket (the URI is ignored; the connector dials).
pub fn unix_channel(path: &Path) -> Result<Channel> {
    let socket = path.to_path_buf();
    let endpoint =
        Endpoint::try_from("http://[::1]:0").map_err(|source| CriError::Connect { path: socket.clone(), source })?;
    Ok(endpoint.connect_with_connector_lazy(tower::service_fn(move |_| {
        let socket = socket.clone();
        async move {
            let stream = tokio::net::UnixStream::connect(socket).await?;
            Ok::<_, std::io::Error>(TokioIo::new(stream))
        }
    })))
}

/// RuntimeService + ImageService clients sharing one channel; cheap to clone.
#[derive(Clone)]
pub struct Cri {
    runtime: RuntimeServiceClient<Channel>,
    images: ImageServiceClient<Channel>,
}

impl Cri {
    pub fn connect(socket: &Path) -> Result<Cri> {
        let channel = unix_channel(socket)?;
        Ok(Cri { runtime: RuntimeServiceClient::new(channel.clone()), images: ImageServiceClient::new(channel) })
    }

    /// Waits until the runtime answers Version (a gate on the socket, polled every 20 ms).
    pub async fn wait_ready(socket: &Path, timeout: Duration) -> Result<(Cri, cri::VersionResponse)> {
        let started = Instant::now();
        loop {
            if socket.exists() {
                let cri = Cri::connect(socket)?;
                if let Ok(v) = cri.version().await {
                    return Ok((cri, v));
                }
            }
            if started.elapsed() > timeout {
                return Err(CriError::NotReady { path: socket.to_path_buf(), waited: timeout });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn version(&self) -> Result<cri::VersionResponse> {
        let req = cri::VersionRequest { version: "v1".into() };
        let r = self.runtime.clone().version(req).await.map_err(call("Version"))?;
        Ok(r.into_inner())
    }

    pub async fn run_pod_sandbox(&self, config: cri::PodSandboxConfig) -> Result<String> {
        let req = cri::RunPodSandboxRequest { config: Some(config), runtime_handler: String::new() };
        let r = self.runtime.clone().run_pod_sandbox(req).await;
        Ok(r.map_err(call("RunPodSandbox"))?.into_inner().pod_sandbox_id)
    }

    pub async fn stop_pod_sandbox(&self, id: &str) -> Result<()> {
        let req = cri::StopPodSandboxRequest { pod_sandbox_id: id.into() };
        let r = self.runtime.clone().stop_pod_sandbox(req).await;
        r.map_err(call("StopPodSandbox")).map(drop)
    }

    pub async fn remove_pod_sandbox(&self, id: &str) -> Result<()> {
        let req = cri::RemovePodSandboxRequest { pod_sandbox_id: id.into() };
        let r = self.runtime.clone().remove_pod_sandbox(req).await;
        r.map_err(call("RemovePodSandbox")).map(drop)
    }

    pub async fn pod_sandbox_status(&self, id: &str) -> Result<cri::PodSandboxStatus> {
        let req = cri::PodSandboxStatusRequest { pod_sandbox_id: id.into(), verbose: false };
        let r = self.runtime.clone().pod_sandbox_status(req).await;
        let status = r.map_err(call("PodSandboxStatus"))?.into_inner().status;
        status.ok_or_else(|| CriError::Call {
            call: "PodSandboxStatus",
            source: tonic::Status::not_found("no status in the answer"),
        })
    }

    /// Sandboxes whose labels include all of `labels` (all sandboxes for an empty map).
    pub async fn list_pod_sandboxes(&self, labels: HashMap<String, String>) -> Result<Vec<cri::PodSandbox>> {
        let filter = cri::PodSandboxFilter { label_selector: labels, ..Default::default() };
        let req = cri::ListPodSandboxRequest { filter: Some(filter) };
        let r = self.runtime.clone().list_pod_sandbox(req).await;
        Ok(r.map_err(call("ListPodSandbox"))?.into_inner().items)
    }

    pub async fn create_container(
        &self,
        sandbox_id: &str,
        config: cri::ContainerConfig,
        sandbox_config: cri::PodSandboxConfig,
    ) -> Result<String> {
        let req = cri::CreateContainerRequest {
            pod_sandbox_id: sandbox_id.into(),
            config: Some(config),
            sandbox_config: Some(sandbox_config),
        };
        let r = self.runtime.clone().create_container(req).await;
        Ok(r.map_err(call("CreateContainer"))?.into_inner().container_id)
    }

    pub async fn start_container(&self, id: &str) -> Result<()> {
        let req = cri::StartContainerRequest { container_id: id.into() };
        let r = self.runtime.clone().start_container(req).await;
        r.map_err(call("StartContainer")).map(drop)
    }

    /// SIGTERM, then SIGKILL after `grace` (containerd does both).
    pub async fn stop_container(&self, id: &str, grace: Duration) -> Result<()> {
        let req = cri::StopContainerRequest { container_id: id.into(), timeout: grace.as_secs() as i64 };
        let r = self.runtime.clone().stop_container(req).await;
        r.map_err(call("StopContainer")).map(drop)
    }

    pub async fn remove_container(&self, id: &str) -> Result<()> {
        let req = cri::RemoveContainerRequest { container_id: id.into() };
        let r = self.runtime.clone().remove_container(req).await;
        r.map_err(call("RemoveContainer")).map(drop)
    }

    pub async fn list_containers(&self, labels: HashMap<String, String>) -> Result<Vec<cri::Container>> {
        let filter = cri::ContainerFilter { label_selector: labels, ..Default::default() };
        let req = cri::ListContainersRequest { filter: Some(filter) };
        let r = self.runtime.clone().list_containers(req).await;
        Ok(r.map_err(call("ListContainers"))?.into_inner().containers)
    }

    pub async fn container_status(&self, id: &str) -> Result<cri::ContainerStatus> {
        let req = cri::ContainerStatusRequest { container_id: id.into(), verbose: false };
        let r = self.runtime.clone().container_status(req).await;
        let status = r.map_err(call("ContainerStatus"))?.into_inner().status;
        status.ok_or_else(|| CriError::Call {
            call: "ContainerStatus",
            source: tonic::Status::not_found("no status in the answer"),
        })
    }

    pub async fn exec_sync(&self, id: &str, cmd: Vec<String>, timeout: Duration) -> Result<cri::ExecSyncResponse> {
        let req = cri::ExecSyncRequest { container_id: id.into(), cmd, timeout: timeout.as_secs().max(1) as i64 };
        let r = self.runtime.clone().exec_sync(req).await;
        Ok(r.map_err(call("ExecSync"))?.into_inner())
    }

    /// The single-use streaming URL for an exec session.
    pub async fn exec(&self, req: cri::ExecRequest) -> Result<String> {
        let r = self.runtime.clone().exec(req).await;
        Ok(r.map_err(call("Exec"))?.into_inner().url)
    }

    pub async fn attach(&self, req: cri::AttachRequest) -> Result<String> {
        let r = self.runtime.clone().attach(req).await;
        Ok(r.map_err(call("Attach"))?.into_inner().url)
    }

    pub async fn port_forward(&self, sandbox_id: &str, ports: Vec<i32>) -> Result<String> {
        let req = cri::PortForwardRequest { pod_sandbox_id: sandbox_id.into(), port: ports };
        let r = self.runtime.clone().port_forward(req).await;
        Ok(r.map_err(call("PortForward"))?.into_inner().url)
    }

    /// The image if the runtime has it, by any name or ID.
    pub async fn image_status(&self, image: &str) -> Result<Option<cri::Image>> {
        let req = cri::ImageStatusRequest { image: Some(image_spec(image)), verbose: false };
        let r = self.images.clone().image_status(req).await;
        Ok(r.map_err(call("ImageStatus"))?.into_inner().image)
    }

    /// Pulls from the image's registry; returns the image reference (its ID).
    pub async fn pull_image(&self, image: &str) -> Result<String> {
        let req = cri::PullImageRequest { image: Some(image_spec(image)), auth: None, sandbox_config: None };
        let r = self.images.clone().pull_image(req).await;
        Ok(r.map_err(call("PullImage"))?.into_inner().image_ref)
    }

    pub async fn list_images(&self) -> Result<Vec<cri::Image>> {
        let req = cri::ListImagesRequest { filter: None };
        let r = self.images.clone().list_images(req).await;
        Ok(r.map_err(call("ListImages"))?.into_inner().images)
    }
}

pub fn image_spec(image: &str) -> cri::ImageSpec {
    cri::ImageSpec { image: image.into(), ..Default::default() }
}
