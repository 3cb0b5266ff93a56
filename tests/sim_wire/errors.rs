//! Error answers: the `Status` body of every failure a client must tell apart (k8s-api.md §2, §3, §5).

use reqwest::Method;
use serde_json::json;

use super::support::*;

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

#[tokio::test]
async fn not_found_names_the_resource_and_leaves_group_out_for_core() {
    let sim = Sim::start("healthy").await;
    let d = sim.get(&format!("{PODS}/nope")).await.expect_status(
        404,
        "NotFound",
        "pods \"nope\" not found",
    );
    assert_eq!(d, json!({"name": "nope", "kind": "pods"}));

    let d = sim.get(&format!("{DEPLOYS}/nope")).await.expect_status(
        404,
        "NotFound",
        "deployments.apps \"nope\" not found",
    );
    assert_eq!(
        d,
        json!({"name": "nope", "group": "apps", "kind": "deployments"})
    );

    let d = sim.get(&format!("{ISVCS}/nope")).await.expect_status(
        404,
        "NotFound",
        "inferenceservices.serving.kserve.io \"nope\" not found",
    );
    assert_eq!(
        d,
        json!({"name": "nope", "group": "serving.kserve.io", "kind": "inferenceservices"})
    );

    // A cluster-scoped object.
    let d = sim
        .get("/api/v1/namespaces/no-such-ns")
        .await
        .expect_status(404, "NotFound", "namespaces \"no-such-ns\" not found");
    assert_eq!(d, json!({"name": "no-such-ns", "kind": "namespaces"}));
    sim.stop().await;
}

#[tokio::test]
async fn creating_in_a_missing_namespace_is_namespace_not_found() {
    let sim = Sim::start("healthy").await;
    let d = sim
        .post("/api/v1/namespaces/no-such-ns/configmaps", &configmap("c"))
        .await
        .expect_status(404, "NotFound", "namespaces \"no-such-ns\" not found");
    assert_eq!(d, json!({"name": "no-such-ns", "kind": "namespaces"}));
    sim.stop().await;
}

#[tokio::test]
async fn unknown_paths_are_the_generic_not_found() {
    let sim = Sim::start("healthy").await;
    let expected = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the server could not find the requested resource",
        "reason": "NotFound", "details": {}, "code": 404,
    });
    for path in [
        "/api/v1/widgets",
        "/api/v1/namespaces/wire/widgets",
        "/apis/apps/v2/deployments",
        "/apis/nope.example.com/v1/things",
        "/apis/nope.example.com",
        "/api/v1/namespaces/wire/pods/p/exec",
        "/api/v1/pods/p",
        "/openapi/v2",
        "/",
    ] {
        let r = sim.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.json(), expected, "{path}");
    }
    sim.stop().await;
}

