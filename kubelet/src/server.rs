//! The kubelet's HTTPS API on :10250 (self-signed certificate, bearer token): the paths the API
//! server proxies pods/log, pods/exec, pods/attach and pods/portforward to, plus /healthz.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use k8s_cri::v1 as cri;

use crate::cri::Cri;
use crate::runtime_pod::{LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE};

pub type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("making the kubelet's serving certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("the kubelet's TLS setup: {0}")]
    Tls(#[from] rustls::Error),
    #[error("the kubelet's serving files: {0}")]
    Io(#[from] std::io::Error),
}

pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|never| match never {}).boxed()
}

pub fn text(status: StatusCode, msg: String) -> Response<Body> {
    let mut r = Response::new(full(msg));
    *r.status_mut() = status;
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

pub struct State {
    pub cri: Cri,
    pub token: String,
}

/// Loads `<data-dir>/agent/kubelet.{crt,key}`, making a self-signed pair first if missing.
pub fn tls_config(agent_dir: &Path, names: Vec<String>) -> Result<rustls::ServerConfig, ServerError> {
    let (crt, key) = (agent_dir.join("kubelet.crt"), agent_dir.join("kubelet.key"));
    if !crt.exists() || !key.exists() {
        let ck = rcgen::generate_simple_self_signed(names)?;
        std::fs::create_dir_all(agent_dir)?;
        std::fs::write(&crt, ck.cert.pem())?;
        std::fs::write(&key, ck.signing_key.serialize_pem())?;
    }
    let certs = rustls_pemfile::certs(&mut std::io::BufReader::new(std::fs::File::open(&crt)?))
        .collect::<Result<Vec<_>, _>>()?;
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(std::fs::File::open(&key)?))?
        .ok_or_else(|| std::io::Error::other("no private key in kubelet.key"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(cfg)
}

/// Accepts TLS connections forever; each is one HTTP/1.1 connection with upgrades.
pub async fn serve(listener: tokio::net::TcpListener, tls: rustls::ServerConfig, state: Arc<State>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    loop {
        let Ok((tcp, _)) = listener.accept().await else { continue };
        let (acceptor, state) = (acceptor.clone(), state.clone());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else { return };
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(state, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(e) = conn.await {
                tracing::debug!("kubelet connection: {e}");
            }
        });
    }
}

fn authorized(req: &Request<Incoming>, token: &str) -> bool {
    let header = req.headers().get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    !token.is_empty() && header.and_then(|h| h.strip_prefix("Bearer ")) == Some(token)
}

pub fn query(req: &Request<Incoming>) -> Vec<(String, String)> {
    serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or_default()
}

fn flag(q: &[(String, String)], key: &str) -> bool {
    q.iter().any(|(k, v)| k == key && matches!(v.as_str(), "1" | "true" | "True"))
}

/// Routes one request (paths as the real kubelet names them).
pub async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Body> {
    let path: Vec<String> = req.uri().path().trim_matches('/').split('/').map(decode).collect();
    if path == ["healthz"] {
        return text(StatusCode::OK, "ok".into());
    }
    if !authorized(&req, &state.token) {
        return text(StatusCode::UNAUTHORIZED, "Unauthorized".into());
    }
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["containerLogs", ns, pod, c] => container_logs(&state, &req, ns, pod, c).await,
        ["exec", ns, pod, c] | ["exec", ns, pod, _, c] => exec(&state, req, &[ns, pod, c]).await,
        ["attach", ns, pod, c] | ["attach", ns, pod, _, c] => attach(&state, req, &[ns, pod, c]).await,
        ["portForward", ns, pod] | ["portForward", ns, pod, _] => port_forward(&state, req, ns, pod).await,
        _ => text(StatusCode::NOT_FOUND, "404 page not found".into()),
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The pod's containers of that name, newest attempt first.
async fn containers(cri: &Cri, ns: &str, pod: &str, name: &str) -> Vec<cri::Container> {
    let labels = HashMap::from([
        (LABEL_POD_NAMESPACE.to_string(), ns.to_string()),
        (LABEL_POD_NAME.to_string(), pod.to_string()),
        (LABEL_CONTAINER_NAME.to_string(), name.to_string()),
    ]);
    let mut list = cri.list_containers(labels).await.unwrap_or_default();
    list.sort_by_key(|c| std::cmp::Reverse((c.created_at, c.metadata.as_ref().map_or(0, |m| m.attempt))));
    list
}

async fn container_logs(state: &State, req: &Request<Incoming>, ns: &str, pod: &str, name: &str) -> Response<Body> {
    let opts = crate::logs::Options::from_query(&query(req), jiff::Timestamp::now());
    let list = containers(&state.cri, ns, pod, name).await;
    let pick = if opts.previous { list.get(1) } else { list.first() };
    let Some(c) = pick else {
        let what = if opts.previous { "previous terminated container" } else { "container" };
        return text(StatusCode::NOT_FOUND, format!("{what} \"{name}\" in pod \"{pod}\" not found"));
    };
    let status = match state.cri.container_status(&c.id).await {
        Ok(s) => s,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let (cri, id) = (state.cri.clone(), c.id.clone());
    let alive = move || {
        let (cri, id) = (cri.clone(), id.clone());
        let f: futures::future::BoxFuture<'static, bool> = Box::pin(async move {
            cri.container_status(&id)
                .await
                .map(|s| s.state == cri::ContainerState::ContainerRunning as i32)
                .unwrap_or(false)
        });
        f
    };
    tokio::spawn(crate::logs::stream(status.log_path.into(), opts, tx, alive));
    let stream =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item.map(Frame::data), rx)) });
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(stream)));
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain"));
    r
}

