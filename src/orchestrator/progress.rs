//! What an operation tells its front end while it runs: one [`Progress`] per step transition or
//! noteworthy moment (a retry, an object still Terminating), a [`Question`] when the escalation
//! policy is `ask`, and the [`Outcome`] at the end.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::record::{EndpointId, ObjectId};

/// The steps of every plan, named as on screen and in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Lock,
    Preflight,
    Snapshot,
    Delete,
    VerifyDeletion,
    DecideSpec,
    Create,
    VerifyReady,
    Finish,
    /// Recreating from the backup after a failure after deletion (or on `recover --rollback`).
    Rollback,
    /// Force-delete plan: delete with grace period 0 (and finalizers stripped when asked).
    ForceDelete,
    /// Strip-finalizers plan: the conditioned JSON patch.
    StripFinalizers,
}

impl Step {
    pub const ALL: [Step; 12] = [
        Step::Lock,
        Step::Preflight,
        Step::Snapshot,
        Step::Delete,
        Step::VerifyDeletion,
        Step::DecideSpec,
        Step::Create,
        Step::VerifyReady,
        Step::Finish,
        Step::Rollback,
        Step::ForceDelete,
        Step::StripFinalizers,
    ];

    /// The name shown on screen, in logs and in the lease's step annotation.
    pub fn name(self) -> &'static str {
        match self {
            Step::Lock => "lock",
            Step::Preflight => "preflight",
            Step::Snapshot => "snapshot",
            Step::Delete => "delete",
            Step::VerifyDeletion => "verify-deletion",
            Step::DecideSpec => "decide-spec",
            Step::Create => "create",
            Step::VerifyReady => "verify-ready",
            Step::Finish => "finish",
            Step::Rollback => "rollback",
            Step::ForceDelete => "force-delete",
            Step::StripFinalizers => "strip-finalizers",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|st| st.name() == s)
    }

    /// The steps of a plan, in order, for the timeline (rollback shows only when it runs).
    pub fn plan(kind: OpKind) -> &'static [Step] {
        match kind {
            OpKind::Redeploy => &[
                Step::Lock,
                Step::Preflight,
                Step::Snapshot,
                Step::Delete,
                Step::VerifyDeletion,
                Step::DecideSpec,
                Step::Create,
                Step::VerifyReady,
                Step::Finish,
            ],
            OpKind::ForceDelete => &[
                Step::Lock,
                Step::Preflight,
                Step::Snapshot,
                Step::ForceDelete,
                Step::VerifyDeletion,
                Step::Finish,
            ],
            OpKind::StripFinalizers => &[
                Step::Lock,
                Step::Preflight,
                Step::Snapshot,
                Step::StripFinalizers,
                Step::VerifyDeletion,
                Step::Finish,
            ],
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which plan an operation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpKind {
    Redeploy,
    ForceDelete,
    StripFinalizers,
}

impl OpKind {
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Redeploy => "redeploy",
            OpKind::ForceDelete => "force-delete",
            OpKind::StripFinalizers => "strip-finalizers",
        }
    }
}

/// Where a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepState {
    Pending,
    Running,
    /// An API call failed in a way worth retrying; the step goes on after a backoff.
    Retrying,
    Done,
    Failed,
    /// Not needed this time (nothing to delete, resumed past it).
    Skipped,
    Cancelled,
}

impl StepState {
    pub fn name(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Retrying => "retrying",
            StepState::Done => "done",
            StepState::Failed => "failed",
            StepState::Skipped => "skipped",
            StepState::Cancelled => "cancelled",
        }
    }

    /// The step will not change any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            StepState::Done | StepState::Failed | StepState::Skipped | StepState::Cancelled
        )
    }
}

/// One line of an operation's story. Messages may contain cluster text; they are sanitised when
/// made (`crate::text::sanitize`), so every front end can print them as they are.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub op_id: String,
    pub step: Step,
    pub state: StepState,
    /// Since the operation started.
    #[serde(with = "millis")]
    pub elapsed: Duration,
    pub message: String,
    /// The API's answer when the line is about a request (`200 OK`, `409 AlreadyExists: ...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// Retries of this step so far.
    pub retries: u32,
}

/// An object still there when the deletion deadline passed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StuckObject {
    pub object: ObjectId,
    /// Blocking finalizers (empty: still in its grace period, or nothing is holding it but it
    /// has not been removed yet).
    pub finalizers: Vec<String>,
    /// Seconds since deletion was requested, if it was.
    pub terminating_for_seconds: Option<i64>,
    /// Not being deleted yet (no deletionTimestamp): the garbage collector deletes it once its
    /// owner, named here (`InferenceService llama`), is gone. Not Terminating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub awaiting_gc: Option<String>,
}

/// What the operator chose when asked how to go on with stuck objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscalationChoice {
    /// Force-delete pods (grace 0), strip finalizers, delete again.
    Strip,
    /// Leave them: the step fails (and rolls back where it can).
    GiveUp,
}

/// Escalation policy `ask`: the engine waits for `reply`. Dropping the sender counts as
/// [`EscalationChoice::GiveUp`].
#[derive(Debug)]
pub struct Question {
    pub op_id: String,
    pub prompt: String,
    pub stuck: Vec<StuckObject>,
    pub reply: oneshot::Sender<EscalationChoice>,
}

/// How an operation ended, for the exit code and the result line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpResult {
    Succeeded,
    /// A step failed; `rolled_back` in the outcome says whether the old spec was restored.
    Failed,
    /// Another operation holds the endpoint's lease: nothing was changed.
    LockHeld,
    /// A deadline passed (deletion not verified for reasons other than a finalizer the policy
    /// forbids stripping, or the endpoint not ready in time).
    Deadline,
    /// Bad input found once the cluster could be asked (unknown `--set` key, no such endpoint).
    Usage,
    /// Cancelled by the operator; the endpoint was left consistent (see the message).
    Cancelled,
}

/// The end of an operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub op_id: String,
    pub kind: OpKind,
    pub endpoint: EndpointId,
    pub result: OpResult,
    /// The step that failed, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<Step>,
    /// One paragraph: what happened, and for a failure what to do next.
    pub message: String,
    /// Whether a rollback ran, and how it ended (`None`: none was needed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<String>,
    /// Objects created, as `Kind/name uid`.
    pub created: Vec<ObjectId>,
    /// Objects deleted (their old UIDs).
    pub deleted: Vec<ObjectId>,
    /// Retries over all steps.
    pub retries: u32,
    #[serde(with = "millis")]
    pub elapsed: Duration,
    /// The journal file of the operation, kept for the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal: Option<std::path::PathBuf>,
}

/// What an operation sends its front end.
#[derive(Debug)]
pub enum OpEvent {
    Progress(Progress),
    Question(Question),
    Finished(Box<Outcome>),
}

/// Durations as whole milliseconds in JSON (`"elapsed_ms"`-style numbers are what scripts want).
mod millis {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_round_trip() {
        for s in Step::ALL {
            assert_eq!(Step::parse(s.name()), Some(s));
        }
        assert_eq!(Step::parse("nope"), None);
    }

    #[test]
    fn redeploy_plan_is_the_eight_steps_of_design_plus_preflight() {
        let names: Vec<_> = Step::plan(OpKind::Redeploy)
            .iter()
            .map(|s| s.name())
            .collect();
        assert_eq!(
            names,
            [
                "lock",
                "preflight",
                "snapshot",
                "delete",
                "verify-deletion",
                "decide-spec",
                "create",
                "verify-ready",
                "finish"
            ]
        );
    }
}
