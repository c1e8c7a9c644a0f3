//! Protobuf message bytes to JSON, driven by the generated field table: field names, arrays,
//! maps, embedded structs, Go's `omitempty` zero values, and the messages with their own JSON
//! forms (times, quantities, int-or-strings, raw JSON).

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use crate::DecodeError;
use crate::go;
use crate::schema::{self, Card, Field, INLINE, KEEP_ZERO, Message, REQUIRED, Special, Ty};
use crate::wire::{Raw, Reader};

/// Deeper nesting than this is refused (JSON schemas nest, but not this far).
const MAX_DEPTH: usize = 200;

/// The JSON of message `index` encoded in `data`.
pub(crate) fn message(index: u16, data: &[u8], depth: usize) -> Result<Value, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::malformed("nested too deeply"));
    }
    let msg = schema::message(index);
    match msg.special {
        Special::None => object(msg, data, depth).map(Value::Object),
        special => self::special(msg, special, data, depth),
    }
}

fn object(msg: &Message, data: &[u8], depth: usize) -> Result<Map<String, Value>, DecodeError> {
    let mut out = Map::new();
    let mut reader = Reader::new(data);
    while let Some((tag, raw)) = reader.next()? {
        // Unknown fields are skipped, as protobuf does.
        if let Some(field) = msg.field(tag) {
            place(&mut out, field, raw, depth).map_err(|e| e.within(field.name))?;
        }
    }
    Ok(out)
}

/// Puts one occurrence of `field` into `out`.
fn place(out: &mut Map<String, Value>, field: &Field, raw: Raw<'_>, depth: usize) -> Result<(), DecodeError> {
    match field.card {
        Card::Optional => {
            let value = value(field.ty, raw, depth)?;
            if let Ty::Message(_) = field.ty {
                match (out.get_mut(field.name), value) {
                    // An embedded Go struct: its fields are the parent's.
                    (_, Value::Object(fields)) if field.flags & INLINE != 0 => merge(out, fields),
                    // A message seen twice merges, as protobuf does.
                    (Some(Value::Object(old)), Value::Object(new)) => merge(old, new),
                    (_, value) => {
                        out.insert(field.name.into(), value);
                    }
                }
            } else if is_zero(&value) && field.flags & (REQUIRED | KEEP_ZERO) == 0 {
                // Go writes every non-pointer field; JSON leaves out omitempty zeros.
                out.remove(field.name);
            } else {
                out.insert(field.name.into(), value);
            }
        }
        Card::Repeated => {
            let mut items = Vec::new();
            match (field.ty, raw) {
                (Ty::Bool | Ty::Int32 | Ty::Int64, Raw::Len(bytes)) => {
                    let mut packed = Reader::new(bytes);
                    while !packed.is_empty() {
                        items.push(value(field.ty, Raw::Varint(packed.varint()?), depth)?);
                    }
                }
                (Ty::Double, Raw::Len(bytes)) => {
                    if bytes.len() % 8 != 0 {
                        return Err(DecodeError::malformed("packed doubles"));
                    }
                    for chunk in bytes.chunks_exact(8) {
                        let mut le = [0u8; 8];
                        le.copy_from_slice(chunk);
                        items.push(value(field.ty, Raw::Fixed64(u64::from_le_bytes(le)), depth)?);
                    }
                }
                _ => items.push(value(field.ty, raw, depth)?),
            }
            match out.get_mut(field.name) {
                Some(Value::Array(old)) => old.extend(items),
                _ => {
                    out.insert(field.name.into(), Value::Array(items));
                }
            }
        }
        Card::Map => {
            let Raw::Len(entry) = raw else {
                return Err(DecodeError::wire_type(raw));
            };
            let (key, value) = map_entry(field.ty, entry, depth)?;
            match out.get_mut(field.name) {
                Some(Value::Object(old)) => {
                    old.insert(key, value);
                }
                _ => {
                    out.insert(field.name.into(), Value::Object(Map::from_iter([(key, value)])));
                }
            }
        }
    }
    Ok(())
}

fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(old)), Value::Object(new)) => merge(old, new),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// A map entry: key = 1 (string), value = 2; a missing value is the type's zero.
fn map_entry(ty: Ty, entry: &[u8], depth: usize) -> Result<(String, Value), DecodeError> {
    let mut key = String::new();
    let mut val = None;
    let mut reader = Reader::new(entry);
    while let Some((tag, raw)) = reader.next()? {
        match tag {
            1 => key = string(raw)?,
            2 => val = Some(value(ty, raw, depth).map_err(|e| e.within(&key))?),
            _ => {}
        }
    }
    let val = match val {
        Some(v) => v,
        None => zero(ty, depth)?,
    };
    Ok((key, val))
}

/// One value of type `ty`.
fn value(ty: Ty, raw: Raw<'_>, depth: usize) -> Result<Value, DecodeError> {
    Ok(match (ty, raw) {
        (Ty::String, _) => Value::String(string(raw)?),
        (Ty::Bytes, Raw::Len(b)) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        (Ty::Bool, Raw::Varint(v)) => Value::Bool(v != 0),
        // int32 travels as a sign-extended 64-bit varint.
        (Ty::Int32, Raw::Varint(v)) => Value::from(v as i32),
        (Ty::Int64, Raw::Varint(v)) => Value::from(v as i64),
        (Ty::Double, Raw::Fixed64(v)) => Number::from_f64(f64::from_bits(v))
            .map(Value::Number)
            .ok_or_else(|| DecodeError::malformed("a double that is not a finite number"))?,
        (Ty::Message(index), Raw::Len(b)) => message(index, b, depth + 1)?,
        _ => return Err(DecodeError::wire_type(raw)),
    })
}

