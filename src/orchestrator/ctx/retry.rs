//! The one retry layer of an operation: which failures are tried again, how long to wait
//! (backoff, the server's Retry-After), the `retrying` line told the moment an answer came, and
//! the step's deadline that ends it all.

use std::time::{Duration, Instant};

use super::super::backup::BackupError;
use super::super::kapi::{ApiFailure, CALL_TIMEOUT, NoAnswer};
use super::super::lease::LockError;
use super::super::preflight::PreflightError;
use super::super::progress::{OpEvent, OpResult, Progress, Step, StepState};
use super::{Bound, Ctx, Failure};
use crate::util::duration::format_elapsed;

/// The budget of a step made of API calls only (lock, preflight, snapshot, delete, decide-spec,
/// strip-finalizers, finish): its calls and retries end within this. The other steps are bounded
/// by the operation's own deadlines: create by `--timeout`, verify-deletion and force-delete by
/// `--timeout` (per wait), verify-ready by `--ready-timeout`, rollback by both added.
pub(crate) const STEP_BUDGET: Duration = Duration::from_secs(60);

/// Attempts for a call that fails transiently (throttled, server error, no answer).
pub(crate) const TRANSIENT_ATTEMPTS: u32 = 5;

/// The longest `Retry-After` honoured: a server asking for more is asked again sooner, and the
/// step's deadline still bounds the whole.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// A 429 that names no Retry-After still waits this long.
const MIN_THROTTLED_WAIT: Duration = Duration::from_secs(1);

pub(super) fn default_budget(step: Step) -> Option<Duration> {
    match step {
        Step::Lock
        | Step::Preflight
        | Step::Snapshot
        | Step::Delete
        | Step::DecideSpec
        | Step::StripFinalizers
        | Step::Finish => Some(STEP_BUDGET),
        Step::VerifyDeletion
        | Step::Create
        | Step::VerifyReady
        | Step::Rollback
        | Step::ForceDelete => None,
    }
}

/// An HTTP answer worth another try: none at all, 429, or a server error.
pub(crate) fn transient_code(code: Option<u16>) -> bool {
    code.is_none_or(|c| c == 429 || c >= 500)
}

/// What the retry loop needs to know of a failed call.
pub(crate) trait CallError: std::fmt::Display + Sized {
    /// The HTTP code; `None`: no answer.
    fn code(&self) -> Option<u16>;
    /// The server's Retry-After, when it named one.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
    /// The error for a call that got no answer within `after`.
    fn no_answer(what: &str, after: Duration) -> Self;
}

impl CallError for ApiFailure {
    fn code(&self) -> Option<u16> {
        self.code
    }
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
    fn no_answer(what: &str, after: Duration) -> Self {
        ApiFailure {
            what: what.to_string(),
            code: None,
            message: NoAnswer(after).to_string(),
            reason: String::new(),
            retry_after: None,
        }
    }
}

impl CallError for LockError {
    fn code(&self) -> Option<u16> {
        match self {
            LockError::Api { code, .. } => *code,
            LockError::Held { .. } => Some(423),
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        match self {
            LockError::Api { retry_after, .. } => *retry_after,
            LockError::Held { .. } => None,
        }
    }
    fn no_answer(what: &str, after: Duration) -> Self {
        LockError::Api {
            what: what.to_string(),
            message: NoAnswer(after).to_string(),
            code: None,
            retry_after: None,
        }
    }
}

impl CallError for PreflightError {
    fn code(&self) -> Option<u16> {
        match self {
            PreflightError::Api { code, .. } => *code,
            PreflightError::Denied { .. } => Some(403),
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        match self {
            PreflightError::Api { retry_after, .. } => *retry_after,
            PreflightError::Denied { .. } => None,
        }
    }
    fn no_answer(what: &str, after: Duration) -> Self {
        PreflightError::Api {
            what: what.to_string(),
            message: NoAnswer(after).to_string(),
            code: None,
            retry_after: None,
        }
    }
}

impl CallError for BackupError {
    fn code(&self) -> Option<u16> {
        BackupError::code(self)
    }
    fn no_answer(what: &str, after: Duration) -> Self {
        BackupError::Api {
            what: what.to_string(),
            message: NoAnswer(after).to_string(),
            code: None,
        }
    }
}

/// Why a retry loop stopped on an error that was itself worth another try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GaveUp {
    /// The step's deadline would have passed before the next attempt.
    pub deadline: bool,
    pub why: String,
}

/// The last error of a retried call, and why it was not tried again (`None`: the error was not
/// transient).
#[derive(Debug)]
pub(crate) struct Retried<E> {
    pub error: E,
    pub gave_up: Option<GaveUp>,
}

impl<E> Retried<E> {
    /// Exit 4 when the deadline ended it, else 1.
    pub fn result(&self) -> OpResult {
        match &self.gave_up {
            Some(g) if g.deadline => OpResult::Deadline,
            _ => OpResult::Failed,
        }
    }
}

impl<E: std::fmt::Display> std::fmt::Display for Retried<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error)?;
        if let Some(g) = &self.gave_up {
            write!(f, "; gave up: {}", g.why)?;
        }
        Ok(())
    }
}

