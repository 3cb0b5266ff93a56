//! What an endpoint is made of right now: one list pass per kind in its namespace, grouped by
//! the same derivation the panes use, so an operation acts on exactly what the operator saw.

use std::collections::HashMap;

use serde_json::Value;

use super::kapi::{self, ApiFailure};
use super::record::{EndpointId, ObjectId};
use crate::cluster::derive::{GroupingConfig, derive_endpoints, flatten};
use crate::cluster::model::{EndpointView, Kind, Mode, ResourceNode};
use crate::cluster::snapshot::SnapshotBuilder;

/// One object of the endpoint as read.
#[derive(Debug, Clone)]
pub struct Member {
    pub kind: Kind,
    pub id: ObjectId,
    pub json: Value,
    /// A root of the endpoint's tree (not owned by another of its objects).
    pub root: bool,
}

impl Member {
    /// Roots that a controller does not make: recreated from the backup. Pods and ReplicaSets
    /// come back through their Deployment.
    pub fn recreated(&self) -> bool {
        self.root && !matches!(self.kind, Kind::Pod | Kind::ReplicaSet)
    }
}

/// The endpoint and every object of it.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub endpoint: EndpointId,
    pub view: EndpointView,
    /// Tree order: each root followed by its descendants.
    pub members: Vec<Member>,
}

/// Why the endpoint could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InventoryError {
    #[error(
        "no endpoint {0} (no InferenceService, nor Deployment with the endpoint label, of that name); \
         `llmops-console status -n {ns}` lists the endpoints",
        ns = .0.namespace
    )]
    NotFound(EndpointId),
    #[error(transparent)]
    Api(#[from] ApiFailure),
}

/// Lists every kind in the endpoint's namespace and picks the endpoint out. An endpoint named
/// both ways (an InferenceService and a raw Deployment) is taken as KServe unless `mode` says.
pub async fn read(
    client: &kube::Client,
    endpoint: &EndpointId,
    grouping: &GroupingConfig,
) -> Result<Inventory, InventoryError> {
    let ns = endpoint.namespace.as_str();
    let lists = futures::future::join_all(
        Kind::ALL
            .into_iter()
            .map(|k| async move { (k, kapi::list(client, ns, k).await) }),
    )
    .await;
    let mut b = SnapshotBuilder::default();
    let mut by_key: HashMap<(Kind, String), Value> = HashMap::new();
    for (kind, result) in lists {
        let items = match result {
            Ok(items) => items,
            // KServe not installed: no InferenceServices, the rest still works.
            Err(e) if kind == Kind::InferenceService && e.code == Some(404) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        for item in items {
            // An object the typed model cannot read is shown nowhere; skip it here too.
            if b.push_json(&item).unwrap_or(false) {
                by_key.insert((kind, kapi::name(&item).to_string()), item);
            }
        }
    }
    let views = derive_endpoints(&b.build(), grouping, jiff::Timestamp::now());
    let pick = |mode: Mode| {
        views
            .iter()
            .find(|v| v.key.namespace == ns && v.key.name == endpoint.name && v.key.mode == mode)
    };
    let view = match endpoint.mode {
        Some(m) => pick(m),
        None => pick(Mode::Kserve).or_else(|| pick(Mode::Raw)),
    }
    .ok_or_else(|| InventoryError::NotFound(endpoint.clone()))?
    .clone();
    let mut members = Vec::new();
    for root in &view.resources {
        for node in flatten(std::slice::from_ref(root)) {
            if let Some(m) = member(node, &by_key, std::ptr::eq(node, root)) {
                members.push(m);
            }
        }
    }
    Ok(Inventory {
        endpoint: EndpointId {
            namespace: endpoint.namespace.clone(),
            name: endpoint.name.clone(),
            mode: Some(view.key.mode),
        },
        view,
        members,
    })
}

/// The endpoint an object belongs to, if any (strip-finalizers names an object, the lock is
/// per endpoint).
pub async fn endpoint_of(
    client: &kube::Client,
    ns: &str,
    kind: Kind,
    name: &str,
    grouping: &GroupingConfig,
) -> Result<Option<EndpointId>, ApiFailure> {
    let mut b = SnapshotBuilder::default();
    for k in Kind::ALL {
        let items = match kapi::list(client, ns, k).await {
            Ok(items) => items,
            Err(e) if k == Kind::InferenceService && e.code == Some(404) => Vec::new(),
            Err(e) => return Err(e),
        };
        for item in &items {
            let _ = b.push_json(item);
        }
    }
    let views = derive_endpoints(&b.build(), grouping, jiff::Timestamp::now());
    Ok(views
        .iter()
        .find(|v| {
            flatten(&v.resources)
                .iter()
                .any(|n| n.kind == kind && n.name == name && n.namespace == ns)
        })
        .map(|v| EndpointId {
            namespace: v.key.namespace.clone(),
            name: v.key.name.clone(),
            mode: Some(v.key.mode),
        }))
}

fn member(
    node: &ResourceNode,
    by_key: &HashMap<(Kind, String), Value>,
    root: bool,
) -> Option<Member> {
    let json = by_key.get(&(node.kind, node.name.clone()))?.clone();
    Some(Member {
        kind: node.kind,
        id: ObjectId {
            kind: node.kind.name().to_string(),
            namespace: node.namespace.clone(),
            name: node.name.clone(),
            uid: kapi::uid(&json).to_string(),
        },
        json,
        root,
    })
}

impl Inventory {
    pub fn ids(&self) -> Vec<ObjectId> {
        self.members.iter().map(|m| m.id.clone()).collect()
    }

    /// The members to delete explicitly: the roots, workload first (the rest goes by garbage
    /// collection, and is verified gone by UID like the roots).
    pub fn delete_order(&self) -> Vec<&Member> {
        let mut roots: Vec<&Member> = self.members.iter().filter(|m| m.root).collect();
        roots.sort_by_key(|m| delete_rank(m.kind));
        roots
    }

    /// The root workload (InferenceService or Deployment), if it exists.
    pub fn workload(&self) -> Option<&Member> {
        self.members
            .iter()
            .find(|m| m.root && matches!(m.kind, Kind::InferenceService | Kind::Deployment))
    }
}

/// Delete the workload first so its controller stops recreating what goes next.
fn delete_rank(kind: Kind) -> u8 {
    match kind {
        Kind::InferenceService => 0,
        Kind::Deployment => 1,
        Kind::HorizontalPodAutoscaler => 2,
        Kind::Ingress => 3,
        Kind::Service => 4,
        Kind::ReplicaSet => 5,
        Kind::Pod => 6,
    }
}

/// Create the workload first too: its Service and HPA point at it.
pub fn create_rank(kind: Kind) -> u8 {
    delete_rank(kind)
}
