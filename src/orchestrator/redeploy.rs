//! The redeploy plan: lock, preflight, snapshot, delete, verify deletion, decide spec, create,
//! verify ready. `finish.rs` does the ninth step (and the rollback) for every plan.

use std::collections::HashSet;

use jiff::Timestamp;
use serde_json::Value;

use super::backup;
use super::converge::{Rules, converge, verify_ready};
use super::ctx::{Ctx, Failure};
use super::destroy::{delete_one, verify_gone};
use super::inventory::{self, Inventory, InventoryError};
use super::kapi;
use super::lease::{LeaseLock, LeaseSettings, LockError, LockRequest};
use super::manifest;
use super::preflight::{self, Need};
use super::progress::{OpResult, Step, StuckObject};
use super::record::ObjectId;
use super::request::{EscalationPolicy, Request};
use crate::cluster::model::Kind;

/// How far a plan got before it stopped: decides whether a rollback is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Nothing was deleted or changed.
    BeforeDelete,
    /// Deletion started: the backup must be recreated on failure.
    AfterDelete,
    /// The new spec stands; only readiness was being verified.
    Created,
}

/// What a plan returns to `finish`.
pub(crate) struct PlanEnd {
    pub phase: Phase,
    pub result: Result<Vec<ObjectId>, Failure>,
    /// Said instead of the plan's usual success message (recovery that found nothing to do).
    pub message: Option<String>,
}

pub(crate) fn end(phase: Phase, result: Result<Vec<ObjectId>, Failure>) -> PlanEnd {
    PlanEnd {
        phase,
        result,
        message: None,
    }
}

/// Reads the endpoint, and takes its lock (step `lock`).
pub(crate) async fn lock(
    ctx: &mut Ctx,
    req: &Request,
    opening: &str,
) -> Result<Inventory, Failure> {
    ctx.begin(Step::Lock, opening.to_string()).await?;
    let inv = match inventory::read(&ctx.client, &req.endpoint, &ctx.engine.settings.grouping).await
    {
        Ok(inv) => inv,
        Err(InventoryError::NotFound(ep)) => {
            // Objects gone after a crash: the operation that deleted them is the answer, not
            // "no endpoint".
            if let Some(msg) = super::unfinished::gone_but_unfinished(ctx, req).await {
                ctx.failed(Step::Lock, msg.clone(), None);
                return Err(Failure::new(Step::Lock, OpResult::LockHeld, msg));
            }
            let msg = InventoryError::NotFound(ep).to_string();
            ctx.failed(Step::Lock, msg.clone(), None);
            return Err(Failure::new(Step::Lock, OpResult::Usage, msg));
        }
        Err(InventoryError::Api(e)) => return Err(Failure::failed(Step::Lock, e.to_string())),
    };
    ctx.rec.endpoint = inv.endpoint.clone();
    take_lease(ctx, inv.endpoint.mode, false).await?;
    Ok(inv)
}

pub(crate) async fn take_lease(
    ctx: &mut Ctx,
    mode: Option<crate::cluster::model::Mode>,
    takeover: bool,
) -> Result<(), Failure> {
    let request = LockRequest {
        namespace: ctx.rec.endpoint.namespace.clone(),
        endpoint: ctx.rec.endpoint.name.clone(),
        op_id: ctx.rec.id.clone(),
        step: Step::Lock,
        mode,
        holder: ctx.rec.holder.clone(),
        takeover,
    };
    let client = ctx.client.clone();
    let notify = ctx.notifier(Step::Lock);
    // One attempt may watch an untrusted lease for up to a window before judging it: it gets
    // the whole step budget, not one call's timeout.
    let acquired = ctx
        .retrying_within(
            Step::Lock,
            "take the lease",
            super::ctx::STEP_BUDGET,
            |e: &LockError| matches!(e, LockError::Api { code, .. } if super::ctx::transient_code(*code)),
            || LeaseLock::acquire_with(&client, request.clone(), LeaseSettings::default(), &notify),
        )
        .await;
    match acquired {
        Ok(lock) => {
            let msg = format!("acquired lease {} as {}", lock.name(), lock.holder());
            ctx.hold(lock);
            ctx.done(Step::Lock, msg);
            Ok(())
        }
        Err(super::ctx::Retried {
            error: e @ LockError::Held { .. },
            ..
        }) => {
            let msg = format!("refused: {e}");
            ctx.failed(Step::Lock, msg.clone(), None);
            Err(Failure::new(Step::Lock, OpResult::LockHeld, msg))
        }
        Err(e) => {
            let msg = format!("cannot take the lock: {e}");
            ctx.failed(Step::Lock, msg.clone(), None);
            Err(Failure::new(Step::Lock, e.result(), msg))
        }
    }
}

