//! `Api::delete` answers (`Right(Status)`, `Left(obj)`, `Err(Api)`) and
//! `kube_runtime::wait::delete::delete_and_finalize`.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{
    Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions, WatchEvent, WatchParams,
};
use kube::runtime::wait::delete::delete_and_finalize;
use kube::{Resource, ResourceExt};
use serde_json::json;

use crate::common::inproc::{TestSim, api_status, eventually, within};

const FINALIZER: &str = "example.com/hold";

fn config_map(name: &str, finalizers: &[&str]) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "finalizers": finalizers},
        "data": {"k": "v"},
    }))
    .unwrap()
}

fn pod(name: &str, node: Option<&str>) -> Pod {
    let mut spec = json!({"containers": [{"name": "main", "image": "busybox:1.36"}]});
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).unwrap()
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

fn expect_gone<T: std::fmt::Debug>(what: &str, r: Result<T, kube::Error>) {
    let s = api_status(r);
    assert_eq!(
        (s.code, s.reason.as_str()),
        (404, "NotFound"),
        "{what}: {s:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_of_a_plain_object_is_a_success_status_with_the_uid() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    let created = cms
        .create(&PostParams::default(), &config_map("plain", &[]))
        .await
        .unwrap();
    let status = cms
        .delete("plain", &DeleteParams::default())
        .await
        .unwrap()
        .either(
            |obj| panic!("expected a Status, got the object {obj:?}"),
            |s| s,
        );
    assert!(status.is_success(), "{status:?}");
    let d = status.details.expect("details");
    assert_eq!((d.name.as_str(), d.kind.as_str()), ("plain", "configmaps"));
    assert_eq!(d.group, "");
    assert_eq!(Some(d.uid), created.uid());
    expect_gone("get after delete", cms.get("plain").await);
    expect_gone(
        "second delete",
        cms.delete("plain", &DeleteParams::default()).await,
    );

    // The group appears for a non-core kind.
    let deploys: Api<Deployment> = t.api();
    deploys
        .create(&PostParams::default(), &deployment("bg"))
        .await
        .unwrap();
    let status = deploys
        .delete("bg", &DeleteParams::background())
        .await
        .unwrap()
        .right()
        .expect("Background delete of a Deployment answers a Status");
    let d = status.details.unwrap();
    assert_eq!((d.group.as_str(), d.kind.as_str()), ("apps", "deployments"));
    assert!(!d.uid.is_empty());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_of_an_object_with_finalizers_returns_it_terminating() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    cms.create(&PostParams::default(), &config_map("held", &[FINALIZER]))
        .await
        .unwrap();
    let rv_before = cms.get("held").await.unwrap().resource_version().unwrap();
    let mut watch = cms
        .watch(&WatchParams::default(), &rv_before)
        .await
        .unwrap()
        .boxed();
    let obj = cms
        .delete("held", &DeleteParams::default())
        .await
        .unwrap()
        .either(
            |obj| obj,
            |s| panic!("expected the terminating object, got {s:?}"),
        );
    let ts = obj
        .meta()
        .deletion_timestamp
        .clone()
        .expect("deletionTimestamp");
    assert_eq!(obj.meta().deletion_grace_period_seconds, Some(0));
    assert_eq!(obj.finalizers(), [FINALIZER]);
    match within("MODIFIED event", watch.try_next()).await {
        Ok(Some(WatchEvent::Modified(cm))) => {
            assert_eq!(cm.resource_version(), obj.resource_version());
            assert!(cm.meta().deletion_timestamp.is_some());
        }
        other => panic!("expected MODIFIED, got {other:?}"),
    }

    // A second delete answers the object again with the same deletionTimestamp.
    let again = cms
        .delete("held", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("still terminating");
    assert_eq!(again.meta().deletion_timestamp, Some(ts));
    assert_eq!(again.resource_version(), obj.resource_version());

    // Foreground propagation keeps any object until its dependents are gone: Left as well.
    let deploys: Api<Deployment> = t.api();
    deploys
        .create(&PostParams::default(), &deployment("fg"))
        .await
        .unwrap();
    let fg = deploys
        .delete("fg", &DeleteParams::foreground())
        .await
        .unwrap()
        .left()
        .expect("Foreground delete answers the object");
    assert!(fg.meta().deletion_timestamp.is_some());
    assert_eq!(fg.meta().deletion_grace_period_seconds, Some(0));
    assert!(fg.finalizers().iter().any(|f| f == "foregroundDeletion"));
    assert_eq!(fg.meta().generation, Some(2), "generation + 1 on delete");
    // Orphan likewise.
    deploys
        .create(&PostParams::default(), &deployment("orphan"))
        .await
        .unwrap();
    let orphan = deploys
        .delete("orphan", &DeleteParams::orphan())
        .await
        .unwrap()
        .left()
        .expect("Orphan delete answers the object");
    assert!(orphan.finalizers().iter().any(|f| f == "orphan"));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_of_a_pod_returns_the_pod() {
    let t = TestSim::start().await;
    // The test plays the kubelet and the scheduler here.
    t.controller("kubelet", "down").await;
    let pods: Api<Pod> = t.api();
    let pp = PostParams::default();

    // Unscheduled: removed at once, and still the pod comes back, not a Status.
    pods.create(&pp, &pod("unscheduled", None)).await.unwrap();
    let gone = pods
        .delete("unscheduled", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("a deleted pod answers the pod");
    assert_eq!(gone.name_any(), "unscheduled");
    expect_gone("unscheduled pod", pods.get("unscheduled").await);

    // Scheduled: graceful, with the default 30 s grace period.
    pods.create(&pp, &pod("bound", Some("sim-node-1")))
        .await
        .unwrap();
    let terminating = pods
        .delete("bound", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("graceful delete answers the pod");
    assert_eq!(terminating.meta().deletion_grace_period_seconds, Some(30));
    let ts = terminating.meta().deletion_timestamp.clone().unwrap();
    let created = terminating.meta().creation_timestamp.clone().unwrap();
    assert!(ts.0 > created.0, "deletionTimestamp = now + grace");
    assert!(
        pods.get("bound").await.is_ok(),
        "the pod waits for its kubelet"
    );

    // A shorter grace period moves the deletion forward; 0 removes it now.
    let shorter = pods
        .delete(
            "bound",
            &DeleteParams {
                grace_period_seconds: Some(5),
                ..DeleteParams::default()
            },
        )
        .await
        .unwrap()
        .left()
        .unwrap();
    assert_eq!(shorter.meta().deletion_grace_period_seconds, Some(5));
    assert!(shorter.meta().deletion_timestamp.clone().unwrap().0 < ts.0);
    let last = pods
        .delete("bound", &DeleteParams::default().grace_period(0))
        .await
        .unwrap()
        .left()
        .expect("the final delete answers the pod too");
    assert_eq!(last.name_any(), "bound");
    expect_gone("bound pod after grace 0", pods.get("bound").await);

    // A pod that has finished is removed at once, bound or not.
    pods.create(&pp, &pod("done", Some("sim-node-1")))
        .await
        .unwrap();
    let finished = json!({"status": {"phase": "Succeeded"}});
    pods.patch_status("done", &PatchParams::default(), &Patch::Merge(&finished))
        .await
        .unwrap();
    let gone = pods
        .delete("done", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("the pod");
    assert!(
        gone.meta()
            .deletion_grace_period_seconds
            .is_none_or(|g| g == 0)
    );
    expect_gone("finished pod", pods.get("done").await);
    expect_gone(
        "delete once gone",
        pods.delete("bound", &DeleteParams::default()).await,
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_and_finalize_waits_for_finalizers() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    let pp = PostParams::default();

    // Without finalizers: the Status carries the uid, and the object is gone at once.
    cms.create(&pp, &config_map("plain", &[])).await.unwrap();
    within(
        "delete_and_finalize of a plain object",
        delete_and_finalize(cms.clone(), "plain", &DeleteParams::default()),
    )
    .await
    .expect("plain object deleted");

    // With a finalizer: waits until another party removes it.
    cms.create(&pp, &config_map("held", &[FINALIZER]))
        .await
        .unwrap();
    let api = cms.clone();
    let waiter =
        tokio::spawn(
            async move { delete_and_finalize(api, "held", &DeleteParams::default()).await },
        );
    eventually("the object is terminating", || async {
        let cm = cms.get("held").await.ok()?;
        cm.meta().deletion_timestamp.is_some().then_some(())
    })
    .await;
    assert!(!waiter.is_finished(), "finished while a finalizer is left");
    let patch = json!({"metadata": {"finalizers": null}});
    cms.patch("held", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    within("delete_and_finalize returns", waiter)
        .await
        .unwrap()
        .expect("finalized");
    expect_gone("finalized object", cms.get("held").await);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_preconditions_and_dry_run() {
    let t = TestSim::start().await;
    // The test is the only writer: no status updates moving the resourceVersion meanwhile.
    t.controller("deployment", "down").await;
    let deploys: Api<Deployment> = t.api();
    let created = deploys
        .create(&PostParams::default(), &deployment("web"))
        .await
        .unwrap();
    let rv = created.resource_version().unwrap();
    let patch = json!({"metadata": {"labels": {"touched": "yes"}}});
    let touched = deploys
        .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();

    let stale = DeleteParams::default().preconditions(Preconditions {
        resource_version: Some(rv.clone()),
        uid: None,
    });
    let s = api_status(deploys.delete("web", &stale).await);
    assert!(s.is_conflict(), "{s:?}");
    assert_eq!(
        s.message,
        format!(
            "Operation cannot be fulfilled on Deployment.apps \"web\": the ResourceVersion in the \
             precondition ({rv}) does not match the ResourceVersion in record ({}). The object \
             might have been modified",
            touched.resource_version().unwrap()
        )
    );
    let wrong_uid = DeleteParams::default().preconditions(Preconditions {
        resource_version: None,
        uid: Some("00000000-0000-0000-0000-000000000000".into()),
    });
    assert!(api_status(deploys.delete("web", &wrong_uid).await).is_conflict());

    // Dry run: the answer of a real delete, and nothing deleted.
    let dry = deploys
        .delete("web", &DeleteParams::default().dry_run())
        .await
        .unwrap();
    assert!(dry.is_right(), "{dry:?}");
    let still = deploys.get("web").await.expect("a dry run deletes nothing");
    assert_eq!(still.resource_version(), touched.resource_version());

    let exact = DeleteParams::default().preconditions(Preconditions {
        resource_version: touched.resource_version(),
        uid: touched.uid(),
    });
    assert!(deploys.delete("web", &exact).await.unwrap().is_right());
    expect_gone("deleted with preconditions", deploys.get("web").await);
    t.stop().await;
}
