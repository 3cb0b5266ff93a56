//! Expiry judged by this machine's clock: a live holder with a skewed clock keeps its lease, a
//! renewTime in 2099 expires one duration after it was first seen (issue 8, case 8).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::PostParams;

use super::tests::{foreign, leases, read, request};
use super::testsim::{TestSim, within};
use super::*;

/// Renews `endpoint`'s lease every `every` until `stop`, stamping renewTime with a clock that is
/// `skew` off (negative: behind), as a live holder on a badly set machine does.
fn skewed_renewer(
    sim: &TestSim,
    endpoint: &str,
    skew: SignedDuration,
    every: Duration,
    stop: tokio_util::sync::CancellationToken,
) -> tokio::task::JoinHandle<u32> {
    let api = leases(sim);
    let name = lease_name(endpoint);
    tokio::spawn(async move {
        let mut renewals = 0;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return renewals,
                _ = tokio::time::sleep(every) => {}
            }
            let Ok(Some(mut lease)) = api.get_opt(&name).await else {
                continue;
            };
            if lease
                .spec
                .as_ref()
                .and_then(|s| s.holder_identity.as_deref())
                != Some("skewed@far/42")
            {
                return renewals;
            }
            lease.spec.as_mut().unwrap().renew_time = Some(MicroTime(Timestamp::now() + skew));
            if api
                .replace(&name, &PostParams::default(), &lease)
                .await
                .is_ok()
            {
                renewals += 1;
            }
        }
    })
}

/// Issue 8, case 8: a live holder whose clock is 10 minutes behind writes renewTimes that look
/// expired; it renews every second, so this console must see the change and refuse.
#[tokio::test]
async fn a_live_holder_with_a_skewed_clock_is_not_taken_over() {
    let sim = TestSim::start().await;
    let lease = foreign("skewed", "skewed@far/42", "redeploy-9", 700, 600, 0);
    leases(&sim)
        .create(&PostParams::default(), &lease)
        .await
        .expect("create");
    let stop = tokio_util::sync::CancellationToken::new();
    let renewer = skewed_renewer(
        &sim,
        "skewed",
        SignedDuration::from_mins(-10),
        Duration::from_secs(1),
        stop.clone(),
    );
    let said = std::sync::Mutex::new(Vec::<String>::new());
    let req = request("skewed", &holder_identity(), "redeploy-10", Step::Lock);
    let notify = |m: String| said.lock().unwrap().push(m);
    let got = within(
        "acquire",
        LeaseLock::acquire_with(&sim.client, req, LeaseSettings::default(), &notify),
    )
    .await;
    stop.cancel();
    let renewals = renewer.await.expect("renewer");
    match got {
        Err(LockError::Held { holder, window, .. }) => {
            assert_eq!(holder, "skewed@far/42");
            assert_eq!(window, Duration::from_secs(15));
        }
        Err(e) => panic!("expected Held, got {e}"),
        Ok(_) => panic!("took over the lease of a live holder whose clock is behind"),
    }
    assert!(renewals >= 1, "the holder renewed while watched");
    let said = said.lock().unwrap().join("\n");
    assert!(
        said.contains("skewed@far/42 says it was last renewed 10m")
            && said.contains("waiting 15s to see whether skewed@far/42 still renews"),
        "{said}"
    );
    let after = read(&sim, "skewed").await.expect("lease stays");
    assert_eq!(lease_info(&after, Timestamp::now()).holder, "skewed@far/42");
    sim.stop().await;
}

/// Issue 8, case 8: a renewTime in 2099 with nobody renewing is not a 70-year lock: it counts
/// as changed when first seen here, and expires one duration (15 s) later.
#[tokio::test]
async fn a_renew_time_in_2099_expires_one_duration_after_it_was_seen() {
    let sim = TestSim::start().await;
    let mut lease = foreign("future", "ahead@far/43", "redeploy-11", 10, 0, 0);
    let spec = lease.spec.as_mut().unwrap();
    let y2099: Timestamp = "2099-01-01T00:00:00Z".parse().unwrap();
    spec.renew_time = Some(MicroTime(y2099));
    spec.acquire_time = Some(MicroTime(y2099));
    leases(&sim)
        .create(&PostParams::default(), &lease)
        .await
        .expect("create");
    let said = std::sync::Mutex::new(Vec::<String>::new());
    let notify = |m: String| said.lock().unwrap().push(m);
    let me = holder_identity();
    let req = request("future", &me, "redeploy-12", Step::Lock);
    let started = std::time::Instant::now();
    let lock = within(
        "acquire",
        LeaseLock::acquire_with(&sim.client, req, LeaseSettings::default(), &notify),
    )
    .await
    .expect("taken over once nobody renewed it for a duration");
    let waited = started.elapsed();
    println!("a renewTime in 2099 was taken over after {waited:?}");
    assert!(
        waited >= Duration::from_millis(14_900),
        "taken over after {waited:?}: before a whole duration was watched"
    );
    let said = said.lock().unwrap().join("\n");
    assert!(
        said.contains("in the future by its holder's clock"),
        "{said}"
    );
    let after = read(&sim, "future").await.expect("lease");
    assert_eq!(lease_info(&after, Timestamp::now()).holder, me);
    lock.release().await.expect("release");
    sim.stop().await;
}

/// A leaseDurationSeconds of a year is watched for at most [`MAX_WINDOW`].
#[test]
fn windows_are_capped() {
    let mut l = foreign("x", "h@h/1", "op", 0, 0, 0);
    assert_eq!(observe_window(&l, DEFAULT_WINDOW), Duration::from_secs(15));
    l.spec.as_mut().unwrap().lease_duration_seconds = Some(31_536_000);
    assert_eq!(observe_window(&l, DEFAULT_WINDOW), MAX_WINDOW);
    l.spec.as_mut().unwrap().lease_duration_seconds = Some(0);
    assert_eq!(observe_window(&l, DEFAULT_WINDOW), DEFAULT_WINDOW);
}
