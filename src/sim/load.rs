//! Puts a scenario's plan into a fresh simulator: namespaces, endpoint manifests and extra objects
//! go through the same store API a client uses; controllers then make them live. Objects that
//! the scenario wants Terminating are deleted once their controllers have added their finalizers,
//! with deletionTimestamp backdated so the console shows how long they have been stuck.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::context::{LogFlood, SimContext, SimSettings};
use super::error::ApiError;
use super::faults::FaultState;
use super::kinds::{self, NAMESPACES, ResourceType};
use super::meta;
use super::scenario::{EndpointKind, EndpointState, ErrorFault};
use super::scenario::{EndpointPlan, Plan};
use super::store::{DeleteOptions, DeleteOutcome, WriteOptions};

/// Simulator settings from a plan.
pub fn settings(plan: &Plan) -> SimSettings {
    let mut floods = Vec::new();
    for e in &plan.endpoints {
        for p in &e.pods {
            if p.log_lines_per_second > plan.log_lines_per_second {
                floods.push(LogFlood {
                    namespace: e.namespace.clone(),
                    pod_prefix: pod_prefix(e),
                    lines_per_second: p.log_lines_per_second.round() as u64,
                });
                break;
            }
        }
    }
    for f in &plan.faults.pod_log_floods {
        floods.push(LogFlood {
            namespace: f.namespace.clone(),
            pod_prefix: f.pod.clone(),
            lines_per_second: f.lines_per_second.round() as u64,
        });
    }
    SimSettings {
        seed: plan.seed,
        pod_start_delay: plan.pod_start_delay,
        pod_ready_delay: plan.pod_ready_delay,
        pod_delay_jitter: plan.jitter,
        log_lines_per_second: plan.log_lines_per_second,
        log_floods: floods,
    }
}

/// Name prefix of an endpoint's pods (`<deployment>-`).
fn pod_prefix(e: &EndpointPlan) -> String {
    match e.kind {
        EndpointKind::Kserve => format!("{}-predictor-", e.name),
        EndpointKind::Raw => format!("{}-", e.name),
    }
}

