//! Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`, what kubectl's
//! and client-go's typed clients send) decoded into the JSON the API would carry.
//!
//! A body is the magic `k8s\0` and a `runtime.Unknown` {typeMeta{apiVersion = 1, kind = 2} = 1,
//! raw = 2, contentEncoding = 3, contentType = 4}; `raw` is the object's message. Field numbers,
//! types and JSON names come from a table generated from k8s-pb and k8s-openapi
//! (`tools/gen_table.py`), for the kinds of Kubernetes 1.33.

mod convert;
mod go;
mod schema;
#[rustfmt::skip]
mod table;
mod wire;

use serde_json::{Map, Value};

use wire::{Raw, Reader};

/// The media type of Kubernetes protobuf bodies.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The prefix of every Kubernetes protobuf body.
pub(crate) const MAGIC: &[u8] = b"k8s\0";

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not a Kubernetes protobuf body: it does not start with \"k8s\\0\"")]
    NotProtobuf,
    #[error("no protobuf schema for apiVersion {api_version:?}, kind {kind:?}")]
    UnknownKind { api_version: String, kind: String },
    #[error("protobuf content encoding {0:?} is not supported")]
    ContentEncoding(String),
    #[error("malformed protobuf{}: {reason}", at(.path))]
    Malformed { path: String, reason: String },
}

fn at(path: &str) -> String {
    if path.is_empty() { String::new() } else { format!(" at {path}") }
}

impl DecodeError {
    pub(crate) fn malformed(reason: &str) -> Self {
        DecodeError::Malformed { path: String::new(), reason: reason.into() }
    }

    pub(crate) fn wire_type(raw: Raw<'_>) -> Self {
        Self::malformed(&format!("unexpected wire type {}", raw.wire_type()))
    }

    /// The same error, one field further out.
    pub(crate) fn within(self, name: &str) -> Self {
        match self {
            DecodeError::Malformed { path, reason } if path.is_empty() => {
                DecodeError::Malformed { path: name.into(), reason }
            }
            DecodeError::Malformed { path, reason } => {
                DecodeError::Malformed { path: format!("{name}.{path}"), reason }
            }
            other => other,
        }
    }
}

/// Whether a Content-Type header names Kubernetes protobuf (parameters aside).
pub fn is_protobuf(content_type: &str) -> bool {
    content_type.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case(MEDIA_TYPE))
}

/// Decodes a Kubernetes protobuf body (magic "k8s\0" + runtime.Unknown{typeMeta{apiVersion=1,
/// kind=2}=1, raw=2, contentEncoding=3, contentType=4}) into the object's JSON as the JSON API
/// would carry it (apiVersion and kind set from typeMeta).
///
/// Zero values follow Go's JSON: Kubernetes' Go marshaller writes every non-pointer field, so
/// empty strings, zero numbers and false are left out unless the field is required or, by its
/// doc, a pointer whose zero means something (`replicas`, `backoffLimit`,
/// `gracePeriodSeconds`); empty non-pointer structs stay (`resources: {}`), a zero time is null.
pub fn decode(body: &[u8]) -> Result<Value, DecodeError> {
    decode_at(body, 0)
}

pub(crate) fn decode_at(body: &[u8], depth: usize) -> Result<Value, DecodeError> {
    let unknown = body.strip_prefix(MAGIC).ok_or(DecodeError::NotProtobuf)?;
    let (mut api_version, mut kind) = (String::new(), String::new());
    let (mut raw, mut encoding, mut content_type) = (&[][..], String::new(), String::new());
    let mut reader = Reader::new(unknown);
    while let Some((tag, value)) = reader.next()? {
        match (tag, value) {
            (1, Raw::Len(type_meta)) => {
                let mut tm = Reader::new(type_meta);
                while let Some((tag, value)) = tm.next()? {
                    match tag {
                        1 => api_version = text(value)?,
                        2 => kind = text(value)?,
                        _ => {}
                    }
                }
            }
            (2, Raw::Len(bytes)) => raw = bytes,
            (3, value) => encoding = text(value)?,
            (4, value) => content_type = text(value)?,
            (1 | 2, value) => return Err(DecodeError::wire_type(value)),
            _ => {}
        }
    }
    if !encoding.is_empty() {
        return Err(DecodeError::ContentEncoding(encoding));
    }
    let fields = if content_type.to_ascii_lowercase().contains("json") {
        match serde_json::from_slice(raw) {
            Ok(Value::Object(fields)) => fields,
            _ => return Err(DecodeError::malformed("raw JSON is not an object")),
        }
    } else {
        let unknown = || DecodeError::UnknownKind { api_version: api_version.clone(), kind: kind.clone() };
        let index = schema::kind(&api_version, &kind).ok_or_else(unknown)?;
        match convert::message(index, raw, depth)? {
            Value::Object(fields) => fields,
            _ => return Err(unknown()),
        }
    };
    let mut out = Map::new();
    out.insert("apiVersion".into(), Value::String(api_version));
    out.insert("kind".into(), Value::String(kind));
    for (key, value) in fields {
        if key != "apiVersion" && key != "kind" {
            out.insert(key, value);
        }
    }
    Ok(Value::Object(out))
}

fn text(raw: Raw<'_>) -> Result<String, DecodeError> {
    match raw {
        Raw::Len(b) => String::from_utf8(b.to_vec()).map_err(|_| DecodeError::malformed("type meta is not UTF-8")),
        _ => Err(DecodeError::wire_type(raw)),
    }
}

#[cfg(test)]
mod tests;
