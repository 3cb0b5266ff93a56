//! Just enough server-side apply: who owns which leaf field, merging an applied configuration,
//! and the apiserver's conflict answer.
//!
//! Ownership is kept per manager as sets of leaf paths (`.spec.holderIdentity`,
//! `.spec.containers[name="web"].image`, `.metadata.finalizers[="x"]`), split into what the manager
//! applied and what it changed through plain updates and patches. An apply replaces the
//! manager's applied set: fields it applied before and no longer applies are removed from the
//! object unless another manager owns them. Changing a field another manager owns is a conflict
//! unless forced, in which case ownership moves. Setting a field to the value it already has
//! shares ownership. Server-managed metadata (name, namespace, uid, resourceVersion, generation,
//! creationTimestamp, managedFields, deletion fields) and `apiVersion` / `kind` are never owned.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value, json};

use super::json_eq;
use super::keys::{ListStrategy, list_strategy};
use crate::sim::error::ApiError;
use crate::sim::kinds::ResourceType;
use crate::sim::selectors::validation::go_quote;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElement {
    /// `.name`
    Field(String),
    /// `[name="web"]`: the element of a keyed list whose merge key has this (JSON) value.
    Key { name: String, value: String },
    /// `[="x"]`: the element of a set list with this (JSON) value.
    Value(String),
}

/// A leaf field path, displayed the way the apiserver prints it (`.spec.holderIdentity`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FieldPath(pub Vec<PathElement>);

impl FieldPath {
    fn starts_with(&self, prefix: &FieldPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// True when one path is the other or contains it.
    fn overlaps(&self, other: &FieldPath) -> bool {
        self.starts_with(other) || other.starts_with(self)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.0 {
            match e {
                PathElement::Field(n) => write!(f, ".{n}")?,
                PathElement::Key { name, value } => write!(f, "[{name}={value}]")?,
                PathElement::Value(v) => write!(f, "[={v}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Entry {
    /// Leaves set by this manager's last apply.
    applied: BTreeSet<FieldPath>,
    /// Leaves this manager changed through updates and patches.
    updated: BTreeSet<FieldPath>,
    /// apiVersion of its last update (the apiserver names update managers `"m" using <v>`).
    api_version: String,
}

impl Entry {
    fn paths(&self) -> impl Iterator<Item = &FieldPath> {
        self.applied.iter().chain(&self.updated)
    }

    fn drop_overlapping(&mut self, p: &FieldPath) {
        self.applied.retain(|q| !q.overlaps(p));
        self.updated.retain(|q| !q.overlaps(p));
    }
}

/// Field ownership of one object: manager -> the leaf fields it owns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldOwners {
    entries: BTreeMap<String, Entry>,
}

impl FieldOwners {
    pub fn new() -> FieldOwners {
        FieldOwners::default()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Managers owning at least one field, sorted.
    pub fn managers(&self) -> Vec<&str> {
        self.entries.keys().map(String::as_str).collect()
    }

    /// The fields `manager` owns (applied and updated), as printed paths, sorted.
    pub fn fields_of(&self, manager: &str) -> Vec<String> {
        let Some(e) = self.entries.get(manager) else {
            return Vec::new();
        };
        let all: BTreeSet<&FieldPath> = e.paths().collect();
        all.into_iter().map(ToString::to_string).collect()
    }

    /// Managers owning the field printed as `path` (e.g. `.spec.holderIdentity`).
    pub fn owners_of(&self, path: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(_, e)| e.paths().any(|p| p.to_string() == path))
            .map(|(m, _)| m.as_str())
            .collect()
    }

    fn prune(&mut self) {
        self.entries
            .retain(|_, e| !e.applied.is_empty() || !e.updated.is_empty());
    }
}

/// An apply that would change fields other managers own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplyConflict {
    /// `(manager, field path)` pairs, sorted, e.g. `("mgrA", ".spec.holderIdentity")`.
    pub conflicts: Vec<(String, String)>,
    /// Managers whose conflicting fields came from updates, with the apiVersion they used.
    pub updaters: BTreeMap<String, String>,
}

impl ApplyConflict {
    fn print_manager(&self, manager: &str) -> String {
        match self.updaters.get(manager) {
            Some(v) => format!("{} using {v}", go_quote(manager)),
            None => go_quote(manager),
        }
    }

    /// The apiserver's message: `Apply failed with 1 conflict: conflict with "m": .spec.x`.
    pub fn message(&self) -> String {
        if let [(m, p)] = self.conflicts.as_slice() {
            return format!(
                "Apply failed with 1 conflict: conflict with {}: {p}",
                self.print_manager(m)
            );
        }
        let mut by_manager: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (m, p) in &self.conflicts {
            by_manager.entry(m).or_default().push(p);
        }
        let mut lines = Vec::new();
        for (m, paths) in by_manager {
            lines.push(format!("conflicts with {}:", self.print_manager(m)));
            lines.extend(paths.into_iter().map(|p| format!("- {p}")));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            self.conflicts.len(),
            lines.join("\n")
        )
    }
}

impl fmt::Display for ApplyConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ApplyConflict {}

/// The 409 answer to a conflicting apply. As on the apiserver, `details` carries only the causes
/// (no name or kind), so `_rt` and `_name` do not appear in it.
pub fn conflict_error(_rt: &ResourceType, _name: &str, c: &ApplyConflict) -> ApiError {
    let causes: Vec<Value> = c
        .conflicts
        .iter()
        .map(|(m, p)| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", c.print_manager(m)),
                "field": p,
            })
        })
        .collect();
    let mut e = ApiError::new(409, "Conflict", c.message());
    e.details = json!({ "causes": causes });
    e
}

