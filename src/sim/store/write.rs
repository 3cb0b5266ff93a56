//! Create, update and patch, with the metadata rules of the apiserver: generated names, uids,
//! immutable fields, generation, status subresource separation, finalizers on terminating objects.

use std::sync::Arc;

use serde_json::{Value, json};

use super::defaults;
use super::{Change, ChangeKind, State, Store, lookup};
use crate::sim::error::ApiError;
use crate::sim::kinds::ResourceType;
use crate::sim::meta;

/// Options of a write request.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `dryRun=All`: validate and answer, store nothing.
    pub dry_run: bool,
    pub field_manager: Option<String>,
    /// Keep the `status` given on create (scenario loading and controllers only; the API drops it).
    pub keep_status: bool,
    /// Write only the status subresource.
    pub status_only: bool,
}

/// Top-level fields the metadata of an update may not change; the old value silently wins.
const IMMUTABLE_META: &[&str] = &[
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "namespace",
    "name",
    "generation",
    "resourceVersion",
];

impl Store {
    pub fn create(
        &self,
        rt: &'static ResourceType,
        namespace: &str,
        mut obj: Value,
        opts: &WriteOptions,
    ) -> Result<Arc<Value>, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(format!(
                "the body of the request is not a {} object",
                rt.kind
            )));
        }
        check_type_meta(rt, &obj)?;
        let body_ns = meta::namespace(&obj).to_string();
        if rt.namespaced && !body_ns.is_empty() && body_ns != namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        self.with_state(|st, out| {
            if rt.namespaced {
                match st.namespace_state(namespace) {
                    None => return Err(ApiError::namespace_not_found(namespace)),
                    Some(ns) if meta::is_terminating(&ns) => {
                        return Err(ApiError::forbidden_message(
                            rt,
                            meta::name(&obj),
                            format!(
                                "{} \"{}\" is forbidden: unable to create new content in namespace {} because it is being terminated",
                                rt.group_resource(),
                                meta::name(&obj),
                                namespace
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
            let name = resolve_name(st, rt, namespace, &obj)?;
            defaults::validate_name(rt, &name)?;
            if lookup(st, rt, namespace, &name).is_some() {
                return Err(ApiError::already_exists(rt, &name));
            }
            let uid = st.rng.uuid();
            let now = meta::format_time(meta::now());
            {
                let md = meta::metadata_mut(&mut obj);
                md.insert("name".into(), json!(name));
                if rt.namespaced {
                    md.insert("namespace".into(), json!(namespace));
                } else {
                    md.remove("namespace");
                }
                md.insert("uid".into(), json!(uid));
                md.insert("creationTimestamp".into(), json!(now));
                md.remove("deletionTimestamp");
                md.remove("deletionGracePeriodSeconds");
                md.remove("resourceVersion");
                md.remove("managedFields");
                if defaults::tracks_generation(rt) {
                    md.insert("generation".into(), json!(1));
                } else {
                    md.remove("generation");
                }
            }
            meta::drop_empty_metadata(&mut obj);
            set_type_meta(rt, &mut obj);
            if rt.has_subresource("status")
                && !opts.keep_status
                && let Some(o) = obj.as_object_mut()
            {
                o.remove("status");
            }
            defaults::apply_on_create(rt, &mut obj, st);
            defaults::validate(rt, &obj)?;
            record_manager(&mut obj, opts, "Update", &now);
            if opts.dry_run {
                return Ok(Arc::new(obj));
            }
            let rv = st.next_rv();
            meta::metadata_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
            let obj = Arc::new(obj);
            st.insert(rt, obj.clone());
            out.push(Arc::new(Change {
                rv,
                kind: ChangeKind::Added,
                rt,
                object: obj.clone(),
                previous: None,
            }));
            Ok(obj)
        })
    }

    /// PUT: replaces the object. A resourceVersion in the body must match the stored one.
    pub fn update(
        &self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
        obj: Value,
        opts: &WriteOptions,
    ) -> Result<Arc<Value>, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(format!(
                "the body of the request is not a {} object",
                rt.kind
            )));
        }
        check_type_meta(rt, &obj)?;
        let body_name = meta::name(&obj);
        if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let body_rv = meta::resource_version(&obj).to_string();
        self.with_state(|st, out| {
            let old =
                lookup(st, rt, namespace, name).ok_or_else(|| ApiError::not_found(rt, name))?;
            if body_rv.is_empty() {
                if rt.custom {
                    return Err(ApiError::invalid(
                        rt,
                        name,
                        "metadata.resourceVersion",
                        "FieldValueInvalid",
                        "Invalid value: 0: must be specified for an update",
                    ));
                }
            } else if body_rv != meta::resource_version(&old) {
                return Err(ApiError::conflict_modified(rt, name));
            }
            commit_update(st, out, rt, &old, obj, opts)
        })
    }

    /// Applies `f` to the current object under the store lock and commits the result as an
    /// update. The result is checked like a PUT whose resourceVersion is the one `f` left in it,
    /// so a patch that sets `metadata.resourceVersion` is conditional, and others are not.
    pub fn patch(
        &self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
        opts: &WriteOptions,
        f: impl FnOnce(&Value) -> Result<Value, ApiError>,
    ) -> Result<Arc<Value>, ApiError> {
        self.with_state(|st, out| {
            let old =
                lookup(st, rt, namespace, name).ok_or_else(|| ApiError::not_found(rt, name))?;
            let new = f(&old)?;
            if !new.is_object() {
                return Err(ApiError::bad_request(
                    "the patched object is not a JSON object",
                ));
            }
            let new_rv = meta::resource_version(&new);
            if !new_rv.is_empty() && new_rv != meta::resource_version(&old) {
                return Err(ApiError::conflict_modified(rt, name));
            }
            if meta::name(&new) != name {
                return Err(ApiError::invalid(
                    rt,
                    name,
                    "metadata.name",
                    "FieldValueInvalid",
                    "Invalid value: the name cannot be changed by a patch",
                ));
            }
            commit_update(st, out, rt, &old, new, opts)
        })
    }
}

fn check_type_meta(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if (!kind.is_empty() && kind != rt.kind)
        || (!api_version.is_empty() && api_version != rt.api_version())
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            rt.api_version()
        ))
        .with_kind_hint(kind, rt.kind));
    }
    Ok(())
}

