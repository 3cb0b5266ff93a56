//! Kubernetes strategic merge patch for the built-in kinds (custom resources reject it with 415
//! before getting here).
//!
//! Maps merge like a merge patch (`null` deletes). Lists follow [`list_strategy`]: keyed lists
//! merge element-wise by their merge key (new elements are appended), `metadata.finalizers` is a
//! set (union; `[]` removes nothing, `null` removes the field), other lists are replaced.
//! Directives: `$patch: replace` / `$patch: delete` on maps (replace the map / leave it empty) and
//! on keyed-list elements (replace the whole list / delete the element with that key),
//! `$retainKeys`, `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>` (elements named
//! there are put in that order; others keep their positions).

use serde_json::{Map, Value};

use super::keys::{ListStrategy, list_strategy};
use super::{PatchError, json_eq};

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE: &str = "$deleteFromPrimitiveList/";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";

/// Applies a strategic merge patch (a JSON object) to `target`.
pub fn strategic_merge_patch(target: &Value, patch: &Value) -> Result<Value, PatchError> {
    let Value::Object(patch) = patch else {
        return Err(PatchError::Malformed(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            type_name(patch)
        )));
    };
    let original = match target {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    merge_map(original, patch, "").map(Value::Object)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn bad(msg: String) -> PatchError {
    PatchError::InvalidStrategic(msg)
}

/// Merges `patch` into `original`, a map stored under the field `field` (for list elements, the
/// list's field name).
fn merge_map(
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
    field: &str,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(directive) = patch.get(PATCH) {
        return match directive.as_str() {
            Some("replace") => {
                let mut clean = patch.clone();
                clean.remove(PATCH);
                merge_map(Map::new(), &clean, field)
            }
            Some("delete") => Ok(Map::new()),
            _ => Err(bad(format!(
                "Unknown patch type: {directive} in map: {}",
                Value::Object(patch.clone())
            ))),
        };
    }

    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let Some(keys) = retain
            .as_array()
            .and_then(|a| a.iter().map(Value::as_str).collect::<Option<Vec<&str>>>())
        else {
            return Err(bad("invalid patch format of retainKeys".to_string()));
        };
        for k in patch.keys() {
            if !k.starts_with('$') && !keys.contains(&k.as_str()) {
                return Err(PatchError::RetainKeysMismatch(
                    "patch content doesn't match retainKeys list".to_string(),
                ));
            }
        }
        original.retain(|k, _| keys.contains(&k.as_str()));
    }

    // Deletions from primitive lists apply to the original before anything merges into it.
    let mut orders: Vec<(&str, &Vec<Value>)> = Vec::new();
    for (k, v) in patch {
        if let Some(list_field) = k.strip_prefix(DELETE_FROM_PRIMITIVE) {
            let Some(doomed) = v.as_array() else {
                return Err(bad("invalid patch format of primitive list".to_string()));
            };
            if let Some(Value::Array(items)) = original.get_mut(list_field) {
                items.retain(|item| !doomed.iter().any(|d| json_eq(d, item)));
            }
        } else if let Some(list_field) = k.strip_prefix(SET_ELEMENT_ORDER) {
            let Some(order) = v.as_array() else {
                return Err(bad(
                    "invalid patch format of setElementOrder list".to_string()
                ));
            };
            orders.push((list_field, order));
        }
    }

    for (k, pv) in patch {
        if k == RETAIN_KEYS
            || k.starts_with(DELETE_FROM_PRIMITIVE)
            || k.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        if pv.is_null() {
            original.remove(k);
            continue;
        }
        let ov = original.remove(k);
        let merged = match pv {
            Value::Object(pm) => {
                let base = match ov {
                    Some(Value::Object(om)) => om,
                    _ => Map::new(),
                };
                Value::Object(merge_map(base, pm, k)?)
            }
            Value::Array(items) => merge_list(ov, items, k, field)?,
            scalar => scalar.clone(),
        };
        original.insert(k.clone(), merged);
    }

    for (list_field, order) in orders {
        let strategy = list_strategy(list_field, field);
        if let Some(Value::Array(items)) = original.get_mut(list_field) {
            apply_order(items, order, strategy);
        }
    }
    Ok(original)
}