/// Permissions a plan needs on the endpoint's objects (step `preflight`).
pub(crate) fn needs(
    inv: &Inventory,
    recreate: bool,
    policy: EscalationPolicy,
    extra_delete: &[Kind],
) -> Vec<Need> {
    let ns = inv.endpoint.namespace.as_str();
    let mut out = Vec::new();
    let mut add = |verb: &str, kind: Kind| {
        let (group, resource) = kapi::rbac_resource(kind);
        let n = Need::new(verb, &group, &resource, ns);
        if !out.contains(&n) {
            out.push(n);
        }
    };
    for m in &inv.members {
        for verb in ["get", "list", "watch"] {
            add(verb, m.kind);
        }
    }
    for m in inv.members.iter().filter(|m| m.root) {
        add("delete", m.kind);
    }
    for k in extra_delete {
        add("delete", *k);
    }
    if recreate {
        for m in inv.members.iter().filter(|m| m.recreated()) {
            add("create", m.kind);
        }
    }
    if policy == EscalationPolicy::Strip {
        for m in &inv.members {
            add("patch", m.kind);
            if m.kind == Kind::Pod {
                add("delete", Kind::Pod);
            }
        }
    }
    for verb in ["get", "create", "update", "delete"] {
        let n = Need::new(verb, "", "configmaps", ns);
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out.push(Need::new("create", "", "events", ns));
    out
}

pub(crate) async fn preflight(ctx: &mut Ctx, needs: &[Need]) -> Result<(), Failure> {
    ctx.begin(
        Step::Preflight,
        format!(
            "checking {} permissions (SelfSubjectAccessReview)",
            needs.len()
        ),
    )
    .await?;
    let client = ctx.client.clone();
    let checked = ctx
        .retrying(
            Step::Preflight,
            "review permissions",
            |e: &preflight::PreflightError| matches!(e, preflight::PreflightError::Api { code, .. } if super::ctx::transient_code(*code)),
            || preflight::check(&client, needs),
        )
        .await;
    match checked {
        Ok(()) => {
            ctx.done(
                Step::Preflight,
                format!("all {} permissions granted", needs.len()),
            );
            Ok(())
        }
        Err(e) => {
            let msg = format!("{e}; nothing was deleted");
            ctx.failed(Step::Preflight, msg.clone(), None);
            Err(Failure::new(Step::Preflight, e.result(), msg))
        }
    }
}

/// Before the snapshot, under the lease: an unfinished operation on the endpoint (its backup
/// would refuse this one only after promising much), or objects already stuck on finalizers that
/// the policy cannot get past. Either refuses with nothing deleted or backed up.
async fn refuse_unfinished_or_stuck(
    ctx: &mut Ctx,
    inv: &Inventory,
    req: &Request,
) -> Result<(), Failure> {
    super::unfinished::refuse_unfinished(ctx, req).await?;
    let fix = format!(
        "llmops-console redeploy {} --finalizers strip",
        inv.endpoint
    );
    super::unfinished::refuse_stuck(
        ctx,
        inv.members.iter().map(|m| (&m.id, &m.json)),
        req.finalizers,
        req.timeout,
        &crate::text::sanitize(&fix),
        true,
    )
}

/// Objects Terminating since before the operation, for longer than the deletion deadline:
/// waiting another full deadline for them would tell nothing new.
pub(crate) fn overdue(inv: &Inventory, timeout: std::time::Duration) -> Vec<StuckObject> {
    overdue_of(inv.members.iter().map(|m| (&m.id, &m.json)), timeout)
}

/// [`overdue`] over any objects as read.
pub(crate) fn overdue_of<'a>(
    objects: impl Iterator<Item = (&'a ObjectId, &'a Value)>,
    timeout: std::time::Duration,
) -> Vec<StuckObject> {
    let now = Timestamp::now();
    objects
        .filter_map(|(id, json)| {
            let since = kapi::deletion_timestamp(json)?;
            let age = now.duration_since(since).as_secs();
            let finalizers = kapi::finalizers(json);
            (age > 0 && age.unsigned_abs() > timeout.as_secs() && !finalizers.is_empty()).then(
                || StuckObject {
                    object: id.clone(),
                    finalizers: finalizers
                        .iter()
                        .map(|f| crate::text::sanitize(f).into_owned())
                        .collect(),
                    terminating_for_seconds: Some(age),
                    awaiting_gc: None,
                },
            )
        })
        .collect()
}

