//! The garbage collector: a graph of owners and dependents by uid, built from ownerReferences.
//!
//! - Background: a dependent whose owners are all gone is deleted (pods gracefully, through the
//!   normal delete); references to owners that are gone are stripped when other owners remain.
//! - Foreground: an owner terminating with `foregroundDeletion` has its dependents deleted
//!   (those with dependents of their own in the foreground too, so grandchildren go first); once
//!   no dependent with `blockOwnerDeletion` remains, the finalizer is removed and the store
//!   deletes the owner.
//! - Orphan: an owner terminating with `orphan` has its references stripped from every dependent,
//!   then the finalizer is removed.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;

use super::objects::{remove_finalizer, write_opts};
use super::runner::{Controller, Resync};
use crate::sim::context::SimContext;
use crate::sim::faults::{ControllerState, Controllers};
use crate::sim::kinds::{self, EVENTS, ResourceType};
use crate::sim::meta;
use crate::sim::store::{
    Change, ChangeKind, DeleteOptions, DeleteOutcome, Precondition, Propagation,
};

pub const MANAGER: &str = "garbage-collector";
pub const FINALIZER_ORPHAN: &str = "orphan";
pub const FINALIZER_FOREGROUND: &str = "foregroundDeletion";
const RETRY: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
struct OwnerLink {
    uid: String,
    api_version: String,
    kind: String,
    name: String,
    block: bool,
}

#[derive(Debug, Clone)]
struct Node {
    rt: &'static ResourceType,
    ns: String,
    name: String,
    owners: Vec<OwnerLink>,
    terminating: bool,
    foreground: bool,
    orphan: bool,
}

impl Node {
    fn of(rt: &'static ResourceType, obj: &Value) -> Node {
        let owners = meta::owner_references(obj)
            .iter()
            .map(|r| {
                let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                OwnerLink {
                    uid: s("uid"),
                    api_version: s("apiVersion"),
                    kind: s("kind"),
                    name: s("name"),
                    block: r.get("blockOwnerDeletion").and_then(Value::as_bool) == Some(true),
                }
            })
            .filter(|l| !l.uid.is_empty())
            .collect();
        let fins = meta::finalizers(obj);
        Node {
            rt,
            ns: meta::namespace(obj).to_string(),
            name: meta::name(obj).to_string(),
            owners,
            terminating: meta::is_terminating(obj),
            foreground: fins.iter().any(|f| f == FINALIZER_FOREGROUND),
            orphan: fins.iter().any(|f| f == FINALIZER_ORPHAN),
        }
    }
}

#[derive(Default)]
pub struct GarbageCollector {
    nodes: HashMap<String, Node>,
    /// Owner uid -> uids of objects referencing it (the owner may be gone already).
    dependents: HashMap<String, HashSet<String>>,
}

/// Kinds that take part in the graph (Events never own or are owned here).
fn indexed(rt: &ResourceType) -> bool {
    rt != &EVENTS && !kinds::is_review(rt)
}

impl GarbageCollector {
    fn upsert(&mut self, rt: &'static ResourceType, obj: &Value) {
        let uid = meta::uid(obj).to_string();
        if uid.is_empty() {
            return;
        }
        self.unlink(&uid);
        let node = Node::of(rt, obj);
        for o in &node.owners {
            self.dependents
                .entry(o.uid.clone())
                .or_default()
                .insert(uid.clone());
        }
        self.nodes.insert(uid, node);
    }

    /// Drops a node's links to its owners; returns the node.
    fn unlink(&mut self, uid: &str) -> Option<Node> {
        let node = self.nodes.remove(uid)?;
        for o in &node.owners {
            if let Some(set) = self.dependents.get_mut(&o.uid) {
                set.remove(uid);
                if set.is_empty() {
                    self.dependents.remove(&o.uid);
                }
            }
        }
        Some(node)
    }

