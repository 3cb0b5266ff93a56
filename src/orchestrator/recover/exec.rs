//! The second half of a recovery: run a confirmed [`RecoveryPlan`] exactly. Lock, preflight of
//! what the plan does, the stuck-finalizer check again under the lock, then the plan's deletes
//! (each UID checked right before), its waits and its creates; `finish` records the end.

use std::collections::HashSet;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::RecoveryPlan;
use super::plan::{Action, stuck_refusal};
use crate::cli::SetOverride;
use crate::cluster::model::Kind;
use crate::orchestrator::backup;
use crate::orchestrator::converge::{Rules, converge};
use crate::orchestrator::ctx::{Ctx, Failure};
use crate::orchestrator::destroy::{delete_one, verify_gone};
use crate::orchestrator::engine::{Engine, RecoverMode};
use crate::orchestrator::finish::{finish, run_rollback};
use crate::orchestrator::kapi;
use crate::orchestrator::preflight::Need;
use crate::orchestrator::progress::{OpEvent, OpResult, Outcome, Step};
use crate::orchestrator::record::{ObjectId, OpRecord, OpState};
use crate::orchestrator::redeploy::{
    Phase, PlanEnd, end, overdue_of, preflight, ready, take_lease,
};
use crate::orchestrator::request::{EscalationPolicy, Request};

fn request_of(rec: &OpRecord, plan: &RecoveryPlan) -> Request {
    let mut req = Request::new(rec.kind, rec.endpoint.clone());
    req.finalizers = plan.options.finalizers;
    req.timeout = plan.options.timeout;
    req.ready_timeout = plan.options.ready_timeout;
    req.overrides = rec
        .overrides
        .iter()
        .filter_map(|o| o.parse::<SetOverride>().ok())
        .collect();
    req
}

/// Runs `plan` to its outcome. A plan with problems is refused without writing anything.
pub(crate) async fn run(
    engine: Engine,
    plan: RecoveryPlan,
    tx: mpsc::UnboundedSender<OpEvent>,
    cancel: CancellationToken,
) -> Outcome {
    if !plan.problems.is_empty() {
        return super::refused(
            &plan.record.id,
            plan.record.kind,
            plan.endpoint.clone(),
            OpResult::Failed,
            &plan.refusal(),
        );
    }
    let mut rec = plan.record.clone();
    rec.state = OpState::Running;
    // The journal takes the record over (it must survive this run); where it came from stays
    // in it, so it is never mistaken for this machine's own later.
    if let super::Source::Cluster(copy) = &plan.source
        && rec.adopted_from.is_none()
    {
        rec.adopted_from = Some(copy.describe(&rec.holder));
    }
    // The plan touches the endpoint's namespace only; a record naming more does not carry it
    // into a rollback either.
    rec.old_objects
        .retain(|o| o.namespace == plan.endpoint.namespace);
    let previous_holder = std::mem::replace(&mut rec.holder, engine.settings.holder.clone());
    let req = request_of(&rec, &plan);
    let mut ctx = Ctx::new(engine, rec, tx, cancel);
    ctx.recovering = true;
    ctx.unfinished_state = Some(plan.was);
    ctx.steps_from = ctx.rec.steps.len();
    ctx.discarding = plan.mode == RecoverMode::Discard;
    ctx.info(
        Step::Lock,
        format!("the operation was started by {previous_holder}"),
    );
    let end = recover(&mut ctx, &req, &plan).await;
    finish(&mut ctx, &req, end).await
}

async fn recover(ctx: &mut Ctx, req: &Request, plan: &RecoveryPlan) -> PlanEnd {
    let what = match plan.mode {
        RecoverMode::Resume => "resuming",
        RecoverMode::Rollback => "rolling back",
        RecoverMode::Discard => "discarding the backup of",
    };
    if let Err(f) = ctx
        .begin(
            Step::Lock,
            format!("{what} operation {} on {}", ctx.rec.id, ctx.rec.endpoint),
        )
        .await
    {
        return end(Phase::BeforeDelete, Err(f));
    }
    if let Err(f) = take_over(ctx).await {
        return end(Phase::BeforeDelete, Err(f));
    }
    if plan.mode == RecoverMode::Discard {
        return discard(ctx).await;
    }
    if let Some(why) = &plan.no_backup {
        let msg = format!(
            "operation {} has no backup to converge to ({why}); nothing to {}; run it again if \
             it is still needed",
            ctx.rec.id,
            plan.mode.name()
        );
        ctx.info(Step::Lock, msg.clone());
        let mut e = end(Phase::BeforeDelete, Ok(Vec::new()));
        e.message = Some(msg);
        return e;
    }
    if let Err(f) = preflight(ctx, &needs(plan)).await {
        return end(Phase::BeforeDelete, Err(f));
    }
    match plan.mode {
        RecoverMode::Rollback => {
            match run_rollback(ctx, req, false).await {
                Ok(()) => {
                    let mut e = end(Phase::BeforeDelete, Ok(Vec::new()));
                    e.message = Some(format!(
                        "operation {} rolled back: {} restored from its backup and ready",
                        ctx.rec.id, ctx.rec.endpoint
                    ));
                    e
                }
                // The rollback already ran; finish must not run it again.
                Err(f) => end(Phase::BeforeDelete, Err(f)),
            }
        }
        _ => {
            let mut e = resume(ctx, req, plan).await;
            if e.result.is_ok() {
                e.message = Some(format!(
                    "operation {} resumed: {} is on the decided spec and ready",
                    ctx.rec.id, ctx.rec.endpoint
                ));
            }
            e
        }
    }
}

