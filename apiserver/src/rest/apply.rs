//! Server-side apply (`application/apply-patch+yaml`) and managedFields on every write, over
//! apimachinery's structured-merge logic.

use super::write::{self, Ownership};
use super::{Call, respond};
use crate::meta;
use crate::status::{ApiError, FieldError};
use apimachinery::managed_fields::{self, ApplyError, Manager};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

fn manager_name(call: &Call<'_>) -> String {
    let agent = call.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    managed_fields::manager_name(call.params.field_manager.as_deref(), agent)
}

/// Records the fields a non-apply write set as owned by its manager (operation Update).
pub fn record(call: &Call<'_>, old: Option<&Value>, new: &mut Value) {
    let name = manager_name(call);
    let manager = Manager { name: &name, subresource: call.info.subresource.as_deref().unwrap_or_default() };
    managed_fields::record_update(call.kind.kind, old, new, &manager, &meta::now());
}

pub async fn apply(call: &Call<'_>, body: &[u8]) -> Result<Response, ApiError> {
    if call.params.field_manager.as_deref().is_none_or(str::is_empty) {
        return Err(invalid(call, FieldError::required("fieldManager", "is required for apply requests")));
    }
    let mut applied: Value =
        serde_yaml::from_slice(body).map_err(|e| ApiError::BadRequest(format!("error decoding YAML: {e}")))?;
    write::check_type_meta(call, &applied)?;
    write::check_identity(call, &applied)?;
    if call.info.subresource.is_none() && call.kind.has_subresource("status") {
        // Status belongs to the status subresource's writers (Kubernetes' reset fields).
        if let Value::Object(m) = &mut applied {
            m.remove("status");
        }
    }
    for _ in 0..5 {
        match attempt(call, &applied).await {
            Err(ApiError::Conflict { detail, .. }) if detail == write::STALE => continue,
            other => return other,
        }
    }
    Err(call.conflict(call.name(), write::STALE))
}

async fn attempt(call: &Call<'_>, applied: &Value) -> Result<Response, ApiError> {
    let live = match call.load(call.name()).await {
        Ok(found) => Some(found),
        Err(ApiError::NotFound { .. }) if call.info.subresource.is_none() => None,
        Err(e) => return Err(e),
    };
    let name = manager_name(call);
    let manager = Manager { name: &name, subresource: call.info.subresource.as_deref().unwrap_or_default() };
    let merged = managed_fields::apply(
        call.kind.kind,
        live.as_ref().map(|(o, _)| o),
        applied,
        &manager,
        call.params.force(),
        &meta::now(),
    )
    .map_err(|e| apply_error(call, e))?;
    match live {
        None => write::insert(call, merged, Ownership::AlreadyRecorded).await,
        Some((old, stored)) => {
            let (obj, warnings) = write::replace(call, merged, &old, &stored, Ownership::AlreadyRecorded).await?;
            Ok(respond(StatusCode::OK, &super::negotiate::render_one(call.kind, obj, call.output), &warnings))
        }
    }
}

fn invalid(call: &Call<'_>, cause: FieldError) -> ApiError {
    ApiError::Invalid {
        group: call.kind.group.into(),
        kind: call.kind.kind.into(),
        name: call.name().into(),
        causes: vec![cause],
    }
}

/// Conflicts are a 409 whose causes name each field and its manager, as Kubernetes sends.
fn apply_error(call: &Call<'_>, e: ApplyError) -> ApiError {
    match e {
        ApplyError::Conflicts(conflicts) => ApiError::ApplyConflict {
            message: managed_fields::conflict_message(&conflicts),
            causes: conflicts
                .iter()
                .map(|c| json!({"reason": "FieldManagerConflict", "message": c.cause_message(), "field": c.field}))
                .collect(),
            group: call.kind.group.into(),
            resource: call.kind.plural.into(),
            name: call.name().into(),
        },
        ApplyError::Invalid(m) => ApiError::BadRequest(m),
    }
}
