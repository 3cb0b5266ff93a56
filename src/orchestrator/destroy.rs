//! Deleting an endpoint's objects and verifying they are gone, with the seed plan's milestones
//! and the escalation (force-delete pods, strip finalizers, delete again) its policy allows.

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::oneshot;

use super::ctx::{Attempt, Ctx, Failure, backoff};
use super::kapi;
use super::progress::{EscalationChoice, OpEvent, OpKind, OpResult, Question, Step, StuckObject};
use super::record::ObjectId;
use super::request::EscalationPolicy;
use super::wait::{WaitError, WaitNote, wait_gone};
use crate::cluster::model::Kind;
use crate::util::age::format_age_secs;
use crate::util::duration::format_elapsed;

/// Attempts for one delete call that fails transiently (429, 5xx, no answer).
const DELETE_ATTEMPTS: u32 = 5;

/// Deletes one object (conditioned on its UID), logging the seed plan's milestones. A 404 or a
/// UID precondition failure means it is already gone (or replaced): fine.
pub(crate) async fn delete_one(
    ctx: &mut Ctx,
    step: Step,
    id: &ObjectId,
    grace: Option<u32>,
) -> Result<(), Failure> {
    let Some(kind) = Kind::parse(&id.kind) else {
        return Ok(());
    };
    ctx.info(step, format!("Checking if {} {} exists", id.kind, id.name));
    let mut attempt = 0;
    loop {
        attempt += 1;
        let what = || format!("get {} {}/{}", id.kind, id.namespace, id.name);
        let current = match ctx
            .call(what, kapi::get(&ctx.client, &id.namespace, kind, &id.name))
            .await
        {
            Ok(c) => c,
            Err(e) if e.transient() => {
                ctx.after_transient(step, delete_attempt(&e, attempt))
                    .await?;
                continue;
            }
            Err(e) => {
                return Err(Failure::failed(
                    step,
                    format!(
                        "ApiException when checking {} {}: {}",
                        id.kind, id.name, e.message
                    ),
                ));
            }
        };
        match current {
            None => {
                ctx.info(
                    step,
                    format!("{} {} does not exist (already gone)", id.kind, id.name),
                );
                return Ok(());
            }
            Some(obj) if kapi::uid(&obj) != id.uid => {
                ctx.info(
                    step,
                    format!(
                        "{} {} is another object now (new UID); the old one is gone",
                        id.kind, id.name
                    ),
                );
                return Ok(());
            }
            Some(_) => {}
        }
        ctx.info(
            step,
            format!("Attempting to delete {} {}", id.kind, id.name),
        );
        let what = || format!("delete {} {}/{}", id.kind, id.namespace, id.name);
        let deleted = kapi::delete(&ctx.client, &id.namespace, kind, &id.name, &id.uid, grace);
        match ctx.call(what, deleted).await {
            Ok(answer) => {
                ctx.api(step, "Delete API call successful", answer);
                if !ctx.deleted.contains(id) {
                    ctx.deleted.push(id.clone());
                }
                return Ok(());
            }
            Err(e) if e.not_found() || e.code == Some(409) => {
                // 409 here is the UID precondition: a new object took the name, ours is gone.
                ctx.api(
                    step,
                    format!("{} {} already gone", id.kind, id.name),
                    e.message,
                );
                return Ok(());
            }
            Err(e) if e.transient() => {
                ctx.after_transient(step, delete_attempt(&e, attempt))
                    .await?;
            }
            Err(e) => {
                let hint = if e.code == Some(403) {
                    " (permission missing: ask for delete on this resource)"
                } else {
                    ""
                };
                ctx.failed(
                    step,
                    format!("ApiException when deleting {} {}", id.kind, id.name),
                    Some(e.message.clone()),
                );
                return Err(Failure::failed(
                    step,
                    format!(
                        "ApiException when deleting {} {}: {}{hint}",
                        id.kind, id.name, e.message
                    ),
                ));
            }
        }
    }
}

/// Attempt `number` of a delete's get or delete call, as the retry line tells it.
fn delete_attempt(e: &kapi::ApiFailure, number: u32) -> Attempt<'_> {
    Attempt {
        what: &e.what,
        code: e.code,
        retry_after: e.retry_after,
        message: e.message.clone(),
        number,
        of: DELETE_ATTEMPTS,
    }
}

pub(crate) fn stopped(step: Step) -> Failure {
    Failure::new(step, OpResult::Cancelled, "stopped")
}

