//! Against the simulator's controllers (scheduler + kubelet, deployment controller, garbage
//! collector): pod logs followed as they are written, `tailLines`, a rollout awaited with
//! `await_condition`, a graceful pod deletion finished by the kubelet, and a Foreground deletion
//! finished by the garbage collector.

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, LogParams,
    PostParams,
};
use kube::runtime::wait::delete::delete_and_finalize;
use kube::runtime::wait::{await_condition, conditions};
use kube::{Resource, ResourceExt};
use serde_json::json;

use crate::common::inproc::{NS, TestSim, api_status, eventually, within};

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"containers": [{"name": "main", "image": "vllm/vllm-openai:v0.6.3"}]},
    }))
    .unwrap()
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
            },
        },
    }))
    .unwrap()
}

/// Creates a pod and waits until the simulated kubelet runs it.
async fn running_pod(pods: &Api<Pod>, name: &str) -> Pod {
    pods.create(&PostParams::default(), &pod(name))
        .await
        .unwrap();
    within(
        "the pod runs",
        await_condition(pods.clone(), name, conditions::is_pod_running()),
    )
    .await
    .expect("watch")
    .expect("the pod")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_stream_follows_a_running_pod() {
    let t = TestSim::start().await;
    let pods: Api<Pod> = t.api();
    let running = running_pod(&pods, "talker").await;
    assert!(running.spec.unwrap().node_name.is_some(), "scheduled");

    // Only one line of backlog, so every other line was written after the request.
    let lp = LogParams {
        follow: true,
        tail_lines: Some(1),
        ..LogParams::default()
    };
    let mut lines = pods.log_stream("talker", &lp).await.unwrap().lines();
    let mut got = Vec::new();
    while got.len() < 6 {
        let line = within("next followed log line", lines.next())
            .await
            .expect("the followed stream stays open")
            .expect("a line");
        got.push(line);
    }
    assert!(got.iter().all(|l| !l.is_empty()), "{got:?}");

    // Without follow: tailLines caps the answer.
    eventually("the pod has written more than 5 lines", || async {
        let all = pods.logs("talker", &LogParams::default()).await.ok()?;
        (all.lines().count() > 5).then_some(())
    })
    .await;
    let tail = pods
        .logs(
            "talker",
            &LogParams {
                tail_lines: Some(3),
                ..LogParams::default()
            },
        )
        .await
        .unwrap();
    let n = tail.lines().count();
    assert!((1..=3).contains(&n), "{n} lines: {tail:?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_is_awaited_with_await_condition() {
    let t = TestSim::start().await;
    let deploys: Api<Deployment> = t.api();
    deploys
        .create(&PostParams::default(), &deployment("web", 2))
        .await
        .unwrap();
    let done = within(
        "the rollout completes",
        await_condition(
            deploys.clone(),
            "web",
            conditions::is_deployment_completed(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    let status = done.status.unwrap();
    assert_eq!(status.ready_replicas, Some(2), "{status:?}");
    let pods: Api<Pod> = t.api();
    let listed = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_pod_deletion_is_finished_by_the_kubelet() {
    let t = TestSim::start().await;
    let pods: Api<Pod> = t.api();
    running_pod(&pods, "victim").await;
    let terminating = pods
        .delete("victim", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("graceful delete answers the pod");
    assert_eq!(terminating.meta().deletion_grace_period_seconds, Some(30));
    let uid = terminating.uid().unwrap();
    within(
        "the kubelet removes the pod",
        await_condition(pods.clone(), "victim", conditions::is_deleted(&uid)),
    )
    .await
    .unwrap();

    running_pod(&pods, "victim2").await;
    within(
        "delete_and_finalize of a running pod",
        delete_and_finalize(pods.clone(), "victim2", &DeleteParams::default()),
    )
    .await
    .unwrap();
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_a_pod_not_started_yet_are_400() {
    let t = TestSim::start().await;
    t.controller("kubelet", "down").await;
    let pods: Api<Pod> = t.api();
    pods.create(&PostParams::default(), &pod("waiting"))
        .await
        .unwrap();
    let s = api_status(pods.logs("waiting", &LogParams::default()).await);
    assert_eq!((s.code, s.reason.as_str()), (400, "BadRequest"), "{s:?}");
    assert_eq!(
        s.message,
        "container \"main\" in pod \"waiting\" is waiting to start: ContainerCreating"
    );
    let s = api_status(pods.logs("absent", &LogParams::default()).await);
    assert!(s.is_not_found(), "{s:?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreground_delete_and_finalize_waits_for_the_dependents() {
    let t = TestSim::start().await;
    let deploys: Api<Deployment> = t.api();
    deploys
        .create(&PostParams::default(), &deployment("fg", 1))
        .await
        .unwrap();
    within(
        "the rollout completes",
        await_condition(deploys.clone(), "fg", conditions::is_deployment_completed()),
    )
    .await
    .unwrap();
    let sets: Api<ReplicaSet> = t.api();
    let owned = sets
        .list(&ListParams::default().labels("app=fg"))
        .await
        .unwrap();
    assert_eq!(owned.items.len(), 1);

    within(
        "delete_and_finalize with Foreground",
        delete_and_finalize(deploys.clone(), "fg", &DeleteParams::foreground()),
    )
    .await
    .expect("the collector finishes the foreground deletion");
    // Dependents that block owner deletion were gone before the owner.
    let left = sets
        .list(&ListParams::default().labels("app=fg"))
        .await
        .unwrap();
    assert!(left.items.is_empty(), "{:?}", left.items);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inference_service_becomes_ready_and_is_deleted_with_its_children() {
    let t = TestSim::start().await;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("serving.kserve.io", "v1beta1", "InferenceService"),
        "inferenceservices",
    );
    let isvcs: Api<DynamicObject> = Api::namespaced_with(t.client.clone(), NS, &ar);
    let isvc: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "m", "annotations": {"serving.kserve.io/deploymentMode": "RawDeployment"}},
        "spec": {"predictor": {"minReplicas": 1, "model": {
            "modelFormat": {"name": "sklearn"}, "storageUri": "gs://bucket/model"}}},
    }))
    .unwrap();
    isvcs.create(&PostParams::default(), &isvc).await.unwrap();
    let ready = |o: Option<&DynamicObject>| {
        o.and_then(|o| o.data["status"]["conditions"].as_array())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
    };
    let live = within(
        "the InferenceService becomes Ready",
        await_condition(isvcs.clone(), "m", ready),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        live.finalizers()
            .iter()
            .any(|f| f == "inferenceservice.finalizers")
    );
    let deploys: Api<Deployment> = t.api();
    let predictor = deploys
        .get("m-predictor")
        .await
        .expect("predictor Deployment");
    let predictor_uid = predictor.uid().unwrap();

    // The finalizer makes the delete answer the object; the controller then lets it go.
    within(
        "delete_and_finalize of the InferenceService",
        delete_and_finalize(isvcs.clone(), "m", &DeleteParams::default()),
    )
    .await
    .expect("the KServe controller removes its finalizer");
    let s = api_status(isvcs.get("m").await);
    assert_eq!(
        (s.code, s.message.as_str()),
        (404, "inferenceservices.serving.kserve.io \"m\" not found")
    );
    // And the garbage collector takes the children through their ownerReferences.
    within(
        "the predictor Deployment is collected",
        await_condition(
            deploys.clone(),
            "m-predictor",
            conditions::is_deleted(&predictor_uid),
        ),
    )
    .await
    .unwrap();
    t.stop().await;
}
