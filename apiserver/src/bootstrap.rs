//! What the API server makes for itself at start: the system namespaces.

use crate::meta;
use crate::registry::Registry;
use crate::rest::encode_stored;
use crate::status::ApiError;
use crate::storage::{Storage, StorageError};
use crate::strategy;
use serde_json::json;

/// Namespaces every Kubernetes cluster has.
pub const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

pub async fn namespaces(store: &dyn Storage, registry: &Registry) -> Result<(), ApiError> {
    let Some(kind) = registry.resource("", "v1", "namespaces") else {
        return Ok(());
    };
    for name in SYSTEM_NAMESPACES {
        let key = kind.key(None, name);
        if store.get(&key).await?.is_some() {
            continue;
        }
        let mut ns = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}}});
        strategy::prepare_create(kind, &mut ns);
        meta::fill_for_create(&mut ns, false);
        match store.create(&key, encode_stored(&ns)?).await {
            Ok(_) | Err(StorageError::AlreadyExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The host address pods reach the API server at: the first non-loopback IPv4.
pub fn host_ip() -> std::net::Ipv4Addr {
    if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| match i.ip() {
            std::net::IpAddr::V4(ip) if !ip.is_loopback() => Some(ip),
            _ => None,
        })
        .next()
        .unwrap_or(std::net::Ipv4Addr::LOCALHOST)
}

/// The `kubernetes` Service in `default` (first address of the service CIDR, port 443) and its
/// Endpoints and EndpointSlice, pointing at this API server — what kube-apiserver's bootstrap
/// controller keeps.
pub async fn kubernetes_service(
    store: &dyn Storage,
    registry: &Registry,
    cluster_ip: std::net::Ipv4Addr,
    endpoint: (std::net::Ipv4Addr, u16),
) -> Result<(), ApiError> {
    let (ip, port) = (endpoint.0.to_string(), endpoint.1);
    let labels = json!({"component": "apiserver", "provider": "kubernetes"});
    let service = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": labels},
        "spec": {"type": "ClusterIP", "clusterIP": cluster_ip.to_string(), "clusterIPs": [cluster_ip.to_string()],
                 "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                 "internalTrafficPolicy": "Cluster",
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]}});
    ensure(store, registry, "services", "", service, false).await?;
    let endpoints = json!({"apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": ip}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]});
    ensure(store, registry, "endpoints", "", endpoints, true).await?;
    let slice = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [ip], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}]});
    ensure(store, registry, "endpointslices", "discovery.k8s.io", slice, true).await
}

/// Creates an object if absent; with `refresh`, replaces its content when it differs.
async fn ensure(
    store: &dyn Storage,
    registry: &Registry,
    plural: &str,
    group: &str,
    mut obj: serde_json::Value,
    refresh: bool,
) -> Result<(), ApiError> {
    let Some(kind) = registry.resource(group, "v1", plural) else { return Ok(()) };
    let key = kind.key(meta::namespace(&obj), meta::name(&obj).unwrap_or_default());
    match store.get(&key).await? {
        Some(existing) if refresh => {
            let mut current = crate::rest::decode_stored(&existing)?;
            let wanted = obj.as_object().cloned().unwrap_or_default();
            let before = current.clone();
            for (k, v) in wanted.into_iter().filter(|(k, _)| k != "metadata") {
                current[k] = v;
            }
            if current != before {
                store.update(&key, Some(existing.revision), encode_stored(&current)?).await?;
            }
            Ok(())
        }
        Some(_) => Ok(()),
        None => {
            meta::fill_for_create(&mut obj, kind.generation);
            match store.create(&key, encode_stored(&obj)?).await {
                Ok(_) | Err(StorageError::AlreadyExists(_)) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
    }
}
