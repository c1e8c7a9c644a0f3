//! get and list.

use super::filter::Filter;
use super::negotiate::{render_list, render_one};
use super::{Call, decode_stored, respond};
use crate::status::ApiError;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

pub async fn get(call: &Call<'_>) -> Result<Response, ApiError> {
    let (obj, _) = call.load(call.name()).await?;
    Ok(respond(StatusCode::OK, &render_one(call.kind, obj, call.output), &[]))
}

pub async fn list(call: &Call<'_>) -> Result<Response, ApiError> {
    let filter = Filter::from_params(call.kind, &call.params)?;
    let (items, meta) = collect(call, &filter).await?;
    Ok(respond(StatusCode::OK, &render_list(call.kind, items, meta, call.output), &[]))
}

/// Reads matching objects page by page until `limit` are found; returns them and the ListMeta.
pub async fn collect(call: &Call<'_>, filter: &Filter) -> Result<(Vec<Value>, Value), ApiError> {
    let prefix = call.kind.prefix(call.info.namespace.as_deref());
    let limit = call.params.limit.unwrap_or(0);
    let mut after = match call.params.continue_token.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => Some(decode_continue(t, &prefix)?),
        None => None,
    };
    let mut items = Vec::new();
    let mut revision = None;
    loop {
        let want = if limit == 0 { 0 } else { limit - items.len() };
        let page = call.api.store.list(&prefix, after.as_deref(), want).await?;
        revision.get_or_insert(page.revision);
        for (_, v) in &page.items {
            let obj = decode_stored(v)?;
            if filter.matches(&obj) {
                items.push(obj);
            }
        }
        after = page.more_after;
        if after.is_none() || (limit > 0 && items.len() >= limit) {
            break;
        }
    }
    let mut meta = json!({"resourceVersion": revision.unwrap_or_default().to_string()});
    if let Some(key) = after {
        meta["continue"] = Value::String(encode_continue(&key));
    }
    Ok((items, meta))
}

fn encode_continue(key: &str) -> String {
    STANDARD.encode(json!({"v": "meta.k8s.io/v1", "start": key}).to_string())
}

fn decode_continue(token: &str, prefix: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::BadRequest(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)".into(),
        )
    };
    let raw = STANDARD.decode(token).map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    v["start"].as_str().filter(|k| k.starts_with(prefix)).map(String::from).ok_or_else(bad)
}
