//! The API server's client for kubelets: HTTPS to a node's kubelet port with the cluster
//! token, for the pod subresources the kubelet serves (log, exec, attach, portforward).
//!
//! Kubelet serving certificates are self-signed, and kube-apiserver does not verify them
//! unless told a CA (`--kubelet-certificate-authority`); neither do we, but the handshake's
//! signatures are still checked so the session is a real TLS session.

use axum::body::Body;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

#[derive(Debug, thiserror::Error)]
pub enum KubeletError {
    #[error("connecting to the kubelet at {0}: {1}")]
    Connect(SocketAddr, std::io::Error),
    #[error("talking to the kubelet: {0}")]
    Http(#[from] hyper::Error),
    #[error("TLS to the kubelet: {0}")]
    Tls(#[from] rustls::Error),
}

pub struct KubeletClient {
    connector: TlsConnector,
    token: String,
}

/// Accepts the kubelet's self-signed certificate, verifying the handshake signatures.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

impl KubeletClient {
    pub fn new(token: String) -> Result<KubeletClient, KubeletError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth();
        Ok(KubeletClient { connector: TlsConnector::from(Arc::new(config)), token })
    }

    /// Sends one HTTP/1.1 request (upgrades allowed) to the kubelet at `addr`.
    pub async fn send(&self, addr: SocketAddr, mut req: Request<Body>) -> Result<Response<Incoming>, KubeletError> {
        let tcp = TcpStream::connect(addr).await.map_err(|e| KubeletError::Connect(addr, e))?;
        let name = ServerName::IpAddress(addr.ip().into());
        let tls = self.connector.connect(name, tcp).await.map_err(|e| KubeletError::Connect(addr, e))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(conn.with_upgrades());
        let auth = format!("Bearer {}", self.token);
        if let Ok(v) = http::HeaderValue::from_str(&auth) {
            req.headers_mut().insert(http::header::AUTHORIZATION, v);
        }
        if let Ok(v) = http::HeaderValue::from_str(&addr.to_string()) {
            req.headers_mut().insert(http::header::HOST, v);
        }
        Ok(sender.send_request(req).await?)
    }
}
