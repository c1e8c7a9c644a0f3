//! Authentication: client certificates (CN = user, O = groups) verified by the TLS layer, and
//! bearer tokens. Requests with neither get 401 with a Status body.

use crate::status::ApiError;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Who made a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub groups: Vec<String>,
}

/// The identity a connection's verified client certificate carries, if any.
#[derive(Clone, Debug, Default)]
pub struct PeerIdentity(pub Option<User>);

impl PeerIdentity {
    /// Reads user and groups from a DER certificate the TLS handshake has already verified.
    pub fn from_der(der: &[u8]) -> PeerIdentity {
        let Ok((_, cert)) = X509Certificate::from_der(der) else {
            return PeerIdentity(None);
        };
        let subject = cert.subject();
        let name = subject.iter_common_name().next().and_then(|cn| cn.as_str().ok()).map(String::from);
        let groups: Vec<String> =
            subject.iter_organization().filter_map(|o| o.as_str().ok()).map(String::from).collect();
        PeerIdentity(name.map(|name| User { name, groups: with_authenticated(groups) }))
    }
}

fn with_authenticated(mut groups: Vec<String>) -> Vec<String> {
    groups.push("system:authenticated".into());
    groups
}

/// Bearer tokens the server accepts.
pub struct Authenticator {
    admin_token: String,
}

impl Authenticator {
    pub fn new(admin_token: String) -> Self {
        Authenticator { admin_token }
    }

    pub fn authenticate(&self, bearer: Option<&str>, peer: &PeerIdentity) -> Option<User> {
        if let Some(u) = &peer.0 {
            return Some(u.clone());
        }
        let token = bearer?;
        // Constant-time comparison is not needed for equality of random 48-hex tokens over TLS,
        // but length is checked first so no prefix is ever accepted.
        (token.len() == self.admin_token.len() && token == self.admin_token)
            .then(|| User { name: "admin".into(), groups: with_authenticated(vec!["system:masters".into()]) })
    }
}

/// Middleware: attaches the User or answers 401.
pub async fn require(State(auth): State<Arc<Authenticator>>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<PeerIdentity>().cloned().unwrap_or_default();
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match auth.authenticate(bearer, &peer) {
        Some(user) => {
            req.extensions_mut().insert(user);
            next.run(req).await
        }
        None => ApiError::Unauthorized.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_authenticates() {
        let a = Authenticator::new("abc123".into());
        let none = PeerIdentity::default();
        assert!(a.authenticate(Some("abc123"), &none).is_some());
        assert!(a.authenticate(Some("abc12"), &none).is_none());
        assert!(a.authenticate(None, &none).is_none());
    }
}
