//! Semantic equality of API objects: unset, null, empty list and empty map are the same value,
//! as apimachinery's `equality.Semantic` treats them, so a server's normalisation never looks
//! like a change (and never sets off an endless update loop).

use serde::Serialize;
use serde_json::Value;

/// Whether `a` and `b` serialise to the same JSON once empty values are dropped.
pub fn equal<T: Serialize>(a: &T, b: &T) -> bool {
    match (serde_json::to_value(a), serde_json::to_value(b)) {
        (Ok(a), Ok(b)) => normalized(a) == normalized(b),
        _ => false,
    }
}

/// The value with every null, empty array and empty object removed, recursively.
pub fn normalized(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.into_iter().map(|(k, v)| (k, normalized(v))).filter(|(_, v)| !is_empty(v)).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(normalized).collect()),
        other => other,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_empty_list_equals_an_unset_one() {
        assert!(equal(&json!({"a": [], "b": 1}), &json!({"b": 1})));
    }

    #[test]
    fn a_null_equals_an_unset_field_deep_inside() {
        assert!(equal(&json!({"a": [{"x": null, "y": 2}]}), &json!({"a": [{"y": 2}]})));
    }

    #[test]
    fn different_values_are_not_equal() {
        assert!(!equal(&json!({"a": [1]}), &json!({"a": [2]})));
    }
}
