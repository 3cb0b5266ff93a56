//! Unfinished operations (a crash, a kill -9, a lost network, a rollback that could not finish):
//! found in the local journal or, from another machine, in the backup ConfigMaps, and taken to
//! the decided spec (`--resume`), back to the backup (`--rollback`), or dropped (`--discard`).
//!
//! A recovery is planned first ([`plan::plan`]: read-only, what it would delete and create and
//! why), shown and confirmed by the front end, then run exactly ([`exec::run`]). A backup
//! ConfigMap is anyone's to write who may create ConfigMaps: what it says is checked against
//! the endpoint as the panes derive it now, and never steers an action unseen.

mod checks;
pub(crate) mod exec;
pub mod plan;
mod show;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::backup::{self, BackupCopy};
use super::engine::{Engine, RecoverMode, RecoverOptions};
use super::progress::{OpEvent, OpKind, OpResult, Outcome};
use super::record::{EndpointId, OpRecord};

pub use plan::{Action, PlanError, PlannedObject, RecoveryPlan};

/// Where an operation's record was found.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// This machine's journal; no backup ConfigMap of this operation in the cluster.
    Journal,
    /// This machine's journal, and the endpoint's backup ConfigMap carries the same operation.
    JournalAndCluster { configmap: String },
    /// Only a backup ConfigMap: another machine's operation, or one anybody who may create
    /// ConfigMaps wrote. What it claims is unverified.
    Cluster(Box<BackupCopy>),
}

impl Source {
    /// `journal`, `journal+cluster`, `cluster`.
    pub fn word(&self) -> &'static str {
        match self {
            Source::Journal => "journal",
            Source::JournalAndCluster { .. } => "journal+cluster",
            Source::Cluster(_) => "cluster",
        }
    }

    /// One line for lists and confirmations, sanitised.
    pub fn describe(&self, rec: &OpRecord) -> String {
        let adopted = rec
            .adopted_from
            .as_ref()
            .map(|a| format!(" (taken over from a backup {a})"))
            .unwrap_or_default();
        crate::text::sanitize(&match self {
            Source::Journal => format!("this machine's journal{adopted}"),
            Source::JournalAndCluster { configmap } => {
                format!("this machine's journal{adopted}, and backup ConfigMap {configmap}")
            }
            Source::Cluster(copy) => copy.describe(&rec.holder),
        })
        .into_owned()
    }

    /// Whether what the record claims was written elsewhere: found only in the cluster, or
    /// taken over into the journal from there.
    pub fn unverified(&self, rec: &OpRecord) -> bool {
        matches!(self, Source::Cluster(_)) || rec.adopted_from.is_some()
    }
}

/// An operation that did not finish, or whose backup is still there, and where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Unfinished {
    pub record: OpRecord,
    /// `journal` (this machine), `cluster` (backup ConfigMap only), or `journal+cluster`.
    pub found_in: String,
    pub source: Source,
    /// Recorded against the cluster this engine talks to.
    pub this_cluster: bool,
}

/// What `recover --list` shows: this cluster's operations, and those of other clusters (shown
/// only when asked, counted otherwise).
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub ops: Vec<Unfinished>,
    pub other_clusters: Vec<Unfinished>,
    /// Problems reading the journal or the cluster, one line each.
    pub notes: Vec<String>,
}

/// Every operation of this cluster that is unfinished or whose backup still exists; problems
/// reading the journal or the cluster (and the operations of other clusters left out) as lines
/// beside.
pub async fn list(engine: &Engine) -> (Vec<Unfinished>, Vec<String>) {
    let listing = list_all(engine).await;
    let mut notes = listing.notes;
    if let Some(n) = hidden_note(&listing.other_clusters) {
        notes.push(n);
    }
    (listing.ops, notes)
}

/// "2 operations recorded against other clusters are not shown: ID (SERVER), ...".
pub fn hidden_note(others: &[Unfinished]) -> Option<String> {
    if others.is_empty() {
        return None;
    }
    let shown: Vec<String> = others
        .iter()
        .take(5)
        .map(|u| format!("{} ({})", u.record.id, u.record.server))
        .collect();
    let more = others.len().saturating_sub(shown.len());
    Some(
        crate::text::sanitize(&format!(
            "{} unfinished operation(s) recorded against other clusters are not shown: {}{}; \
         `llmops-console recover --list --all-clusters` lists them",
            others.len(),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ))
        .into_owned(),
    )
}

