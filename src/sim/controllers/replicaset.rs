//! The ReplicaSet half of the deployment controller: pods `<rs>-<5 chars>` (the store's seeded
//! generateName) owned by the ReplicaSet, scaled up and down, and the ReplicaSet's status.
//! `minReadySeconds` is not simulated: a Ready pod counts as available at once.

use std::cmp::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::events::{EventRecorder, NORMAL, WARNING};
use super::index::{OwnerIndex, rv_of};
use super::objects::{adopt, condition_true, controlled_by, generation, get, int_at};
use super::objects::{owner_ref, selector_of, str_at};
use super::objects::{write_opts, write_status};
use crate::sim::context::SimContext;
use crate::sim::kinds::{PODS, REPLICASETS};
use crate::sim::meta;
use crate::sim::store::{DeleteOptions, DeleteOutcome, Precondition};

pub const MANAGER: &str = "replicaset-controller";
/// Pods created or deleted per pass; the rest follow in the next pass.
const BURST: usize = 500;
const RETRY: Duration = Duration::from_secs(1);

/// Whether a pod counts toward a ReplicaSet's replicas (not terminating, not finished).
fn is_active(pod: &Value) -> bool {
    !meta::is_terminating(pod) && !matches!(str_at(pod, "/status/phase"), "Succeeded" | "Failed")
}

pub fn sync(
    ctx: &SimContext,
    events: &EventRecorder,
    pods: &mut OwnerIndex,
    ns: &str,
    name: &str,
) -> Option<Duration> {
    let store = &ctx.store;
    let rs = get(store, &REPLICASETS, ns, name)?;
    let uid = meta::uid(&rs).to_string();
    let mut active: Vec<Arc<Value>> = pods
        .owned(&uid)
        .into_iter()
        .filter(|p| is_active(p))
        .collect();
    let desired = usize::try_from(int_at(&rs, "/spec/replicas").unwrap_or(1).max(0)).unwrap_or(0);
    let mut retry = None;

    if !meta::is_terminating(&rs) {
        if active.len() < desired {
            adopt_pods(ctx, pods, &rs, desired - active.len(), &mut active);
        }
        if active.len() < desired {
            let want = desired - active.len();
            for _ in 0..want.min(BURST) {
                match store.create(&PODS, ns, new_pod(&rs), &write_opts(MANAGER)) {
                    Ok(pod) => {
                        events.record(
                            &rs,
                            NORMAL,
                            "SuccessfulCreate",
                            &format!("Created pod: {}", meta::name(&pod)),
                            MANAGER,
                        );
                        pods.upsert(pod);
                    }
                    Err(e) => {
                        events.record(
                            &rs,
                            WARNING,
                            "FailedCreate",
                            &format!("Error creating: {}", e.message),
                            MANAGER,
                        );
                        retry = Some(RETRY);
                        break;
                    }
                }
            }
            if want > BURST && retry.is_none() {
                retry = Some(Duration::ZERO);
            }
        } else if active.len() > desired {
            active.sort_by(|a, b| deletion_rank(a, b));
            let excess = active.len() - desired;
            for pod in active.iter().take(excess.min(BURST)) {
                let opts = DeleteOptions {
                    preconditions: Precondition {
                        uid: Some(meta::uid(pod).to_string()),
                        resource_version: None,
                    },
                    ..Default::default()
                };
                match store.delete(&PODS, ns, meta::name(pod), &opts) {
                    Ok(outcome) => {
                        events.record(
                            &rs,
                            NORMAL,
                            "SuccessfulDelete",
                            &format!("Deleted pod: {}", meta::name(pod)),
                            MANAGER,
                        );
                        match outcome {
                            DeleteOutcome::Terminating(p) => pods.upsert(p),
                            DeleteOutcome::Removed(p) => pods.remove(ns, meta::name(&p), rv_of(&p)),
                        }
                    }
                    Err(e) if e.code == 404 => {}
                    Err(_) => retry = Some(RETRY),
                }
            }
            if excess > BURST && retry.is_none() {
                retry = Some(Duration::ZERO);
            }
        }
    }

    // Status from the pods seen before this pass, as the real controller computes it; the
    // pod changes this pass caused bring the next pass and the next status.
    let ready = active.iter().filter(|p| condition_true(p, "Ready")).count() as i64;
    let mut status = json!({
        "replicas": active.len(),
        "observedGeneration": generation(&rs),
    });
    if !active.is_empty() {
        meta::set_field(&mut status, "fullyLabeledReplicas", json!(active.len()));
    }
    if ready > 0 {
        meta::set_field(&mut status, "readyReplicas", json!(ready));
        meta::set_field(&mut status, "availableReplicas", json!(ready));
    }
    if write_status(store, &REPLICASETS, &rs, status, MANAGER).is_err() {
        retry = Some(RETRY);
    }
    retry
}

