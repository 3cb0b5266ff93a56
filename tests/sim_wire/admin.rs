//! The admin API under `/sim/v1/` (the table at the top of `src/sim/http/admin.rs`): every
//! endpoint, its effect on the API, and 400 naming the field for bad input.

use reqwest::Method;
use serde_json::{Value, json};

use super::support::*;

async fn faults(sim: &Sim) -> Value {
    sim.get("/sim/v1/faults").await.expect(200)
}

#[tokio::test]
async fn the_audit_log_records_api_requests_but_not_admin_ones() {
    let sim = Sim::start("healthy").await;
    let before = sim.get("/sim/v1/audit").await.expect(200);
    let last = before["lastSeq"].as_u64().unwrap();
    assert!(before["items"].as_array().unwrap().len() as u64 <= last);
    sim.get(&format!("{CMS}?limit=1")).await.expect(200);
    sim.send_as(
        Method::GET,
        &cm_path("nope"),
        None,
        None,
        Some("admin-token"),
    )
    .await
    .expect(404);
    sim.get("/sim/v1/faults").await.expect(200);
    let after = sim
        .get(&format!("/sim/v1/audit?since={last}"))
        .await
        .expect(200);
    let items = after["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{after}");
    assert_eq!(items[0]["verb"], "list");
    assert_eq!(items[0]["method"], "GET");
    assert_eq!(items[0]["path"], CMS);
    assert_eq!(items[0]["query"], "limit=1");
    assert_eq!(items[0]["code"], 200);
    assert_eq!(items[0]["user"], "admin");
    assert_eq!(items[0]["seq"], last + 1);
    assert_eq!(items[1]["verb"], "get");
    assert_eq!(items[1]["code"], 404);
    assert_eq!(after["lastSeq"], last + 2);
    for bad in ["abc", "-1", "1.5"] {
        sim.get(&format!("/sim/v1/audit?since={bad}"))
            .await
            .expect_status_naming(400, "BadRequest", &["since", bad]);
    }
    sim.stop().await;
}

#[tokio::test]
async fn the_fault_state_reads_and_replaces_whole() {
    let sim = Sim::start("healthy").await;
    let mut state = faults(&sim).await;
    assert_eq!(state["controllers"]["kubelet"], "up");
    assert_eq!(state["errors"], json!([]));
    state["latency"] = json!([{"verb": "list", "resource": "secrets", "ms": 1}]);
    state["controllers"]["kserveDeletion"] = json!("broken");
    state["watchDropEverySeconds"] = json!(600);
    let put = sim.put("/sim/v1/faults", &state).await.expect(200);
    assert_eq!(put, state);
    assert_eq!(faults(&sim).await, state);
    let bad_inputs: &[(Value, &[&str])] = &[
        (
            json!({"errors": [{"code": "five hundred"}]}),
            &["errors[0].code", "invalid type"],
        ),
        (
            json!({"errors": [{"code": 200}]}),
            &["errors[0]", "code", "200"],
        ),
        (
            json!({"latency": [{"ms": 1, "colour": "red"}]}),
            &["latency[0]", "colour"],
        ),
        (
            json!({"latency": [{"ms": 86_400_000u64}]}),
            &["latency[0]", "ms"],
        ),
        (
            json!({"controllers": {"kubelet": "broken"}}),
            &["controllers.kubelet", "broken"],
        ),
        (
            json!({"controllers": {"kubelet": "sideways"}}),
            &["controllers.kubelet", "sideways"],
        ),
        (
            json!({"users": {"bob": [{"verbs": ["fly"], "resources": ["*"]}]}}),
            &["users.bob[0].verbs[0]", "fly"],
        ),
        (
            json!({"watchDropEverySeconds": -1}),
            &["watchDropEverySeconds"],
        ),
        (json!([1, 2]), &["fault state"]),
    ];
    for (body, parts) in bad_inputs {
        let r = sim.put("/sim/v1/faults", body).await;
        r.expect_status_naming(400, "BadRequest", parts);
    }
    sim.send(
        Method::PUT,
        "/sim/v1/faults",
        Some("application/json"),
        Some(b"{\"errors\": [".to_vec()),
    )
    .await
    .expect_status_naming(400, "BadRequest", &["fault state", "EOF"]);
    // Nothing bad got in.
    assert_eq!(faults(&sim).await, state);
    sim.stop().await;
}

