//! exec, attach and port-forward streams: the client's HTTP Upgrade (SPDY/3.1 or WebSocket
//! v4/v5.channel.k8s.io) is replayed, headers unchanged, to the single-use URL containerd's
//! streaming server gave over CRI, and after its 101 both byte streams are spliced, as the
//! real kubelet's proxying does.

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::server::{Body, text};

/// Headers that belong to one hop and are not replayed upstream.
const HOP: &[&str] =
    &["host", "content-length", "transfer-encoding", "authorization", "keep-alive", "proxy-connection"];

/// `http://127.0.0.1:PORT/exec/TOKEN` into (host:port, path).
pub fn split_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("http://")?;
    let slash = rest.find('/').unwrap_or(rest.len());
    let path = if slash == rest.len() { "/".to_string() } else { rest[slash..].to_string() };
    Some((rest[..slash].to_string(), path))
}

/// The upgrade request as sent to containerd.
pub fn request_head(method: &str, authority: &str, path: &str, headers: &HeaderMap) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\n");
    for (k, v) in headers {
        if HOP.contains(&k.as_str()) {
            continue;
        }
        if let Ok(v) = v.to_str() {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// A response head: status, headers (names lowercased), and where the body starts.
pub type Head = (u16, Vec<(String, String)>, usize);

pub fn parse_head(buf: &[u8]) -> Option<Head> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = text.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((status, headers, end))
}

async fn read_head(up: &mut TcpStream) -> std::io::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = up.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the streaming server closed the connection",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some((status, headers, end)) = parse_head(&buf) {
            return Ok((status, headers, buf.split_off(end)));
        }
        if buf.len() > 64 * 1024 {
            return Err(std::io::Error::other("response head too large"));
        }
    }
}

/// Proxies an upgrade request to containerd's streaming URL.
pub async fn proxy(req: Request<Incoming>, url: &str) -> Response<Body> {
    let Some((authority, path)) = split_url(url) else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, format!("bad streaming URL {url}"));
    };
    let mut up = match TcpStream::connect(&authority).await {
        Ok(s) => s,
        Err(e) => return text(StatusCode::BAD_GATEWAY, format!("connecting to the streaming server: {e}")),
    };
    let head = request_head(req.method().as_str(), &authority, &path, req.headers());
    if let Err(e) = up.write_all(&head).await {
        return text(StatusCode::BAD_GATEWAY, format!("writing to the streaming server: {e}"));
    }
    let (status, headers, rest) = match read_head(&mut up).await {
        Ok(h) => h,
        Err(e) => return text(StatusCode::BAD_GATEWAY, e.to_string()),
    };
    let mut resp = Response::builder().status(status);
    for (k, v) in &headers {
        if k != "content-length" && k != "transfer-encoding" {
            resp = resp.header(k, v);
        }
    }
    if status != 101 {
        let body = read_rest(up, rest).await;
        return resp
            .body(crate::server::full(body))
            .unwrap_or_else(|_| text(StatusCode::BAD_GATEWAY, "bad upstream response".into()));
    }
    tokio::spawn(splice(req, up, rest));
    resp.body(crate::server::full(Bytes::new()))
        .unwrap_or_else(|_| text(StatusCode::BAD_GATEWAY, "bad upstream response".into()))
}

async fn read_rest(mut up: TcpStream, mut rest: Vec<u8>) -> Bytes {
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), up.read_to_end(&mut rest));
    let _ = read.await;
    Bytes::from(rest)
}

/// After the 101: client <-> containerd, until either side closes.
async fn splice(req: Request<Incoming>, mut up: TcpStream, early: Vec<u8>) {
    let upgraded = match hyper::upgrade::on(req).await {
        Ok(u) => u,
        Err(e) => return tracing::debug!("client upgrade failed: {e}"),
    };
    let mut client = TokioIo::new(upgraded);
    if !early.is_empty() && client.write_all(&early).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
}

/// Drains a request body we do not use (keeps the connection healthy).
pub async fn discard(body: Incoming) {
    let _ = body.collect().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streaming_url_splits_into_authority_and_path() {
        assert_eq!(split_url("http://127.0.0.1:4321/exec/AbC"), Some(("127.0.0.1:4321".into(), "/exec/AbC".into())));
    }

    #[test]
    fn the_upgrade_headers_are_replayed_but_not_the_bearer_token() {
        let mut h = HeaderMap::new();
        h.insert("upgrade", "SPDY/3.1".parse().unwrap_or_else(|_| panic!()));
        h.insert("x-stream-protocol-version", "v4.channel.k8s.io".parse().unwrap_or_else(|_| panic!()));
        h.insert("authorization", "Bearer x".parse().unwrap_or_else(|_| panic!()));
        let head = String::from_utf8(request_head("POST", "127.0.0.1:1", "/exec/t", &h)).unwrap_or_default();
        assert!(head.starts_with("POST /exec/t HTTP/1.1\r\nHost: 127.0.0.1:1\r\n"));
        assert!(head.contains("upgrade: SPDY/3.1\r\n"));
        assert!(head.contains("x-stream-protocol-version: v4.channel.k8s.io\r\n"));
        assert!(!head.contains("Bearer"));
    }

    #[test]
    fn a_101_head_is_parsed_with_its_leftover() {
        let buf = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nConnection: Upgrade\r\n\r\nXY";
        let (status, headers, end) = parse_head(buf).unwrap_or_else(|| panic!("parsed"));
        assert_eq!(status, 101);
        assert!(headers.contains(&("upgrade".into(), "SPDY/3.1".into())));
        assert_eq!(&buf[end..], b"XY");
    }
}
