//! The first half of a recovery: read the record, the endpoint as it is now, and decide what
//! would be deleted and created, with the differences to what stands and the warnings. Reads
//! only; nothing is written, not even the journal.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

use super::{Source, checks, find};
use crate::cluster::model::Kind;
use crate::orchestrator::engine::{Engine, RecoverMode, RecoverOptions};
use crate::orchestrator::inventory::{self, Inventory, InventoryError};
use crate::orchestrator::kapi;
use crate::orchestrator::manifest::{self, Change};
use crate::orchestrator::progress::{OpKind, OpResult, StuckObject};
use crate::orchestrator::record::{EndpointId, ObjectId, OpRecord, OpState};
use crate::orchestrator::request::EscalationPolicy;
use crate::text::sanitize;

/// Why there is no plan at all (no such operation, another cluster's, finished, unreadable).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanError {
    pub result: OpResult,
    pub message: String,
    pub kind: OpKind,
    pub endpoint: EndpointId,
}

impl PlanError {
    fn new(result: OpResult, message: impl Into<String>, rec: Option<&OpRecord>) -> PlanError {
        PlanError {
            result,
            message: sanitize(&message.into()).into_owned(),
            kind: rec.map_or(OpKind::Redeploy, |r| r.kind),
            endpoint: rec.map_or_else(
                || EndpointId {
                    namespace: String::new(),
                    name: String::new(),
                    mode: None,
                },
                |r| r.endpoint.clone(),
            ),
        }
    }
}

/// What happens to one manifest of the spec a recovery converges to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing of that name: created.
    Create,
    /// An object of that name is being deleted: waited for, then created.
    WaitThenCreate,
    /// The object standing is kept (resume: one the interrupted run created; rollback: the old
    /// object, still whole).
    Keep,
    /// The object standing is deleted (UID-checked) and the manifest created in its place.
    Replace,
}

impl Action {
    /// `create`, `wait-then-create`, `keep`, `replace` (JSON).
    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::WaitThenCreate => "wait-then-create",
            Action::Keep => "keep",
            Action::Replace => "replace",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Action::Create => "create (new object)",
            Action::WaitThenCreate => "wait for the one being deleted to go, then create",
            Action::Keep => "keep the object there now",
            Action::Replace => "delete the object there now, then create",
        }
    }
}

/// One manifest of the plan and the object of its name the cluster has now.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedObject {
    pub kind: Kind,
    pub name: String,
    pub manifest: Value,
    pub action: Action,
    /// UID of the object of that name now, if there is one.
    pub current_uid: Option<String>,
    /// From the object there now (as a manifest) to this one; empty when there is none.
    pub against_current: Vec<Change>,
    /// From the journal's copy to the cluster copy of the same manifest, when both exist and
    /// differ (the journal's is the one used).
    pub against_journal: Vec<Change>,
}

/// A recovery, decided and not started.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryPlan {
    pub mode: RecoverMode,
    pub options: RecoverOptions,
    /// The record as found; its endpoint is the only one the plan touches.
    pub record: OpRecord,
    pub source: Source,
    pub endpoint: EndpointId,
    /// The state the record keeps if the recovery stops before changing anything.
    pub was: OpState,
    /// Old objects still whole, deleted first (resume), each UID-checked again right before.
    pub deletes: Vec<ObjectId>,
    /// Old objects of the endpoint still there (whole or Terminating), watched until gone.
    pub verify_gone: Vec<ObjectId>,
    /// The spec converged to, manifest by manifest.
    pub objects: Vec<PlannedObject>,
    /// What the record names that the plan leaves alone, and why.
    pub ignored: Vec<String>,
    pub warnings: Vec<String>,
    /// Reasons the plan must not run; empty when it may.
    pub problems: Vec<String>,
    /// Old objects Terminating behind finalizers for longer than the deadline.
    pub stuck: Vec<StuckObject>,
    /// The record has no backup: nothing to converge to ("why" for the message).
    pub no_backup: Option<String>,
}

