//! The running operation's context: its record, its journal, its lock, and the one place that
//! turns what happens into progress events, log milestones and journal writes.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::engine::Engine;
use super::journal::Journal;
use super::lease::LeaseLock;
use super::progress::{OpEvent, OpResult, Progress, Step, StepState};
use super::record::{ObjectId, OpRecord, OpState, StepRecord};

/// The spec an endpoint was verified ready on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verified {
    /// The operation's decided spec (its verify-ready step).
    Decided,
    /// The backup (a rollback's verification).
    Backup,
}

mod retry;
use retry::default_budget;
pub(crate) use retry::*;

/// Why a plan stopped: the step, how it maps to an exit code, and what to tell the operator.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub step: Step,
    pub result: OpResult,
    pub message: String,
}

impl Failure {
    pub fn new(step: Step, result: OpResult, message: impl Into<String>) -> Failure {
        Failure {
            step,
            result,
            message: message.into(),
        }
    }

    pub fn failed(step: Step, message: impl Into<String>) -> Failure {
        Failure::new(step, OpResult::Failed, message)
    }
}

/// Why the operation was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopReason {
    Cancelled,
    LockLost,
}

pub(crate) struct Ctx {
    pub engine: Engine,
    pub client: kube::Client,
    tx: mpsc::UnboundedSender<OpEvent>,
    /// Fires on the operator's cancel or on losing the lock; `stop_reason` tells which.
    pub stop: CancellationToken,
    cancel: CancellationToken,
    pub started: Instant,
    pub rec: OpRecord,
    pub journal: Journal,
    pub lock: Option<LeaseLock>,
    pub retries: u32,
    pub step_retries: u32,
    pub deleted: Vec<ObjectId>,
    /// This operation wrote the backup ConfigMap itself (in its snapshot step).
    pub backup_written: bool,
    /// The endpoint was verified ready on a spec the record holds: the one decided
    /// (verify-ready) or the backup (a rollback's verification). Only then, or on an explicit
    /// discard, does the backup go (`finish::backup_removable`).
    pub verified_on: Option<Verified>,
    /// Running `recover` on an interrupted operation.
    pub recovering: bool,
    /// For a recovery: the state the record keeps when the recovery stops before changing
    /// anything (refused by the lock, by preflight, by a stuck finalizer): what it was found
    /// in (needs-recovery for a finished record whose backup is still there).
    pub unfinished_state: Option<OpState>,
    /// `recover OP --discard`: the backup goes although nothing was verified.
    pub discarding: bool,
    /// Where this run's steps start in `rec.steps` (a recovery's record holds the interrupted
    /// run's steps first).
    pub steps_from: usize,
    /// Objects whose finalizers the policy did not allow stripping (for the advice at the end).
    pub blocked_by: Vec<ObjectId>,
    /// When the running step must end (see [`Ctx::bound`]); `None`: its waits bound it.
    bound: Option<Bound>,
}

/// A step's deadline: its budget and the instant it runs out.
#[derive(Debug, Clone, Copy)]
struct Bound {
    until: Instant,
    budget: Duration,
}

impl Ctx {
    pub fn new(
        engine: Engine,
        rec: OpRecord,
        tx: mpsc::UnboundedSender<OpEvent>,
        cancel: CancellationToken,
    ) -> Ctx {
        let journal = Journal::new(engine.settings.journal_dir.clone());
        Ctx {
            client: engine.client.clone(),
            engine,
            tx,
            stop: cancel.child_token(),
            cancel,
            started: Instant::now(),
            rec,
            journal,
            lock: None,
            retries: 0,
            step_retries: 0,
            deleted: Vec::new(),
            backup_written: false,
            verified_on: None,
            recovering: false,
            unfinished_state: None,
            discarding: false,
            steps_from: 0,
            blocked_by: Vec::new(),
            bound: None,
        }
    }

