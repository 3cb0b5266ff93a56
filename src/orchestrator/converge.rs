//! Bringing the endpoint to a spec: create what is missing, wait for what is on its way out,
//! and decide about objects already there by whose they are. The create step, the rollback and
//! `recover --resume` are this one function with different rules for existing objects.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::ctx::{Attempt, Ctx, Failure, backoff};
use super::destroy::{delete_one, stopped, verify_gone};
use super::inventory::create_rank;
use super::kapi;
use super::progress::{OpResult, Step};
use super::record::ObjectId;
use super::request::EscalationPolicy;
use super::wait::{WaitError, WaitNote, wait_ready};
use crate::cluster::model::Kind;
use crate::util::duration::format_duration;

/// Creation attempts for one object before giving up with a clear error.
pub(crate) const CREATE_ATTEMPTS: u32 = 6;

/// What to do with an object that exists and is not being deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rules {
    /// The create step: old objects should be gone (delete again if not), anything else with the
    /// name is in the way: delete it and create (the seed plan's "on 409 delete again, retry").
    Create,
    /// Resume: old objects must go; any other object was created by the interrupted run: keep it.
    Resume,
    /// Rollback: old objects that are still whole stay; anything else is replaced by the backup.
    Rollback,
}

fn kind_of(m: &Value) -> Option<Kind> {
    m.get("kind").and_then(Value::as_str).and_then(Kind::parse)
}

/// Makes every manifest of `desired` exist under `rules`. Returns the objects now standing
/// (created or kept).
pub(crate) async fn converge(
    ctx: &mut Ctx,
    step: Step,
    desired: &[Value],
    old: &HashSet<String>,
    rules: Rules,
    wait_budget: Duration,
) -> Result<Vec<ObjectId>, Failure> {
    // The whole step within `wait_budget` unless the caller bounded it already (the rollback
    // bounds itself by --timeout + --ready-timeout and waits less for old objects).
    if ctx.remaining().is_none() {
        ctx.bound(wait_budget);
    }
    let mut order: Vec<&Value> = desired.iter().collect();
    order.sort_by_key(|m| kind_of(m).map(create_rank).unwrap_or(u8::MAX));
    let mut standing = Vec::new();
    for m in order {
        standing.push(converge_one(ctx, step, m, old, rules, wait_budget).await?);
    }
    Ok(standing)
}

async fn converge_one(
    ctx: &mut Ctx,
    step: Step,
    manifest: &Value,
    old: &HashSet<String>,
    rules: Rules,
    wait_budget: Duration,
) -> Result<ObjectId, Failure> {
    let ns = ctx.rec.endpoint.namespace.clone();
    let name = kapi::name(manifest).to_string();
    let Some(kind) = kind_of(manifest) else {
        return Err(Failure::new(
            step,
            OpResult::Usage,
            format!("manifest {name:?} has no kind this console can create"),
        ));
    };
    let started = Instant::now();
    let mut attempt = 0u32;
    loop {
        if ctx.stop.is_cancelled() {
            return Err(stopped(step));
        }
        attempt += 1;
        if attempt > CREATE_ATTEMPTS {
            let msg = format!(
                "gave up creating {} {name} after {CREATE_ATTEMPTS} attempts in {}",
                kind.name(),
                crate::util::duration::format_elapsed(started.elapsed())
            );
            ctx.failed(step, msg.clone(), None);
            return Err(Failure::failed(step, msg));
        }
        // The final existence check, right before creating.
        ctx.info(step, format!("Checking if {} {name} exists", kind.name()));
        let what = || format!("get {} {ns}/{name}", kind.name());
        let existing = match ctx
            .call(what, kapi::get(&ctx.client, &ns, kind, &name))
            .await
        {
            Ok(e) => e,
            Err(e) if e.transient() => {
                ctx.after_transient(step, attempt_of(&e, attempt)).await?;
                continue;
            }
            Err(e) => return Err(Failure::failed(step, e.to_string())),
        };
        if let Some(obj) = existing {
            let id = object_id(kind, &ns, &obj);
            let terminating = kapi::deletion_timestamp(&obj).is_some();
            let is_old = old.contains(&id.uid);
            let ours = ctx.rec.created.iter().any(|c| c.uid == id.uid);
            let keep = !terminating
                && match rules {
                    Rules::Create => ours,
                    Rules::Resume => !is_old,
                    Rules::Rollback => is_old,
                };
            if keep {
                ctx.info(
                    step,
                    format!(
                        "{} {name} exists ({}); keeping it",
                        kind.name(),
                        describe_owner(is_old, ours)
                    ),
                );
                return Ok(id);
            }
            if !terminating {
                ctx.info(
                    step,
                    format!(
                        "{} {name} is in the way ({}); deleting it again",
                        kind.name(),
                        describe_owner(is_old, ours)
                    ),
                );
                delete_one(ctx, step, &id, None).await?;
            } else {
                ctx.info(
                    step,
                    format!(
                        "{} {name} is still being deleted; waiting for it to go",
                        kind.name()
                    ),
                );
            }
            let budget = wait_budget
                .saturating_sub(started.elapsed())
                .min(ctx.remaining().unwrap_or(wait_budget))
                .max(Duration::from_secs(1));
            verify_gone(
                ctx,
                step,
                std::slice::from_ref(&id),
                Vec::new(),
                EscalationPolicy::Never,
                budget,
            )
            .await?;
            continue;
        }
        ctx.info(step, format!("Attempting to create {} {name}", kind.name()));
        let what = || format!("create {} {ns}/{name}", kind.name());
        match ctx
            .call(what, kapi::create(&ctx.client, &ns, kind, manifest))
            .await
        {
            Ok(created) => {
                let id = object_id(kind, &ns, &created);
                ctx.api(
                    step,
                    format!("created {} {name} (uid {})", kind.name(), id.uid),
                    "201 Created",
                );
                ctx.rec.created.push(id.clone());
                // Recovery adopts objects it does not know as created by the run it resumes,
                // so this record needs no fsync.
                ctx.persist_cached(step)?;
                return Ok(id);
            }
            Err(e) if e.transient() => {
                ctx.after_transient(step, attempt_of(&e, attempt)).await?;
            }
            Err(e) if e.code == Some(409) => {
                // AlreadyExists ("object is being deleted", or a racing creator): back to the
                // existence check, which waits for it to go or removes it.
                let wait = backoff(attempt);
                ctx.retry(
                    step,
                    format!(
                        "create {} {name} answered {}; retry {attempt}/{CREATE_ATTEMPTS} in {}",
                        kind.name(),
                        e.code
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "no answer".into()),
                        format_duration(wait)
                    ),
                    Some(e.message),
                );
                if !ctx.pause(wait).await {
                    return Err(stopped(step));
                }
            }
            Err(e) => {
                let hint = if e.code == Some(403) {
                    " (permission missing: ask for create on this resource)"
                } else {
                    ""
                };
                ctx.failed(
                    step,
                    format!("create {} {name} refused", kind.name()),
                    Some(e.message.clone()),
                );
                return Err(Failure::failed(step, format!("{}{hint}", e)));
            }
        }
    }
}

