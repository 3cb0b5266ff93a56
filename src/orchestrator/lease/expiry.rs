//! Judging someone else's lease by this machine's clock (client-go's rule): a lease expires one
//! duration after the last change this process saw, not at the renewTime its holder's clock
//! wrote. A renewTime close to now is taken at its word (refusing is safe); anything else (too
//! old, far ahead, missing) is watched for the lease's duration before it is taken over.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

use super::{LeaseSettings, LockRequest, holder_provably_dead, takeover_eligible};
use crate::cluster::derive::lease_info;
use crate::cluster::kinds::lease_name;
use crate::text::sanitize;
use crate::util::age::format_age_secs;

/// The longest a lease is watched for a renewal, whatever its `leaseDurationSeconds` claims:
/// this console writes 15 s, and a lease claiming a year must not lock an endpoint for one.
pub const MAX_WINDOW: Duration = Duration::from_secs(30);

/// The window for a lease that names no usable duration.
pub(super) const DEFAULT_WINDOW: Duration = Duration::from_secs(15);

/// How often a watched lease is re-read (to refuse as soon as it is renewed).
const WATCH_POLL: Duration = Duration::from_secs(1);

/// How long a lease stays live after a change seen from here: its `leaseDurationSeconds`, at
/// least 1 s and at most [`MAX_WINDOW`] (`default` when it has none).
pub(super) fn observe_window(lease: &Lease, default: Duration) -> Duration {
    lease
        .spec
        .as_ref()
        .and_then(|s| s.lease_duration_seconds)
        .filter(|&secs| secs > 0)
        .map_or(default, |secs| {
            Duration::from_secs(secs.unsigned_abs().into())
        })
        .clamp(Duration::from_secs(1), MAX_WINDOW)
}

/// What a lease found at acquire time allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Nobody holds it (released), or recovery may take it over: take it.
    Free,
    /// Its holder renewed it recently: refuse.
    Live,
    /// Its renewTime cannot be trusted (older than a window, too far ahead, missing): the
    /// holder may be alive with a skewed clock, or dead. Watch it for the window: a change
    /// means live, none means expired (client-go's rule: expiry is the last change seen by the
    /// observer plus the duration, on the observer's clock).
    Unsure(Duration),
}

/// Judges `lease` for `req` at `now`. A renewTime within a window of `now` either way is taken
/// at its word (live: refusing is safe). Anything else is judged by this machine's clock, by
/// watching, unless the holder is a process on this host that is provably gone.
pub(super) fn judge(
    req: &LockRequest,
    settings: &LeaseSettings,
    lease: &Lease,
    now: Timestamp,
) -> Verdict {
    let info = lease_info(lease, now);
    if info.holder.is_empty() || takeover_eligible(req, lease) {
        return Verdict::Free;
    }
    let window = observe_window(lease, settings.duration);
    let recent = info.renewed.or(info.acquired).is_some_and(|at| {
        let age = now.duration_since(at);
        let w = jiff::SignedDuration::try_from(window).unwrap_or(jiff::SignedDuration::MAX);
        age < w && age > -w
    });
    if recent {
        Verdict::Live
    } else if holder_provably_dead(&info.holder) {
        // Nobody is left to renew it; a dead holder's stale lease needs no watching.
        Verdict::Free
    } else {
        Verdict::Unsure(window)
    }
}

/// The line shown while an untrusted lease is watched.
pub(super) fn unsure_message(
    req: &LockRequest,
    lease: &Lease,
    now: Timestamp,
    window: Duration,
) -> String {
    let info = lease_info(lease, now);
    let at = info.renewed.or(info.acquired);
    let said = match at {
        None => "has no renewTime".to_string(),
        Some(t) if t > now => format!(
            "says it was renewed {} in the future",
            format_age_secs(now.duration_until(t).as_secs())
        ),
        Some(t) => format!(
            "says it was last renewed {} ago",
            format_age_secs(now.duration_since(t).as_secs())
        ),
    };
    format!(
        "lease {}/{} of {} {said} by its holder's clock; waiting {} to see whether {} still renews it (expiry is judged by this machine's clock)",
        req.namespace,
        lease_name(&req.endpoint),
        sanitize(&info.holder),
        format_age_secs(i64::try_from(window.as_secs()).unwrap_or(i64::MAX)),
        sanitize(&info.holder),
    )
}

/// What a watch of a lease saw.
pub(super) enum Seen {
    /// No change for the whole window: expired as seen from here.
    Unchanged,
    /// Changed (renewed, taken over): live.
    Changed(Box<Lease>),
    Gone,
}

/// Re-reads `lease` every [`WATCH_POLL`] for `window` (on this machine's monotonic clock). A
/// read that fails proves nothing either way; the takeover that follows is conditioned on the
/// resourceVersion first seen, so a renewal no read caught still wins.
pub(super) async fn watch_for_renewal(
    api: &Api<Lease>,
    name: &str,
    lease: &Lease,
    window: Duration,
) -> Seen {
    let end = tokio::time::Instant::now() + window;
    let rv = lease.metadata.resource_version.clone();
    loop {
        let now = tokio::time::Instant::now();
        if now >= end {
            return Seen::Unchanged;
        }
        tokio::time::sleep_until((now + WATCH_POLL).min(end)).await;
        let left = end.saturating_duration_since(tokio::time::Instant::now());
        let limit = left.max(Duration::from_millis(100)).min(WATCH_POLL * 5);
        match crate::orchestrator::kapi::within(limit, api.get_opt(name)).await {
            Ok(None) => return Seen::Gone,
            Ok(Some(current)) if current.metadata.resource_version != rv => {
                return Seen::Changed(Box::new(current));
            }
            Ok(Some(_)) | Err(_) => {}
        }
    }
}