impl RecoveryPlan {
    /// The refusal of a plan with problems, as one message.
    pub fn refusal(&self) -> String {
        format!(
            "cannot {} operation {}: {}; nothing was changed",
            self.mode.name(),
            self.record.id,
            self.problems.join("; ")
        )
    }

    /// Whether the record came only from a ConfigMap in the cluster.
    pub fn cluster_only(&self) -> bool {
        matches!(self.source, Source::Cluster(_))
    }

    /// Whether the record's claims were written elsewhere ([`Source::unverified`]).
    pub fn unverified(&self) -> bool {
        self.source.unverified(&self.record)
    }
}

/// The spec a resume goes to: as decided, else the backup with the operation's overrides.
pub(crate) fn resume_spec(rec: &OpRecord) -> Result<Vec<Value>, String> {
    if let Some(d) = &rec.decided {
        return Ok(d.clone());
    }
    let mut spec = rec.backup.clone();
    let overrides: Vec<crate::cli::SetOverride> = rec
        .overrides
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect();
    if !overrides.is_empty()
        && let Some(slot) = spec.iter_mut().find(|m| {
            matches!(
                m.get("kind").and_then(Value::as_str),
                Some("InferenceService" | "Deployment")
            )
        })
    {
        manifest::apply_overrides(slot, &overrides)
            .map_err(|e| format!("--set from the journal: {e}"))?;
    }
    Ok(spec)
}

