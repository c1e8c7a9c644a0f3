//! The minik8s API server: a registry of kinds served by one generic REST path over a store
//! (sled), with watch, TLS and client-certificate/token authentication, discovery and tables.
//!
//! Entry point: [`run`]. Tests drive [`routes::router`] as a service, without a port.

pub mod allocator;
pub mod authn;
pub mod bootstrap;
pub mod config;
pub mod crd;
pub mod decode;
pub mod discovery;
pub mod kubeconfig;
pub mod kubelet_client;
pub mod meta;
pub mod pki;
pub mod registry;
pub mod request;
pub mod rest;
pub mod routes;
pub mod server;
pub mod status;
pub mod storage;
pub mod strategy;

pub use config::Config;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("creating the data directory {0}: {1}")]
    DataDir(std::path::PathBuf, std::io::Error),
    #[error("certificates: {0}")]
    Pki(#[from] pki::PkiError),
    #[error("opening the store: {0}")]
    Storage(#[from] storage::StorageError),
    #[error("bootstrapping: {0}")]
    Bootstrap(#[from] status::ApiError),
    #[error("kubelet client: {0}")]
    Kubelet(#[from] kubelet_client::KubeletError),
    #[error("TLS: {0}")]
    Tls(#[from] server::TlsError),
    #[error("--service-cidr {0} is not an IPv4 CIDR between /8 and /30")]
    ServiceCidr(String),
    #[error("listening on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
}

/// A started API server: where it listens and the admin credentials it made.
pub struct Started {
    pub address: SocketAddr,
    pub pki: pki::Pki,
    pub serve: tokio::task::JoinHandle<()>,
}

/// Starts the API server and returns once it accepts connections.
pub async fn start(config: &Config) -> Result<Started, Error> {
    let t0 = Instant::now();
    let server_dir = config.data_dir.join("server");
    std::fs::create_dir_all(&server_dir).map_err(|e| Error::DataDir(server_dir.clone(), e))?;
    let pki = pki::ensure(&server_dir.join("tls"), &config.certificate_names(), config.token.as_deref())?;
    let store: Arc<dyn storage::Storage> =
        Arc::new(storage::SledStore::open(&server_dir.join("db"), config.watch_history)?);
    let registry = registry::Registry::new(registry::builtin());
    bootstrap::namespaces(store.as_ref(), &registry).await?;
    let tls = server::tls_config(&pki)?;
    let addr = SocketAddr::new(config.bind_address, config.https_port);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| Error::Listen(addr, e))?;
    let address = listener.local_addr().map_err(|e| Error::Listen(addr, e))?;
    let server_url = format!("https://{}", config.advertise_address());
    kubeconfig::write_to(&config.write_kubeconfig, &pki, &server_url, config.write_kubeconfig_mode)?;
    let ranges = allocator::ServiceRanges::new(&config.service_cidr, config.service_node_port_range)
        .ok_or_else(|| Error::ServiceCidr(config.service_cidr.clone()))?;
    let endpoint = (bootstrap::host_ip(), address.port());
    bootstrap::kubernetes_service(store.as_ref(), &registry, ranges.nth(1), endpoint).await?;
    let mut api = rest::Api::new(store, registry, ranges);
    api.reload_crds().await?;
    api.kubelet = Some(kubelet_client::KubeletClient::new(pki.token.clone())?);
    let app = Arc::new(routes::App::new(api, config.advertise_address()));
    let auth = Arc::new(authn::Authenticator::new(pki.token.clone()));
    let serve = tokio::spawn(server::serve(listener, tls, routes::router(app, auth)));
    tracing::info!(%address, elapsed_ms = t0.elapsed().as_millis() as u64, "API server listening");
    Ok(Started { address, pki, serve })
}
