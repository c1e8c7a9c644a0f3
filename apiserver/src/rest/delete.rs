//! delete and deletecollection: preconditions, graceful deletion, finalizers, propagation.

use super::filter::Filter;
use super::negotiate::render_one;
use super::{Call, decode_stored, encode_stored, read, respond};
use crate::meta;
use crate::status::ApiError;
use crate::storage::{StorageError, Versioned};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

/// The parts of metav1.DeleteOptions the server acts on (body or query).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteOptions {
    grace_period_seconds: Option<i64>,
    propagation_policy: Option<String>,
    orphan_dependents: Option<bool>,
    preconditions: Option<Preconditions>,
    #[serde(default)]
    dry_run: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Preconditions {
    uid: Option<String>,
    resource_version: Option<String>,
}

/// What a delete did: removed the object, or marked it for later removal.
enum Outcome {
    Removed(Value),
    Marked(Value),
}

pub async fn delete(call: &Call<'_>, body: &[u8]) -> Result<Response, ApiError> {
    let opts = options(call, body)?;
    let (obj, stored) = call.load(call.name()).await?;
    check_preconditions(call, &opts, &obj)?;
    match delete_one(call, &opts, obj, stored).await? {
        Outcome::Marked(obj) => Ok(respond(StatusCode::OK, &render_one(call.kind, obj, call.output), &[])),
        Outcome::Removed(obj) => Ok(respond(StatusCode::OK, &success(call, &obj), &[])),
    }
}

pub async fn delete_collection(call: &Call<'_>, body: &[u8]) -> Result<Response, ApiError> {
    let opts = options(call, body)?;
    let filter = Filter::from_params(call.kind, &call.params)?;
    let (items, meta) = read::collect(call, &filter).await?;
    let mut deleted = Vec::new();
    for obj in items {
        let name = meta::name(&obj).unwrap_or_default().to_string();
        let key = call.kind.key(meta::namespace(&obj), &name);
        let Some(stored) = call.api.store.get(&key).await? else {
            continue;
        };
        let obj = decode_stored(&stored)?;
        match delete_one(call, &opts, obj, stored).await {
            Ok(Outcome::Removed(o) | Outcome::Marked(o)) => deleted.push(o),
            Err(ApiError::NotFound { .. } | ApiError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let list = json!({"kind": format!("{}List", call.kind.kind), "apiVersion": call.kind.api_version(),
                      "metadata": meta, "items": deleted});
    Ok(respond(StatusCode::OK, &list, &[]))
}

fn options(call: &Call<'_>, body: &[u8]) -> Result<DeleteOptions, ApiError> {
    let mut opts: DeleteOptions = if body.iter().all(u8::is_ascii_whitespace) {
        DeleteOptions::default()
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("invalid DeleteOptions: {e}")))?
    };
    let p = &call.params;
    opts.grace_period_seconds = opts.grace_period_seconds.or(p.grace_period_seconds);
    opts.propagation_policy = opts.propagation_policy.take().or_else(|| p.propagation_policy.clone());
    if opts.orphan_dependents.is_none() {
        opts.orphan_dependents = p.orphan_dependents.as_deref().map(|v| v == "true");
    }
    if p.dry_run()? {
        opts.dry_run.push("All".into());
    }
    match opts.propagation_policy.as_deref() {
        None | Some("Orphan" | "Foreground" | "Background") => Ok(opts),
        Some(other) => Err(ApiError::BadRequest(format!(
            "propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
        ))),
    }
}

fn check_preconditions(call: &Call<'_>, opts: &DeleteOptions, obj: &Value) -> Result<(), ApiError> {
    let Some(pre) = &opts.preconditions else {
        return Ok(());
    };
    let actual_uid = meta::str_at(obj, &["metadata", "uid"]).unwrap_or_default();
    if let Some(uid) = pre.uid.as_deref().filter(|u| *u != actual_uid) {
        let detail = format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {actual_uid}");
        return Err(call.conflict(call.name(), detail));
    }
    let actual_rv = meta::resource_version(obj).unwrap_or_default();
    if let Some(rv) = pre.resource_version.as_deref().filter(|r| *r != actual_rv) {
        let detail = format!(
            "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {actual_rv}"
        );
        return Err(call.conflict(call.name(), detail));
    }
    Ok(())
}

/// Finalizers the propagation policy adds, as the garbage collector expects them.
fn propagation_finalizer(opts: &DeleteOptions) -> Option<&'static str> {
    match (opts.propagation_policy.as_deref(), opts.orphan_dependents) {
        (Some("Orphan"), _) | (None, Some(true)) => Some("orphan"),
        (Some("Foreground"), _) => Some("foregroundDeletion"),
        _ => None,
    }
}