impl ApiError {
    fn with_kind_hint(mut self, got: &str, want: &str) -> Self {
        if !got.is_empty() && got != want {
            self.message =
                format!("the kind in the data ({got}) does not match the expected kind ({want})");
        }
        self
    }
}

fn set_type_meta(rt: &ResourceType, obj: &mut Value) {
    if let Some(o) = obj.as_object_mut() {
        o.insert("apiVersion".into(), json!(rt.api_version()));
        o.insert("kind".into(), json!(rt.kind));
    }
}

fn resolve_name(
    st: &mut State,
    rt: &'static ResourceType,
    namespace: &str,
    obj: &Value,
) -> Result<String, ApiError> {
    let name = meta::name(obj);
    if !name.is_empty() {
        return Ok(name.to_string());
    }
    let prefix = obj
        .pointer("/metadata/generateName")
        .and_then(Value::as_str)
        .unwrap_or("");
    if prefix.is_empty() {
        return Err(ApiError::invalid(
            rt,
            "",
            "metadata.name",
            "FieldValueRequired",
            "Required value: name or generateName is required",
        ));
    }
    // The apiserver retries a colliding generated name a few times, then gives up with 409.
    for _ in 0..8 {
        let candidate = format!("{}{}", prefix, st.rng.name_suffix(5));
        if lookup(st, rt, namespace, &candidate).is_none() {
            return Ok(candidate);
        }
    }
    Err(ApiError::already_exists(rt, prefix))
}

/// Adds or refreshes the writer's entry in `managedFields` (who wrote, how, when), so clients that
/// show or hide managed fields see them as on a real cluster.
pub(super) fn record_manager(obj: &mut Value, opts: &WriteOptions, operation: &str, now: &str) {
    let manager = opts
        .field_manager
        .clone()
        .unwrap_or_else(|| "unknown".into());
    let api_version = obj.get("apiVersion").cloned().unwrap_or(Value::Null);
    let subresource = if opts.status_only { "status" } else { "" };
    let md = meta::metadata_mut(obj);
    let mut entries: Vec<Value> = md
        .get("managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    entries.retain(|e| {
        !(e.get("manager").and_then(Value::as_str) == Some(manager.as_str())
            && e.get("operation").and_then(Value::as_str) == Some(operation)
            && e.get("subresource").and_then(Value::as_str).unwrap_or("") == subresource)
    });
    let mut entry = json!({
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": now,
        "fieldsType": "FieldsV1",
        "fieldsV1": {},
    });
    if !subresource.is_empty() {
        meta::set_field(&mut entry, "subresource", json!(subresource));
    }
    entries.push(entry);
    md.insert("managedFields".into(), Value::Array(entries));
}