#[tokio::test]
async fn injected_errors_fire_as_asked_then_stop() {
    let sim = Sim::start("healthy").await;
    sim.create(CMS, &configmap("c")).await;
    let rule = json!({"verb": "get", "resource": "configmaps", "code": 503, "count": 1, "retryAfterSeconds": 2});
    let state = sim.post("/sim/v1/faults/errors", &rule).await.expect(200);
    assert_eq!(state["errors"].as_array().unwrap().len(), 1);
    // A list does not match a get rule.
    sim.get(CMS).await.expect(200);
    let r = sim.get(&cm_path("c")).await;
    r.expect_status(
        503,
        "ServiceUnavailable",
        "the server is currently unable to handle the request",
    );
    assert_eq!(r.headers.get("retry-after").unwrap(), "2");
    sim.get(&cm_path("c")).await.expect(200);
    assert_eq!(faults(&sim).await["errors"], json!([]));

    // 429 carries retryAfterSeconds in the details and the header.
    sim.post(
        "/sim/v1/faults/errors",
        &json!({"verb": "list", "resource": "configmaps", "code": 429, "count": 1, "retryAfterSeconds": 3}),
    )
    .await
    .expect(200);
    let r = sim.get(CMS).await;
    let d = r.expect_status_naming(429, "TooManyRequests", &[]);
    assert!(!d.is_empty());
    assert_eq!(r.json()["details"], json!({"retryAfterSeconds": 3}));
    assert_eq!(r.headers.get("retry-after").unwrap(), "3");

    // A named reason and message, for one namespace and name only.
    sim.post(
        "/sim/v1/faults/errors",
        &json!({"verb": "create", "resource": "configmaps", "namespace": NS, "code": 409,
                "reason": "AlreadyExists", "message": "object is being deleted"}),
    )
    .await
    .expect(200);
    sim.post(CMS, &configmap("x")).await.expect_status(
        409,
        "AlreadyExists",
        "object is being deleted",
    );
    sim.post("/api/v1/namespaces/default/configmaps", &configmap("x"))
        .await
        .expect(201);
    // Without count it keeps firing until removed.
    sim.post(CMS, &configmap("y")).await.expect(409);
    let cleared = sim.delete("/sim/v1/faults/errors", None).await.expect(200);
    assert_eq!(cleared["errors"], json!([]));
    sim.post(CMS, &configmap("y")).await.expect(201);

    // 500: an InternalError with the message as its cause.
    sim.post(
        "/sim/v1/faults/errors",
        &json!({"verb": "delete", "resource": "*", "code": 500, "message": "boom", "count": 1}),
    )
    .await
    .expect(200);
    let d = sim.delete(&cm_path("y"), None).await.expect_status(
        500,
        "InternalError",
        "Internal error occurred: boom",
    );
    assert_eq!(d, json!({"causes": [{"message": "boom"}]}));

    let bad: &[(Value, &[&str])] = &[
        (json!({"code": 302}), &["code", "302"]),
        (json!({"code": "503"}), &["code", "invalid type"]),
        (json!({"verb": "fly", "code": 503}), &["verb", "fly"]),
        (json!({"code": 503, "probability": 1.5}), &["probability"]),
        (
            json!({"code": 503, "reason": "Because"}),
            &["reason", "Because"],
        ),
        (json!({"code": 503, "colour": "red"}), &["colour"]),
        (json!({"resource": "pods"}), &["code"]),
        (json!({"code": 503, "count": -1}), &["count"]),
    ];
    for (body, parts) in bad {
        sim.post("/sim/v1/faults/errors", body)
            .await
            .expect_status_naming(400, "BadRequest", parts);
    }
    assert_eq!(faults(&sim).await["errors"], json!([]));
    sim.stop().await;
}

