//! Numbers for the large fleet (1,000 endpoints, 5,000 pods): time to sync every watch, requests
//! it took, cost of a snapshot and of a full derivation. Ignored by default because loading the
//! scenario takes a while; run with
//! `cargo test --release --test cluster_scale -- --ignored --nocapture`.

mod cluster_support;

use std::time::{Duration, Instant};

use cluster_support::*;
use llmops_console::cluster::model::Health;
use llmops_console::cluster::{ClusterWatch, GroupingConfig, Scope, WatchConfig, derive_endpoints};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: loads the 5,000-pod large-fleet scenario; run with --ignored for the numbers"]
async fn large_fleet_syncs_and_derives() {
    let sim = start("large-fleet").await;
    reader(&sim, "console").await;
    eventually("large fleet Ready", Duration::from_secs(240), || async {
        sim_settled(&sim).then_some(())
    })
    .await;
    let (client, _) = client_for(&sim, "console", Scope::All).await;
    let (_, mark) = audit_since(&sim, 0).await;
    let t0 = Instant::now();
    let (watch, _rx) = ClusterWatch::start(client, &Scope::All, WatchConfig::default());
    eventually("watches settled", Duration::from_secs(120), || async {
        watch.settled().then_some(())
    })
    .await;
    let sync = t0.elapsed();
    let (entries, _) = audit_since(&sim, mark).await;
    let ours: Vec<_> = entries.iter().filter(|e| e["user"] == "console").collect();
    let lists = ours.iter().filter(|e| e["verb"] == "list").count();

    let t = Instant::now();
    let snap = watch.snapshot();
    let first_snapshot = t.elapsed();
    let t = Instant::now();
    let again = watch.snapshot();
    let cached_snapshot = t.elapsed();
    assert!(
        std::sync::Arc::ptr_eq(&snap.pods, &again.pods),
        "unchanged kinds are reused"
    );

    let t = Instant::now();
    let eps = derive_endpoints(&snap, &GroupingConfig::default(), jiff::Timestamp::now());
    let derive = t.elapsed();
    assert_eq!(eps.len(), 1_000);
    assert!(eps.iter().all(|e| e.health == Health::Ready));
    println!(
        "large-fleet: {} pods; all watches live in {sync:?} with {lists} list pages; \
         snapshot {first_snapshot:?} (cached {cached_snapshot:?}); derive 1,000 endpoints {derive:?}",
        snap.pods.len()
    );
    watch.shutdown().await;
    sim.shutdown().await;
}