/// One line for an object still there.
pub(crate) fn describe_stuck(s: &StuckObject) -> String {
    if let Some(owner) = &s.awaiting_gc {
        return format!(
            "{} is waiting for garbage collection (not deleted yet: it goes once its owner {owner} is gone)",
            s.object
        );
    }
    let age = match s.terminating_for_seconds {
        Some(secs) if secs > 0 => format!(" for {}", format_age_secs(secs)),
        _ => String::new(),
    };
    if s.finalizers.is_empty() {
        match s.terminating_for_seconds {
            // A pod's deletionTimestamp is the end of its grace period.
            Some(secs) if secs < 0 => format!(
                "{} is Terminating (grace period, ends in {})",
                s.object,
                format_age_secs(-secs)
            ),
            _ => format!("{} is Terminating{age} (no finalizers left)", s.object),
        }
    } else {
        format!(
            "{} is Terminating{age}, held by finalizer{} {}",
            s.object,
            if s.finalizers.len() == 1 { "" } else { "s" },
            s.finalizers.join(", ")
        )
    }
}

/// `3 objects`, `1 object`.
fn count(n: usize, what: &str) -> String {
    crate::util::plural(n, what)
}

/// What holds the stuck objects, counted: `1 held by finalizers, 7 waiting for garbage
/// collection`.
fn summary(stuck: &[StuckObject]) -> String {
    let held = stuck.iter().filter(|s| !s.finalizers.is_empty()).count();
    let gc = stuck.iter().filter(|s| s.awaiting_gc.is_some()).count();
    let grace = stuck.len() - held - gc;
    let mut parts = Vec::new();
    if held > 0 {
        parts.push(format!("{held} held by finalizers"));
    }
    if gc > 0 {
        parts.push(format!("{gc} waiting for garbage collection"));
    }
    if grace > 0 {
        parts.push(format!("{grace} Terminating without finalizers"));
    }
    parts.join(", ")
}

/// What verification knows across its rounds.
#[derive(Debug, Default)]
struct Sweep {
    /// UIDs seen gone: not waited for again.
    gone: HashSet<String>,
    /// UIDs escalated: each object is escalated once, then given up on.
    escalated: HashSet<String>,
    /// After an escalation every target pod seen Terminating is force-deleted (grace 0) at
    /// once, as the escalation promises ("force-delete pods"), including the pods the cascade
    /// deletes only once their owner's finalizer is stripped.
    force_pods: bool,
    /// Pods force-deleted so far.
    forced: HashSet<String>,
}

/// Waits (by watch) until every one of `targets` is gone. Stuck objects are escalated as
/// `policy` allows; `overdue` (Terminating since before the operation, for longer than the
/// deadline) are escalated, or reported, at once instead of after another full deadline. After
/// an escalation every target not yet seen gone is waited for again, by UID, as before it:
/// stripping a root's finalizer starts the cascade of its dependents, it does not end it.
pub(crate) async fn verify_gone(
    ctx: &mut Ctx,
    step: Step,
    targets: &[ObjectId],
    overdue: Vec<StuckObject>,
    policy: EscalationPolicy,
    timeout: Duration,
) -> Result<(), Failure> {
    let mut sweep = Sweep::default();
    let mut first_stuck = overdue;
    loop {
        // Objects stuck since before the operation are judged without another wait.
        let waited = first_stuck.is_empty();
        let stuck = if first_stuck.is_empty() {
            let remaining: Vec<ObjectId> = targets
                .iter()
                .filter(|t| !sweep.gone.contains(&t.uid))
                .cloned()
                .collect();
            match wait_for(ctx, step, &remaining, timeout, &mut sweep).await? {
                Ok(()) => return Ok(()),
                Err(WaitError::Cancelled) => return Err(stopped(step)),
                Err(WaitError::Deadline(stuck)) => stuck,
            }
        } else {
            std::mem::take(&mut first_stuck)
        };
        for s in &stuck {
            ctx.info(step, describe_stuck(s));
        }
        let with_finalizers = stuck.iter().any(|s| !s.finalizers.is_empty());
        let mut fresh: Vec<StuckObject> = stuck
            .iter()
            .filter(|s| !sweep.escalated.contains(&s.object.uid))
            .cloned()
            .collect();
        let choice = if fresh.is_empty() {
            EscalationChoice::GiveUp
        } else {
            match policy {
                EscalationPolicy::Never => EscalationChoice::GiveUp,
                EscalationPolicy::Strip => EscalationChoice::Strip,
                EscalationPolicy::Ask => ask(ctx, &fresh).await,
            }
        };
        if choice == EscalationChoice::GiveUp {
            let why = if fresh.is_empty() {
                "still there after force-delete, stripping finalizers and deleting again"
            } else if waited {
                "not gone within the deadline"
            } else {
                "Terminating for longer than the deadline before this operation"
            };
            return Err(give_up(
                ctx,
                step,
                &stuck,
                with_finalizers,
                (fresh.is_empty(), why),
                timeout,
            ));
        }
        // Owners first, pods last: a pod force-deleted while its ReplicaSet still stands would
        // only be replaced by a new one.
        fresh.sort_by_key(|s| escalation_rank(&s.object.kind));
        sweep
            .escalated
            .extend(fresh.iter().map(|s| s.object.uid.clone()));
        sweep.force_pods = true;
        escalate(ctx, step, &fresh, &mut sweep).await?;
        ctx.info(
            step,
            "escalation done; verifying deletion of every object again",
        );
    }
}

