//! The end of every plan: the rollback when one is needed, then the record (an Event on the
//! endpoint's object, a line in the local audit log), the backup ConfigMap removed when nothing
//! needs it any more, the lease released, and the [`Outcome`].

use std::collections::HashSet;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::json;

use super::backup;
use super::converge::{Rules, converge, verify_ready};
use super::ctx::{Ctx, Failure, StopReason};
use super::journal::{AuditEntry, append_audit};
use super::kapi;
use super::progress::{OpResult, Outcome, Step};
use super::record::{ObjectId, OpState};
use super::redeploy::{Phase, PlanEnd};
use super::request::Request;

/// Rolls back if needed, records, releases; returns the outcome.
pub(crate) async fn finish(ctx: &mut Ctx, req: &Request, end: PlanEnd) -> Outcome {
    let (result, failed_step, mut message, standing) = match end.result {
        Ok(standing) => (
            OpResult::Succeeded,
            None,
            end.message
                .clone()
                .unwrap_or_else(|| success_message(ctx, req)),
            standing,
        ),
        Err(f) => {
            let result = if ctx.stop_reason() == Some(StopReason::Cancelled) {
                OpResult::Cancelled
            } else {
                f.result
            };
            let message = match ctx.stop_reason() {
                Some(StopReason::Cancelled) => {
                    format!("cancelled by the operator during {}", f.step)
                }
                Some(StopReason::LockLost) => format!(
                    "the lease was lost during {} (another holder took it, or it could not be renewed); stopped without touching anything more",
                    f.step
                ),
                None => f.message.clone(),
            };
            (result, Some(f.step), message, Vec::new())
        }
    };
    if result == OpResult::Cancelled
        && let Some(step) = failed_step
    {
        ctx.cancelled(step, "cancelled by the operator");
    }
    let mut rollback = None;
    let mut rolled_back = false;
    let mut state = if result == OpResult::Succeeded {
        OpState::Succeeded
    } else {
        OpState::Failed
    };
    if result == OpResult::Cancelled {
        state = OpState::Cancelled;
    }
    let lock_lost = ctx.stop_reason() == Some(StopReason::LockLost);
    let needs_rollback = result != OpResult::Succeeded
        && match end.phase {
            Phase::BeforeDelete => false,
            Phase::AfterDelete => true,
            // The new spec stands: a cancel leaves it; a failure (not ready in time) goes back.
            Phase::Created => result != OpResult::Cancelled,
        };
    if lock_lost && end.phase != Phase::BeforeDelete {
        state = OpState::NeedsRecovery;
        if req.kind == super::progress::OpKind::Redeploy {
            message.push_str(&format!(". The backup is kept; run `llmops-console recover {} --resume` (or --rollback) once the other holder is done", ctx.rec.id));
        } else {
            // Force-delete and strip-finalizers recreate nothing: there is no backup to resume.
            message.push_str(&format!(
                ". A {} recreates nothing; once the other holder is done, run it again if anything is left",
                req.kind.name()
            ));
        }
    } else if needs_rollback && !ctx.rec.backup.is_empty() {
        let stuck_before = failed_step == Some(Step::VerifyDeletion);
        match run_rollback(ctx, req, stuck_before).await {
            Ok(()) => {
                rolled_back = true;
                rollback = Some(
                    "rolled back: the endpoint was recreated from the backup and is ready"
                        .to_string(),
                );
            }
            Err(f) => {
                state = OpState::NeedsRecovery;
                rollback = Some(format!(
                    "rollback could not finish: {}. The backup is kept (journal {}, ConfigMap {}); run `llmops-console recover {} --resume` or `--rollback` once that is fixed",
                    f.message,
                    ctx.journal.path_of(&ctx.rec.id).display(),
                    backup::backup_name(&ctx.rec.endpoint.name),
                    ctx.rec.id
                ));
            }
        }
    } else if result == OpResult::Cancelled && end.phase == Phase::Created {
        message.push_str("; the new spec is in place, its readiness was not verified");
    }
    let removable = backup_removable(ctx, end.phase, result);
    let untouched = touched_nothing(ctx);
    if ctx.recovering && untouched && result != OpResult::Succeeded {
        // A recovery that stopped before changing anything (refused by the lock, preflight, a
        // stuck finalizer) leaves the record in the state it found it.
        state = ctx.unfinished_state.unwrap_or(OpState::NeedsRecovery);
        message.push_str(&kept_note(ctx, true));
    } else if may_have_backup(ctx) && !removable && !state.unfinished() {
        // A backup that stays belongs to an unfinished operation, which `recover --list`
        // shows: nothing else would ever read it again.
        state = OpState::NeedsRecovery;
        message.push_str(&kept_note(ctx, false));
    }
    if ctx.discarding && result == OpResult::Succeeded {
        state = OpState::Discarded;
    }
    if let Some(advice) = advice(ctx, req, state) {
        message.push_str(&advice);
    }
    if result != OpResult::Succeeded
        && req.kind == super::progress::OpKind::Redeploy
        && result != OpResult::LockHeld
    {
        ctx.info(
            Step::Finish,
            format!("Failed to redeploy endpoint {}", ctx.rec.endpoint),
        );
    }
    // Nothing happened to the endpoint when a recovery stopped before changing anything: no
    // Event on it.
    let event = !(ctx.recovering && untouched && result != OpResult::Succeeded);
    record_and_release(
        ctx,
        req,
        Ending {
            result,
            state,
            message: &message,
            rollback: rollback.as_deref(),
            rolled_back,
            standing: &standing,
            remove_backup: removable && may_have_backup(ctx),
            event,
        },
    )
    .await;
    Outcome {
        op_id: ctx.rec.id.clone(),
        kind: req.kind,
        endpoint: ctx.rec.endpoint.clone(),
        result,
        failed_step,
        message,
        rollback,
        created: ctx.rec.created.clone(),
        deleted: ctx.deleted.clone(),
        retries: ctx.retries,
        elapsed: ctx.elapsed(),
        journal: Some(ctx.journal.path_of(&ctx.rec.id)),
    }
}