/// Takes the lease, over the dead holder's if it was this operation's; a lease held by a live
/// holder of the same operation on another machine is waited out once (it expires).
async fn take_over(ctx: &mut Ctx) -> Result<(), Failure> {
    let mode = ctx.rec.endpoint.mode;
    match take_lease(ctx, mode, true).await {
        Ok(()) => Ok(()),
        Err(f) if f.result == OpResult::LockHeld && f.message.contains(&ctx.rec.id) => {
            let wait = crate::orchestrator::lease::LeaseSettings::default().duration;
            ctx.info(
                Step::Lock,
                format!(
                    "the lease still names this operation; waiting up to {} for it to expire",
                    crate::util::duration::format_duration(wait)
                ),
            );
            if !ctx.pause(wait).await {
                return Err(crate::orchestrator::destroy::stopped(Step::Lock));
            }
            take_lease(ctx, mode, true).await
        }
        Err(f) => Err(f),
    }
}

/// `recover OP --discard`: the backup ConfigMap goes (if it is this operation's), the endpoint
/// stays as it is, the record is marked discarded by `finish`.
async fn discard(ctx: &mut Ctx) -> PlanEnd {
    let client = ctx.client.clone();
    let (ns, name, id) = (
        ctx.rec.endpoint.namespace.clone(),
        ctx.rec.endpoint.name.clone(),
        ctx.rec.id.clone(),
    );
    let deleted = ctx
        .retrying(
            Step::Finish,
            "remove the backup ConfigMap",
            |e: &backup::BackupError| {
                matches!(e, backup::BackupError::Api { code, .. } if crate::orchestrator::ctx::transient_code(*code))
            },
            || backup::delete_backup(&client, &ns, &name, &id),
        )
        .await;
    match deleted {
        Ok(()) => {
            let mut e = end(Phase::BeforeDelete, Ok(Vec::new()));
            e.message = Some(format!(
                "the backup of operation {id} is discarded (ConfigMap {ns}/{} removed); {} is \
                 left as it is; the record stays in the journal, marked discarded",
                backup::backup_name(&name),
                ctx.rec.endpoint
            ));
            e
        }
        Err(e) => end(
            Phase::BeforeDelete,
            Err(Failure::failed(
                Step::Finish,
                format!("cannot discard the backup: {e}"),
            )),
        ),
    }
}

