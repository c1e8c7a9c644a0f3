//! The router: public health and version endpoints, then authenticated discovery, OpenAPI and
//! the generic resource path.

use crate::authn::{self, Authenticator};
use crate::discovery;
use crate::request;
use crate::rest::{self, Api, MAX_BODY, Params};
use crate::status::ApiError;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::sync::Arc;

/// Shared state of the HTTP layer.
pub struct App {
    pub api: Api,
    /// host:port clients are told to use (discovery's serverAddressByClientCIDRs).
    pub address: String,
    /// OpenAPI documents of the registry they were made for, rebuilt when CRDs change it.
    openapi: std::sync::Mutex<Option<Arc<Documents>>>,
}

/// The OpenAPI documents of one registry; each built on first request and kept.
pub struct Documents {
    registry: Arc<crate::registry::Registry>,
    cache: openapi::Cache,
    /// /openapi/v2 as protobuf, built on first request.
    v2_protobuf: std::sync::OnceLock<bytes::Bytes>,
}

impl App {
    pub fn new(api: Api, address: String) -> App {
        App { openapi: std::sync::Mutex::new(None), api, address }
    }

    fn openapi(&self) -> Arc<Documents> {
        let registry = self.api.registry();
        let mut slot = self.openapi.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some(d) if Arc::ptr_eq(&d.registry, &registry) => d.clone(),
            _ => {
                let resources: Vec<openapi::Resource> = registry.kinds().iter().map(openapi_resource).collect();
                let docs = Arc::new(Documents {
                    cache: openapi::Cache::new(&resources),
                    registry,
                    v2_protobuf: Default::default(),
                });
                *slot = Some(docs.clone());
                docs
            }
        }
    }
}

fn openapi_resource(k: &crate::registry::Kind) -> openapi::Resource {
    openapi::Resource {
        group: k.group,
        version: k.version,
        kind: k.kind,
        plural: k.plural,
        namespaced: k.namespaced,
        verbs: discovery::VERBS,
        subresources: k.subresources,
    }
}

pub fn router(app: Arc<App>, auth: Arc<Authenticator>) -> Router {
    let public = Router::new()
        .route("/version", get(|| async { json(&discovery::version()) }))
        .route("/healthz", get(ok))
        .route("/livez", get(ok))
        .route("/readyz", get(ok));
    let private = Router::new()
        .route("/api", get(api_root))
        .route("/apis", get(apis_root))
        .route("/openapi/v2", get(openapi_v2))
        .route("/openapi/v3", get(openapi_v3_root))
        .route("/openapi/v3/{*path}", get(openapi_v3))
        .fallback(resource)
        .with_state(app)
        .layer(axum::middleware::from_fn_with_state(auth, authn::require));
    public.merge(private)
}

async fn ok() -> &'static str {
    "ok"
}

fn json(v: &Value) -> Response {
    rest::respond(StatusCode::OK, v, &[])
}

fn accept(headers: &HeaderMap) -> &str {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// An aggregated discovery document, with the content type that tells kubectl what it is.
fn aggregated(doc: &Value, version: &str) -> Response {
    let mut resp = json(doc);
    let ct = format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList");
    if let Ok(v) = HeaderValue::from_str(&ct) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

async fn api_root(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    match discovery::aggregated_version(accept(&headers)) {
        Some(v) => aggregated(&discovery::aggregated(&app.api.registry(), true, v), v),
        None => json(&discovery::api_versions(&app.address)),
    }
}

async fn apis_root(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    match discovery::aggregated_version(accept(&headers)) {
        Some(v) => aggregated(&discovery::aggregated(&app.api.registry(), false, v), v),
        None => json(&discovery::api_group_list(&app.api.registry())),
    }
}

/// Group and version documents, then resource requests.
async fn resource(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    if let Some(doc) = discovery_document(&app, &path) {
        return json(&doc);
    }
    let params = match Params::parse(parts.uri.query()) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let Some(info) = request::parse(&parts.method, &path, params.is_watch()) else {
        return ApiError::UnknownPath.into_response();
    };
    if is_streaming(&info) {
        return rest::proxy::serve(&app.api, info, Request::from_parts(parts, body)).await;
    }
    let body = match axum::body::to_bytes(body, MAX_BODY + 1).await {
        Ok(b) if b.len() <= MAX_BODY => b,
        _ => return ApiError::TooLarge.into_response(),
    };
    let mut headers = parts.headers;
    let body = match as_json(&mut headers, body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    rest::serve(&app.api, info, params, headers, body).await
}

/// kubectl 1.33's typed clients send protobuf bodies; they become JSON here, at the edge, so
/// everything after sees one representation.
fn as_json(headers: &mut HeaderMap, body: bytes::Bytes) -> Result<bytes::Bytes, ApiError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !protobuf::is_protobuf(ct) || body.is_empty() {
        return Ok(body);
    }
    let value = protobuf::decode(&body).map_err(|e| match e {
        protobuf::DecodeError::UnknownKind { .. } => ApiError::UnsupportedMediaType(e.to_string()),
        other => ApiError::BadRequest(other.to_string()),
    })?;
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(bytes::Bytes::from(value.to_string()))
}

/// Pod subresources served by the node's kubelet through a proxy.
fn is_streaming(info: &request::RequestInfo) -> bool {
    info.group.is_empty()
        && info.resource == "pods"
        && matches!(info.subresource.as_deref(), Some("log" | "exec" | "attach" | "portforward"))
}

fn discovery_document(app: &App, path: &str) -> Option<Value> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let registry = &app.api.registry();
    match parts.as_slice() {
        ["api", version] => discovery::api_resource_list(registry, "", version),
        ["apis", group] => discovery::api_group(registry, group),
        ["apis", group, version] => discovery::api_resource_list(registry, group, version),
        _ => None,
    }
}

/// The response type kube-openapi sends (Go's mime parser refuses the `@` form kubectl asks with).
const OPENAPI_V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// kubectl asks for protobuf (paths only, see openapi::v2_protobuf); others get JSON.
async fn openapi_v2(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if !accept(&headers).contains("protobuf") {
        return document(app.openapi().cache.v2(), false);
    }
    let docs = app.openapi();
    let bytes = docs.v2_protobuf.get_or_init(|| {
        let doc: Value = serde_json::from_slice(&docs.cache.v2().json()).unwrap_or_default();
        bytes::Bytes::from(openapi::v2_protobuf::encode(&doc))
    });
    let mut resp = (StatusCode::OK, bytes.clone()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(OPENAPI_V2_PROTOBUF));
    resp
}

async fn openapi_v3_root(State(app): State<Arc<App>>) -> Response {
    document(app.openapi().cache.v3_root(), false)
}

async fn openapi_v3(
    State(app): State<Arc<App>>,
    axum::extract::Path(path): axum::extract::Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let docs = app.openapi();
    let Some(doc) = docs.cache.v3_group_version(&path) else {
        return ApiError::UnknownPath.into_response();
    };
    let hashed = query.as_deref().and_then(|q| q.strip_prefix("hash=")) == Some(doc.hash());
    document(doc, hashed)
}

/// A document with Kubernetes' caching headers: immutable when asked for by its hash, so
/// kubectl's disk cache keeps it instead of downloading it on every command.
fn document(doc: &openapi::Document, immutable: bool) -> Response {
    let mut resp = (StatusCode::OK, doc.json()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&doc.etag()) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    let cache = if immutable { "public, immutable, max-age=31536000" } else { "no-cache, private" };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}