/// One failed attempt, as the retry line tells it.
pub(crate) struct Attempt<'a> {
    /// What was done (`create Deployment orch/ep`).
    pub what: &'a str,
    pub code: Option<u16>,
    pub retry_after: Option<Duration>,
    /// The answer, sanitised.
    pub message: String,
    /// 1-based number of the attempt that failed, and how many there may be.
    pub number: u32,
    pub of: u32,
}

impl Ctx {
    /// Bounds the running step to `budget` from now (a tighter bound already set stays).
    pub fn bound(&mut self, budget: Duration) {
        let until = Instant::now() + budget;
        if self.bound.is_none_or(|b| until < b.until) {
            self.bound = Some(Bound { until, budget });
        }
    }

    /// Time left before the running step's deadline; `None` when it has none of its own.
    pub fn remaining(&self) -> Option<Duration> {
        self.bound
            .map(|b| b.until.saturating_duration_since(Instant::now()))
    }

    /// How long the next call may take: [`CALL_TIMEOUT`], or less when the step's deadline is
    /// nearer.
    pub fn call_limit(&self) -> Duration {
        self.remaining()
            .map_or(CALL_TIMEOUT, |r| r.min(CALL_TIMEOUT))
    }

    /// `fut` (an API call of [`super::kapi`]) within [`Ctx::call_limit`].
    pub async fn call<T>(
        &self,
        what: impl FnOnce() -> String,
        fut: impl std::future::Future<Output = Result<T, ApiFailure>>,
    ) -> Result<T, ApiFailure> {
        let limit = self.call_limit();
        match tokio::time::timeout(limit, fut).await {
            Ok(r) => r,
            Err(_) => Err(ApiFailure::no_answer(&what(), limit)),
        }
    }

    /// After a transient failure: the wait before the next attempt, or why there is none.
    fn next_wait(&self, a: &Attempt<'_>) -> Result<Duration, GaveUp> {
        if a.number >= a.of {
            return Err(GaveUp {
                deadline: false,
                why: format!("{} attempts made", a.of),
            });
        }
        let wait = retry_wait(a.number, a.code, a.retry_after);
        if let Some(b) = self.bound
            && Instant::now() + wait >= b.until
        {
            return Err(GaveUp {
                deadline: true,
                why: format!(
                    "the step's deadline of {} passes before the next attempt (in {})",
                    crate::util::duration::format_duration(b.budget),
                    format_elapsed(wait)
                ),
            });
        }
        Ok(wait)
    }

    /// One `retrying` line for a failed attempt, sent the moment the answer came: what failed,
    /// the code, the server's Retry-After, and when the next attempt goes.
    fn announce(&mut self, step: Step, a: &Attempt<'_>, wait: Duration) {
        let code = a
            .code
            .map_or("no answer".to_string(), |c| format!("answered {c}"));
        let after = a
            .retry_after
            .map(|d| {
                format!(
                    ", Retry-After {}",
                    crate::util::duration::format_duration(d)
                )
            })
            .unwrap_or_default();
        let next_at = self.elapsed() + wait;
        let deadline = self
            .bound
            .map(|b| {
                let at = b.until.saturating_duration_since(self.started);
                format!("; step deadline at {}", format_elapsed(at))
            })
            .unwrap_or_default();
        self.retry(
            step,
            format!(
                "{} {code}{after}; attempt {}/{} in {} (at {}{deadline})",
                a.what,
                a.number + 1,
                a.of,
                format_elapsed(wait),
                format_elapsed(next_at)
            ),
            Some(a.message.clone()),
        );
    }

    /// A transient failure in a plan's own retry loop: the retry line, then the pause. `Err`
    /// (the step's failure, also told as a `failed` line) when no attempt is left, the next one
    /// would start past the step's deadline, or the operation was stopped meanwhile.
    pub async fn after_transient(&mut self, step: Step, a: Attempt<'_>) -> Result<(), Failure> {
        match self.next_wait(&a) {
            Ok(wait) => {
                self.announce(step, &a, wait);
                if self.pause(wait).await {
                    Ok(())
                } else {
                    Err(super::super::destroy::stopped(step))
                }
            }
            Err(g) => {
                let code = a.code.map_or("no answer".to_string(), |c| c.to_string());
                let msg = format!("{} failed ({code}); gave up: {}", a.what, g.why);
                self.failed(step, msg.clone(), Some(a.message));
                let result = if g.deadline {
                    OpResult::Deadline
                } else {
                    OpResult::Failed
                };
                Err(Failure::new(step, result, msg))
            }
        }
    }

