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
}

impl Engine {
    pub fn new(client: kube::Client, info: ContextInfo, settings: EngineSettings) -> Engine {
        Engine {
            client,
            info,
            settings: Arc::new(settings),
            running: Arc::new(Mutex::new(HashSet::new())),
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

    /// Resumes or rolls back the unfinished operation `op_id` (from the local journal, else from
    /// the cluster backups).
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
