//! The HTTP GET of httpGet probes and lifecycle hooks: HTTP/1.1, `User-Agent: kube-probe/1.33`,
//! success for a status in 200..400, as the kubelet's prober judges it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The request line and headers the kubelet sends.
pub fn request(host: &str, port: u16, path: &str, headers: &[(String, String)]) -> String {
    let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
    let mut r = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe/1.33\r\nAccept: */*\r\nConnection: close\r\n"
    );
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r
}

/// The status code of an HTTP response's first line.
pub fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let text = std::str::from_utf8(line).ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

/// GETs the URL; (success, what to say in an Unhealthy event).
pub async fn get(host: &str, port: u16, path: &str, headers: &[(String, String)], timeout: Duration) -> (bool, String) {
    let run = async {
        let mut s = tokio::net::TcpStream::connect((host, port)).await?;
        s.write_all(request(host, port, path, headers).as_bytes()).await?;
        let mut buf = vec![0u8; 1024];
        let mut n = 0;
        while n < 16 && !buf[..n].contains(&b'\n') {
            let read = s.read(&mut buf[n..]).await?;
            if read == 0 {
                break;
            }
            n += read;
        }
        Ok::<_, std::io::Error>(status_code(&buf[..n]))
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(Ok(Some(code))) if (200..400).contains(&code) => (true, String::new()),
        Ok(Ok(Some(code))) => (false, format!("HTTP probe failed with statuscode: {code}")),
        Ok(Ok(None)) => (false, "malformed HTTP response".into()),
        Ok(Err(e)) => (false, format!("Get \"http://{host}:{port}{path}\": {e}")),
        Err(_) => (false, format!("Get \"http://{host}:{port}{path}\": context deadline exceeded")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_announces_itself_as_kube_probe() {
        let r = request("10.0.0.1", 80, "healthz", &[("X-A".into(), "b".into())]);
        assert!(r.starts_with("GET /healthz HTTP/1.1\r\n"));
        assert!(r.contains("User-Agent: kube-probe/1.33\r\n"));
        assert!(r.contains("X-A: b\r\n"));
    }

    #[test]
    fn the_status_code_is_read_from_the_status_line() {
        assert_eq!(status_code(b"HTTP/1.1 503 Service Unavailable\r\n"), Some(503));
        assert_eq!(status_code(b"garbage"), None);
    }
}
