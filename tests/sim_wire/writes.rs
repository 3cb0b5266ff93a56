//! Writes: patch types and their failures, finalizer rules, write options, server-side apply,
//! methods no route serves (k8s-api.md §2, §5).

use reqwest::Method;
use serde_json::json;

use super::support::*;

#[tokio::test]
async fn no_new_finalizers_on_a_terminating_object() {
    let sim = Sim::start("healthy").await;
    sim.create(CMS, &configmap_with_finalizer("term", "a"))
        .await;
    sim.delete(&cm_path("term"), None).await.expect(200);
    let message = "ConfigMap \"term\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"x\"}";
    let d = sim
        .merge_patch(
            &cm_path("term"),
            &json!({"metadata": {"finalizers": ["a", "x"]}}),
        )
        .await
        .expect_status(422, "Invalid", message);
    assert_eq!(
        d["causes"],
        json!([{
            "reason": "FieldValueForbidden",
            "message": "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"x\"}",
            "field": "metadata.finalizers",
        }])
    );
    // The same through a JSON patch and through PUT.
    sim.patch(
        &cm_path("term"),
        "application/json-patch+json",
        &json!([{"op": "add", "path": "/metadata/finalizers/-", "value": "x"}]),
    )
    .await
    .expect_status(422, "Invalid", message);
    let mut obj = sim.get(&cm_path("term")).await.expect(200);
    obj["metadata"]["finalizers"] = json!(["a", "x"]);
    sim.put(&cm_path("term"), &obj)
        .await
        .expect_status(422, "Invalid", message);
    sim.stop().await;
}

#[tokio::test]
async fn strategic_merge_on_a_custom_resource_is_415() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    sim.create(ISVCS, &isvc("m")).await;
    let r = sim
        .patch(
            &format!("{ISVCS}/m"),
            "application/strategic-merge-patch+json",
            &json!({"metadata": {"labels": {"a": "b"}}}),
        )
        .await;
    assert_eq!(
        r.expect(415),
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            "reason": "UnsupportedMediaType", "code": 415,
        })
    );
    // Built-in kinds take it, with a charset parameter too.
    sim.create(CMS, &configmap("smp")).await;
    sim.patch(
        &cm_path("smp"),
        "application/strategic-merge-patch+json; charset=utf-8",
        &json!({"data": {"x": "y"}}),
    )
    .await
    .expect(200);
    sim.stop().await;
}

#[tokio::test]
async fn a_failed_json_patch_is_the_generic_422() {
    let sim = Sim::start("healthy").await;
    sim.create(CMS, &configmap("jp")).await;
    let r = sim
        .patch(
            &cm_path("jp"),
            "application/json-patch+json",
            &json!([{"op": "test", "path": "/data/k", "value": "other"}]),
        )
        .await;
    assert_eq!(
        r.expect(422),
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "the server rejected our request due to an error in our request",
            "reason": "Invalid", "details": {}, "code": 422,
        })
    );
    // kube-runtime's finalizer helper: a test of an absent list against null passes.
    sim.patch(
        &cm_path("jp"),
        "application/json-patch+json",
        &json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": ["f"]},
        ]),
    )
    .await
    .expect(200);
    sim.stop().await;
}

#[tokio::test]
async fn methods_no_route_serves_are_the_generic_405() {
    let sim = Sim::start("healthy").await;
    let cm = sim.create(CMS, &configmap("c")).await;
    let expected = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the server does not allow this method on the requested resource",
        "reason": "MethodNotAllowed", "details": {}, "code": 405,
    });
    let cases: &[(Method, &str)] = &[
        (Method::OPTIONS, "/api/v1/namespaces/wire/configmaps/c"),
        (Method::POST, "/api/v1/namespaces/wire/configmaps/c"),
        (Method::PUT, CMS),
        (Method::POST, "/api/v1/configmaps"),
        (Method::DELETE, "/api/v1/configmaps"),
        (Method::POST, "/version"),
        (Method::DELETE, "/apis/apps/v1"),
        (
            Method::GET,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        ),
    ];
    for (method, path) in cases {
        let r = sim
            .send(
                method.clone(),
                path,
                Some("application/json"),
                Some(bytes(&cm)),
            )
            .await;
        assert_eq!(r.status, 405, "{method} {path}");
        assert_eq!(r.json(), expected, "{method} {path}");
    }
    // `watch` on a named object is ignored: the object itself.
    let got = sim.get(&format!("{}?watch=true", cm_path("c"))).await;
    assert_eq!(got.expect(200), cm);
    sim.stop().await;
}

