//! The deployment controller: Deployment -> ReplicaSet `<deploy>-<pod-template-hash>`, and (in
//! `replicaset.rs`) ReplicaSet -> Pods, linked by controller ownerReferences (uids), as the real
//! controllers primarily do.
//!
//! Rollout is simplified: a template change creates the new ReplicaSet at full size and scales
//! every older one to 0 at once (Recreate-like, without waiting for old pods to go). Revision
//! annotations, `pod-template-hash` labels and status follow the real controller; `Available` is
//! the real rule, availableReplicas >= replicas - maxUnavailable (RollingUpdate's, 25% by default,
//! rounded down: 0 for up to 3 replicas). ReplicaSets without a controller that the selector
//! matches are adopted, as the real controller does after an orphaning delete.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::events::{EventRecorder, NORMAL, WARNING};
use super::index::OwnerIndex;
use super::objects::{
    Cond, adopt, conditions_of, controlled_by, controller_name, generation, get, hash_value,
    int_at, owner_ref, selector_of, set_condition, write_opts, write_status,
};
use super::replicaset;
use super::runner::{Controller, Resync};
use crate::sim::context::SimContext;
use crate::sim::faults::{ControllerState, Controllers};
use crate::sim::kinds::{DEPLOYMENTS, PODS, REPLICASETS};
use crate::sim::meta;
use crate::sim::rng::Rng;
use crate::sim::store::{Change, ChangeKind};

pub const MANAGER: &str = "deployment-controller";
pub const TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// Retry delay after a failed write.
const RETRY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Deployment(String, String),
    ReplicaSet(String, String),
}

pub struct DeploymentController {
    seed: u64,
    events: Arc<EventRecorder>,
    /// Pods by their ReplicaSet's uid.
    pods: OwnerIndex,
    /// ReplicaSets by their Deployment's uid.
    replica_sets: OwnerIndex,
}

impl DeploymentController {
    pub fn new(seed: u64, events: Arc<EventRecorder>) -> Self {
        DeploymentController {
            seed,
            events,
            pods: OwnerIndex::new("ReplicaSet"),
            replica_sets: OwnerIndex::new("Deployment"),
        }
    }
}

impl Controller for DeploymentController {
    type Key = Key;

    fn active(&self, states: &Controllers) -> bool {
        states.deployment != ControllerState::Down
    }

    fn observe(&mut self, _ctx: &SimContext, change: &Change, out: &mut Vec<Key>) {
        let ns = change.namespace().to_string();
        let owners = |kind: &str, out: &mut Vec<String>| {
            for obj in std::iter::once(&change.object).chain(change.previous.iter()) {
                if let Some(n) = controller_name(obj, kind)
                    && !out.iter().any(|x| x == n)
                {
                    out.push(n.to_string());
                }
            }
        };
        let mut names = Vec::new();
        if change.rt == &DEPLOYMENTS {
            if change.kind != ChangeKind::Deleted {
                out.push(Key::Deployment(ns, change.name().to_string()));
            }
        } else if change.rt == &REPLICASETS {
            index(&mut self.replica_sets, change);
            if change.kind != ChangeKind::Deleted {
                out.push(Key::ReplicaSet(ns.clone(), change.name().to_string()));
            }
            owners("Deployment", &mut names);
            out.extend(names.into_iter().map(|n| Key::Deployment(ns.clone(), n)));
        } else if change.rt == &PODS {
            index(&mut self.pods, change);
            owners("ReplicaSet", &mut names);
            out.extend(names.into_iter().map(|n| Key::ReplicaSet(ns.clone(), n)));
        }
    }

    fn resync(&mut self, ctx: &SimContext, how: Resync, out: &mut Vec<Key>) {
        let (rss, _) = ctx.store.list(&REPLICASETS, None, &|_| true);
        if how == Resync::Rebuild {
            self.pods.clear();
            let (pods, _) = ctx.store.list(&PODS, None, &|_| true);
            pods.into_iter().for_each(|p| self.pods.upsert(p));
            self.replica_sets.clear();
            rss.iter()
                .for_each(|rs| self.replica_sets.upsert(rs.clone()));
        }
        let key = |o: &Arc<Value>| (meta::namespace(o).to_string(), meta::name(o).to_string());
        out.extend(rss.iter().map(|o| {
            let (ns, n) = key(o);
            Key::ReplicaSet(ns, n)
        }));
        let (ds, _) = ctx.store.list(&DEPLOYMENTS, None, &|_| true);
        out.extend(ds.iter().map(|o| {
            let (ns, n) = key(o);
            Key::Deployment(ns, n)
        }));
    }

