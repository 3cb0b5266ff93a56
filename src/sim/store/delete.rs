//! DELETE semantics: preconditions, propagation finalizers, graceful pod deletion,
//! deletionTimestamp on objects held by finalizers, immediate removal otherwise.

use std::sync::Arc;

use serde_json::{Value, json};

use super::write::record_manager;
use super::{Change, ChangeKind, State, Store, WriteOptions, lookup};
use crate::sim::error::ApiError;
use crate::sim::kinds::ResourceType;
use crate::sim::meta;

pub const FINALIZER_ORPHAN: &str = "orphan";
pub const FINALIZER_FOREGROUND: &str = "foregroundDeletion";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Orphan,
    Background,
    Foreground,
}

impl Propagation {
    pub fn parse(s: &str) -> Option<Propagation> {
        match s {
            "Orphan" => Some(Propagation::Orphan),
            "Background" => Some(Propagation::Background),
            "Foreground" => Some(Propagation::Foreground),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Precondition {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

/// A DeleteOptions body (or its query-string form), already parsed.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub grace_period_seconds: Option<i64>,
    pub propagation: Option<Propagation>,
    pub preconditions: Precondition,
    pub dry_run: bool,
}

/// What a delete did.
#[derive(Debug, Clone)]
pub enum DeleteOutcome {
    /// Removed from the store at once; the last stored object.
    Removed(Arc<Value>),
    /// Still there, terminating (finalizers or a pod's grace period); the object now.
    Terminating(Arc<Value>),
}

impl Store {
    pub fn delete(
        &self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome, ApiError> {
        self.with_state(|st, out| {
            let old =
                lookup(st, rt, namespace, name).ok_or_else(|| ApiError::not_found(rt, name))?;
            check_preconditions(rt, name, &old, &opts.preconditions)?;
            let mut obj = (*old).clone();
            let mut finalizers = meta::finalizers(&old);
            apply_propagation(&mut finalizers, opts.propagation);
            meta::set_finalizers(&mut obj, &finalizers);
            let now = meta::now();
            let existing_grace = old
                .pointer("/metadata/deletionGracePeriodSeconds")
                .and_then(Value::as_i64);
            let grace = effective_grace(rt, &old, opts.grace_period_seconds);

            // A namespace is also held by its spec.finalizers (`kubernetes`) until the namespace
            // controller has emptied it.
            let spec_held = !namespace_finalizers(rt, &old).is_empty();
            let remove_now = if meta::is_terminating(&old) {
                // A shorter grace period may bring a pod's deletion forward; nothing else moves
                // an existing deletionTimestamp.
                if let (Some(g), Some(current)) = (grace, existing_grace)
                    && g < current
                {
                    let at = grace_deadline(now, g);
                    let earlier = meta::deletion_timestamp(&old)
                        .and_then(meta::parse_time)
                        .is_none_or(|existing| at < existing);
                    let md = meta::metadata_mut(&mut obj);
                    md.insert("deletionGracePeriodSeconds".into(), json!(g));
                    if earlier {
                        md.insert("deletionTimestamp".into(), json!(meta::format_time(at)));
                    }
                }
                let g = obj
                    .pointer("/metadata/deletionGracePeriodSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                finalizers.is_empty() && !spec_held && g == 0
            } else {
                match grace {
                    Some(g) if g > 0 => {
                        let md = meta::metadata_mut(&mut obj);
                        let at = grace_deadline(now, g);
                        md.insert("deletionTimestamp".into(), json!(meta::format_time(at)));
                        md.insert("deletionGracePeriodSeconds".into(), json!(g));
                        bump_generation(&mut obj);
                        false
                    }
                    _ if !finalizers.is_empty() || spec_held => {
                        let md = meta::metadata_mut(&mut obj);
                        md.insert("deletionTimestamp".into(), json!(meta::format_time(now)));
                        md.insert("deletionGracePeriodSeconds".into(), json!(0));
                        bump_generation(&mut obj);
                        if spec_held {
                            // `status` is whatever a client last wrote to `/status` (any JSON).
                            meta::object_field_mut(&mut obj, "status")
                                .insert("phase".into(), json!("Terminating"));
                        }
                        false
                    }
                    _ => true,
                }
            };

            if opts.dry_run {
                return Ok(if remove_now {
                    DeleteOutcome::Removed(old)
                } else {
                    DeleteOutcome::Terminating(Arc::new(obj))
                });
            }
            if remove_now {
                return Ok(DeleteOutcome::Removed(remove(st, out, rt, &old)));
            }
            if obj == *old {
                return Ok(DeleteOutcome::Terminating(old));
            }
            let rv = st.next_rv();
            let ts = meta::format_time(now);
            record_manager(&mut obj, &WriteOptions::default(), "Update", &ts);
            meta::metadata_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
            let obj = Arc::new(obj);
            st.insert(rt, obj.clone());
            out.push(Arc::new(Change {
                rv,
                kind: ChangeKind::Modified,
                rt,
                object: obj.clone(),
                previous: Some(old),
            }));
            Ok(DeleteOutcome::Terminating(obj))
        })
    }
}

/// Removes `old` from the store and records the DELETED change; returns the last object.
fn remove(
    st: &mut State,
    out: &mut Vec<Arc<Change>>,
    rt: &'static ResourceType,
    old: &Arc<Value>,
) -> Arc<Value> {
    let rv = st.next_rv();
    st.remove(rt, meta::namespace(old), meta::name(old));
    let mut last = (**old).clone();
    meta::metadata_mut(&mut last).insert("resourceVersion".into(), json!(rv.to_string()));
    let last = Arc::new(last);
    out.push(Arc::new(Change {
        rv,
        kind: ChangeKind::Deleted,
        rt,
        object: last.clone(),
        previous: Some(old.clone()),
    }));
    last
}

fn check_preconditions(
    rt: &ResourceType,
    name: &str,
    obj: &Value,
    pre: &Precondition,
) -> Result<(), ApiError> {
    if let Some(uid) = &pre.uid
        && uid != meta::uid(obj)
    {
        return Err(ApiError::precondition_failed(
            rt,
            name,
            "UID",
            uid,
            meta::uid(obj),
        ));
    }
    if let Some(rv) = &pre.resource_version
        && rv != meta::resource_version(obj)
    {
        return Err(ApiError::precondition_failed(
            rt,
            name,
            "ResourceVersion",
            rv,
            meta::resource_version(obj),
        ));
    }
    Ok(())
}

/// A namespace's `spec.finalizers` (`kubernetes` until the namespace controller has deleted its
/// content); empty for every other kind.
pub fn namespace_finalizers(rt: &ResourceType, obj: &Value) -> Vec<String> {
    if rt.plural != "namespaces" || !rt.group.is_empty() {
        return Vec::new();
    }
    meta::string_list(obj, "/spec/finalizers")
}

/// Orphan adds `orphan`, Foreground adds `foregroundDeletion`, Background strips both; no policy
/// keeps whichever is already there (the default for everything served here is background).
fn apply_propagation(finalizers: &mut Vec<String>, policy: Option<Propagation>) {
    let Some(policy) = policy else { return };
    finalizers.retain(|f| f != FINALIZER_ORPHAN && f != FINALIZER_FOREGROUND);
    match policy {
        Propagation::Orphan => finalizers.push(FINALIZER_ORPHAN.into()),
        Propagation::Foreground => finalizers.push(FINALIZER_FOREGROUND.into()),
        Propagation::Background => {}
    }
}

/// The grace period of a pod's deletion; `None` for kinds without one.
fn effective_grace(rt: &ResourceType, obj: &Value, requested: Option<i64>) -> Option<i64> {
    if !rt.delete_returns_object {
        return None;
    }
    let node = obj
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let phase = obj
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("");
    if node.is_empty() || phase == "Succeeded" || phase == "Failed" {
        return Some(0);
    }
    let default = obj
        .pointer("/spec/terminationGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(30);
    Some(requested.unwrap_or(default).max(0))
}

/// `now + grace` seconds; a grace period past the end of representable time (a client may ask
/// for any int64) ends there instead of overflowing.
fn grace_deadline(now: jiff::Timestamp, grace: i64) -> jiff::Timestamp {
    now.checked_add(jiff::SignedDuration::from_secs(grace))
        .unwrap_or(jiff::Timestamp::MAX)
}

fn bump_generation(obj: &mut Value) {
    let g = obj
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if g > 0 {
        meta::metadata_mut(obj).insert("generation".into(), json!(g + 1));
    }
}

impl Store {
    /// Moves the deletionTimestamp of a terminating object to `at` (scenario loading only: the
    /// API never allows this). Bumps the revision like any write.
    pub fn backdate_deletion(
        &self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
        at: jiff::Timestamp,
    ) -> Result<Arc<Value>, ApiError> {
        self.with_state(|st, out| {
            let old =
                lookup(st, rt, namespace, name).ok_or_else(|| ApiError::not_found(rt, name))?;
            if !meta::is_terminating(&old) {
                return Ok(old);
            }
            let mut obj = (*old).clone();
            let rv = st.next_rv();
            let md = meta::metadata_mut(&mut obj);
            md.insert("deletionTimestamp".into(), json!(meta::format_time(at)));
            // An object cannot have been deleted before it was created: move its creation back
            // too (a day before the deletion, as for something that ran a while).
            let created = md
                .get("creationTimestamp")
                .and_then(Value::as_str)
                .and_then(meta::parse_time);
            if created.is_none_or(|c| c > at) {
                let born = at - jiff::SignedDuration::from_hours(24);
                md.insert("creationTimestamp".into(), json!(meta::format_time(born)));
            }
            md.insert("resourceVersion".into(), json!(rv.to_string()));
            let obj = Arc::new(obj);
            st.insert(rt, obj.clone());
            out.push(Arc::new(Change {
                rv,
                kind: ChangeKind::Modified,
                rt,
                object: obj.clone(),
                previous: Some(old),
            }));
            Ok(obj)
        })
    }
}
