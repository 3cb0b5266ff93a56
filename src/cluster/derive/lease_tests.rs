//! Liveness of a lease from its (untrusted) fields, and the clock tick that retires a lease whose
//! holder died without any watch event.

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

use super::*;
use crate::cluster::derive::{GroupingConfig, derive_endpoints};
use crate::cluster::model::Health;
use crate::cluster::snapshot::Snapshot;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const NOW: &str = "2026-11-01T12:00:00Z";

fn lease(renew: Option<&str>, secs: Option<i32>) -> Lease {
    Lease {
        spec: Some(LeaseSpec {
            holder_identity: Some("alice@ops-1/4242".into()),
            renew_time: renew.map(|r| MicroTime(at(r))),
            lease_duration_seconds: secs,
            ..LeaseSpec::default()
        }),
        ..Lease::default()
    }
}

#[test]
fn a_huge_duration_is_capped_and_said() {
    // Renewed 10 minutes ago with a 68-year duration: dead, not live for ever.
    let l = lease_info(
        &lease(Some("2026-11-01T11:50:00Z"), Some(i32::MAX)),
        at(NOW),
    );
    assert!(!l.live && l.expired(), "{l:?}");
    assert_eq!(l.expires, Some(at("2026-11-01T11:55:00Z")));
    let note = l.note.as_deref().unwrap_or_default();
    assert!(note.contains("capped at 300"), "{note}");
    assert!(expired_reason(&l, at(NOW)).contains(note));
    // Within the cap the duration is believed.
    let l = lease_info(
        &lease(Some("2026-11-01T11:58:00Z"), Some(i32::MAX)),
        at(NOW),
    );
    assert!(l.live, "{l:?}");
}

#[test]
fn absent_or_odd_fields_never_make_a_lease_live() {
    let now = at(NOW);
    for (renew, secs, why) in [
        (None, Some(15), "no renewTime or acquireTime"),
        (
            Some("2026-11-01T11:59:59Z"),
            None,
            "no positive leaseDurationSeconds",
        ),
        (Some("2026-11-01T11:59:59Z"), Some(0), "no positive"),
        (Some("2026-11-01T11:59:59Z"), Some(-5), "no positive"),
        (Some("2100-01-01T00:00:00Z"), Some(15), "in the future"),
    ] {
        let l = lease_info(&lease(renew, secs), now);
        assert!(!l.live && l.expired(), "{renew:?} {secs:?}: {l:?}");
        assert!(l.note.as_deref().unwrap_or_default().contains(why), "{l:?}");
    }
    // Spec absent altogether: nothing held, nothing live, no panic.
    let l = lease_info(&Lease::default(), now);
    assert!(!l.live && !l.expired());
}

fn leases_fixture() -> Snapshot {
    let path = format!(
        "{}/src/cluster/testdata/leases.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    Snapshot::from_list_json(&serde_json::from_str(&text).unwrap()).unwrap()
}

#[test]
fn the_clock_retires_a_dead_holders_lease_without_an_event() {
    let mut eps = derive_endpoints(&leases_fixture(), &GroupingConfig::default(), at(NOW));
    let bge = |eps: &[EndpointView]| {
        eps.iter()
            .find(|e| e.key.name == "bge-reranker")
            .cloned()
            .unwrap()
    };
    assert_eq!(bge(&eps).health, Health::Redeploying);
    assert_eq!(bge(&eps).objects_health, Health::Ready);
    // Still within 30 s of its renewal (11:59:50.1): nothing changes.
    assert!(!expire_leases(&mut eps, at("2026-11-01T12:00:10Z")));
    // Its holder stopped renewing: at 12:00:21 the row shows what its objects say.
    assert!(expire_leases(&mut eps, at("2026-11-01T12:00:21Z")));
    let b = bge(&eps);
    assert_eq!(b.health, Health::Ready);
    let l = b.lease.as_ref().unwrap();
    assert!(!l.live && l.expired());
    assert!(b.reasons[0].starts_with(LEASE_EXPIRED), "{:?}", b.reasons);
    assert!(
        b.reasons[0].contains("verify-deletion") && b.reasons[0].ends_with("renewed 30s ago"),
        "{:?}",
        b.reasons
    );
    assert_eq!(
        b.reasons.len(),
        1,
        "the live reason is gone: {:?}",
        b.reasons
    );
    // Once is enough.
    assert!(!expire_leases(&mut eps, at("2026-11-01T12:00:25Z")));
    // A fresh derivation at that time says the same.
    let again = derive_endpoints(
        &leases_fixture(),
        &GroupingConfig::default(),
        at("2026-11-01T12:00:21Z"),
    );
    assert_eq!(bge(&again).health, b.health);
    assert_eq!(bge(&again).reasons, b.reasons);
}
