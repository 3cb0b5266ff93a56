//! The console's redeploy lock as the panes show it: who holds it, at which step, and whether it
//! is still live (renewed within its duration) or left behind by a holder that died.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::Lease;

use crate::cluster::kinds::{LEASE_OPERATION_ANNOTATION, LEASE_STEP_ANNOTATION};
use crate::cluster::model::LeaseInfo;

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
    let live = match (renewed.or(acquired), spec.lease_duration_seconds) {
        (Some(at), Some(secs)) if !holder.is_empty() && secs > 0 => at
            .checked_add(SignedDuration::from_secs(i64::from(secs)))
            .is_ok_and(|until| until > now),
        _ => false,
    };
    LeaseInfo {
        holder,
        step: annotation(LEASE_STEP_ANNOTATION),
        operation_id: annotation(LEASE_OPERATION_ANNOTATION),
        acquired,
        renewed,
        live,
    }
}