const IGNORED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

fn is_ignored(path: &[PathElement]) -> bool {
    match path {
        [PathElement::Field(f)] => f == "apiVersion" || f == "kind",
        [PathElement::Field(m), PathElement::Field(f)] => {
            m == "metadata" && IGNORED_METADATA.contains(&f.as_str())
        }
        _ => false,
    }
}

fn json_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The element of a keyed list that a keyed path element points at.
fn key_matches(item: &Value, name: &str, value: &str) -> bool {
    item.get(name).is_some_and(|k| json_text(k) == value)
}

/// Every owned-able leaf of `v` with its value. Empty objects are not leaves; keyed and set
/// lists are descended element by element; other lists are atomic leaves.
fn leaves(v: &Value) -> BTreeMap<FieldPath, &Value> {
    let mut out = BTreeMap::new();
    collect(v, &mut Vec::new(), "", "", &mut out);
    out
}

fn collect<'a>(
    v: &'a Value,
    path: &mut Vec<PathElement>,
    field: &str,
    parent: &str,
    out: &mut BTreeMap<FieldPath, &'a Value>,
) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                path.push(PathElement::Field(k.clone()));
                if !is_ignored(path) {
                    collect(child, path, k, field, out);
                }
                path.pop();
            }
        }
        Value::Array(items) => match list_strategy(field, parent) {
            ListStrategy::MergeKey(key) if items.iter().all(|i| i.get(key).is_some()) => {
                for item in items {
                    let value = item.get(key).map(json_text).unwrap_or_default();
                    path.push(PathElement::Key {
                        name: key.to_string(),
                        value,
                    });
                    collect(item, path, field, parent, out);
                    path.pop();
                }
            }
            ListStrategy::Set => {
                for item in items {
                    path.push(PathElement::Value(json_text(item)));
                    out.insert(FieldPath(path.clone()), item);
                    path.pop();
                }
            }
            _ => {
                out.insert(FieldPath(path.clone()), v);
            }
        },
        _ => {
            out.insert(FieldPath(path.clone()), v);
        }
    }
}

/// The value at `path`, if present.
fn lookup<'a>(v: &'a Value, path: &FieldPath) -> Option<&'a Value> {
    path.0.iter().try_fold(v, |cur, e| match e {
        PathElement::Field(f) => cur.get(f),
        PathElement::Key { name, value } => {
            cur.as_array()?.iter().find(|i| key_matches(i, name, value))
        }
        PathElement::Value(t) => cur.as_array()?.iter().find(|i| json_text(i) == *t),
    })
}

