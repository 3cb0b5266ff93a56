//! Every object of a snapshot as one uniform node (kind, metadata, state, what grouping needs),
//! indexed by UID and by the names and labels grouping looks up.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};

use super::select::Labels;
use super::state::{self, ObjState};
use crate::cluster::model::Kind;
use crate::cluster::snapshot::Snapshot;

/// How a node selects pods, for pods reached by selector rather than by ownership.
pub enum PodSelector<'a> {
    Label(&'a LabelSelector),
}

pub struct Node<'a> {
    pub kind: Kind,
    pub meta: &'a ObjectMeta,
    pub state: ObjState,
    pub selector: Option<PodSelector<'a>>,
    /// HPA `scaleTargetRef` (kind, name).
    pub scale_target: Option<(&'a str, &'a str)>,
    /// Deployments: (ready, desired).
    pub replicas: Option<(u32, u32)>,
    /// InferenceServices: spec.predictor.minReplicas.
    pub min_replicas: Option<u32>,
}

static NO_LABELS: Labels = BTreeMap::new();

impl<'a> Node<'a> {
    pub fn ns(&self) -> &'a str {
        self.meta.namespace.as_deref().unwrap_or("")
    }
    pub fn name(&self) -> &'a str {
        self.meta.name.as_deref().unwrap_or("")
    }
    pub fn uid(&self) -> &'a str {
        self.meta.uid.as_deref().unwrap_or("")
    }
    pub fn labels(&self) -> &'a Labels {
        self.meta.labels.as_ref().unwrap_or(&NO_LABELS)
    }
    pub fn label(&self, key: &str) -> Option<&'a str> {
        self.labels().get(key).map(String::as_str)
    }
    /// The controlling owner reference, else the first one.
    pub fn owner_ref(&self) -> Option<&'a OwnerReference> {
        let refs = self.meta.owner_references.as_deref()?;
        refs.iter()
            .find(|r| r.controller == Some(true))
            .or_else(|| refs.first())
    }
}

pub struct Index<'a> {
    pub nodes: Vec<Node<'a>>,
    pub by_uid: HashMap<&'a str, usize>,
    /// Direct dependents by owner UID (through the controlling owner reference).
    pub children: HashMap<&'a str, Vec<usize>>,
}

/// Longest owner chain followed; deeper (or cyclic) chains are cut.
const MAX_CHAIN: usize = 16;

impl<'a> Index<'a> {
    pub fn build(s: &'a Snapshot) -> Index<'a> {
        let mut nodes = Vec::new();
        let plain = |kind, meta, state| Node {
            kind,
            meta,
            state,
            selector: None,
            scale_target: None,
            replicas: None,
            min_replicas: None,
        };
        for o in s.inference_services.iter() {
            let mut n = plain(
                Kind::InferenceService,
                &o.metadata,
                state::inference_service_state(o),
            );
            n.min_replicas = Some(state::inference_service_min_replicas(o));
            nodes.push(n);
        }
        for o in s.deployments.iter() {
            let mut n = plain(Kind::Deployment, &o.metadata, state::deployment_state(o));
            n.selector = o.spec.as_ref().map(|sp| PodSelector::Label(&sp.selector));
            n.replicas = Some(state::deployment_replicas(o));
            nodes.push(n);
        }
        for o in s.replica_sets.iter() {
            let mut n = plain(Kind::ReplicaSet, &o.metadata, state::replica_set_state(o));
            n.selector = o.spec.as_ref().map(|sp| PodSelector::Label(&sp.selector));
            nodes.push(n);
        }
        for o in s.pods.iter() {
            nodes.push(plain(Kind::Pod, &o.metadata, state::pod_state(o)));
        }
        for o in s.services.iter() {
            nodes.push(plain(Kind::Service, &o.metadata, state::service_state(o)));
        }
        for o in s.hpas.iter() {
            let mut n = plain(
                Kind::HorizontalPodAutoscaler,
                &o.metadata,
                state::hpa_state(o),
            );
            n.scale_target = o.spec.as_ref().map(|sp| {
                (
                    sp.scale_target_ref.kind.as_str(),
                    sp.scale_target_ref.name.as_str(),
                )
            });
            nodes.push(n);
        }
        for o in s.ingresses.iter() {
            nodes.push(plain(Kind::Ingress, &o.metadata, state::ingress_state(o)));
        }
        // Deterministic order whatever the stores' order: kind, namespace, name, uid.
        nodes.sort_by(|a, b| {
            (a.kind, a.ns(), a.name(), a.uid()).cmp(&(b.kind, b.ns(), b.name(), b.uid()))
        });
        let mut by_uid = HashMap::new();
        for (i, n) in nodes.iter().enumerate() {
            if !n.uid().is_empty() {
                by_uid.insert(n.uid(), i);
            }
        }
        let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, n) in nodes.iter().enumerate() {
            if let Some(r) = n.owner_ref() {
                children.entry(r.uid.as_str()).or_default().push(i);
            }
        }
        Index {
            nodes,
            by_uid,
            children,
        }
    }

    /// The owner chain of a node, nearest first: each step's owner reference, followed through
    /// the snapshot as far as the owners are in it. `(Kind/name, kind, uid)` per step.
    pub fn chain(&self, i: usize) -> Vec<(String, &'a str, &'a str)> {
        let mut out = Vec::new();
        let mut cur = i;
        while out.len() < MAX_CHAIN {
            let Some(r) = self.nodes[cur].owner_ref() else {
                break;
            };
            if out.iter().any(|(_, _, uid)| *uid == r.uid.as_str()) {
                break;
            }
            out.push((
                format!("{}/{}", r.kind, r.name),
                r.kind.as_str(),
                r.uid.as_str(),
            ));
            match self.by_uid.get(r.uid.as_str()) {
                Some(&next) if next != i => cur = next,
                _ => break,
            }
        }
        out
    }

    /// Whether anything in the node's owner chain is an InferenceService.
    pub fn owned_by_isvc(&self, i: usize) -> bool {
        self.chain(i)
            .iter()
            .any(|(_, kind, _)| *kind == Kind::InferenceService.name())
    }

    /// The node and everything below it through controlling owner references.
    pub fn descendants(&self, i: usize) -> Vec<usize> {
        let mut out = vec![i];
        let mut seen = std::collections::HashSet::from([i]);
        let mut k = 0;
        while k < out.len() {
            let uid = self.nodes[out[k]].uid();
            if let Some(kids) = self.children.get(uid).filter(|_| !uid.is_empty()) {
                for &c in kids {
                    if seen.insert(c) {
                        out.push(c);
                    }
                }
            }
            k += 1;
        }
        out
    }

    /// Whether the node's controlling owner is absent from the snapshot (or it has none): a pod
    /// like that is a leftover a selector may claim.
    pub fn unowned(&self, i: usize) -> bool {
        self.nodes[i]
            .owner_ref()
            .is_none_or(|r| !self.by_uid.contains_key(r.uid.as_str()))
    }
}