#[tokio::test]
async fn latency_rules_add_and_clear() {
    let sim = Sim::start("healthy").await;
    let state = sim
        .post(
            "/sim/v1/faults/latency",
            &json!({"verb": "list", "resource": "configmaps", "ms": 5}),
        )
        .await
        .expect(200);
    assert_eq!(
        state["latency"],
        json!([{"verb": "list", "resource": "configmaps", "ms": 5}])
    );
    sim.get(CMS).await.expect(200);
    for (body, parts) in [
        (json!({"ms": 600_001}), &["ms", "600001"][..]),
        (json!({"ms": -1}), &["ms"][..]),
        (json!({"ms": "slow"}), &["ms", "invalid type"][..]),
        (json!({"verb": "list"}), &["ms"][..]),
    ] {
        sim.post("/sim/v1/faults/latency", &body)
            .await
            .expect_status_naming(400, "BadRequest", parts);
    }
    let cleared = sim.delete("/sim/v1/faults/latency", None).await.expect(200);
    assert_eq!(cleared["latency"], json!([]));
    sim.stop().await;
}

#[tokio::test]
async fn watch_drops_end_open_streams() {
    let sim = Sim::start("healthy").await;
    sim.create(CMS, &configmap("a")).await;
    // Every N seconds...
    let state = sim
        .put("/sim/v1/faults/watch-drop", &json!({"everySeconds": 1}))
        .await
        .expect(200);
    assert_eq!(state["watchDropEverySeconds"], 1);
    let mut w = sim.watch(&format!("{CMS}?watch=true")).await;
    let events = w.rest().await;
    assert_eq!(
        events.len(),
        1,
        "the synthetic ADDED, then the drop: {events:?}"
    );
    let off = sim
        .put("/sim/v1/faults/watch-drop", &json!({"everySeconds": 0}))
        .await
        .expect(200);
    assert!(off.get("watchDropEverySeconds").is_none(), "{off}");
    // ...or all at once.
    let mut w1 = sim.watch(&format!("{CMS}?watch=true")).await;
    let mut w2 = sim.watch("/api/v1/pods?watch=true&resourceVersion=1").await;
    assert_eq!(w1.next_event().await.unwrap()["type"], "ADDED");
    let dropped = sim
        .post("/sim/v1/watches/drop", &json!({}))
        .await
        .expect(200);
    assert_eq!(dropped, json!({"dropped": true}));
    w1.rest().await;
    w2.rest().await;
    for (body, parts) in [
        (json!({}), &["everySeconds"][..]),
        (json!({"everySeconds": "often"}), &["everySeconds"][..]),
        (json!({"everySeconds": -3}), &["everySeconds"][..]),
    ] {
        sim.put("/sim/v1/faults/watch-drop", &body)
            .await
            .expect_status_naming(400, "BadRequest", parts);
    }
    sim.stop().await;
}

#[tokio::test]
async fn controllers_switch_up_and_down() {
    let sim = Sim::start("healthy").await;
    let c = sim
        .put("/sim/v1/controllers/kubelet", &json!({"state": "down"}))
        .await
        .expect(200);
    assert_eq!(c["kubelet"], "down");
    assert_eq!(faults(&sim).await["controllers"]["kubelet"], "down");
    let c = sim
        .put(
            "/sim/v1/controllers/kserveDeletion",
            &json!({"state": "broken"}),
        )
        .await
        .expect(200);
    assert_eq!(c["kserveDeletion"], "broken");
    for (path, body, parts) in [
        ("kubelet", json!({"state": "sideways"}), &["state"][..]),
        ("kubelet", json!({}), &["state"][..]),
        (
            "kubelet",
            json!({"state": "broken"}),
            &["state", "broken"][..],
        ),
        ("scheduler", json!({"state": "up"}), &["scheduler"][..]),
    ] {
        sim.put(&format!("/sim/v1/controllers/{path}"), &body)
            .await
            .expect_status_naming(400, "BadRequest", parts);
    }
    sim.stop().await;
}