/// Merges the patch list `patch` for the list field `field` (in a map under `parent`).
fn merge_list(
    original: Option<Value>,
    patch: &[Value],
    field: &str,
    parent: &str,
) -> Result<Value, PatchError> {
    let original = match original {
        Some(Value::Array(a)) => Some(a),
        _ => None,
    };
    let strategy = match list_strategy(field, parent) {
        // A keyed list patched with scalars merges like a set, as the apiserver does.
        ListStrategy::MergeKey(_) if patch.first().is_some_and(|v| !v.is_object()) => {
            ListStrategy::Set
        }
        s => s,
    };
    match strategy {
        ListStrategy::Replace => Ok(Value::Array(clean_list(patch, field)?)),
        ListStrategy::Set => {
            let mut out: Vec<Value> = Vec::new();
            for v in original.iter().flatten().chain(patch) {
                if !out.iter().any(|o| json_eq(o, v)) {
                    out.push(v.clone());
                }
            }
            Ok(Value::Array(out))
        }
        ListStrategy::MergeKey(key) => merge_keyed(original.unwrap_or_default(), patch, field, key),
    }
}

/// Removes directives from the maps of a replaced list.
fn clean_list(items: &[Value], field: &str) -> Result<Vec<Value>, PatchError> {
    items
        .iter()
        .filter(|v| !is_bare_directive(v))
        .map(|v| match v {
            Value::Object(m) => merge_map(Map::new(), m, field).map(Value::Object),
            other => Ok(other.clone()),
        })
        .collect()
}

/// An element that is nothing but a `$patch` directive.
fn is_bare_directive(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|m| m.len() == 1 && m.contains_key(PATCH))
}

fn merge_keyed(
    mut original: Vec<Value>,
    patch: &[Value],
    field: &str,
    key: &str,
) -> Result<Value, PatchError> {
    let mut plain: Vec<&Map<String, Value>> = Vec::new();
    let mut replace = false;
    for v in patch {
        let Value::Object(m) = v else {
            return Err(bad(format!(
                "list {field} mixes objects and other values; every element needs the merge key {key}"
            )));
        };
        match m.get(PATCH) {
            None => plain.push(m),
            Some(d) => match d.as_str() {
                Some("delete") => {
                    let Some(kv) = m.get(key) else {
                        return Err(no_merge_key(m, key));
                    };
                    original.retain(|o| !o.get(key).is_some_and(|ok| json_eq(ok, kv)));
                }
                Some("replace") => replace = true,
                Some("merge") => {
                    return Err(bad(
                        "merging lists cannot yet be specified in the patch".to_string()
                    ));
                }
                _ => {
                    return Err(bad(format!(
                        "Unknown patch type: {d} in map: {}",
                        Value::Object(m.clone())
                    )));
                }
            },
        }
    }
    if replace {
        let items = plain
            .into_iter()
            .map(|m| merge_map(Map::new(), m, field).map(Value::Object))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Value::Array(items));
    }
    for m in plain {
        let Some(kv) = m.get(key) else {
            return Err(no_merge_key(m, key));
        };
        let found = original
            .iter()
            .position(|o| o.get(key).is_some_and(|ok| json_eq(ok, kv)));
        match found {
            Some(i) => {
                let base = match original.get_mut(i).map(Value::take) {
                    Some(Value::Object(om)) => om,
                    _ => Map::new(),
                };
                let merged = Value::Object(merge_map(base, m, field)?);
                if let Some(slot) = original.get_mut(i) {
                    *slot = merged;
                }
            }
            None => original.push(Value::Object(merge_map(Map::new(), m, field)?)),
        }
    }
    Ok(Value::Array(original))
}

fn no_merge_key(m: &Map<String, Value>, key: &str) -> PatchError {
    bad(format!(
        "map: {} does not contain declared merge key: {key}",
        Value::Object(m.clone())
    ))
}

/// Reorders the elements named in `order` (by value, or by merge key for keyed lists) into that
/// order, within the positions they already occupy; unnamed elements stay put.
fn apply_order(items: &mut [Value], order: &[Value], strategy: ListStrategy) {
    let rank = |item: &Value| -> Option<usize> {
        order.iter().position(|o| match strategy {
            ListStrategy::MergeKey(key) => match (o.get(key), item.get(key)) {
                (Some(a), Some(b)) => json_eq(a, b),
                _ => false,
            },
            _ => json_eq(o, item),
        })
    };
    let mut slots: Vec<usize> = Vec::new();
    let mut named: Vec<(usize, Value)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(r) = rank(item) {
            slots.push(i);
            named.push((r, item.clone()));
        }
    }
    named.sort_by_key(|(r, _)| *r);
    for (slot, (_, v)) in slots.into_iter().zip(named) {
        if let Some(dst) = items.get_mut(slot) {
            *dst = v;
        }
    }
}

#[cfg(test)]
#[path = "strategic_tests.rs"]
mod tests;
