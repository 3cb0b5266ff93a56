//! What a new operation must know before it acts: the endpoint's unfinished operations (a new
//! redeploy would only be refused by their backup later, after deleting nothing but promising
//! much), and objects already stuck on finalizers that a policy of `never` can never get past.
//! Both are refused before anything is deleted or backed up, naming what would work instead.

use std::time::Duration;

use serde_json::Value;

use super::ctx::{Ctx, Failure};
use super::engine::Engine;
use super::progress::{OpResult, Step, StuckObject};
use super::record::ObjectId;
use super::recover::{self, Unfinished};
use super::redeploy::overdue_of;
use super::request::{EscalationPolicy, Request};
use crate::cluster::model::Kind;
use crate::text::sanitize;
use crate::util::age::format_age_secs;
use crate::util::duration::format_duration;

/// The unfinished operations of `namespace/name` that hold it (journal or backup ConfigMap, as
/// `recover --list` finds them), newest first, and problems reading either.
///
/// Only operations with a backup hold an endpoint: one stopped before its snapshot deleted
/// nothing, and a force-delete or strip recreates nothing, so a new redeploy has nothing of
/// theirs to finish or to overwrite (`recover --list` still shows them).
pub async fn of_endpoint(
    engine: &Engine,
    namespace: &str,
    name: &str,
) -> (Vec<Unfinished>, Vec<String>) {
    let (all, notes) = recover::list(engine).await;
    let mine = all
        .into_iter()
        .filter(|u| holds(u) && u.record.endpoint.namespace == namespace)
        .filter(|u| u.record.endpoint.name == name)
        .collect();
    (mine, notes)
}

/// Whether an unfinished operation holds its endpoint (see [`of_endpoint`]).
pub fn holds(u: &Unfinished) -> bool {
    !u.record.backup.is_empty()
}

/// `operation OP of HOLDER (redeploy at verify-deletion, needs-recovery, found in journal)`,
/// sanitised (a record from the cluster is anyone's text).
pub fn describe(u: &Unfinished) -> String {
    let r = &u.record;
    format!(
        "operation {} of {} ({} at {}, {}, found in {})",
        sanitize(&r.id),
        sanitize(&r.holder),
        r.kind.name(),
        r.step,
        r.state.name(),
        sanitize(&u.found_in)
    )
}

/// The flags of a recovery that continues with these options (the CLI's defaults left out).
pub fn recover_flags(policy: EscalationPolicy, timeout: Duration, ready: Duration) -> Vec<String> {
    let mut out = Vec::new();
    if policy == EscalationPolicy::Strip {
        out.extend(["--finalizers".to_string(), "strip".to_string()]);
    }
    if timeout != Duration::from_secs(120) {
        out.extend(["--timeout".to_string(), format_duration(timeout)]);
    }
    if ready != Duration::from_secs(600) {
        out.extend(["--ready-timeout".to_string(), format_duration(ready)]);
    }
    out
}

/// The refusal of a new operation on an endpoint that has an unfinished one: it holds the
/// endpoint as a lock would (its backup is never overwritten), so the answer is "lock held".
pub fn refusal(endpoint: &str, u: &Unfinished, resume: &str, rollback: &str) -> String {
    format!(
        "{} has an unfinished {}; nothing was done. Continue it: `{resume}`; or undo it: \
         `{rollback}`",
        sanitize(endpoint),
        describe(u)
    )
}

/// Engine-side refusal (the last check before the snapshot, under the lease): an unfinished
/// operation other than this one on the endpoint. Front ends say so earlier; this catches what
/// they could not know (another console's operation that failed meanwhile).
pub(crate) async fn refuse_unfinished(ctx: &mut Ctx, req: &Request) -> Result<(), Failure> {
    let ep = ctx.rec.endpoint.clone();
    let (found, _) = of_endpoint(&ctx.engine, &ep.namespace, &ep.name).await;
    let Some(u) = found.iter().find(|u| u.record.id != ctx.rec.id) else {
        return Ok(());
    };
    let flags = recover_flags(req.finalizers, req.timeout, req.ready_timeout);
    let id = sanitize(&u.record.id).into_owned();
    let resume = command(&["recover", &id, "--resume"], &flags);
    let rollback = command(&["recover", &id, "--rollback"], &[]);
    let msg = refusal(&ep.to_string(), u, &resume, &rollback);
    ctx.failed(Step::Preflight, msg.clone(), None);
    Err(Failure::new(Step::Preflight, OpResult::LockHeld, msg))
}

