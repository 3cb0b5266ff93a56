use std::time::Duration;

use serde_json::json;

use super::*;
use crate::sim::faults::ControllerState;
use crate::sim::kinds::{CONFIGMAPS, REPLICASETS};
use crate::sim::store::ChangeKind;

#[tokio::test]
async fn background_deletion_removes_the_owner_then_the_collector_its_dependents() {
    let sim = Sim::start();
    available_deployment(&sim, "web", 2).await;
    let out = sim.delete(&DEPLOYMENTS, "web", Some(Propagation::Background));
    assert!(matches!(out, DeleteOutcome::Removed(_)));
    assert!(sim.get(&DEPLOYMENTS, "web").is_none());
    sim.wait("replicaset and pods collected", TIMEOUT, |s| {
        (s.list(&REPLICASETS).is_empty() && s.list(&PODS).is_empty()).then_some(())
    })
    .await;
}

#[tokio::test]
async fn foreground_deletion_removes_dependents_before_the_owner() {
    let sim = Sim::start();
    available_deployment(&sim, "web", 2).await;
    let mut rx = sim.store().subscribe();
    let DeleteOutcome::Terminating(d) =
        sim.delete(&DEPLOYMENTS, "web", Some(Propagation::Foreground))
    else {
        panic!("foreground deletion keeps the owner until its dependents are gone");
    };
    assert_eq!(meta::finalizers(&d), vec!["foregroundDeletion".to_string()]);
    sim.wait("the deployment to be gone", TIMEOUT, |s| {
        s.get(&DEPLOYMENTS, "web").is_none().then_some(())
    })
    .await;
    let mut deleted = Vec::new();
    while let Ok(c) = rx.try_recv() {
        if c.kind == ChangeKind::Deleted {
            deleted.push(c.rt.kind);
        }
    }
    assert_eq!(deleted, ["Pod", "Pod", "ReplicaSet", "Deployment"]);
    assert!(sim.list(&REPLICASETS).is_empty());
    assert!(sim.list(&PODS).is_empty());
}

#[tokio::test]
async fn orphan_deletion_leaves_the_replicaset_without_owner() {
    let sim = Sim::start();
    available_deployment(&sim, "web", 2).await;
    let DeleteOutcome::Terminating(d) = sim.delete(&DEPLOYMENTS, "web", Some(Propagation::Orphan))
    else {
        panic!("orphan deletion goes through the orphan finalizer");
    };
    assert_eq!(meta::finalizers(&d), vec!["orphan".to_string()]);
    sim.wait("the deployment to be gone", TIMEOUT, |s| {
        s.get(&DEPLOYMENTS, "web").is_none().then_some(())
    })
    .await;
    sim.holds(
        "the replicaset and its pods survive",
        Duration::from_millis(500),
        |s| {
            let rss = s.list(&REPLICASETS);
            rss.len() == 1
                && meta::owner_references(&rss[0]).is_empty()
                && s.owned_by(&PODS, meta::uid(&rss[0])).len() == 2
                && active(&s.list(&PODS)).len() == 2
        },
    )
    .await;
}

#[tokio::test]
async fn collector_down_collects_nothing_until_up() {
    let sim = Sim::start();
    available_deployment(&sim, "web", 1).await;
    sim.set_controllers(|c| c.garbage_collector = ControllerState::Down);
    tokio::time::sleep(Duration::from_millis(300)).await;
    sim.delete(&DEPLOYMENTS, "web", None);
    sim.holds(
        "dependents stay while down",
        Duration::from_millis(500),
        |s| s.list(&REPLICASETS).len() == 1 && active(&s.list(&PODS)).len() == 1,
    )
    .await;
    sim.set_controllers(|c| c.garbage_collector = ControllerState::Up);
    sim.wait("collected after coming back", TIMEOUT, |s| {
        (s.list(&REPLICASETS).is_empty() && s.list(&PODS).is_empty()).then_some(())
    })
    .await;
}

#[tokio::test]
async fn policy_finalizers_on_objects_without_dependents_are_removed() {
    let sim = Sim::start();
    for (name, policy) in [("fg", Propagation::Foreground), ("or", Propagation::Orphan)] {
        sim.create(
            &CONFIGMAPS,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}),
        );
        assert!(matches!(
            sim.delete(&CONFIGMAPS, name, Some(policy)),
            DeleteOutcome::Terminating(_)
        ));
    }
    sim.wait("both gone", TIMEOUT, |s| {
        (s.get(&CONFIGMAPS, "fg").is_none() && s.get(&CONFIGMAPS, "or").is_none()).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_recreated_deployment_adopts_the_orphaned_replicaset_and_its_pods() {
    let sim = Sim::start();
    available_deployment(&sim, "web", 2).await;
    let pods_before = pod_names(&sim);
    sim.delete(&DEPLOYMENTS, "web", Some(Propagation::Orphan));
    sim.wait("orphaned", TIMEOUT, |s| {
        let rss = s.list(&REPLICASETS);
        (s.get(&DEPLOYMENTS, "web").is_none()
            && rss.len() == 1
            && meta::owner_references(&rss[0]).is_empty())
        .then_some(())
    })
    .await;
    let d = available_deployment(&sim, "web", 2).await;
    let rss = sim.owned_by(&REPLICASETS, meta::uid(&d));
    assert_eq!(rss.len(), 1, "the orphan was adopted, not replaced");
    assert_eq!(sim.list(&REPLICASETS).len(), 1);
    assert_eq!(pod_names(&sim), pods_before);

    // Orphaning the ReplicaSet: the Deployment makes it again and that one adopts the pods.
    let old_rs_uid = meta::uid(&rss[0]).to_string();
    sim.delete(&REPLICASETS, meta::name(&rss[0]), Some(Propagation::Orphan));
    sim.wait("a new replicaset owning the old pods", TIMEOUT, |s| {
        let rss = s.list(&REPLICASETS);
        let new = rss.iter().find(|r| meta::uid(r) != old_rs_uid)?;
        (s.owned_by(&PODS, meta::uid(new)).len() == 2 && new["status"]["readyReplicas"] == 2)
            .then_some(())
    })
    .await;
    assert_eq!(pod_names(&sim), pods_before);
}
