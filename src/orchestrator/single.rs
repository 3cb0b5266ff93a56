//! The short plans: force-delete (grace 0, finalizers stripped on request; the whole endpoint
//! or one object) and strip-finalizers (one object, conditioned on its resourceVersion). Same
//! lock, preflight, journal and record as a redeploy; nothing is recreated, so the journal's
//! snapshot is the record of what was removed.

use super::ctx::{Ctx, Failure};
use super::destroy::{delete_one, strip_one, verify_gone};
use super::inventory::{Inventory, Member};
use super::kapi;
use super::progress::{OpResult, Step};
use super::redeploy::{Phase, PlanEnd, end, lock, needs, overdue_of, preflight};
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
    // `ask` (the console's `D` without "also strip") asks when something will not go; the
    // CLI's `never` reports it.
    let policy = req.finalizers;
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
            format!(
                "deleting {} with grace period 0",
                crate::util::plural(members.len(), "object")
            ),
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
            format!(
                "watching {} until gone",
                crate::util::plural(ids.len(), "object")
            ),
        )
        .await
    {
        return end(Phase::Created, Err(f));
    }
    // Stuck for longer than the deadline before this operation (the pod Terminating for 47m
    // behind a finalizer): another full deadline would tell nothing new, so ask (or report) at
    // once, as a redeploy does. With `strip` their finalizers are gone already.
    let overdue = if policy == EscalationPolicy::Strip {
        Vec::new()
    } else {
        overdue_of(members.iter().map(|m| (&m.id, &m.json)), req.timeout)
    };
    if !overdue.is_empty() {
        ctx.info(
            Step::VerifyDeletion,
            format!(
                "{} object(s) were Terminating for longer than the deadline before this operation",
                overdue.len()
            ),
        );
    }
    // Nothing to roll back: "Created" here means "no rollback" (the plan recreates nothing).
    if let Err(f) = verify_gone(
        ctx,
        Step::VerifyDeletion,
        &ids,
        overdue,
        policy,
        req.timeout,
    )
    .await
    {
        return end(Phase::Created, Err(f));
    }
    ctx.done(
        Step::VerifyDeletion,
        format!("all {} gone", crate::util::plural(ids.len(), "object")),
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
            format!(
                "stripping finalizers of {}",
                crate::util::plural(members.len(), "object")
            ),
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use kube::config::Kubeconfig;
    use tokio::sync::mpsc::UnboundedReceiver;

    use crate::cluster::client::connect_with;
    use crate::cluster::model::{Kind, Mode};
    use crate::cluster::{ClusterTarget, GroupingConfig, Scope};
    use crate::orchestrator::progress::{
        EscalationChoice, OpEvent, OpKind, OpResult, Outcome, Question,
    };
    use crate::orchestrator::{
        EndpointId, Engine, EngineSettings, EscalationPolicy, ObjectTarget, Request,
    };
    use crate::sim::server::SimServer;

    const STUCK_POD: &str = "whisper-large-6c9d7f5b8-q2x7k";
    /// Bounds a broken run; well under the 120 s verification deadline, so a question that
    /// comes only after the deadline fails the test.
    const WITHIN: Duration = Duration::from_secs(60);

    async fn engine(sim: &SimServer, state: &std::path::Path) -> Engine {
        let kc = Kubeconfig::from_yaml(&sim.kubeconfig_yaml("admin"))
            .unwrap_or_else(|e| panic!("kubeconfig: {e}"));
        let target = ClusterTarget {
            kubeconfig: None,
            context: None,
            namespace: Some(Scope::All),
        };
        let (client, info) = connect_with(kc, vec![], &target)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        Engine::new(
            client,
            info,
            EngineSettings {
                journal_dir: state.join("journal"),
                audit_log: state.join("audit.log"),
                grouping: GroupingConfig::default(),
                holder: "test@host/1".into(),
            },
        )
    }

    /// The console's `D` on the stuck pod, without "also strip": policy `ask`.
    fn force_delete_stuck_pod() -> Request {
        let mut req = Request::new(
            OpKind::ForceDelete,
            EndpointId {
                namespace: "llm-prod".into(),
                name: "whisper-large".into(),
                mode: Some(Mode::Raw),
            },
        );
        req.target = Some(ObjectTarget {
            kind: Kind::Pod,
            name: STUCK_POD.into(),
        });
        req.finalizers = EscalationPolicy::Ask;
        req
    }

    /// The question, or the outcome if the operation ended without one; every progress line
    /// before it is in `lines`.
    async fn until_question(
        events: &mut UnboundedReceiver<OpEvent>,
        lines: &mut Vec<String>,
    ) -> Result<Question, Box<Outcome>> {
        loop {
            let ev = tokio::time::timeout(WITHIN, events.recv())
                .await
                .unwrap_or_else(|_| panic!("no question within {WITHIN:?}; so far:\n{lines:#?}"));
            match ev {
                Some(OpEvent::Progress(p)) => lines.push(p.message),
                Some(OpEvent::Question(q)) => return Ok(q),
                Some(OpEvent::Finished(o)) => return Err(o),
                None => panic!("channel closed without an outcome:\n{lines:#?}"),
            }
        }
    }

    async fn outcome(events: &mut UnboundedReceiver<OpEvent>) -> Outcome {
        loop {
            match tokio::time::timeout(WITHIN, events.recv()).await {
                Ok(Some(OpEvent::Finished(o))) => return *o,
                Ok(Some(_)) => {}
                Ok(None) => panic!("channel closed without an outcome"),
                Err(_) => panic!("no outcome within {WITHIN:?}"),
            }
        }
    }

    /// Issue 8, case 14: `D` on a pod Terminating for 47m behind a finalizer asks at once
    /// (not after the 120 s deadline), in force-delete's words; `n` fails it naming the
    /// force-delete command that works, `y` strips and the pod goes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn force_delete_of_an_overdue_pod_asks_at_once_in_its_own_words() {
        let sim = SimServer::start("stuck-finalizer", None, "127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("sim: {e}"));
        let state = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let engine = engine(&sim, state.path()).await;

        for answer in [EscalationChoice::GiveUp, EscalationChoice::Strip] {
            let mut handle = engine
                .start(force_delete_stuck_pod())
                .unwrap_or_else(|e| panic!("start: {e}"));
            let mut lines = Vec::new();
            let q = match until_question(&mut handle.events, &mut lines).await {
                Ok(q) => q,
                Err(o) => panic!("ended without asking: {}\n{lines:#?}", o.message),
            };
            assert!(
                !lines
                    .iter()
                    .any(|l| l.contains("not gone within the deadline")),
                "asked only after the deadline:\n{lines:#?}"
            );
            assert_eq!(
                q.prompt,
                "1 object will not go (1 held by finalizers). Strip their finalizers and delete again?"
            );
            let stuck: Vec<_> = q.stuck.iter().map(|s| s.object.name.as_str()).collect();
            assert_eq!(stuck, [STUCK_POD]);
            assert_eq!(q.stuck[0].finalizers, ["example.com/stuck-volume-cleanup"]);
            let _ = q.reply.send(answer);
            let o = outcome(&mut handle.events).await;
            for word in ["redeploy", "backup", "rolled back", "roll back"] {
                assert!(
                    !o.message.contains(word),
                    "a force-delete says {word:?}: {}",
                    o.message
                );
            }
            assert_eq!(o.rollback, None);
            if answer == EscalationChoice::GiveUp {
                assert_eq!(o.result, OpResult::Failed, "{}", o.message);
                let advice = format!(
                    "llmops-console force-delete llm-prod/whisper-large --kind pod --name {STUCK_POD} --finalizers strip"
                );
                assert!(o.message.contains(&advice), "{}", o.message);
            } else {
                assert_eq!(o.result, OpResult::Succeeded, "{}", o.message);
            }
        }
        sim.shutdown().await;
    }
}
