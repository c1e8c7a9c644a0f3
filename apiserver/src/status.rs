//! Errors of the REST layer, each rendered once as a Kubernetes `Status` body.

use crate::storage::StorageError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub use apimachinery::field::{FieldError, FieldErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{resource} \"{name}\" not found")]
    NotFound { group: String, resource: String, name: String },
    #[error("{resource} \"{name}\" already exists")]
    AlreadyExists { group: String, resource: String, name: String },
    #[error("Operation cannot be fulfilled on {resource} \"{name}\": {detail}")]
    Conflict { group: String, resource: String, name: String, detail: String },
    #[error("{}", invalid_message(.group, .kind, .name, .causes))]
    Invalid { group: String, kind: String, name: String, causes: Vec<FieldError> },
    #[error("{message}")]
    ApplyConflict { message: String, causes: Vec<Value>, group: String, resource: String, name: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("Unauthorized")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
    #[error("the server could not find the requested resource")]
    UnknownPath,
    #[error("{0}")]
    NotAcceptable(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request body is too large: limit is 3 MiB")]
    TooLarge,
    #[error("{0}")]
    Gone(String),
    #[error("Internal error occurred: {0}")]
    Internal(String),
    #[error("{0}")]
    ServiceUnavailable(String),
}

fn invalid_message(group: &str, kind: &str, name: &str, causes: &[FieldError]) -> String {
    let kind = if group.is_empty() { kind.to_string() } else { format!("{kind}.{group}") };
    let msgs: Vec<String> = causes.iter().map(FieldError::message).collect();
    match msgs.as_slice() {
        [one] => format!("{kind} \"{name}\" is invalid: {one}"),
        many => format!("{kind} \"{name}\" is invalid: [{}]", many.join(", ")),
    }
}

impl ApiError {
    pub fn code(&self) -> StatusCode {
        match self {
            ApiError::NotFound { .. } | ApiError::UnknownPath => StatusCode::NOT_FOUND,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } | ApiError::ApplyConflict { .. } => {
                StatusCode::CONFLICT
            }
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } | ApiError::UnknownPath => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } | ApiError::ApplyConflict { .. } => "Conflict",
            ApiError::Invalid { .. } => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::Unauthorized => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::MethodNotAllowed => "MethodNotAllowed",
            ApiError::NotAcceptable(_) => "NotAcceptable",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::TooLarge => "RequestEntityTooLarge",
            ApiError::Gone(_) => "Expired",
            ApiError::Internal(_) => "InternalError",
            ApiError::ServiceUnavailable(_) => "ServiceUnavailable",
        }
    }

    fn details(&self) -> Option<Value> {
        match self {
            ApiError::NotFound { group, resource, name }
            | ApiError::AlreadyExists { group, resource, name }
            | ApiError::Conflict { group, resource, name, .. } => {
                let plural = resource.split('.').next().unwrap_or(resource);
                Some(json!({"name": name, "group": group, "kind": plural}))
            }
            ApiError::ApplyConflict { causes, group, resource, name, .. } => {
                Some(json!({"name": name, "group": group, "kind": resource, "causes": causes}))
            }
            ApiError::Invalid { group, kind, name, causes } => {
                let causes: Vec<Value> = causes
                    .iter()
                    .map(|c| json!({"reason": c.reason(), "message": c.body(), "field": c.field}))
                    .collect();
                Some(json!({"name": name, "group": group, "kind": kind, "causes": causes}))
            }
            _ => None,
        }
    }

    /// The Status object Kubernetes sends for this error.
    pub fn status(&self) -> Value {
        let mut s = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.to_string(), "reason": self.reason(), "code": self.code().as_u16(),
        });
        if let Some(d) = self.details() {
            s["details"] = d;
        }
        s
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Compacted { requested, oldest } => {
                ApiError::Gone(format!("too old resource version: {requested} ({oldest})"))
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.status().to_string();
        let mut resp = (self.code(), body).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsupported_value_is_worded_as_kubernetes_words_it() {
        let e = FieldError::not_supported("spec.sessionAffinity", "ClusterIP", &["ClientIP", "None"]);
        assert_eq!(
            e.message(),
            r#"spec.sessionAffinity: Unsupported value: "ClusterIP": supported values: "ClientIP", "None""#
        );
    }

    #[test]
    fn an_invalid_object_names_kind_name_and_field() {
        let e = ApiError::Invalid {
            group: "apps".into(),
            kind: "Deployment".into(),
            name: "Bad".into(),
            causes: vec![FieldError::invalid("metadata.name", "Bad", "must be lowercase")],
        };
        assert_eq!(
            e.to_string(),
            r#"Deployment.apps "Bad" is invalid: metadata.name: Invalid value: "Bad": must be lowercase"#
        );
        assert_eq!(e.status()["code"], 422);
        assert_eq!(e.status()["details"]["causes"][0]["field"], "metadata.name");
    }
}