/// Plans the recovery of `op_id` in `mode` (see [`RecoveryPlan`]).
pub(crate) async fn plan(
    engine: &Engine,
    op_id: &str,
    mode: RecoverMode,
    options: RecoverOptions,
) -> Result<RecoveryPlan, PlanError> {
    engine.cluster_uid().await;
    let found = find(engine, op_id)
        .await
        .map_err(|e| PlanError::new(OpResult::Failed, e, None))?;
    let Some((rec, source)) = found else {
        return Err(PlanError::new(
            OpResult::Usage,
            format!(
                "no operation {op_id} in the journal ({}) nor in the cluster's backups; \
                 `llmops-console recover --list` shows what there is",
                engine.settings.journal_dir.display()
            ),
            None,
        ));
    };
    let journal = crate::orchestrator::journal::Journal::new(engine.settings.journal_dir.clone());
    // A journal record names its cluster; recovering it against another would act on the
    // wrong endpoint. (A cluster copy is of this cluster by definition.)
    if !matches!(source, Source::Cluster(_))
        && !engine.same_cluster(&rec.server, rec.cluster_uid.as_deref())
    {
        let msg = format!(
            "operation {op_id} ran against {} (context {}), not {} (context {}); pass \
             --context/--kubeconfig for that cluster",
            rec.server, rec.context, engine.info.server, engine.info.context
        );
        return Err(PlanError::new(OpResult::Usage, msg, Some(&rec)));
    }
    let has_copy = !matches!(source, Source::Journal);
    if !rec.state.unfinished() && !has_copy {
        let msg = format!(
            "operation {op_id} already finished ({}) and has no backup in the cluster; nothing \
             to {}; its record stays in {}",
            rec.state.name(),
            mode.name(),
            journal.path_of(op_id).display()
        );
        return Err(PlanError::new(OpResult::Usage, msg, Some(&rec)));
    }
    let was = if rec.state.unfinished() {
        rec.state
    } else {
        OpState::NeedsRecovery
    };
    let mut plan = RecoveryPlan {
        mode,
        options,
        endpoint: rec.endpoint.clone(),
        record: rec,
        source,
        was,
        deletes: Vec::new(),
        verify_gone: Vec::new(),
        objects: Vec::new(),
        ignored: Vec::new(),
        warnings: Vec::new(),
        problems: Vec::new(),
        stuck: Vec::new(),
        no_backup: None,
    };
    if plan.record.adopted_from.is_some() && !matches!(plan.source, Source::Cluster(_)) {
        plan.warnings.push(
            "this record was taken over from a backup found only in the cluster: what it claims \
             (holder, operation, objects, manifests) is unverified"
                .to_string(),
        );
    }
    if let Source::Cluster(copy) = &plan.source {
        plan.warnings.push(
            "this record was not written by this machine: what it claims (holder, operation, \
             objects, manifests) is unverified"
                .to_string(),
        );
        if let Some(p) = copy.misplaced() {
            plan.problems.push(p);
            return Ok(plan);
        }
    }
    if plan.record.kind != OpKind::Redeploy && !plan.record.backup.is_empty() {
        plan.problems.push(format!(
            "a {} never has a backup, yet this record holds one",
            plan.record.kind.name()
        ));
        return Ok(plan);
    }
    if mode == RecoverMode::Discard {
        return Ok(plan);
    }
    if plan.record.backup.is_empty() {
        plan.no_backup = Some(if plan.record.kind == OpKind::Redeploy {
            format!(
                "it stopped at {}, before its snapshot, so nothing was deleted",
                plan.record.step
            )
        } else {
            format!("a {} recreates nothing", plan.record.kind.name())
        });
        return Ok(plan);
    }
    let spec = match mode {
        RecoverMode::Rollback => Ok(plan.record.backup.clone()),
        _ => resume_spec(&plan.record),
    };
    let spec = match spec {
        Ok(s) => s,
        Err(e) => {
            plan.problems.push(e);
            return Ok(plan);
        }
    };
    let grouping = &engine.settings.grouping;
    // The backup is checked too: a resume that fails rolls back to it.
    let mut problems = checks::foreign(&plan.endpoint, &spec, grouping);
    for p in checks::foreign(&plan.endpoint, &plan.record.backup, grouping) {
        if !problems.contains(&p) {
            problems.push(format!("backup {p}"));
        }
    }
    plan.problems.extend(problems);
    if !plan.problems.is_empty() {
        // Refused, but shown: what it would have created says who wrote it.
        plan.warnings.extend(spec.iter().flat_map(checks::dangers));
        return Ok(plan);
    }
    let inv = match inventory::read(&engine.client, &plan.endpoint, grouping).await {
        Ok(inv) => Some(inv),
        Err(InventoryError::NotFound(_)) => None,
        Err(InventoryError::Api(e)) => {
            return Err(PlanError::new(
                OpResult::Failed,
                e.to_string(),
                Some(&plan.record),
            ));
        }
    };
    sort_old_objects(&mut plan, inv.as_ref());
    plan.stuck = crate::orchestrator::redeploy::overdue_of(
        inv.iter()
            .flat_map(|i| i.members.iter())
            .filter(|m| plan.verify_gone.iter().any(|o| o.uid == m.id.uid))
            .map(|m| (&m.id, &m.json)),
        options.timeout,
    );
    if mode == RecoverMode::Resume
        && options.finalizers == EscalationPolicy::Never
        && !plan.stuck.is_empty()
    {
        plan.problems
            .push(stuck_refusal(&plan.record.id, &plan.stuck));
    } else if !plan.stuck.is_empty() {
        plan.warnings.push(format!(
            "{} old object(s) are Terminating behind finalizers for longer than the deadline{}",
            plan.stuck.len(),
            if mode == RecoverMode::Rollback {
                "; the rollback waits for them and cannot finish while they stay"
            } else {
                "; their finalizers will be stripped"
            }
        ));
    }
    let copy_spec = cluster_copy_spec(engine, &plan).await;
    for m in &spec {
        let o = plan_object(engine, &plan, m, copy_spec.as_deref()).await?;
        plan.objects.push(o);
    }
    warn(&mut plan, inv.as_ref());
    Ok(plan)
}