/// Permissions the plan needs: read and watch what it touches, delete what it deletes or
/// replaces, create what it creates, patch what it may strip, and its own records.
fn needs(plan: &RecoveryPlan) -> Vec<Need> {
    let ns = plan.endpoint.namespace.as_str();
    let mut out: Vec<Need> = Vec::new();
    let mut add = |verb: &str, kind: Kind| {
        let (group, resource) = kapi::rbac_resource(kind);
        let n = Need::new(verb, &group, &resource, ns);
        if !out.contains(&n) {
            out.push(n);
        }
    };
    let kinds = |ids: &[ObjectId]| -> Vec<Kind> {
        ids.iter().filter_map(|o| Kind::parse(&o.kind)).collect()
    };
    for k in kinds(&plan.verify_gone)
        .into_iter()
        .chain(plan.objects.iter().map(|o| o.kind))
    {
        for verb in ["get", "list", "watch"] {
            add(verb, k);
        }
    }
    for k in kinds(&plan.deletes) {
        add("delete", k);
    }
    for o in &plan.objects {
        if o.action == Action::Replace {
            add("delete", o.kind);
        }
        if o.action != Action::Keep {
            add("create", o.kind);
        }
    }
    if plan.options.finalizers == EscalationPolicy::Strip && plan.mode == RecoverMode::Resume {
        for k in kinds(&plan.verify_gone) {
            add("patch", k);
            if k == Kind::Pod {
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

/// Old objects of the plan stuck behind finalizers now, read again under the lock.
async fn stuck_now(
    ctx: &mut Ctx,
    ids: &[ObjectId],
) -> Result<Vec<(ObjectId, serde_json::Value)>, Failure> {
    let mut out = Vec::new();
    for id in ids {
        let Some(kind) = Kind::parse(&id.kind) else {
            continue;
        };
        match kapi::get(&ctx.client, &id.namespace, kind, &id.name).await {
            Ok(Some(obj))
                if kapi::uid(&obj) == id.uid && kapi::deletion_timestamp(&obj).is_some() =>
            {
                out.push((id.clone(), obj));
            }
            Ok(_) => {}
            Err(e) => return Err(Failure::failed(Step::Preflight, e.to_string())),
        }
    }
    Ok(out)
}

async fn resume(ctx: &mut Ctx, req: &Request, plan: &RecoveryPlan) -> PlanEnd {
    // The same check as when planning, under the lock: Terminating old objects whose finalizers
    // the policy will not remove stop the resume before anything more is deleted.
    let terminating = match stuck_now(ctx, &plan.verify_gone).await {
        Ok(t) => t,
        Err(f) => return end(Phase::BeforeDelete, Err(f)),
    };
    let overdue = overdue_of(terminating.iter().map(|(i, o)| (i, o)), req.timeout);
    if req.finalizers == EscalationPolicy::Never && !overdue.is_empty() {
        let msg = stuck_refusal(&ctx.rec.id, &overdue);
        ctx.failed(Step::Preflight, msg.clone(), None);
        ctx.blocked_by = overdue.iter().map(|s| s.object.clone()).collect();
        return end(
            Phase::BeforeDelete,
            Err(Failure::failed(Step::Preflight, msg)),
        );
    }
    if let Err(f) = ctx
        .begin(
            Step::Delete,
            format!(
                "deleting what is left of the old objects ({} still whole)",
                plan.deletes.len()
            ),
        )
        .await
    {
        return end(Phase::AfterDelete, Err(f));
    }
    for id in &plan.deletes {
        if ctx.stop.is_cancelled() {
            return end(
                Phase::AfterDelete,
                Err(crate::orchestrator::destroy::stopped(Step::Delete)),
            );
        }
        // delete_one reads the object first and deletes with its UID as precondition: one
        // replaced since the plan is left alone.
        if let Err(f) = delete_one(ctx, Step::Delete, id, None).await {
            return end(Phase::AfterDelete, Err(f));
        }
    }
    ctx.done(
        Step::Delete,
        format!(
            "Deleted existing Kubernetes resources for endpoint {}",
            ctx.rec.endpoint
        ),
    );
    if let Err(f) = ctx
        .begin(
            Step::VerifyDeletion,
            "watching the old objects until each UID is gone",
        )
        .await
    {
        return end(Phase::AfterDelete, Err(f));
    }
    if let Err(f) = verify_gone(
        ctx,
        Step::VerifyDeletion,
        &plan.verify_gone,
        overdue,
        req.finalizers,
        req.timeout,
    )
    .await
    {
        return end(Phase::AfterDelete, Err(f));
    }
    ctx.done(Step::VerifyDeletion, "all old objects gone");
    let spec: Vec<serde_json::Value> = plan.objects.iter().map(|o| o.manifest.clone()).collect();
    if let Err(f) = ctx
        .begin(
            Step::Create,
            format!(
                "creating what is missing of {}",
                crate::util::plural(spec.len(), "object")
            ),
        )
        .await
    {
        return end(Phase::AfterDelete, Err(f));
    }
    let old: HashSet<String> = ctx.rec.old_objects.iter().map(|o| o.uid.clone()).collect();
    let standing = match converge(ctx, Step::Create, &spec, &old, Rules::Resume, req.timeout).await
    {
        Ok(s) => s,
        Err(f) => return end(Phase::AfterDelete, Err(f)),
    };
    ctx.done(
        Step::Create,
        format!(
            "Successfully deployed Kubernetes resources for endpoint {}",
            ctx.rec.endpoint
        ),
    );
    if let Err(f) = ready(ctx, &standing, req).await {
        return end(Phase::Created, Err(f));
    }
    end(Phase::Created, Ok(standing))
}
