//! Swagger 2.0: the single /openapi/v2 document covering every group-version.

use serde_json::{Map, Value, json};

use crate::Resource;
use crate::paths::{self, Body, Operation, Param, PathItem, Reply};
use crate::schema::{self, Format, Schemas};
use crate::v3::{PATCH_TYPES, RESPONSE_TYPES, STRATEGIC_MERGE_PATCH};

/// The whole document, grouped by group-version like the v3 documents.
pub(crate) fn document<'a>(
    group_versions: impl IntoIterator<Item = (&'static str, &'static str, Vec<&'a Resource>)>,
) -> Value {
    let mut schemas = Schemas::new(Format::V2);
    let mut items = Vec::new();
    for (group, version, resources) in group_versions {
        items.push(paths::discovery_path(group, version));
        for resource in resources {
            items.extend(paths::resource_paths(resource, &mut schemas));
        }
        schemas.tag_meta_for(group, version);
    }
    let paths: Map<String, Value> = items.iter().map(|item| (item.path.clone(), path_item(item))).collect();
    json!({
        "swagger": "2.0",
        "info": crate::info(),
        "paths": paths,
        "definitions": schemas.finish(),
        "securityDefinitions": {
            "BearerToken": {
                "description": "Bearer Token authentication",
                "in": "header",
                "name": "authorization",
                "type": "apiKey",
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
        out.insert("parameters".into(), item.params.iter().map(param).collect());
    }
    Value::Object(out)
}

fn operation_value(op: &Operation) -> Value {
    let mut out = Map::new();
    if let Some(consumes) = consumes(&op.body) {
        out.insert("consumes".into(), consumes);
    }
    out.insert("description".into(), op.description.clone().into());
    out.insert("operationId".into(), op.id.clone().into());
    let mut parameters: Vec<Value> = body_param(&op.body).into_iter().collect();
    parameters.extend(op.params.iter().map(param));
    if !parameters.is_empty() {
        out.insert("parameters".into(), Value::Array(parameters));
    }
    out.insert("produces".into(), produces(op));
    out.insert("responses".into(), responses(op));
    out.insert("schemes".into(), json!(["https"]));
    out.insert("tags".into(), json!([op.tag]));
    if let Some(action) = op.action {
        out.insert("x-kubernetes-action".into(), action.into());
    }
    if let Some(gvk) = &op.gvk {
        out.insert("x-kubernetes-group-version-kind".into(), schema::gvk_value(gvk));
    }
    Value::Object(out)
}

fn param(p: &Param) -> Value {
    let mut out = json!({
        "description": p.description,
        "in": p.location.as_str(),
        "name": p.name,
        "type": p.ty,
        "uniqueItems": true,
    });
    if p.required {
        out["required"] = true.into();
    }
    out
}

fn consumes(body: &Body) -> Option<Value> {
    match body {
        Body::None => None,
        Body::Object(_) | Body::DeleteOptions => Some(json!(["*/*"])),
        Body::Patch { strategic } => {
            let mut types: Vec<&str> = PATCH_TYPES.to_vec();
            if *strategic {
                types.push(STRATEGIC_MERGE_PATCH);
            }
            Some(json!(types))
        }
    }
}

fn body_param(body: &Body) -> Option<Value> {
    let (name, required) = match body {
        Body::None => return None,
        Body::Object(name) => (name.as_str(), true),
        Body::Patch { .. } => (schema::PATCH, true),
        Body::DeleteOptions => (schema::DELETE_OPTIONS, false),
    };
    let mut out = json!({ "in": "body", "name": "body", "schema": Format::V2.reference(name) });
    if required {
        out["required"] = true.into();
    }
    Some(out)
}

fn produces(op: &Operation) -> Value {
    match op.reply {
        Reply::Text => json!(["*/*"]),
        Reply::Schema(_) => {
            let mut types = RESPONSE_TYPES.to_vec();
            if op.watch {
                types.push("application/json;stream=watch");
            }
            json!(types)
        }
    }
}

fn responses(op: &Operation) -> Value {
    let schema = match &op.reply {
        Reply::Text => json!({ "type": "string" }),
        Reply::Schema(name) => Format::V2.reference(name),
    };
    let mut out: Map<String, Value> = op
        .codes
        .iter()
        .map(|code| {
            let body = json!({ "description": crate::code_text(code), "schema": schema });
            ((*code).to_owned(), body)
        })
        .collect();
    out.insert("401".into(), json!({ "description": "Unauthorized" }));
    Value::Object(out)
}
