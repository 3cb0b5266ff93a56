//! Pure derivation of the endpoint rows from a [`Snapshot`] and `now`: grouping (`group`), each
//! object's state (`state`), the resource trees (`tree`), leases (`lease`), and the endpoint's
//! health, replicas, reasons and oldest Terminating object (here).
//!
//! Endpoint health is the worst of its parts, with one softening: a pod Terminating within its
//! grace period and without finalizers is what every rollout looks like, so it counts as
//! Progressing for the endpoint (the pod itself still shows Terminating). A live console lease
//! makes the endpoint Redeploying, whatever its parts say mid-operation; an expired one (its
//! holder died) leaves the parts' health and says `lease expired (holder gone?)` in the reasons.

mod group;
mod index;
mod lease;
mod select;
mod state;
mod tree;

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::kinds::{LEASE_MODE_ANNOTATION, LEASE_PREFIX};
use super::model::{EndpointKey, EndpointView, Health, Kind, LeaseInfo, Mode, ResourceNode};
use super::snapshot::Snapshot;
use crate::util::age::{format_age, format_signed};
use group::Group;
use index::Index;

pub use lease::{LEASE_EXPIRED, MAX_LEASE_SECS, expire_leases, expired_reason, lease_info};
pub use select::{RawSelector, selector_matches};
pub use state::{ObjState, in_grace, terminating};
pub use tree::flatten;

/// How endpoints are found (`[grouping]` in config.toml).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupingConfig {
    /// A Deployment with this label (`key`) or label value (`key=value`) is a raw endpoint.
    pub raw_endpoint_label: String,
}

impl Default for GroupingConfig {
    fn default() -> Self {
        GroupingConfig {
            raw_endpoint_label: "llm-ops.io/endpoint".to_string(),
        }
    }
}

impl From<&crate::config::settings::EndpointSettings> for GroupingConfig {
    fn from(s: &crate::config::settings::EndpointSettings) -> Self {
        GroupingConfig {
            raw_endpoint_label: s.raw_endpoint_label.clone(),
        }
    }
}

/// Reasons listed per endpoint before "... and N more".
const MAX_REASONS: usize = 8;

