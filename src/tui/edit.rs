//! `e`: edit the endpoint's spec in `$EDITOR`, then redeploy it. The loop fetches the root object
//! (`Msg::EditSource`); here it becomes editable YAML (generated fields dropped), the loop runs
//! the editor (`Effect::RunEditor`, `Msg::EditorDone`), and the result is parsed: empty or
//! unchanged aborts, a mistake is named by line and column, anything else opens the redeploy
//! confirmation with the changes listed.

use std::collections::HashSet;

use serde_json::Value;

use crate::cluster::model::EndpointKey;
use crate::orchestrator::manifest;
use crate::orchestrator::progress::OpKind;

use super::app::{App, Level};
use super::confirm::Confirm;
use super::msg::Effect;
use super::text::sanitize;

/// Between `e` and the editor's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct EditSession {
    pub endpoint: EndpointKey,
    /// The object as offered for editing (generated fields dropped); None while it is fetched.
    pub original: Option<Value>,
}

/// `e` on the selected endpoint: ask the loop for its root object.
pub(crate) fn start(app: &mut App, endpoint: EndpointKey, fx: &mut Vec<Effect>) {
    app.say(
        Level::Info,
        format!("edit {}: fetching its spec…", label(&endpoint)),
    );
    app.edit = Some(EditSession {
        endpoint: endpoint.clone(),
        original: None,
    });
    fx.push(Effect::PrepareEdit { endpoint });
}

fn label(key: &EndpointKey) -> String {
    format!("{}/{}", sanitize(&key.namespace), sanitize(&key.name))
}

pub(crate) fn on_source(
    app: &mut App,
    endpoint: EndpointKey,
    object: Option<Value>,
    fx: &mut Vec<Effect>,
) {
    // Only the answer to this console's own `e`, and never in read-only mode.
    let asked = app
        .edit
        .as_ref()
        .is_some_and(|e| e.endpoint == endpoint && e.original.is_none());
    if app.readonly() || !asked {
        return;
    }
    let Some(object) = object else {
        app.edit = None;
        let text = format!(
            "edit {}: its root object is not in the console's view (yet); nothing to edit",
            label(&endpoint)
        );
        app.say(Level::Error, text);
        return;
    };
    let original = manifest::sanitize(&object, &HashSet::new());
    let yaml = manifest::to_editable_yaml(&original);
    app.edit = Some(EditSession {
        endpoint: endpoint.clone(),
        original: Some(original),
    });
    fx.push(Effect::RunEditor { endpoint, yaml });
}

pub(crate) fn on_editor_done(app: &mut App, endpoint: EndpointKey, result: Result<String, String>) {
    let Some(original) = app
        .edit
        .take_if(|e| e.endpoint == endpoint && e.original.is_some())
        .and_then(|e| e.original)
    else {
        return;
    };
    let who = label(&endpoint);
    let text = match result {
        Ok(t) => t,
        Err(e) => {
            app.say(Level::Error, format!("edit {who}: {}", sanitize(&e)));
            return;
        }
    };
    let edited = match manifest::parse_edited(&text, &original) {
        Ok(v) => v,
        Err(e) if e.is_abort() => {
            app.say(Level::Info, format!("edit {who}: {e}"));
            return;
        }
        Err(e) => {
            app.say(Level::Error, format!("edit {who}: not redeployed: {e}"));
            return;
        }
    };
    if app.readonly() {
        return;
    }
    let mut c = Confirm::new(OpKind::Redeploy, endpoint, None);
    let (before, after) = redacted_pair(&original, &edited);
    c.diff = manifest::diff(&before, &after)
        .iter()
        .map(ToString::to_string)
        .collect();
    c.edited = Some(edited);
    let text = format!(
        "edit {who}: {} change{}; type the name to redeploy with it, esc drops it",
        c.diff.len(),
        if c.diff.len() == 1 { "" } else { "s" }
    );
    app.confirm = Some(c);
    app.say(Level::Info, text);
}

/// Copies of both manifests for showing their differences: inline values of env vars named like
/// credentials are replaced, with a word that still tells a changed value from an unchanged one.
/// The edited manifest itself is sent as it is.
pub fn redacted_pair(original: &Value, edited: &Value) -> (Value, Value) {
    let (mut a, mut b) = (original.clone(), edited.clone());
    redact_both(&mut a, &mut b);
    (a, b)
}

