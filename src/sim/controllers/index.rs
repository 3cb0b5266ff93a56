//! A cache of objects by the uid of their controlling owner of one kind (pods by ReplicaSet,
//! ReplicaSets by Deployment), plus the orphans (no controller at all) that an owner may adopt,
//! kept from the change stream like an informer's indexer, so that a sync does not scan its whole
//! namespace. A controller records its own creates and deletes at
//! once (the role of the real controllers' "expectations"), so a sync never misses its own
//! recent writes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use super::objects::controller_ref;
use crate::sim::meta;

type ObjKey = (String, String);

pub fn rv_of(obj: &Value) -> u64 {
    meta::resource_version(obj).parse().unwrap_or(0)
}

pub struct OwnerIndex {
    owner_kind: &'static str,
    /// By owner uid; "" holds the orphans.
    by_owner: HashMap<String, BTreeMap<ObjKey, Arc<Value>>>,
    /// Where each object seen is filed (None: controlled by another kind) and its revision.
    seen: HashMap<ObjKey, (Option<String>, u64)>,
}

impl OwnerIndex {
    pub fn new(owner_kind: &'static str) -> Self {
        OwnerIndex {
            owner_kind,
            by_owner: HashMap::new(),
            seen: HashMap::new(),
        }
    }

    pub fn clear(&mut self) {
        self.by_owner.clear();
        self.seen.clear();
    }

    /// Records an object, unless what is held is newer.
    pub fn upsert(&mut self, obj: Arc<Value>) {
        let key = (
            meta::namespace(&obj).to_string(),
            meta::name(&obj).to_string(),
        );
        let rv = rv_of(&obj);
        if self.seen.get(&key).is_some_and(|(_, held)| *held > rv) {
            return;
        }
        self.unlink(&key);
        let owner = match controller_ref(&obj) {
            None => Some(String::new()),
            Some(r) if r.get("kind").and_then(Value::as_str) == Some(self.owner_kind) => {
                r.get("uid").and_then(Value::as_str).map(str::to_string)
            }
            Some(_) => None,
        };
        if let Some(o) = &owner {
            self.by_owner
                .entry(o.clone())
                .or_default()
                .insert(key.clone(), obj);
        }
        self.seen.insert(key, (owner, rv));
    }

    /// Forgets an object deleted at revision `rv`, unless what is held is newer (a new object
    /// of the same name).
    pub fn remove(&mut self, ns: &str, name: &str, rv: u64) {
        let key = (ns.to_string(), name.to_string());
        if self.seen.get(&key).is_some_and(|(_, held)| *held > rv) {
            return;
        }
        self.unlink(&key);
    }

    fn unlink(&mut self, key: &ObjKey) {
        if let Some((Some(owner), _)) = self.seen.remove(key)
            && let Some(set) = self.by_owner.get_mut(&owner)
        {
            set.remove(key);
            if set.is_empty() {
                self.by_owner.remove(&owner);
            }
        }
    }

    /// The objects controlled by the owner with this uid, in name order.
    pub fn owned(&self, uid: &str) -> Vec<Arc<Value>> {
        if uid.is_empty() {
            return Vec::new();
        }
        self.by_owner
            .get(uid)
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Objects of a namespace without any controller, in name order.
    pub fn orphans(&self, ns: &str) -> Vec<Arc<Value>> {
        let Some(set) = self.by_owner.get("") else {
            return Vec::new();
        };
        set.range((ns.to_string(), String::new())..)
            .take_while(|((n, _), _)| n == ns)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, owner: &str, rv: u64) -> Arc<Value> {
        Arc::new(json!({"metadata": {
            "name": name, "namespace": "ns", "resourceVersion": rv.to_string(),
            "ownerReferences": [{"kind": "ReplicaSet", "uid": owner, "controller": true}],
        }}))
    }

    #[test]
    fn stale_updates_and_deletions_are_ignored() {
        let mut idx = OwnerIndex::new("ReplicaSet");
        idx.upsert(pod("a", "rs1", 5));
        idx.upsert(pod("a", "rs1", 3));
        assert_eq!(idx.owned("rs1")[0]["metadata"]["resourceVersion"], "5");
        idx.remove("ns", "a", 4);
        assert_eq!(idx.owned("rs1").len(), 1);
        // An orphaned pod moves out of its old owner's set.
        idx.upsert(Arc::new(
            json!({"metadata": {"name": "a", "namespace": "ns", "resourceVersion": "6"}}),
        ));
        assert!(idx.owned("rs1").is_empty());
        assert_eq!(idx.orphans("ns").len(), 1);
        assert!(idx.orphans("other").is_empty());
        assert!(idx.owned("").is_empty());
        idx.upsert(pod("b", "rs2", 7));
        idx.remove("ns", "b", 8);
        assert!(idx.owned("rs2").is_empty());
        // Other owner kinds are not indexed.
        let mut by_deploy = OwnerIndex::new("Deployment");
        by_deploy.upsert(pod("c", "rs1", 1));
        assert!(by_deploy.owned("rs1").is_empty());
    }
}