/// The zero value of `ty` (a map entry without its value).
fn zero(ty: Ty, depth: usize) -> Result<Value, DecodeError> {
    Ok(match ty {
        Ty::String | Ty::Bytes => Value::String(String::new()),
        Ty::Bool => Value::Bool(false),
        Ty::Int32 | Ty::Int64 => Value::from(0),
        Ty::Double => Value::from(0.0),
        Ty::Message(index) => message(index, &[], depth + 1)?,
    })
}

fn string(raw: Raw<'_>) -> Result<String, DecodeError> {
    match raw {
        Raw::Len(b) => {
            std::str::from_utf8(b).map(str::to_owned).map_err(|_| DecodeError::malformed("a string that is not UTF-8"))
        }
        _ => Err(DecodeError::wire_type(raw)),
    }
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

/// The messages with a JSON form of their own.
fn special(msg: &Message, special: Special, data: &[u8], depth: usize) -> Result<Value, DecodeError> {
    let mut fields = Vec::new();
    let mut reader = Reader::new(data);
    while let Some(field) = reader.next()? {
        fields.push(field);
    }
    let last = |tag: u32| fields.iter().rev().find(|(t, _)| *t == tag).map(|&(_, raw)| raw);
    let all = |tag: u32| fields.iter().filter(move |(t, _)| *t == tag).map(|&(_, raw)| raw);
    let int = |tag: u32| match last(tag) {
        None => Ok(0),
        Some(Raw::Varint(v)) => Ok(v as i64),
        Some(raw) => Err(DecodeError::wire_type(raw)),
    };
    let sub = |tag: u32, raw: Raw<'_>| match msg.field(tag) {
        Some(field) => value(field.ty, raw, depth),
        None => Err(DecodeError::malformed(&format!("{} has no field {tag}", msg.name))),
    };
    let time = |seconds: i64, micros: Option<u32>| {
        go::rfc3339(seconds, micros)
            .map(Value::String)
            .ok_or_else(|| DecodeError::malformed("a time outside years 0-9999"))
    };
    Ok(match special {
        Special::None => Value::Object(object(msg, data, depth)?),
        // Go's protobuf Time keeps seconds only; an empty message is the zero time.
        Special::Time => match int(1)? {
            _ if data.is_empty() => Value::Null,
            go::ZERO_TIME => Value::Null,
            seconds => time(seconds, None)?,
        },
        Special::MicroTime => {
            let nanos = i128::from(int(1)?) * 1_000_000_000 + i128::from(int(2)? as i32);
            let seconds = i64::try_from(nanos.div_euclid(1_000_000_000))
                .map_err(|_| DecodeError::malformed("a time outside years 0-9999"))?;
            let micros = (nanos.rem_euclid(1_000_000_000) / 1000) as u32;
            if data.is_empty() || (seconds == go::ZERO_TIME && micros == 0) {
                Value::Null
            } else {
                time(seconds, Some(micros))?
            }
        }
        Special::Duration => Value::String(go::duration(int(1)?)),
        Special::Quantity => match last(1) {
            Some(raw) => Value::String(string(raw)?),
            None => Value::String("0".into()),
        },
        Special::IntOrString => match int(1)? {
            1 => Value::String(last(3).map(string).transpose()?.unwrap_or_default()),
            _ => Value::from(int(2)? as i32),
        },
        Special::RawJson => match last(1) {
            Some(Raw::Len(raw)) if !raw.is_empty() => raw_json(raw, depth)?,
            Some(raw @ (Raw::Varint(_) | Raw::Fixed32 | Raw::Fixed64(_))) => {
                return Err(DecodeError::wire_type(raw));
            }
            _ => Value::Null,
        },
        Special::Items => Value::Array(all(1).map(|raw| string(raw).map(Value::String)).collect::<Result<_, _>>()?),
        Special::SchemaOrArray => {
            let schemas: Vec<Value> = all(2).map(|raw| sub(2, raw)).collect::<Result<_, _>>()?;
            match last(1) {
                _ if !schemas.is_empty() => Value::Array(schemas),
                Some(raw) => sub(1, raw)?,
                None => Value::Null,
            }
        }
        Special::SchemaOrBool => match last(2) {
            Some(raw) => sub(2, raw)?,
            None => Value::Bool(int(1)? != 0),
        },
        Special::SchemaOrStringArray => {
            let strings: Vec<Value> = all(2).map(|raw| string(raw).map(Value::String)).collect::<Result<_, _>>()?;
            match last(1) {
                _ if !strings.is_empty() => Value::Array(strings),
                Some(raw) => sub(1, raw)?,
                None => Value::Null,
            }
        }
    })
}

/// Raw bytes of an embedded object: JSON, or itself a Kubernetes protobuf body.
fn raw_json(raw: &[u8], depth: usize) -> Result<Value, DecodeError> {
    if raw.starts_with(crate::MAGIC) {
        return crate::decode_at(raw, depth + 1);
    }
    serde_json::from_slice(raw).map_err(|e| DecodeError::malformed(&format!("embedded JSON: {e}")))
}
