//! Field paths and error constructors, as k8s.io/apimachinery/pkg/util/validation/field
//! builds them (`spec.containers[0].image`, `spec.selector.matchLabels[app]`).

use apimachinery::field::{FieldError, FieldErrorKind};
use serde_json::Value;
use std::fmt;

/// Every error a validator found, in the order Kubernetes reports them.
pub type ErrorList = Vec<FieldError>;

/// A field path, rendered exactly as `field.Path.String()` renders it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path(String);

impl Path {
    /// A root path: `Path::new("spec")` is `spec`; `Path::new("")` is the whole object (`[]`).
    pub fn new(root: &str) -> Path {
        if root.is_empty() {
            return Path("[]".to_string());
        }
        Path(root.to_string())
    }

    pub fn child(&self, name: &str) -> Path {
        if self.0.is_empty() {
            return Path(name.to_string());
        }
        Path(format!("{}.{name}", self.0))
    }

    /// Several children at once: `p.children(&["metadata", "labels"])`.
    pub fn children(&self, names: &[&str]) -> Path {
        names.iter().fold(self.clone(), |p, n| p.child(n))
    }

    pub fn index(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }

    pub fn key(&self, k: &str) -> Path {
        Path(format!("{}[{k}]", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn invalid(p: &Path, value: impl Into<Value>, detail: impl Into<String>) -> FieldError {
    FieldError::invalid(p.as_str(), value, detail)
}

/// An Invalid error whose value Kubernetes 1.33 prints with Go's `%#v`
/// (`map[string]string{"app":"x"}`), already rendered by [`crate::gofmt`].
pub fn invalid_go(p: &Path, rendered: &str, detail: &str) -> FieldError {
    let detail = if detail.is_empty() { rendered.to_string() } else { format!("{rendered}: {detail}") };
    FieldError { kind: FieldErrorKind::Invalid, field: p.to_string(), value: None, detail }
}

pub fn required(p: &Path, detail: impl Into<String>) -> FieldError {
    FieldError::required(p.as_str(), detail)
}

pub fn not_supported(p: &Path, value: impl Into<Value>, supported: &[&str]) -> FieldError {
    FieldError::not_supported(p.as_str(), value, supported)
}

/// A NotSupported error whose value Kubernetes prints with Go's `%#v`.
pub fn not_supported_go(p: &Path, rendered: &str, supported: &[&str]) -> FieldError {
    let list: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
    FieldError {
        kind: FieldErrorKind::NotSupported,
        field: p.to_string(),
        value: None,
        detail: format!("{rendered}: supported values: {}", list.join(", ")),
    }
}

pub fn forbidden(p: &Path, detail: impl Into<String>) -> FieldError {
    FieldError::forbidden(p.as_str(), detail)
}

pub fn duplicate(p: &Path, value: impl Into<Value>) -> FieldError {
    FieldError {
        kind: FieldErrorKind::Duplicate,
        field: p.to_string(),
        value: Some(value.into()),
        detail: String::new(),
    }
}

/// A Duplicate error whose value Kubernetes prints with Go's `%#v`.
pub fn duplicate_go(p: &Path, rendered: &str) -> FieldError {
    FieldError { kind: FieldErrorKind::Duplicate, field: p.to_string(), value: None, detail: rendered.to_string() }
}

/// Kubernetes' `field.NotFound` (`Not found: "x"`).
///
/// apimachinery's [`FieldErrorKind`] has no NotFound kind yet, so this is reported as an Invalid
/// value with the detail `not found`; the field and value are Kubernetes'. One place to change
/// once the kind exists.
pub fn not_found(p: &Path, value: impl Into<Value>) -> FieldError {
    FieldError {
        kind: FieldErrorKind::NotFound,
        field: p.to_string(),
        value: Some(value.into()),
        detail: String::new(),
    }
}

/// Kubernetes' `field.TooLong` (`Too long: may not be more than N bytes`).
pub fn too_long(p: &Path, max: usize) -> FieldError {
    FieldError {
        kind: FieldErrorKind::TooLong,
        field: p.to_string(),
        value: None,
        detail: format!("may not be more than {max} bytes"),
    }
}

/// Kubernetes' `field.TooMany`; reported as Invalid until apimachinery has the kind.
pub fn too_many(p: &Path, actual: usize, max: usize) -> FieldError {
    let detail = format!("must have at most {max} items");
    FieldError { kind: FieldErrorKind::TooMany, field: p.to_string(), value: Some(actual.into()), detail }
}

/// `must be greater than or equal to 0` unless `value >= 0` (ValidateNonnegativeField).
pub fn nonnegative(value: i64, p: &Path) -> ErrorList {
    if value < 0 {
        return vec![invalid(p, value, "must be greater than or equal to 0")];
    }
    Vec::new()
}

/// A required enum: `Required value` when empty, `Unsupported value` when unknown.
pub fn enum_required(value: &str, allowed: &[&str], p: &Path) -> ErrorList {
    if value.is_empty() {
        return vec![required(p, "")];
    }
    if allowed.contains(&value) {
        return Vec::new();
    }
    vec![not_supported(p, value, allowed)]
}

/// ValidateNonnegativeField for several integer fields of the object at `pointer`.
pub fn nonnegative_fields(obj: &Value, pointer: &str, fields: &[&str], p: &Path) -> ErrorList {
    let at = obj.pointer(pointer).cloned().unwrap_or_default();
    fields.iter().flat_map(|f| nonnegative(at.get(*f).and_then(Value::as_i64).unwrap_or(0), &p.child(f))).collect()
}

/// `Invalid value: ...: field is immutable` unless `new` equals `old` (ValidateImmutableField).
pub fn immutable(new: Option<&Value>, old: Option<&Value>, p: &Path) -> ErrorList {
    if crate::json::semantic_eq(new, old) {
        return Vec::new();
    }
    vec![invalid(p, new.cloned().unwrap_or(Value::Null), IMMUTABLE)]
}

/// apimachinery's FieldImmutableErrorMsg.
pub const IMMUTABLE: &str = "field is immutable";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_as_kubernetes_renders_them() {
        let p = Path::new("spec").child("containers").index(0).child("image");
        assert_eq!(p.as_str(), "spec.containers[0].image");
        assert_eq!(Path::new("data").key("a.b").as_str(), "data[a.b]");
        assert_eq!(Path::new("").as_str(), "[]");
    }

    #[test]
    fn a_go_rendered_value_is_printed_unquoted() {
        let e = invalid_go(&Path::new("spec"), "map[string]string{\"a\":\"b\"}", "bad");
        assert_eq!(e.message(), "spec: Invalid value: map[string]string{\"a\":\"b\"}: bad");
    }

    #[test]
    fn too_long_names_the_limit_in_bytes() {
        assert_eq!(
            too_long(&Path::new("data"), 1048576).message(),
            "data: Too long: may not be more than 1048576 bytes"
        );
    }
}
