//! Small accessors for `metadata` fields of objects held as JSON, and the timestamp formats the
//! API uses.

use serde_json::{Map, Value, json};

pub fn name(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn namespace(obj: &Value) -> &str {
    obj.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn uid(obj: &Value) -> &str {
    obj.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn resource_version(obj: &Value) -> &str {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn labels(obj: &Value) -> Option<&Map<String, Value>> {
    obj.pointer("/metadata/labels").and_then(Value::as_object)
}

pub fn label<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    labels(obj).and_then(|l| l.get(key)).and_then(Value::as_str)
}

pub fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

pub fn finalizers(obj: &Value) -> Vec<String> {
    string_list(obj, "/metadata/finalizers")
}

/// The strings of the array at `pointer` (non-strings skipped; empty when absent).
pub fn string_list(obj: &Value, pointer: &str) -> Vec<String> {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn deletion_timestamp(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
}

pub fn is_terminating(obj: &Value) -> bool {
    deletion_timestamp(obj).is_some()
}

pub fn owner_references(obj: &Value) -> &[Value] {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The `metadata` map of an object, created if missing. Objects handed to the store are always
/// JSON objects (checked at the edge), so a non-object is replaced rather than trusted.
pub fn metadata_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    let map = obj.as_object_mut().expect("object ensured above");
    let md = map.entry("metadata").or_insert_with(|| json!({}));
    if !md.is_object() {
        *md = json!({});
    }
    md.as_object_mut().expect("object ensured above")
}

pub fn set_finalizers(obj: &mut Value, finalizers: &[String]) {
    let md = metadata_mut(obj);
    if finalizers.is_empty() {
        md.remove("finalizers");
    } else {
        md.insert("finalizers".into(), json!(finalizers));
    }
}

/// Drops metadata fields that are null or empty (`finalizers: []`, `labels: {}`,
/// `generateName: ""`, ...). Every `ObjectMeta` field is `omitempty` in Go, so the apiserver never
/// stores or returns them: a client that writes `finalizers: []` reads the field back as absent,
/// and a JSON-patch `test` of `/metadata/finalizers` against `null` passes.
pub fn drop_empty_metadata(obj: &mut Value) {
    let Some(md) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    md.retain(|_, v| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    });
}

/// RFC 3339 with seconds precision, as `metav1.Time` serialises.
pub fn format_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// RFC 3339 with six fractional digits, as `metav1.MicroTime` serialises.
pub fn format_micro_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
}

pub fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

pub fn parse_time(s: &str) -> Option<jiff::Timestamp> {
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats_match_metav1() {
        let t: jiff::Timestamp = "2026-11-26T05:46:32.123456789Z".parse().unwrap();
        assert_eq!(format_time(t), "2026-11-26T05:46:32Z");
        assert_eq!(format_micro_time(t), "2026-11-26T05:46:32.123456Z");
    }

    #[test]
    fn accessors_tolerate_missing_fields() {
        let o = json!({"metadata": {"name": "a", "finalizers": ["x", 3]}});
        assert_eq!(name(&o), "a");
        assert_eq!(namespace(&o), "");
        assert_eq!(finalizers(&o), vec!["x".to_string()]);
        assert!(!is_terminating(&o));
        let mut e = json!({"metadata": {"name": "a", "finalizers": [], "labels": {},
            "annotations": null, "generateName": "", "generation": 0, "ownerReferences": []}});
        drop_empty_metadata(&mut e);
        assert_eq!(e, json!({"metadata": {"name": "a", "generation": 0}}));
        let mut v = json!(5);
        metadata_mut(&mut v).insert("name".into(), json!("b"));
        assert_eq!(name(&v), "b");
    }
}
