//! Keeping the lease: every write after acquiring it (renewals and step changes) goes through
//! one serialized path, a mutex around the last version we wrote, so a step update and a
//! renewal never race each other for the resourceVersion.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::Api;
use kube::api::PostParams;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{LockError, LockRequest, MAX_ROUNDS};
use crate::cluster::derive::lease_info;
use crate::cluster::error::status_code;
use crate::cluster::kinds::LEASE_STEP_ANNOTATION;
use crate::orchestrator::kapi::bounded;
use crate::orchestrator::progress::Step;
use crate::text::sanitize;

/// Shortest pause between retries of a failed renewal, so a fast-failing server is not hammered.
const MIN_RETRY: Duration = Duration::from_millis(20);

pub(super) struct Inner {
    pub(super) api: Api<Lease>,
    pub(super) namespace: String,
    pub(super) endpoint: String,
    pub(super) name: String,
    pub(super) holder: String,
    op_id: String,
    duration: Duration,
    /// The last version of the lease we wrote (or adopted after a 409 that proved it still
    /// ours), and the step it should carry.
    state: tokio::sync::Mutex<State>,
    /// When the renewTime of our last successful write was stamped: the lease is ours until
    /// that plus the duration, whatever happens to later requests.
    renewed_at: std::sync::Mutex<Instant>,
    pub(super) lost: CancellationToken,
    /// Why `lost` fired, for writes attempted afterwards.
    lost_reason: std::sync::Mutex<Option<String>>,
}

struct State {
    lease: Lease,
    step: Step,
}

pub(super) enum WriteError {
    /// The lease is someone else's or gone; `lost` has fired.
    Lost(LockError),
    /// The write failed but the lease may still be ours (5xx, 429, connection, ...).
    Failed(LockError),
}

impl WriteError {
    pub(super) fn into_lock_error(self) -> LockError {
        match self {
            WriteError::Lost(e) | WriteError::Failed(e) => e,
        }
    }
}

impl Inner {
    pub(super) fn new(api: Api<Lease>, req: LockRequest, duration: Duration, lease: Lease) -> Self {
        Inner {
            api,
            name: super::lease_name(&req.endpoint),
            namespace: req.namespace,
            endpoint: req.endpoint,
            holder: req.holder,
            op_id: req.op_id,
            duration,
            state: tokio::sync::Mutex::new(State {
                lease,
                step: req.step,
            }),
            renewed_at: std::sync::Mutex::new(Instant::now()),
            lost: CancellationToken::new(),
            lost_reason: std::sync::Mutex::new(None),
        }
    }

    fn full_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The lease as last written by us.
    pub(super) async fn current(&self) -> Lease {
        self.state.lock().await.lease.clone()
    }

    pub(super) async fn set_step(&self, step: Step) {
        self.state.lock().await.step = step;
    }

    /// Still held by this holder for this operation (whatever its resourceVersion).
    pub(super) fn is_ours(&self, lease: &Lease) -> bool {
        let info = lease_info(lease, Timestamp::now());
        info.holder == self.holder && info.operation_id.as_deref() == Some(self.op_id.as_str())
    }

