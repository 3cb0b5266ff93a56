//! Patches as kube-rs sends them: merge and JSON patches on finalizers, the JSON-patch `test` the
//! finalizer helper relies on, strategic merge refused for custom resources, server-side apply
//! conflicts between field managers.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams,
    PostParams, WatchEvent, WatchParams,
};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

use crate::common::inproc::{NS, TestSim, api_status, within};

const FINALIZER: &str = "example.com/hold";

fn config_map(name: &str, finalizers: &[&str]) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "finalizers": finalizers},
        "data": {"k": "v"},
    }))
    .unwrap()
}

fn json_patch(ops: Value) -> Patch<()> {
    Patch::Json(serde_json::from_value(ops).expect("a JSON patch"))
}

/// Creates `name` with a finalizer and deletes it: Terminating, held by the finalizer.
async fn terminating(cms: &Api<ConfigMap>, name: &str) -> ConfigMap {
    cms.create(&PostParams::default(), &config_map(name, &[FINALIZER]))
        .await
        .unwrap();
    cms.delete(name, &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("terminating")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_last_finalizer_deletes_a_terminating_object() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    let pp = PatchParams::default();

    // Merge patch with null: 200 with the patched object, watchers see only DELETED carrying
    // the last stored object (finalizer still listed).
    let held = terminating(&cms, "merge-null").await;
    let rv = held.resource_version().unwrap();
    let mut watch = cms
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    let patched = cms
        .patch(
            "merge-null",
            &pp,
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .expect("the patch answers 200");
    assert!(patched.finalizers().is_empty(), "{patched:?}");
    assert!(patched.meta().deletion_timestamp.is_some());
    let s = api_status(cms.get("merge-null").await);
    assert!(s.is_not_found(), "{s:?}");
    match within("DELETED event", watch.try_next()).await {
        Ok(Some(WatchEvent::Deleted(last))) => {
            assert_eq!(last.finalizers(), [FINALIZER]);
            assert!(last.resource_version().unwrap().parse::<u64>().unwrap() > rv.parse().unwrap());
        }
        other => panic!("expected only DELETED, got {other:?}"),
    }

    // Merge patch with [] and a JSON patch remove do the same.
    terminating(&cms, "merge-empty").await;
    cms.patch(
        "merge-empty",
        &pp,
        &Patch::Merge(json!({"metadata": {"finalizers": []}})),
    )
    .await
    .unwrap();
    assert!(api_status(cms.get("merge-empty").await).is_not_found());
    terminating(&cms, "json-remove").await;
    cms.patch(
        "json-remove",
        &pp,
        &json_patch(json!([{"op": "remove", "path": "/metadata/finalizers"}])),
    )
    .await
    .unwrap();
    assert!(api_status(cms.get("json-remove").await).is_not_found());

    // Strategic merge unions lists: [] removes nothing, null does.
    terminating(&cms, "strategic").await;
    let kept = cms
        .patch(
            "strategic",
            &pp,
            &Patch::Strategic(json!({"metadata": {"finalizers": []}})),
        )
        .await
        .unwrap();
    assert_eq!(kept.finalizers(), [FINALIZER]);
    cms.patch(
        "strategic",
        &pp,
        &Patch::Strategic(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(api_status(cms.get("strategic").await).is_not_found());

    // No new finalizer on a terminating object.
    terminating(&cms, "no-new").await;
    let s = api_status(
        cms.patch(
            "no-new",
            &pp,
            &Patch::Merge(json!({"metadata": {"finalizers": [FINALIZER, "x"]}})),
        )
        .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"), "{s:?}");
    assert!(
        s.message.ends_with(
            "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"x\"}"
        ),
        "{}",
        s.message
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_patch_test_of_absent_finalizers_against_null_passes() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    cms.create(&PostParams::default(), &config_map("cm", &[]))
        .await
        .unwrap();
    // What kube-runtime's finalizer helper sends to add the first finalizer.
    let add = json_patch(json!([
        {"op": "test", "path": "/metadata/finalizers", "value": null},
        {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]},
    ]));
    let cm = cms
        .patch("cm", &PatchParams::default(), &add)
        .await
        .expect("test against null passes when the field is absent");
    assert_eq!(cm.finalizers(), [FINALIZER]);

    // Now the field is there: the same test fails with the apiserver's 422.
    let s = api_status(cms.patch("cm", &PatchParams::default(), &add).await);
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"), "{s:?}");
    assert_eq!(
        s.message,
        "the server rejected our request due to an error in our request"
    );
    assert_eq!(cms.get("cm").await.unwrap().finalizers(), [FINALIZER]);
    t.stop().await;
}

/// Runs kube-runtime's finalizer helper once on the current object; which event it reconciled.
async fn run_finalizer(cms: &Api<ConfigMap>, name: &str, finalizer_name: &str) -> &'static str {
    let obj = Arc::new(cms.get(name).await.unwrap());
    let seen = Arc::new(std::sync::Mutex::new("none"));
    let record = seen.clone();
    finalizer(cms, finalizer_name, obj, |event| async move {
        *record.lock().unwrap() = match event {
            FinalizerEvent::Apply(_) => "apply",
            FinalizerEvent::Cleanup(_) => "cleanup",
        };
        Ok::<_, std::convert::Infallible>(Action::await_change())
    })
    .await
    .unwrap_or_else(|e| panic!("finalizer helper for {finalizer_name}: {e}"));
    *seen.lock().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_runtime_finalizer_helper_adds_and_removes_its_finalizers() {
    let t = TestSim::start().await;
    let cms: Api<ConfigMap> = t.api();
    // Sent as `finalizers: []`, read back without the field.
    cms.create(&PostParams::default(), &config_map("guarded", &[]))
        .await
        .unwrap();
    let (first, second) = ("example.com/first", "example.com/second");
    // First pass adds the finalizer (test null + add), without reconciling.
    assert_eq!(run_finalizer(&cms, "guarded", first).await, "none");
    assert_eq!(cms.get("guarded").await.unwrap().finalizers(), [first]);
    assert_eq!(run_finalizer(&cms, "guarded", first).await, "apply");
    // A second helper appends (test of the whole list + add at /-).
    assert_eq!(run_finalizer(&cms, "guarded", second).await, "none");
    assert_eq!(
        cms.get("guarded").await.unwrap().finalizers(),
        [first, second]
    );

    cms.delete("guarded", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("terminating");
    // Cleanup, then test + remove of its index: the object waits for the other finalizer.
    assert_eq!(run_finalizer(&cms, "guarded", first).await, "cleanup");
    assert_eq!(cms.get("guarded").await.unwrap().finalizers(), [second]);
    assert_eq!(run_finalizer(&cms, "guarded", second).await, "cleanup");
    assert!(api_status(cms.get("guarded").await).is_not_found());
    t.stop().await;
}

fn isvc_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("serving.kserve.io", "v1beta1", "InferenceService"),
        "inferenceservices",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strategic_merge_on_an_inference_service_is_415() {
    let t = TestSim::start().await;
    let ar = isvc_resource();
    let isvcs: Api<DynamicObject> = Api::namespaced_with(t.client.clone(), NS, &ar);
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "model", "annotations": {"serving.kserve.io/deploymentMode": "RawDeployment"}},
        "spec": {"predictor": {"minReplicas": 1, "model": {
            "modelFormat": {"name": "sklearn"},
            "storageUri": "gs://kfserving-examples/models/sklearn/1.0/model"
        }}},
    }))
    .unwrap();
    isvcs.create(&PostParams::default(), &obj).await.unwrap();

    let body = json!({"metadata": {"labels": {"team": "search"}}});
    let s = api_status(
        isvcs
            .patch("model", &PatchParams::default(), &Patch::Strategic(&body))
            .await,
    );
    assert_eq!(
        (s.code, s.reason.as_str()),
        (415, "UnsupportedMediaType"),
        "{s:?}"
    );
    assert!(
        s.message.contains("application/merge-patch+json")
            && !s.message.contains("strategic-merge-patch"),
        "{}",
        s.message
    );
    // The same change as a merge patch is fine.
    let patched = isvcs
        .patch("model", &PatchParams::default(), &Patch::Merge(&body))
        .await
        .unwrap();
    assert_eq!(patched.labels()["team"], "search");
    t.stop().await;
}

fn lease(holder: &str) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "lock"},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_by_two_managers_conflicts_unless_forced() {
    let t = TestSim::start().await;
    let leases: Api<Lease> = t.api();
    let created = leases
        .patch(
            "lock",
            &PatchParams::apply("mgr-a"),
            &Patch::Apply(lease("a")),
        )
        .await
        .expect("apply creates");
    assert_eq!(created.spec.unwrap().holder_identity.as_deref(), Some("a"));
    // The same manager may change its own field.
    leases
        .patch(
            "lock",
            &PatchParams::apply("mgr-a"),
            &Patch::Apply(lease("a2")),
        )
        .await
        .unwrap();

    let s = api_status(
        leases
            .patch(
                "lock",
                &PatchParams::apply("mgr-b"),
                &Patch::Apply(lease("b")),
            )
            .await,
    );
    assert!(s.is_conflict(), "{s:?}");
    assert_eq!(s.code, 409);
    let causes = s.details.expect("details").causes;
    assert!(
        causes.iter().any(|c| c.reason == "FieldManagerConflict"
            && c.message == "conflict with \"mgr-a\""
            && c.field == ".spec.holderIdentity"),
        "{causes:?}"
    );
    let unchanged = leases.get("lock").await.unwrap();
    assert_eq!(
        unchanged.spec.unwrap().holder_identity.as_deref(),
        Some("a2")
    );

    let forced = leases
        .patch(
            "lock",
            &PatchParams::apply("mgr-b").force(),
            &Patch::Apply(lease("b")),
        )
        .await
        .expect("a forced apply takes the field over");
    assert_eq!(forced.spec.unwrap().holder_identity.as_deref(), Some("b"));
    // Now mgr-a is the one in conflict.
    let s = api_status(
        leases
            .patch(
                "lock",
                &PatchParams::apply("mgr-a"),
                &Patch::Apply(lease("a3")),
            )
            .await,
    );
    assert!(s.is_conflict(), "{s:?}");
    t.stop().await;
}
