//! The other ways kube-rs lists and watches: streaming lists (`sendInitialEvents`), paged initial
//! lists, bookmarks, and label-selected watches where objects move in and out of the selection.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher;
use reqwest::Method;
use serde_json::json;

use crate::common::inproc::{TestSim, within};

fn config_map(name: &str, tier: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"tier": tier}},
        "data": {"k": "v"},
    }))
    .unwrap()
}

type Events = futures::stream::BoxStream<'static, watcher::Result<watcher::Event<ConfigMap>>>;

async fn next(events: &mut Events) -> watcher::Event<ConfigMap> {
    within("next watcher event", events.next())
        .await
        .expect("the watcher stream never ends")
        .expect("no watcher error")
}

/// Collects one initial listing: `Init`, the `InitApply` names (sorted), `InitDone`.
async fn initial_names(events: &mut Events) -> Vec<String> {
    assert!(matches!(next(events).await, watcher::Event::Init));
    let mut names = Vec::new();
    loop {
        match next(events).await {
            watcher::Event::InitApply(cm) => names.push(cm.name_any()),
            watcher::Event::InitDone => break,
            other => panic!("unexpected event during the initial listing: {other:?}"),
        }
    }
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_list_watcher_gets_initial_events_then_changes() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    let pp = PostParams::default();
    for n in ["a", "b"] {
        cms.create(&pp, &config_map(n, "x")).await.unwrap();
    }
    let since = t.audit_seq().await;
    let mut events: Events =
        watcher(cms.clone(), watcher::Config::default().streaming_lists()).boxed();
    // InitDone comes from the BOOKMARK annotated k8s.io/initial-events-end.
    assert_eq!(initial_names(&mut events).await, ["a", "b"]);
    cms.create(&pp, &config_map("c", "x")).await.unwrap();
    assert!(matches!(next(&mut events).await, watcher::Event::Apply(cm) if cm.name_any() == "c"));

    // A resumed watch does not ask for initial events again.
    t.admin(Method::POST, "watches/drop", None).await;
    cms.delete("a", &DeleteParams::default()).await.unwrap();
    assert!(matches!(next(&mut events).await, watcher::Event::Delete(cm) if cm.name_any() == "a"));

    let watches: Vec<String> = t
        .audit_since(since)
        .await
        .iter()
        .filter(|e| e["verb"] == "watch")
        .map(|e| e["query"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(watches.len(), 2, "{watches:?}");
    assert!(
        watches[0].contains("sendInitialEvents=true")
            && watches[0].contains("resourceVersionMatch=NotOlderThan"),
        "{watches:?}"
    );
    assert!(!watches[1].contains("sendInitialEvents"), "{watches:?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paged_initial_list_is_one_consistent_snapshot() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    let pp = PostParams::default();
    for i in 0..5 {
        cms.create(&pp, &config_map(&format!("cm-{i}"), "x"))
            .await
            .unwrap();
    }
    // Page size 2: three list requests chained by continue tokens.
    let since = t.audit_seq().await;
    let mut events: Events = watcher(cms.clone(), watcher::Config::default().page_size(2)).boxed();
    assert!(matches!(next(&mut events).await, watcher::Event::Init));
    // Changes between pages are not in the listing; they come with the watch afterwards.
    let mut names = Vec::new();
    for _ in 0..2 {
        match next(&mut events).await {
            watcher::Event::InitApply(cm) => names.push(cm.name_any()),
            other => panic!("{other:?}"),
        }
    }
    cms.create(&pp, &config_map("late", "x")).await.unwrap();
    loop {
        match next(&mut events).await {
            watcher::Event::InitApply(cm) => names.push(cm.name_any()),
            watcher::Event::InitDone => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(names, ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"]);
    assert!(
        matches!(next(&mut events).await, watcher::Event::Apply(cm) if cm.name_any() == "late")
    );
    let lists: Vec<String> = t
        .audit_since(since)
        .await
        .iter()
        .filter(|e| e["verb"] == "list")
        .map(|e| e["query"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(lists.len(), 3, "{lists:?}");
    assert!(lists[1].contains("continue=") && lists[2].contains("continue="));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookmarks_parse_and_carry_the_latest_resource_version() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    let created = cms
        .create(&PostParams::default(), &config_map("a", "x"))
        .await
        .unwrap();
    // Bookmarks come about once a minute, and 2 s before a watch times out: a 5 s watch
    // gets one after 3 s.
    let mut stream = cms
        .watch(
            &WatchParams::default().timeout(5),
            &created.resource_version().unwrap(),
        )
        .await
        .unwrap()
        .boxed();
    let patched = cms
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k": "w"}})),
        )
        .await
        .unwrap();
    // Wait for the bookmark; it has passed the change.
    let patched_rv: u64 = patched.resource_version().unwrap().parse().unwrap();
    let mut modified = false;
    loop {
        match within("a bookmark arrives", stream.try_next()).await {
            Ok(Some(WatchEvent::Modified(_))) => modified = true,
            Ok(Some(WatchEvent::Bookmark(bm))) => {
                assert_eq!(bm.types.kind, "ConfigMap");
                assert_eq!(bm.types.api_version, "v1");
                let rv: u64 = bm.metadata.resource_version.parse().unwrap();
                if rv >= patched_rv {
                    assert!(modified, "a bookmark past a change comes after the change");
                    break;
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_selected_watch_sees_objects_enter_and_leave() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    let pp = PostParams::default();
    cms.create(&pp, &config_map("in", "a")).await.unwrap();
    cms.create(&pp, &config_map("out", "b")).await.unwrap();
    let mut events: Events =
        watcher(cms.clone(), watcher::Config::default().labels("tier=a")).boxed();
    assert_eq!(initial_names(&mut events).await, ["in"]);

    let relabel = |tier: &str| Patch::Merge(json!({"metadata": {"labels": {"tier": tier}}}));
    let merge = PatchParams::default();
    cms.patch("in", &merge, &relabel("b")).await.unwrap();
    assert!(matches!(next(&mut events).await, watcher::Event::Delete(cm) if cm.name_any() == "in"));
    cms.patch("out", &merge, &relabel("a")).await.unwrap();
    assert!(matches!(next(&mut events).await, watcher::Event::Apply(cm) if cm.name_any() == "out"));
    // Changes outside the selection are not seen at all.
    cms.patch("in", &merge, &relabel("c")).await.unwrap();
    cms.delete("out", &DeleteParams::default()).await.unwrap();
    assert!(
        matches!(next(&mut events).await, watcher::Event::Delete(cm) if cm.name_any() == "out")
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watch_drop_fault_also_ends_streams_already_open() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    let created = cms
        .create(&PostParams::default(), &config_map("a", "x"))
        .await
        .unwrap();
    // Opened with kube-rs' default timeoutSeconds=290, before the fault exists.
    let stream = cms
        .watch(
            &WatchParams::default(),
            &created.resource_version().unwrap(),
        )
        .await
        .unwrap();
    t.admin(
        Method::PUT,
        "faults/watch-drop",
        Some(json!({"everySeconds": 1})),
    )
    .await;
    let events: Vec<_> = within(
        "the open stream ends under the drop fault",
        stream.try_collect::<Vec<_>>(),
    )
    .await
    .expect("a clean end, no error");
    assert!(events.is_empty(), "{events:?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_zero_starts_with_added_and_ends_at_its_timeout() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    for n in ["a", "b"] {
        cms.create(&PostParams::default(), &config_map(n, "x"))
            .await
            .unwrap();
    }
    let stream = cms
        .watch(&WatchParams::default().timeout(1), "0")
        .await
        .unwrap();
    let events = within(
        "the watch ends at timeoutSeconds",
        stream.try_collect::<Vec<_>>(),
    )
    .await
    .expect("a clean end");
    let added: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::Added(cm) => Some(cm.name_any()),
            _ => None,
        })
        .collect();
    assert_eq!(added, ["a", "b"], "{events:?}");
    t.stop().await;
}