/// `llmops-console ARGS FLAGS`.
pub fn command(args: &[&str], flags: &[String]) -> String {
    let mut words = vec!["llmops-console".to_string()];
    words.extend(args.iter().map(|s| s.to_string()));
    words.extend(flags.iter().cloned());
    words.join(" ")
}

/// For `lock`, when the endpoint has no objects: the unfinished operation that deleted them, as
/// a refusal (`None`: there is none, and "no endpoint" is the answer).
pub(crate) async fn gone_but_unfinished(ctx: &Ctx, req: &Request) -> Option<String> {
    let ep = &req.endpoint;
    let (found, _) = of_endpoint(&ctx.engine, &ep.namespace, &ep.name).await;
    let u = found.iter().find(|u| u.record.id != ctx.rec.id)?;
    let id = sanitize(&u.record.id).into_owned();
    let flags = recover_flags(req.finalizers, req.timeout, req.ready_timeout);
    let resume = command(&["recover", &id, "--resume"], &flags);
    let rollback = command(&["recover", &id, "--rollback"], &[]);
    Some(format!(
        "no objects of {} are left, but {}",
        sanitize(&ep.to_string()),
        refusal("the endpoint", u, &resume, &rollback)
    ))
}

/// Objects already Terminating behind finalizers for longer than the deletion deadline, as a
/// refusal under policy `never` (`None`: nothing stuck, or a policy that can get past it).
///
/// The threshold is the deadline itself, the same rule as the escalation of objects already
/// overdue: with `never` the operation waits at most the deadline for each object, so one held
/// for longer than that before the operation started is not being finalized and never will be
/// by waiting; one held for a few seconds (a controller still at work) gets its deadline.
///
/// `recreates`: the plan recreates the endpoint from its backup (redeploy). `strip-finalizers`
/// is then offered only for Pods and ReplicaSets: on the objects a redeploy recreates it would
/// end their deletion before any backup is taken, and their spec with it.
pub fn stuck_refusal<'a>(
    objects: impl Iterator<Item = (&'a ObjectId, &'a Value)>,
    policy: EscalationPolicy,
    timeout: Duration,
    fix: &str,
    recreates: bool,
) -> Option<String> {
    if policy != EscalationPolicy::Never {
        return None;
    }
    let stuck = overdue_of(objects, timeout);
    if stuck.is_empty() {
        return None;
    }
    let list: Vec<String> = stuck.iter().map(stuck_line).collect();
    let regrown = |s: &StuckObject| matches!(s.object.kind.as_str(), "Pod" | "ReplicaSet");
    let strips: Vec<String> = stuck
        .iter()
        .filter(|s| !recreates || regrown(s))
        .map(|s| {
            let kind = Kind::parse(&s.object.kind)
                .map_or_else(|| s.object.kind.clone(), |k| k.short().to_string());
            format!(
                "`llmops-console strip-finalizers {}/{kind}/{}`",
                sanitize(&s.object.namespace),
                sanitize(&s.object.name)
            )
        })
        .collect();
    let mut msg = format!(
        "{}, longer than the deletion deadline ({}): with --finalizers never this cannot \
         finish, so nothing was deleted or backed up. What works: `{fix}`",
        list.join("; "),
        format_duration(timeout)
    );
    if !strips.is_empty() {
        msg.push_str(&format!(
            ", or remove the finalizers first with {}",
            strips.join(", ")
        ));
    }
    if recreates && stuck.iter().any(|s| !regrown(s)) {
        msg.push_str(
            " (not strip-finalizers on the endpoint's own objects: it would end their deletion \
             before anything is backed up, and their spec would be lost)",
        );
    }
    Some(msg)
}