/// Splits the record's old objects: the endpoint's (now, by UID) to delete and verify gone, the
/// rest left alone and said so. A record may name anything; only what the endpoint is made of
/// now, as the panes derive it, is touched.
fn sort_old_objects(plan: &mut RecoveryPlan, inv: Option<&Inventory>) {
    let ns = plan.endpoint.namespace.clone();
    let members: Vec<_> = inv.map(|i| i.members.iter().collect()).unwrap_or_default();
    let roots: HashSet<&str> = inv
        .map(|i| i.delete_order().iter().map(|m| m.id.uid.as_str()).collect())
        .unwrap_or_default();
    let mut elsewhere = Vec::new();
    let mut not_now = 0usize;
    for old in &plan.record.old_objects {
        if old.namespace != ns {
            elsewhere.push(old.to_string());
            continue;
        }
        let Some(m) = members
            .iter()
            .find(|m| m.id.uid == old.uid && m.id.kind == old.kind && m.id.name == old.name)
        else {
            not_now += 1;
            continue;
        };
        plan.verify_gone.push(m.id.clone());
        if plan.mode == RecoverMode::Resume
            && roots.contains(m.id.uid.as_str())
            && kapi::deletion_timestamp(&m.json).is_none()
        {
            plan.deletes.push(m.id.clone());
        }
    }
    if plan.mode == RecoverMode::Resume {
        // The roots go in the first run's order (workload first); their children go by garbage
        // collection, as in the first run, and are watched until gone like the roots.
        let order: Vec<&str> = inv
            .map(|i| i.delete_order().iter().map(|m| m.id.uid.as_str()).collect())
            .unwrap_or_default();
        plan.deletes
            .sort_by_key(|d| order.iter().position(|u| *u == d.uid).unwrap_or(usize::MAX));
    }
    if !elsewhere.is_empty() {
        plan.ignored.push(
            sanitize(&format!(
                "outside the endpoint's namespace {ns}, never touched: {}",
                elsewhere.join(", ")
            ))
            .into_owned(),
        );
    }
    if not_now > 0 {
        plan.ignored.push(format!(
            "{not_now} old object(s) are gone, or are not part of {} now: not touched",
            plan.endpoint
        ));
    }
}

/// The refusal of a resume with `--finalizers never` while old objects are stuck.
pub(crate) fn stuck_refusal(op_id: &str, stuck: &[StuckObject]) -> String {
    let objects: Vec<String> = stuck
        .iter()
        .map(|s| {
            let age = s
                .terminating_for_seconds
                .map(|a| format!(" for {}", crate::util::age::format_age_secs(a)))
                .unwrap_or_default();
            format!(
                "{} has been Terminating{age} behind finalizer(s) {}",
                s.object,
                s.finalizers.join(", ")
            )
        })
        .collect();
    let first = &stuck[0].object;
    sanitize(&format!(
        "{}, which --finalizers never will not remove: resuming would delete the objects still \
         serving and still not finish. Nothing was deleted; the endpoint and the backup are left \
         as they are. To go on: llmops-console recover {op_id} --resume --finalizers strip (or \
         strip them yourself: llmops-console strip-finalizers {}/{}/{}, then llmops-console \
         recover {op_id} --resume)",
        objects.join("; "),
        first.namespace,
        first.kind.to_lowercase(),
        first.name
    ))
    .into_owned()
}

/// The cluster copy's spec, when the plan uses the journal's and the copy exists too.
async fn cluster_copy_spec(engine: &Engine, plan: &RecoveryPlan) -> Option<Vec<Value>> {
    if !matches!(plan.source, Source::JournalAndCluster { .. }) {
        return None;
    }
    let copy = crate::orchestrator::backup::read_copy(
        &engine.client,
        &plan.endpoint.namespace,
        &plan.endpoint.name,
    )
    .await
    .ok()
    .flatten()?;
    match plan.mode {
        RecoverMode::Rollback => Some(copy.record.backup),
        _ => resume_spec(&copy.record).ok(),
    }
}

