//! Request bodies: JSON or YAML in, typed check through k8s-openapi, unknown fields found.

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

/// Decodes an object through its k8s-openapi type and back, which normalises it and names the
/// field of the first type error.
pub type TypedDecoder = fn(&Value) -> Result<Value, DecodeError>;

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DecodeError {
    pub path: String,
    pub message: String,
}

pub fn typed<T: DeserializeOwned + Serialize>(value: &Value) -> Result<Value, DecodeError> {
    let obj: T = serde_path_to_error::deserialize(value)
        .map_err(|e| DecodeError { path: e.path().to_string(), message: e.inner().to_string() })?;
    serde_json::to_value(obj).map_err(|e| DecodeError { path: ".".into(), message: e.to_string() })
}

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("couldn't get version/kind; json parse error: {0}")]
    Json(String),
    #[error("error converting YAML to JSON: {0}")]
    Yaml(String),
    #[error("the body of the request was empty")]
    Empty,
}

/// Parses a request body as JSON, or as YAML when the content type says so.
pub fn parse_body(content_type: &str, body: &[u8]) -> Result<Value, BodyError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(BodyError::Empty);
    }
    if content_type.contains("yaml") {
        return serde_yaml::from_slice(body).map_err(|e| BodyError::Yaml(e.to_string()));
    }
    serde_json::from_slice(body).map_err(|e| BodyError::Json(e.to_string()))
}

/// Paths (`spec.foo`, `spec.containers[0].bar`) present in `input` with a value but absent
/// from its typed round trip: the fields the schema does not declare.
pub fn unknown_fields(input: &Value, typed: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(input, typed, String::new(), &mut out);
    out
}

fn walk(input: &Value, typed: &Value, path: String, out: &mut Vec<String>) {
    match (input, typed) {
        (Value::Object(i), Value::Object(t)) => {
            for (k, v) in i {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match t.get(k) {
                    Some(tv) => walk(v, tv, p, out),
                    None if !v.is_null() && !is_empty_container(v) => out.push(p),
                    None => {}
                }
            }
        }
        (Value::Array(i), Value::Array(t)) => {
            for (n, (iv, tv)) in i.iter().zip(t).enumerate() {
                walk(iv, tv, format!("{path}[{n}]"), out);
            }
        }
        _ => {}
    }
}

fn is_empty_container(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.is_empty()) || matches!(v, Value::Array(a) if a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;
    use serde_json::json;

    #[test]
    fn a_type_error_names_the_field() {
        let bad = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": "three"}});
        let err = typed::<Deployment>(&bad).expect_err("must fail");
        assert_eq!(err.path, "spec.replicas");
    }

    #[test]
    fn fields_the_schema_lacks_are_reported_with_their_path() {
        let input = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"},
            "spec": {"replicaz": 3, "selector": {}, "template": {"spec": {"containers": [{"name": "c", "imagee": "x"}]}}}});
        let t = typed::<Deployment>(&input).expect("decodes");
        assert_eq!(unknown_fields(&input, &t), ["spec.replicaz", "spec.template.spec.containers[0].imagee"]);
    }

    #[test]
    fn yaml_bodies_are_read_when_the_content_type_says_yaml() {
        let v = parse_body("application/yaml", b"kind: Pod\napiVersion: v1\n").expect("yaml");
        assert_eq!(v["kind"], "Pod");
        assert!(matches!(parse_body("application/json", b"{bad"), Err(BodyError::Json(_))));
    }
}