    fn reconcile(&mut self, ctx: &SimContext, _: &Controllers, key: &Key) -> Option<Duration> {
        match key {
            Key::Deployment(ns, name) => self.sync_deployment(ctx, ns, name),
            Key::ReplicaSet(ns, name) => {
                replicaset::sync(ctx, &self.events, &mut self.pods, ns, name)
            }
        }
    }
}

/// Applies a change to an index.
fn index(idx: &mut OwnerIndex, change: &Change) {
    match change.kind {
        ChangeKind::Deleted => idx.remove(change.namespace(), change.name(), change.rv),
        _ => idx.upsert(change.object.clone()),
    }
}

/// `pod-template-hash` of a Deployment's pod template: 10 characters of the generated-name
/// alphabet, from a seeded hash of the template.
pub fn template_hash(seed: u64, template: &Value) -> String {
    Rng::new(hash_value(seed, template)).name_suffix(10)
}

fn revision(obj: &Value) -> i64 {
    meta::annotation(obj, REVISION_ANNOTATION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// `maxUnavailable` of a RollingUpdate strategy, resolved against `desired` (percentages round
/// down, as the real controller does); 0 for Recreate.
fn max_unavailable(d: &Value, desired: i64) -> i64 {
    if d.pointer("/spec/strategy/type").and_then(Value::as_str) != Some("RollingUpdate")
        || desired == 0
    {
        return 0;
    }
    let v = d.pointer("/spec/strategy/rollingUpdate/maxUnavailable");
    let n = match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(pct) => desired * pct / 100,
            None => s.parse().unwrap_or(0),
        },
        _ => desired * 25 / 100,
    };
    n.clamp(0, desired)
}

impl DeploymentController {
    fn sync_deployment(&mut self, ctx: &SimContext, ns: &str, name: &str) -> Option<Duration> {
        let store = &ctx.store;
        let d = get(store, &DEPLOYMENTS, ns, name)?;
        if meta::is_terminating(&d) {
            // Being deleted: the garbage collector takes the ReplicaSets away; nothing is created.
            return None;
        }
        let uid = meta::uid(&d).to_string();
        let template = d.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let hash = template_hash(self.seed, &template);
        let desired = int_at(&d, "/spec/replicas").unwrap_or(1).max(0);
        let mut owned = self.replica_sets.owned(&uid);
        self.adopt_orphans(ctx, &d, &mut owned);
        let max_rev = owned.iter().map(|rs| revision(rs)).max().unwrap_or(0);
        let mut retry = None;

        let new_pos = owned
            .iter()
            .position(|rs| meta::label(rs, TEMPLATE_HASH_LABEL) == Some(hash.as_str()));
        let new_rs = match new_pos {
            Some(i) => {
                let rs = owned[i].clone();
                let current = int_at(&rs, "/spec/replicas").unwrap_or(0);
                let stale_rev = revision(&rs) < max_rev;
                if (current != desired || stale_rev) && !meta::is_terminating(&rs) {
                    let rev = if stale_rev {
                        max_rev + 1
                    } else {
                        revision(&rs)
                    };
                    match self.scale_rs(ctx, &d, &rs, desired, Some(rev)) {
                        Some(updated) => {
                            owned[i] = updated.clone();
                            self.replica_sets.upsert(updated.clone());
                            Some(updated)
                        }
                        None => {
                            retry = Some(RETRY);
                            Some(rs)
                        }
                    }
                } else {
                    Some(rs)
                }
            }
            None => {
                let rs_name = format!("{name}-{hash}");
                let rs = new_replica_set(&d, &template, &hash, &rs_name, desired, max_rev + 1);
                match store.create(&REPLICASETS, ns, rs, &write_opts(MANAGER)) {
                    Ok(created) => {
                        self.events.record(
                            &d,
                            NORMAL,
                            "ScalingReplicaSet",
                            &format!("Scaled up replica set {rs_name} to {desired}"),
                            MANAGER,
                        );
                        owned.push(created.clone());
                        self.replica_sets.upsert(created.clone());
                        Some(created)
                    }
                    Err(e) => {
                        // The name may still be held by a terminating ReplicaSet: try later.
                        if e.reason != "AlreadyExists" {
                            self.events
                                .record(&d, WARNING, "FailedCreate", &e.message, MANAGER);
                        }
                        retry = Some(RETRY);
                        None
                    }
                }
            }
        };
        let new_uid = new_rs.as_ref().map(|rs| meta::uid(rs).to_string());

        for rs in owned.iter_mut() {
            let is_new = Some(meta::uid(rs)) == new_uid.as_deref();
            if is_new || meta::is_terminating(rs) || int_at(rs, "/spec/replicas") == Some(0) {
                continue;
            }
            match self.scale_rs(ctx, &d, rs, 0, None) {
                Some(updated) => {
                    self.replica_sets.upsert(updated.clone());
                    *rs = updated;
                }
                None => retry = Some(RETRY),
            }
        }

        if let Some(rs) = &new_rs {
            self.sync_revision_annotation(ctx, &d, revision(rs));
        }
        let status = deployment_status(&d, desired, new_rs.as_deref(), &owned);
        if write_status(store, &DEPLOYMENTS, &d, status, MANAGER).is_err() {
            retry = Some(RETRY);
        }
        retry
    }

