//! The generic REST path: decode, admit, default, validate, store, encode, for every kind.

mod apply;
mod delete;
mod filter;
mod negotiate;
mod params;
pub mod proxy;
mod read;
mod services;
mod subresource;
mod watch;
mod write;

pub use negotiate::Output;
pub use params::{FieldValidation, Params};

use crate::allocator::ServiceRanges;
use crate::meta;
use crate::registry::{Kind, Registry};
use crate::request::{RequestInfo, Verb};
use crate::status::ApiError;
use crate::storage::{Storage, Versioned};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;
use std::sync::Arc;

/// Request bodies over this size are refused with 413, as kube-apiserver does (3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// What every handler shares: the store, the kinds and the Service ranges.
pub struct Api {
    pub store: Arc<dyn Storage>,
    registry: std::sync::RwLock<Arc<Registry>>,
    pub services: ServiceRanges,
    /// Held from reading allocations until the Service write is stored.
    pub service_lock: tokio::sync::Mutex<()>,
    /// How pod logs, exec, attach and port-forward reach kubelets.
    pub kubelet: Option<crate::kubelet_client::KubeletClient>,
}

impl Api {
    pub fn new(store: Arc<dyn Storage>, registry: Registry, services: ServiceRanges) -> Api {
        Api {
            store,
            registry: std::sync::RwLock::new(Arc::new(registry)),
            services,
            service_lock: tokio::sync::Mutex::new(()),
            kubelet: None,
        }
    }

    /// The kinds served now (CRDs change them).
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Re-reads every CRD and swaps in the registry they define.
    pub async fn reload_crds(&self) -> Result<(), ApiError> {
        let page = self.store.list("/registry/apiextensions.k8s.io/customresourcedefinitions/", None, 0).await?;
        let crds: Vec<Value> = page.items.iter().map(|(_, v)| decode_stored(v)).collect::<Result<_, _>>()?;
        let next = Arc::new(Registry::with_crds(&crds));
        *self.registry.write().unwrap_or_else(|p| p.into_inner()) = next;
        Ok(())
    }
}

/// One resource request, resolved against the registry.
pub struct Call<'a> {
    pub api: &'a Api,
    pub kind: &'a Kind,
    pub info: RequestInfo,
    pub params: Params,
    pub headers: HeaderMap,
    pub output: Output,
}

impl Call<'_> {
    pub fn key(&self, name: &str) -> String {
        self.kind.key(self.info.namespace.as_deref(), name)
    }

    pub fn name(&self) -> &str {
        self.info.name.as_deref().unwrap_or_default()
    }

    pub fn not_found(&self, name: &str) -> ApiError {
        ApiError::NotFound { group: self.kind.group.into(), resource: self.kind.qualified(), name: name.into() }
    }

    pub fn conflict(&self, name: &str, detail: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            group: self.kind.group.into(),
            resource: self.kind.qualified(),
            name: name.into(),
            detail: detail.into(),
        }
    }

    /// Reads one stored object with its resourceVersion set.
    pub async fn load(&self, name: &str) -> Result<(Value, Versioned), ApiError> {
        let stored = self.api.store.get(&self.key(name)).await?.ok_or_else(|| self.not_found(name))?;
        Ok((decode_stored(&stored)?, stored))
    }
}

/// Effects of a stored write on the server itself: CRD writes re-read the registry.
pub async fn after_write(call: &Call<'_>) -> Result<(), ApiError> {
    if crate::strategy::changes_registry(call.kind) {
        call.api.reload_crds().await?;
    }
    Ok(())
}

/// A stored value as the object clients see (resourceVersion from the store's revision).
pub fn decode_stored(v: &Versioned) -> Result<Value, ApiError> {
    let mut obj: Value =
        serde_json::from_slice(&v.value).map_err(|e| ApiError::Internal(format!("stored object is not JSON: {e}")))?;
    meta::set_resource_version(&mut obj, v.revision);
    Ok(obj)
}

/// The stored form of an object.
pub fn encode_stored(obj: &Value) -> Result<Bytes, ApiError> {
    let mut obj = obj.clone();
    meta::strip_resource_version(&mut obj);
    serde_json::to_vec(&obj).map(Bytes::from).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Serves one resource request; every failure becomes a Status.
pub async fn serve(api: &Api, info: RequestInfo, params: Params, headers: HeaderMap, body: Bytes) -> Response {
    match dispatch(api, info, params, headers, body).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn dispatch(
    api: &Api,
    info: RequestInfo,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let registry = api.registry();
    let kind = registry.resource(&info.group, &info.version, &info.resource).ok_or(ApiError::UnknownPath)?;
    check_scope(kind, &info)?;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("application/json");
    let output = Output::negotiate(accept, &params);
    let call = Call { api, kind, info, params, headers: headers.clone(), output };
    if let Some(sub) = call.info.subresource.as_deref()
        && let Some(resp) = special_subresource(&call, sub, &body).await
    {
        return resp;
    }
    match call.info.verb {
        Verb::Get => read::get(&call).await,
        Verb::List => read::list(&call).await,
        Verb::Watch => watch::watch(&call).await,
        Verb::Create => write::create(&call, &body).await,
        Verb::Update => write::update(&call, &body).await,
        Verb::Patch => write::patch(&call, &body).await,
        Verb::Delete => delete::delete(&call, &body).await,
        Verb::DeleteCollection => delete::delete_collection(&call, &body).await,
    }
}

/// Subresources with shapes of their own; None for status/finalize (the generic path).
async fn special_subresource(call: &Call<'_>, sub: &str, body: &[u8]) -> Option<Result<Response, ApiError>> {
    Some(match (sub, call.info.verb) {
        ("binding", Verb::Create) => subresource::bind(call, body).await,
        ("eviction", Verb::Create) => subresource::evict(call, body).await,
        ("scale", Verb::Get) => subresource::get_scale(call).await,
        ("scale", Verb::Update) => subresource::write_scale(call, body, false).await,
        ("scale", Verb::Patch) => subresource::write_scale(call, body, true).await,
        ("binding" | "eviction" | "scale", _) => Err(ApiError::MethodNotAllowed),
        _ => return None,
    })
}

/// Refuses subresources the kind lacks and namespaces on cluster-scoped kinds.
fn check_scope(kind: &Kind, info: &RequestInfo) -> Result<(), ApiError> {
    if let Some(sub) = &info.subresource {
        if !kind.has_subresource(sub) {
            return Err(ApiError::UnknownPath);
        }
        let creates = matches!(sub.as_str(), "binding" | "eviction" | "exec" | "attach" | "portforward");
        if (info.verb == Verb::Create && !creates) || info.verb == Verb::Delete {
            return Err(ApiError::MethodNotAllowed);
        }
    }
    if info.namespace.is_some() && !kind.namespaced {
        return Err(ApiError::UnknownPath);
    }
    if kind.namespaced && info.namespace.is_none() && !matches!(info.verb, Verb::List | Verb::Watch) {
        return Err(ApiError::UnknownPath);
    }
    Ok(())
}

/// A JSON response, with `Warning` headers for what the request should know.
pub fn respond(code: StatusCode, body: &Value, warnings: &[String]) -> Response {
    let mut resp = (code, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for w in warnings {
        let text = format!("299 - {}", serde_json::Value::String(w.clone()));
        if let Ok(v) = HeaderValue::from_str(&text) {
            h.append("Warning", v);
        }
    }
    resp
}

/// A streaming response (watch).
pub fn respond_stream(body: Body) -> Response {
    let mut resp = Response::new(body);
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}
