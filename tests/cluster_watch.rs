//! The watches against the in-process simulator: they sync, their notices coalesce, they are
//! silent at idle (proved with the audit log), they survive dropped streams and compaction, and
//! an RBAC-forbidden kind is a notice, not a crash.

mod cluster_support;

use std::collections::BTreeSet;
use std::time::Duration;

use cluster_support::*;
use llmops_console::cluster::model::{Health, Kind, WatchKind, WatchState};
use llmops_console::cluster::{
    ClusterNotice, ClusterWatch, EventQuery, GroupingConfig, Scope, WatchConfig, derive_endpoints,
};
use llmops_console::sim::kinds::SERVICES;
use llmops_console::sim::store::WriteOptions;
use tokio::sync::mpsc;

/// Reads notices until every watch is settled and its notices are in; returns them.
async fn until_settled(
    watch: &ClusterWatch,
    rx: &mut mpsc::Receiver<ClusterNotice>,
) -> Vec<ClusterNotice> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !watch.settled() {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(n)) => seen.push(n),
            Ok(None) => panic!("notice channel closed"),
            Err(_) => panic!("watches not settled in 30s: {:?}", watch.watch_states()),
        }
    }
    // States change before their (coalesced) notices go out: collect those too.
    seen.extend(drain(rx, Duration::from_millis(300)).await);
    seen
}