/// The backup (sanitised manifests to recreate), the spec to create, and its changes as lines.
type Decided = (Vec<Value>, Vec<Value>, Vec<String>);

/// The manifests to recreate, sanitised, and the spec to create from them.
fn backup_and_spec(inv: &Inventory, req: &Request) -> Result<Decided, Failure> {
    let uids: HashSet<String> = inv.members.iter().map(|m| m.id.uid.clone()).collect();
    let backup: Vec<Value> = inv
        .members
        .iter()
        .filter(|m| m.recreated())
        .map(|m| manifest::sanitize(&m.json, &uids))
        .collect();
    let mut decided = backup.clone();
    let mut lines = Vec::new();
    let workload = inv
        .workload()
        .map(|w| (w.id.kind.clone(), w.id.name.clone()));
    if let Some(edited) = &req.edited {
        for e in edited {
            let key = (
                e.get("kind").and_then(Value::as_str).unwrap_or(""),
                kapi::name(e),
            );
            let Some(slot) = decided.iter_mut().find(|d| {
                (
                    d.get("kind").and_then(Value::as_str).unwrap_or(""),
                    kapi::name(d),
                ) == key
            }) else {
                return Err(Failure::new(
                    Step::Snapshot,
                    OpResult::Usage,
                    format!(
                        "edited manifest {} {} is not one of the endpoint's objects",
                        key.0, key.1
                    ),
                ));
            };
            for c in manifest::diff(slot, e) {
                lines.push(format!("{} {}: {}", key.0, key.1, describe_change(&c)));
            }
            *slot = e.clone();
        }
    }
    if !req.overrides.is_empty() {
        let Some((kind, name)) = workload else {
            return Err(Failure::new(
                Step::Snapshot,
                OpResult::Usage,
                "--set needs the endpoint's InferenceService or Deployment, and it does not exist",
            ));
        };
        let Some(slot) = decided.iter_mut().find(|d| {
            d.get("kind").and_then(Value::as_str) == Some(kind.as_str()) && kapi::name(d) == name
        }) else {
            return Err(Failure::new(
                Step::Snapshot,
                OpResult::Usage,
                format!("{kind} {name} is not in the backup"),
            ));
        };
        let changes = manifest::apply_overrides(slot, &req.overrides).map_err(|e| {
            Failure::new(
                Step::Snapshot,
                OpResult::Usage,
                format!("{e}; nothing was deleted"),
            )
        })?;
        for c in changes {
            lines.push(format!("{kind} {name}: {}", describe_change(&c)));
        }
    }
    Ok((backup, decided, lines))
}

fn describe_change(c: &manifest::Change) -> String {
    let show = |v: &Option<Value>| match v {
        None => "(none)".to_string(),
        Some(Value::String(s)) => crate::text::sanitize(s).into_owned(),
        Some(v) => crate::text::sanitize(&v.to_string()).into_owned(),
    };
    format!("{}: {} -> {}", c.path, show(&c.before), show(&c.after))
}

/// Writes the record into the backup ConfigMap, retrying transient failures.
async fn write_backup(
    ctx: &mut Ctx,
    step: Step,
) -> Result<(), super::ctx::Retried<backup::BackupError>> {
    let client = ctx.client.clone();
    let rec = ctx.rec.clone();
    ctx.retrying(
        step,
        "write the backup ConfigMap",
        |e: &backup::BackupError| matches!(e, backup::BackupError::Api { code, .. } if super::ctx::transient_code(*code)),
        || backup::write_backup(&client, &rec),
    )
    .await
}

