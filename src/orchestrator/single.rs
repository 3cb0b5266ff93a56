//! The short plans: force-delete (grace 0, finalizers stripped on request; the whole endpoint
//! or one object) and strip-finalizers (one object, conditioned on its resourceVersion). Same
//! lock, preflight, journal and record as a redeploy; nothing is recreated, so the journal's
//! snapshot is the record of what was removed.

use super::ctx::{Ctx, Failure};
use super::destroy::{delete_one, strip_one, verify_gone};
use super::inventory::{Inventory, Member};
use super::kapi;
use super::progress::{OpResult, Step};
use super::redeploy::{Phase, PlanEnd, end, lock, needs, preflight};
use super::request::{EscalationPolicy, Request};
use crate::cluster::model::Kind;

fn targets<'a>(inv: &'a Inventory, req: &Request, step: Step) -> Result<Vec<&'a Member>, Failure> {
    match &req.target {
        None => Ok(inv.members.iter().collect()),
        Some(t) => {
            let found: Vec<&Member> = inv
                .members
                .iter()
                .filter(|m| m.kind == t.kind && m.id.name == t.name)
                .collect();
            if found.is_empty() {
                let known: Vec<String> = inv
                    .members
                    .iter()
                    .map(|m| format!("{}/{}", m.kind.short(), m.id.name))
                    .collect();
                return Err(Failure::new(
                    step,
                    OpResult::Usage,
                    format!(
                        "{} {} is not one of the objects of endpoint {} (it has: {})",
                        t.kind.name(),
                        t.name,
                        inv.endpoint,
                        known.join(", ")
                    ),
                ));
            }
            Ok(found)
        }
    }
}

/// Step `lock`, then the plan's targets (indices into the inventory's members).
async fn open(
    ctx: &mut Ctx,
    req: &Request,
    opening: &str,
) -> Result<(Inventory, Vec<usize>), Failure> {
    let inv = lock(ctx, req, opening).await?;
    let picked: Vec<usize> = {
        let chosen = targets(&inv, req, Step::Preflight)?;
        inv.members
            .iter()
            .enumerate()
            .filter(|(_, m)| chosen.iter().any(|c| std::ptr::eq(*c, *m)))
            .map(|(i, _)| i)
            .collect()
    };
    Ok((inv, picked))
}

fn members_of<'a>(inv: &'a Inventory, picked: &[usize]) -> Vec<&'a Member> {
    picked.iter().filter_map(|&i| inv.members.get(i)).collect()
}

/// Journal-only snapshot: what is about to be removed, fsynced before the first call.
async fn journal_snapshot(ctx: &mut Ctx, members: &[&Member]) -> Result<(), Failure> {
    ctx.begin(Step::Snapshot, "recording what will be removed")
        .await?;
    let uids = members.iter().map(|m| m.id.uid.clone()).collect();
    ctx.rec.old_objects = members.iter().map(|m| m.id.clone()).collect();
    // Kept for the record (and a manual restore); force-delete does not recreate them.
    ctx.rec.decided = Some(
        members
            .iter()
            .map(|m| super::manifest::sanitize(&m.json, &uids))
            .collect(),
    );
    ctx.persist(Step::Snapshot)?;
    ctx.done(
        Step::Snapshot,
        format!(
            "{} manifests written to journal {}",
            members.len(),
            ctx.journal.path_of(&ctx.rec.id).display()
        ),
    );
    Ok(())
}

/// Force-delete with `never` cannot get past a finalizer: targets already stuck on one for
/// longer than the deadline are refused before the journal snapshot, naming what works.
fn refuse_stuck_targets(
    ctx: &mut Ctx,
    req: &Request,
    members: &[&Member],
    policy: EscalationPolicy,
) -> Result<(), Failure> {
    let mut fix = format!("llmops-console force-delete {}", req.endpoint);
    if let Some(t) = &req.target {
        fix.push_str(&format!(" --kind {} --name {}", t.kind.short(), t.name));
    }
    fix.push_str(" --finalizers strip");
    super::unfinished::refuse_stuck(
        ctx,
        members.iter().map(|m| (&m.id, &m.json)),
        policy,
        req.timeout,
        &crate::text::sanitize(&fix),
        false,
    )
}