#[tokio::test]
async fn write_options_are_validated_before_the_body() {
    let sim = Sim::start("healthy").await;
    sim.create(CMS, &configmap("c")).await;
    let d = sim
        .post(&format!("{CMS}?dryRun=Some"), &configmap("d"))
        .await
        .expect_status(
            422,
            "Invalid",
            "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: [\"Some\"]: supported values: \"All\"",
        );
    assert_eq!(d["kind"], "CreateOptions");
    assert_eq!(d["group"], "meta.k8s.io");
    let long = "m".repeat(129);
    sim.send(
        Method::PUT,
        &format!("{}?fieldManager={long}", cm_path("c")),
        Some("application/json"),
        Some(b"not even JSON".to_vec()),
    )
    .await
    .expect_status(
        422,
        "Invalid",
        "UpdateOptions.meta.k8s.io \"\" is invalid: fieldManager: Too long: may not be more than 128 bytes",
    );
    // Patch options are checked before the object is looked up.
    sim.merge_patch(&format!("{}?force=true", cm_path("absent")), &json!({}))
        .await
        .expect_status(
            422,
            "Invalid",
            "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch",
        );
    let d = sim
        .patch(
            &cm_path("absent"),
            "application/apply-patch+yaml",
            &configmap("absent"),
        )
        .await
        .expect_status(
            422,
            "Invalid",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        );
    assert_eq!(
        d["causes"],
        json!([{"reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"}])
    );
    // A dry run validates and answers, and stores nothing.
    let dry = sim
        .post(&format!("{CMS}?dryRun=All"), &configmap("dry"))
        .await
        .expect(201);
    assert_eq!(dry["metadata"]["name"], "dry");
    sim.get(&cm_path("dry")).await.expect(404);
    sim.stop().await;
}

#[tokio::test]
async fn server_side_apply_creates_and_reports_conflicts() {
    let sim = Sim::start("healthy").await;
    let lease = |holder: &str| {
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": "lock"}, "spec": {"holderIdentity": holder}})
    };
    let path = "/apis/coordination.k8s.io/v1/namespaces/wire/leases/lock";
    let created = sim
        .patch(
            &format!("{path}?fieldManager=mgrA"),
            "application/apply-patch+yaml",
            &lease("a"),
        )
        .await
        .expect(201);
    assert_eq!(created["spec"]["holderIdentity"], "a");
    let d = sim
        .patch(
            &format!("{path}?fieldManager=mgrB"),
            "application/apply-patch+yaml",
            &lease("b"),
        )
        .await
        .expect_status_naming(409, "Conflict", &["mgrA"]);
    assert_eq!(
        d,
        "Apply failed with 1 conflict: conflict with \"mgrA\": .spec.holderIdentity"
    );
    let body = sim
        .patch(
            &format!("{path}?fieldManager=mgrB"),
            "application/apply-patch+yaml",
            &lease("b"),
        )
        .await
        .json();
    assert_eq!(
        body["details"]["causes"],
        json!([{"reason": "FieldManagerConflict", "message": "conflict with \"mgrA\"", "field": ".spec.holderIdentity"}])
    );
    let forced = sim
        .patch(
            &format!("{path}?fieldManager=mgrB&force=true"),
            "application/apply-patch+yaml",
            &lease("b"),
        )
        .await
        .expect(200);
    assert_eq!(forced["spec"]["holderIdentity"], "b");
    sim.stop().await;
}

