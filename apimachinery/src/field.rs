//! Field errors: what a validation failure says about one field, worded as
//! k8s.io/apimachinery/pkg/util/validation/field words it (`spec.x: Invalid value: "y": ...`).

use serde_json::Value;

/// What a field error says, as k8s.io/apimachinery/pkg/util/validation/field words it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldErrorKind {
    Invalid,
    Required,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Duplicate,
    NotFound,
}

#[derive(Clone, Debug)]
pub struct FieldError {
    pub kind: FieldErrorKind,
    pub field: String,
    pub value: Option<Value>,
    pub detail: String,
}

impl FieldError {
    pub fn invalid(field: &str, value: impl Into<Value>, detail: impl Into<String>) -> Self {
        FieldError {
            kind: FieldErrorKind::Invalid,
            field: field.into(),
            value: Some(value.into()),
            detail: detail.into(),
        }
    }

    pub fn required(field: &str, detail: impl Into<String>) -> Self {
        FieldError { kind: FieldErrorKind::Required, field: field.into(), value: None, detail: detail.into() }
    }

    pub fn not_supported(field: &str, value: impl Into<Value>, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
        let detail = format!("supported values: {}", list.join(", "));
        FieldError { kind: FieldErrorKind::NotSupported, field: field.into(), value: Some(value.into()), detail }
    }

    pub fn forbidden(field: &str, detail: impl Into<String>) -> Self {
        FieldError { kind: FieldErrorKind::Forbidden, field: field.into(), value: None, detail: detail.into() }
    }

    pub fn reason(&self) -> &'static str {
        match self.kind {
            FieldErrorKind::Invalid => "FieldValueInvalid",
            FieldErrorKind::Required => "FieldValueRequired",
            FieldErrorKind::NotSupported => "FieldValueNotSupported",
            FieldErrorKind::Forbidden => "FieldValueForbidden",
            FieldErrorKind::TooLong => "FieldValueTooLong",
            FieldErrorKind::Duplicate => "FieldValueDuplicate",
            FieldErrorKind::TooMany => "FieldValueTooMany",
            FieldErrorKind::NotFound => "FieldValueNotFound",
        }
    }

    /// The text after the field name, e.g. `Invalid value: "x": must be ...`.
    pub fn body(&self) -> String {
        let label = match self.kind {
            FieldErrorKind::Invalid => "Invalid value",
            FieldErrorKind::Required => "Required value",
            FieldErrorKind::NotSupported => "Unsupported value",
            FieldErrorKind::Forbidden => "Forbidden",
            FieldErrorKind::TooLong => "Too long",
            FieldErrorKind::Duplicate => "Duplicate value",
            FieldErrorKind::TooMany => "Too many",
            FieldErrorKind::NotFound => "Not found",
        };
        let mut s = label.to_string();
        if let Some(v) = &self.value {
            s.push_str(": ");
            s.push_str(&render_value(v));
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    pub fn message(&self) -> String {
        format!("{}: {}", self.field, self.body())
    }
}

fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsupported_value_lists_the_supported_ones() {
        let e = FieldError::not_supported("spec.sessionAffinity", "ClusterIP", &["ClientIP", "None"]);
        assert_eq!(
            e.message(),
            r#"spec.sessionAffinity: Unsupported value: "ClusterIP": supported values: "ClientIP", "None""#
        );
        assert_eq!(e.reason(), "FieldValueNotSupported");
    }

    #[test]
    fn a_required_value_without_detail_says_only_that() {
        assert_eq!(FieldError::required("spec.selector", "").message(), "spec.selector: Required value");
    }
}
