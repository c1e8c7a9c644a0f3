//! Subresources with their own shapes: pods/binding, pods/eviction and <workload>/scale.

use super::write::{self, STALE};
use super::{Call, delete, encode_stored, respond};
use crate::meta;
use crate::status::ApiError;
use apimachinery::labels::Selector;
use apimachinery::patch::{self, PatchType};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

fn success(code: StatusCode) -> Response {
    respond(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code.as_u16()}),
        &[],
    )
}

fn body_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("invalid body: {e}")))
}

/// POST pods/{name}/binding: assigns the pod to a node once (the scheduler's bind step).
pub async fn bind(call: &Call<'_>, body: &[u8]) -> Result<Response, ApiError> {
    let binding = body_json(body)?;
    let node = binding.pointer("/target/name").and_then(Value::as_str).filter(|n| !n.is_empty());
    let node = node.ok_or_else(|| ApiError::BadRequest("Binding target.name: Required value".into()))?;
    let (mut pod, stored) = call.load(call.name()).await?;
    if let Some(uid) = binding.pointer("/metadata/uid").and_then(Value::as_str)
        && meta::str_at(&pod, &["metadata", "uid"]) != Some(uid)
    {
        return Err(call.conflict(call.name(), "the UID in the binding does not match the pod"));
    }
    if let Some(current) = meta::str_at(&pod, &["spec", "nodeName"]).filter(|n| !n.is_empty()) {
        return Err(
            call.conflict(call.name(), format!("pod {} is already assigned to node \"{current}\"", call.name()))
        );
    }
    if meta::is_terminating(&pod) {
        return Err(call.conflict(call.name(), "pod is being deleted, cannot be assigned to a host"));
    }
    pod["spec"]["nodeName"] = json!(node);
    set_condition(
        &mut pod,
        json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null,
                                   "lastTransitionTime": meta::now()}),
    );
    call.api
        .store
        .update(&call.key(call.name()), Some(stored.revision), encode_stored(&pod)?)
        .await
        .map_err(|_| call.conflict(call.name(), STALE))?;
    Ok(success(StatusCode::CREATED))
}

fn set_condition(obj: &mut Value, condition: Value) {
    if !obj["status"].is_object() {
        obj["status"] = json!({});
    }
    let conditions = obj["status"]["conditions"].as_array().cloned().unwrap_or_default();
    let mut kept: Vec<Value> = conditions.into_iter().filter(|c| c["type"] != condition["type"]).collect();
    kept.push(condition);
    obj["status"]["conditions"] = Value::Array(kept);
}

/// POST pods/{name}/eviction: a delete with the Eviction's options (PodDisruptionBudgets are
/// not checked yet).
pub async fn evict(call: &Call<'_>, body: &[u8]) -> Result<Response, ApiError> {
    let eviction = body_json(body)?;
    let options = eviction.get("deleteOptions").cloned().unwrap_or(json!({}));
    delete::delete(call, options.to_string().as_bytes()).await?;
    Ok(success(StatusCode::CREATED))
}

/// The autoscaling/v1 Scale view of a workload.
fn scale_of(obj: &Value) -> Value {
    let replicas = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let status = obj.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0);
    let m = &obj["metadata"];
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
                     "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"]},
        "spec": {"replicas": replicas},
        "status": {"replicas": status, "selector": selector_string(obj)}})
}

/// The selector as a string: a LabelSelector (apps) or a plain map (ReplicationController).
fn selector_string(obj: &Value) -> String {
    let sel = &obj["spec"]["selector"];
    let label_selector = if sel.get("matchLabels").is_some() || sel.get("matchExpressions").is_some() {
        sel.clone()
    } else {
        json!({"matchLabels": sel})
    };
    Selector::from_label_selector(&label_selector).map(|s| s.to_string()).unwrap_or_default()
}

pub async fn get_scale(call: &Call<'_>) -> Result<Response, ApiError> {
    let (obj, _) = call.load(call.name()).await?;
    Ok(respond(StatusCode::OK, &scale_of(&obj), &[]))
}

/// PUT or PATCH of scale: only spec.replicas of the parent changes.
pub async fn write_scale(call: &Call<'_>, body: &[u8], patch: bool) -> Result<Response, ApiError> {
    let (old, stored) = call.load(call.name()).await?;
    let current = scale_of(&old);
    let scale = if patch { patched(call, &current, body)? } else { body_json(body)? };
    if let Some(rv) = meta::resource_version(&scale)
        && rv != stored.revision.to_string()
    {
        return Err(call.conflict(call.name(), STALE));
    }
    let replicas = scale.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0);
    if replicas < 0 {
        return Err(ApiError::Invalid {
            group: "autoscaling".into(),
            kind: "Scale".into(),
            name: call.name().into(),
            causes: vec![apimachinery::field::FieldError::invalid(
                "spec.replicas",
                replicas,
                "must be greater than or equal to 0",
            )],
        });
    }
    let mut new = old.clone();
    new["spec"]["replicas"] = json!(replicas);
    let (obj, _) = write::replace(call, new, &old, &stored, write::Ownership::Record).await?;
    Ok(respond(StatusCode::OK, &scale_of(&obj), &[]))
}

fn patched(call: &Call<'_>, current: &Value, body: &[u8]) -> Result<Value, ApiError> {
    let ct = call.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let doc = body_json(body)?;
    let result = match PatchType::from_content_type(ct) {
        Some(PatchType::Json) => patch::json_patch(current, &doc),
        Some(PatchType::StrategicMerge) => patch::strategic_merge_patch("Scale", current, &doc),
        Some(PatchType::Merge) => patch::merge_patch(current, &doc),
        _ => return Err(ApiError::UnsupportedMediaType(format!("unsupported patch type {ct:?} for scale"))),
    };
    result.map_err(|e| ApiError::BadRequest(e.to_string()))
}
