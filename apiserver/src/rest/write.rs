//! create, update (PUT) and patch, including the status subresource.

use super::negotiate::render_one;
use super::params::FieldValidation;
use super::{Call, MAX_BODY, encode_stored, respond};
use crate::decode::{self, BodyError};
use crate::meta;
use crate::status::{ApiError, FieldError};
use crate::storage::{StorageError, Versioned};
use crate::strategy;
use apimachinery::patch::{self, PatchType};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::Value;

/// Attempts of a patch against concurrent writers before giving up with 409.
const PATCH_RETRIES: usize = 5;

pub async fn create(call: &Call<'_>, body: &[u8]) -> Result<Response, ApiError> {
    if call.info.name.is_some() {
        return Err(ApiError::MethodNotAllowed);
    }
    let obj = read_object(call, body)?;
    insert(call, obj, Ownership::Record).await
}

/// Whether a write records its fields in managedFields (apply records its own beforehand).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Ownership {
    Record,
    AlreadyRecorded,
}

/// The create path after the body is read: typed check, defaults, validation, store.
pub(super) async fn insert(call: &Call<'_>, mut obj: Value, ownership: Ownership) -> Result<Response, ApiError> {
    set_namespace(call, &mut obj)?;
    generate_name(&mut obj);
    let (mut obj, warnings) = typed_check(call, &obj)?;
    if ownership == Ownership::Record {
        super::apply::record(call, None, &mut obj);
    }
    meta::fill_for_create(&mut obj, call.kind.generation);
    strategy::default(call.kind, &mut obj);
    strategy::prepare_create(call.kind, &mut obj);
    invalid_unless_empty(call, &obj, strategy::validate_meta(call.kind, &obj))?;
    ensure_namespace_accepts(call).await?;
    let _allocation = super::services::allocate(call, &mut obj, None).await?;
    invalid_unless_empty(call, &obj, strategy::validate_kind(call.kind, &obj, None))?;
    if call.params.dry_run()? {
        return Ok(respond(StatusCode::CREATED, &obj, &warnings));
    }
    let name = meta::name(&obj).unwrap_or_default().to_string();
    let rev = match call.api.store.create(&call.key(&name), encode_stored(&obj)?).await {
        Err(StorageError::AlreadyExists(_)) => {
            return Err(ApiError::AlreadyExists {
                group: call.kind.group.into(),
                resource: call.kind.qualified(),
                name,
            });
        }
        other => other?,
    };
    meta::set_resource_version(&mut obj, rev);
    super::after_write(call).await?;
    Ok(respond(StatusCode::CREATED, &render_one(call.kind, obj, call.output), &warnings))
}

pub async fn update(call: &Call<'_>, body: &[u8]) -> Result<Response, ApiError> {
    let obj = read_object(call, body)?;
    let (old, stored) = call.load(call.name()).await?;
    if let Some(rv) = meta::resource_version(&obj)
        && rv != stored.revision.to_string()
    {
        return Err(call.conflict(call.name(), STALE));
    }
    let (obj, warnings) = replace(call, obj, &old, &stored, Ownership::Record).await?;
    Ok(respond(StatusCode::OK, &render_one(call.kind, obj, call.output), &warnings))
}

pub async fn patch(call: &Call<'_>, body: &[u8]) -> Result<Response, ApiError> {
    let ct = content_type(call);
    let kind = PatchType::from_content_type(&ct).ok_or_else(|| unsupported_patch(&ct))?;
    if kind == PatchType::Apply {
        return super::apply::apply(call, body).await;
    }
    let patch_doc: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("error decoding patch: {e}")))?;
    for _ in 0..PATCH_RETRIES {
        let (old, stored) = call.load(call.name()).await?;
        // A resourceVersion in the patch is a precondition, as in Kubernetes.
        if meta::resource_version(&patch_doc).is_some_and(|rv| rv != stored.revision.to_string()) {
            return Err(call.conflict(call.name(), STALE));
        }
        let patched = apply_patch(call, kind, &old, &patch_doc)?;
        match replace(call, patched, &old, &stored, Ownership::Record).await {
            Err(ApiError::Conflict { .. }) if meta::resource_version(&patch_doc).is_none() => {
                continue;
            }
            Ok((obj, warnings)) => {
                return Ok(respond(StatusCode::OK, &render_one(call.kind, obj, call.output), &warnings));
            }
            Err(e) => return Err(e),
        }
    }
    Err(call.conflict(call.name(), STALE))
}

pub(super) const STALE: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

fn unsupported_patch(ct: &str) -> ApiError {
    ApiError::UnsupportedMediaType(format!(
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {ct:?})"
    ))
}