/// Step `snapshot`: manifests to the journal (fsync) and to the backup ConfigMap.
pub(crate) async fn snapshot(
    ctx: &mut Ctx,
    req: &Request,
) -> Result<(Inventory, Vec<Value>, Vec<String>), Failure> {
    ctx.begin(Step::Snapshot, "reading every object of the endpoint")
        .await?;
    let inv = inventory::read(
        &ctx.client,
        &ctx.rec.endpoint,
        &ctx.engine.settings.grouping,
    )
    .await
    .map_err(|e| Failure::failed(Step::Snapshot, e.to_string()))?;
    let (backup_manifests, decided, changes) = backup_and_spec(&inv, req).inspect_err(|f| {
        ctx.failed(Step::Snapshot, f.message.clone(), None);
    })?;
    ctx.rec.backup = backup_manifests;
    ctx.rec.old_objects = inv.ids();
    ctx.persist(Step::Snapshot)?;
    let path = ctx.journal.path_of(&ctx.rec.id);
    ctx.info(
        Step::Snapshot,
        format!(
            "{} manifests written to journal {}",
            ctx.rec.backup.len(),
            path.display()
        ),
    );
    if let Err(e) = write_backup(ctx, Step::Snapshot).await {
        let msg = format!("cannot write the backup ConfigMap: {e}; nothing was deleted");
        ctx.failed(Step::Snapshot, msg.clone(), None);
        return Err(Failure::new(Step::Snapshot, e.result(), msg));
    }
    ctx.backup_written = true;
    ctx.done(
        Step::Snapshot,
        format!(
            "{} read, {} to recreate; backup in ConfigMap {}",
            crate::util::plural(inv.members.len(), "object"),
            ctx.rec.backup.len(),
            backup::backup_name(&ctx.rec.endpoint.name)
        ),
    );
    Ok((inv, decided, changes))
}

/// The redeploy plan up to verified readiness.
pub(crate) async fn run(ctx: &mut Ctx, req: &Request) -> PlanEnd {
    let opening = format!("Starting redeployment for endpoint {}", req.endpoint);
    let inv0 = match lock(ctx, req, &opening).await {
        Ok(inv) => inv,
        Err(f) => return end(Phase::BeforeDelete, Err(f)),
    };
    if let Err(f) = preflight(ctx, &needs(&inv0, true, req.finalizers, &[])).await {
        return end(Phase::BeforeDelete, Err(f));
    }
    if let Err(f) = refuse_unfinished_or_stuck(ctx, &inv0, req).await {
        return end(Phase::BeforeDelete, Err(f));
    }
    // Read again under the lock: what the first read saw may have changed before it was taken,
    // and the backup must be what is deleted.
    let (inv, decided, changes) = match snapshot(ctx, req).await {
        Ok(s) => s,
        Err(f) => return end(Phase::BeforeDelete, Err(f)),
    };
    if ctx.stop.is_cancelled() {
        return end(
            Phase::BeforeDelete,
            Err(super::destroy::stopped(Step::Snapshot)),
        );
    }
    // From here on a failure recreates the backup.
    if let Err(f) = delete_all(ctx, &inv).await {
        return end(Phase::AfterDelete, Err(f));
    }
    if let Err(f) = verify_deleted(ctx, &inv, req).await {
        return end(Phase::AfterDelete, Err(f));
    }
    if let Err(f) = decide(ctx, decided, &changes).await {
        return end(Phase::AfterDelete, Err(f));
    }
    let old: HashSet<String> = ctx.rec.old_objects.iter().map(|o| o.uid.clone()).collect();
    let spec = ctx.rec.decided.clone().unwrap_or_default();
    let standing = match create(ctx, &spec, &old, req).await {
        Ok(s) => s,
        Err(f) => return end(Phase::AfterDelete, Err(f)),
    };
    // A cancel that came while the last create call was in flight came during create: the
    // operator asked before the new spec stood, so it goes back to the backup.
    if ctx.stop.is_cancelled() {
        return end(
            Phase::AfterDelete,
            Err(super::destroy::stopped(Step::Create)),
        );
    }
    if let Err(f) = ready(ctx, &standing, req).await {
        return end(Phase::Created, Err(f));
    }
    end(Phase::Created, Ok(standing))
}