    /// Adopts ReplicaSets without a controller that the Deployment's selector matches (left by
    /// an orphaning delete of an earlier Deployment of that name, say).
    fn adopt_orphans(&mut self, ctx: &SimContext, d: &Value, owned: &mut Vec<Arc<Value>>) {
        let orphans = self.replica_sets.orphans(meta::namespace(d));
        if orphans.is_empty() {
            return;
        }
        let Some(selector) = selector_of(d) else {
            return;
        };
        for rs in orphans {
            if meta::is_terminating(&rs) || !selector.matches_object(&rs) {
                continue;
            }
            if let Ok(adopted) = adopt(&ctx.store, &REPLICASETS, &rs, d, MANAGER)
                && controlled_by(&adopted, meta::uid(d))
            {
                self.replica_sets.upsert(adopted.clone());
                owned.push(adopted);
            }
        }
    }

    /// Sets a ReplicaSet's replicas (and revision), with the event the real controller records.
    fn scale_rs(
        &self,
        ctx: &SimContext,
        d: &Value,
        rs: &Value,
        replicas: i64,
        revision: Option<i64>,
    ) -> Option<Arc<Value>> {
        let from = int_at(rs, "/spec/replicas").unwrap_or(0);
        let uid = meta::uid(rs).to_string();
        let res = ctx.store.patch(
            &REPLICASETS,
            meta::namespace(rs),
            meta::name(rs),
            &write_opts(MANAGER),
            |cur| {
                let mut new = cur.clone();
                if meta::uid(cur) != uid {
                    return Ok(new);
                }
                meta::object_field_mut(&mut new, "spec").insert("replicas".into(), json!(replicas));
                let md = meta::metadata_mut(&mut new);
                let ann = md.entry("annotations").or_insert_with(|| json!({}));
                if let Some(a) = ann.as_object_mut() {
                    a.insert(
                        "deployment.kubernetes.io/desired-replicas".into(),
                        json!(replicas.to_string()),
                    );
                    if let Some(r) = revision {
                        a.insert(REVISION_ANNOTATION.into(), json!(r.to_string()));
                    }
                }
                Ok(new)
            },
        );
        let updated = res.ok()?;
        if from != replicas {
            let dir = if replicas > from { "up" } else { "down" };
            self.events.record(
                d,
                NORMAL,
                "ScalingReplicaSet",
                &format!(
                    "Scaled {dir} replica set {} to {replicas} from {from}",
                    meta::name(rs)
                ),
                MANAGER,
            );
        }
        Some(updated)
    }

    fn sync_revision_annotation(&self, ctx: &SimContext, d: &Value, rev: i64) {
        if rev <= 0 || revision(d) == rev {
            return;
        }
        let uid = meta::uid(d).to_string();
        let _ = ctx.store.patch(
            &DEPLOYMENTS,
            meta::namespace(d),
            meta::name(d),
            &write_opts(MANAGER),
            |cur| {
                let mut new = cur.clone();
                if meta::uid(cur) == uid {
                    let md = meta::metadata_mut(&mut new);
                    let ann = md.entry("annotations").or_insert_with(|| json!({}));
                    if let Some(a) = ann.as_object_mut() {
                        a.insert(REVISION_ANNOTATION.into(), json!(rev.to_string()));
                    }
                }
                Ok(new)
            },
        );
    }
}

