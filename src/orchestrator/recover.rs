//! Unfinished operations (a crash, a kill -9, a lost network, a rollback that could not finish):
//! found in the local journal or, from another machine, in the backup ConfigMaps, and taken to
//! the decided spec (`--resume`) or back to the backup (`--rollback`).

use std::collections::HashSet;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::backup;
use super::converge::{Rules, converge};
use super::ctx::{Ctx, Failure};
use super::destroy::{delete_one, verify_gone};
use super::engine::{Engine, RecoverMode, RecoverOptions};
use super::finish::{finish, run_rollback};
use super::kapi;
use super::manifest;
use super::progress::{OpEvent, OpResult, Outcome, Step};
use super::record::{ObjectId, OpRecord, OpState};
use super::redeploy::{Phase, PlanEnd, end, ready, take_lease};
use super::request::Request;
use crate::cli::SetOverride;
use crate::cluster::model::Kind;

/// An operation that did not finish, and where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Unfinished {
    pub record: OpRecord,
    /// `journal` (this machine), `cluster` (backup ConfigMap only), or `journal+cluster`.
    pub found_in: String,
}

/// Every unfinished operation: the journal's, plus backups in the cluster the journal does
/// not know (another machine's). Problems reading either are returned as lines beside.
pub async fn list(engine: &Engine) -> (Vec<Unfinished>, Vec<String>) {
    let journal = super::journal::Journal::new(engine.settings.journal_dir.clone());
    let (records, errors) = journal.list();
    let mut notes: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let mut out: Vec<Unfinished> = records
        .into_iter()
        .filter(|r| r.state.unfinished())
        .map(|record| Unfinished {
            record,
            found_in: "journal".into(),
        })
        .collect();
    let ns = engine.info.scope.namespace().map(str::to_string);
    match backup::list_backups(&engine.client, ns.as_deref()).await {
        Ok((backups, bad)) => {
            notes.extend(bad.iter().map(|e| e.to_string()));
            for b in backups {
                if let Some(u) = out.iter_mut().find(|u| u.record.id == b.id) {
                    u.found_in = "journal+cluster".into();
                } else {
                    out.push(Unfinished {
                        record: b,
                        found_in: "cluster".into(),
                    });
                }
            }
        }
        Err(e) => notes.push(format!("cannot read the backup ConfigMaps: {e}")),
    }
    out.sort_by_key(|u| std::cmp::Reverse(u.record.started));
    (out, notes)
}

/// The record and whether it came from this machine's journal (else from the cluster).
async fn find(engine: &Engine, op_id: &str) -> Option<(OpRecord, bool)> {
    let journal = super::journal::Journal::new(engine.settings.journal_dir.clone());
    if let Ok(r) = journal.read(op_id) {
        return Some((r, true));
    }
    let (all, _) = list(engine).await;
    all.into_iter()
        .find(|u| u.record.id == op_id)
        .map(|u| (u.record, false))
}

fn request_of(rec: &OpRecord, options: RecoverOptions) -> Request {
    let mut req = Request::new(rec.kind, rec.endpoint.clone());
    req.finalizers = options.finalizers;
    req.timeout = options.timeout;
    req.ready_timeout = options.ready_timeout;
    req.overrides = rec
        .overrides
        .iter()
        .filter_map(|o| o.parse::<SetOverride>().ok())
        .collect();
    req
}

/// Ends a recovery that cannot start (bad operation id, wrong cluster) as bad input.
fn refuse(
    tx: &mpsc::UnboundedSender<OpEvent>,
    op_id: &str,
    kind: super::progress::OpKind,
    endpoint: super::record::EndpointId,
    message: String,
) {
    let outcome = Outcome {
        op_id: op_id.to_string(),
        kind,
        endpoint,
        result: OpResult::Usage,
        failed_step: None,
        message: crate::text::sanitize(&message).into_owned(),
        rollback: None,
        created: vec![],
        deleted: vec![],
        retries: 0,
        elapsed: std::time::Duration::ZERO,
        journal: None,
    };
    let _ = tx.send(OpEvent::Finished(Box::new(outcome)));
}

pub(crate) async fn run(
    engine: Engine,
    op_id: String,
    mode: RecoverMode,
    options: RecoverOptions,
    tx: mpsc::UnboundedSender<OpEvent>,
    cancel: CancellationToken,
) {
    let Some((mut rec, local)) = find(&engine, &op_id).await else {
        let message = format!(
            "no operation {op_id} in the journal ({}) nor in the cluster's backups; `llmops-console recover --list` shows what there is",
            engine.settings.journal_dir.display()
        );
        let endpoint = super::record::EndpointId {
            namespace: String::new(),
            name: String::new(),
            mode: None,
        };
        refuse(
            &tx,
            &op_id,
            super::progress::OpKind::Redeploy,
            endpoint,
            message,
        );
        return;
    };
    // A journal record names its cluster; recovering it against another would act on the
    // wrong endpoint. (A record found in the cluster is of this cluster by definition.)
    if local && rec.server != engine.info.server {
        let msg = format!(
            "operation {op_id} ran against {} (context {}), not {} (context {}); pass --context/--kubeconfig for that cluster",
            rec.server, rec.context, engine.info.server, engine.info.context
        );
        refuse(&tx, &op_id, rec.kind, rec.endpoint.clone(), msg);
        return;
    }
    let was = rec.state;
    rec.state = OpState::Running;
    // With a backup, resume and rollback both converge object by object from what is there now
    // (a record from the cluster copy may not know how far deletion got). Without one (stopped
    // before its snapshot, or a plan that recreates nothing) there is nothing to converge to.
    let has_backup = !rec.backup.is_empty();
    let stopped_at = rec.step;
    let previous_holder = std::mem::replace(&mut rec.holder, engine.settings.holder.clone());
    let req = request_of(&rec, options);
    let mut ctx = Ctx::new(engine, rec, tx.clone(), cancel);
    // The backup ConfigMap (if any) is this operation's: it goes once the recovery ends well
    // (delete_backup checks the operation id).
    ctx.backup_written = !ctx.rec.backup.is_empty();
    let end = if !was.unfinished() {
        end(
            Phase::BeforeDelete,
            Err(Failure::new(
                Step::Lock,
                OpResult::Usage,
                format!("operation {op_id} already finished ({was:?}); nothing to recover"),
            )),
        )
    } else {
        ctx.recovering = true;
        ctx.info(
            Step::Lock,
            format!("the operation was started by {previous_holder}"),
        );
        recover(&mut ctx, &req, mode, has_backup, stopped_at).await
    };
    let outcome = finish(&mut ctx, &req, end).await;
    let _ = tx.send(OpEvent::Finished(Box::new(outcome)));
}