/// Whether the operation may remove its endpoint's backup ConfigMap now. Only when the
/// endpoint was verified ready on a spec the record holds, when the user discards the backup,
/// or when the operation wrote the backup itself and provably changed nothing (it stopped in
/// lock, preflight or snapshot with no delete or create made): the endpoint is then exactly as
/// backed up, and a backup left behind would only block the next operation. A refused or failed
/// operation never removes a backup otherwise, its own or another's.
pub(crate) fn backup_removable(ctx: &Ctx, phase: Phase, result: OpResult) -> bool {
    (ctx.discarding && result == OpResult::Succeeded)
        || ctx.verified_on.is_some()
        || (ctx.backup_written
            && !ctx.recovering
            && phase == Phase::BeforeDelete
            && touched_nothing(ctx))
}

/// No delete or create call was made by this run: every step it started (a recovery's record
/// holds the interrupted run's steps before its own) only reads or writes its own records.
fn touched_nothing(ctx: &Ctx) -> bool {
    ctx.deleted.is_empty()
        && ctx.rec.steps.iter().skip(ctx.steps_from).all(|s| {
            matches!(
                s.step,
                Step::Lock | Step::Preflight | Step::Snapshot | Step::Finish
            )
        })
}

/// A backup ConfigMap of this operation may be in the cluster: it wrote one, or it recovers an
/// operation that has one.
fn may_have_backup(ctx: &Ctx) -> bool {
    ctx.backup_written || (ctx.recovering && !ctx.rec.backup.is_empty())
}

/// Where the kept backup is and how to go on from it.
fn kept_note(ctx: &Ctx, before_changes: bool) -> String {
    let id = &ctx.rec.id;
    let cm = format!(
        "{}/{}",
        ctx.rec.endpoint.namespace,
        backup::backup_name(&ctx.rec.endpoint.name)
    );
    if before_changes {
        let backup = if may_have_backup(ctx) {
            format!("the backup (ConfigMap {cm}) and ")
        } else {
            String::new()
        };
        format!(
            ". Nothing was changed: {backup}the record stay as they were; `llmops-console \
             recover {id} --resume` (or --rollback, --discard) goes on once that is fixed"
        )
    } else {
        format!(
            ". The backup is kept until the endpoint is verified (ConfigMap {cm}, journal {}): \
             `llmops-console recover {id} --resume` verifies it, `--rollback` goes back to it, \
             `--discard` drops it",
            ctx.journal.path_of(id).display()
        )
    }
}

/// How to go on past finalizers the policy would not strip, naming the plan's own command:
/// run again when the endpoint was restored, or finish this very operation when it is kept for
/// `recover`.
fn advice(ctx: &Ctx, req: &Request, state: OpState) -> Option<String> {
    use super::progress::OpKind;
    let first = ctx.blocked_by.first()?;
    let strip = format!(
        "llmops-console strip-finalizers {}/{}/{}",
        first.namespace,
        first.kind.to_lowercase(),
        first.name
    );
    match req.kind {
        OpKind::Redeploy => {}
        OpKind::ForceDelete => {
            let one = req
                .target
                .as_ref()
                .map(|t| format!(" --kind {} --name {}", t.kind.name().to_lowercase(), t.name))
                .unwrap_or_default();
            return Some(format!(
                ". To go on: llmops-console force-delete {}{one} --finalizers strip, or strip them yourself: {strip}",
                ctx.rec.endpoint
            ));
        }
        OpKind::StripFinalizers => {
            return Some(format!(
                ". Something put a finalizer back (its controller?); once that is stopped: {strip}"
            ));
        }
    }
    Some(if state == OpState::NeedsRecovery {
        format!(
            ". To go on: llmops-console recover {id} --resume --finalizers strip, or strip them \
             yourself ({strip}) and then llmops-console recover {id} --resume",
            id = ctx.rec.id
        )
    } else {
        format!(". To go on: run again with --finalizers strip, or strip them yourself: {strip}")
    })
}