/// The root workload (its finalizer holds the cascade) first, then the other owners, then
/// ReplicaSets, then pods.
fn escalation_rank(kind: &str) -> u8 {
    match Kind::parse(kind) {
        Some(Kind::InferenceService) => 0,
        Some(Kind::ReplicaSet) => 2,
        Some(Kind::Pod) => 3,
        _ => 1,
    }
}

/// One watch over `targets` until they are gone or the deadline passes (the inner result);
/// the outer error is a force-delete that failed on the way.
async fn wait_for(
    ctx: &mut Ctx,
    step: Step,
    targets: &[ObjectId],
    timeout: Duration,
    sweep: &mut Sweep,
) -> Result<Result<(), WaitError>, Failure> {
    let stop = ctx.stop.clone();
    // Notes are sent by the watcher callback and told (and acted on) here, in order; the
    // callback cannot borrow the context mutably while the wait borrows its client.
    let (ntx, mut nrx) = tokio::sync::mpsc::unbounded_channel();
    let client = ctx.client.clone();
    let targets = targets.to_vec();
    let waiter = tokio::spawn(async move {
        wait_gone(&client, &targets, timeout, &stop, |n| {
            let _ = ntx.send(n);
        })
        .await
    });
    tokio::pin!(waiter);
    let result = loop {
        tokio::select! {
            n = nrx.recv() => match n {
                Some(n) => {
                    if let Err(f) = tell(ctx, step, n, sweep, true).await {
                        waiter.abort();
                        return Err(f);
                    }
                }
                None => continue,
            },
            r = &mut waiter => break r.unwrap_or(Err(WaitError::Cancelled)),
        }
    };
    while let Ok(n) = nrx.try_recv() {
        // The wait is over: nothing more to act on, only to tell.
        tell(ctx, step, n, sweep, false).await?;
    }
    Ok(result)
}

async fn tell(
    ctx: &mut Ctx,
    step: Step,
    n: WaitNote,
    sweep: &mut Sweep,
    act: bool,
) -> Result<(), Failure> {
    match n {
        WaitNote::Gone(id) => {
            sweep.gone.insert(id.uid.clone());
            ctx.info(
                step,
                format!("Verified deletion of {} {}", id.kind, id.name),
            );
        }
        WaitNote::Terminating(s) => {
            ctx.info(step, describe_stuck(&s));
            let pod = Kind::parse(&s.object.kind) == Some(Kind::Pod);
            if act && sweep.force_pods && pod && sweep.forced.insert(s.object.uid.clone()) {
                ctx.info(
                    step,
                    format!(
                        "force-deleting Pod {} (grace period 0): after an escalation no pod of the endpoint waits out its grace period",
                        s.object.name
                    ),
                );
                delete_one(ctx, step, &s.object, Some(0)).await?;
            }
        }
        WaitNote::Status(s) => ctx.info(step, s),
        WaitNote::WatchError(e) => ctx.retry(step, format!("{e}; re-watching"), None),
    }
    Ok(())
}

/// The question of policy `ask`, in the words of the plan that asks it.
fn prompt(kind: OpKind, stuck: &[StuckObject]) -> String {
    let what = match kind {
        // Its pods were deleted with grace period 0 already.
        OpKind::ForceDelete => "Strip their finalizers and delete again?",
        _ => "Force-delete pods (grace 0), strip finalizers and delete again?",
    };
    format!(
        "{} will not go ({}). {what}",
        count(stuck.len(), "object"),
        summary(stuck)
    )
}

async fn ask(ctx: &mut Ctx, stuck: &[StuckObject]) -> EscalationChoice {
    let (reply, answer) = oneshot::channel();
    ctx.send_event(OpEvent::Question(Question {
        op_id: ctx.rec.id.clone(),
        prompt: prompt(ctx.rec.kind, stuck),
        stuck: stuck.to_vec(),
        reply,
    }));
    let stop = ctx.stop.clone();
    tokio::select! {
        _ = stop.cancelled() => EscalationChoice::GiveUp,
        a = answer => a.unwrap_or(EscalationChoice::GiveUp),
    }
}