    fn renewed_at(&self) -> Instant {
        *self.renewed_at.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fires `lost` once, keeping the first reason.
    fn mark_lost(&self, reason: String) {
        let mut r = self.lost_reason.lock().unwrap_or_else(|p| p.into_inner());
        if r.is_none() {
            tracing::warn!(lease = %self.full_name(), reason = %reason, "endpoint lock lost");
            *r = Some(reason);
        }
        self.lost.cancel();
    }

    fn lost_error(&self, err: LockError) -> WriteError {
        self.mark_lost(err.to_string());
        WriteError::Lost(err)
    }

    /// Writes a new renewTime and the wanted step, carrying the last known resourceVersion. A
    /// 409 re-reads: still ours, so adopt the newer version and write again; not ours, lost.
    pub(super) async fn write(&self, verb: &str) -> Result<(), WriteError> {
        let what = format!("{verb} lease {}", self.full_name());
        let mut st = self.state.lock().await;
        if self.lost.is_cancelled() {
            let reason = self
                .lost_reason
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_default();
            return Err(WriteError::Lost(LockError::Api {
                what,
                message: format!("the lock was lost earlier: {reason}"),
                code: None,
                retry_after: None,
            }));
        }
        for _ in 0..MAX_ROUNDS {
            let mut next = st.lease.clone();
            next.metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert(LEASE_STEP_ANNOTATION.into(), st.step.name().into());
            let stamped = Instant::now();
            if let Some(spec) = next.spec.as_mut() {
                spec.renew_time = Some(MicroTime(Timestamp::now()));
            }
            let err =
                match bounded(self.api.replace(&self.name, &PostParams::default(), &next)).await {
                    Ok(written) => {
                        st.lease = written;
                        *self.renewed_at.lock().unwrap_or_else(|p| p.into_inner()) = stamped;
                        return Ok(());
                    }
                    Err(e) => e,
                };
            match status_code(&err) {
                Some(409) => match bounded(self.api.get_opt(&self.name)).await {
                    Ok(Some(current)) if self.is_ours(&current) => {
                        st.lease.metadata.resource_version = current.metadata.resource_version;
                        st.lease.metadata.uid = current.metadata.uid;
                    }
                    Ok(Some(current)) => {
                        return Err(self.lost_error(LockError::held(
                            &self.namespace,
                            &self.endpoint,
                            &current,
                            Timestamp::now(),
                            None,
                        )));
                    }
                    Ok(None) => return Err(self.lost_error(self.gone(&what))),
                    Err(e) => {
                        let read = format!("read lease {}", self.full_name());
                        return Err(WriteError::Failed(LockError::api(read, &e)));
                    }
                },
                Some(404) => return Err(self.lost_error(self.gone(&what))),
                _ => return Err(WriteError::Failed(LockError::api(what, &err))),
            }
        }
        Err(WriteError::Failed(LockError::Api {
            what,
            message: format!("still modified concurrently after {MAX_ROUNDS} attempts"),
            code: Some(409),
            retry_after: None,
        }))
    }

    fn gone(&self, what: &str) -> LockError {
        LockError::Api {
            what: what.to_string(),
            message: format!(
                "lease {} was deleted by someone else",
                sanitize(&self.full_name())
            ),
            code: Some(404),
            retry_after: None,
        }
    }
}

/// Renews every `every` until `stop`; after a failed renewal retries sooner, and gives up (fires
/// `lost`) once no renewal has succeeded for the lease duration, because by then another console
/// may rightly have taken the lease over.
pub(super) async fn run(inner: Arc<Inner>, stop: CancellationToken, every: Duration) {
    let retry = (every / 4).max(MIN_RETRY);
    let mut wait = every;
    loop {
        let deadline = inner.renewed_at() + inner.duration;
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep_until((Instant::now() + wait).min(deadline)) => {}
        }
        // A request that hangs must not keep us believing we hold the lease past its expiry.
        let outcome = tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep_until(deadline) => None,
            r = inner.write("renew") => Some(r),
        };
        // A step update may have renewed the lease meanwhile: judge against the latest success.
        let expired = Instant::now() >= inner.renewed_at() + inner.duration;
        match outcome {
            Some(Ok(())) => wait = every,
            Some(Err(WriteError::Lost(_))) => return,
            Some(Err(WriteError::Failed(e))) => {
                if expired {
                    inner.mark_lost(format!(
                        "no renewal succeeded for {:?}; last error: {e}",
                        inner.duration
                    ));
                    return;
                }
                tracing::warn!(lease = %inner.full_name(), error = %e, "lease renewal failed; retrying");
                wait = retry;
            }
            None if !expired => wait = Duration::ZERO,
            None => {
                inner.mark_lost(format!(
                    "no renewal succeeded for {:?} (the last request did not answer in time)",
                    inner.duration
                ));
                return;
            }
        }
    }
}
