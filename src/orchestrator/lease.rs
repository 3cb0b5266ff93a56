//! The endpoint lock: a `coordination.k8s.io/v1` Lease `llmops-console-<endpoint>` in the
//! endpoint's namespace, so that two consoles (processes, machines) never both believe they may
//! change one endpoint.
//!
//! Every write is resourceVersion-checked (create, or replace carrying the version just read;
//! delete with uid + resourceVersion preconditions): the API server, not a read-then-write race
//! on our side, decides who wins. A holder that dies simply stops renewing and the lease
//! expires: one duration after the last change seen by the console that wants it, on that
//! console's clock (`expiry.rs`), so neither a skewed holder clock nor a renewTime in 2099
//! decides. Other consoles read
//! it through [`crate::cluster::derive::lease_info`], so the annotations written here are the
//! ones that function reads.

mod expiry;
#[cfg(test)]
mod expiry_tests;
mod renew;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testsim;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::Api;
use kube::api::{DeleteParams, PostParams, Preconditions};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::cluster::derive::lease_info;
use crate::cluster::error::{describe_kube_error, status_code};
use crate::cluster::kinds::{
    LEASE_MODE_ANNOTATION, LEASE_OPERATION_ANNOTATION, LEASE_STEP_ANNOTATION, lease_name,
};
use crate::cluster::model::Mode;
use crate::orchestrator::kapi::bounded;
use crate::orchestrator::progress::Step;
use crate::text::sanitize;
use crate::util::age::format_age_secs;

pub use expiry::MAX_WINDOW;
use expiry::{
    DEFAULT_WINDOW, Seen, Verdict, judge, observe_window, unsure_message, watch_for_renewal,
};
use renew::{Inner, WriteError};

/// Label on every lease this console writes, so an admin can list them.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "llmops-console";

/// How many times a contended write (409 on create, replace or delete) is re-read and
/// re-evaluated before giving up: each round means another writer got in between, so a handful
/// is plenty between consoles and still bounded.
const MAX_ROUNDS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseSettings {
    /// How long the lease stays live without a renewal (`leaseDurationSeconds`, rounded up).
    pub duration: Duration,
    /// How often the holder renews it.
    pub renew_every: Duration,
}

impl Default for LeaseSettings {
    /// client-go's leader-election defaults: 15 s lease; renewing every 5 s leaves two missed
    /// renewals of slack before the lease expires.
    fn default() -> Self {
        LeaseSettings {
            duration: Duration::from_secs(15),
            renew_every: Duration::from_secs(5),
        }
    }
}

/// "user@host/pid": `$USER` (or `$LOGNAME`, else "unknown"), the kernel's hostname (or
/// `$HOSTNAME`, else "localhost") and this process's id. The host and pid let a recovery on the
/// same machine prove that a holder is dead.
pub fn holder_identity() -> String {
    let user = ["USER", "LOGNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
        .or_else(login_from_passwd)
        .unwrap_or_else(|| "unknown".to_string());
    format!("{user}@{}/{}", this_host(), std::process::id())
}

/// The login name of this process's uid from /etc/passwd (containers and cron jobs often run
/// without USER/LOGNAME; "unknown" in a lease helps nobody find the holder).
fn login_from_passwd() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let _pw = f.next()?;
        (f.next()? == uid && !name.is_empty()).then(|| name.to_string())
    })
}

/// This machine's hostname, as [`holder_identity`] writes it.
fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Splits "user@host/pid" into host and pid; anything else is not ours to judge.
fn parse_holder(holder: &str) -> Option<(&str, u32)> {
    let (rest, pid) = holder.rsplit_once('/')?;
    let (_, host) = rest.rsplit_once('@')?;
    Some((host, pid.parse().ok()?))
}