/// Drains notices for `d`.
async fn drain(rx: &mut mpsc::Receiver<ClusterNotice>, d: Duration) -> Vec<ClusterNotice> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + d;
    while let Ok(Some(n)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        out.push(n);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_sync_and_many_changes_make_few_notices() {
    let sim = start("healthy").await;
    eventually("healthy fleet Ready", Duration::from_secs(30), || async {
        sim_settled(&sim).then_some(())
    })
    .await;
    let (client, _) = client_for(&sim, "admin", Scope::All).await;
    let (watch, mut rx) = ClusterWatch::start(client, &Scope::All, WatchConfig::default());
    let first = until_settled(&watch, &mut rx).await;
    assert!(
        watch
            .watch_states()
            .values()
            .all(|s| *s == WatchState::Live),
        "{:?}",
        watch.watch_states()
    );
    // Nine kinds synced: nine Live notices, and the changes folded into few Changed notices.
    let live = first
        .iter()
        .filter(|n| matches!(n, ClusterNotice::WatchState(_, WatchState::Live)))
        .count();
    assert_eq!(live, 9, "{first:?}");

    let eps = derive_endpoints(
        &watch.snapshot(),
        &GroupingConfig::default(),
        jiff::Timestamp::now(),
    );
    assert_eq!(
        eps.len(),
        8,
        "{:?}",
        eps.iter().map(|e| &e.key).collect::<Vec<_>>()
    );
    for e in &eps {
        assert_eq!(e.health, Health::Ready, "{}: {:?}", e.key.name, e.reasons);
        assert!(e.ready >= 1 && e.ready == e.desired, "{:?}", e.key);
    }
    // Events arrive too. The simulator's warm start records none for the initial fleet (they
    // would have aged out on a cluster up for a while), so record one as a controller would.
    let llama = eps
        .iter()
        .find(|e| e.key.name == "llama-3-8b-instruct" && e.key.namespace == "llm-prod")
        .unwrap();
    let deploy_node = &llama.resources[0].children[0];
    let deploy_query = EventQuery::Object {
        uid: deploy_node.uid.clone(),
        kind: deploy_node.kind.name().to_string(),
        namespace: deploy_node.namespace.clone(),
        name: deploy_node.name.clone(),
    };
    let deploy = sim
        .ctx
        .store
        .get(
            &llmops_console::sim::kinds::DEPLOYMENTS,
            "llm-prod",
            "llama-3-8b-instruct-predictor",
        )
        .unwrap();
    llmops_console::sim::controllers::events::record_event(
        &sim.ctx.store,
        &deploy,
        "Normal",
        "ScalingReplicaSet",
        "Scaled up replica set llama-3-8b-instruct-predictor-x to 2",
        "deployment-controller",
    )
    .unwrap();
    eventually(
        "events for the predictor",
        Duration::from_secs(10),
        || async { (!watch.events_for(&deploy_query).is_empty()).then_some(()) },
    )
    .await;
    let manifest = watch
        .object_json(Kind::InferenceService, "llm-prod", "llama-3-8b-instruct")
        .unwrap();
    assert_eq!(manifest["kind"], "InferenceService");
    assert!(manifest["metadata"].get("managedFields").is_none());
    let svc = watch
        .object_json(Kind::Service, "llm-prod", "bge-reranker")
        .unwrap();
    assert_eq!(
        (svc["apiVersion"].as_str(), svc["kind"].as_str()),
        (Some("v1"), Some("Service"))
    );

    // 200 changes as fast as the store takes them.
    drain(&mut rx, Duration::from_millis(300)).await;
    let opts = WriteOptions::default();
    for i in 0..200 {
        sim.ctx
            .store
            .patch(&SERVICES, "llm-prod", "bge-reranker", &opts, |old| {
                let mut new = old.clone();
                new["metadata"]["annotations"]["test/counter"] = serde_json::json!(i.to_string());
                Ok(new)
            })
            .unwrap();
    }
    let notices = drain(&mut rx, Duration::from_secs(1)).await;
    let changed: Vec<&BTreeSet<WatchKind>> = notices
        .iter()
        .filter_map(|n| match n {
            ClusterNotice::Changed(k) => Some(k),
            _ => None,
        })
        .collect();
    assert!(
        !changed.is_empty() && changed.len() <= 10,
        "200 changes gave {} notices: {notices:?}",
        changed.len()
    );
    assert!(
        changed
            .iter()
            .all(|k| k.contains(&WatchKind::Resource(Kind::Service)))
    );
    let svc = watch
        .object_json(Kind::Service, "llm-prod", "bge-reranker")
        .unwrap();
    assert_eq!(svc["metadata"]["annotations"]["test/counter"], "199");
    println!("200 changes -> {} Changed notice(s)", changed.len());
    watch.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_idle_the_console_sends_no_list_or_get() {
    let sim = start("healthy").await;
    reader(&sim, "console").await;
    eventually("healthy fleet Ready", Duration::from_secs(30), || async {
        sim_settled(&sim).then_some(())
    })
    .await;
    let (client, _) = client_for(&sim, "console", Scope::All).await;
    let (watch, mut rx) = ClusterWatch::start(client, &Scope::All, WatchConfig::default());
    until_settled(&watch, &mut rx).await;
    // Let the initial watch requests land before the mark.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (startup, mark) = audit_since(&sim, 0).await;
    let verb_count = |entries: &[serde_json::Value], verb: &str| {
        entries
            .iter()
            .filter(|e| e["user"] == "console" && e["verb"] == verb)
            .count()
    };
    let lists = verb_count(&startup, "list");
    assert_eq!(lists, 9, "one list per kind: {startup:#?}");

    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(watch.snapshot().pods.len() >= 8);
    let (after, _) = audit_since(&sim, mark).await;
    let polling: Vec<_> = after
        .iter()
        .filter(|e| e["user"] == "console" && e["verb"] != "watch")
        .collect();
    assert!(
        polling.is_empty(),
        "requests other than watch at idle: {polling:#?}"
    );
    // Nine watches in all, none re-established: nothing broke while idle.
    let watches = verb_count(&startup, "watch") + verb_count(&after, "watch");
    assert_eq!(watches, 9, "{startup:#?}\n{after:#?}");
    println!(
        "startup: {lists} lists + {watches} watches; 3 s idle: {} requests",
        after.iter().filter(|e| e["user"] == "console").count()
    );
    watch.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_streams_resume_and_compaction_relists() {
    let sim = start("healthy").await;
    let (client, _) = client_for(&sim, "admin", Scope::Namespace("llm-prod".into())).await;
    let scope = Scope::Namespace("llm-prod".into());
    let (watch, mut rx) = ClusterWatch::start(client, &scope, WatchConfig::default());
    until_settled(&watch, &mut rx).await;
    let snap = watch.snapshot();
    assert!(
        snap.deployments
            .iter()
            .all(|d| d.metadata.namespace.as_deref() == Some("llm-prod")),
        "namespaced scope"
    );

    // A clean end of every stream: re-watched from the last resourceVersion, no notice.
    let (_, mark) = audit_since(&sim, 0).await;
    admin_post(&sim, "watches/drop").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let set = |v: &str| {
        let v = v.to_string();
        move |old: &serde_json::Value| {
            let mut new = old.clone();
            new["metadata"]["labels"]["test/step"] = serde_json::json!(v);
            Ok(new)
        }
    };
    let opts = WriteOptions::default();
    sim.ctx
        .store
        .patch(
            &SERVICES,
            "llm-prod",
            "bge-reranker",
            &opts,
            set("after-drop"),
        )
        .unwrap();
    eventually(
        "change after a dropped stream",
        Duration::from_secs(10),
        || async {
            let svc = watch.object_json(Kind::Service, "llm-prod", "bge-reranker")?;
            (svc["metadata"]["labels"]["test/step"] == "after-drop").then_some(())
        },
    )
    .await;
    let (after, _) = audit_since(&sim, mark).await;
    assert!(
        after.iter().all(|e| e["verb"] == "watch"),
        "a dropped stream is resumed with a watch, not a list: {after:#?}"
    );

    // Compaction: resuming gets 410 Gone; the watch reports it and lists again.
    drain(&mut rx, Duration::from_millis(200)).await;
    admin_post(&sim, "compact").await;
    admin_post(&sim, "watches/drop").await;
    sim.ctx
        .store
        .patch(
            &SERVICES,
            "llm-prod",
            "bge-reranker",
            &opts,
            set("after-compact"),
        )
        .unwrap();
    eventually(
        "change after compaction",
        Duration::from_secs(20),
        || async {
            let svc = watch.object_json(Kind::Service, "llm-prod", "bge-reranker")?;
            (svc["metadata"]["labels"]["test/step"] == "after-compact" && watch.settled())
                .then_some(())
        },
    )
    .await;
    let notices = drain(&mut rx, Duration::from_millis(300)).await;
    println!("after compaction: {notices:?}");
    assert!(
        watch
            .watch_states()
            .values()
            .all(|s| *s == WatchState::Live)
    );
    watch.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_kind_is_a_notice_and_the_rest_works() {
    let sim = start("rbac-denied").await;
    // May read every kind the console shows but leases.
    set_rules(
        &sim,
        "auditor",
        serde_json::json!([{
            "verbs": ["get", "list", "watch"],
            "resources": ["*"],
            "apiGroups": ["", "apps", "autoscaling", "networking.k8s.io", "serving.kserve.io"],
        }]),
    )
    .await;
    let (client, _) = client_for(&sim, "auditor", Scope::All).await;
    let (watch, mut rx) = ClusterWatch::start(client, &Scope::All, WatchConfig::default());
    let notices = until_settled(&watch, &mut rx).await;
    let states = watch.watch_states();
    let WatchState::Forbidden { message } = &states[&WatchKind::Lease] else {
        panic!("leases should be Forbidden: {states:?}");
    };
    assert!(
        message.contains("403") && message.contains("leases"),
        "{message}"
    );
    assert!(
        notices.iter().any(|n| matches!(
            n,
            ClusterNotice::WatchState(WatchKind::Lease, WatchState::Forbidden { .. })
        )),
        "{notices:?}"
    );
    for (k, s) in &states {
        if *k != WatchKind::Lease {
            assert_eq!(*s, WatchState::Live, "{k}");
        }
    }
    let snap = watch.snapshot();
    assert!(snap.leases.is_empty());
    let eps = derive_endpoints(&snap, &GroupingConfig::default(), jiff::Timestamp::now());
    let stuck = eps
        .iter()
        .find(|e| e.key.name == "llama-3-70b-instruct")
        .unwrap();
    assert_eq!(stuck.health, Health::Terminating);
    assert!(eps.len() >= 4);
    watch.shutdown().await;

    // A user confined to one namespace: every cluster-wide watch is forbidden; in its
    // namespace everything is Live.
    set_rules(
        &sim,
        "prod-only",
        serde_json::json!([{"verbs": ["get", "list", "watch"], "resources": ["*"], "namespaces": ["llm-prod"]}]),
    )
    .await;
    let (client, _) = client_for(&sim, "prod-only", Scope::All).await;
    let (watch, mut rx) = ClusterWatch::start(client, &Scope::All, WatchConfig::default());
    until_settled(&watch, &mut rx).await;
    assert!(
        watch
            .watch_states()
            .values()
            .all(|s| matches!(s, WatchState::Forbidden { .. })),
        "{:?}",
        watch.watch_states()
    );
    assert!(watch.snapshot().pods.is_empty());
    watch.shutdown().await;
    let scope = Scope::Namespace("llm-prod".into());
    let (client, _) = client_for(&sim, "prod-only", scope.clone()).await;
    let (watch, mut rx) = ClusterWatch::start(client, &scope, WatchConfig::default());
    until_settled(&watch, &mut rx).await;
    assert!(
        watch
            .watch_states()
            .values()
            .all(|s| *s == WatchState::Live)
    );
    watch.shutdown().await;
    sim.shutdown().await;
}