/// Adopts up to `want` running orphan pods that the ReplicaSet's selector matches (left by an
/// orphaning delete of an earlier ReplicaSet, say).
fn adopt_pods(
    ctx: &SimContext,
    pods: &mut OwnerIndex,
    rs: &Value,
    want: usize,
    active: &mut Vec<Arc<Value>>,
) {
    let orphans = pods.orphans(meta::namespace(rs));
    if orphans.is_empty() {
        return;
    }
    let Some(selector) = selector_of(rs) else {
        return;
    };
    let candidates = orphans
        .into_iter()
        .filter(|p| is_active(p) && selector.matches_object(p));
    for pod in candidates.take(want) {
        if let Ok(adopted) = adopt(&ctx.store, &PODS, &pod, rs, MANAGER)
            && controlled_by(&adopted, meta::uid(rs))
        {
            pods.upsert(adopted.clone());
            active.push(adopted);
        }
    }
}

/// A pod from the ReplicaSet's template.
fn new_pod(rs: &Value) -> Value {
    let template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let mut md = json!({
        "generateName": format!("{}-", meta::name(rs)),
        "namespace": meta::namespace(rs),
        "ownerReferences": [owner_ref(rs)],
    });
    for field in ["labels", "annotations"] {
        if let Some(v) = template.pointer(&format!("/metadata/{field}")) {
            meta::set_field(&mut md, field, v.clone());
        }
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": md,
        "spec": template.get("spec").cloned().unwrap_or(json!({})),
    })
}

/// Order in which pods are deleted on scale-down, as the real controller ranks them:
/// unscheduled before scheduled, Pending before Running, not ready before ready, newer before
/// older (creation time has one-second resolution; ties fall back to the name).
fn deletion_rank(a: &Value, b: &Value) -> Ordering {
    let scheduled = |p: &Value| !str_at(p, "/spec/nodeName").is_empty();
    let phase = |p: &Value| match str_at(p, "/status/phase") {
        "Pending" => 0,
        "Running" => 2,
        _ => 1,
    };
    let ready = |p: &Value| condition_true(p, "Ready");
    let created = |p: &Value| str_at(p, "/metadata/creationTimestamp").to_string();
    scheduled(a)
        .cmp(&scheduled(b))
        .then(phase(a).cmp(&phase(b)))
        .then(ready(a).cmp(&ready(b)))
        .then(created(b).cmp(&created(a)))
        .then(meta::name(b).cmp(meta::name(a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, created: &str, ready: bool) -> Value {
        json!({
            "metadata": {"name": name, "creationTimestamp": created},
            "spec": {"nodeName": "n"},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]},
        })
    }

    #[test]
    fn scale_down_takes_unready_then_newest_first() {
        let mut pods = [
            pod("old-ready", "2026-01-01T00:00:00Z", true),
            pod("new-ready", "2026-01-01T00:00:05Z", true),
            pod("old-unready", "2026-01-01T00:00:00Z", false),
        ];
        pods.sort_by(deletion_rank);
        let names: Vec<&str> = pods.iter().map(meta::name).collect();
        assert_eq!(names, ["old-unready", "new-ready", "old-ready"]);
    }
}
