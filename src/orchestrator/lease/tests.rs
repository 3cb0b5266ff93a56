use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::Api;
use kube::api::{DeleteParams, PostParams};

use super::testsim::{NS, TestSim, within};
use super::*;

pub(super) fn request(endpoint: &str, holder: &str, op: &str, step: Step) -> LockRequest {
    LockRequest {
        namespace: NS.to_string(),
        endpoint: endpoint.to_string(),
        op_id: op.to_string(),
        step,
        mode: Some(Mode::Kserve),
        holder: holder.to_string(),
        takeover: false,
    }
}

/// Short enough that losing the lock shows within a test, long enough for a loaded CI box.
fn short() -> LeaseSettings {
    LeaseSettings {
        duration: Duration::from_secs(2),
        renew_every: Duration::from_millis(200),
    }
}

pub(super) fn leases(sim: &TestSim) -> Api<Lease> {
    Api::namespaced(sim.client.clone(), NS)
}

/// A lease as another console would have left it.
pub(super) fn foreign(
    endpoint: &str,
    holder: &str,
    op: &str,
    acquired_ago: i64,
    renewed_ago: i64,
    transitions: i32,
) -> Lease {
    let now = Timestamp::now();
    let ago = |s: i64| MicroTime(now - SignedDuration::from_secs(s));
    let mut lease = Lease::default();
    lease.metadata.name = Some(lease_name(endpoint));
    lease.metadata.annotations = Some(BTreeMap::from([
        (LEASE_STEP_ANNOTATION.to_string(), "delete".to_string()),
        (LEASE_OPERATION_ANNOTATION.to_string(), op.to_string()),
    ]));
    lease.spec = Some(LeaseSpec {
        holder_identity: Some(holder.to_string()),
        lease_duration_seconds: Some(15),
        acquire_time: Some(ago(acquired_ago)),
        renew_time: Some(ago(renewed_ago)),
        lease_transitions: Some(transitions),
        ..LeaseSpec::default()
    });
    lease
}

pub(super) async fn read(sim: &TestSim, endpoint: &str) -> Option<Lease> {
    leases(sim)
        .get_opt(&lease_name(endpoint))
        .await
        .expect("read lease")
}

/// A pid above the kernel's PID_MAX_LIMIT (2^22): never a running process.
const DEAD_PID: u32 = 4_194_305;

#[test]
fn holder_identity_names_this_process_on_this_host() {
    let id = holder_identity();
    assert_eq!(
        parse_holder(&id),
        Some((this_host().as_str(), std::process::id())),
        "{id}"
    );
    assert!(!holder_provably_dead(&id));
    assert!(holder_provably_dead(&format!(
        "x@{}/{DEAD_PID}",
        this_host()
    )));
    assert!(!holder_provably_dead(&format!("x@elsewhere/{DEAD_PID}")));
    assert!(!holder_provably_dead("not a holder"));
}

#[test]
fn messages_name_everything() {
    let held = LockError::Held {
        namespace: "llm-prod".into(),
        endpoint: "llama".into(),
        holder: "alice@ops-1/4242".into(),
        operation_id: Some("redeploy-1".into()),
        step: Some("delete".into()),
        held_for: Some(Duration::from_secs(42)),
        expires_in: Duration::from_secs(12),
        window: Duration::from_secs(15),
    };
    assert_eq!(
        held.to_string(),
        "llm-prod/llama is locked by alice@ops-1/4242 (operation redeploy-1, step delete, \
         held for 42s; expires in 12s unless renewed). If alice@ops-1/4242 is gone, the lease \
         expires 15s after its last renewal as seen from here: run this again then (it watches \
         the lease for up to 15s and takes it over if nobody renews it); or finish that \
         operation with `llmops-console recover redeploy-1 --resume`"
    );
    let api = LockError::Api {
        what: "create lease llm-prod/llmops-console-x".into(),
        message: "connection refused".into(),
        code: Some(503),
        retry_after: None,
    };
    assert_eq!(
        api.to_string(),
        "create lease llm-prod/llmops-console-x: connection refused (HTTP 503)"
    );
    assert_eq!(duration_secs(Duration::from_millis(1500)), 2);
    assert_eq!(duration_secs(Duration::ZERO), 1);
}

