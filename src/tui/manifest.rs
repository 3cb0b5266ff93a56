//! What the detail pane shows of an object's JSON: its conditions as rows, and its manifest as
//! YAML with managedFields hidden and secret values redacted. Pure; every string is neutralised.

use serde_json::Value;

use super::text::{sanitize, sanitize_lines};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionRow {
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
    pub last_transition: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DetailContent {
    pub conditions: Vec<ConditionRow>,
    /// YAML lines, neutralised.
    pub manifest: Vec<String>,
}

/// Env var names whose inline values are treated as secrets.
const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "API_KEY",
    "APIKEY",
    "CREDENTIAL",
    "PRIVATE_KEY",
];

/// Whether an env var of this name holds a credential (its inline value is never shown).
pub fn is_secret_name(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| up.contains(w))
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

pub fn prepare(object: &Value) -> DetailContent {
    let conditions = object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|cs| cs.iter().map(condition).collect())
        .unwrap_or_default();
    let mut shown = object.clone();
    hide(&mut shown);
    let yaml = serde_yaml_ng::to_string(&shown)
        .unwrap_or_else(|e| format!("# cannot show the manifest as YAML: {e}"));
    let mut manifest = sanitize_lines(yaml.trim_end());
    if manifest.len() == 1 && manifest[0].is_empty() {
        manifest.clear();
    }
    DetailContent {
        conditions,
        manifest,
    }
}

fn field(v: &Value, name: &str) -> String {
    match v.get(name) {
        Some(Value::String(s)) => sanitize(s).into_owned(),
        Some(Value::Null) | None => String::new(),
        Some(other) => sanitize(&other.to_string()).into_owned(),
    }
}

fn condition(c: &Value) -> ConditionRow {
    ConditionRow {
        type_: field(c, "type"),
        status: field(c, "status"),
        reason: field(c, "reason"),
        message: field(c, "message"),
        last_transition: field(c, "lastTransitionTime"),
    }
}

/// Hides what an operator must not see or does not need: managedFields (noise), the
/// last-applied annotation (a full copy, possibly with secrets), Secret data, and inline values
/// of env vars named like credentials.
fn hide(object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut)
            && let Some(v) = ann.get_mut(LAST_APPLIED)
        {
            let len = v.as_str().map_or(0, str::len);
            *v = Value::String(format!("<hidden: {len} bytes>"));
        }
    }
    if object.get("kind").and_then(Value::as_str) == Some("Secret") {
        for key in ["data", "stringData"] {
            if let Some(map) = object.get_mut(key).and_then(Value::as_object_mut) {
                for v in map.values_mut() {
                    *v = Value::String("<redacted>".into());
                }
            }
        }
    }
    redact_env(object);
}

fn redact_env(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(env)) = map.get_mut("env") {
                for var in env.iter_mut() {
                    let secret = var
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(is_secret_name);
                    if secret && let Some(val) = var.get_mut("value") {
                        *val = Value::String("<redacted>".into());
                    }
                }
            }
            for child in map.values_mut() {
                redact_env(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_env),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hides_managed_fields_and_secrets() {
        let obj = json!({
            "kind": "Deployment",
            "metadata": {
                "name": "llama\u{1b}[2J",
                "managedFields": [{"manager": "kubectl"}],
                "annotations": {LAST_APPLIED: "{\"secret\":\"x\"}"}
            },
            "spec": {"template": {"spec": {"containers": [{
                "name": "c",
                "env": [
                    {"name": "HF_TOKEN", "value": "hf_abcdef"},
                    {"name": "MODEL", "value": "llama-3"}
                ]
            }]}}},
            "status": {"conditions": [{"type": "Available", "status": "False",
                "reason": "MinimumReplicasUnavailable", "message": "\u{9b}2J down"}]}
        });
        let d = prepare(&obj);
        let text = d.manifest.join("\n");
        assert!(!text.contains("managedFields"), "{text}");
        assert!(!text.contains("hf_abcdef"), "{text}");
        assert!(text.contains("llama-3"), "{text}");
        assert!(text.contains("<hidden: 14 bytes>"), "{text}");
        // YAML escapes control characters in quoted scalars itself; either way they are inert.
        assert!(text.contains(r#""llama\e[2J""#), "{text}");
        assert!(
            !d.manifest
                .iter()
                .any(|l| super::super::text::has_controls(l)),
            "{text}"
        );
        assert_eq!(d.conditions[0].type_, "Available");
        assert_eq!(d.conditions[0].message, "<U+009B>2J down");
        let secret = json!({"kind": "Secret", "data": {"token": "c2VjcmV0"}});
        assert!(!prepare(&secret).manifest.join("\n").contains("c2VjcmV0"));
    }
}