pub(crate) async fn delete_all(ctx: &mut Ctx, inv: &Inventory) -> Result<(), Failure> {
    ctx.begin(
        Step::Delete,
        format!(
            "deleting {} of {}",
            crate::util::plural(inv.members.len(), "object"),
            inv.endpoint
        ),
    )
    .await?;
    for m in inv.delete_order() {
        if ctx.stop.is_cancelled() {
            return Err(super::destroy::stopped(Step::Delete));
        }
        delete_one(ctx, Step::Delete, &m.id, None).await?;
    }
    ctx.done(
        Step::Delete,
        format!(
            "Deleted existing Kubernetes resources for endpoint {}",
            inv.endpoint
        ),
    );
    Ok(())
}

async fn verify_deleted(ctx: &mut Ctx, inv: &Inventory, req: &Request) -> Result<(), Failure> {
    let ids = inv.ids();
    ctx.begin(
        Step::VerifyDeletion,
        format!(
            "watching {} until each UID is gone (deadline {})",
            crate::util::plural(ids.len(), "object"),
            crate::util::duration::format_duration(req.timeout)
        ),
    )
    .await?;
    let overdue = overdue(inv, req.timeout);
    if !overdue.is_empty() {
        ctx.info(
            Step::VerifyDeletion,
            format!(
                "{} object(s) were Terminating for longer than the deadline before this operation",
                overdue.len()
            ),
        );
    }
    verify_gone(
        ctx,
        Step::VerifyDeletion,
        &ids,
        overdue,
        req.finalizers,
        req.timeout,
    )
    .await?;
    ctx.done(
        Step::VerifyDeletion,
        format!("all {} gone", crate::util::plural(ids.len(), "object")),
    );
    Ok(())
}

async fn decide(ctx: &mut Ctx, decided: Vec<Value>, changes: &[String]) -> Result<(), Failure> {
    ctx.begin(Step::DecideSpec, "backup plus overrides").await?;
    for c in changes {
        ctx.info(Step::DecideSpec, c.clone());
    }
    ctx.rec.decided = Some(decided);
    ctx.persist(Step::DecideSpec)?;
    if let Err(e) = write_backup(ctx, Step::DecideSpec).await {
        // The journal has the decision; the cluster copy still has the backup, which is what a
        // rollback from another machine needs.
        ctx.info(
            Step::DecideSpec,
            format!("could not update the backup ConfigMap with the decided spec: {e}"),
        );
    }
    let summary = if changes.is_empty() {
        "same spec as the backup".to_string()
    } else {
        format!("{} field(s) changed", changes.len())
    };
    ctx.done(Step::DecideSpec, summary);
    Ok(())
}

async fn create(
    ctx: &mut Ctx,
    spec: &[Value],
    old: &HashSet<String>,
    req: &Request,
) -> Result<Vec<ObjectId>, Failure> {
    ctx.begin(
        Step::Create,
        format!("creating {}", crate::util::plural(spec.len(), "object")),
    )
    .await?;
    let standing = converge(ctx, Step::Create, spec, old, Rules::Create, req.timeout).await?;
    ctx.done(
        Step::Create,
        format!(
            "Successfully deployed Kubernetes resources for endpoint {}",
            ctx.rec.endpoint
        ),
    );
    Ok(standing)
}

pub(crate) async fn ready(
    ctx: &mut Ctx,
    standing: &[ObjectId],
    req: &Request,
) -> Result<(), Failure> {
    ctx.begin(
        Step::VerifyReady,
        format!(
            "waiting for the endpoint to be ready (deadline {})",
            crate::util::duration::format_duration(req.ready_timeout)
        ),
    )
    .await?;
    verify_ready(ctx, Step::VerifyReady, standing, req.ready_timeout).await?;
    ctx.verified_on = Some(super::ctx::Verified::Decided);
    ctx.done(
        Step::VerifyReady,
        format!("endpoint {} is ready", ctx.rec.endpoint),
    );
    Ok(())
}