/// Every endpoint of the snapshot, sorted by namespace, then name (then mode).
pub fn derive_endpoints(
    snapshot: &Snapshot,
    cfg: &GroupingConfig,
    now: Timestamp,
) -> Vec<EndpointView> {
    let ix = Index::build(snapshot);
    let raw = RawSelector::parse(&cfg.raw_endpoint_label);
    let groups = group::group(&ix, &raw);

    let mut leases: BTreeMap<(String, String), (LeaseInfo, Option<Mode>)> = BTreeMap::new();
    for l in snapshot.leases.iter() {
        let Some(endpoint) = l
            .metadata
            .name
            .as_deref()
            .and_then(|n| n.strip_prefix(LEASE_PREFIX))
        else {
            continue;
        };
        let ns = l.metadata.namespace.clone().unwrap_or_default();
        let mode = l
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(LEASE_MODE_ANNOTATION))
            .and_then(|m| match m.as_str() {
                "kserve" => Some(Mode::Kserve),
                "raw" => Some(Mode::Raw),
                _ => None,
            });
        leases.insert((ns, endpoint.to_string()), (lease_info(l, now), mode));
    }

    let mut out: Vec<EndpointView> = Vec::with_capacity(groups.len());
    let mut with_rows = HashSet::new();
    for g in &groups {
        let key = (g.ns.to_string(), g.name.to_string());
        let lease = leases.get(&key).map(|(l, _)| l.clone());
        with_rows.insert(key);
        out.push(endpoint_view(&ix, g, lease, now));
    }
    // A redeploy between delete and create leaves no objects: the lease keeps the row.
    for ((ns, name), (info, mode)) in leases {
        if !info.live || with_rows.contains(&(ns.clone(), name.clone())) {
            continue;
        }
        out.push(EndpointView {
            key: EndpointKey {
                namespace: ns,
                name,
                mode: mode.unwrap_or(Mode::Kserve),
            },
            uid: String::new(),
            health: Health::Redeploying,
            // Nothing of the endpoint is there to judge once the lease expires.
            objects_health: Health::Unknown,
            ready: 0,
            desired: 0,
            created: None,
            reasons: vec![lease::live_reason(&info)],
            lease: Some(info),
            resources: Vec::new(),
            oldest_terminating: None,
        });
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// One short reason for a node that is not Ready.
fn node_reason(n: &ResourceNode, now: Timestamp) -> String {
    let what = format!("{} {}", n.kind.short(), n.name);
    let Some(t) = &n.terminating else {
        return format!("{what}: {}", n.summary);
    };
    let mut s = format!("{what}: Terminating for {}", format_age(t.since, now));
    if !t.finalizers.is_empty() {
        s.push_str(&format!(" ({})", t.finalizers.join(", ")));
    } else if t.deletion_timestamp > now {
        s.push_str(&format!(
            " (grace period, {} left)",
            format_signed(t.deletion_timestamp.duration_since(now))
        ));
    } else {
        s.push_str(&format!(
            " (past its grace period by {})",
            format_age(t.deletion_timestamp, now)
        ));
    }
    s
}

fn endpoint_view(ix: &Index, g: &Group, lease: Option<LeaseInfo>, now: Timestamp) -> EndpointView {
    let resources = tree::build_tree(ix, &g.members, g.root);
    let all = tree::flatten(&resources);
    let root = g.root.map(|r| &ix.nodes[r]);

    let mut health = Health::Ready;
    let mut reasons = Vec::new();
    let mut oldest = None::<&super::model::Terminating>;
    for n in &all {
        let contributes = match &n.terminating {
            Some(t) if n.kind == Kind::Pod && in_grace(t, now) => Health::Progressing,
            _ => n.health,
        };
        health = health.min(contributes);
        if n.health != Health::Ready {
            reasons.push(node_reason(n, now));
        }
        if let Some(t) = &n.terminating
            && oldest.is_none_or(|o| t.since < o.since)
        {
            oldest = Some(t);
        }
    }
    if root.is_none() {
        health = health.min(Health::Degraded);
        let what = match g.mode {
            Mode::Kserve => "InferenceService",
            Mode::Raw => "Deployment",
        };
        reasons.insert(
            0,
            format!(
                "{what} {} is gone; {} left behind",
                g.name,
                crate::util::plural(all.len(), "object")
            ),
        );
    }
    let objects_health = health;
    match lease.as_ref() {
        Some(l) if l.live => {
            health = Health::Redeploying;
            reasons.insert(0, lease::live_reason(l));
        }
        // Beside the real health: the operation that took the lease is not running any more.
        Some(l) if l.expired() => reasons.insert(0, lease::expired_reason(l, now)),
        _ => {}
    }
    if reasons.len() > MAX_REASONS {
        let more = reasons.len() - (MAX_REASONS - 1);
        reasons.truncate(MAX_REASONS - 1);
        reasons.push(format!("... and {more} more"));
    }

    let (ready, desired) = replicas(ix, g, root);
    EndpointView {
        key: EndpointKey {
            namespace: g.ns.to_string(),
            name: g.name.to_string(),
            mode: g.mode,
        },
        uid: root.map(|r| r.uid().to_string()).unwrap_or_default(),
        health,
        objects_health,
        ready,
        desired,
        created: root.and_then(|r| r.meta.creation_timestamp.as_ref().map(|t| t.0)),
        lease,
        oldest_terminating: oldest.cloned(),
        resources,
        reasons,
    }
}

/// Ready and desired replicas: the raw endpoint's Deployment; for KServe the sum of its
/// Deployments that are not being deleted, else the InferenceService's minReplicas.
fn replicas(ix: &Index, g: &Group, root: Option<&index::Node>) -> (u32, u32) {
    if let Some(r) = root.filter(|r| r.kind == Kind::Deployment) {
        return r.replicas.unwrap_or_default();
    }
    let deployments: Vec<(u32, u32)> = g
        .members
        .iter()
        .map(|&m| &ix.nodes[m])
        .filter(|n| n.kind == Kind::Deployment && n.state.terminating.is_none())
        .filter_map(|n| n.replicas)
        .collect();
    if deployments.is_empty() {
        let min = root.and_then(|r| r.min_replicas).unwrap_or(0);
        return (0, min);
    }
    deployments
        .iter()
        .fold((0, 0), |(r, d), (r2, d2)| (r + r2, d + d2))
}

#[cfg(test)]
mod tests;