/// [`list`] with the other clusters' operations apart.
pub async fn list_all(engine: &Engine) -> Listing {
    engine.cluster_uid().await;
    let journal = super::journal::Journal::new(engine.settings.journal_dir.clone());
    let (records, errors) = journal.list();
    let mut listing = Listing {
        notes: errors.iter().map(|e| e.to_string()).collect(),
        ..Listing::default()
    };
    let ns = engine.info.scope.namespace().map(str::to_string);
    let copies = match backup::list_copies(&engine.client, ns.as_deref()).await {
        Ok((copies, bad)) => {
            listing.notes.extend(bad.iter().map(|e| e.to_string()));
            copies
        }
        Err(e) => {
            listing
                .notes
                .push(format!("cannot read the backup ConfigMaps: {e}"));
            Vec::new()
        }
    };
    let mut claimed = vec![false; copies.len()];
    for record in records {
        // The cluster copy of this very operation, if it is there: the journal's record is the
        // one used (it is this machine's own), the copy only says the backup still exists.
        let copy = copies
            .iter()
            .position(|c| c.op_id() == record.id && c.namespace == record.endpoint.namespace);
        if let Some(i) = copy {
            claimed[i] = true;
        }
        if !record.state.unfinished() && copy.is_none() {
            continue;
        }
        let this_cluster =
            copy.is_some() || engine.same_cluster(&record.server, record.cluster_uid.as_deref());
        let source = match copy {
            Some(i) => Source::JournalAndCluster {
                configmap: copies[i].path(),
            },
            None => Source::Journal,
        };
        let u = Unfinished {
            record,
            found_in: source.word().to_string(),
            source,
            this_cluster,
        };
        if this_cluster {
            listing.ops.push(u);
        } else {
            listing.other_clusters.push(u);
        }
    }
    for (copy, claimed) in copies.into_iter().zip(claimed) {
        if claimed {
            continue;
        }
        let source = Source::Cluster(Box::new(copy.clone()));
        listing.ops.push(Unfinished {
            record: copy.record,
            found_in: source.word().to_string(),
            source,
            this_cluster: true,
        });
    }
    listing
        .ops
        .sort_by_key(|u| std::cmp::Reverse(u.record.started));
    listing
        .other_clusters
        .sort_by_key(|u| std::cmp::Reverse(u.record.started));
    listing
}

/// The record of `op_id` and where it was found: this machine's journal first (with the cluster
/// copy of the same operation, if any), else the backup ConfigMaps. Several ConfigMaps claiming
/// the one operation is an error: which to trust cannot be told.
pub(crate) async fn find(
    engine: &Engine,
    op_id: &str,
) -> Result<Option<(OpRecord, Source)>, String> {
    let journal = super::journal::Journal::new(engine.settings.journal_dir.clone());
    if let Ok(r) = journal.read(op_id) {
        let copy = backup::read_copy(&engine.client, &r.endpoint.namespace, &r.endpoint.name).await;
        let source = match copy {
            Ok(Some(c)) if c.op_id() == r.id => Source::JournalAndCluster {
                configmap: c.path(),
            },
            _ => Source::Journal,
        };
        return Ok(Some((r, source)));
    }
    let ns = engine.info.scope.namespace().map(str::to_string);
    let (copies, _) = backup::list_copies(&engine.client, ns.as_deref())
        .await
        .map_err(|e| format!("cannot read the backup ConfigMaps: {e}"))?;
    let mut found: Vec<BackupCopy> = copies.into_iter().filter(|c| c.op_id() == op_id).collect();
    match found.len() {
        0 => Ok(None),
        1 => {
            let copy = found.remove(0);
            Ok(Some((copy.record.clone(), Source::Cluster(Box::new(copy)))))
        }
        n => Err(crate::text::sanitize(&format!(
            "{n} backup ConfigMaps claim operation {op_id} ({}): which one to trust cannot be \
             told; inspect them with kubectl",
            found
                .iter()
                .map(BackupCopy::path)
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into_owned()),
    }
}

/// An outcome for a recovery that did not start (bad id, another cluster, a refused plan):
/// nothing was written, not even the journal.
pub(crate) fn refused(
    op_id: &str,
    kind: OpKind,
    endpoint: EndpointId,
    result: OpResult,
    message: &str,
) -> Outcome {
    Outcome {
        op_id: op_id.to_string(),
        kind,
        endpoint,
        result,
        failed_step: None,
        message: crate::text::sanitize(message).into_owned(),
        rollback: None,
        created: vec![],
        deleted: vec![],
        retries: 0,
        elapsed: std::time::Duration::ZERO,
        journal: None,
    }
}

/// Plans and, when the plan has no problem, runs the recovery (for callers that confirmed it
/// their own way: [`Engine::recover`]).
pub(crate) async fn run(
    engine: Engine,
    op_id: String,
    mode: RecoverMode,
    options: RecoverOptions,
    tx: mpsc::UnboundedSender<OpEvent>,
    cancel: CancellationToken,
) {
    let outcome = match plan::plan(&engine, &op_id, mode, options).await {
        Err(e) => refused(&op_id, e.kind, e.endpoint.clone(), e.result, &e.message),
        Ok(p) if !p.problems.is_empty() => refused(
            &op_id,
            p.record.kind,
            p.endpoint.clone(),
            OpResult::Failed,
            &p.refusal(),
        ),
        Ok(p) => match engine.claim(&p.endpoint.namespace, &p.endpoint.name) {
            Err(e) => refused(
                &op_id,
                p.record.kind,
                p.endpoint.clone(),
                OpResult::LockHeld,
                &e.to_string(),
            ),
            Ok(guard) => {
                let o = exec::run(engine, p, tx.clone(), cancel).await;
                drop(guard);
                o
            }
        },
    };
    let _ = tx.send(OpEvent::Finished(Box::new(outcome)));
}
