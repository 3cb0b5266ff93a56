//! RFC 6902 JSON patch with the semantics of the library the apiserver uses
//! (`evanphx/json-patch` v4): a `test` against `null` passes when the key is absent (its parent
//! must exist), negative array indices count from the end, the root path is not addressable.
//! Operations run on a copy; any failure leaves the target untouched.

use serde_json::Value;

use super::{PatchError, json_eq};

/// Applies a JSON patch (an array of operations) to `target`.
///
/// Body shape problems (not an array, an element that is not an object) are
/// [`PatchError::Malformed`] (400); failing operations are [`PatchError::JsonPatchFailed`] (422).
pub fn json_patch(target: &Value, ops: &Value) -> Result<Value, PatchError> {
    let Value::Array(list) = ops else {
        return Err(PatchError::Malformed(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
            go_json_type(ops)
        )));
    };
    if let Some(bad) = list.iter().find(|op| !op.is_object()) {
        return Err(PatchError::Malformed(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
            go_json_type(bad)
        )));
    }
    let mut doc = target.clone();
    for op in list {
        apply_op(&mut doc, op).map_err(PatchError::JsonPatchFailed)?;
    }
    Ok(doc)
}

fn go_json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn str_field<'a>(op: &'a Value, name: &str) -> Option<&'a str> {
    op.get(name).and_then(Value::as_str)
}

fn apply_op(doc: &mut Value, op: &Value) -> Result<(), String> {
    let kind = str_field(op, "op").unwrap_or("unknown");
    let value = op.get("value").cloned().unwrap_or(Value::Null);
    let path =
        || str_field(op, "path").ok_or_else(|| format!("{kind} operation failed to decode path"));
    let from =
        || str_field(op, "from").ok_or_else(|| format!("{kind} operation failed to decode from"));
    match kind {
        "add" => add(doc, path()?, value),
        "remove" => remove(doc, path()?).map(|_| ()),
        "replace" => replace(doc, path()?, value),
        "move" => {
            let (from, path) = (from()?, path()?);
            let v = remove(doc, from).map_err(|e| {
                format!("move operation does not apply: doc is missing from path: {from}: {e}")
            })?;
            add(doc, path, v)
        }
        "copy" => {
            let (from, path) = (from()?, path()?);
            let v = get(doc, from).cloned().ok_or_else(|| {
                format!("copy operation does not apply: doc is missing from path: {from}")
            })?;
            add(doc, path, v)
        }
        "test" => test(doc, path()?, &value),
        other => Err(format!("Unexpected kind: {other}")),
    }
}

/// Splits a JSON pointer into its unescaped tokens; the root ("") has none.
fn tokens(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("invalid JSON pointer: {path:?}"));
    };
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

/// Index into an array of `len` for reading (`0..len`, negatives from the end).
fn read_index(token: &str, len: usize) -> Option<usize> {
    let i: i64 = token.parse().ok()?;
    let len = i64::try_from(len).ok()?;
    let i = if i < 0 { i + len } else { i };
    (0..len)
        .contains(&i)
        .then(|| usize::try_from(i).ok())
        .flatten()
}

/// Index into an array of `len` for insertion (`0..=len`, `-` appends, negatives from the end).
fn insert_index(token: &str, len: usize) -> Option<usize> {
    if token == "-" {
        return Some(len);
    }
    let i: i64 = token.parse().ok()?;
    let size = i64::try_from(len).ok()? + 1;
    let i = if i < 0 { i + size } else { i };
    (0..size)
        .contains(&i)
        .then(|| usize::try_from(i).ok())
        .flatten()
}

fn child_mut<'a>(v: &'a mut Value, token: &str) -> Option<&'a mut Value> {
    match v {
        Value::Object(m) => m.get_mut(token),
        Value::Array(a) => {
            let i = read_index(token, a.len())?;
            a.get_mut(i)
        }
        _ => None,
    }
}

fn child<'a>(v: &'a Value, token: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m.get(token),
        Value::Array(a) => a.get(read_index(token, a.len())?),
        _ => None,
    }
}

/// The container holding the last token, and that token. `None` for the root or a missing path.
fn parent_mut<'a>(doc: &'a mut Value, path: &str) -> Result<(&'a mut Value, String), String> {
    let mut toks = tokens(path)?;
    let last = toks
        .pop()
        .ok_or_else(|| "the root of the document cannot be patched".to_string())?;
    let mut cur = doc;
    for t in &toks {
        cur = child_mut(cur, t).ok_or_else(|| format!("doc is missing path: {path:?}"))?;
    }
    Ok((cur, last))
}

fn get<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let toks = tokens(path).ok()?;
    if toks.is_empty() {
        return None;
    }
    let mut cur = doc;
    for t in &toks {
        cur = child(cur, t)?;
    }
    Some(cur)
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let (parent, key) =
        parent_mut(doc, path).map_err(|e| format!("add operation does not apply: {e}"))?;
    match parent {
        Value::Object(m) => {
            m.insert(key, value);
            Ok(())
        }
        Value::Array(a) => {
            let i = insert_index(&key, a.len())
                .ok_or_else(|| format!("Unable to access invalid index: {key}"))?;
            a.insert(i, value);
            Ok(())
        }
        _ => Err(format!(
            "add operation does not apply: doc is missing path: {path:?}"
        )),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, key) =
        parent_mut(doc, path).map_err(|e| format!("remove operation does not apply: {e}"))?;
    match parent {
        Value::Object(m) => m
            .remove(&key)
            .ok_or_else(|| format!("Unable to remove nonexistent key: {key}: missing value")),
        Value::Array(a) => {
            let i = read_index(&key, a.len())
                .ok_or_else(|| format!("Unable to access invalid index: {key}"))?;
            Ok(a.remove(i))
        }
        _ => Err(format!(
            "remove operation does not apply: doc is missing path: {path:?}"
        )),
    }
}

fn replace(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let (parent, key) =
        parent_mut(doc, path).map_err(|e| format!("replace operation does not apply: {e}"))?;
    let slot = child_mut(parent, &key)
        .ok_or_else(|| format!("replace operation does not apply: doc is missing key: {path}"))?;
    *slot = value;
    Ok(())
}

fn test(doc: &mut Value, path: &str, expected: &Value) -> Result<(), String> {
    let (parent, key) =
        parent_mut(doc, path).map_err(|e| format!("test operation does not apply: {e}"))?;
    let found = match parent {
        Value::Object(m) => m.get(&key),
        Value::Array(a) => Some(
            read_index(&key, a.len())
                .and_then(|i| a.get(i))
                .ok_or_else(|| format!("error in test for path: '{path}'"))?,
        ),
        _ => return Err(format!("test operation does not apply: is nil: {path}")),
    };
    let ok = match found {
        // Absent key: only a null expectation passes (the quirk kube-runtime relies on).
        None => expected.is_null(),
        Some(v) => json_eq(v, expected),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("testing value {path} failed: test failed"))
    }
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