    fn dependents_of(&self, uid: &str) -> Vec<String> {
        self.dependents
            .get(uid)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether the owner a link names exists (checked against the store when the graph does
    /// not know it, e.g. right after a resync). Owners of kinds not served here are assumed to
    /// exist: nothing is deleted on a guess.
    fn owner_exists(&self, ctx: &SimContext, dependent: &Node, link: &OwnerLink) -> bool {
        if self.nodes.contains_key(&link.uid) {
            return true;
        }
        let rt = kinds::by_kind(&link.api_version, &link.kind).or_else(|| {
            let group = link.api_version.rsplit_once('/').map_or("", |(g, _)| g);
            kinds::ALL
                .iter()
                .copied()
                .find(|rt| rt.kind == link.kind && rt.group == group)
        });
        let Some(rt) = rt else {
            return true;
        };
        let ns = if rt.namespaced {
            dependent.ns.as_str()
        } else {
            ""
        };
        ctx.store
            .get(rt, ns, &link.name)
            .is_ok_and(|o| meta::uid(&o) == link.uid)
    }

    /// Deletes an object; `Some(true)` when it is gone, `Some(false)` when it is terminating,
    /// `None` when the delete failed.
    fn delete(
        ctx: &SimContext,
        node: &Node,
        uid: &str,
        policy: Option<Propagation>,
    ) -> Option<bool> {
        let opts = DeleteOptions {
            propagation: policy,
            preconditions: Precondition {
                uid: Some(uid.to_string()),
                resource_version: None,
            },
            ..Default::default()
        };
        match ctx.store.delete(node.rt, &node.ns, &node.name, &opts) {
            Ok(DeleteOutcome::Removed(_)) => Some(true),
            Ok(DeleteOutcome::Terminating(_)) => Some(false),
            // Gone already, or a new object under that name: either way not ours to wait for.
            Err(e) if e.code == 404 || e.code == 409 => Some(true),
            Err(_) => None,
        }
    }

    /// Removes the references to the owners in `owner_uids` from an object.
    fn strip_refs(ctx: &SimContext, node: &Node, uid: &str, owner_uids: &[&str]) -> bool {
        let res = ctx
            .store
            .patch(node.rt, &node.ns, &node.name, &write_opts(MANAGER), |cur| {
                let mut new = cur.clone();
                if meta::uid(cur) != uid {
                    return Ok(new);
                }
                let kept: Vec<Value> = meta::owner_references(cur)
                    .iter()
                    .filter(|r| {
                        let ruid = r.get("uid").and_then(Value::as_str).unwrap_or("");
                        !owner_uids.contains(&ruid)
                    })
                    .cloned()
                    .collect();
                let md = meta::metadata_mut(&mut new);
                if kept.is_empty() {
                    md.remove("ownerReferences");
                } else {
                    md.insert("ownerReferences".into(), Value::Array(kept));
                }
                Ok(new)
            });
        res.is_ok() || res.is_err_and(|e| e.code == 404)
    }

    /// Background collection of one object whose owners may be gone.
    fn collect_orphaned(&self, ctx: &SimContext, uid: &str, node: &Node) -> Option<Duration> {
        if node.owners.is_empty() || node.terminating {
            return None;
        }
        let missing: Vec<&str> = node
            .owners
            .iter()
            .filter(|l| !self.owner_exists(ctx, node, l))
            .map(|l| l.uid.as_str())
            .collect();
        if missing.is_empty() {
            return None;
        }
        let ok = if missing.len() == node.owners.len() {
            Self::delete(ctx, node, uid, None).is_some()
        } else {
            Self::strip_refs(ctx, node, uid, &missing)
        };
        (!ok).then_some(RETRY)
    }

    fn foreground(&self, ctx: &SimContext, uid: &str, owner: &Node) -> Option<Duration> {
        let mut blocking = 0;
        let mut retry = None;
        for d in self.dependents_of(uid) {
            let Some(dn) = self.nodes.get(&d) else {
                continue;
            };
            let Some(link) = dn.owners.iter().find(|l| l.uid == uid) else {
                continue;
            };
            // A dependent that another live owner still holds only loses this reference.
            let held_elsewhere = dn.owners.iter().any(|l| {
                l.uid != uid
                    && self.owner_exists(ctx, dn, l)
                    && self.nodes.get(&l.uid).is_none_or(|o| !o.terminating)
            });
            if held_elsewhere {
                if !Self::strip_refs(ctx, dn, &d, &[uid]) {
                    retry = Some(RETRY);
                }
                continue;
            }
            let gone = if dn.terminating {
                false
            } else {
                let has_own = self.dependents.get(&d).is_some_and(|s| !s.is_empty());
                let policy = has_own.then_some(Propagation::Foreground);
                match Self::delete(ctx, dn, &d, policy) {
                    Some(gone) => gone,
                    None => {
                        retry = Some(RETRY);
                        false
                    }
                }
            };
            if link.block && !gone {
                blocking += 1;
            }
        }
        if blocking == 0 && retry.is_none() {
            let res = remove_finalizer(
                &ctx.store,
                owner.rt,
                &owner.ns,
                &owner.name,
                uid,
                FINALIZER_FOREGROUND,
                MANAGER,
            );
            if res.is_err_and(|e| e.code != 404) {
                retry = Some(RETRY);
            }
        }
        retry
    }

    fn orphan(&self, ctx: &SimContext, uid: &str, owner: &Node) -> Option<Duration> {
        let mut ok = true;
        for d in self.dependents_of(uid) {
            if let Some(dn) = self.nodes.get(&d) {
                ok &= Self::strip_refs(ctx, dn, &d, &[uid]);
            }
        }
        if ok {
            let res = remove_finalizer(
                &ctx.store,
                owner.rt,
                &owner.ns,
                &owner.name,
                uid,
                FINALIZER_ORPHAN,
                MANAGER,
            );
            ok = res.is_ok() || res.is_err_and(|e| e.code == 404);
        }
        (!ok).then_some(RETRY)
    }
}

impl Controller for GarbageCollector {
    type Key = String;

    fn active(&self, states: &Controllers) -> bool {
        states.garbage_collector != ControllerState::Down
    }

    fn observe(&mut self, _ctx: &SimContext, change: &Change, out: &mut Vec<String>) {
        if !indexed(change.rt) {
            return;
        }
        let uid = meta::uid(&change.object).to_string();
        let mut owners: Vec<String> = Vec::new();
        for obj in std::iter::once(&change.object).chain(change.previous.iter()) {
            for r in meta::owner_references(obj) {
                if let Some(u) = r.get("uid").and_then(Value::as_str) {
                    owners.push(u.to_string());
                }
            }
        }
        match change.kind {
            ChangeKind::Deleted => {
                self.unlink(&uid);
                // Its dependents may now be orphans.
                out.extend(self.dependents_of(&uid));
            }
            ChangeKind::Added | ChangeKind::Modified => {
                self.upsert(change.rt, &change.object);
                out.push(uid);
            }
        }
        // Owners waiting for their dependents (foreground) look again.
        out.extend(owners);
    }

    fn resync(&mut self, ctx: &SimContext, how: Resync, out: &mut Vec<String>) {
        if how == Resync::Recheck {
            out.extend(self.nodes.keys().cloned());
            return;
        }
        self.nodes.clear();
        self.dependents.clear();
        for rt in kinds::ALL.iter().copied().filter(|rt| indexed(rt)) {
            let (objs, _) = ctx.store.list(rt, None, &|_| true);
            for o in &objs {
                self.upsert(rt, o);
            }
        }
        out.extend(self.nodes.keys().cloned());
    }

    fn reconcile(&mut self, ctx: &SimContext, _: &Controllers, uid: &String) -> Option<Duration> {
        let node = self.nodes.get(uid)?.clone();
        let mut retry = self.collect_orphaned(ctx, uid, &node);
        if node.terminating {
            let r = if node.foreground {
                self.foreground(ctx, uid, &node)
            } else if node.orphan {
                self.orphan(ctx, uid, &node)
            } else {
                None
            };
            retry = retry.or(r);
        }
        retry
    }
}