fn give_up(
    ctx: &mut Ctx,
    step: Step,
    stuck: &[StuckObject],
    with_finalizers: bool,
    (escalated, what): (bool, &str),
    timeout: Duration,
) -> Failure {
    let list: Vec<String> = stuck.iter().map(describe_stuck).collect();
    let mut message = format!(
        "deletion not verified ({what}, {}): {}",
        format_elapsed(timeout),
        list.join("; ")
    );
    let result = if with_finalizers && !escalated {
        // How to go on depends on how the operation ends (rolled back, or kept for `recover`):
        // `finish` says it, from this.
        ctx.blocked_by = stuck
            .iter()
            .filter(|s| !s.finalizers.is_empty())
            .map(|s| s.object.clone())
            .collect();
        OpResult::Failed
    } else if with_finalizers {
        OpResult::Failed
    } else {
        message.push_str(". They are on their way out; a longer --timeout may be all it takes");
        OpResult::Deadline
    };
    ctx.failed(step, message.clone(), None);
    Failure::new(step, result, message)
}

/// Force-deletes stuck pods, strips every stuck object's finalizers (conditioned on its
/// resourceVersion), and deletes again.
async fn escalate(
    ctx: &mut Ctx,
    step: Step,
    stuck: &[StuckObject],
    sweep: &mut Sweep,
) -> Result<(), Failure> {
    for s in stuck {
        let id = &s.object;
        let Some(kind) = Kind::parse(&id.kind) else {
            continue;
        };
        if kind == Kind::Pod {
            ctx.info(
                step,
                format!("force-deleting Pod {} (grace period 0)", id.name),
            );
            sweep.forced.insert(id.uid.clone());
            delete_one(ctx, step, id, Some(0)).await?;
        }
        strip_one(ctx, step, id).await?;
        delete_one(ctx, step, id, None).await?;
    }
    Ok(())
}

/// Strips all finalizers of `id` if it still exists with that UID; one re-read and retry when
/// its resourceVersion moved in between.
pub(crate) async fn strip_one(ctx: &mut Ctx, step: Step, id: &ObjectId) -> Result<(), Failure> {
    let Some(kind) = Kind::parse(&id.kind) else {
        return Ok(());
    };
    for attempt in 1..=3u32 {
        let current = kapi::get(&ctx.client, &id.namespace, kind, &id.name)
            .await
            .map_err(|e| Failure::failed(step, e.to_string()))?;
        let Some(obj) = current.filter(|o| kapi::uid(o) == id.uid) else {
            ctx.info(
                step,
                format!("{} {} is gone; nothing to strip", id.kind, id.name),
            );
            return Ok(());
        };
        let finalizers = kapi::finalizers(&obj);
        if finalizers.is_empty() {
            return Ok(());
        }
        let rv = kapi::resource_version(&obj).to_string();
        ctx.info(
            step,
            format!(
                "stripping finalizers {} from {} {} (resourceVersion {rv})",
                finalizers.join(", "),
                id.kind,
                id.name
            ),
        );
        match kapi::strip_finalizers(&ctx.client, &id.namespace, kind, &id.name, &rv).await {
            Ok(_) => {
                ctx.api(
                    step,
                    format!("finalizers removed from {} {}", id.kind, id.name),
                    "200 OK",
                );
                return Ok(());
            }
            Err(e) if e.not_found() => return Ok(()),
            // 409/422: the resourceVersion test failed, the object moved; read it again.
            Err(e) if matches!(e.code, Some(409 | 422)) || e.transient() => {
                ctx.retry(step, format!("{}; re-reading", e.what), Some(e.message));
                if !ctx.pause(backoff(attempt)).await {
                    return Err(stopped(step));
                }
            }
            Err(e) => {
                let hint = if e.code == Some(403) {
                    " (cannot strip finalizers: forbidden; ask for patch on this resource)"
                } else {
                    ""
                };
                ctx.failed(
                    step,
                    format!("cannot strip finalizers of {}", id),
                    Some(e.message.clone()),
                );
                return Err(Failure::failed(
                    step,
                    format!("cannot strip finalizers of {id}: {}{hint}", e.message),
                ));
            }
        }
    }
    Err(Failure::failed(
        step,
        format!("cannot strip finalizers of {id}: it kept changing under us (3 attempts)"),
    ))
}

#[cfg(test)]
#[path = "destroy_tests.rs"]
mod tests;