/// The ReplicaSet for a Deployment's current template.
fn new_replica_set(
    d: &Value,
    template: &Value,
    hash: &str,
    name: &str,
    replicas: i64,
    revision: i64,
) -> Value {
    let mut template = template.clone();
    add_label(&mut template, hash);
    let labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    let mut selector = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
    match selector
        .as_object_mut()
        .map(|s| s.entry("matchLabels").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
    {
        Some(ml) => {
            ml.insert(TEMPLATE_HASH_LABEL.into(), json!(hash));
        }
        None => selector = json!({"matchLabels": {TEMPLATE_HASH_LABEL: hash}}),
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": meta::namespace(d),
            "labels": labels,
            "annotations": {
                "deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                "deployment.kubernetes.io/max-replicas": replicas.to_string(),
                REVISION_ANNOTATION: revision.to_string(),
            },
            "ownerReferences": [owner_ref(d)],
        },
        "spec": {
            "replicas": replicas,
            "minReadySeconds": int_at(d, "/spec/minReadySeconds").unwrap_or(0),
            "selector": selector,
            "template": template,
        },
    })
}

fn add_label(template: &mut Value, hash: &str) {
    let md = meta::metadata_mut(template);
    let labels = md.entry("labels").or_insert_with(|| json!({}));
    if !labels.is_object() {
        *labels = json!({});
    }
    if let Some(l) = labels.as_object_mut() {
        l.insert(TEMPLATE_HASH_LABEL.into(), json!(hash));
    }
}

/// Status of a Deployment from its ReplicaSets' statuses. Zero counts are omitted, as the API
/// omits them (`omitempty`).
fn deployment_status(
    d: &Value,
    desired: i64,
    new_rs: Option<&Value>,
    owned: &[Arc<Value>],
) -> Value {
    let sum = |p: &str| -> i64 { owned.iter().filter_map(|rs| int_at(rs, p)).sum() };
    let replicas = sum("/status/replicas");
    let ready = sum("/status/readyReplicas");
    let available = sum("/status/availableReplicas");
    let updated = new_rs
        .and_then(|rs| int_at(rs, "/status/replicas"))
        .unwrap_or(0);
    let new_available = new_rs
        .and_then(|rs| int_at(rs, "/status/availableReplicas"))
        .unwrap_or(0);
    let unavailable = (desired - available).max(0);

    let old = d.get("status").cloned().unwrap_or(json!({}));
    let mut conds = conditions_of(&old);
    let now = meta::format_time(meta::now());
    let min_available = desired - max_unavailable(d, desired);
    let avail = if available >= min_available {
        Cond {
            type_: "Available",
            status: "True",
            reason: "MinimumReplicasAvailable",
            message: "Deployment has minimum availability.",
        }
    } else {
        Cond {
            type_: "Available",
            status: "False",
            reason: "MinimumReplicasUnavailable",
            message: "Deployment does not have minimum availability.",
        }
    };
    set_condition(&mut conds, &avail, &now, true);
    if let Some(rs) = new_rs {
        let rs_name = meta::name(rs);
        let done = updated == desired && new_available == desired && replicas == desired;
        let (reason, message) = if done {
            (
                "NewReplicaSetAvailable",
                format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
            )
        } else {
            (
                "ReplicaSetUpdated",
                format!("ReplicaSet \"{rs_name}\" is progressing."),
            )
        };
        let progressing = Cond {
            type_: "Progressing",
            status: "True",
            reason,
            message: &message,
        };
        set_condition(&mut conds, &progressing, &now, true);
    }
    // Progressing first, then Available, as the real controller lists them.
    conds.sort_by_key(|c| c.get("type").and_then(Value::as_str) != Some("Progressing"));

    let mut s = Map::new();
    let mut put = |k: &str, v: i64| {
        if v != 0 {
            s.insert(k.into(), json!(v));
        }
    };
    put("observedGeneration", generation(d));
    put("replicas", replicas);
    put("updatedReplicas", updated);
    put("readyReplicas", ready);
    put("availableReplicas", available);
    put("unavailableReplicas", unavailable);
    s.insert("conditions".into(), Value::Array(conds));
    Value::Object(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_hash_is_ten_name_chars_and_seeded() {
        let t = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}});
        let h = template_hash(1, &t);
        assert_eq!(h.len(), 10);
        assert!(
            h.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_eq!(h, template_hash(1, &t));
        assert_ne!(h, template_hash(2, &t));
    }

    #[test]
    fn max_unavailable_resolves_percentages_down() {
        let d = |v: Value| json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": v}}}});
        assert_eq!(max_unavailable(&d(json!("25%")), 3), 0);
        assert_eq!(max_unavailable(&d(json!("25%")), 4), 1);
        assert_eq!(max_unavailable(&d(json!(2)), 1), 1);
        assert_eq!(
            max_unavailable(&json!({"spec": {"strategy": {"type": "Recreate"}}}), 4),
            0
        );
    }
}
