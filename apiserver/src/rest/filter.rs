//! Label and field selectors applied to objects, with the fields each kind allows.

use crate::registry::Kind;
use crate::rest::params::Params;
use crate::status::ApiError;
use apimachinery::fields::FieldSelector;
use apimachinery::labels::Selector;
use serde_json::{Map, Value};

/// The selectors of one list or watch request.
pub struct Filter {
    labels: Option<Selector>,
    fields: Option<FieldSelector>,
}

/// Fields every kind can be selected by.
const COMMON: &[&str] = &["metadata.name", "metadata.namespace"];

/// Boolean fields Kubernetes reports as "false" when unset.
const FALSE_WHEN_UNSET: &[&str] = &["spec.hostNetwork", "spec.unschedulable"];

impl Filter {
    pub fn from_params(kind: &Kind, params: &Params) -> Result<Filter, ApiError> {
        let labels = match params.label_selector.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(Selector::parse(s).map_err(|e| ApiError::BadRequest(e.to_string()))?),
            None => None,
        };
        let fields = match params.field_selector.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(parse_fields(kind, s)?),
            None => None,
        };
        Ok(Filter { labels, fields })
    }

    pub fn matches(&self, obj: &Value) -> bool {
        let empty = Map::new();
        let labels = obj.pointer("/metadata/labels").and_then(Value::as_object).unwrap_or(&empty);
        self.labels.as_ref().is_none_or(|s| s.matches(labels))
            && self.fields.as_ref().is_none_or(|f| f.matches(|path| field_value(obj, path)))
    }
}

fn parse_fields(kind: &Kind, s: &str) -> Result<FieldSelector, ApiError> {
    let sel = FieldSelector::parse(s).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    for req in sel.requirements() {
        let field = req.field.as_str();
        if !COMMON.contains(&field) && !kind.fields.contains(&field) {
            return Err(ApiError::BadRequest(format!(
                "Unable to find \"{}\" that match label selector \"\", field selector \"{s}\": field label not supported: {field}",
                kind.qualified()
            )));
        }
    }
    Ok(sel)
}

/// A field's value as a selector compares it: strings as-is, other scalars printed.
fn field_value(obj: &Value, path: &str) -> Option<String> {
    let pointer = format!("/{}", path.replace('.', "/"));
    match obj.pointer(&pointer) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(items)) => {
            // status.podIPs: matched against the first IP, as Kubernetes' pod field set does.
            items.first().and_then(|i| i.get("ip")).and_then(Value::as_str).map(String::from)
        }
        Some(Value::Null) | None if FALSE_WHEN_UNSET.contains(&path) => Some("false".into()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    }
}