fn success_message(ctx: &Ctx, req: &Request) -> String {
    match req.kind {
        super::progress::OpKind::Redeploy => format!(
            "endpoint {} redeployed: {} deleted, {} created, ready",
            ctx.rec.endpoint,
            crate::util::plural(ctx.deleted.len(), "object"),
            ctx.rec.created.len()
        ),
        super::progress::OpKind::ForceDelete => format!(
            "{} of {} force-deleted and gone",
            crate::util::plural(ctx.deleted.len(), "object"),
            ctx.rec.endpoint
        ),
        super::progress::OpKind::StripFinalizers => "finalizers stripped".to_string(),
    }
}

/// Recreates the backup: old objects still whole stay, anything else is replaced.
pub(crate) async fn run_rollback(
    ctx: &mut Ctx,
    req: &Request,
    stuck_before: bool,
) -> Result<(), Failure> {
    // The operator's cancel must not cancel the rollback it triggered.
    ctx.stop = tokio_util::sync::CancellationToken::new();
    ctx.step_retries = 0;
    // The rollback is bounded as a whole: --timeout for recreating (waits for old objects,
    // creates and their retries) plus --ready-timeout for readiness.
    let bound = req.timeout + req.ready_timeout;
    ctx.begin(
        Step::Rollback,
        format!(
            "recreating the endpoint from the backup (at most {}: --timeout {} + --ready-timeout {})",
            crate::util::duration::format_duration(bound),
            crate::util::duration::format_duration(req.timeout),
            crate::util::duration::format_duration(req.ready_timeout)
        ),
    )
    .await?;
    ctx.bound(bound);
    let old: HashSet<String> = ctx.rec.old_objects.iter().map(|o| o.uid.clone()).collect();
    let backup = ctx.rec.backup.clone();
    // Objects that just failed to go will not go now; do not wait another full deadline.
    let budget = if stuck_before {
        Duration::from_secs(2)
    } else {
        req.timeout
    };
    let standing = converge(ctx, Step::Rollback, &backup, &old, Rules::Rollback, budget).await?;
    verify_ready(ctx, Step::Rollback, &standing, req.ready_timeout).await?;
    ctx.verified_on = Some(super::ctx::Verified::Backup);
    ctx.done(
        Step::Rollback,
        "endpoint restored from the backup and ready",
    );
    Ok(())
}

/// How an operation ended, for the record.
struct Ending<'a> {
    result: OpResult,
    state: OpState,
    message: &'a str,
    rollback: Option<&'a str>,
    rolled_back: bool,
    standing: &'a [ObjectId],
    /// Remove the backup ConfigMap ([`backup_removable`]).
    remove_backup: bool,
    /// Record an Event on the endpoint.
    event: bool,
}

