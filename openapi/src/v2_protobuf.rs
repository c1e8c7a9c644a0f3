//! /openapi/v2 in the protobuf form kubectl asks for (gnostic's openapi.v2.Document).
//!
//! Only the paths are encoded: their operations, parameters and vendor extensions, which is
//! what kubectl's field-validation check (QueryParamVerifier) reads. Definitions are left out
//! on purpose: without them kubectl computes strategic merge patches from its compiled-in Go
//! types and leaves schema validation to the server (fieldValidation=Strict), which is exact.
//! Field numbers follow github.com/google/gnostic openapiv2/OpenAPIv2.proto.

use serde_json::Value;

/// A protobuf message being written.
#[derive(Default)]
struct Message(Vec<u8>);

impl Message {
    fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.0.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.0.push(n as u8);
    }

    fn bytes(&mut self, field: u32, data: &[u8]) {
        self.varint(u64::from(field) << 3 | 2);
        self.varint(data.len() as u64);
        self.0.extend_from_slice(data);
    }

    fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    fn boolean(&mut self, field: u32, b: bool) {
        if b {
            self.varint(u64::from(field) << 3);
            self.varint(1);
        }
    }

    fn message(&mut self, field: u32, m: Message) {
        self.bytes(field, &m.0);
    }
}

const METHODS: &[(&str, u32)] = &[("get", 2), ("put", 3), ("post", 4), ("delete", 5), ("patch", 8)];

/// Encodes the paths of a Swagger 2.0 JSON document as an openapi.v2.Document.
pub fn encode(doc: &Value) -> Vec<u8> {
    let mut d = Message::default();
    d.string(1, doc["swagger"].as_str().unwrap_or("2.0"));
    let mut info = Message::default();
    info.string(1, doc["info"]["title"].as_str().unwrap_or("Kubernetes"));
    info.string(2, doc["info"]["version"].as_str().unwrap_or_default());
    d.message(2, info);
    let mut paths = Message::default();
    for (name, item) in doc["paths"].as_object().into_iter().flatten() {
        let mut named = Message::default();
        named.string(1, name);
        named.message(2, path_item(item));
        paths.message(2, named);
    }
    d.message(8, paths);
    d.0
}

fn path_item(item: &Value) -> Message {
    let mut m = Message::default();
    for (method, field) in METHODS {
        if let Some(op) = item.get(*method) {
            m.message(*field, operation(op));
        }
    }
    for p in item["parameters"].as_array().into_iter().flatten() {
        m.message(9, parameters_item(p));
    }
    m
}

fn operation(op: &Value) -> Message {
    let mut m = Message::default();
    m.string(3, op["description"].as_str().unwrap_or_default());
    m.string(5, op["operationId"].as_str().unwrap_or_default());
    for p in op["parameters"].as_array().into_iter().flatten() {
        m.message(8, parameters_item(p));
    }
    for (name, value) in op.as_object().into_iter().flatten().filter(|(k, _)| k.starts_with("x-")) {
        m.message(13, named_any(name, value));
    }
    m
}

/// A vendor extension, its value as YAML (gnostic's Any.yaml), as kubectl reads it.
fn named_any(name: &str, value: &Value) -> Message {
    let mut any = Message::default();
    any.string(2, &serde_yaml::to_string(value).unwrap_or_default());
    let mut m = Message::default();
    m.string(1, name);
    m.message(2, any);
    m
}

fn parameters_item(p: &Value) -> Message {
    let mut item = Message::default();
    if let Some(r) = p.get("$ref").and_then(Value::as_str) {
        let mut reference = Message::default();
        reference.string(1, r);
        item.message(2, reference);
        return item;
    }
    let mut parameter = Message::default();
    match p["in"].as_str().unwrap_or_default() {
        "body" => {
            let mut body = Message::default();
            body.string(1, p["description"].as_str().unwrap_or_default());
            body.string(2, p["name"].as_str().unwrap_or_default());
            body.string(3, "body");
            body.boolean(4, p["required"].as_bool().unwrap_or(false));
            parameter.message(1, body);
        }
        location => {
            let mut sub = Message::default();
            sub.boolean(1, p["required"].as_bool().unwrap_or(false));
            sub.string(2, location);
            sub.string(3, p["description"].as_str().unwrap_or_default());
            sub.string(4, p["name"].as_str().unwrap_or_default());
            // Query parameters keep `type` at 6 (allow_empty_value is 5); path and header at 5.
            let type_field = if location == "query" { 6 } else { 5 };
            sub.string(type_field, p["type"].as_str().unwrap_or_default());
            let which = match location {
                "header" => 1,
                "formData" => 2,
                "query" => 3,
                _ => 4,
            };
            let mut non_body = Message::default();
            non_body.message(which, sub);
            parameter.message(2, non_body);
        }
    }
    item.message(1, parameter);
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn varints_and_strings_are_encoded_as_protobuf_does() {
        let mut m = Message::default();
        m.varint(300);
        assert_eq!(m.0, [0xac, 0x02]);
        let mut s = Message::default();
        s.string(1, "2.0");
        assert_eq!(s.0, [0x0a, 3, b'2', b'.', b'0']);
    }

    #[test]
    fn a_patch_operation_carries_its_gvk_as_yaml_and_its_query_parameters() {
        let doc = json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.33.0"},
            "paths": {"/apis/apps/v1/namespaces/{namespace}/deployments/{name}": {"patch": {
                "operationId": "patchAppsV1NamespacedDeployment",
                "parameters": [{"in": "query", "name": "fieldValidation", "type": "string"}],
                "x-kubernetes-group-version-kind": {"group": "apps", "kind": "Deployment", "version": "v1"}}}}});
        let bytes = encode(&doc);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("fieldValidation"));
        assert!(text.contains("group: apps\nkind: Deployment\nversion: v1\n"));
    }
}
