//! pods/log, pods/exec, pods/attach and pods/portforward: forwarded to the kubelet of the
//! pod's node, upgrades (SPDY or WebSocket) spliced through, as kube-apiserver does.

use super::decode_stored;
use crate::meta;
use crate::request::RequestInfo;
use crate::rest::Api;
use crate::status::ApiError;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::net::SocketAddr;

/// Headers that carry an upgrade negotiation and must reach the kubelet unchanged.
const FORWARDED: &[&str] = &[
    "connection",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "x-stream-protocol-version",
    "content-type",
    "accept",
];

pub async fn serve(api: &Api, info: RequestInfo, req: Request) -> Response {
    match forward(api, info, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn forward(api: &Api, info: RequestInfo, mut req: Request) -> Result<Response, ApiError> {
    let pod = load(api, "pods", info.namespace.as_deref(), info.name.as_deref().unwrap_or_default()).await?;
    let addr = kubelet_address(api, &pod).await?;
    let path = kubelet_path(&info, &pod, req.uri().query().unwrap_or_default())?;
    let mut out = http::Request::builder().method(req.method()).uri(path);
    for (k, v) in req.headers() {
        if FORWARDED.contains(&k.as_str()) {
            out = out.header(k, v);
        }
    }
    let client_upgrade = hyper::upgrade::on(&mut req);
    let body = if req.method() == http::Method::GET { Body::empty() } else { req.into_body() };
    let out = out.body(body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let kubelet = api.kubelet.as_ref().ok_or_else(|| ApiError::ServiceUnavailable("no kubelet client".into()))?;
    let mut resp = kubelet.send(addr, out).await.map_err(|e| ApiError::ServiceUnavailable(e.to_string()))?;
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        return Ok(resp.map(Body::new));
    }
    let kubelet_upgrade = hyper::upgrade::on(&mut resp);
    tokio::spawn(async move {
        let (Ok(a), Ok(b)) = (client_upgrade.await, kubelet_upgrade.await) else { return };
        let _ = tokio::io::copy_bidirectional(&mut TokioIo::new(a), &mut TokioIo::new(b)).await;
    });
    let (parts, _) = resp.into_parts();
    Ok(Response::from_parts(parts, Body::empty()))
}

async fn load(api: &Api, plural: &str, ns: Option<&str>, name: &str) -> Result<Value, ApiError> {
    let registry = api.registry();
    let kind = registry.resource("", "v1", plural).ok_or(ApiError::UnknownPath)?;
    let stored = api.store.get(&kind.key(ns, name)).await?;
    let stored = stored.ok_or_else(|| ApiError::NotFound {
        group: String::new(),
        resource: plural.into(),
        name: name.into(),
    })?;
    decode_stored(&stored)
}

/// The node's InternalIP and kubelet port (status.daemonEndpoints, 10250 by default).
async fn kubelet_address(api: &Api, pod: &Value) -> Result<SocketAddr, ApiError> {
    let node_name = meta::str_at(pod, &["spec", "nodeName"]).filter(|n| !n.is_empty());
    let node_name = node_name.ok_or_else(|| {
        ApiError::BadRequest(format!("pod {} does not have a host assigned", meta::name(pod).unwrap_or_default()))
    })?;
    let node = load(api, "nodes", None, node_name).await?;
    let port = node.pointer("/status/daemonEndpoints/kubeletEndpoint/Port").and_then(Value::as_u64).unwrap_or(10250);
    let addresses = node.pointer("/status/addresses").and_then(Value::as_array).cloned().unwrap_or_default();
    let ip = addresses
        .iter()
        .find(|a| a["type"] == "InternalIP")
        .and_then(|a| a["address"].as_str())
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| ApiError::ServiceUnavailable(format!("node {node_name} has no InternalIP")))?;
    Ok(SocketAddr::new(ip, port as u16))
}

/// The kubelet URL path for the subresource, with the container resolved as kubectl expects.
fn kubelet_path(info: &RequestInfo, pod: &Value, query: &str) -> Result<String, ApiError> {
    let ns = info.namespace.as_deref().unwrap_or("default");
    let name = info.name.as_deref().unwrap_or_default();
    let sub = info.subresource.as_deref().unwrap_or_default();
    if sub == "portforward" {
        return Ok(format!("/portForward/{ns}/{name}?{query}"));
    }
    let container = container(pod, query)?;
    let prefix = match sub {
        "log" => "containerLogs",
        "exec" => "exec",
        _ => "attach",
    };
    Ok(format!("/{prefix}/{ns}/{name}/{container}?{query}"))
}

fn container(pod: &Value, query: &str) -> Result<String, ApiError> {
    let asked = query.split('&').find_map(|kv| kv.strip_prefix("container=")).filter(|c| !c.is_empty());
    if let Some(c) = asked {
        return Ok(percent_encoding::percent_decode_str(c).decode_utf8_lossy().into_owned());
    }
    let names: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    if let Some(d) =
        pod.pointer("/metadata/annotations/kubectl.kubernetes.io~1default-container").and_then(Value::as_str)
    {
        return Ok(d.to_string());
    }
    match names.as_slice() {
        [one] => Ok(one.to_string()),
        many => Err(ApiError::BadRequest(format!(
            "a container name must be specified for pod {}, choose one of: [{}]",
            meta::name(pod).unwrap_or_default(),
            many.join(" ")
        ))),
    }
}