#[tokio::test]
async fn acquire_then_release() {
    let sim = TestSim::start().await;
    let me = holder_identity();
    let req = request("llama", &me, "redeploy-a", Step::Snapshot);
    let lock = LeaseLock::acquire(&sim.client, req, LeaseSettings::default())
        .await
        .expect("acquire");
    assert_eq!(lock.name(), "llmops-console-llama");
    assert_eq!(lock.holder(), me);

    let lease = read(&sim, "llama").await.expect("lease exists");
    let info = lease_info(&lease, Timestamp::now());
    assert_eq!(info.holder, me);
    assert!(info.live);
    assert_eq!(info.step.as_deref(), Some("snapshot"));
    assert_eq!(info.operation_id.as_deref(), Some("redeploy-a"));
    let meta = &lease.metadata;
    assert_eq!(
        meta.annotations.as_ref().unwrap()[LEASE_MODE_ANNOTATION],
        "kserve"
    );
    assert_eq!(
        meta.labels.as_ref().unwrap()[MANAGED_BY_LABEL],
        MANAGED_BY_VALUE
    );
    let spec = lease.spec.unwrap();
    assert_eq!(spec.lease_duration_seconds, Some(15));
    assert_eq!(spec.lease_transitions, Some(0));

    lock.release().await.expect("release");
    assert!(
        read(&sim, "llama").await.is_none(),
        "released lease is gone"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_acquires_have_exactly_one_winner() {
    let sim = TestSim::start().await;
    let (ca, cb) = (sim.client("admin").await, sim.client("admin").await);
    for i in 0..20 {
        let endpoint = format!("race-{i}");
        // Every other round both find an expired lease and race to replace it: only the
        // resourceVersion check keeps the second replace from overwriting the first.
        if i % 2 == 1 {
            let mut old = foreign(&endpoint, "gone@elsewhere/7", "op-0", 120, 60, 0);
            // Expired by its renewTime, so watched for its duration before the race: keep
            // that short.
            old.spec.as_mut().unwrap().lease_duration_seconds = Some(1);
            leases(&sim)
                .create(&PostParams::default(), &old)
                .await
                .expect("create expired lease");
        }
        let a = request(&endpoint, "a@host-a/1", "op-a", Step::Lock);
        let b = request(&endpoint, "b@host-b/2", "op-b", Step::Lock);
        let (ra, rb) = within(
            "two acquires",
            futures::future::join(
                LeaseLock::acquire(&ca, a, LeaseSettings::default()),
                LeaseLock::acquire(&cb, b, LeaseSettings::default()),
            ),
        )
        .await;
        let (winner, err) = match (ra, rb) {
            (Ok(w), Err(e)) | (Err(e), Ok(w)) => (w, e),
            (Ok(_), Ok(_)) => panic!("round {i}: both acquired"),
            (Err(a), Err(b)) => panic!("round {i}: neither acquired: {a}; {b}"),
        };
        match &err {
            LockError::Held { holder, .. } => assert_eq!(holder, winner.holder(), "round {i}"),
            other => panic!("round {i}: expected Held, got {other}"),
        }
        let lease = read(&sim, &endpoint).await.expect("lease");
        assert_eq!(lease_info(&lease, Timestamp::now()).holder, winner.holder());
        winner.release().await.expect("release");
    }
    sim.stop().await;
}

#[tokio::test]
async fn held_names_holder_step_and_age() {
    let sim = TestSim::start().await;
    let other = foreign("llama", "alice@ops-1/4242", "redeploy-1", 42, 3, 0);
    leases(&sim)
        .create(&PostParams::default(), &other)
        .await
        .expect("create foreign lease");
    let req = request("llama", &holder_identity(), "redeploy-2", Step::Lock);
    let err = LeaseLock::acquire(&sim.client, req, LeaseSettings::default())
        .await
        .err()
        .expect("refused");
    let LockError::Held {
        namespace,
        endpoint,
        holder,
        operation_id,
        step,
        held_for,
        expires_in,
        ..
    } = &err
    else {
        panic!("expected Held, got {err}");
    };
    assert_eq!((namespace.as_str(), endpoint.as_str()), (NS, "llama"));
    assert_eq!(holder, "alice@ops-1/4242");
    assert_eq!(operation_id.as_deref(), Some("redeploy-1"));
    assert_eq!(step.as_deref(), Some("delete"));
    let held = held_for.expect("acquireTime known").as_secs();
    assert!((42..45).contains(&held), "held for {held}s");
    assert!((9..=12).contains(&expires_in.as_secs()), "{expires_in:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("test/llama is locked by alice@ops-1/4242 (operation redeploy-1, step delete, held for 4"),
        "{text}"
    );
    // The refused acquire changed nothing.
    let after = read(&sim, "llama").await.expect("still there");
    assert_eq!(
        lease_info(&after, Timestamp::now()).holder,
        "alice@ops-1/4242"
    );
    sim.stop().await;
}

#[tokio::test]
async fn held_by_a_running_lock_shows_its_current_step() {
    let sim = TestSim::start().await;
    let first = request("llama", "a@h/1", "op-a", Step::Snapshot);
    let lock = LeaseLock::acquire(&sim.client, first, LeaseSettings::default())
        .await
        .expect("acquire");
    lock.set_step(Step::VerifyDeletion).await.expect("step");
    let second = request("llama", "b@h/2", "op-b", Step::Lock);
    match LeaseLock::acquire(&sim.client, second, LeaseSettings::default()).await {
        Err(LockError::Held {
            holder,
            step,
            held_for,
            ..
        }) => {
            assert_eq!(holder, "a@h/1");
            assert_eq!(step.as_deref(), Some("verify-deletion"));
            assert!(held_for.expect("age").as_secs() < 5);
        }
        Err(e) => panic!("expected Held, got {e}"),
        Ok(_) => panic!("second acquire succeeded"),
    }
    lock.release().await.expect("release");
    sim.stop().await;
}

#[tokio::test]
async fn expired_lease_is_taken_over() {
    let sim = TestSim::start().await;
    let mut old = foreign("llama", "gone@elsewhere/7", "redeploy-0", 120, 60, 3);
    old.spec.as_mut().unwrap().lease_duration_seconds = Some(2);
    leases(&sim)
        .create(&PostParams::default(), &old)
        .await
        .expect("create expired lease");
    let me = holder_identity();
    let req = request("llama", &me, "redeploy-1", Step::Lock);
    let started = std::time::Instant::now();
    let lock = LeaseLock::acquire(&sim.client, req, LeaseSettings::default())
        .await
        .expect("takes over an expired lease");
    // Expired by its renewTime, but judged by this clock: watched for its 2 s first.
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "taken over after {:?}, before its duration was watched",
        started.elapsed()
    );
    let lease = read(&sim, "llama").await.expect("lease");
    let info = lease_info(&lease, Timestamp::now());
    assert_eq!(info.holder, me);
    assert!(info.live);
    assert_eq!(info.operation_id.as_deref(), Some("redeploy-1"));
    assert_eq!(info.step.as_deref(), Some("lock"));
    let age = Timestamp::now().duration_since(info.acquired.expect("acquireTime"));
    assert!(age.as_secs() < 5, "acquireTime is fresh: {age:?}");
    assert_eq!(lease.spec.unwrap().lease_transitions, Some(4));
    lock.release().await.expect("release");
    sim.stop().await;
}

/// Recovery may take over a live lease only for its own operation, from a dead holder here.
#[tokio::test]
async fn takeover_needs_same_operation_and_a_dead_holder_on_this_host() {
    let sim = TestSim::start().await;
    let host = this_host();
    let dead = format!("x@{host}/{DEAD_PID}");
    let alive = format!("x@{host}/{}", std::process::id());
    let dead_elsewhere = format!("x@not-{host}/{DEAD_PID}");
    let refused = [
        ("live-pid", alive.as_str(), "op-1", true),
        ("other-op", dead.as_str(), "op-2", true),
        ("other-host", dead_elsewhere.as_str(), "op-1", true),
        ("no-takeover", dead.as_str(), "op-1", false),
    ];
    for (endpoint, holder, op, takeover) in refused {
        let lease = foreign(endpoint, holder, "op-1", 10, 1, 0);
        leases(&sim)
            .create(&PostParams::default(), &lease)
            .await
            .expect("create");
        let mut req = request(endpoint, &holder_identity(), op, Step::Lock);
        req.takeover = takeover;
        match LeaseLock::acquire(&sim.client, req, LeaseSettings::default()).await {
            Err(LockError::Held { holder: h, .. }) => assert_eq!(h, holder, "{endpoint}"),
            Err(e) => panic!("{endpoint}: expected Held, got {e}"),
            Ok(_) => panic!("{endpoint}: took over a lease it must not"),
        }
    }

    let lease = foreign("recover", &dead, "op-1", 10, 1, 2);
    leases(&sim)
        .create(&PostParams::default(), &lease)
        .await
        .expect("create");
    let mut req = request("recover", &holder_identity(), "op-1", Step::Rollback);
    req.takeover = true;
    let lock = LeaseLock::acquire(&sim.client, req, LeaseSettings::default())
        .await
        .expect("recovery takes over from a dead holder");
    let lease = read(&sim, "recover").await.expect("lease");
    assert_eq!(
        lease_info(&lease, Timestamp::now()).holder,
        holder_identity()
    );
    assert_eq!(lease.spec.unwrap().lease_transitions, Some(3));
    lock.release().await.expect("release");
    sim.stop().await;
}

#[tokio::test]
async fn set_step_shows_through_lease_info() {
    let sim = TestSim::start().await;
    let req = request("llama", &holder_identity(), "op-1", Step::Lock);
    let lock = LeaseLock::acquire(&sim.client, req, LeaseSettings::default())
        .await
        .expect("acquire");
    for step in [Step::Delete, Step::VerifyDeletion, Step::Create] {
        lock.set_step(step).await.expect("set_step");
        let lease = read(&sim, "llama").await.expect("lease");
        let info = lease_info(&lease, Timestamp::now());
        assert_eq!(info.step.as_deref(), Some(step.name()));
        assert!(info.live);
    }
    assert!(!lock.lost().is_cancelled());
    lock.release().await.expect("release");
    sim.stop().await;
}

#[tokio::test]
async fn overwritten_lease_fires_lost_and_release_leaves_it_alone() {
    let sim = TestSim::start().await;
    let req = request("llama", &holder_identity(), "op-1", Step::Delete);
    let lock = LeaseLock::acquire(&sim.client, req, short())
        .await
        .expect("acquire");
    let lost = lock.lost();
    let mut lease = read(&sim, "llama").await.expect("lease");
    lease.spec.as_mut().unwrap().holder_identity = Some("intruder@x/1".into());
    leases(&sim)
        .replace(&lease_name("llama"), &PostParams::default(), &lease)
        .await
        .expect("overwrite");
    // A couple of renew intervals, with slack for a loaded machine.
    tokio::time::timeout(Duration::from_millis(1500), lost.cancelled())
        .await
        .expect("lost fires after the lease was overwritten");
    let err = lock
        .set_step(Step::Create)
        .await
        .expect_err("no longer ours");
    assert!(err.to_string().contains("intruder@x/1"), "{err}");
    lock.release()
        .await
        .expect("release of a lost lock is fine");
    let after = read(&sim, "llama").await.expect("intruder's lease stays");
    assert_eq!(lease_info(&after, Timestamp::now()).holder, "intruder@x/1");
    sim.stop().await;
}

#[tokio::test]
async fn deleted_lease_fires_lost() {
    let sim = TestSim::start().await;
    let req = request("llama", &holder_identity(), "op-1", Step::Delete);
    let lock = LeaseLock::acquire(&sim.client, req, short())
        .await
        .expect("acquire");
    leases(&sim)
        .delete(&lease_name("llama"), &DeleteParams::default())
        .await
        .expect("delete");
    tokio::time::timeout(Duration::from_millis(1500), lock.lost().cancelled())
        .await
        .expect("lost fires after the lease was deleted");
    lock.release().await.expect("release");
    assert!(read(&sim, "llama").await.is_none(), "not recreated");
    sim.stop().await;
}

/// Renewals keep going through a few failed requests: the lease is lost only after a whole
/// duration without success.
#[tokio::test]
async fn transient_renewal_errors_keep_the_lock() {
    let sim = TestSim::start().await;
    // The client has no retry layer of its own: each failed renewal is retried by the renewal
    // loop a quarter interval later; a duration of 5 s leaves room for slow CI.
    let settings = LeaseSettings {
        duration: Duration::from_secs(5),
        renew_every: Duration::from_millis(200),
    };
    for code in [500, 429] {
        let endpoint = format!("flaky-{code}");
        let req = request(&endpoint, &holder_identity(), "op-1", Step::Delete);
        let lock = LeaseLock::acquire(&sim.client, req, settings)
            .await
            .expect("acquire");
        sim.inject("update", "leases", code, 2).await;
        let before = read(&sim, &endpoint).await.expect("lease");
        within("faults used up", async {
            while sim.pending_errors().await > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        // Then renewals succeed again: the resourceVersion moves on.
        within("a renewal after the faults", async {
            loop {
                let now = read(&sim, &endpoint).await.expect("lease");
                if now.metadata.resource_version != before.metadata.resource_version
                    && lease_info(&now, Timestamp::now()).live
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!lock.lost().is_cancelled(), "{code} must not lose the lock");
        lock.set_step(Step::Create).await.expect("still ours");
        lock.release().await.expect("release");
    }
    sim.stop().await;
}

#[tokio::test]
async fn no_successful_renewal_for_a_duration_fires_lost() {
    let sim = TestSim::start().await;
    let req = request("llama", &holder_identity(), "op-1", Step::Delete);
    let started = tokio::time::Instant::now();
    let lock = LeaseLock::acquire(&sim.client, req, short())
        .await
        .expect("acquire");
    sim.inject("update", "leases", 500, 10_000).await;
    within("lost after the duration", lock.lost().cancelled()).await;
    let after = started.elapsed();
    assert!(
        after >= Duration::from_millis(1900) && after < Duration::from_secs(5),
        "lost after {after:?}"
    );
    sim.admin(reqwest::Method::DELETE, "faults/errors", None)
        .await;
    lock.release().await.expect("release");
    sim.stop().await;
}

#[tokio::test]
async fn dropping_the_lock_stops_renewing() {
    let sim = TestSim::start().await;
    let req = request("llama", &holder_identity(), "op-1", Step::Delete);
    let lock = LeaseLock::acquire(&sim.client, req, short())
        .await
        .expect("acquire");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let renewed = read(&sim, "llama")
        .await
        .expect("lease")
        .metadata
        .resource_version;
    drop(lock);
    let dropped = read(&sim, "llama")
        .await
        .expect("lease")
        .metadata
        .resource_version;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let later = read(&sim, "llama")
        .await
        .expect("lease stays until it expires");
    assert_eq!(later.metadata.resource_version, dropped);
    assert!(renewed.is_some());
    sim.stop().await;
}

/// A write by someone else that keeps our holder and operation (an admin adding a label) makes
/// the release's precondition fail once; it re-reads and still deletes.
#[tokio::test]
async fn release_retries_when_the_lease_changed_but_is_still_ours() {
    let sim = TestSim::start().await;
    let req = request("llama", &holder_identity(), "op-1", Step::Finish);
    let lock = LeaseLock::acquire(&sim.client, req, LeaseSettings::default())
        .await
        .expect("acquire");
    let mut lease = read(&sim, "llama").await.expect("lease");
    lease
        .metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert("touched".into(), "yes".into());
    leases(&sim)
        .replace(&lease_name("llama"), &PostParams::default(), &lease)
        .await
        .expect("touch");
    lock.release().await.expect("release");
    assert!(read(&sim, "llama").await.is_none(), "deleted after re-read");
    sim.stop().await;
}
