//! Error answers as kube-rs sees them: 409 Conflict on a stale update, 409 AlreadyExists on
//! create (also while the old object terminates), and 429s the client retries on its own.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use reqwest::Method;
use serde_json::json;

use crate::common::inproc::{NS, TestSim, api_status};

fn config_map(name: &str, finalizers: &[&str]) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "finalizers": finalizers},
        "data": {"k": "v"},
    }))
    .unwrap()
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
async fn update_with_a_stale_resource_version_conflicts() {
    let t = TestSim::start().await;
    // The test is the only writer: no status updates moving the resourceVersion meanwhile.
    t.controller("deployment", "down").await;
    let deploys: Api<Deployment> = t.api();
    let pp = PostParams::default();
    let original = deploys.create(&pp, &deployment("web")).await.unwrap();

    let mut first = original.clone();
    first.labels_mut().insert("by".into(), "first".into());
    let written = deploys.replace("web", &pp, &first).await.unwrap();
    assert_ne!(written.resource_version(), original.resource_version());

    let mut second = original.clone();
    second.labels_mut().insert("by".into(), "second".into());
    let s = api_status(deploys.replace("web", &pp, &second).await);
    assert!(s.is_conflict(), "{s:?}");
    assert!(!s.is_already_exists());
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        s.message,
        "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; \
         please apply your changes to the latest version and try again"
    );
    let d = s.details.expect("details");
    assert_eq!(
        (d.name.as_str(), d.group.as_str(), d.kind.as_str()),
        ("web", "apps", "deployments")
    );
    // The first writer's change stands.
    assert_eq!(
        deploys.get("web").await.unwrap().labels()["by"],
        "first",
        "a rejected update must not be written"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_without_a_resource_version_are_unconditional_except_for_custom_resources() {
    let t = TestSim::start().await;
    t.controller("deployment", "down").await;
    let deploys: Api<Deployment> = t.api();
    let pp = PostParams::default();
    let created = deploys.create(&pp, &deployment("web")).await.unwrap();
    // A patch without resourceVersion always applies; with a stale one it conflicts.
    let merge = PatchParams::default();
    let first = deploys
        .patch(
            "web",
            &merge,
            &Patch::Merge(json!({"metadata": {"labels": {"a": "1"}}})),
        )
        .await
        .unwrap();
    let stale =
        json!({"metadata": {"resourceVersion": created.resource_version(), "labels": {"a": "2"}}});
    let s = api_status(deploys.patch("web", &merge, &Patch::Merge(&stale)).await);
    assert!(s.is_conflict(), "{s:?}");
    let current =
        json!({"metadata": {"resourceVersion": first.resource_version(), "labels": {"a": "3"}}});
    deploys
        .patch("web", &merge, &Patch::Merge(&current))
        .await
        .expect("a patch with the current resourceVersion applies");
    // PUT without resourceVersion: allowed for a built-in kind.
    let mut unversioned = deploys.get("web").await.unwrap();
    unversioned.metadata.resource_version = None;
    unversioned.labels_mut().insert("a".into(), "4".into());
    let replaced = deploys.replace("web", &pp, &unversioned).await.unwrap();
    assert_eq!(replaced.labels()["a"], "4");

    // ... but not for a custom resource.
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("serving.kserve.io", "v1beta1", "InferenceService"),
        "inferenceservices",
    );
    let isvcs: Api<DynamicObject> = Api::namespaced_with(t.client.clone(), NS, &ar);
    let isvc: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "m"},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"},
                 "storageUri": "gs://bucket/model"}}},
    }))
    .unwrap();
    isvcs.create(&pp, &isvc).await.unwrap();
    let mut unversioned = isvcs.get("m").await.unwrap();
    unversioned.metadata.resource_version = None;
    let s = api_status(isvcs.replace("m", &pp, &unversioned).await);
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"), "{s:?}");
    assert!(
        s.message.ends_with(
            "metadata.resourceVersion: Invalid value: 0: must be specified for an update"
        ),
        "{}",
        s.message
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_of_an_existing_name_is_already_exists_even_while_terminating() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    let pp = PostParams::default();
    cms.create(&pp, &config_map("dup", &[])).await.unwrap();
    let s = api_status(cms.create(&pp, &config_map("dup", &[])).await);
    assert!(s.is_already_exists(), "{s:?}");
    assert_eq!(s.code, 409);
    assert_eq!(s.message, "configmaps \"dup\" already exists");
    let d = s.details.expect("details");
    assert_eq!((d.name.as_str(), d.kind.as_str()), ("dup", "configmaps"));

    // Terminating, held by a finalizer: the name is still taken.
    cms.create(&pp, &config_map("held", &["example.com/hold"]))
        .await
        .unwrap();
    cms.delete("held", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("terminating");
    let s = api_status(cms.create(&pp, &config_map("held", &[])).await);
    assert!(s.is_already_exists(), "{s:?}");
    assert_eq!(s.message, "configmaps \"held\" already exists");

    let deploys: Api<Deployment> = t.api();
    deploys.create(&pp, &deployment("web")).await.unwrap();
    let s = api_status(deploys.create(&pp, &deployment("web")).await);
    assert_eq!(
        (s.code, s.reason.as_str(), s.message.as_str()),
        (
            409,
            "AlreadyExists",
            "deployments.apps \"web\" already exists"
        )
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_429s_are_retried_by_the_client() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    cms.create(&PostParams::default(), &config_map("one", &[]))
        .await
        .unwrap();
    let since = t.audit_seq().await;
    t.admin(
        Method::POST,
        "faults/errors",
        Some(json!({
            "verb": "list", "resource": "configmaps", "code": 429, "count": 2,
            "retryAfterSeconds": 1
        })),
    )
    .await;

    let list = cms
        .list(&ListParams::default())
        .await
        .expect("the client retries 429 on its own");
    assert_eq!(list.items.len(), 1);

    let codes: Vec<u64> = t
        .audit_since(since)
        .await
        .iter()
        .filter(|e| e["verb"] == "list" && e["path"] == "/api/v1/namespaces/test/configmaps")
        .map(|e| e["code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [429, 429, 200]);
    let faults = t.admin(Method::GET, "faults", None).await;
    assert_eq!(faults["errors"], json!([]), "the counted fault is used up");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_body_is_a_status_with_retry_after() {
    let t = TestSim::start().await;
    t.admin(
        Method::POST,
        "faults/errors",
        Some(json!({
            "verb": "get", "resource": "configmaps", "code": 429, "count": 1,
            "retryAfterSeconds": 2
        })),
    )
    .await;
    // Over plain HTTP, as the retry policy sees it before retrying.
    let resp = t
        .http
        .get(format!(
            "{}/api/v1/namespaces/test/configmaps/x",
            t.sim.url()
        ))
        .bearer_auth("admin-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "2");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["code"], 429);
    assert_eq!(body["reason"], "TooManyRequests");
    assert_eq!(body["details"]["retryAfterSeconds"], 2);
    t.stop().await;
}