pub(crate) async fn force_delete(ctx: &mut Ctx, req: &Request) -> PlanEnd {
    let opening = format!("Starting force-delete for endpoint {}", req.endpoint);
    let (inv, members) = match open(ctx, req, &opening).await {
        Ok(found) => found,
        Err(f) => return end(Phase::BeforeDelete, Err(f)),
    };
    let members = members_of(&inv, &members);
    let kinds: Vec<Kind> = members.iter().map(|m| m.kind).collect();
    let policy = if req.finalizers == EscalationPolicy::Strip {
        EscalationPolicy::Strip
    } else {
        EscalationPolicy::Never
    };
    if let Err(f) = preflight(ctx, &needs(&inv, false, policy, &kinds)).await {
        return end(Phase::BeforeDelete, Err(f));
    }
    if let Err(f) = refuse_stuck_targets(ctx, req, &members, policy) {
        return end(Phase::BeforeDelete, Err(f));
    }
    if let Err(f) = journal_snapshot(ctx, &members).await {
        return end(Phase::BeforeDelete, Err(f));
    }
    if let Err(f) = ctx
        .begin(
            Step::ForceDelete,
            format!("deleting {} object(s) with grace period 0", members.len()),
        )
        .await
    {
        return end(Phase::BeforeDelete, Err(f));
    }
    for m in &members {
        if policy == EscalationPolicy::Strip
            && let Err(f) = strip_one(ctx, Step::ForceDelete, &m.id).await
        {
            return end(Phase::Created, Err(f));
        }
        if let Err(f) = delete_one(ctx, Step::ForceDelete, &m.id, Some(0)).await {
            return end(Phase::Created, Err(f));
        }
    }
    ctx.done(Step::ForceDelete, "delete calls made");
    let ids: Vec<_> = members.iter().map(|m| m.id.clone()).collect();
    if let Err(f) = ctx
        .begin(
            Step::VerifyDeletion,
            format!("watching {} object(s) until gone", ids.len()),
        )
        .await
    {
        return end(Phase::Created, Err(f));
    }
    // Nothing to roll back: "Created" here means "no rollback" (the plan recreates nothing).
    if let Err(f) = verify_gone(
        ctx,
        Step::VerifyDeletion,
        &ids,
        Vec::new(),
        policy,
        req.timeout,
    )
    .await
    {
        return end(Phase::Created, Err(f));
    }
    ctx.done(
        Step::VerifyDeletion,
        format!("all {} object(s) gone", ids.len()),
    );
    end(Phase::Created, Ok(Vec::new()))
}

pub(crate) async fn strip(ctx: &mut Ctx, req: &Request) -> PlanEnd {
    let opening = format!("Starting finalizer strip for endpoint {}", req.endpoint);
    let (inv, members) = match open(ctx, req, &opening).await {
        Ok(found) => found,
        Err(f) => return end(Phase::BeforeDelete, Err(f)),
    };
    let members = members_of(&inv, &members);
    // Only objects that have finalizers are touched.
    let members: Vec<&Member> = members
        .into_iter()
        .filter(|m| !kapi::finalizers(&m.json).is_empty())
        .collect();
    let mut needs_list = Vec::new();
    for m in &members {
        let (group, resource) = kapi::rbac_resource(m.kind);
        for verb in ["get", "patch", "watch", "list"] {
            let n = super::preflight::Need::new(verb, &group, &resource, &inv.endpoint.namespace);
            if !needs_list.contains(&n) {
                needs_list.push(n);
            }
        }
    }
    if let Err(f) = preflight(ctx, &needs_list).await {
        return end(Phase::BeforeDelete, Err(f));
    }
    if let Err(f) = journal_snapshot(ctx, &members).await {
        return end(Phase::BeforeDelete, Err(f));
    }
    if let Err(f) = ctx
        .begin(
            Step::StripFinalizers,
            format!("stripping finalizers of {} object(s)", members.len()),
        )
        .await
    {
        return end(Phase::BeforeDelete, Err(f));
    }
    if members.is_empty() {
        ctx.skipped(Step::StripFinalizers, "no finalizers to strip");
    }
    for m in &members {
        if let Err(f) = strip_one(ctx, Step::StripFinalizers, &m.id).await {
            return end(Phase::Created, Err(f));
        }
    }
    ctx.done(Step::StripFinalizers, "finalizers removed");
    // Objects already being deleted should now go; verify that, as a redeploy would.
    let terminating: Vec<_> = members
        .iter()
        .filter(|m| kapi::deletion_timestamp(&m.json).is_some())
        .map(|m| m.id.clone())
        .collect();
    if let Err(f) = ctx
        .begin(
            Step::VerifyDeletion,
            format!(
                "{} of them were Terminating; watching them go",
                terminating.len()
            ),
        )
        .await
    {
        return end(Phase::Created, Err(f));
    }
    if terminating.is_empty() {
        ctx.skipped(Step::VerifyDeletion, "none was being deleted");
    } else if let Err(f) = verify_gone(
        ctx,
        Step::VerifyDeletion,
        &terminating,
        Vec::new(),
        EscalationPolicy::Never,
        req.timeout,
    )
    .await
    {
        return end(Phase::Created, Err(f));
    } else {
        ctx.done(Step::VerifyDeletion, "gone");
    }
    end(Phase::Created, Ok(Vec::new()))
}