async fn plan_object(
    engine: &Engine,
    plan: &RecoveryPlan,
    m: &Value,
    copy_spec: Option<&[Value]>,
) -> Result<PlannedObject, PlanError> {
    let name = kapi::name(m).to_string();
    // Checked by `checks::foreign` already; a kind it lets through parses.
    let kind = m
        .get("kind")
        .and_then(Value::as_str)
        .and_then(Kind::parse)
        .unwrap_or(Kind::Deployment);
    let current = kapi::get(&engine.client, &plan.endpoint.namespace, kind, &name)
        .await
        .map_err(|e| PlanError::new(OpResult::Failed, e.to_string(), Some(&plan.record)))?;
    let old: HashSet<&str> = plan
        .record
        .old_objects
        .iter()
        .map(|o| o.uid.as_str())
        .collect();
    let (action, current_uid, against_current) = match &current {
        None => (Action::Create, None, Vec::new()),
        Some(obj) => {
            let uid = kapi::uid(obj).to_string();
            let is_old = old.contains(uid.as_str());
            let action = if kapi::deletion_timestamp(obj).is_some() {
                Action::WaitThenCreate
            } else {
                match (plan.mode, is_old) {
                    // An old one still whole is deleted first (or, not being the endpoint's
                    // now, replaced by name here); anything else was made by the first run.
                    (RecoverMode::Resume, true) => Action::Replace,
                    (RecoverMode::Resume, false) => Action::Keep,
                    (_, true) => Action::Keep,
                    (_, false) => Action::Replace,
                }
            };
            let uids: HashSet<String> = plan
                .record
                .old_objects
                .iter()
                .map(|o| o.uid.clone())
                .collect();
            let as_manifest = manifest::sanitize(obj, &uids);
            (action, Some(uid), manifest::diff(&as_manifest, m))
        }
    };
    let against_journal = copy_spec
        .and_then(|c| {
            c.iter()
                .find(|o| o.get("kind") == m.get("kind") && kapi::name(o) == name)
        })
        .map(|c| manifest::diff(m, c))
        .unwrap_or_default();
    Ok(PlannedObject {
        kind,
        name,
        manifest: m.clone(),
        action,
        current_uid,
        against_current,
        against_journal,
    })
}

/// Warnings: dangerous pod specs, images the endpoint did not run, a cluster copy that differs
/// from the journal.
fn warn(plan: &mut RecoveryPlan, inv: Option<&Inventory>) {
    let mut known: BTreeSet<String> = inv
        .iter()
        .flat_map(|i| i.members.iter())
        .flat_map(|m| checks::images(&m.json))
        .collect();
    // The journal is this machine's own record of what ran; a cluster copy is not evidence.
    if !plan.unverified() {
        known.extend(plan.record.backup.iter().flat_map(checks::images));
    }
    let asked: BTreeSet<String> = plan
        .record
        .overrides
        .iter()
        .filter_map(|o| o.strip_prefix("image=").map(str::to_string))
        .collect();
    let mut lines = Vec::new();
    for o in &plan.objects {
        if o.action == Action::Keep {
            continue;
        }
        lines.extend(checks::dangers(&o.manifest));
        for image in checks::images(&o.manifest) {
            if !known.contains(&image) {
                let why = if asked.contains(&image) {
                    " (the operation's --set image asked for it)"
                } else {
                    ""
                };
                lines.push(
                    sanitize(&format!(
                        "{} {} runs image {image}, which the endpoint's objects did not run{why}",
                        o.kind.name(),
                        o.name
                    ))
                    .into_owned(),
                );
            }
        }
        if !o.against_journal.is_empty() {
            lines.push(
                sanitize(&format!(
                    "{} {}: the cluster copy of the backup differs from this machine's journal in \
                 {} field(s); the journal's is used",
                    o.kind.name(),
                    o.name,
                    o.against_journal.len()
                ))
                .into_owned(),
            );
        }
    }
    plan.warnings.extend(lines);
}