const HIDDEN: &str = "<redacted>";
const HIDDEN_CHANGED: &str = "<redacted: changed>";

fn secret_entry(v: &Value) -> Option<&str> {
    let name = v.get("name")?.as_str()?;
    (is_secret_name(name) && v.get("value").is_some()).then_some(name)
}

fn redact_both(a: &mut Value, b: &mut Value) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, yv) in y.iter_mut() {
                match x.get_mut(k) {
                    Some(Value::Array(xa)) if k == "env" => {
                        if let Value::Array(ya) = yv {
                            redact_env(xa, ya);
                        } else {
                            redact_alone(yv);
                        }
                    }
                    Some(xv) => redact_both(xv, yv),
                    None => redact_alone(yv),
                }
            }
            for (k, xv) in x.iter_mut() {
                if !y.contains_key(k) {
                    redact_alone(xv);
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                match (x.get_mut(i), y.get_mut(i)) {
                    (Some(xv), Some(yv)) => redact_both(xv, yv),
                    (Some(v), None) | (None, Some(v)) => redact_alone(v),
                    (None, None) => {}
                }
            }
        }
        (a, b) => {
            redact_alone(a);
            redact_alone(b);
        }
    }
}

/// Same-named secret vars: "changed" when the value differs (or the var is new).
fn redact_env(old: &mut [Value], new: &mut [Value]) {
    let before: Vec<(String, Value)> = old
        .iter()
        .filter_map(|v| Some((secret_entry(v)?.to_string(), v.get("value")?.clone())))
        .collect();
    for v in new.iter_mut() {
        let Some(name) = secret_entry(v).map(str::to_string) else {
            redact_alone(v);
            continue;
        };
        let same = before
            .iter()
            .any(|(n, val)| *n == name && v.get("value") == Some(val));
        v["value"] = Value::String(if same { HIDDEN } else { HIDDEN_CHANGED }.into());
    }
    for v in old.iter_mut() {
        if secret_entry(v).is_some() {
            v["value"] = Value::String(HIDDEN.into());
        } else {
            redact_alone(v);
        }
    }
}

fn redact_alone(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(env)) = map.get_mut("env") {
                for e in env.iter_mut() {
                    if secret_entry(e).is_some() {
                        e["value"] = Value::String(HIDDEN.into());
                    }
                }
            }
            map.values_mut().for_each(redact_alone);
        }
        Value::Array(items) => items.iter_mut().for_each(redact_alone),
        _ => {}
    }
}

fn is_secret_name(name: &str) -> bool {
    super::manifest::is_secret_name(name)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secret_values_never_reach_the_diff() {
        let env = |v: &str| {
            json!({"spec": {"containers": [{"env": [
                {"name": "HF_TOKEN", "value": v},
                {"name": "MODEL", "value": "llama"}
            ]}]}})
        };
        let (a, b) = redacted_pair(&env("hf_old"), &env("hf_new"));
        let lines: Vec<String> = manifest::diff(&a, &b)
            .iter()
            .map(ToString::to_string)
            .collect();
        let all = lines.join("\n");
        assert!(!all.contains("hf_old") && !all.contains("hf_new"), "{all}");
        assert!(all.contains(HIDDEN_CHANGED), "{all}");
        // Unchanged secrets make no line; other values show as they are.
        let mut other = env("hf_old");
        other["spec"]["containers"][0]["env"][1]["value"] = "qwen".into();
        let (a, b) = redacted_pair(&env("hf_old"), &other);
        let lines: Vec<String> = manifest::diff(&a, &b)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("llama -> qwen"), "{lines:?}");
        // A secret var added: redacted too.
        let mut added = env("hf_old");
        if let Some(e) = added["spec"]["containers"][0]["env"].as_array_mut() {
            e.push(json!({"name": "DB_PASSWORD", "value": "hunter2"}));
        }
        let (a, b) = redacted_pair(&env("hf_old"), &added);
        let all: Vec<String> = manifest::diff(&a, &b)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(!all.join(" ").contains("hunter2"), "{all:?}");
    }
}
