//! Reading and defaulting objects held as JSON, with Go's notion of a zero value:
//! a field that is absent, `null`, `""`, `0`, `false`, `[]` or `{}` is "unset" to Go code.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The child `key` unless it is absent or `null`.
pub fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|c| !c.is_null())
}

/// The value at a JSON pointer (`/spec/template`) unless it is absent or `null`.
pub fn at<'a>(v: &'a Value, pointer: &str) -> Option<&'a Value> {
    v.pointer(pointer).filter(|c| !c.is_null())
}

pub fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The string child, or `""` as Go reads an unset string.
pub fn string<'a>(v: &'a Value, key: &str) -> &'a str {
    str_of(v, key).unwrap_or("")
}

pub fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

pub fn boolean(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The array child, or an empty slice.
pub fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

pub fn object<'a>(v: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    v.get(key).and_then(Value::as_object)
}

/// A `map[string]string` child (labels, selectors), sorted as Go sorts map keys when printing.
pub fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let Some(m) = v.and_then(Value::as_object) else {
        return BTreeMap::new();
    };
    m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()
}

/// Whether Go would see this value as its type's zero value.
pub fn is_zero(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::Bool(b)) => !b,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
    }
}

/// A zero value, or an object holding only zero values (a zero Go struct).
fn is_deep_zero(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Object(o)) => o.values().all(|c| is_deep_zero(Some(c))),
        other => is_zero(other),
    }
}

/// Sets `key` when Go would see it as unset (`if obj.X == "" { obj.X = ... }`).
pub fn default_zero(obj: &mut Value, key: &str, value: Value) {
    if let Value::Object(m) = obj
        && is_zero(m.get(key))
    {
        m.insert(key.to_string(), value);
    }
}

/// Sets `key` when it is absent or null (`if obj.X == nil { obj.X = ... }`).
pub fn default_nil(obj: &mut Value, key: &str, value: Value) {
    if let Value::Object(m) = obj
        && m.get(key).is_none_or(Value::is_null)
    {
        m.insert(key.to_string(), value);
    }
}

/// The object child `key`, created as `{}` when absent or null; None if `obj` is no object.
pub fn ensure_object<'a>(obj: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    default_nil(obj, key, Value::Object(Map::new()));
    obj.get_mut(key).filter(|c| c.is_object())
}

/// Calls `f` on each element of the array child `key`, if there is one.
pub fn each_mut(obj: &mut Value, key: &str, mut f: impl FnMut(&mut Value)) {
    if let Some(Value::Array(a)) = obj.get_mut(key) {
        a.iter_mut().for_each(&mut f);
    }
}

/// Calls `f` on the value at a JSON pointer, if it is present and not null.
pub fn with_mut(obj: &mut Value, pointer: &str, f: impl FnOnce(&mut Value)) {
    if let Some(v) = obj.pointer_mut(pointer).filter(|v| !v.is_null()) {
        f(v);
    }
}

/// Kubernetes' `apiequality.Semantic.DeepEqual` on JSON: nil and empty slices and maps are equal,
/// and so are an absent field and its zero value.
pub fn semantic_eq(a: Option<&Value>, b: Option<&Value>) -> bool {
    if is_deep_zero(a) && is_deep_zero(b) {
        return true;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            x.keys().chain(y.keys()).all(|k| semantic_eq(x.get(k), y.get(k)))
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| semantic_eq(Some(p), Some(q)))
        }
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64() == y.as_f64(),
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_and_zero_values_are_semantically_equal() {
        let a = json!({"x": [], "y": "", "z": {"w": 0}});
        let b = json!({});
        assert!(semantic_eq(Some(&a), Some(&b)));
        assert!(!semantic_eq(Some(&json!({"x": [1]})), Some(&b)));
    }

    #[test]
    fn defaults_fill_only_unset_fields() {
        let mut v = json!({"a": "", "b": "set", "c": null, "d": 0});
        default_zero(&mut v, "a", json!("x"));
        default_zero(&mut v, "b", json!("x"));
        default_nil(&mut v, "c", json!(1));
        default_nil(&mut v, "d", json!(1));
        assert_eq!(v, json!({"a": "x", "b": "set", "c": 1, "d": 0}));
    }
}