#[tokio::test]
async fn put_without_resource_version_and_conditional_patches() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    // Built-in kinds take an unconditional PUT; custom resources need the resourceVersion.
    let cm = sim.create(CMS, &configmap("c")).await;
    let mut unconditional = configmap("c");
    unconditional["data"] = json!({"k": "new"});
    sim.put(&cm_path("c"), &unconditional).await.expect(200);
    sim.create(ISVCS, &isvc("m")).await;
    let d = sim
        .put(&format!("{ISVCS}/m"), &isvc("m"))
        .await
        .expect_status(
            422,
            "Invalid",
            "InferenceService.serving.kserve.io \"m\" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update",
        );
    assert_eq!(d["group"], "serving.kserve.io");
    assert_eq!(d["kind"], "InferenceService");
    // A patch is unconditional unless it carries a resourceVersion.
    sim.merge_patch(&cm_path("c"), &json!({"data": {"k": "patched"}}))
        .await
        .expect(200);
    sim.merge_patch(
        &cm_path("c"),
        &json!({"metadata": {"resourceVersion": rv(&cm)}, "data": {"k": "stale"}}),
    )
    .await
    .expect_status(
        409,
        "Conflict",
        "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again",
    );
    sim.stop().await;
}

#[tokio::test]
async fn removing_finalizers_by_each_patch_type() {
    let sim = Sim::start("healthy").await;
    let fin = |name: &str| {
        let mut cm = configmap(name);
        cm["metadata"]["finalizers"] = json!(["a", "b"]);
        cm
    };
    for name in [
        "merge-null",
        "merge-empty",
        "json-remove",
        "smp-null",
        "smp-empty",
    ] {
        sim.create(CMS, &fin(name)).await;
    }
    let fins = |v: &serde_json::Value| v["metadata"]["finalizers"].clone();
    let smp = "application/strategic-merge-patch+json";
    let r = sim
        .merge_patch(
            &cm_path("merge-null"),
            &json!({"metadata": {"finalizers": null}}),
        )
        .await
        .expect(200);
    assert_eq!(fins(&r), json!(null));
    let r = sim
        .merge_patch(
            &cm_path("merge-empty"),
            &json!({"metadata": {"finalizers": []}}),
        )
        .await
        .expect(200);
    assert!(fins(&r).is_null() || fins(&r) == json!([]), "{r}");
    let r = sim
        .patch(
            &cm_path("json-remove"),
            "application/json-patch+json",
            &json!([{"op": "remove", "path": "/metadata/finalizers"}]),
        )
        .await
        .expect(200);
    assert_eq!(fins(&r), json!(null));
    let r = sim
        .patch(
            &cm_path("smp-null"),
            smp,
            &json!({"metadata": {"finalizers": null}}),
        )
        .await
        .expect(200);
    assert_eq!(fins(&r), json!(null));
    // Strategic merge unions lists: [] removes nothing.
    let r = sim
        .patch(
            &cm_path("smp-empty"),
            smp,
            &json!({"metadata": {"finalizers": []}}),
        )
        .await
        .expect(200);
    assert_eq!(fins(&r), json!(["a", "b"]));
    sim.stop().await;
}

#[tokio::test]
async fn status_and_scale_subresources() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    sim.create(DEPLOYS, &deployment("web")).await;
    let path = format!("{DEPLOYS}/web");
    // A main-resource write keeps the old status; a status write changes only the status.
    let r = sim
        .merge_patch(
            &path,
            &json!({"status": {"replicas": 7}, "spec": {"replicas": 2}}),
        )
        .await
        .expect(200);
    assert!(r["status"].get("replicas").is_none(), "{r}");
    assert_eq!(r["spec"]["replicas"], 2);
    let r = sim
        .merge_patch(
            &format!("{path}/status"),
            &json!({"status": {"replicas": 2}, "spec": {"replicas": 9}}),
        )
        .await
        .expect(200);
    assert_eq!(r["status"]["replicas"], 2);
    assert_eq!(r["spec"]["replicas"], 2);
    let scale = sim.get(&format!("{path}/scale")).await.expect(200);
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"], json!({"replicas": 2}));
    assert_eq!(
        scale["status"],
        json!({"replicas": 2, "selector": "app=web"})
    );
    let scaled = sim
        .merge_patch(&format!("{path}/scale"), &json!({"spec": {"replicas": 3}}))
        .await
        .expect(200);
    assert_eq!(scaled["spec"]["replicas"], 3);
    assert_eq!(sim.get(&path).await.expect(200)["spec"]["replicas"], 3);
    sim.stop().await;
}