#[tokio::test]
async fn already_exists_and_conflict() {
    let sim = Sim::start("healthy").await;
    sim.create(CMS, &configmap("c")).await;
    let d = sim.post(CMS, &configmap("c")).await.expect_status(
        409,
        "AlreadyExists",
        "configmaps \"c\" already exists",
    );
    assert_eq!(d, json!({"name": "c", "kind": "configmaps"}));

    let web = sim.create(DEPLOYS, &deployment("web")).await;
    let d = sim.post(DEPLOYS, &deployment("web")).await.expect_status(
        409,
        "AlreadyExists",
        "deployments.apps \"web\" already exists",
    );
    assert_eq!(
        d,
        json!({"name": "web", "group": "apps", "kind": "deployments"})
    );

    // PUT with the resourceVersion of a copy someone else has since changed.
    let mut stale = web.clone();
    sim.merge_patch(
        &format!("{DEPLOYS}/web"),
        &json!({"metadata": {"labels": {"touched": "yes"}}}),
    )
    .await
    .expect(200);
    stale["spec"]["replicas"] = json!(3);
    let d = sim.put(&format!("{DEPLOYS}/web"), &stale).await.expect_status(
        409,
        "Conflict",
        "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again",
    );
    assert_eq!(
        d,
        json!({"name": "web", "group": "apps", "kind": "deployments"})
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_name_held_by_a_terminating_object_already_exists() {
    let sim = Sim::start("healthy").await;
    sim.create(CMS, &configmap_with_finalizer("held", "example.com/hold"))
        .await;
    let gone = sim.delete(&cm_path("held"), None).await.expect(200);
    assert!(gone["metadata"]["deletionTimestamp"].is_string());
    sim.post(CMS, &configmap("held")).await.expect_status(
        409,
        "AlreadyExists",
        "configmaps \"held\" already exists",
    );
    sim.stop().await;
}

#[tokio::test]
async fn invalid_names_are_422_with_one_cause() {
    let sim = Sim::start("healthy").await;
    let d = sim
        .post(DEPLOYS, &deployment("Bad"))
        .await
        .expect_status(
            422,
            "Invalid",
            &format!(
                "Deployment.apps \"Bad\" is invalid: metadata.name: Invalid value: \"Bad\": {SUBDOMAIN_MSG}"
            ),
        );
    assert_eq!(
        d,
        json!({
            "name": "Bad", "group": "apps", "kind": "Deployment",
            "causes": [{
                "reason": "FieldValueInvalid",
                "message": format!("Invalid value: \"Bad\": {SUBDOMAIN_MSG}"),
                "field": "metadata.name",
            }],
        })
    );
    // Core kinds: no group in the details.
    let d = sim
        .post(PODS, &pod("Bad_Pod", &["c"], None))
        .await
        .expect_status(
            422,
            "Invalid",
            &format!(
                "Pod \"Bad_Pod\" is invalid: metadata.name: Invalid value: \"Bad_Pod\": {SUBDOMAIN_MSG}"
            ),
        );
    assert_eq!(d["kind"], "Pod");
    assert_eq!(d["name"], "Bad_Pod");
    assert!(d.get("group").is_none(), "{d}");
    // No name at all: the details carry no empty name either.
    let mut nameless = configmap("x");
    nameless["metadata"] = json!({});
    let d = sim.post(CMS, &nameless).await.expect_status(
        422,
        "Invalid",
        "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required",
    );
    assert_eq!(
        d,
        json!({"kind": "ConfigMap", "causes": [{
            "reason": "FieldValueRequired",
            "message": "Required value: name or generateName is required",
            "field": "metadata.name",
        }]})
    );
    sim.stop().await;
}

#[tokio::test]
async fn malformed_bodies_are_400_naming_the_problem() {
    let sim = Sim::start("healthy").await;
    sim.create(CMS, &configmap("m")).await;
    let truncated = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"#.to_vec();
    for (method, path, ct) in [
        (Method::POST, CMS.to_string(), "application/json"),
        (Method::PUT, cm_path("m"), "application/json"),
        (Method::PATCH, cm_path("m"), "application/merge-patch+json"),
        (Method::PATCH, cm_path("m"), "application/json-patch+json"),
        (
            Method::PATCH,
            cm_path("m"),
            "application/strategic-merge-patch+json",
        ),
    ] {
        let r = sim
            .send(method.clone(), &path, Some(ct), Some(truncated.clone()))
            .await;
        let msg = r.expect_status_naming(400, "BadRequest", &["JSON", "EOF"]);
        assert!(msg.contains("line 1"), "{method} {path}: {msg}");
    }
    // Not JSON at all.
    let r = sim
        .send(
            Method::POST,
            CMS,
            Some("application/json"),
            Some(b"kind: ConfigMap".to_vec()),
        )
        .await;
    r.expect_status_naming(400, "BadRequest", &["JSON", "expected value"]);
    // JSON, but not an object.
    let r = sim
        .send(
            Method::POST,
            CMS,
            Some("application/json"),
            Some(b"[1,2]".to_vec()),
        )
        .await;
    r.expect_status_naming(400, "BadRequest", &["ConfigMap"]);
    // The wrong kind for the collection.
    let mut wrong = configmap("w");
    wrong["kind"] = json!("Secret");
    sim.post(CMS, &wrong).await.expect_status(
        400,
        "BadRequest",
        "the kind in the data (Secret) does not match the expected kind (ConfigMap)",
    );
    // A JSON patch that is not a list of operations cannot be decoded: 400. One whose operation
    // is unknown decodes and then fails to apply (as evanphx/json-patch does): the generic 422.
    let r = sim
        .patch(
            &cm_path("m"),
            "application/json-patch+json",
            &json!({"op": "add", "path": "/data/x", "value": "y"}),
        )
        .await;
    r.expect_status_naming(400, "BadRequest", &["patch"]);
    sim.patch(
        &cm_path("m"),
        "application/json-patch+json",
        &json!([{"op": "jump", "path": "/data"}]),
    )
    .await
    .expect_status(
        422,
        "Invalid",
        "the server rejected our request due to an error in our request",
    );
    sim.stop().await;
}

#[tokio::test]
async fn bad_selectors_are_400_naming_what_is_wrong() {
    let sim = Sim::start("healthy").await;
    let cases: &[(&str, &[&str])] = &[
        (
            "labelSelector=app%20in%20(a",
            &["unable to parse requirement", "found ''"],
        ),
        (
            "labelSelector=app%3D%3Da%3Db",
            &["found '='", "expected: ',' or 'end of string'"],
        ),
        ("labelSelector=a%20b", &["found 'b'"]),
        (
            "labelSelector=-bad-key%3Dv",
            &["-bad-key", "name part must consist of alphanumeric"],
        ),
        ("labelSelector=app%3Dspa%20ce%2Cx", &["found 'ce'"]),
        (
            "fieldSelector=spec.foo%3Dbar",
            &["field label not supported: spec.foo"],
        ),
        (
            "fieldSelector=metadata.name",
            &[
                "invalid selector: 'metadata.name'",
                "can't understand 'metadata.name'",
            ],
        ),
    ];
    for (query, parts) in cases {
        let r = sim.get(&format!("{PODS}?{query}")).await;
        let msg = r.expect_status_naming(400, "BadRequest", parts);
        assert!(!msg.is_empty(), "{query}");
        // A watch validates the same way, before any stream starts.
        let r = sim.get(&format!("{PODS}?watch=true&{query}")).await;
        r.expect_status_naming(400, "BadRequest", parts);
    }
    // Kinds without their own field conversion: only name and namespace.
    sim.get(&format!("{DEPLOYS}?fieldSelector=spec.replicas%3D1"))
        .await
        .expect_status(
            400,
            "BadRequest",
            "\"spec.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
        );
    sim.stop().await;
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let sim = Sim::start("healthy").await;
    let limit = 3 * 1024 * 1024;
    let mut cm = configmap("big");
    cm["data"]["blob"] = json!("x".repeat(limit));
    let body = bytes(&cm);
    assert!(body.len() > limit);
    let r = sim
        .send(Method::POST, CMS, Some("application/json"), Some(body))
        .await;
    assert_eq!(
        r.expect(413),
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Request entity too large: limit is 3145728",
            "reason": "RequestEntityTooLarge", "code": 413,
        })
    );
    // Exactly at the limit is read (and then judged on its content).
    let mut at_limit = b"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"edge\"},\"data\":{\"b\":\"".to_vec();
    let tail = b"\"}}";
    at_limit.resize(limit - tail.len(), b'y');
    at_limit.extend_from_slice(tail);
    assert_eq!(at_limit.len(), limit);
    let r = sim
        .send(Method::POST, CMS, Some("application/json"), Some(at_limit))
        .await;
    assert_ne!(r.status, 413);
    sim.stop().await;
}

