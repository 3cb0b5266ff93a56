//! `e`: edit the endpoint's spec in `$EDITOR`, then redeploy it. The loop fetches the root object
//! (`Msg::EditSource`); here it becomes editable YAML (generated fields dropped), the loop runs
//! the editor (`Effect::RunEditor`, `Msg::EditorDone`), and the result is parsed: empty or
//! unchanged aborts, a mistake is named by line and column, anything else opens the redeploy
//! confirmation with the changes listed.

use std::collections::HashSet;

use serde_json::Value;

use crate::cluster::model::EndpointKey;
use crate::orchestrator::progress::OpKind;

use super::app::{App, Level};
use super::confirm::Confirm;
use super::msg::Effect;
use super::text::sanitize;
use shim as manifest;

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
    c.diff = manifest::diff(&original, &edited)
        .iter()
        .map(ToString::to_string)
        .collect();
    c.edited = Some(edited);
    app.confirm = Some(c);
}

/// Stand-ins for `orchestrator::manifest` (branch `manifest`, not merged yet) with its
/// signatures; replaced by the real module once it lands.
mod shim {
    use std::collections::HashSet;
    use std::fmt;

    use serde_json::Value;

    pub fn sanitize(obj: &Value, _deleted_owner_uids: &HashSet<String>) -> Value {
        let mut out = obj.clone();
        if let Some(root) = out.as_object_mut() {
            root.remove("status");
            if let Some(md) = root.get_mut("metadata").and_then(Value::as_object_mut) {
                for k in [
                    "uid",
                    "resourceVersion",
                    "generation",
                    "creationTimestamp",
                    "deletionTimestamp",
                    "deletionGracePeriodSeconds",
                    "managedFields",
                    "selfLink",
                ] {
                    md.remove(k);
                }
            }
        }
        out
    }

    pub fn to_editable_yaml(manifest: &Value) -> String {
        serde_yaml_ng::to_string(manifest).unwrap_or_default()
    }

    #[derive(Debug)]
    pub enum EditError {
        Empty,
        Unchanged,
        Parse {
            line: usize,
            column: usize,
            message: String,
        },
    }

    impl EditError {
        pub fn is_abort(&self) -> bool {
            matches!(self, EditError::Empty | EditError::Unchanged)
        }
    }

    impl fmt::Display for EditError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                EditError::Empty => {
                    f.write_str("the edited manifest is empty: aborted, nothing changed")
                }
                EditError::Unchanged => {
                    f.write_str("the manifest was saved unchanged: aborted, nothing changed")
                }
                EditError::Parse {
                    line,
                    column,
                    message,
                } => write!(f, "line {line}, column {column}: {message}"),
            }
        }
    }

    pub fn parse_edited(text: &str, original: &Value) -> Result<Value, EditError> {
        let v: Value = serde_yaml_ng::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            EditError::Parse {
                line,
                column,
                message: e.to_string(),
            }
        })?;
        if v.is_null() {
            return Err(EditError::Empty);
        }
        if &v == original {
            return Err(EditError::Unchanged);
        }
        Ok(v)
    }

    pub struct Change(String);

    impl fmt::Display for Change {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&crate::text::sanitize(&self.0))
        }
    }

    pub fn diff(before: &Value, after: &Value) -> Vec<Change> {
        let mut out = Vec::new();
        walk("", Some(before), Some(after), &mut out);
        out
    }

    fn walk(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Change>) {
        match (a, b) {
            (Some(Value::Object(x)), Some(Value::Object(y))) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(&p, x.get(k), y.get(k), out);
                }
            }
            (a, b) if a == b => {}
            (a, b) => {
                let show = |v: Option<&Value>| v.map_or("(unset)".to_string(), Value::to_string);
                out.push(Change(format!("{path}: {} -> {}", show(a), show(b))));
            }
        }
    }
}