    /// Takes the lock into the context; losing it stops the operation.
    pub fn hold(&mut self, lock: LeaseLock) {
        let lost = lock.lost();
        let stop = self.stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = lost.cancelled() => stop.cancel(),
                _ = stop.cancelled() => {}
            }
        });
        self.lock = Some(lock);
    }

    pub fn stop_reason(&self) -> Option<StopReason> {
        if self.cancel.is_cancelled() {
            Some(StopReason::Cancelled)
        } else if self.lock.as_ref().is_some_and(|l| l.lost().is_cancelled()) {
            Some(StopReason::LockLost)
        } else {
            None
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    fn send(&self, step: Step, state: StepState, message: String, api: Option<String>) {
        // Front ends show every event; the log keeps them too (info: visible with -v, and in
        // the console's log pane), without doubling the headless progress lines by default.
        tracing::info!(op = %self.rec.id, step = step.name(), state = state.name(), api = api.as_deref().unwrap_or(""), "{message}");
        // The front end may be gone (TUI closed): the operation goes on regardless.
        let _ = self.tx.send(OpEvent::Progress(Progress {
            op_id: self.rec.id.clone(),
            step,
            state,
            elapsed: self.elapsed(),
            message,
            api,
            retries: self.step_retries,
        }));
    }

    pub fn send_event(&self, ev: OpEvent) {
        let _ = self.tx.send(ev);
    }

    /// A step starts: told, journalled, and written into the lease for other consoles.
    pub async fn begin(&mut self, step: Step, message: impl Into<String>) -> Result<(), Failure> {
        let message = message.into();
        self.step_retries = 0;
        self.bound = default_budget(step).map(|budget| Bound {
            until: Instant::now() + budget,
            budget,
        });
        self.rec.step = step;
        self.record(step, StepState::Running, &message);
        self.send(step, StepState::Running, message, None);
        // Durable where recovery reads the journal to decide: "deletion may have started" and
        // the steps that change objects without recreating them. Other step starts only need
        // to survive a killed process, which a cached write does.
        if matches!(
            step,
            Step::Delete | Step::ForceDelete | Step::StripFinalizers | Step::Rollback
        ) {
            self.persist(step)?;
        } else {
            self.persist_cached(step)?;
        }
        if let Some(lock) = &self.lock
            && let Err(e) = lock.set_step(step).await
        {
            // The renewal task decides whether the lock is lost; a failed annotation write alone
            // only makes other consoles show the previous step.
            self.send(
                step,
                StepState::Running,
                format!("could not write the step into the lease: {e}"),
                None,
            );
        }
        Ok(())
    }

    /// A line within the running step.
    pub fn info(&self, step: Step, message: impl Into<String>) {
        self.send(step, StepState::Running, message.into(), None);
    }

    /// A line about an API call and its answer.
    pub fn api(&self, step: Step, message: impl Into<String>, answer: impl Into<String>) {
        self.send(
            step,
            StepState::Running,
            message.into(),
            Some(answer.into()),
        );
    }

    pub fn retry(&mut self, step: Step, message: impl Into<String>, answer: Option<String>) {
        self.step_retries += 1;
        self.retries += 1;
        self.send(step, StepState::Retrying, message.into(), answer);
    }

    pub fn done(&mut self, step: Step, message: impl Into<String>) {
        let message = message.into();
        self.record(step, StepState::Done, &message);
        self.send(step, StepState::Done, message, None);
    }

    pub fn skipped(&mut self, step: Step, message: impl Into<String>) {
        let message = message.into();
        self.record(step, StepState::Skipped, &message);
        self.send(step, StepState::Skipped, message, None);
    }

    pub fn failed(&mut self, step: Step, message: impl Into<String>, answer: Option<String>) {
        let message = message.into();
        self.record(step, StepState::Failed, &message);
        self.send(step, StepState::Failed, message, answer);
    }

    pub fn cancelled(&mut self, step: Step, message: impl Into<String>) {
        let message = message.into();
        self.record(step, StepState::Cancelled, &message);
        self.send(step, StepState::Cancelled, message, None);
    }

    fn record(&mut self, step: Step, state: StepState, message: &str) {
        self.rec.updated = Timestamp::now();
        self.rec.steps.push(StepRecord {
            step,
            state,
            at: self.rec.updated,
            message: message.to_string(),
        });
    }

    /// Writes the record to the journal (fsync). A journal that cannot be written stops the
    /// operation: "nothing lost" is only true while it can be written.
    pub fn persist(&mut self, step: Step) -> Result<(), Failure> {
        self.rec.updated = Timestamp::now();
        self.journal
            .write(&self.rec)
            .map(|_| ())
            .map_err(|e| Failure::failed(step, format!("cannot write the operation journal: {e}")))
    }

    /// [`Ctx::persist`] without fsync (see `Journal::write_cached`).
    pub fn persist_cached(&mut self, step: Step) -> Result<(), Failure> {
        self.rec.updated = Timestamp::now();
        self.journal
            .write_cached(&self.rec)
            .map(|_| ())
            .map_err(|e| Failure::failed(step, format!("cannot write the operation journal: {e}")))
    }

    /// Sleeps unless stopped first; `false` when stopped.
    pub async fn pause(&self, d: Duration) -> bool {
        tokio::select! {
            _ = self.stop.cancelled() => false,
            _ = tokio::time::sleep(d) => true,
        }
    }
}
