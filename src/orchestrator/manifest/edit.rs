//! The round trip through `$EDITOR`: a manifest as YAML with a header saying what saving does,
//! and the edited text parsed back, refused with a position when it cannot be what was meant.

use serde_json::Value;

use crate::sim::scenario::{FieldPath, locate};
use crate::text::sanitize;

/// Why an edited manifest is not used. [`EditError::Empty`] and [`EditError::Unchanged`] are the
/// operator's way to abort (see [`EditError::is_abort`]); the others are mistakes to show with
/// their position, so the editor can be reopened at that line.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum EditError {
    #[error("the edited manifest is empty: aborted, nothing changed")]
    Empty,
    #[error("the manifest was saved unchanged: aborted, nothing changed")]
    Unchanged,
    #[error("line {line}, column {column}: {}{message}", field_prefix(field))]
    Parse {
        line: usize,
        column: usize,
        /// Field path where the parser stopped (`spec.replicas`), empty at the top level.
        field: String,
        message: String,
    },
    #[error(
        "line {line}, column {column}: the manifest must be a mapping (apiVersion, kind, metadata, spec), not {found}"
    )]
    NotAnObject {
        line: usize,
        column: usize,
        found: String,
    },
    #[error(
        "line {line}, column {column}: {field} was {original}, now {edited}: changing it would make another object; \
         keep it as it was (to create a different object use kubectl)"
    )]
    Renamed {
        line: usize,
        column: usize,
        field: String,
        /// The values, quoted, or `missing`.
        original: String,
        edited: String,
    },
}

impl EditError {
    /// The operator chose not to go on: not an error to report as a failure.
    pub fn is_abort(&self) -> bool {
        matches!(self, EditError::Empty | EditError::Unchanged)
    }
}

fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}

/// The fields that make an object this object; an edit may not change them.
const IDENTITY: &[(&str, &[&str])] = &[
    ("apiVersion", &["apiVersion"]),
    ("kind", &["kind"]),
    ("metadata.name", &["metadata", "name"]),
    ("metadata.namespace", &["metadata", "namespace"]),
];

/// A manifest edited in `$EDITOR` (YAML, or JSON, which is YAML too), parsed. Refused, with line,
/// column and field, when it does not parse, is not a mapping, or changes apiVersion, kind,
/// metadata.name or metadata.namespace of `original` (that would be another object). An empty
/// file (comments only included) and a manifest equal to `original` are aborts.
pub fn parse_edited(text: &str, original: &Value) -> Result<Value, EditError> {
    // YAML's own value type refuses duplicate keys (with their position); serde_json's would
    // keep the last silently, losing half of what was typed. So: check as YAML, then convert.
    if let Err(e) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text) {
        return Err(parse_error(&e));
    }
    let edited: Value = match serde_yaml_ng::from_str(text) {
        Ok(v) => v,
        Err(e) => return Err(parse_error(&e)),
    };
    match &edited {
        Value::Null => return Err(EditError::Empty),
        Value::Object(_) => {}
        other => {
            let (line, column) = locate(text, &FieldPath::root()).unwrap_or((1, 1));
            return Err(EditError::NotAnObject {
                line,
                column,
                found: type_name(other).to_string(),
            });
        }
    }
    for (field, path) in IDENTITY {
        let get = |v: &Value| path.iter().try_fold(v, |cur, k| cur.get(*k)).cloned();
        let was = get(original);
        let now = get(&edited);
        if was != now {
            let mut fp = FieldPath::root();
            for k in *path {
                fp = fp.key(k);
            }
            let (line, column) = locate(text, &fp).unwrap_or((1, 1));
            let show = |v: &Option<Value>| match v {
                None => "missing".to_string(),
                Some(Value::String(s)) => format!("{:?}", sanitize(s)),
                Some(other) => sanitize(&other.to_string()).into_owned(),
            };
            return Err(EditError::Renamed {
                line,
                column,
                field: (*field).to_string(),
                original: show(&was),
                edited: show(&now),
            });
        }
    }
    if &edited == original {
        return Err(EditError::Unchanged);
    }
    Ok(edited)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// serde_yaml_ng says `"<path>: <message> at line L column C"`; split it into its parts.
fn parse_error(e: &serde_yaml_ng::Error) -> EditError {
    let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
    let mut text = e.to_string();
    if let Some(stripped) = text.strip_suffix(&format!(" at line {line} column {column}")) {
        text = stripped.to_string();
    }
    // A path prefix has no spaces; messages always do.
    let (field, message) = match text.split_once(": ") {
        Some((p, m)) if !p.is_empty() && !p.contains(' ') => (p.to_string(), m.to_string()),
        _ => (String::new(), text),
    };
    EditError::Parse {
        line,
        column,
        field: sanitize(&field).into_owned(),
        message: sanitize(&message).into_owned(),
    }
}

/// YAML text of `manifest` for the editor, under a comment header saying what saving does and
/// how to abort.
pub fn to_editable_yaml(manifest: &Value) -> String {
    let s = |p: &str| {
        // One line of a comment: newlines in cluster text would end the comment early.
        sanitize(manifest.pointer(p).and_then(Value::as_str).unwrap_or("?")).into_owned()
    };
    let header = format!(
        "# {kind} {ns}/{name}: the manifest the endpoint will be recreated from.\n\
         #\n\
         # Save and quit to go on: the endpoint's objects are deleted and this manifest is created\n\
         # in their place (after you confirm). To abort, save an empty file or quit without changes.\n\
         # apiVersion, kind, metadata.name and metadata.namespace must stay as they are.\n\
         # Fields the cluster generates (uid, resourceVersion, status, ...) were removed on purpose.\n",
        kind = s("/kind"),
        ns = s("/metadata/namespace"),
        name = s("/metadata/name"),
    );
    // A Value always serialises; should it not, JSON is YAML too and just as editable.
    let body = serde_yaml_ng::to_string(manifest)
        .or_else(|_| serde_json::to_string_pretty(manifest).map(|j| j + "\n"))
        .unwrap_or_default();
    header + &body
}
