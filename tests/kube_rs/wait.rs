//! `fieldSelector=metadata.name=x` lists and watches, which `watch_object` and `await_condition`
//! are built on, and `await_condition` itself on conditions the test writes.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::wait::{Condition, await_condition, conditions};
use kube::runtime::watcher::watch_object;
use kube::{Resource, ResourceExt};
use serde_json::json;

use crate::common::inproc::{TestSim, within};

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": "v"}})).unwrap()
}

fn deployment(name: &str) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
            },
        },
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_selector_on_name_lists_and_watches_one_object() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    let pp = PostParams::default();
    for n in ["x", "y", "xx"] {
        cms.create(&pp, &config_map(n)).await.unwrap();
    }
    let list = cms
        .list(&ListParams::default().fields("metadata.name=x"))
        .await
        .unwrap();
    let names: Vec<_> = list.items.iter().map(|c| c.name_any()).collect();
    assert_eq!(names, ["x"]);
    let rv = list
        .metadata
        .resource_version
        .expect("list resourceVersion");
    let others = cms
        .list(&ListParams::default().fields("metadata.name!=x"))
        .await
        .unwrap();
    assert_eq!(others.items.len(), 2);

    let mut watch = cms
        .watch(&WatchParams::default().fields("metadata.name=x"), &rv)
        .await
        .unwrap()
        .boxed();
    let patch = Patch::Merge(json!({"data": {"k": "changed"}}));
    cms.patch("y", &PatchParams::default(), &patch)
        .await
        .unwrap();
    cms.patch("x", &PatchParams::default(), &patch)
        .await
        .unwrap();
    cms.delete("xx", &DeleteParams::default()).await.unwrap();
    cms.delete("x", &DeleteParams::default()).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match within("field-selected watch", watch.try_next()).await {
            Ok(Some(WatchEvent::Modified(c))) => seen.push(format!("MODIFIED {}", c.name_any())),
            Ok(Some(WatchEvent::Deleted(c))) => seen.push(format!("DELETED {}", c.name_any())),
            Ok(Some(WatchEvent::Bookmark(_))) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["MODIFIED x", "DELETED x"]);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_object_follows_one_name_through_its_life() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    cms.create(&PostParams::default(), &config_map("other"))
        .await
        .unwrap();
    let mut stream = watch_object(cms.clone(), "it").boxed();
    let mut next = async || {
        within("watch_object event", stream.try_next())
            .await
            .expect("no error")
            .expect("never ends")
    };
    assert!(next().await.is_none(), "absent at first");
    cms.create(&PostParams::default(), &config_map("it"))
        .await
        .unwrap();
    assert_eq!(next().await.map(|c| c.name_any()).as_deref(), Some("it"));
    cms.delete("it", &DeleteParams::default()).await.unwrap();
    assert!(next().await.is_none(), "gone");
    t.stop().await;
}

fn has_condition<K: Resource>(
    type_: &'static str,
    get: impl Fn(&K) -> Option<Vec<(String, String)>>,
) -> impl Condition<K> {
    move |obj: Option<&K>| {
        obj.and_then(&get)
            .is_some_and(|cs| cs.iter().any(|(t, s)| t == type_ && s == "True"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn await_condition_sees_a_status_condition_written_meanwhile() {
    let t = TestSim::start().await;
    // Nobody but the test writes status here.
    for c in ["deployment", "kubelet"] {
        t.controller(c, "down").await;
    }
    let deploys: Api<Deployment> = t.api();
    deploys
        .create(&PostParams::default(), &deployment("web"))
        .await
        .unwrap();
    let available = has_condition::<Deployment>("Available", |d| {
        let cs = d.status.as_ref()?.conditions.as_ref()?;
        Some(
            cs.iter()
                .map(|c| (c.type_.clone(), c.status.clone()))
                .collect(),
        )
    });
    let waiter = tokio::spawn(await_condition(deploys.clone(), "web", available));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(!waiter.is_finished());
    let status = json!({"status": {"conditions": [{
        "type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
        "message": "Deployment has minimum availability.",
        "lastTransitionTime": "2025-01-01T00:00:00Z", "lastUpdateTime": "2025-01-01T00:00:00Z"
    }]}});
    deploys
        .patch_status("web", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
    let found = within("await_condition on Deployment", waiter)
        .await
        .unwrap()
        .expect("no watcher error")
        .expect("the object");
    assert_eq!(found.name_any(), "web");

    // A pod's Ready condition, likewise.
    let pods: Api<Pod> = t.api();
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "p"},
        "spec": {"nodeName": "sim-node-1", "containers": [{"name": "main", "image": "busybox"}]},
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let ready = has_condition::<Pod>("Ready", |p| {
        let cs = p.status.as_ref()?.conditions.as_ref()?;
        Some(
            cs.iter()
                .map(|c| (c.type_.clone(), c.status.clone()))
                .collect(),
        )
    });
    let waiter = tokio::spawn(await_condition(pods.clone(), "p", ready));
    let status = json!({"status": {"phase": "Running", "conditions": [
        {"type": "Ready", "status": "True"}
    ]}});
    pods.patch_status("p", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
    let found = within("await_condition on Pod", waiter)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(found.status.unwrap().phase.as_deref(), Some("Running"));
    let running = await_condition(pods.clone(), "p", conditions::is_pod_running());
    assert!(within("is_pod_running", running).await.unwrap().is_some());

    // is_deleted on a name that does not exist is fulfilled at once.
    let absent = await_condition(pods.clone(), "nope", conditions::is_deleted("uid"));
    assert!(within("is_deleted", absent).await.unwrap().is_none());
    t.stop().await;
}
