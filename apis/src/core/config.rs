//! ConfigMaps and Secrets: SetDefaults_Secret, the v1 conversion that folds `stringData` into
//! `data`, ValidateConfigMap(Update) and ValidateSecret(Update).

use super::env_source::config_key;
use crate::field::{ErrorList, Path, forbidden, immutable, invalid, required, too_long};
use crate::json;
use serde_json::{Map, Value, json};

/// core.MaxSecretSize, shared by ConfigMaps.
const MAX_SIZE: usize = 1024 * 1024;

/// SetDefaults_Secret (type Opaque), and `stringData` merged into `data` as the v1 → internal
/// conversion does (stringData wins; it is write-only and never stored).
pub fn default_secret(secret: &mut Value) {
    json::default_zero(secret, "type", json!("Opaque"));
    let Some(Value::Object(strings)) = secret.as_object_mut().and_then(|m| m.remove("stringData")) else {
        return;
    };
    let Some(data) = json::ensure_object(secret, "data").and_then(Value::as_object_mut) else {
        return;
    };
    for (k, v) in strings {
        data.insert(k, json!(base64_encode(v.as_str().unwrap_or_default().as_bytes())));
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The decoded length of a base64 value, as Kubernetes counts a Secret's size.
fn decoded_len(b64: &str) -> usize {
    let trimmed = b64.trim_end_matches('=');
    trimmed.len() * 3 / 4
}

/// ValidateConfigMap: keys, no key in both data and binaryData, 1 MiB in all.
pub fn validate_config_map(cm: &Value) -> ErrorList {
    let empty = Map::new();
    let data = json::object(cm, "data").unwrap_or(&empty);
    let binary = json::object(cm, "binaryData").unwrap_or(&empty);
    let mut errs = Vec::new();
    let mut size = 0;
    for (k, v) in data {
        let kp = Path::new("data").key(k);
        errs.extend(config_key_errors(k, &kp));
        if binary.contains_key(k) {
            errs.push(invalid(&kp, k.as_str(), "duplicate of key present in binaryData"));
        }
        size += v.as_str().map_or(0, str::len);
    }
    for (k, v) in binary {
        errs.extend(config_key_errors(k, &Path::new("binaryData").key(k)));
        size += v.as_str().map_or(0, decoded_len);
    }
    if size > MAX_SIZE {
        errs.push(too_long(&Path::new(""), MAX_SIZE));
    }
    errs
}

fn config_key_errors(key: &str, p: &Path) -> ErrorList {
    config_key(key, &Path::new("x")).into_iter().map(|e| invalid(p, key, e.detail)).collect()
}

/// ValidateConfigMapUpdate: an immutable ConfigMap keeps its data.
pub fn validate_config_map_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = immutable_data(new, old, &["data", "binaryData"]);
    errs.extend(validate_config_map(new));
    errs
}

fn immutable_data(new: &Value, old: &Value, fields: &[&str]) -> ErrorList {
    if old.get("immutable") != Some(&Value::Bool(true)) {
        return Vec::new();
    }
    let msg = "field is immutable when `immutable` is set";
    let mut errs = Vec::new();
    if new.get("immutable") != Some(&Value::Bool(true)) {
        errs.push(forbidden(&Path::new("immutable"), msg));
    }
    for f in fields {
        if !json::semantic_eq(new.get(*f), old.get(*f)) {
            errs.push(forbidden(&Path::new(f), msg));
        }
    }
    errs
}

/// ValidateSecret: keys, 1 MiB of data, and what each well-known type requires.
pub fn validate_secret(secret: &Value) -> ErrorList {
    let dp = Path::new("data");
    let empty = Map::new();
    let data = json::object(secret, "data").unwrap_or(&empty);
    let mut errs = Vec::new();
    let mut size = 0;
    for (k, v) in data {
        errs.extend(config_key_errors(k, &dp.key(k)));
        size += v.as_str().map_or(0, decoded_len);
    }
    if size > MAX_SIZE {
        errs.push(too_long(&dp, MAX_SIZE));
    }
    errs.extend(validate_secret_type(secret, data, &dp));
    errs
}

fn validate_secret_type(secret: &Value, data: &Map<String, Value>, dp: &Path) -> ErrorList {
    let need = |keys: &[&str]| -> ErrorList {
        keys.iter().filter(|k| !data.contains_key(**k)).map(|k| required(&dp.key(k), "")).collect()
    };
    match json::string(secret, "type") {
        "kubernetes.io/service-account-token" => {
            let key = "kubernetes.io/service-account.name";
            let name = secret.pointer("/metadata/annotations").and_then(|a| json::str_of(a, key)).unwrap_or("");
            if name.is_empty() {
                return vec![required(&Path::new("metadata").child("annotations").key(key), "")];
            }
            Vec::new()
        }
        "kubernetes.io/dockercfg" => docker_config(data, ".dockercfg", dp),
        "kubernetes.io/dockerconfigjson" => docker_config(data, ".dockerconfigjson", dp),
        "kubernetes.io/basic-auth" if !data.contains_key("username") && !data.contains_key("password") => {
            need(&["username", "password"])
        }
        "kubernetes.io/ssh-auth" => {
            let key = data.get("ssh-privatekey").and_then(Value::as_str).unwrap_or("");
            if key.is_empty() {
                return vec![required(&dp.key("ssh-privatekey"), "")];
            }
            Vec::new()
        }
        "kubernetes.io/tls" => need(&["tls.crt", "tls.key"]),
        _ => Vec::new(),
    }
}

/// A docker config key must be present and hold well-formed JSON.
fn docker_config(data: &Map<String, Value>, key: &str, dp: &Path) -> ErrorList {
    let Some(raw) = data.get(key) else {
        return vec![required(&dp.key(key), "")];
    };
    let decoded = base64_decode(raw.as_str().unwrap_or_default()).unwrap_or_default();
    match serde_json::from_slice::<Map<String, Value>>(&decoded) {
        Ok(_) => Vec::new(),
        Err(e) => vec![invalid(&dp.key(key), "<secret contents redacted>", e.to_string())],
    }
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|b| *b != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        let produced = chunk.len().saturating_sub(1);
        for i in 0..produced {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// ValidateSecretUpdate: the type never changes; an immutable Secret keeps its data.
pub fn validate_secret_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = immutable(new.get("type"), old.get("type"), &Path::new("type"));
    errs.extend(immutable_data(new, old, &["data"]));
    errs.extend(validate_secret(new));
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "hello world"] {
            let enc = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&enc).unwrap(), s.as_bytes(), "{s}");
            assert_eq!(decoded_len(&enc), s.len(), "{s}");
        }
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
    }
}
