//! OpenAPI 3.0: the /openapi/v3 index and one document per group-version.

use serde_json::{Map, Value, json};

use crate::Resource;
use crate::paths::{self, Body, Operation, Param, PathItem, Reply};
use crate::schema::{self, Format, Schemas};

/// What the API server answers in (it serves neither protobuf nor CBOR).
pub(crate) const RESPONSE_TYPES: &[&str] = &["application/json"];

/// Patch content types; strategic merge patch is added for built-in kinds only.
pub(crate) const PATCH_TYPES: &[&str] =
    &["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json"];
pub(crate) const STRATEGIC_MERGE_PATCH: &str = "application/strategic-merge-patch+json";

/// The /openapi/v3 index: one `serverRelativeURL` per group-version, with its hash.
pub(crate) fn root<'a>(hashes: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    let paths: Map<String, Value> = hashes
        .into_iter()
        .map(|(gv, hash)| {
            let url = format!("/openapi/v3/{gv}?hash={hash}");
            (gv.to_owned(), json!({ "serverRelativeURL": url }))
        })
        .collect();
    json!({ "paths": paths })
}

/// The document of one group-version, from the resources that belong to it.
pub(crate) fn document(group: &'static str, version: &'static str, resources: &[&Resource]) -> Value {
    let mut schemas = Schemas::new(Format::V3);
    let mut items = vec![paths::discovery_path(group, version)];
    for resource in resources {
        items.extend(paths::resource_paths(resource, &mut schemas));
    }
    schemas.tag_meta_for(group, version);
    let paths: Map<String, Value> = items.iter().map(|item| (item.path.clone(), path_item(item))).collect();
    json!({
        "openapi": "3.0.0",
        "info": crate::info(),
        "paths": paths,
        "components": {
            "schemas": schemas.finish(),
            "securitySchemes": {
                "BearerToken": {
                    "description": "Bearer Token authentication",
                    "in": "header",
                    "name": "authorization",
                    "type": "apiKey",
                },
            },
        },
        "security": [{ "BearerToken": [] }],
    })
}

fn path_item(item: &PathItem) -> Value {
    let mut out = Map::new();
    for operation in &item.operations {
        out.insert(operation.method.into(), operation_value(operation));
    }
    if !item.params.is_empty() {
        out.insert("parameters".into(), params(&item.params));
    }
    Value::Object(out)
}

fn operation_value(op: &Operation) -> Value {
    let mut out = Map::new();
    out.insert("description".into(), op.description.clone().into());
    out.insert("operationId".into(), op.id.clone().into());
    if !op.params.is_empty() {
        out.insert("parameters".into(), params(&op.params));
    }
    if let Some(body) = request_body(&op.body) {
        out.insert("requestBody".into(), body);
    }
    out.insert("responses".into(), responses(op));
    out.insert("tags".into(), json!([op.tag]));
    if let Some(action) = op.action {
        out.insert("x-kubernetes-action".into(), action.into());
    }
    // Operations carry a single GVK object (schemas carry a list): kubectl's
    // fieldValidation check and `explain` both read it in this shape.
    if let Some(gvk) = &op.gvk {
        out.insert("x-kubernetes-group-version-kind".into(), schema::gvk_value(gvk));
    }
    Value::Object(out)
}

fn params(params: &[Param]) -> Value {
    params.iter().map(param).collect()
}

fn param(p: &Param) -> Value {
    let mut out = json!({
        "description": p.description,
        "in": p.location.as_str(),
        "name": p.name,
        "schema": { "type": p.ty, "uniqueItems": true },
    });
    if p.required {
        out["required"] = true.into();
    }
    out
}

fn request_body(body: &Body) -> Option<Value> {
    let any = |name: &str| json!({ "*/*": { "schema": Format::V3.reference(name) } });
    Some(match body {
        Body::None => return None,
        Body::Object(name) => json!({ "content": any(name), "required": true }),
        Body::DeleteOptions => json!({ "content": any(schema::DELETE_OPTIONS) }),
        Body::Patch { strategic } => {
            let patch = json!({ "schema": Format::V3.reference(schema::PATCH) });
            let mut content: Map<String, Value> =
                PATCH_TYPES.iter().map(|ty| ((*ty).to_owned(), patch.clone())).collect();
            if *strategic {
                content.insert(STRATEGIC_MERGE_PATCH.into(), patch);
            }
            json!({ "content": content, "required": true })
        }
    })
}

fn responses(op: &Operation) -> Value {
    let content = reply_content(&op.reply, op.watch);
    let mut out: Map<String, Value> = op
        .codes
        .iter()
        .map(|code| {
            let body = json!({ "content": content, "description": crate::code_text(code) });
            ((*code).to_owned(), body)
        })
        .collect();
    out.insert("401".into(), json!({ "description": "Unauthorized" }));
    Value::Object(out)
}

fn reply_content(reply: &Reply, watch: bool) -> Value {
    match reply {
        Reply::Text => json!({ "*/*": { "schema": { "type": "string" } } }),
        Reply::Schema(name) => {
            let schema = json!({ "schema": Format::V3.reference(name) });
            let mut types: Vec<String> = RESPONSE_TYPES.iter().map(|t| (*t).to_owned()).collect();
            if watch {
                types.push("application/json;stream=watch".into());
            }
            let content: Map<String, Value> = types.into_iter().map(|t| (t, schema.clone())).collect();
            Value::Object(content)
        }
    }
}
