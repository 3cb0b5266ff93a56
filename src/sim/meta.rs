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
    object_field_mut(obj, "metadata")
}

/// The map at `obj[key]` (`spec`, `status`, ...), created if missing, for writing fields into.
///
/// Stored objects come from clients, so a field the code expects to be an object may hold any
/// JSON (`"status": 5` written to `/status`, `"spec": []` on a Service). `value["k"] = v` would
/// panic on those; this replaces such a value with an empty object instead (as the apiserver's
/// typed decoding would never have kept it), and does the same for a non-object `obj`.
pub fn object_field_mut<'a>(obj: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    let field = object_mut(obj).entry(key).or_insert_with(|| json!({}));
    if !field.is_object() {
        *field = json!({});
    }
    field.as_object_mut().expect("object ensured above")
}

/// `obj[key] = value`, without the panic of `IndexMut` when `obj` is not an object (it is
/// replaced by one, as in [`object_field_mut`]).
pub fn set_field(obj: &mut Value, key: &str, value: Value) {
    object_mut(obj).insert(key.to_string(), value);
}

/// `obj` as a map; a non-object is replaced by an empty object first.
pub fn object_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    obj.as_object_mut().expect("object ensured above")
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

    /// `value["key"] = v` panics when `value` holds a non-object, and what the controllers, the
    /// store and the REST handlers work on came from clients (sim_fuzz found a kubelet panic on
    /// a pod whose `/status` was `5`). There, fields are written with [`set_field`],
    /// [`object_field_mut`] or `as_object_mut()`; this keeps `IndexMut` with a literal key out.
    #[test]
    fn code_handling_stored_objects_does_not_write_through_index_mut() {
        use std::path::{Path, PathBuf};
        fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                if p.is_dir() {
                    if name != "tests" {
                        sources(&p, out);
                    }
                } else if name.ends_with(".rs") && !name.ends_with("tests.rs") {
                    out.push(p);
                }
            }
        }
        let sim = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sim");
        let mut files = vec![sim.join("http/rest.rs")];
        for dir in ["controllers", "store", "http/rest"] {
            sources(&sim.join(dir), &mut files);
        }
        let mut found = Vec::new();
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            for (i, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("#[cfg(test)]") {
                    break;
                }
                let code = line.split("//").next().unwrap_or("");
                let assigns = code.match_indices("\"]").any(|(at, _)| {
                    let rest = code[at + 2..].trim_start();
                    rest.starts_with('=') && !rest.starts_with("==") && !rest.starts_with("=>")
                });
                if assigns {
                    found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
                }
            }
        }
        assert!(files.len() > 10, "the scan reads the sources: {files:?}");
        assert!(
            found.is_empty(),
            "`value[\"key\"] = ...` panics on a non-object; use meta::set_field, \
             meta::object_field_mut or as_object_mut():\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn field_writers_replace_non_objects() {
        let mut o = json!({"spec": 5, "status": [1]});
        object_field_mut(&mut o, "spec").insert("replicas".into(), json!(2));
        set_field(&mut o, "x", json!(1));
        assert_eq!(o, json!({"spec": {"replicas": 2}, "status": [1], "x": 1}));
        let mut s = json!("scalar");
        set_field(&mut s, "phase", json!("Terminating"));
        assert_eq!(s, json!({"phase": "Terminating"}));
    }
}
