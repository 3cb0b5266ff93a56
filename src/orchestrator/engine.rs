//! The engine: starts plans as tokio tasks, one operation per endpoint at a time in this process
//! (the lease makes it one per endpoint across processes), and hands the front end a handle with
//! the operation's events and its cancellation token.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::progress::OpEvent;
use super::request::Request;
use crate::cluster::client::ContextInfo;
use crate::cluster::derive::GroupingConfig;

/// Where an engine keeps its records, and how it finds endpoints.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// The local journal directory (XDG state dir `journal/`).
    pub journal_dir: PathBuf,
    /// The local audit log (XDG state dir `audit.log`).
    pub audit_log: PathBuf,
    pub grouping: GroupingConfig,
    /// `user@host/pid`, as written into leases and records.
    pub holder: String,
}

/// A running operation, as its front end sees it. The last event is always
/// [`OpEvent::Finished`]; the channel closes after it.
#[derive(Debug)]
pub struct OperationHandle {
    pub op_id: String,
    pub events: mpsc::UnboundedReceiver<OpEvent>,
    /// Cancel safely: before deletion nothing is changed; after it the endpoint is restored from
    /// the backup (or, once the new spec is created, left on it).
    pub cancel: CancellationToken,
}

/// Why an operation could not even start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    #[error("an operation on {0} is already running in this console")]
    Busy(String),
}

/// What `recover` does with an unfinished operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoverMode {
    /// Go on to the spec the operation decided (or the backup's when it had not decided yet).
    Resume,
    /// Back to the backup's spec.
    Rollback,
    /// Drop the backup: the endpoint is left as it is, the record is marked discarded.
    Discard,
}

impl RecoverMode {
    /// `resume`, `rollback`, `discard`: as the command line spells the mode.
    pub fn name(self) -> &'static str {
        match self {
            RecoverMode::Resume => "resume",
            RecoverMode::Rollback => "rollback",
            RecoverMode::Discard => "discard",
        }
    }
}

/// How a recovery may finish the deletion and how long it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoverOptions {
    pub finalizers: super::request::EscalationPolicy,
    pub timeout: std::time::Duration,
    pub ready_timeout: std::time::Duration,
}

impl Default for RecoverOptions {
    fn default() -> Self {
        RecoverOptions {
            finalizers: super::request::EscalationPolicy::Never,
            timeout: std::time::Duration::from_secs(120),
            ready_timeout: std::time::Duration::from_secs(600),
        }
    }
}

/// The orchestration engine. Cheap to clone; clones share the running set.
#[derive(Clone)]
pub struct Engine {
    pub(crate) client: kube::Client,
    pub(crate) info: ContextInfo,
    pub(crate) settings: Arc<EngineSettings>,
    running: Arc<Mutex<HashSet<(String, String)>>>,
    /// The cluster's identity (UID of namespace kube-system), read once; `None` inside when it
    /// cannot be read (no permission, no such namespace).
    cluster_uid: Arc<tokio::sync::OnceCell<Option<String>>>,
}

/// How long reading the cluster's identity may take before operations go on without it.
const IDENTITY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(3);

