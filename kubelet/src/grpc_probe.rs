//! gRPC probes: the standard health-checking protocol (`grpc.health.v1.Health/Check`) over
//! plain-text HTTP/2 to the pod; SERVING is success, as the kubelet's gRPC prober judges it.

use std::time::Duration;

use hyper_util::rt::TokioIo;
use tonic::transport::Endpoint;

#[derive(Clone, PartialEq, prost::Message)]
pub struct HealthCheckRequest {
    #[prost(string, tag = "1")]
    pub service: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct HealthCheckResponse {
    #[prost(int32, tag = "1")]
    pub status: i32,
}

/// grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING
pub const SERVING: i32 = 1;

/// Checks `service` at host:port; (success, what to say in an Unhealthy event).
pub async fn check(host: &str, port: u16, service: &str, timeout: Duration) -> (bool, String) {
    let addr = format!("{host}:{port}");
    match tokio::time::timeout(timeout, call(addr.clone(), service.to_string())).await {
        Ok(Ok(SERVING)) => (true, String::new()),
        Ok(Ok(status)) => (false, format!("service unhealthy (responded with \"{}\")", status_name(status))),
        Ok(Err(e)) => (false, format!("failed to connect service \"{addr}\" within {timeout:?}: {e}")),
        Err(_) => (false, format!("timeout: health rpc did not complete within {timeout:?}")),
    }
}

fn status_name(s: i32) -> &'static str {
    match s {
        0 => "UNKNOWN",
        1 => "SERVING",
        2 => "NOT_SERVING",
        3 => "SERVICE_UNKNOWN",
        _ => "?",
    }
}

async fn call(addr: String, service: String) -> Result<i32, Box<dyn std::error::Error + Send + Sync>> {
    let target = addr.clone();
    let channel = Endpoint::try_from(format!("http://{addr}"))?
        .connect_with_connector(tower::service_fn(move |_| {
            let target = target.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(tokio::net::TcpStream::connect(target).await?)) }
        }))
        .await?;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await?;
    let path = http::uri::PathAndQuery::from_static("/grpc.health.v1.Health/Check");
    let codec = tonic_prost::ProstCodec::<HealthCheckRequest, HealthCheckResponse>::default();
    let resp = grpc.unary(tonic::Request::new(HealthCheckRequest { service }), path, codec).await?;
    Ok(resp.into_inner().status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_port_with_nothing_listening_fails_the_probe() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let port = l.local_addr().map(|a| a.port()).unwrap_or_default();
        drop(l);
        let (ok, msg) = check("127.0.0.1", port, "", Duration::from_secs(1)).await;
        assert!(!ok);
        assert!(msg.contains("failed to connect") || msg.contains("timeout"), "{msg}");
    }
}