/// Whether `holder` is a process on this host that no longer runs. Only provable through
/// `/proc`: without it (another OS, no procfs mounted) nobody is provably dead.
fn holder_provably_dead(holder: &str) -> bool {
    let Some((host, pid)) = parse_holder(holder) else {
        return false;
    };
    if host != this_host() || pid == 0 || !std::path::Path::new("/proc/self").exists() {
        return false;
    }
    // A killed process that its parent has not reaped yet still has /proc/<pid>, as a zombie
    // ("Z" in stat): it runs no code and renews nothing, so it counts as dead.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

#[derive(Debug, Clone)]
pub struct LockRequest {
    pub namespace: String,
    pub endpoint: String,
    pub op_id: String,
    pub step: Step,
    pub mode: Option<Mode>,
    pub holder: String,
    /// Recovery of operation `op_id` (same id): may take over a live lease that carries this
    /// operation id when its holder is provably dead (same host, pid not running: /proc/<pid>
    /// missing).
    pub takeover: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone else holds the lease (and it is live).
    #[error("{}", held_message(namespace, endpoint, holder, operation_id.as_deref(), step.as_deref(), HeldTimes { held_for: *held_for, expires_in: *expires_in, window: *window }))]
    Held {
        namespace: String,
        endpoint: String,
        holder: String,
        operation_id: Option<String>,
        step: Option<String>,
        held_for: Option<Duration>,
        /// As seen from here: at most `window`.
        expires_in: Duration,
        /// How long this console waits for a renewal before it judges the lease expired.
        window: Duration,
    },
    /// A request failed: what was done ("create lease llm-prod/llmops-console-x"), the API's
    /// answer and its HTTP code.
    #[error("{what}: {message}{}", code_suffix(message, *code))]
    Api {
        what: String,
        message: String,
        code: Option<u16>,
        /// The server's Retry-After (429, 503), when it named one.
        retry_after: Option<Duration>,
    },
}

/// The times in a refusal.
struct HeldTimes {
    held_for: Option<Duration>,
    expires_in: Duration,
    window: Duration,
}

fn held_message(
    namespace: &str,
    endpoint: &str,
    holder: &str,
    operation_id: Option<&str>,
    step: Option<&str>,
    times: HeldTimes,
) -> String {
    let secs = |d: Duration| format_age_secs(i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut parts = Vec::new();
    if let Some(op) = operation_id {
        parts.push(format!("operation {op}"));
    }
    if let Some(step) = step {
        parts.push(format!("step {step}"));
    }
    let HeldTimes {
        held_for,
        expires_in,
        window,
    } = times;
    if let Some(d) = held_for {
        parts.push(format!("held for {}", secs(d)));
    }
    let expiry = format!("expires in {} unless renewed", secs(expires_in));
    let detail = if parts.is_empty() {
        expiry
    } else {
        format!("{}; {expiry}", parts.join(", "))
    };
    let recover = operation_id
        .map(|op| format!("; or finish that operation with `llmops-console recover {op} --resume`"))
        .unwrap_or_default();
    format!(
        "{namespace}/{endpoint} is locked by {holder} ({detail}). If {holder} is gone, the lease \
         expires {} after its last renewal as seen from here: run this again then (it watches the \
         lease for up to {} and takes it over if nobody renews it){recover}",
        secs(window),
        secs(window)
    )
}

/// The code, unless the message already starts with it (kube API errors do: "409 Conflict: ...").
fn code_suffix(message: &str, code: Option<u16>) -> String {
    match code {
        Some(c) if !message.starts_with(&c.to_string()) => format!(" (HTTP {c})"),
        _ => String::new(),
    }
}

impl LockError {
    fn api(what: impl Into<String>, err: &kube::Error) -> LockError {
        LockError::Api {
            what: what.into(),
            message: describe_kube_error(err),
            code: status_code(err),
            retry_after: crate::orchestrator::kapi::retry_after_of(err),
        }
    }

    /// The refusal for a live lease held by someone else, read as other consoles read it.
    /// `seen_change`: the lease changed while this console watched it (a renewal seen from
    /// here), with the watch window; it then expires a window from now. Otherwise its
    /// renewTime, as its holder's clock wrote it, says when, but never later than a window.
    fn held(
        namespace: &str,
        endpoint: &str,
        lease: &Lease,
        now: Timestamp,
        seen_change: Option<Duration>,
    ) -> LockError {
        let info = lease_info(lease, now);
        let clean = |s: &str| sanitize(s).into_owned();
        let window = seen_change.unwrap_or_else(|| observe_window(lease, DEFAULT_WINDOW));
        let since = |t: Timestamp| Duration::try_from(now.duration_since(t)).ok();
        let expires_in = match seen_change {
            Some(w) => w,
            None => info
                .renewed
                .or(info.acquired)
                .and_then(|t| {
                    let secs = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
                    let until = t.checked_add(jiff::SignedDuration::from_secs(secs)).ok()?;
                    Duration::try_from(until.duration_since(now)).ok()
                })
                .unwrap_or_default()
                .min(window),
        };
        LockError::Held {
            namespace: namespace.to_string(),
            endpoint: endpoint.to_string(),
            holder: if info.holder.is_empty() {
                "(nobody)".to_string()
            } else {
                clean(&info.holder)
            },
            operation_id: info.operation_id.as_deref().map(clean),
            step: info.step.as_deref().map(clean),
            held_for: info.acquired.and_then(since),
            expires_in,
            window,
        }
    }
}

/// A held endpoint lock. Renewed in the background until [`LeaseLock::release`]; dropping it
/// stops the renewals and lets the lease expire.
pub struct LeaseLock {
    inner: Arc<Inner>,
    /// Stops the renewal task (release, drop).
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl LeaseLock {
    /// [`LeaseLock::acquire_with`] telling nothing along the way.
    pub async fn acquire(
        client: &kube::Client,
        req: LockRequest,
        settings: LeaseSettings,
    ) -> Result<LeaseLock, LockError> {
        Self::acquire_with(client, req, settings, &|_| {}).await
    }

    /// Takes the lease: creates it, or replaces one that is free, expired as seen from here, or
    /// eligible for takeover; refuses one that is live. `notify` is told when the lease must be
    /// watched before it can be judged (see [`judge`]).
    pub async fn acquire_with(
        client: &kube::Client,
        req: LockRequest,
        settings: LeaseSettings,
        notify: &(dyn Fn(String) + Send + Sync),
    ) -> Result<LeaseLock, LockError> {
        let api: Api<Lease> = Api::namespaced(client.clone(), &req.namespace);
        let name = lease_name(&req.endpoint);
        let what = |verb: &str| format!("{verb} lease {}/{name}", req.namespace);
        let mut create = true;
        // Set once the lease was watched for a whole window without a change: a later change
        // (our conditioned replace met a 409) is a renewal seen from here.
        let mut watched = false;
        for _ in 0..MAX_ROUNDS {
            if create {
                let fresh = desired(&req, &settings, &name, None, Timestamp::now());
                match bounded(api.create(&PostParams::default(), &fresh)).await {
                    Ok(lease) => return Ok(Self::start(api, req, settings, lease)),
                    Err(e) if status_code(&e) == Some(409) => {}
                    Err(e) => return Err(LockError::api(what("create"), &e)),
                }
            }
            let existing = match bounded(api.get_opt(&name)).await {
                Ok(Some(l)) => l,
                // Released between our create and this read: the name is free again.
                Ok(None) => {
                    create = true;
                    continue;
                }
                Err(e) => return Err(LockError::api(what("read"), &e)),
            };
            let now = Timestamp::now();
            let base = match judge(&req, &settings, &existing, now) {
                Verdict::Free => existing,
                Verdict::Live => {
                    return Err(LockError::held(
                        &req.namespace,
                        &req.endpoint,
                        &existing,
                        now,
                        None,
                    ));
                }
                Verdict::Unsure(window) if watched => {
                    // It changed after a whole window of watching: someone renews it.
                    return Err(LockError::held(
                        &req.namespace,
                        &req.endpoint,
                        &existing,
                        now,
                        Some(window),
                    ));
                }
                Verdict::Unsure(window) => {
                    notify(unsure_message(&req, &existing, now, window));
                    match watch_for_renewal(&api, &name, &existing, window).await {
                        Seen::Unchanged => {
                            watched = true;
                            existing
                        }
                        Seen::Changed(current) => {
                            return Err(LockError::held(
                                &req.namespace,
                                &req.endpoint,
                                &current,
                                Timestamp::now(),
                                Some(window),
                            ));
                        }
                        Seen::Gone => {
                            create = true;
                            continue;
                        }
                    }
                }
            };
            let now = Timestamp::now();
            let next = desired(&req, &settings, &name, Some(&base), now);
            match bounded(api.replace(&name, &PostParams::default(), &next)).await {
                Ok(lease) => {
                    tracing::info!(
                        lease = %format!("{}/{name}", req.namespace),
                        previous = %sanitize(&lease_info(&base, now).holder),
                        "took over an expired or abandoned lease"
                    );
                    return Ok(Self::start(api, req, settings, lease));
                }
                // Another process wrote it since our read: read again and re-evaluate.
                Err(e) if status_code(&e) == Some(409) => create = false,
                Err(e) if status_code(&e) == Some(404) => create = true,
                Err(e) => return Err(LockError::api(what("take over"), &e)),
            }
        }
        Err(LockError::Api {
            what: what("acquire"),
            message: format!("still contended after {MAX_ROUNDS} attempts; try again"),
            code: Some(409),
            retry_after: None,
        })
    }

    fn start(api: Api<Lease>, req: LockRequest, settings: LeaseSettings, lease: Lease) -> Self {
        let inner = Arc::new(Inner::new(api, req, settings.duration, lease));
        let stop = CancellationToken::new();
        let task = tokio::spawn(renew::run(
            inner.clone(),
            stop.clone(),
            settings.renew_every,
        ));
        LeaseLock {
            inner,
            stop,
            task: Some(task),
        }
    }

    /// RV-checked update of the step annotation (and renewTime). On a transient failure the
    /// lock is still held and the next renewal carries the new step.
    pub async fn set_step(&self, step: Step) -> Result<(), LockError> {
        self.inner.set_step(step).await;
        self.inner
            .write("update step of")
            .await
            .map_err(WriteError::into_lock_error)
    }

    /// Cancelled when the lock is lost: a renewal found the lease taken or deleted by someone
    /// else, or no renewal succeeded for longer than the duration.
    pub fn lost(&self) -> CancellationToken {
        self.inner.lost.clone()
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub fn holder(&self) -> &str {
        &self.inner.holder
    }

    /// Stops renewing and deletes the lease with uid + resourceVersion preconditions. A 409
    /// re-reads and retries while the lease is still ours; a lease already gone or taken over is
    /// fine (logged as a warning).
    pub async fn release(mut self) -> Result<(), LockError> {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            // Aborting may cut a renewal short after the server applied it; the precondition
            // 409 below then re-reads the newer version.
            task.abort();
            let _ = task.await;
        }
        let inner = &self.inner;
        let full = format!("{}/{}", inner.namespace, inner.name);
        let mut known = inner.current().await;
        for _ in 0..MAX_ROUNDS {
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: known.metadata.uid.clone(),
                    resource_version: known.metadata.resource_version.clone(),
                }),
                ..DeleteParams::default()
            };
            let err = match bounded(inner.api.delete(&inner.name, &params)).await {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            match status_code(&err) {
                Some(404) => {
                    tracing::warn!(lease = %full, "lease was already gone at release");
                    return Ok(());
                }
                Some(409) => match bounded(inner.api.get_opt(&inner.name)).await {
                    Ok(Some(current)) if inner.is_ours(&current) => known = current,
                    Ok(Some(current)) => {
                        let holder = lease_info(&current, Timestamp::now()).holder;
                        tracing::warn!(
                            lease = %full,
                            holder = %sanitize(&holder),
                            "lease was taken over before release; left to its new holder"
                        );
                        return Ok(());
                    }
                    Ok(None) => {
                        tracing::warn!(lease = %full, "lease was already gone at release");
                        return Ok(());
                    }
                    Err(e) => return Err(LockError::api(format!("read lease {full}"), &e)),
                },
                // Throttled, a server error or no answer: the lease would stay until it
                // expires and show the endpoint as Redeploying meanwhile; try again shortly.
                code if code.is_none_or(|c| c == 429 || c >= 500) => {
                    tracing::warn!(lease = %full, error = %describe_kube_error(&err), "release failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                _ => return Err(LockError::api(format!("delete lease {full}"), &err)),
            }
        }
        Err(LockError::Api {
            what: format!("delete lease {full}"),
            message: format!("still modified concurrently after {MAX_ROUNDS} attempts"),
            code: Some(409),
            retry_after: None,
        })
    }
}

impl Drop for LeaseLock {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A live lease may be taken over only by the recovery of the same operation, and only from a
/// holder on this host whose process is gone.
fn takeover_eligible(req: &LockRequest, existing: &Lease) -> bool {
    let info = lease_info(existing, Timestamp::now());
    req.takeover
        && info.operation_id.as_deref() == Some(req.op_id.as_str())
        && holder_provably_dead(&info.holder)
}

/// The lease as we hold it: on `base` (the version just read, whose resourceVersion makes the
/// replace conditional) or fresh for a create.
fn desired(
    req: &LockRequest,
    settings: &LeaseSettings,
    name: &str,
    base: Option<&Lease>,
    now: Timestamp,
) -> Lease {
    let mut lease = base.cloned().unwrap_or_default();
    let meta = &mut lease.metadata;
    meta.name = Some(name.to_string());
    meta.namespace = Some(req.namespace.clone());
    meta.labels
        .get_or_insert_with(BTreeMap::new)
        .insert(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into());
    let annotations = meta.annotations.get_or_insert_with(BTreeMap::new);
    annotations.insert(LEASE_STEP_ANNOTATION.into(), req.step.name().into());
    annotations.insert(LEASE_OPERATION_ANNOTATION.into(), req.op_id.clone());
    match req.mode {
        Some(mode) => {
            annotations.insert(LEASE_MODE_ANNOTATION.into(), mode_name(mode).into());
        }
        None => {
            annotations.remove(LEASE_MODE_ANNOTATION);
        }
    }
    let transitions = base
        .and_then(|b| b.spec.as_ref())
        .and_then(|s| s.lease_transitions)
        .map_or(0, |t| t.saturating_add(1));
    lease.spec = Some(LeaseSpec {
        holder_identity: Some(req.holder.clone()),
        lease_duration_seconds: Some(duration_secs(settings.duration)),
        acquire_time: Some(MicroTime(now)),
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(transitions),
        ..LeaseSpec::default()
    });
    lease
}

/// Whole seconds, rounded up and at least 1: the server-side expiry is never shorter than the
/// time after which we consider the lock lost.
fn duration_secs(d: Duration) -> i32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    i32::try_from(secs.max(1)).unwrap_or(i32::MAX)
}

/// As `cluster::derive` reads the mode annotation back.
fn mode_name(mode: Mode) -> &'static str {
    mode.as_str()
}