/// The fault state a plan starts with.
pub fn faults(plan: &Plan) -> FaultState {
    let f = &plan.faults;
    FaultState {
        controllers: f.controllers,
        latency: f.latency.clone(),
        errors: f
            .errors
            .iter()
            .map(|e| ErrorFault {
                verb: e.verb,
                resource: e.resource.clone(),
                name: e.name.clone(),
                namespace: e.namespace.clone(),
                code: e.code,
                reason: Some(e.reason.clone()),
                message: Some(e.message.clone()),
                count: match e.trigger {
                    super::scenario::Trigger::Count(n) => Some(n),
                    _ => None,
                },
                probability: match e.trigger {
                    super::scenario::Trigger::Probability(p) => Some(p),
                    _ => None,
                },
                retry_after_seconds: e.retry_after_seconds,
            })
            .collect(),
        watch_drop_every_seconds: f
            .watch_drop_every
            .map(|d| d.as_secs().clamp(1, u64::from(u32::MAX)) as u32),
        users: plan
            .users
            .iter()
            .map(|u| (u.name.clone(), u.rules.clone()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn type_of(obj: &Value) -> Result<&'static ResourceType, ApiError> {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    kinds::by_kind(api_version, kind).ok_or_else(|| {
        ApiError::bad_request(format!(
            "scenario object {:?}: no served kind {kind} in {api_version}",
            meta::name(obj)
        ))
    })
}

fn create(ctx: &SimContext, obj: Value) -> Result<Arc<Value>, ApiError> {
    let rt = type_of(&obj)?;
    let ns = meta::namespace(&obj).to_string();
    let opts = WriteOptions {
        field_manager: Some("scenario".into()),
        ..Default::default()
    };
    ctx.store.create(rt, &ns, obj, &opts)
}

/// Creates namespaces, endpoints and extra objects (before the controllers start).
pub fn create_objects(ctx: &SimContext, plan: &Plan) -> Result<(), ApiError> {
    let mut namespaces = vec!["default".to_string(), "kube-system".to_string()];
    namespaces.extend(plan.namespaces.iter().cloned());
    namespaces.dedup();
    for ns in namespaces {
        if ctx.store.get(&NAMESPACES, "", &ns).is_err() {
            ctx.store.create(
                &NAMESPACES,
                "",
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
                &WriteOptions::default(),
            )?;
        }
    }
    for e in &plan.endpoints {
        for m in e.manifests() {
            create(ctx, m)?;
        }
    }
    for o in &plan.objects {
        create(ctx, o.manifest.clone())?;
    }
    Ok(())
}

/// Deletes what the scenario wants Terminating (after the controllers have run), backdating
/// deletionTimestamp. Waits up to `wait` for an endpoint's finalizer to be in place, since
/// deleting before the controller added it would just remove the object.
pub async fn apply_terminating(
    ctx: &SimContext,
    plan: &Plan,
    wait: Duration,
) -> Result<(), ApiError> {
    for e in plan
        .endpoints
        .iter()
        .filter(|e| e.state == EndpointState::Terminating)
    {
        let rt = match e.kind {
            EndpointKind::Kserve => &kinds::INFERENCESERVICES,
            EndpointKind::Raw => &kinds::DEPLOYMENTS,
        };
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let obj = ctx.store.get(rt, &e.namespace, &e.name)?;
            if !meta::finalizers(&obj).is_empty() || tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        delete_backdated(ctx, rt, &e.namespace, &e.name, e.terminating_for, None)?;
    }
    for o in plan.objects.iter().filter(|o| o.delete_at_load) {
        let rt = type_of(&o.manifest)?;
        let ns = meta::namespace(&o.manifest).to_string();
        let name = meta::name(&o.manifest).to_string();
        // A pod deleted at load has already been through its grace period.
        let grace = rt.delete_returns_object.then_some(0);
        delete_backdated(ctx, rt, &ns, &name, o.terminating_for, grace)?;
    }
    Ok(())
}

fn delete_backdated(
    ctx: &SimContext,
    rt: &'static ResourceType,
    ns: &str,
    name: &str,
    age: Option<Duration>,
    grace: Option<i64>,
) -> Result<(), ApiError> {
    let opts = DeleteOptions {
        grace_period_seconds: grace,
        ..Default::default()
    };
    if let DeleteOutcome::Terminating(_) = ctx.store.delete(rt, ns, name, &opts)?
        && let Some(age) = age
    {
        let at = meta::now() - jiff::SignedDuration::try_from(age).unwrap_or_default();
        ctx.store.backdate_deletion(rt, ns, name, at)?;
    }
    Ok(())
}

/// How far loading has got, for a caller that shows it (`demo`, whose large fleets take seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadProgress {
    pub phase: LoadPhase,
    /// Replicas ready so far (Deployments' readyReplicas), while settling.
    pub ready: u64,
    /// Replicas wanted (Deployments' spec.replicas), while settling.
    pub wanted: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadPhase {
    /// Creating the scenario's objects.
    #[default]
    Creating,
    /// Controllers are bringing the fleet up.
    Settling,
    /// Deleting what the scenario wants Terminating.
    Terminating,
    /// Serving.
    Done,
}

/// Ready and wanted replicas over every Deployment.
fn replica_counts(ctx: &SimContext) -> (u64, u64) {
    let (deploys, _) = ctx.store.list(&kinds::DEPLOYMENTS, None, &|_| true);
    let count = |d: &Value, p: &str| d.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    deploys.iter().fold((0, 0), |(r, w), d| {
        (
            r + count(d, "/status/readyReplicas"),
            w + count(d, "/spec/replicas"),
        )
    })
}

/// Waits until every Deployment is Available and every InferenceService Ready (the initial fleet
/// has settled), or `limit` passes. Polls the store in-process: nothing goes over the wire.
pub async fn wait_settled(ctx: &SimContext, limit: Duration) {
    wait_settled_reporting(ctx, limit, &tokio::sync::watch::Sender::default()).await;
}

/// [`wait_settled`], telling `progress` how many replicas are ready about four times a second.
pub async fn wait_settled_reporting(
    ctx: &SimContext,
    limit: Duration,
    progress: &tokio::sync::watch::Sender<LoadProgress>,
) {
    let mut next_report = tokio::time::Instant::now();
    let deadline = tokio::time::Instant::now() + limit;
    let ready = |obj: &Value, cond: &str| {
        obj.pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == cond && c["status"] == "True")
            })
    };
    while tokio::time::Instant::now() < deadline {
        let (deploys, _) = ctx
            .store
            .list(&kinds::DEPLOYMENTS, None, &|d| !ready(d, "Available"));
        let (isvcs, _) = ctx
            .store
            .list(&kinds::INFERENCESERVICES, None, &|i| !ready(i, "Ready"));
        if deploys.is_empty() && isvcs.is_empty() {
            return;
        }
        if progress.receiver_count() > 0 && tokio::time::Instant::now() >= next_report {
            let (ready, wanted) = replica_counts(ctx);
            progress.send_replace(LoadProgress {
                phase: LoadPhase::Settling,
                ready,
                wanted,
            });
            next_report = tokio::time::Instant::now() + Duration::from_millis(250);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tracing::warn!("the scenario's fleet did not settle within {limit:?}; serving anyway");
}
