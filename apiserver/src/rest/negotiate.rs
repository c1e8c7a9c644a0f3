//! Content negotiation: plain JSON, server-side Tables, or PartialObjectMetadata.

use crate::registry::Kind;
use crate::rest::params::Params;
use serde_json::{Value, json};

/// What `includeObject` asks to embed in each Table row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Include {
    None,
    Metadata,
    Object,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Json,
    Table(Include),
    PartialMetadata,
}

impl Output {
    /// Picks the first representation of the Accept header this server can produce.
    pub fn negotiate(accept: &str, params: &Params) -> Output {
        for part in accept.split(',') {
            let p = part.replace(' ', "");
            if p.contains("as=Table") && p.contains("g=meta.k8s.io") {
                return Output::Table(include(params));
            }
            if p.contains("as=PartialObjectMetadata") && p.contains("g=meta.k8s.io") {
                return Output::PartialMetadata;
            }
            if p.starts_with("application/json") || p.starts_with("*/*") || p.is_empty() {
                return Output::Json;
            }
        }
        Output::Json
    }
}

fn include(params: &Params) -> Include {
    match params.include_object.as_deref() {
        Some("None") => Include::None,
        Some("Object") => Include::Object,
        _ => Include::Metadata,
    }
}

fn partial(obj: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]})
}

/// The column definitions of a kind's Table.
fn column_definitions(kind: &Kind) -> Vec<Value> {
    printers::columns(kind.group, kind.plural)
        .into_iter()
        .map(|c| {
            json!({"name": c.name, "type": c.kind, "format": c.format,
                   "description": c.description, "priority": c.priority})
        })
        .collect()
}

fn row(kind: &Kind, obj: &Value, include: Include, now: jiff::Timestamp) -> Value {
    let cells = printers::cells(kind.group, kind.plural, obj, now);
    let object = match include {
        Include::None => Value::Null,
        Include::Metadata => partial(obj),
        Include::Object => obj.clone(),
    };
    json!({"cells": cells, "object": object})
}

/// A meta.k8s.io/v1 Table of `objects`.
pub fn table(kind: &Kind, objects: &[Value], include: Include, list_meta: Value) -> Value {
    let now = jiff::Timestamp::now();
    let rows: Vec<Value> = objects.iter().map(|o| row(kind, o, include, now)).collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
           "columnDefinitions": column_definitions(kind), "rows": rows})
}

/// One object in the representation asked for.
pub fn render_one(kind: &Kind, obj: Value, output: Output) -> Value {
    match output {
        Output::Json => obj,
        Output::PartialMetadata => partial(&obj),
        Output::Table(include) => {
            let rv = obj.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null);
            table(kind, std::slice::from_ref(&obj), include, json!({"resourceVersion": rv}))
        }
    }
}

/// A list in the representation asked for.
pub fn render_list(kind: &Kind, items: Vec<Value>, list_meta: Value, output: Output) -> Value {
    match output {
        Output::Json => {
            json!({"kind": format!("{}List", kind.kind), "apiVersion": kind.api_version(),
                               "metadata": list_meta, "items": items})
        }
        Output::PartialMetadata => {
            let items: Vec<Value> = items.iter().map(partial).collect();
            json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                   "metadata": list_meta, "items": items})
        }
        Output::Table(include) => table(kind, &items, include, list_meta),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_get_asks_for_a_table_first() {
        let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(Output::negotiate(accept, &Params::default()), Output::Table(Include::Metadata));
        assert_eq!(Output::negotiate("application/json", &Params::default()), Output::Json);
    }
}