impl Engine {
    pub fn new(client: kube::Client, info: ContextInfo, settings: EngineSettings) -> Engine {
        Engine {
            client,
            info,
            settings: Arc::new(settings),
            running: Arc::new(Mutex::new(HashSet::new())),
            cluster_uid: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// The UID of namespace `kube-system`, read once per engine: with the server URL it tells
    /// which cluster a journal record belongs to (a cluster recreated at the same address has
    /// another). `None` when it cannot be read in time or at all.
    pub async fn cluster_uid(&self) -> Option<String> {
        self.cluster_uid
            .get_or_init(|| async {
                let api: kube::Api<k8s_openapi::api::core::v1::Namespace> =
                    kube::Api::all(self.client.clone());
                match tokio::time::timeout(IDENTITY_DEADLINE, api.get_opt("kube-system")).await {
                    Ok(Ok(Some(ns))) => ns.metadata.uid.filter(|u| !u.is_empty()),
                    Ok(Ok(None)) | Ok(Err(_)) | Err(_) => None,
                }
            })
            .await
            .clone()
    }

    /// [`Engine::cluster_uid`] if it was read already.
    pub(crate) fn cluster_uid_cached(&self) -> Option<String> {
        self.cluster_uid.get().cloned().flatten()
    }

    /// Whether a record made against `server` (and cluster `uid`) is of this engine's cluster:
    /// the same server URL, and the same identity when both sides know it. The URL decides
    /// alone when either side lacks the identity; an identity match does not make another URL
    /// the same cluster (simulators seed their UIDs, so two demo runs share them).
    pub(crate) fn same_cluster(&self, server: &str, uid: Option<&str>) -> bool {
        server == self.info.server
            && match (uid, self.cluster_uid_cached()) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    /// The client operations use (for front ends resolving what to ask for).
    pub fn client_handle(&self) -> kube::Client {
        self.client.clone()
    }

    pub fn context(&self) -> &ContextInfo {
        &self.info
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// Marks `ns/name` running here; the guard unmarks it when the task ends.
    pub(crate) fn claim(&self, ns: &str, name: &str) -> Result<RunningGuard, StartError> {
        let key = (ns.to_string(), name.to_string());
        let mut set = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if !set.insert(key.clone()) {
            return Err(StartError::Busy(format!("{ns}/{name}")));
        }
        Ok(RunningGuard {
            set: self.running.clone(),
            key,
        })
    }

    /// Starts `req` as a task. Errors only when this console already runs an operation on the
    /// endpoint; everything else is reported through the events.
    pub fn start(&self, req: Request) -> Result<OperationHandle, StartError> {
        let guard = self.claim(&req.endpoint.namespace, &req.endpoint.name)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let op_id = super::run::new_op_id(&req);
        let engine = self.clone();
        let id = op_id.clone();
        let token = cancel.clone();
        tokio::spawn(async move {
            // The record names its cluster; read once, before the record is made.
            engine.cluster_uid().await;
            let outcome = super::run::run(engine, req, id, tx.clone(), token).await;
            // Free the endpoint before telling the front end it is done, so a new operation
            // started on the news is never refused as busy.
            drop(guard);
            let _ = tx.send(OpEvent::Finished(Box::new(outcome)));
        });
        Ok(OperationHandle {
            op_id,
            events: rx,
            cancel,
        })
    }

    /// What recovering `op_id` in `mode` would do, read and checked but not done: the record
    /// and where it was found, the objects it would delete and create (with their differences
    /// to what the cluster has now), warnings, and the problems that forbid running it. Front
    /// ends show it and ask before [`Engine::recover_plan`].
    pub async fn plan_recovery(
        &self,
        op_id: &str,
        mode: RecoverMode,
        options: RecoverOptions,
    ) -> Result<super::recover::RecoveryPlan, super::recover::PlanError> {
        super::recover::plan::plan(self, op_id, mode, options).await
    }

    /// Runs exactly `plan` (as confirmed): its deletes (each UID checked again right before),
    /// its creates, nothing else. A plan with problems is refused through the events.
    pub fn recover_plan(
        &self,
        plan: super::recover::RecoveryPlan,
    ) -> Result<OperationHandle, StartError> {
        let guard = self.claim(&plan.endpoint.namespace, &plan.endpoint.name)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let engine = self.clone();
        let op_id = plan.record.id.clone();
        let token = cancel.clone();
        tokio::spawn(async move {
            let outcome = super::recover::exec::run(engine, plan, tx.clone(), token).await;
            drop(guard);
            let _ = tx.send(OpEvent::Finished(Box::new(outcome)));
        });
        Ok(OperationHandle {
            op_id,
            events: rx,
            cancel,
        })
    }

    /// Plans and runs the recovery of `op_id` without showing the plan: for callers that asked
    /// already. Every problem of the plan ends the operation before it starts.
    pub fn recover(
        &self,
        op_id: &str,
        mode: RecoverMode,
        options: RecoverOptions,
    ) -> Result<OperationHandle, StartError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let engine = self.clone();
        let id = op_id.to_string();
        let token = cancel.clone();
        tokio::spawn(async move {
            super::recover::run(engine, id, mode, options, tx, token).await;
        });
        Ok(OperationHandle {
            op_id: op_id.to_string(),
            events: rx,
            cancel,
        })
    }
}

/// Held by a running task; frees the endpoint for the next operation in this console.
pub(crate) struct RunningGuard {
    set: Arc<Mutex<HashSet<(String, String)>>>,
    key: (String, String),
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        let mut set = self.set.lock().unwrap_or_else(|p| p.into_inner());
        set.remove(&self.key);
    }
}
