//! What is recreated, exactly: manifests read from the cluster made ready to POST again
//! ([`sanitize`]), `--set` overrides on an endpoint's root object ([`apply_overrides`]), the
//! field-level differences a confirmation dialog shows ([`diff`]), and the round trip through
//! `$EDITOR` ([`to_editable_yaml`], [`parse_edited`]).
//!
//! Pure functions on `serde_json::Value`: no cluster, no terminal.

mod edit;
mod overrides;

#[cfg(test)]
pub(crate) mod sim_tests;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value};

pub use edit::{EditError, parse_edited, to_editable_yaml};
pub use overrides::{OverrideError, VALID_KEYS, apply_overrides};

/// Metadata the apiserver or a controller writes. Finalizers are here on purpose: controllers put
/// their own back on the new object, and carrying over one that is stuck would recreate the very
/// problem a redeploy is often run to escape.
const GENERATED_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
    "finalizers",
];

/// Annotations the Deployment controller writes (revision, revision-history, desired-replicas,
/// max-replicas). A new object starts its history again at revision 1; an old number carried over
/// would only make `kubectl rollout history` lie.
const CONTROLLER_ANNOTATION_PREFIX: &str = "deployment.kubernetes.io/";

/// A manifest ready to POST again, after the object it came from is gone.
///
/// Drops what the apiserver and controllers generate: `status`, the metadata in
/// [`GENERATED_METADATA`], the `deployment.kubernetes.io/*` annotations, owner references to
/// objects in `deleted_owner_uids` (owners deleted with it: a reference to a UID that no longer
/// exists would get the new object garbage-collected at once), a Service's allocated
/// `clusterIP`/`clusterIPs` (kept when `None`: headless is the user's choice) and
/// `healthCheckNodePort`, a pod's `spec.nodeName` (the scheduler's choice; that node may be full or
/// gone), and the `creationTimestamp: null` that pod templates carry.
///
/// Keeps everything a user wrote: labels, annotations (including
/// `kubectl.kubernetes.io/last-applied-configuration`: it is the user's last `kubectl apply`, and
/// without it the next apply could no longer prune fields removed from their file), the spec, and
/// a Service's `nodePorts` (firewalls and external load balancers point at them; the old Service
/// releases them when it is deleted, so the same numbers are free again, as `kubectl get -o yaml`
/// then `kubectl create -f` users expect).
pub fn sanitize(obj: &Value, deleted_owner_uids: &HashSet<String>) -> Value {
    let mut out = obj.clone();
    let Some(root) = out.as_object_mut() else {
        return out;
    };
    root.remove("status");
    let kind = root
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let core = root.get("apiVersion").and_then(Value::as_str) == Some("v1");
    if let Some(md) = root.get_mut("metadata").and_then(Value::as_object_mut) {
        sanitize_metadata(md, deleted_owner_uids);
    }
    if let Some(spec) = root.get_mut("spec").and_then(Value::as_object_mut) {
        match (core, kind.as_str()) {
            (true, "Service") => sanitize_service_spec(spec),
            (true, "Pod") => {
                spec.remove("nodeName");
            }
            _ => {}
        }
        // Deployments, ReplicaSets, StatefulSets, Jobs: `creationTimestamp: null` in a template
        // is serialiser noise, not something anyone wrote.
        if let Some(tmd) = spec
            .get_mut("template")
            .and_then(|t| t.get_mut("metadata"))
            .and_then(Value::as_object_mut)
            && tmd.get("creationTimestamp").is_some_and(Value::is_null)
        {
            tmd.remove("creationTimestamp");
        }
    }
    out
}

fn sanitize_metadata(md: &mut Map<String, Value>, deleted_owner_uids: &HashSet<String>) {
    for key in GENERATED_METADATA {
        md.remove(*key);
    }
    if let Some(ann) = md.get_mut("annotations").and_then(Value::as_object_mut) {
        ann.retain(|k, _| !k.starts_with(CONTROLLER_ANNOTATION_PREFIX));
        if ann.is_empty() {
            md.remove("annotations");
        }
    }
    if let Some(refs) = md.get_mut("ownerReferences").and_then(Value::as_array_mut) {
        refs.retain(|r| {
            let uid = r.get("uid").and_then(Value::as_str).unwrap_or("");
            !deleted_owner_uids.contains(uid)
        });
        if refs.is_empty() {
            md.remove("ownerReferences");
        }
    }
}

fn sanitize_service_spec(spec: &mut Map<String, Value>) {
    let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None");
    if !headless {
        // Allocated by the apiserver; asking for the old address again races with its release
        // and fails with "provided IP is already allocated".
        spec.remove("clusterIP");
        spec.remove("clusterIPs");
    }
    spec.remove("healthCheckNodePort");
}

/// One field that differs between two manifests.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// `spec.template.spec.containers[0].image`; keys that are not plain identifiers are quoted:
    /// `metadata.labels["app.kubernetes.io/name"]`.
    pub path: String,
    /// `None`: the field is absent on that side.
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl fmt::Display for Change {
    /// `spec.replicas: 2 -> 3`, with `(unset)` for an absent side. Values can come from the
    /// cluster, so the line is neutralised for the terminal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Value>| match v {
            None => "(unset)".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        let line = format!(
            "{}: {} -> {}",
            self.path,
            show(&self.before),
            show(&self.after)
        );
        f.write_str(&crate::text::sanitize(&line))
    }
}

/// Field-level differences between two manifests, for the confirmation dialog
/// (`spec.replicas: 2 -> 3`). Objects are compared key by key, arrays element by element (an
/// element added at the end shows as `env[3]: (unset) -> {...}`). Sorted by path, object keys
/// alphabetically and array indices numerically (`[2]` before `[10]`).
pub fn diff(before: &Value, after: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    diff_into(&mut Vec::new(), Some(before), Some(after), &mut out);
    out
}

/// One step of a field path.
#[derive(Debug, Clone)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn diff_into<'a>(
    path: &mut Vec<Seg<'a>>,
    before: Option<&'a Value>,
    after: Option<&'a Value>,
    out: &mut Vec<Change>,
) {
    match (before, after) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                path.push(Seg::Key(k));
                diff_into(path, a.get(k), b.get(k), out);
                path.pop();
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                path.push(Seg::Index(i));
                diff_into(path, a.get(i), b.get(i), out);
                path.pop();
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(Change {
            path: format_path(path),
            before: a.cloned(),
            after: b.cloned(),
        }),
    }
}

fn format_path(path: &[Seg<'_>]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if is_plain_key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            // JSON string quoting: unambiguous for keys with dots, slashes or quotes.
            Seg::Key(k) => s.push_str(&format!("[{}]", Value::String((*k).to_string()))),
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    if s.is_empty() {
        s.push_str("(document)");
    }
    s
}

fn is_plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