/// Attempt `number` of a create (409s and transient failures count alike) as the retry line
/// tells it.
fn attempt_of(e: &kapi::ApiFailure, number: u32) -> Attempt<'_> {
    Attempt {
        what: &e.what,
        code: e.code,
        retry_after: e.retry_after,
        message: e.message.clone(),
        number,
        of: CREATE_ATTEMPTS,
    }
}

fn describe_owner(is_old: bool, ours: bool) -> &'static str {
    match (is_old, ours) {
        (true, _) => "the object from before the operation",
        (false, true) => "created by this operation",
        (false, false) => "not from before, not created by this operation",
    }
}

fn object_id(kind: Kind, ns: &str, obj: &Value) -> ObjectId {
    ObjectId {
        kind: kind.name().to_string(),
        namespace: ns.to_string(),
        name: kapi::name(obj).to_string(),
        uid: kapi::uid(obj).to_string(),
    }
}

/// Waits for every workload among `standing` to be ready.
pub(crate) async fn verify_ready(
    ctx: &mut Ctx,
    step: Step,
    standing: &[ObjectId],
    deadline: Duration,
) -> Result<(), Failure> {
    // Within the step's own bound too (the rollback's: --timeout + --ready-timeout in all).
    let deadline = ctx.remaining().map_or(deadline, |r| r.min(deadline));
    let started = Instant::now();
    for id in standing {
        let budget = deadline.saturating_sub(started.elapsed());
        let client = ctx.client.clone();
        let stop = ctx.stop.clone();
        let (ntx, mut nrx) = tokio::sync::mpsc::unbounded_channel();
        let target = id.clone();
        let waiter = tokio::spawn(async move {
            wait_ready(&client, &target, budget, &stop, |n| {
                let _ = ntx.send(n);
            })
            .await
        });
        tokio::pin!(waiter);
        let result = loop {
            tokio::select! {
                n = nrx.recv() => if let Some(n) = n { note(ctx, step, id, n) },
                r = &mut waiter => break r.unwrap_or(Err(WaitError::Cancelled)),
            }
        };
        while let Ok(n) = nrx.try_recv() {
            note(ctx, step, id, n);
        }
        match result {
            Ok(line) => ctx.info(step, format!("{} {} is ready: {line}", id.kind, id.name)),
            Err(WaitError::Cancelled) => return Err(stopped(step)),
            Err(WaitError::Deadline(_)) => {
                let msg = format!(
                    "{} {} not ready within {}",
                    id.kind,
                    id.name,
                    format_duration(deadline)
                );
                ctx.failed(step, msg.clone(), None);
                return Err(Failure::new(step, OpResult::Deadline, msg));
            }
        }
    }
    Ok(())
}

fn note(ctx: &mut Ctx, step: Step, id: &ObjectId, n: WaitNote) {
    match n {
        WaitNote::Status(s) => ctx.info(step, format!("{} {}: {s}", id.kind, id.name)),
        WaitNote::WatchError(e) => ctx.retry(step, format!("{e}; re-watching"), None),
        WaitNote::Gone(_) | WaitNote::Terminating(_) => {}
    }
}