#[tokio::test]
async fn users_get_rbac_rules_and_lose_them() {
    let sim = Sim::start("healthy").await;
    let alice = Some("alice-token");
    sim.send_as(Method::GET, CMS, None, None, alice)
        .await
        .expect(401);
    let users = sim
        .put(
            "/sim/v1/users/alice",
            &json!([{"verbs": ["get", "list"], "resources": ["configmaps"], "namespaces": [NS]}]),
        )
        .await
        .expect(200);
    assert!(users.get("alice").is_some(), "{users}");
    sim.send_as(Method::GET, CMS, None, None, alice)
        .await
        .expect(200);
    sim.send_as(Method::GET, PODS, None, None, alice)
        .await
        .expect_status(
            403,
            "Forbidden",
            "pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"wire\"",
        );
    sim.send_as(
        Method::GET,
        "/api/v1/namespaces/default/configmaps",
        None,
        None,
        alice,
    )
    .await
    .expect(403);
    sim.create(CMS, &configmap("c")).await;
    sim.send_as(Method::DELETE, &cm_path("c"), None, None, alice)
        .await
        .expect_status(
            403,
            "Forbidden",
            "configmaps \"c\" is forbidden: User \"alice\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"wire\"",
        );
    for (body, parts) in [
        (
            json!({"verbs": ["get"]}),
            &["RBAC rules", "invalid type"][..],
        ),
        (
            json!([{"verbs": ["fly"], "resources": ["*"]}]),
            &["[0].verbs[0]", "fly"][..],
        ),
        (json!([{"verbs": ["get"]}]), &["resources"][..]),
    ] {
        sim.put("/sim/v1/users/alice", &body)
            .await
            .expect_status_naming(400, "BadRequest", parts);
    }
    let users = sim.delete("/sim/v1/users/alice", None).await.expect(200);
    assert!(users.get("alice").is_none(), "{users}");
    sim.send_as(Method::GET, CMS, None, None, alice)
        .await
        .expect(401);
    sim.stop().await;
}

#[tokio::test]
async fn info_compact_and_unknown_endpoints() {
    let sim = Sim::start("healthy").await;
    let info = sim.get("/sim/v1/info").await.expect(200);
    assert_eq!(info["seed"], 20261101);
    let cms = info["objects"]["configmaps"].as_u64().unwrap();
    assert!(
        info["objects"]["deployments.apps"].as_u64().is_some(),
        "{info}"
    );
    assert!(
        info["objects"]["inferenceservices.serving.kserve.io"]
            .as_u64()
            .unwrap()
            >= 4
    );
    sim.create(CMS, &configmap("one-more")).await;
    let info = sim.get("/sim/v1/info").await.expect(200);
    assert_eq!(info["objects"]["configmaps"].as_u64().unwrap(), cms + 1);
    let rv: u64 = info["resourceVersion"].as_str().unwrap().parse().unwrap();
    let compacted = sim.post("/sim/v1/compact", &json!({})).await.expect(200);
    let at: u64 = compacted["compactedAt"].as_str().unwrap().parse().unwrap();
    assert!(at >= rv);
    sim.get("/sim/v1/nope").await.expect_status(
        404,
        "NotFound",
        "no admin endpoint GET /sim/v1/nope",
    );
    sim.delete("/sim/v1/info", None).await.expect_status(
        404,
        "NotFound",
        "no admin endpoint DELETE /sim/v1/info",
    );
    sim.stop().await;
}
