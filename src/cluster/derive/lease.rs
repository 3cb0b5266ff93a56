//! The console's redeploy lock as the panes show it: who holds it, at which step, and whether it
//! is still live (renewed within its duration) or left behind by a holder that died.
//!
//! The lease's fields come from the cluster: an absent renewTime, a huge leaseDurationSeconds or
//! a renewTime in the future must not make a dead operation look alive forever. The duration
//! is capped at [`MAX_LEASE_SECS`] (the console writes 15 s) and a renewTime further ahead than
//! that is not believed; each is said in [`LeaseInfo::note`].

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::Lease;

use crate::cluster::kinds::{LEASE_OPERATION_ANNOTATION, LEASE_STEP_ANNOTATION};
use crate::cluster::model::{EndpointView, LeaseInfo};
use crate::util::age::format_age;

/// The longest leaseDurationSeconds believed (5 minutes; the console's own leases last 15 s).
pub const MAX_LEASE_SECS: i64 = 300;

/// What an expired lease is called wherever it shows (panes, `status`, JSON reasons).
pub const LEASE_EXPIRED: &str = "lease expired (holder gone?)";

/// The lease's holder, step and liveness at `now`. A lease without a holder (released) or
/// without a duration is never live.
pub fn lease_info(lease: &Lease, now: Timestamp) -> LeaseInfo {
    let spec = lease.spec.clone().unwrap_or_default();
    let annotation = |key: &str| {
        lease
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let acquired = spec.acquire_time.map(|t| t.0);
    let renewed = spec.renew_time.map(|t| t.0);
    let holder = spec.holder_identity.unwrap_or_default();
    let (expires, note) = expiry(renewed.or(acquired), spec.lease_duration_seconds, now);
    let mut info = LeaseInfo {
        holder,
        step: annotation(LEASE_STEP_ANNOTATION),
        operation_id: annotation(LEASE_OPERATION_ANNOTATION),
        acquired,
        renewed,
        live: false,
        expires,
        note,
    };
    info.live = info.live_at(now);
    info
}

/// When a lease renewed `at` with `secs` stops being live, and what was wrong with the fields.
fn expiry(
    at: Option<Timestamp>,
    secs: Option<i32>,
    now: Timestamp,
) -> (Option<Timestamp>, Option<String>) {
    let Some(at) = at else {
        return (None, Some("no renewTime or acquireTime".to_string()));
    };
    let Some(secs) = secs.map(i64::from).filter(|s| *s > 0) else {
        return (None, Some("no positive leaseDurationSeconds".to_string()));
    };
    let cap = SignedDuration::from_secs(MAX_LEASE_SECS);
    if now.checked_add(cap).is_ok_and(|limit| at > limit) {
        return (None, Some(format!("renewTime {at} is in the future")));
    }
    let (secs, note) = if secs > MAX_LEASE_SECS {
        let note = format!("leaseDurationSeconds {secs} capped at {MAX_LEASE_SECS}");
        (MAX_LEASE_SECS, Some(note))
    } else {
        (secs, None)
    };
    (at.checked_add(SignedDuration::from_secs(secs)).ok(), note)
}

/// `redeploy by HOLDER at step STEP`, for a live lease's reason.
pub fn live_reason(l: &LeaseInfo) -> String {
    match &l.step {
        Some(step) => format!("redeploy by {} at step {step}", l.holder),
        None => format!("redeploy by {}", l.holder),
    }
}

/// `lease expired (holder gone?): redeploy by HOLDER at step STEP, renewed 13m ago`.
pub fn expired_reason(l: &LeaseInfo, now: Timestamp) -> String {
    let mut s = format!("{LEASE_EXPIRED}: {}", live_reason(l));
    if let Some(at) = l.renewed.or(l.acquired) {
        s.push_str(&format!(", renewed {} ago", format_age(at, now)));
    }
    if let Some(note) = &l.note {
        s.push_str(&format!(" ({note})"));
    }
    s
}

/// Judges the live leases of `views` again at `now` (the TUI's clock tick): one whose holder
/// stopped renewing stops making its endpoint Redeploying, and the endpoint shows what its
/// objects say. Returns whether any row changed.
pub fn expire_leases(views: &mut [EndpointView], now: Timestamp) -> bool {
    let mut changed = false;
    for v in views.iter_mut() {
        let Some(l) = v.lease.as_mut() else {
            continue;
        };
        if !l.live || l.live_at(now) {
            continue;
        }
        l.live = false;
        let was = live_reason(l);
        let now_reason = expired_reason(l, now);
        if v.reasons.first() == Some(&was) {
            v.reasons.remove(0);
        }
        v.reasons.insert(0, now_reason);
        v.health = v.objects_health;
        changed = true;
    }
    changed
}

#[cfg(test)]
#[path = "lease_tests.rs"]
mod tests;
