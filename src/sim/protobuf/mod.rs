//! Request bodies in Kubernetes protobuf (`application/vnd.kubernetes.protobuf`), turned into the
//! JSON the rest of the simulator works with.
//!
//! kubectl sends typed objects this way: `kubectl create configmap|namespace|deployment|service`
//! and the SelfSubjectAccessReview of `kubectl auth can-i`. The body is the `k8s\0` magic and a
//! `runtime.Unknown` envelope (typeMeta, raw) whose raw bytes are the object. Only the messages in
//! [`schema`] are known; a field the schema does not know is refused rather than dropped, unless
//! it holds only a zero value (gogo-protobuf writes every non-pointer field, zeros included).

mod schema;
#[cfg(test)]
mod tests;
mod wire;

use serde_json::{Map, Value, json};

use schema::{Field, Message, Ty};
use wire::{Reader, WireValue};

const MAGIC: &[u8] = b"k8s\x00";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("the body does not start with the Kubernetes protobuf magic number")]
    NoMagic,
    #[error("malformed protobuf: {0}")]
    Malformed(&'static str),
    #[error("the simulator does not decode {0} from protobuf; send it as application/json")]
    UnknownKind(String),
    #[error(
        "the simulator cannot decode field {field} of {message} from protobuf; send it as application/json"
    )]
    UnknownField { message: &'static str, field: u32 },
}

/// Decodes an enveloped protobuf object into its JSON form (with apiVersion and kind).
pub fn decode(body: &[u8]) -> Result<Value, ProtoError> {
    let rest = body.strip_prefix(MAGIC).ok_or(ProtoError::NoMagic)?;
    // runtime.Unknown: typeMeta = 1, raw = 2, contentEncoding = 3, contentType = 4.
    let mut reader = Reader::new(rest);
    let (mut type_meta, mut raw): (Value, &[u8]) = (json!({}), &[]);
    while let Some((number, value)) = reader.next_field()? {
        match (number, value) {
            (1, WireValue::Bytes(b)) => type_meta = decode_message(b, &schema::TYPE_META)?,
            (2, WireValue::Bytes(b)) => raw = b,
            (3 | 4, v) if v.is_zero() => {}
            (3 | 4, _) => return Err(ProtoError::Malformed("encoded or typed raw object")),
            _ => return Err(ProtoError::Malformed("unknown envelope field")),
        }
    }
    let text = |k: &str| {
        type_meta
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    let message = schema::for_kind(&api_version, &kind)
        .ok_or_else(|| ProtoError::UnknownKind(format!("{kind} ({api_version})")))?;
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(api_version));
    obj.insert("kind".into(), json!(kind));
    if let Value::Object(fields) = decode_message(raw, message)? {
        obj.extend(fields);
    }
    Ok(Value::Object(obj))
}

fn decode_message(bytes: &[u8], message: &'static Message) -> Result<Value, ProtoError> {
    let mut out = Map::new();
    let mut reader = Reader::new(bytes);
    while let Some((number, value)) = reader.next_field()? {
        let Some(field) = message.fields.iter().find(|f| f.number == number) else {
            if value.is_zero() {
                continue;
            }
            return Err(ProtoError::UnknownField {
                message: message.name,
                field: number,
            });
        };
        add_field(&mut out, field, value)?;
    }
    Ok(Value::Object(out))
}

fn add_field(
    out: &mut Map<String, Value>,
    field: &Field,
    value: WireValue,
) -> Result<(), ProtoError> {
    match field.ty {
        Ty::MapStr | Ty::MapBytes | Ty::MapQuantity => {
            let WireValue::Bytes(entry) = value else {
                return Err(ProtoError::Malformed("map entry"));
            };
            let (k, v) = map_entry(entry, field.ty)?;
            let map = out
                .entry(field.name)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = map {
                m.insert(k, v);
            }
            Ok(())
        }
        _ if field.repeated => {
            let v = scalar(field.ty, value, true)?.unwrap_or(Value::Null);
            let list = out.entry(field.name).or_insert_with(|| json!([]));
            if let Value::Array(a) = list {
                a.push(v);
            }
            Ok(())
        }
        _ => {
            if let Some(v) = scalar(field.ty, value, false)? {
                out.insert(field.name.to_string(), v);
            }
            Ok(())
        }
    }
}