    /// [`Ctx::retrying_within`] with each attempt bounded by [`CALL_TIMEOUT`].
    pub async fn retrying<T, E, F, Fut>(
        &mut self,
        step: Step,
        what: &str,
        transient: impl Fn(&E) -> bool,
        call: F,
    ) -> Result<T, Retried<E>>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
        E: CallError,
    {
        self.retrying_within(step, what, CALL_TIMEOUT, transient, call)
            .await
    }

    /// Runs `call` until it succeeds, fails for good, [`TRANSIENT_ATTEMPTS`] are used up or the
    /// step's deadline would pass; each attempt gets at most `per_attempt` (less when the
    /// deadline is nearer), and every retry is a visible `retrying` line. `call` must not borrow
    /// the context (clone what it needs).
    pub async fn retrying_within<T, E, F, Fut>(
        &mut self,
        step: Step,
        what: &str,
        per_attempt: Duration,
        transient: impl Fn(&E) -> bool,
        mut call: F,
    ) -> Result<T, Retried<E>>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
        E: CallError,
    {
        let mut number = 0;
        loop {
            number += 1;
            let limit = self.remaining().map_or(per_attempt, |r| r.min(per_attempt));
            let outcome = match tokio::time::timeout(limit, call()).await {
                Ok(r) => r,
                Err(_) => Err(E::no_answer(what, limit)),
            };
            let e = match outcome {
                Ok(v) => return Ok(v),
                Err(e) if transient(&e) => e,
                Err(e) => {
                    return Err(Retried {
                        error: e,
                        gave_up: None,
                    });
                }
            };
            let a = Attempt {
                what,
                code: e.code(),
                retry_after: e.retry_after(),
                message: crate::text::sanitize(&e.to_string()).into_owned(),
                number,
                of: TRANSIENT_ATTEMPTS,
            };
            match self.next_wait(&a) {
                Ok(wait) => {
                    self.announce(step, &a, wait);
                    if !self.pause(wait).await {
                        return Err(Retried {
                            error: e,
                            gave_up: Some(GaveUp {
                                deadline: false,
                                why: "stopped".into(),
                            }),
                        });
                    }
                }
                Err(g) => {
                    return Err(Retried {
                        error: e,
                        gave_up: Some(g),
                    });
                }
            }
        }
    }

    /// A sender of `running` lines for `step` that needs no borrow of the context, for code
    /// that runs inside a retried call (the lock's "waiting to see whether the holder renews").
    pub fn notifier(&self, step: Step) -> impl Fn(String) + Send + Sync + 'static {
        let tx = self.tx.clone();
        let op_id = self.rec.id.clone();
        let started = self.started;
        move |message: String| {
            tracing::info!(op = %op_id, step = step.name(), "{message}");
            let _ = tx.send(OpEvent::Progress(Progress {
                op_id: op_id.clone(),
                step,
                state: StepState::Running,
                elapsed: started.elapsed(),
                message,
                api: None,
                retries: 0,
            }));
        }
    }
}

/// The wait before the attempt after `attempt` (1-based): 200 ms doubling up to 5 s, at least the
/// server's Retry-After (capped at [`MAX_RETRY_AFTER`]), at least 1 s after a 429.
pub(crate) fn retry_wait(
    attempt: u32,
    code: Option<u16>,
    retry_after: Option<Duration>,
) -> Duration {
    let mut wait = backoff(attempt);
    if let Some(ra) = retry_after {
        wait = wait.max(ra.min(MAX_RETRY_AFTER));
    } else if code == Some(429) {
        wait = wait.max(MIN_THROTTLED_WAIT);
    }
    wait
}

/// Backoff before retry `attempt` (1-based): 200 ms doubling, at most 5 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let ms = 200u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(5));
    Duration::from_millis(ms.min(5_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_honour_retry_after_within_a_cap() {
        assert_eq!(retry_wait(1, Some(500), None), Duration::from_millis(200));
        assert_eq!(retry_wait(1, Some(429), None), Duration::from_secs(1));
        assert_eq!(
            retry_wait(1, Some(429), Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            retry_wait(6, Some(503), Some(Duration::from_secs(1))),
            Duration::from_secs(5)
        );
        assert_eq!(
            retry_wait(1, Some(429), Some(Duration::from_secs(3600))),
            MAX_RETRY_AFTER
        );
    }
}