fn apply_patch(call: &Call<'_>, kind: PatchType, old: &Value, doc: &Value) -> Result<Value, ApiError> {
    let result = match kind {
        PatchType::Json => patch::json_patch(old, doc),
        PatchType::Merge => patch::merge_patch(old, doc),
        PatchType::StrategicMerge => patch::strategic_merge_patch(call.kind.kind, old, doc),
        PatchType::Apply => unreachable!("refused above"),
    };
    result.map_err(|e| ApiError::Invalid {
        group: call.kind.group.into(),
        kind: call.kind.kind.into(),
        name: call.name().into(),
        causes: vec![FieldError::invalid("patch", Value::Null, e.to_string())],
    })
}

/// The shared tail of update and patch: merge with what the request may not change,
/// validate, and write at the revision that was read.
pub(super) async fn replace(
    call: &Call<'_>,
    new: Value,
    old: &Value,
    stored: &Versioned,
    ownership: Ownership,
) -> Result<(Value, Vec<String>), ApiError> {
    check_identity(call, &new)?;
    let (typed, warnings) = typed_check(call, &new)?;
    let managed = typed.pointer("/metadata/managedFields").cloned();
    let mut obj = merge_with_subresource(call, typed, old);
    meta::keep_system_fields(&mut obj, old);
    match ownership {
        Ownership::Record => super::apply::record(call, Some(old), &mut obj),
        // An apply through a subresource computed managedFields on the whole object.
        Ownership::AlreadyRecorded => {
            if let Some(m) = managed {
                meta::metadata_mut(&mut obj).insert("managedFields".into(), m);
            }
        }
    }
    strategy::default(call.kind, &mut obj);
    let status_write = call.info.subresource.as_deref() == Some("status");
    if !status_write {
        strategy::prepare_update(call.kind, &mut obj, old);
    }
    if call.kind.generation && meta::spec_changed(&obj, old) {
        meta::bump_generation(&mut obj);
    }
    invalid_unless_empty(call, &obj, strategy::validate_meta(call.kind, &obj))?;
    let _allocation = super::services::allocate(call, &mut obj, Some(old)).await?;
    let errs = match status_write {
        true => strategy::validate_status(call.kind, &obj, old),
        false => strategy::validate_kind(call.kind, &obj, Some(old)),
    };
    invalid_unless_empty(call, &obj, errs)?;
    meta::set_resource_version(&mut obj, stored.revision);
    if obj == *old || call.params.dry_run()? {
        return Ok((obj, warnings));
    }
    if meta::is_terminating(&obj) && meta::finalizers(&obj).is_empty() && finalized(call, &obj) {
        // The last finalizer is gone from a deleting object: the delete completes now.
        call.api.store.delete(&call.key(call.name()), Some(stored.revision)).await.map_err(|e| conflict_or(call, e))?;
        return Ok((obj, warnings));
    }
    let rev = call
        .api
        .store
        .update(&call.key(call.name()), Some(stored.revision), encode_stored(&obj)?)
        .await
        .map_err(|e| conflict_or(call, e))?;
    meta::set_resource_version(&mut obj, rev);
    super::after_write(call).await?;
    Ok((obj, warnings))
}

/// Namespaces also wait for their spec.finalizers (the namespace controller's).
fn finalized(call: &Call<'_>, obj: &Value) -> bool {
    call.kind.kind != "Namespace"
        || obj.pointer("/spec/finalizers").and_then(Value::as_array).is_none_or(|f| f.is_empty())
}

fn conflict_or(call: &Call<'_>, e: StorageError) -> ApiError {
    match e {
        StorageError::Conflict { .. } => call.conflict(call.name(), STALE),
        StorageError::NotFound(_) => call.not_found(call.name()),
        other => other.into(),
    }
}

/// The main resource cannot change status; the status subresource changes only status
/// (namespaces/finalize only spec.finalizers).
fn merge_with_subresource(call: &Call<'_>, new: Value, old: &Value) -> Value {
    match call.info.subresource.as_deref() {
        Some("status") => with_field(old.clone(), "status", new.get("status")),
        Some("finalize") => {
            let mut obj = old.clone();
            obj["spec"]["finalizers"] = new.pointer("/spec/finalizers").cloned().unwrap_or(Value::Array(vec![]));
            obj
        }
        _ if call.kind.has_subresource("status") => with_field(new, "status", old.get("status")),
        _ => new,
    }
}

fn with_field(mut obj: Value, field: &str, value: Option<&Value>) -> Value {
    if let Value::Object(m) = &mut obj {
        match value {
            Some(v) => m.insert(field.into(), v.clone()),
            None => m.remove(field),
        };
    }
    obj
}

/// The body's name and namespace must be those of the URL.
pub(super) fn check_identity(call: &Call<'_>, obj: &Value) -> Result<(), ApiError> {
    let name = meta::name(obj).unwrap_or_default();
    if name != call.name() {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({name}) does not match the name on the URL ({})",
            call.name()
        )));
    }
    match (meta::namespace(obj), call.info.namespace.as_deref()) {
        (Some(a), Some(b)) if a != b => Err(namespace_mismatch()),
        _ => Ok(()),
    }
}