/// `InferenceService llm-prod/x Terminating for 12m behind finalizer inferenceservice.finalizers`
fn stuck_line(s: &StuckObject) -> String {
    let age = s
        .terminating_for_seconds
        .map_or_else(|| "a while".to_string(), format_age_secs);
    format!(
        "{} {}/{} has been Terminating for {age} behind finalizer{} {}",
        s.object.kind,
        sanitize(&s.object.namespace),
        sanitize(&s.object.name),
        if s.finalizers.len() == 1 { "" } else { "s" },
        s.finalizers.join(", ")
    )
}

/// [`stuck_refusal`] as the preflight step's failure (exit 1: the policy forbids the fix).
pub(crate) fn refuse_stuck<'a>(
    ctx: &mut Ctx,
    objects: impl Iterator<Item = (&'a ObjectId, &'a Value)>,
    policy: EscalationPolicy,
    timeout: Duration,
    fix: &str,
    recreates: bool,
) -> Result<(), Failure> {
    match stuck_refusal(objects, policy, timeout, fix, recreates) {
        None => Ok(()),
        Some(msg) => {
            ctx.failed(Step::Preflight, msg.clone(), None);
            Err(Failure::failed(Step::Preflight, msg))
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};
    use serde_json::json;

    use super::*;

    fn object(age_secs: i64, finalizers: &[&str]) -> (ObjectId, Value) {
        let since = Timestamp::now() - SignedDuration::from_secs(age_secs);
        let id = ObjectId {
            kind: "InferenceService".into(),
            namespace: "llm-prod".into(),
            name: "llama".into(),
            uid: "u1".into(),
        };
        let v = json!({"metadata": {"name": "llama", "deletionTimestamp": since.to_string(),
                                    "finalizers": finalizers}});
        (id, v)
    }

    #[test]
    fn only_never_and_only_past_the_deadline_is_refused() {
        let t = Duration::from_secs(120);
        let old = object(12 * 60, &["inferenceservice.finalizers"]);
        let fresh = object(3, &["inferenceservice.finalizers"]);
        let graceful = object(12 * 60, &[]);
        let one = |o: &(ObjectId, Value), p| {
            stuck_refusal(std::iter::once((&o.0, &o.1)), p, t, "fix", false)
        };
        let msg = one(&old, EscalationPolicy::Never).expect("refused");
        assert!(msg.contains("inferenceservice.finalizers"), "{msg}");
        assert!(msg.contains("for 12m"), "{msg}");
        assert!(msg.contains("`fix`"), "{msg}");
        assert!(
            msg.contains("`llmops-console strip-finalizers llm-prod/isvc/llama`"),
            "{msg}"
        );
        // A redeploy would lose the InferenceService's spec to strip-finalizers: not offered.
        let redeploy = stuck_refusal(
            std::iter::once((&old.0, &old.1)),
            EscalationPolicy::Never,
            t,
            "fix",
            true,
        )
        .expect("refused");
        assert!(
            !redeploy.contains("`llmops-console strip-finalizers"),
            "{redeploy}"
        );
        assert!(redeploy.contains("spec would be lost"), "{redeploy}");
        assert_eq!(one(&old, EscalationPolicy::Strip), None);
        assert_eq!(one(&old, EscalationPolicy::Ask), None);
        assert_eq!(
            one(&fresh, EscalationPolicy::Never),
            None,
            "a controller at work"
        );
        assert_eq!(
            one(&graceful, EscalationPolicy::Never),
            None,
            "no finalizer"
        );
    }

    #[test]
    fn recover_flags_leave_the_defaults_out() {
        let d = (Duration::from_secs(120), Duration::from_secs(600));
        assert!(recover_flags(EscalationPolicy::Never, d.0, d.1).is_empty());
        assert_eq!(
            recover_flags(EscalationPolicy::Strip, Duration::from_secs(5), d.1),
            [
                "--finalizers",
                "strip",
                "--timeout",
                &format_duration(Duration::from_secs(5))
            ]
        );
    }
}