fn map_entry(bytes: &[u8], ty: Ty) -> Result<(String, Value), ProtoError> {
    let mut reader = Reader::new(bytes);
    let (mut key, mut value) = (String::new(), None);
    while let Some((number, v)) = reader.next_field()? {
        match (number, v) {
            (1, WireValue::Bytes(b)) => key = utf8(b)?,
            (2, WireValue::Bytes(b)) => {
                value = Some(match ty {
                    Ty::MapStr => json!(utf8(b)?),
                    Ty::MapBytes => json!(base64(b)),
                    _ => quantity(b)?,
                });
            }
            _ => return Err(ProtoError::Malformed("map entry field")),
        }
    }
    let empty = match ty {
        Ty::MapQuantity => json!("0"),
        _ => json!(""),
    };
    Ok((key, value.unwrap_or(empty)))
}

/// Standard base64 with padding, as JSON carries `[]byte`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn utf8(b: &[u8]) -> Result<String, ProtoError> {
    String::from_utf8(b.to_vec()).map_err(|_| ProtoError::Malformed("string is not UTF-8"))
}

fn quantity(b: &[u8]) -> Result<Value, ProtoError> {
    let q = decode_message(b, &schema::QUANTITY)?;
    Ok(q.get("string").cloned().unwrap_or_else(|| json!("0")))
}

/// One field's JSON value; `None` for a zero value JSON would omit (unless `keep_zero`, for list
/// items, or the type is a pointer).
fn scalar(ty: Ty, value: WireValue, keep_zero: bool) -> Result<Option<Value>, ProtoError> {
    let v = match (ty, value) {
        (Ty::Str, WireValue::Bytes(b)) => {
            let s = utf8(b)?;
            if s.is_empty() && !keep_zero {
                return Ok(None);
            }
            json!(s)
        }
        (Ty::Int | Ty::IntPtr, WireValue::Varint(n)) => {
            let n = n as i64;
            if n == 0 && ty == Ty::Int && !keep_zero {
                return Ok(None);
            }
            // int32 fields carry negative numbers sign-extended to 64 bits.
            json!(n)
        }
        (Ty::Bool | Ty::BoolPtr, WireValue::Varint(n)) => {
            if n == 0 && ty == Ty::Bool && !keep_zero {
                return Ok(None);
            }
            json!(n != 0)
        }
        (Ty::Msg(m), WireValue::Bytes(b)) => decode_message(b, m)?,
        (Ty::Time, WireValue::Bytes(b)) => {
            let t = decode_message(b, &schema::TIME)?;
            let secs = t.get("seconds").and_then(Value::as_i64).unwrap_or(0);
            let nanos = t.get("nanos").and_then(Value::as_i64).unwrap_or(0);
            if secs == 0 && nanos == 0 {
                return Ok(None);
            }
            let ts = jiff::Timestamp::new(secs, nanos as i32)
                .map_err(|_| ProtoError::Malformed("time out of range"))?;
            json!(crate::sim::meta::format_time(ts))
        }
        (Ty::IntOrString, WireValue::Bytes(b)) => {
            let v = decode_message(b, &schema::INT_OR_STRING)?;
            if v.get("type").and_then(Value::as_i64) == Some(1) {
                v.get("strVal").cloned().unwrap_or_else(|| json!(""))
            } else {
                v.get("intVal").cloned().unwrap_or_else(|| json!(0))
            }
        }
        _ => return Err(ProtoError::Malformed("wire type does not match the field")),
    };
    Ok(Some(v))
}
