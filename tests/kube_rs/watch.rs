//! `kube::runtime::watcher` and `reflector`: in sync through creates, updates and deletes, through
//! streams the server ends (admin drop, the drop-every fault), and through 410 after compaction.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};
use reqwest::Method;
use serde_json::json;

use crate::common::inproc::{TestSim, eventually, within};

fn config_map(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"suite": "kube-rs"}},
        "data": {"value": value},
    }))
    .expect("config map")
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
            },
        },
    }))
    .expect("deployment")
}

/// name -> resourceVersion.
type Snapshot = BTreeMap<String, String>;

fn snapshot<'a, K: Resource + 'a>(items: impl IntoIterator<Item = &'a K>) -> Snapshot {
    items
        .into_iter()
        .map(|o| (o.name_any(), o.resource_version().unwrap_or_default()))
        .collect()
}

async fn listed<K>(api: &Api<K>) -> Snapshot
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let list = api.list(&ListParams::default()).await.expect("list");
    snapshot(list.items.iter())
}

/// Runs a reflector over `api` in the background; its store and a count of `Init` events.
fn spawn_reflector<K>(api: Api<K>) -> (Store<K>, Arc<Mutex<u32>>)
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let (reader, writer) = reflector::store();
    let inits = Arc::new(Mutex::new(0u32));
    let counter = inits.clone();
    let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()))
        .inspect_ok(move |e| {
            if matches!(e, watcher::Event::Init) {
                *counter.lock().unwrap() += 1;
            }
        })
        .default_backoff();
    tokio::spawn(stream.for_each(|_| futures::future::ready(())));
    (reader, inits)
}