/// A pod bound to a node is deleted gracefully: the kubelet finishes it once it has stopped.
fn grace_period(call: &Call<'_>, opts: &DeleteOptions, obj: &Value) -> Option<i64> {
    if call.kind.kind != "Pod" || !call.kind.group.is_empty() {
        return None;
    }
    let bound = meta::str_at(obj, &["spec", "nodeName"]).is_some_and(|n| !n.is_empty());
    let phase = meta::str_at(obj, &["status", "phase"]).unwrap_or_default();
    if !bound || phase == "Succeeded" || phase == "Failed" {
        return None;
    }
    let default = obj.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(30);
    Some(opts.grace_period_seconds.unwrap_or(default)).filter(|g| *g > 0)
}

async fn delete_one(
    call: &Call<'_>,
    opts: &DeleteOptions,
    mut obj: Value,
    stored: Versioned,
) -> Result<Outcome, ApiError> {
    let name = meta::name(&obj).unwrap_or_default().to_string();
    let key = call.kind.key(meta::namespace(&obj), &name);
    let dry = !opts.dry_run.is_empty();
    let grace = grace_period(call, opts, &obj);
    if let Some(f) = propagation_finalizer(opts) {
        add_finalizer(&mut obj, f);
    }
    let waits = !meta::finalizers(&obj).is_empty() || grace.is_some() || is_namespace(call);
    if !waits {
        if !dry {
            call.api.store.delete(&key, Some(stored.revision)).await.map_err(|e| gone(call, &name, e))?;
            remove_custom_resources(call, &obj).await?;
            super::after_write(call).await?;
        }
        return Ok(Outcome::Removed(obj));
    }
    mark_deleting(call, &mut obj, grace);
    if !dry {
        let rev = call
            .api
            .store
            .update(&key, Some(stored.revision), encode_stored(&obj)?)
            .await
            .map_err(|e| gone(call, &name, e))?;
        meta::set_resource_version(&mut obj, rev);
    }
    Ok(Outcome::Marked(obj))
}

/// Deleting a CRD deletes its custom resources (apiextensions' customresourcecleanup).
async fn remove_custom_resources(call: &Call<'_>, obj: &Value) -> Result<(), ApiError> {
    if !crate::strategy::changes_registry(call.kind) {
        return Ok(());
    }
    let group = obj.pointer("/spec/group").and_then(Value::as_str).unwrap_or_default();
    let plural = obj.pointer("/spec/names/plural").and_then(Value::as_str).unwrap_or_default();
    if group.is_empty() || plural.is_empty() {
        return Ok(());
    }
    let prefix = format!("/registry/{group}/{plural}/");
    for (key, _) in call.api.store.list(&prefix, None, 0).await?.items {
        match call.api.store.delete(&key, None).await {
            Ok(_) | Err(StorageError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn is_namespace(call: &Call<'_>) -> bool {
    call.kind.group.is_empty() && call.kind.kind == "Namespace"
}

fn mark_deleting(call: &Call<'_>, obj: &mut Value, grace: Option<i64>) {
    let already = meta::is_terminating(obj);
    let m = meta::metadata_mut(obj);
    if !already {
        let when = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(grace.unwrap_or(0));
        m.insert("deletionTimestamp".into(), Value::String(when.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()));
        m.insert("deletionGracePeriodSeconds".into(), Value::from(grace.unwrap_or(0)));
    }
    if is_namespace(call) {
        obj["status"]["phase"] = Value::String("Terminating".into());
    }
}

fn add_finalizer(obj: &mut Value, f: &str) {
    let m = meta::metadata_mut(obj);
    let list = m.entry("finalizers").or_insert_with(|| Value::Array(vec![]));
    if let Value::Array(items) = list
        && !items.iter().any(|i| i == f)
    {
        items.push(Value::String(f.into()));
    }
}

fn gone(call: &Call<'_>, name: &str, e: StorageError) -> ApiError {
    match e {
        StorageError::NotFound(_) => call.not_found(name),
        StorageError::Conflict { .. } => call.conflict(
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        ),
        other => other.into(),
    }
}

/// The Status a completed delete returns.
fn success(call: &Call<'_>, obj: &Value) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
           "details": {"name": meta::name(obj), "group": call.kind.group, "kind": call.kind.plural,
                       "uid": meta::str_at(obj, &["metadata", "uid"])}})
}
