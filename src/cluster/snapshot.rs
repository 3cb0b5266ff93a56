//! A consistent-enough view of the watch stores at one moment: per kind an `Arc`'d list of
//! `Arc`'d objects, so taking one is cheap and derivation works on plain values. Built by
//! [`super::watch::ClusterWatch::snapshot`], by the `status` command from one list pass, and by
//! tests from JSON fixtures (`kubectl get ... -o json` output).

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::kinds::{
    DeploymentObject, HpaObject, InferenceServiceObject, IngressObject, LeaseObject, PodObject,
    ReplicaSetObject, ServiceObject,
};
use super::model::Kind;

/// Objects per kind. Order within a list is unspecified; derivation sorts what it shows.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub inference_services: Arc<Vec<Arc<InferenceServiceObject>>>,
    pub deployments: Arc<Vec<Arc<DeploymentObject>>>,
    pub replica_sets: Arc<Vec<Arc<ReplicaSetObject>>>,
    pub pods: Arc<Vec<Arc<PodObject>>>,
    pub services: Arc<Vec<Arc<ServiceObject>>>,
    pub hpas: Arc<Vec<Arc<HpaObject>>>,
    pub ingresses: Arc<Vec<Arc<IngressObject>>>,
    /// Only the console's leases (`llmops-console-*`).
    pub leases: Arc<Vec<Arc<LeaseObject>>>,
}

/// A fixture or list that could not be read into a snapshot.
#[derive(Debug, thiserror::Error)]
#[error("item {index} ({kind} {name}): {message}")]
pub struct SnapshotError {
    pub index: usize,
    pub kind: String,
    pub name: String,
    pub message: String,
}

/// Collects objects, then freezes them into a [`Snapshot`].
#[derive(Debug, Default)]
pub struct SnapshotBuilder {
    pub inference_services: Vec<Arc<InferenceServiceObject>>,
    pub deployments: Vec<Arc<DeploymentObject>>,
    pub replica_sets: Vec<Arc<ReplicaSetObject>>,
    pub pods: Vec<Arc<PodObject>>,
    pub services: Vec<Arc<ServiceObject>>,
    pub hpas: Vec<Arc<HpaObject>>,
    pub ingresses: Vec<Arc<IngressObject>>,
    pub leases: Vec<Arc<LeaseObject>>,
}

fn parse<T: DeserializeOwned>(v: &Value) -> Result<Arc<T>, String> {
    T::deserialize(v).map(Arc::new).map_err(|e| e.to_string())
}

impl SnapshotBuilder {
    /// Adds one object by its `kind`. Kinds the console does not show (Event, Namespace, ...)
    /// are skipped; so are leases not named `llmops-console-*`. Returns whether it was kept.
    pub fn push_json(&mut self, obj: &Value) -> Result<bool, String> {
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        match kind {
            "InferenceService" => self.inference_services.push(parse(obj)?),
            "Deployment" => self.deployments.push(parse(obj)?),
            "ReplicaSet" => self.replica_sets.push(parse(obj)?),
            "Pod" => self.pods.push(parse(obj)?),
            "Service" => self.services.push(parse(obj)?),
            "HorizontalPodAutoscaler" => self.hpas.push(parse(obj)?),
            "Ingress" => self.ingresses.push(parse(obj)?),
            "Lease" => {
                let lease: Arc<LeaseObject> = parse(obj)?;
                let ours = lease
                    .metadata
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with(super::kinds::LEASE_PREFIX));
                if !ours {
                    return Ok(false);
                }
                self.leases.push(lease);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub fn build(self) -> Snapshot {
        Snapshot {
            inference_services: Arc::new(self.inference_services),
            deployments: Arc::new(self.deployments),
            replica_sets: Arc::new(self.replica_sets),
            pods: Arc::new(self.pods),
            services: Arc::new(self.services),
            hpas: Arc::new(self.hpas),
            ingresses: Arc::new(self.ingresses),
            leases: Arc::new(self.leases),
        }
    }
}

impl Snapshot {
    /// Reads a `List` (`{"items": [...]}`, as `kubectl get a,b,c -o json` prints) or a bare
    /// array of objects of any of the console's kinds.
    pub fn from_list_json(list: &Value) -> Result<Snapshot, SnapshotError> {
        let items = match list {
            Value::Array(a) => a.as_slice(),
            other => other
                .get("items")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default(),
        };
        let mut b = SnapshotBuilder::default();
        for (index, item) in items.iter().enumerate() {
            b.push_json(item).map_err(|message| SnapshotError {
                index,
                kind: item
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string(),
                name: item
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string(),
                message,
            })?;
        }
        Ok(b.build())
    }

    /// Number of objects of a kind.
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::InferenceService => self.inference_services.len(),
            Kind::Deployment => self.deployments.len(),
            Kind::ReplicaSet => self.replica_sets.len(),
            Kind::Pod => self.pods.len(),
            Kind::Service => self.services.len(),
            Kind::HorizontalPodAutoscaler => self.hpas.len(),
            Kind::Ingress => self.ingresses.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_json_sorts_items_by_kind_and_skips_others() {
        let list = json!({"kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a"}},
            {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}, "involvedObject": {}},
            {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "kube-scheduler"}},
            {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "llmops-console-x"}},
            {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": {"name": "i"}, "spec": {}},
        ]});
        let s = Snapshot::from_list_json(&list).unwrap();
        assert_eq!(s.count(Kind::Pod), 1);
        assert_eq!(s.count(Kind::InferenceService), 1);
        assert_eq!(s.leases.len(), 1);
    }

    #[test]
    fn a_bad_item_is_named() {
        let list =
            json!([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": 3}}]);
        let err = Snapshot::from_list_json(&list).unwrap_err().to_string();
        assert!(err.starts_with("item 0 (Pod p): "), "{err}");
    }
}