async fn recover(
    ctx: &mut Ctx,
    req: &Request,
    mode: RecoverMode,
    has_backup: bool,
    stopped_at: Step,
) -> PlanEnd {
    let what = match mode {
        RecoverMode::Resume => "resuming",
        RecoverMode::Rollback => "rolling back",
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
    if !has_backup {
        let why = if ctx.rec.kind == super::progress::OpKind::Redeploy {
            format!("it stopped at {stopped_at}, before its snapshot, so nothing was deleted")
        } else {
            format!("a {} recreates nothing", ctx.rec.kind.name())
        };
        let msg = format!(
            "operation {} has no backup to converge to ({why}); nothing to {}; run it again if it is still needed",
            ctx.rec.id,
            if mode == RecoverMode::Resume {
                "resume"
            } else {
                "roll back"
            }
        );
        ctx.info(Step::Lock, msg.clone());
        let mut e = end(Phase::BeforeDelete, Ok(Vec::new()));
        e.message = Some(msg);
        return e;
    }
    match mode {
        RecoverMode::Rollback => match run_rollback(ctx, req, false).await {
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
        },
        RecoverMode::Resume => {
            let mut e = resume(ctx, req).await;
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
            let wait = super::lease::LeaseSettings::default().duration;
            ctx.info(
                Step::Lock,
                format!(
                    "the lease still names this operation; waiting up to {} for it to expire",
                    crate::util::duration::format_duration(wait)
                ),
            );
            if !ctx.pause(wait).await {
                return Err(super::destroy::stopped(Step::Lock));
            }
            take_lease(ctx, mode, true).await
        }
        Err(f) => Err(f),
    }
}

/// The spec the operation was going to: as decided, else the backup with its overrides.
fn target_spec(ctx: &Ctx, req: &Request) -> Result<Vec<Value>, Failure> {
    if let Some(d) = &ctx.rec.decided {
        return Ok(d.clone());
    }
    let mut spec = ctx.rec.backup.clone();
    if !req.overrides.is_empty() {
        let slot = spec.iter_mut().find(|m| {
            matches!(
                m.get("kind").and_then(Value::as_str),
                Some("InferenceService" | "Deployment")
            )
        });
        if let Some(slot) = slot {
            manifest::apply_overrides(slot, &req.overrides).map_err(|e| {
                Failure::new(
                    Step::DecideSpec,
                    OpResult::Usage,
                    format!("--set from the journal: {e}"),
                )
            })?;
        }
    }
    Ok(spec)
}

async fn resume(ctx: &mut Ctx, req: &Request) -> PlanEnd {
    let old_ids = ctx.rec.old_objects.clone();
    let old: HashSet<String> = old_ids.iter().map(|o| o.uid.clone()).collect();
    // Finish the deletion: old objects still whole are deleted, then all verified gone.
    if let Err(f) = ctx
        .begin(Step::Delete, "deleting what is left of the old objects")
        .await
    {
        return end(Phase::AfterDelete, Err(f));
    }
    // Objects Terminating for longer than the deadline already: escalated (or reported) at once.
    let mut terminating: Vec<(ObjectId, Value)> = Vec::new();
    for id in old_ids
        .iter()
        .filter(|o| o.kind != "Pod" && o.kind != "ReplicaSet")
    {
        let Some(kind) = Kind::parse(&id.kind) else {
            continue;
        };
        match kapi::get(&ctx.client, &id.namespace, kind, &id.name).await {
            Ok(Some(obj))
                if kapi::uid(&obj) == id.uid && kapi::deletion_timestamp(&obj).is_none() =>
            {
                if let Err(f) = delete_one(ctx, Step::Delete, id, None).await {
                    return end(Phase::AfterDelete, Err(f));
                }
            }
            Ok(Some(obj)) if kapi::uid(&obj) == id.uid => terminating.push((id.clone(), obj)),
            Ok(_) => {}
            Err(e) => {
                return end(
                    Phase::AfterDelete,
                    Err(Failure::failed(Step::Delete, e.to_string())),
                );
            }
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
        &old_ids,
        super::redeploy::overdue_of(terminating.iter().map(|(i, o)| (i, o)), req.timeout),
        req.finalizers,
        req.timeout,
    )
    .await
    {
        return end(Phase::AfterDelete, Err(f));
    }
    ctx.done(Step::VerifyDeletion, "all old objects gone");
    let spec = match target_spec(ctx, req) {
        Ok(s) => s,
        Err(f) => return end(Phase::AfterDelete, Err(f)),
    };
    if let Err(f) = ctx
        .begin(
            Step::Create,
            format!("creating what is missing of {} objects", spec.len()),
        )
        .await
    {
        return end(Phase::AfterDelete, Err(f));
    }
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