async fn running_container(state: &State, ns: &str, pod: &str, name: &str) -> Result<String, Response<Body>> {
    let list = containers(&state.cri, ns, pod, name).await;
    let running = list.iter().find(|c| c.state == cri::ContainerState::ContainerRunning as i32);
    running
        .map(|c| c.id.clone())
        .ok_or_else(|| text(StatusCode::NOT_FOUND, format!("container \"{name}\" in pod \"{pod}\" is not running")))
}

async fn exec(state: &State, req: Request<Incoming>, at: &[&str; 3]) -> Response<Body> {
    let q = query(&req);
    let id = match running_container(state, at[0], at[1], at[2]).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    let cmd: Vec<String> = q.iter().filter(|(k, _)| k == "command" || k == "cmd").map(|(_, v)| v.clone()).collect();
    let r = cri::ExecRequest {
        container_id: id,
        cmd,
        tty: flag(&q, "tty"),
        stdin: flag(&q, "stdin") || flag(&q, "input"),
        stdout: flag(&q, "stdout") || flag(&q, "output"),
        stderr: flag(&q, "stderr") || flag(&q, "error"),
    };
    match state.cri.exec(r).await {
        Ok(url) => crate::streaming::proxy(req, &url).await,
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn attach(state: &State, req: Request<Incoming>, at: &[&str; 3]) -> Response<Body> {
    let q = query(&req);
    let id = match running_container(state, at[0], at[1], at[2]).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    let r = cri::AttachRequest {
        container_id: id,
        stdin: flag(&q, "stdin") || flag(&q, "input"),
        tty: flag(&q, "tty"),
        stdout: flag(&q, "stdout") || flag(&q, "output"),
        stderr: flag(&q, "stderr") || flag(&q, "error"),
    };
    match state.cri.attach(r).await {
        Ok(url) => crate::streaming::proxy(req, &url).await,
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn port_forward(state: &State, req: Request<Incoming>, ns: &str, pod: &str) -> Response<Body> {
    let labels = HashMap::from([
        (LABEL_POD_NAMESPACE.to_string(), ns.to_string()),
        (LABEL_POD_NAME.to_string(), pod.to_string()),
    ]);
    let sandboxes = state.cri.list_pod_sandboxes(labels).await.unwrap_or_default();
    let ready =
        sandboxes.iter().filter(|s| s.state == cri::PodSandboxState::SandboxReady as i32).max_by_key(|s| s.created_at);
    let Some(sandbox) = ready else {
        return text(StatusCode::NOT_FOUND, format!("pod \"{pod}\" has no running sandbox"));
    };
    let ports: Vec<i32> = query(&req).iter().filter(|(k, _)| k == "port").filter_map(|(_, v)| v.parse().ok()).collect();
    match state.cri.port_forward(&sandbox.id, ports).await {
        Ok(url) => crate::streaming::proxy(req, &url).await,
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