/// Waits until the reflector's store equals a fresh list (names and resourceVersions).
async fn converges<K>(what: &str, api: &Api<K>, store: &Store<K>) -> Snapshot
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    eventually(what, || async {
        let fresh = listed(api).await;
        (snapshot(store.state().iter().map(|o| &**o)) == fresh).then_some(fresh)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflector_stays_in_sync_through_changes_and_dropped_streams() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    let deploys: Api<Deployment> = t.api();
    let pp = PostParams::default();
    for i in 0..3 {
        cms.create(&pp, &config_map(&format!("seed-{i}"), "0"))
            .await
            .unwrap();
    }
    deploys.create(&pp, &deployment("web", 1)).await.unwrap();
    let since = t.audit_seq().await;

    let (cm_store, cm_inits) = spawn_reflector(cms.clone());
    let (dep_store, dep_inits) = spawn_reflector(deploys.clone());
    within("configmap reflector ready", cm_store.wait_until_ready())
        .await
        .unwrap();
    within("deployment reflector ready", dep_store.wait_until_ready())
        .await
        .unwrap();

    // Every watch stream now ends after a second; the watcher must resume from its last
    // resourceVersion each time without losing an event.
    t.admin(
        Method::PUT,
        "faults/watch-drop",
        Some(json!({"everySeconds": 1})),
    )
    .await;
    let merge = PatchParams::default();
    for i in 0..12 {
        let name = format!("cm-{i}");
        cms.create(&pp, &config_map(&name, "0")).await.unwrap();
        if i >= 1 {
            let patch = json!({"data": {"value": format!("{i}")}});
            cms.patch(&format!("cm-{}", i - 1), &merge, &Patch::Merge(&patch))
                .await
                .unwrap();
        }
        if i >= 2 && i % 2 == 0 {
            cms.delete(&format!("cm-{}", i - 2), &DeleteParams::default())
                .await
                .unwrap();
        }
        match i % 4 {
            0 => {
                deploys
                    .create(&pp, &deployment(&format!("dep-{i}"), 1))
                    .await
                    .unwrap();
            }
            1 => {
                let patch = json!({"metadata": {"labels": {"step": format!("{i}")}}});
                deploys
                    .patch("web", &merge, &Patch::Merge(&patch))
                    .await
                    .unwrap();
            }
            2 => {
                deploys
                    .delete(&format!("dep-{}", i - 2), &DeleteParams::default())
                    .await
                    .unwrap();
            }
            _ => {}
        }
        if i == 6 {
            t.admin(Method::POST, "watches/drop", None).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    t.admin(
        Method::PUT,
        "faults/watch-drop",
        Some(json!({"everySeconds": 0})),
    )
    .await;

    let cms_now = converges("configmap reflector converges", &cms, &cm_store).await;
    let deps_now = converges("deployment reflector converges", &deploys, &dep_store).await;
    assert!(cms_now.contains_key("cm-11") && !cms_now.contains_key("cm-0"));
    assert!(deps_now.contains_key("web") && !deps_now.contains_key("dep-0"));

    // The streams really ended several times, and each time the watcher resumed with a watch
    // from its resourceVersion: no re-list (the history was never compacted, so no 410).
    let audit = t.audit_since(since).await;
    for resource in ["/configmaps", "/deployments"] {
        let watches: Vec<_> = audit
            .iter()
            .filter(|e| e["verb"] == "watch" && e["path"].as_str().unwrap().ends_with(resource))
            .collect();
        assert!(watches.len() >= 3, "{resource}: {watches:#?}");
        assert!(
            watches
                .iter()
                .all(|e| e["code"] == 200
                    && e["query"].as_str().unwrap().contains("resourceVersion=")),
            "{watches:#?}"
        );
        // One list by the watcher, plus the ones `converges` made.
        let watcher_lists = audit
            .iter()
            .filter(|e| {
                e["verb"] == "list"
                    && e["path"].as_str().unwrap().ends_with(resource)
                    && e["query"].as_str().unwrap().contains("limit=500")
            })
            .count();
        assert_eq!(watcher_lists, 1, "{resource}: the watcher re-listed");
    }
    assert_eq!(*cm_inits.lock().unwrap(), 1);
    assert_eq!(*dep_inits.lock().unwrap(), 1);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_relists_after_410_from_compaction() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    let pp = PostParams::default();
    cms.create(&pp, &config_map("a", "1")).await.unwrap();

    let mut events = watcher(cms.clone(), watcher::Config::default()).boxed();
    let mut next = async || {
        within("next watcher event", events.next())
            .await
            .expect("the watcher stream never ends")
    };
    assert!(matches!(next().await, Ok(watcher::Event::Init)));
    assert!(matches!(next().await, Ok(watcher::Event::InitApply(cm)) if cm.name_any() == "a"));
    assert!(matches!(next().await, Ok(watcher::Event::InitDone)));
    cms.create(&pp, &config_map("b", "1")).await.unwrap();
    assert!(matches!(next().await, Ok(watcher::Event::Apply(cm)) if cm.name_any() == "b"));

    // Hold the watcher between streams: its stream is ended and its re-watch fails, so it still
    // knows only the resourceVersion of "b".
    t.admin(
        Method::POST,
        "faults/errors",
        Some(json!({"verb": "watch", "resource": "configmaps", "code": 500})),
    )
    .await;
    t.admin(Method::POST, "watches/drop", None).await;
    assert!(matches!(
        next().await,
        Err(watcher::Error::WatchStartFailed(kube::Error::Api(s))) if s.code == 500
    ));
    // Meanwhile the cluster moves on and the history is compacted past that resourceVersion.
    cms.create(&pp, &config_map("c", "1")).await.unwrap();
    cms.delete("a", &DeleteParams::default()).await.unwrap();
    t.admin(Method::POST, "compact", None).await;
    t.admin(Method::DELETE, "faults/errors", None).await;

    // The resumed watch gets 410 Expired, and the watcher lists again from scratch.
    match next().await {
        Err(watcher::Error::WatchError(s)) => {
            assert_eq!((s.code, s.reason.as_str()), (410, "Expired"), "{s:?}");
        }
        other => panic!("expected a 410 watch error, got {other:?}"),
    }
    assert!(matches!(next().await, Ok(watcher::Event::Init)));
    let mut relisted = Vec::new();
    loop {
        match next().await {
            Ok(watcher::Event::InitApply(cm)) => relisted.push(cm.name_any()),
            Ok(watcher::Event::InitDone) => break,
            other => panic!("unexpected event during re-list: {other:?}"),
        }
    }
    relisted.sort();
    assert_eq!(relisted, ["b", "c"]);
    // And it watches on from the new list.
    cms.create(&pp, &config_map("d", "1")).await.unwrap();
    assert!(matches!(next().await, Ok(watcher::Event::Apply(cm)) if cm.name_any() == "d"));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_a_compacted_resource_version_is_one_410_error_event() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    let first = cms
        .create(&PostParams::default(), &config_map("a", "1"))
        .await
        .unwrap();
    let old_rv = first.resource_version().unwrap();
    for v in 2..5 {
        let patch = json!({"data": {"value": v.to_string()}});
        cms.patch("a", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }
    t.admin(Method::POST, "compact", None).await;

    let stream = cms
        .watch(&kube::api::WatchParams::default(), &old_rv)
        .await
        .expect("the watch itself is answered 200");
    let events: Vec<_> = within("the expired watch ends", stream.try_collect::<Vec<_>>())
        .await
        .expect("stream of events");
    match events.as_slice() {
        [WatchEvent::Error(s)] => {
            assert_eq!((s.code, s.reason.as_str()), (410, "Expired"));
            assert!(s.message.starts_with("too old resource version: "), "{s:?}");
        }
        other => panic!("expected one ERROR event, got {other:?}"),
    }

    // A watch from the current resourceVersion is fine after compaction.
    let current = cms.get("a").await.unwrap().resource_version().unwrap();
    let mut stream = cms
        .watch(&kube::api::WatchParams::default(), &current)
        .await
        .unwrap()
        .boxed();
    let patch = json!({"data": {"value": "after"}});
    cms.patch("a", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    match within("event after compaction", stream.try_next()).await {
        Ok(Some(WatchEvent::Modified(cm))) => {
            assert_eq!(cm.data.unwrap()["value"], "after");
        }
        other => panic!("expected MODIFIED, got {other:?}"),
    }
    t.stop().await;
}