/// Removes the value at `path`; false when there was none.
fn remove_at(v: &mut Value, path: &[PathElement]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut cur = v;
    for e in parents {
        let next = match (e, cur) {
            (PathElement::Field(f), Value::Object(m)) => m.get_mut(f),
            (PathElement::Key { name, value }, Value::Array(a)) => {
                a.iter_mut().find(|i| key_matches(i, name, value))
            }
            (PathElement::Value(t), Value::Array(a)) => a.iter_mut().find(|i| json_text(i) == *t),
            _ => None,
        };
        let Some(next) = next else {
            return false;
        };
        cur = next;
    }
    match (last, cur) {
        (PathElement::Field(f), Value::Object(m)) => m.remove(f).is_some(),
        (PathElement::Key { name, value }, Value::Array(a)) => {
            let before = a.len();
            a.retain(|i| !key_matches(i, name, value));
            a.len() != before
        }
        (PathElement::Value(t), Value::Array(a)) => {
            let before = a.len();
            a.retain(|i| json_text(i) != *t);
            a.len() != before
        }
        _ => false,
    }
}

/// Merges an applied configuration: objects merge, keyed lists merge by key, set lists union,
/// `null` removes, anything else replaces. `None` = remove the field.
fn merge_applied(base: Option<Value>, applied: &Value, field: &str, parent: &str) -> Option<Value> {
    match applied {
        Value::Null => None,
        Value::Object(am) => {
            let mut out = match base {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            for (k, av) in am {
                let cur = out.remove(k);
                if let Some(v) = merge_applied(cur, av, k, field) {
                    out.insert(k.clone(), v);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(items) => {
            let mut out = match base {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            };
            match list_strategy(field, parent) {
                ListStrategy::MergeKey(key) if items.iter().all(|i| i.get(key).is_some()) => {
                    for item in items {
                        let kv = item.get(key).unwrap_or(&Value::Null);
                        let at = out
                            .iter()
                            .position(|o| o.get(key).is_some_and(|x| json_eq(x, kv)));
                        match at.and_then(|i| out.get_mut(i)) {
                            Some(slot) => {
                                let cur = slot.take();
                                *slot = merge_applied(Some(cur), item, field, parent)
                                    .unwrap_or(Value::Null);
                            }
                            None => {
                                if let Some(v) = merge_applied(None, item, field, parent) {
                                    out.push(v);
                                }
                            }
                        }
                    }
                    Some(Value::Array(out))
                }
                ListStrategy::Set => {
                    for item in items {
                        if !out.iter().any(|o| json_eq(o, item)) {
                            out.push(item.clone());
                        }
                    }
                    Some(Value::Array(out))
                }
                _ => Some(applied.clone()),
            }
        }
        scalar => Some(scalar.clone()),
    }
}

/// Server-side apply of `applied` by `manager` onto `target` (`None` creates). On success returns
/// the merged object and records ownership; on conflict (and `!force`) returns them and changes
/// nothing. `metadata.managedFields` and `metadata.resourceVersion` of `applied` are not merged:
/// the caller checks a resourceVersion precondition and stamps the new one itself. `applied`
/// must be a JSON object (the caller answers 400 otherwise); anything else is treated as `{}`.
pub fn apply_patch(
    target: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    owners: &mut FieldOwners,
) -> Result<Value, ApplyConflict> {
    let base = target.cloned().unwrap_or_else(|| Value::Object(Map::new()));
    let mut applied = match applied {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    if let Some(Value::Object(meta)) = applied.get_mut("metadata") {
        meta.remove("managedFields");
        meta.remove("resourceVersion");
    }
    let applied = Value::Object(applied);
    let applied_leaves = leaves(&applied);

    // Conflicts: leaves whose value changes while another manager owns them (or a field over or
    // under them, when the change alters the field's type).
    let mut found: BTreeSet<(String, FieldPath)> = BTreeSet::new();
    let mut updaters = BTreeMap::new();
    for (p, v) in &applied_leaves {
        let changes = match lookup(&base, p) {
            Some(cur) => !json_eq(cur, v),
            None => !v.is_null(),
        };
        if !changes {
            continue;
        }
        for (m, e) in owners.entries.iter().filter(|(m, _)| *m != manager) {
            for q in e.paths().filter(|q| q.overlaps(p)) {
                if e.updated.contains(q) {
                    updaters.insert(m.clone(), e.api_version.clone());
                }
                found.insert((m.clone(), q.clone()));
            }
        }
    }
    if !found.is_empty() && !force {
        return Err(ApplyConflict {
            conflicts: found.into_iter().map(|(m, p)| (m, p.to_string())).collect(),
            updaters,
        });
    }

    let mut merged =
        merge_applied(Some(base), &applied, "", "").unwrap_or_else(|| Value::Object(Map::new()));

    // Forced: the losers give the fields up.
    for (m, q) in &found {
        if let Some(e) = owners.entries.get_mut(m) {
            e.applied.remove(q);
            e.updated.remove(q);
        }
    }

    let new_set: BTreeSet<FieldPath> = applied_leaves
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(p, _)| p.clone())
        .collect();
    let cleared: Vec<FieldPath> = applied_leaves
        .iter()
        .filter(|(_, v)| v.is_null())
        .map(|(p, _)| p.clone())
        .collect();

    // Fields this manager applied before and dropped now go, unless someone else holds them.
    let previous = owners
        .entries
        .get(manager)
        .map(|e| e.applied.clone())
        .unwrap_or_default();
    let held_elsewhere = |p: &FieldPath, owners: &FieldOwners| {
        owners.entries.iter().any(|(m, e)| {
            if m == manager {
                e.updated.iter().any(|q| q.starts_with(p))
            } else {
                e.paths().any(|q| q.starts_with(p))
            }
        })
    };
    for p in previous.difference(&new_set) {
        if held_elsewhere(p, owners) {
            continue;
        }
        // Dropping a keyed element's key drops the element, if nothing in it is held elsewhere.
        let n = p.0.len();
        if let (Some(PathElement::Field(f)), Some(PathElement::Key { name, .. })) =
            (p.0.last(), n.checked_sub(2).and_then(|i| p.0.get(i)))
            && f == name
        {
            let element = FieldPath(p.0.get(..n - 1).unwrap_or_default().to_vec());
            if !held_elsewhere(&element, owners) {
                remove_at(&mut merged, &element.0);
                continue;
            }
        }
        remove_at(&mut merged, &p.0);
    }

    for p in &cleared {
        for e in owners.entries.values_mut() {
            e.drop_overlapping(p);
        }
    }
    let entry = owners.entries.entry(manager.to_string()).or_default();
    entry.updated.retain(|p| !new_set.contains(p));
    entry.applied = new_set;
    owners.prune();
    Ok(merged)
}

/// Records a plain update or patch by `manager`: it takes ownership of every leaf whose value
/// changed from `old` to `new` (other managers lose it, updates never conflict), and fields that
/// disappeared lose all their owners.
pub fn record_update(owners: &mut FieldOwners, old: &Value, new: &Value, manager: &str) {
    let old_leaves = leaves(old);
    let new_leaves = leaves(new);
    let changed: Vec<&FieldPath> = new_leaves
        .iter()
        .filter(|(p, v)| old_leaves.get(*p).is_none_or(|o| !json_eq(o, v)))
        .map(|(p, _)| p)
        .collect();
    let removed: Vec<&FieldPath> = old_leaves
        .keys()
        .filter(|p| !new_leaves.contains_key(*p))
        .collect();
    for p in &removed {
        for e in owners.entries.values_mut() {
            e.applied.remove(*p);
            e.updated.remove(*p);
        }
    }
    if !changed.is_empty() {
        for (m, e) in owners.entries.iter_mut() {
            for p in &changed {
                if m == manager {
                    e.applied.remove(*p);
                } else {
                    e.drop_overlapping(p);
                }
            }
        }
        let api_version = new
            .get("apiVersion")
            .or_else(|| old.get("apiVersion"))
            .and_then(Value::as_str)
            .unwrap_or("v1")
            .to_string();
        let entry = owners.entries.entry(manager.to_string()).or_default();
        entry.updated.extend(changed.into_iter().cloned());
        entry.api_version = api_version;
    }
    owners.prune();
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