/// The common tail of update and patch: keep what may not change, separate status, check
/// finalizer rules, then store (or delete, when the last finalizer of a terminating object goes).
pub(super) fn commit_update(
    st: &mut State,
    out: &mut Vec<Arc<Change>>,
    rt: &'static ResourceType,
    old: &Arc<Value>,
    mut new: Value,
    opts: &WriteOptions,
) -> Result<Arc<Value>, ApiError> {
    let name = meta::name(old).to_string();
    let namespace = meta::namespace(old).to_string();
    set_type_meta(rt, &mut new);
    if opts.status_only {
        // Only the status moves; everything else is the stored object.
        let status = new.get("status").cloned();
        let mut merged = (**old).clone();
        if let Some(o) = merged.as_object_mut() {
            match status {
                Some(s) => o.insert("status".into(), s),
                None => o.remove("status"),
            };
        }
        new = merged;
    } else if rt.has_subresource("status") {
        let old_status = old.get("status").cloned();
        if let Some(o) = new.as_object_mut() {
            match old_status {
                Some(s) => o.insert("status".into(), s),
                None => o.remove("status"),
            };
        }
    }
    let old_md = old
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    check_deletion_fields(rt, &name, &old_md, &new)?;
    {
        let md = meta::metadata_mut(&mut new);
        for key in IMMUTABLE_META {
            match old_md.get(*key) {
                Some(v) => md.insert((*key).into(), v.clone()),
                None => md.remove(*key),
            };
        }
        if !md.contains_key("managedFields")
            && let Some(mf) = old_md.get("managedFields")
        {
            md.insert("managedFields".into(), mf.clone());
        }
    }
    meta::drop_empty_metadata(&mut new);
    let terminating = meta::is_terminating(old);
    let old_fin = meta::finalizers(old);
    let new_fin = meta::finalizers(&new);
    if terminating {
        let added: Vec<&String> = new_fin.iter().filter(|f| !old_fin.contains(f)).collect();
        if !added.is_empty() {
            let list = added
                .iter()
                .map(|f| format!("{f:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ApiError::invalid(
                rt,
                &name,
                "metadata.finalizers",
                "FieldValueForbidden",
                &format!(
                    "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{{list}}}"
                ),
            ));
        }
    }
    defaults::apply_on_write(rt, &mut new);
    defaults::validate(rt, &new)?;
    if defaults::tracks_generation(rt) && !opts.status_only && old.get("spec") != new.get("spec") {
        let g = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        meta::metadata_mut(&mut new).insert("generation".into(), json!(g + 1));
    }
    // An update that changes nothing is not written: no new revision, no event.
    if without_volatile(&new) == without_volatile(old) {
        return Ok(old.clone());
    }
    let now = meta::format_time(meta::now());
    record_manager(&mut new, opts, "Update", &now);
    let grace = old
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if opts.dry_run {
        return Ok(Arc::new(new));
    }
    let rv = st.next_rv();
    meta::metadata_mut(&mut new).insert("resourceVersion".into(), json!(rv.to_string()));
    let new = Arc::new(new);
    if terminating
        && new_fin.is_empty()
        && grace == 0
        && super::delete::namespace_finalizers(rt, &new).is_empty()
    {
        // Last finalizer gone: the object is deleted. Watchers get only DELETED, carrying the
        // previously stored object at the deletion revision.
        st.remove(rt, &namespace, &name);
        let mut last = (**old).clone();
        meta::metadata_mut(&mut last).insert("resourceVersion".into(), json!(rv.to_string()));
        out.push(Arc::new(Change {
            rv,
            kind: ChangeKind::Deleted,
            rt,
            object: Arc::new(last),
            previous: Some(old.clone()),
        }));
        return Ok(new);
    }
    st.insert(rt, new.clone());
    out.push(Arc::new(Change {
        rv,
        kind: ChangeKind::Modified,
        rt,
        object: new.clone(),
        previous: Some(old.clone()),
    }));
    Ok(new)
}

/// `ValidateImmutableField` on deletionTimestamp and deletionGracePeriodSeconds, after the
/// apiserver's `BeforeUpdate` has put back what an update may not remove: setting either on a
/// live object, or changing the grace period, is 422 immutable. (A terminating object's
/// deletionTimestamp is silently kept: the caller restores it.)
fn check_deletion_fields(
    rt: &ResourceType,
    name: &str,
    old_md: &serde_json::Map<String, Value>,
    new: &Value,
) -> Result<(), ApiError> {
    let immutable = |field: &str, shown: String| {
        Err(ApiError::invalid(
            rt,
            name,
            field,
            "FieldValueInvalid",
            &format!("Invalid value: {shown}: field is immutable"),
        ))
    };
    let new_md = new.get("metadata");
    let new_ts = new_md.and_then(|m| m.get("deletionTimestamp"));
    if old_md.get("deletionTimestamp").is_none()
        && let Some(ts) = new_ts.filter(|v| !v.is_null())
    {
        return immutable("metadata.deletionTimestamp", go_time(ts));
    }
    let new_grace = new_md
        .and_then(|m| m.get("deletionGracePeriodSeconds"))
        .filter(|v| !v.is_null());
    if let Some(g) = new_grace
        && old_md.get("deletionGracePeriodSeconds") != Some(g)
    {
        return immutable("metadata.deletionGracePeriodSeconds", g.to_string());
    }
    Ok(())
}

/// A timestamp as Go's `time.Time.String()` prints it (`2026-01-02 15:04:05 +0000 UTC`).
fn go_time(v: &Value) -> String {
    match v.as_str().and_then(meta::parse_time) {
        Some(t) => {
            let frac = t.subsec_nanosecond();
            let base = t.strftime("%Y-%m-%d %H:%M:%S").to_string();
            if frac == 0 {
                format!("{base} +0000 UTC")
            } else {
                let digits = format!("{frac:09}");
                format!("{base}.{} +0000 UTC", digits.trim_end_matches('0'))
            }
        }
        None => v.to_string(),
    }
}

/// The object without the fields every write touches, to detect no-op updates.
fn without_volatile(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(md) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        md.remove("resourceVersion");
        md.remove("managedFields");
    }
    o
}