fn namespace_mismatch() -> ApiError {
    ApiError::BadRequest("the namespace of the provided object does not match the namespace sent on the request".into())
}

fn content_type(call: &Call<'_>) -> String {
    call.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json").to_string()
}

/// Parses the body and checks it names this resource's apiVersion and kind.
fn read_object(call: &Call<'_>, body: &[u8]) -> Result<Value, ApiError> {
    if body.len() > MAX_BODY {
        return Err(ApiError::TooLarge);
    }
    let obj = decode::parse_body(&content_type(call), body).map_err(|e| match e {
        BodyError::Empty => ApiError::BadRequest("the request body is empty".into()),
        other => ApiError::BadRequest(other.to_string()),
    })?;
    if !obj.is_object() {
        return Err(ApiError::BadRequest(format!("the body must be a JSON object, not {obj}")));
    }
    check_type_meta(call, &obj)?;
    Ok(obj)
}

pub(super) fn check_type_meta(call: &Call<'_>, obj: &Value) -> Result<(), ApiError> {
    let expected = call.kind.api_version();
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    if kind.is_empty() {
        return Err(ApiError::BadRequest(format!("Object 'Kind' is missing in '{obj}'")));
    }
    if api_version.is_empty() {
        return Err(ApiError::BadRequest(format!("Object 'apiVersion' is missing in '{obj}'")));
    }
    if api_version != expected {
        return Err(ApiError::BadRequest(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({expected})"
        )));
    }
    if kind != call.kind.kind {
        return Err(ApiError::BadRequest(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            call.kind.kind
        )));
    }
    Ok(())
}

fn set_namespace(call: &Call<'_>, obj: &mut Value) -> Result<(), ApiError> {
    let Some(url_ns) = call.info.namespace.as_deref() else {
        meta::metadata_mut(obj).remove("namespace");
        return Ok(());
    };
    match meta::namespace(obj) {
        Some(ns) if ns != url_ns => Err(namespace_mismatch()),
        _ => {
            meta::metadata_mut(obj).insert("namespace".into(), Value::String(url_ns.into()));
            Ok(())
        }
    }
}

fn generate_name(obj: &mut Value) {
    if meta::name(obj).is_some() {
        return;
    }
    let prefix = meta::str_at(obj, &["metadata", "generateName"]).unwrap_or_default().to_string();
    if !prefix.is_empty() {
        let name = format!("{prefix}{}", meta::random_suffix());
        meta::metadata_mut(obj).insert("name".into(), Value::String(name));
    }
}

/// Decodes through the kind's type: a type error is a 400 naming the field, unknown fields are
/// refused, warned about or dropped as `fieldValidation` asks; the typed form is what is kept.
fn typed_check(call: &Call<'_>, obj: &Value) -> Result<(Value, Vec<String>), ApiError> {
    let typed = (call.kind.decode)(obj).map_err(|e| {
        let k = call.kind.kind;
        ApiError::BadRequest(format!("{k} in version \"{}\" cannot be handled as a {k}: {e}", call.kind.version))
    })?;
    let unknown = decode::unknown_fields(obj, &typed);
    let messages: Vec<String> = unknown.iter().map(|f| format!("unknown field \"{f}\"")).collect();
    match call.params.field_validation()? {
        FieldValidation::Strict if !messages.is_empty() => {
            Err(ApiError::BadRequest(format!("strict decoding error: {}", messages.join(", "))))
        }
        FieldValidation::Warn => Ok((typed, messages)),
        _ => Ok((typed, Vec::new())),
    }
}

fn invalid_unless_empty(call: &Call<'_>, obj: &Value, causes: Vec<FieldError>) -> Result<(), ApiError> {
    if causes.is_empty() {
        return Ok(());
    }
    Err(ApiError::Invalid {
        group: call.kind.group.into(),
        kind: call.kind.kind.into(),
        name: meta::name(obj).unwrap_or_default().into(),
        causes,
    })
}

/// Namespace lifecycle admission: the namespace must exist and not be terminating.
async fn ensure_namespace_accepts(call: &Call<'_>) -> Result<(), ApiError> {
    let Some(ns) = call.info.namespace.as_deref() else {
        return Ok(());
    };
    let registry = call.api.registry();
    let Some(namespaces) = registry.resource("", "v1", "namespaces") else {
        return Ok(());
    };
    let stored = call.api.store.get(&namespaces.key(None, ns)).await?;
    let stored = stored.ok_or_else(|| ApiError::NotFound {
        group: String::new(),
        resource: "namespaces".into(),
        name: ns.into(),
    })?;
    let obj = super::decode_stored(&stored)?;
    if meta::is_terminating(&obj) {
        return Err(ApiError::Forbidden(format!(
            "{} \"{}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
            call.kind.qualified(),
            call.info.name.as_deref().unwrap_or_default()
        )));
    }
    Ok(())
}