#[tokio::test]
async fn a_bad_token_is_401_everywhere() {
    let sim = Sim::start("healthy").await;
    let expected = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Unauthorized", "reason": "Unauthorized", "code": 401,
    });
    for token in ["garbage", "nobody-token", "-token"] {
        for path in [PODS, "/api", "/version", "/healthz", "/api/v1/nope"] {
            let r = sim
                .send_as(Method::GET, path, None, None, Some(token))
                .await;
            assert_eq!(r.status, 401, "{token} {path}");
            assert_eq!(r.json(), expected, "{token} {path}");
        }
    }
    // Anonymous requests may still ask for the version; a good token works.
    sim.get("/version").await.expect(200);
    sim.send_as(Method::GET, PODS, None, None, Some("admin-token"))
        .await
        .expect(200);
    sim.stop().await;
}

#[tokio::test]
async fn rbac_denials_name_user_verb_resource_group_and_scope() {
    let sim = Sim::start("rbac-denied").await;
    let op = Some("operator-token");
    let isvc_path = "/apis/serving.kserve.io/v1beta1/namespaces/llm-prod/inferenceservices/llama-3-70b-instruct";
    let r = sim.send_as(Method::DELETE, isvc_path, None, None, op).await;
    let d = r.expect_status(
        403,
        "Forbidden",
        "inferenceservices.serving.kserve.io \"llama-3-70b-instruct\" is forbidden: User \"operator\" cannot delete resource \"inferenceservices\" in API group \"serving.kserve.io\" in the namespace \"llm-prod\"",
    );
    assert_eq!(
        d,
        json!({"name": "llama-3-70b-instruct", "group": "serving.kserve.io", "kind": "inferenceservices"})
    );
    // Stripping finalizers is a patch, which the operator may not do.
    let r = sim
        .send_as(
            Method::PATCH,
            isvc_path,
            Some("application/merge-patch+json"),
            Some(bytes(&json!({"metadata": {"finalizers": null}}))),
            op,
        )
        .await;
    r.expect_status(
        403,
        "Forbidden",
        "inferenceservices.serving.kserve.io \"llama-3-70b-instruct\" is forbidden: User \"operator\" cannot patch resource \"inferenceservices\" in API group \"serving.kserve.io\" in the namespace \"llm-prod\"",
    );
    // Core group: the group is empty in the message and absent from the details.
    let r = sim
        .send_as(
            Method::DELETE,
            "/api/v1/namespaces/llm-prod",
            None,
            None,
            op,
        )
        .await;
    let d = r.expect_status(
        403,
        "Forbidden",
        "namespaces \"llm-prod\" is forbidden: User \"operator\" cannot delete resource \"namespaces\" in API group \"\" at the cluster scope",
    );
    assert_eq!(d, json!({"name": "llm-prod", "kind": "namespaces"}));
    // A collection request has no name.
    let r = sim
        .send_as(
            Method::DELETE,
            "/api/v1/namespaces/llm-prod/pods",
            None,
            None,
            op,
        )
        .await;
    let d = r.expect_status(
        403,
        "Forbidden",
        "pods is forbidden: User \"operator\" cannot deletecollection resource \"pods\" in API group \"\" in the namespace \"llm-prod\"",
    );
    assert_eq!(d, json!({"kind": "pods"}));
    // A subresource is named resource/subresource in the message, plural in the details.
    let r = sim
        .send_as(
            Method::PATCH,
            "/apis/apps/v1/namespaces/llm-prod/deployments/bge-reranker/scale",
            Some("application/merge-patch+json"),
            Some(bytes(&json!({"spec": {"replicas": 0}}))),
            op,
        )
        .await;
    let d = r.expect_status(
        403,
        "Forbidden",
        "deployments.apps \"bge-reranker\" is forbidden: User \"operator\" cannot patch resource \"deployments/scale\" in API group \"apps\" in the namespace \"llm-prod\"",
    );
    assert_eq!(
        d,
        json!({"name": "bge-reranker", "group": "apps", "kind": "deployments"})
    );
    // What the operator may do still works, and admin is unrestricted.
    sim.send_as(
        Method::GET,
        "/apis/serving.kserve.io/v1beta1/namespaces/llm-prod/inferenceservices",
        None,
        None,
        op,
    )
    .await
    .expect(200);
    sim.send_as(Method::GET, isvc_path, None, None, Some("admin-token"))
        .await
        .expect(200);
    sim.stop().await;
}