async fn record_and_release(ctx: &mut Ctx, req: &Request, ending: Ending<'_>) {
    let Ending {
        result,
        state,
        message,
        rollback,
        rolled_back,
        standing,
        remove_backup,
        event: record_event,
    } = ending;
    ctx.step_retries = 0;
    let _ = ctx.begin(Step::Finish, "recording the result").await;
    let full = match rollback {
        Some(r) => format!("{message}; {r}"),
        None => message.to_string(),
    };
    // Event on the endpoint's workload: the new one, else the old one (events may name gone
    // objects; that is how the history stays with the name).
    let about = standing
        .iter()
        .find(|o| matches!(o.kind.as_str(), "InferenceService" | "Deployment"))
        .or_else(|| {
            ctx.rec
                .old_objects
                .iter()
                .find(|o| matches!(o.kind.as_str(), "InferenceService" | "Deployment"))
        })
        .cloned();
    if result != OpResult::LockHeld
        && record_event
        && let Some(obj) = about
    {
        let (reason, type_) = match (result, rolled_back) {
            (OpResult::Succeeded, _) if ctx.discarding => ("BackupDiscarded", "Normal"),
            (OpResult::Succeeded, _) if ctx.recovering => ("Recovered", "Normal"),
            (OpResult::Succeeded, _) => (event_reason(req, true), "Normal"),
            (_, true) => ("RolledBack", "Warning"),
            _ => (event_reason(req, false), "Warning"),
        };
        let ev = event(ctx, &obj, reason, type_, &full);
        match kapi::create_event(&ctx.client, &ctx.rec.endpoint.namespace, &ev).await {
            Ok(()) => ctx.info(Step::Finish, format!("event {reason} recorded on {obj}")),
            Err(e) => ctx.info(Step::Finish, format!("could not record the event: {e}")),
        }
    }
    let entry = AuditEntry {
        time: Timestamp::now(),
        holder: ctx.rec.holder.clone(),
        kube_user: ctx.engine.info.user.clone(),
        context: ctx.engine.info.context.clone(),
        server: ctx.engine.info.server.clone(),
        op_id: ctx.rec.id.clone(),
        op: req.kind,
        endpoint: ctx.rec.endpoint.to_string(),
        result: format!("{result:?}").to_lowercase(),
        message: full.clone(),
        elapsed_ms: u64::try_from(ctx.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    match append_audit(&ctx.engine.settings.audit_log, &entry) {
        Ok(()) => ctx.info(
            Step::Finish,
            format!("audit log: {}", ctx.engine.settings.audit_log.display()),
        ),
        Err(e) => ctx.info(Step::Finish, format!("could not write the audit log: {e}")),
    }
    ctx.rec.state = state;
    ctx.rec.result = Some(full);
    if remove_backup {
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
                    matches!(e, backup::BackupError::Api { code, .. } if super::ctx::transient_code(*code))
                },
                || backup::delete_backup(&client, &ns, &name, &id),
            )
            .await;
        match deleted {
            Ok(()) => ctx.info(
                Step::Finish,
                format!(
                    "backup ConfigMap {} removed",
                    backup::backup_name(&ctx.rec.endpoint.name)
                ),
            ),
            Err(e) => ctx.info(
                Step::Finish,
                format!("could not remove the backup ConfigMap: {e}"),
            ),
        }
    }
    if let Err(f) = ctx.persist(Step::Finish) {
        ctx.info(Step::Finish, f.message);
    }
    if let Some(lock) = ctx.lock.take() {
        let name = lock.name().to_string();
        match lock.release().await {
            Ok(()) => ctx.info(Step::Finish, format!("lease {name} released")),
            Err(e) => ctx.info(
                Step::Finish,
                format!("could not release the lease (it expires by itself): {e}"),
            ),
        }
    }
    if state == OpState::Succeeded {
        ctx.done(Step::Finish, "done");
    } else {
        ctx.done(Step::Finish, format!("recorded as {}", state.name()));
    }
}

fn event_reason(req: &Request, ok: bool) -> &'static str {
    use super::progress::OpKind;
    match (req.kind, ok) {
        (OpKind::Redeploy, true) => "Redeployed",
        (OpKind::Redeploy, false) => "RedeployFailed",
        (OpKind::ForceDelete, true) => "ForceDeleted",
        (OpKind::ForceDelete, false) => "ForceDeleteFailed",
        (OpKind::StripFinalizers, true) => "FinalizersStripped",
        (OpKind::StripFinalizers, false) => "StripFinalizersFailed",
    }
}

fn event(ctx: &Ctx, obj: &ObjectId, reason: &str, type_: &str, message: &str) -> serde_json::Value {
    let now = Timestamp::now();
    let api_version = crate::cluster::model::Kind::parse(&obj.kind)
        .map(crate::cluster::kinds::api_version)
        .unwrap_or("v1");
    let suffix = format!("{:x}", now.as_nanosecond() as u64);
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": event_name(&obj.name, &suffix), "namespace": obj.namespace},
        "involvedObject": {"apiVersion": api_version, "kind": obj.kind, "name": obj.name,
                           "namespace": obj.namespace, "uid": obj.uid},
        "reason": reason,
        "message": message,
        "type": type_,
        "count": 1,
        "firstTimestamp": now.to_string(),
        "lastTimestamp": now.to_string(),
        "source": {"component": "llmops-console"},
        "reportingComponent": "llmops-console",
        "reportingInstance": ctx.rec.holder,
    })
}

/// `<object>.<suffix>` as client-go names events, cut so it stays a valid name (253 characters)
/// for objects whose own name is near that length.
fn event_name(object: &str, suffix: &str) -> String {
    let room = 253usize.saturating_sub(suffix.len() + 1);
    let cut: String = object.chars().take(room).collect();
    format!("{}.{suffix}", cut.trim_end_matches(['-', '.']))
}

#[cfg(test)]
mod event_name_tests {
    #[test]
    fn event_names_stay_valid_for_long_object_names() {
        let long = "a".repeat(253);
        let name = super::event_name(&long, "18c2f3a4b5c6d7e8");
        assert_eq!(name.len(), 253);
        assert!(name.ends_with(".18c2f3a4b5c6d7e8"));
        assert_eq!(super::event_name("ep", "ff"), "ep.ff");
    }
}
