//! The kubelet's boot script, one gated step after another: containerd, its socket, images,
//! node registration, the pod network, then the loops (lease, status, PLEG, workers, server).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::Api;

use crate::Config;
use crate::cri::Cri;
use crate::node_status::Machine;

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error(transparent)]
    Containerd(#[from] crate::containerd::ContainerdError),
    #[error(transparent)]
    Runtime(#[from] crate::cri::CriError),
    #[error("registering node {node}: {source}")]
    Register { node: String, source: kube::Error },
    #[error("writing the CNI config: {0}")]
    Cni(std::io::Error),
}

/// How long containerd may take to answer on its socket.
const RUNTIME_WAIT: Duration = Duration::from_secs(30);
/// How long to wait for the node IPAM controller's spec.podCIDR before the fallback.
const POD_CIDR_WAIT: Duration = Duration::from_secs(3);
const STATUS_PERIOD: Duration = Duration::from_secs(60);

fn step(started: Instant, what: impl std::fmt::Display) {
    eprintln!("kubelet: [{:>4} ms] {what}", started.elapsed().as_millis());
}

/// Step 1: our own supervised containerd, or the one `--container-runtime-endpoint` names.
async fn start_runtime(config: &Config, t0: Instant) -> Result<(PathBuf, PathBuf), BootError> {
    let paths = crate::containerd::Paths::new(&config.data_dir);
    if let Some(endpoint) = &config.container_runtime_endpoint {
        step(t0, format!("using the container runtime at {}", endpoint.display()));
        std::fs::create_dir_all(&paths.cni_conf_dir).map_err(BootError::Cni)?;
        return Ok((endpoint.clone(), paths.cni_conf_dir));
    }
    let snapshotter = crate::containerd::prepare(&paths)?;
    crate::containerd::stop_stale(&paths).await;
    crate::containerd::start(&paths)?;
    step(t0, format!("started containerd (snapshotter {snapshotter}, log {})", paths.log.display()));
    Ok((paths.socket, paths.cni_conf_dir))
}

/// Imports `<data-dir>/agent/images/*.tar` into containerd (what `minik8s image import` does
/// for one file); returns the image names.
pub async fn import_images(socket: &Path, data_dir: &Path) -> Vec<String> {
    crate::images::import_dir(socket, &data_dir.join("agent").join("images")).await
}

/// containerd's CRI plugin learns of imported images from events, a moment later: wait (a
/// bounded gate) until ImageStatus finds each, so the first pods don't try a pull instead.
async fn wait_until_cri_sees(cri: &Cri, names: &[String]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = 0;
    for name in names {
        while cri.image_status(name).await.ok().flatten().is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        seen += usize::from(Instant::now() < deadline);
    }
    seen
}

/// Step 5: the CNI conflist on the node's pod CIDR (or the fallback).
async fn pod_network(nodes: &Api<Node>, node: &Node, conf_dir: &Path, t0: Instant) -> Result<String, BootError> {
    let cidr = match crate::node_status::wait_for_pod_cidr(nodes, node, POD_CIDR_WAIT).await {
        Some(c) => c,
        None => {
            step(
                t0,
                format!("no spec.podCIDR assigned within {POD_CIDR_WAIT:?}; using {}", crate::cni::FALLBACK_POD_CIDR),
            );
            crate::cni::FALLBACK_POD_CIDR.to_string()
        }
    };
    crate::cni::write(conf_dir, &cidr).map_err(BootError::Cni)?;
    step(t0, format!("pod network {cidr} on bridge {}", crate::cni::BRIDGE));
    Ok(cidr)
}

pub async fn run(client: kube::Client, config: Config) -> Result<(), BootError> {
    let t0 = Instant::now();
    let (socket, conf_dir) = start_runtime(&config, t0).await?;
    let (cri, version) = Cri::wait_ready(&socket, RUNTIME_WAIT).await?;
    step(t0, format!("{} {} answers on {}", version.runtime_name, version.runtime_version, socket.display()));
    let runtime_version = format!("{}://{}", version.runtime_name, version.runtime_version);
    let machine = Machine::probe(&config.data_dir, config.node_ip, runtime_version);
    let nodes: Api<Node> = Api::all(client.clone());
    // Images and registration are independent: both go at once, and both gate the workers.
    let images = async {
        let names = import_images(&socket, &config.data_dir).await;
        let seen = wait_until_cri_sees(&cri, &names).await;
        step(t0, format!("{} images imported, {seen} seen by CRI", names.len()));
    };
    let (node, ()) = tokio::join!(register(&nodes, &config, &machine, &conf_dir, t0), images);
    let node = node?;
    let since = Time(jiff::Timestamp::now());
    post_status(&nodes, &cri, &config, &machine, &since).await;
    step(t0, format!("node {} is Ready", config.node_name));
    start_loops(client, config, cri, machine, node, since).await;
    Ok(())
}

/// Steps 4 and 5: the Node object, then the pod network on its podCIDR.
async fn register(
    nodes: &Api<Node>,
    config: &Config,
    machine: &Machine,
    conf_dir: &Path,
    t0: Instant,
) -> Result<Node, BootError> {
    let node = crate::node_status::register(nodes, config)
        .await
        .map_err(|source| BootError::Register { node: config.node_name.clone(), source })?;
    step(t0, format!("registered node {} ({})", config.node_name, machine.internal_ip));
    pod_network(nodes, &node, conf_dir, t0).await?;
    Ok(node)
}

async fn post_status(nodes: &Api<Node>, cri: &Cri, config: &Config, machine: &Machine, since: &Time) {
    let now = Time(jiff::Timestamp::now());
    let mut status = crate::node_status::status(machine, config.kubelet_port, true, &now);
    for c in status.conditions.iter_mut().flatten() {
        c.last_transition_time = Some(since.clone());
    }
    status.images = Some(node_images(cri).await);
    if let Err(e) = crate::node_status::patch_status(nodes, &config.node_name, &status).await {
        tracing::warn!("updating the node status: {e}");
    }
}

async fn node_images(cri: &Cri) -> Vec<k8s_openapi::api::core::v1::ContainerImage> {
    let list = cri.list_images().await.unwrap_or_default();
    list.into_iter()
        .map(|i| k8s_openapi::api::core::v1::ContainerImage {
            names: Some(i.repo_digests.into_iter().chain(i.repo_tags).collect()),
            size_bytes: Some(i.size as i64),
        })
        .collect()
}

/// Step 6: everything that runs for the node's lifetime; returns when the pod watch ends.
async fn start_loops(client: kube::Client, config: Config, cri: Cri, machine: Machine, node: Node, since: Time) {
    let (wake_tx, wake_rx) = tokio::sync::mpsc::unbounded_channel();
    let recorder = crate::events::Recorder::new(client.clone(), config.node_name.clone());
    tokio::spawn(crate::lease::run(client.clone(), node));
    tokio::spawn(status_loop(Api::all(client.clone()), cri.clone(), config.clone(), machine.clone(), since));
    tokio::spawn(crate::pleg::run(cri.clone(), wake_tx.clone()));
    start_server(&config, &cri, &machine).await;
    let ctx = Arc::new(crate::pod_worker::Context {
        probes: crate::probes::Manager::new(cri.clone(), wake_tx.clone(), recorder.clone()),
        client,
        cri,
        host_ip: machine.internal_ip.to_string(),
        sandbox: crate::sandbox::Settings {
            cluster_dns: config.cluster_dns,
            cluster_domain: config.cluster_domain.clone(),
            host_resolv: std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
        },
        recorder,
        node_milli_cpu: machine.cpus as i64 * 1000,
        node_memory_bytes: machine.memory_bytes as i64,
        config,
    });
    crate::pod_worker::run(ctx, wake_tx, wake_rx).await;
}

/// The node's status every minute (heartbeat times, images); the Lease is the liveness signal.
async fn status_loop(nodes: Api<Node>, cri: Cri, config: Config, machine: Machine, since: Time) {
    let mut tick = tokio::time::interval(STATUS_PERIOD);
    tick.tick().await;
    loop {
        tick.tick().await;
        post_status(&nodes, &cri, &config, &machine, &since).await;
    }
}

/// The HTTPS API on 0.0.0.0:<kubelet_port>; a node without it still runs pods (logs and exec
/// through the API server fail), so a failure here is reported, not fatal.
async fn start_server(config: &Config, cri: &Cri, machine: &Machine) {
    let names = vec![
        config.node_name.clone(),
        machine.hostname.clone(),
        machine.internal_ip.to_string(),
        "localhost".into(),
        "127.0.0.1".into(),
    ];
    let tls = match crate::server::tls_config(&config.data_dir.join("agent"), names) {
        Ok(t) => t,
        Err(e) => return eprintln!("kubelet: not serving the kubelet API: {e}"),
    };
    let addr = std::net::SocketAddr::from(([0, 0, 0, 0], config.kubelet_port));
    match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => {
            let state = Arc::new(crate::server::State { cri: cri.clone(), token: config.server_token.clone() });
            tokio::spawn(crate::server::serve(l, tls, state));
        }
        Err(e) => eprintln!("kubelet: not serving the kubelet API on {addr}: {e}"),
    }
}
