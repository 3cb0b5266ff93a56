//! Watch streams: one JSON event per line, synthetic ADDED, resume, 410 as an ERROR event,
//! bookmarks, timeouts, initial events and selector transitions (k8s-api.md §4).

use serde_json::{Value, json};

use super::support::*;

fn name_of(event: &Value) -> &str {
    event["object"]["metadata"]["name"].as_str().unwrap_or("")
}

fn summary(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                name_of(e).to_string(),
            )
        })
        .collect()
}

async fn list_rv(sim: &Sim, path: &str) -> String {
    sim.get(path).await.expect(200)["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_watch_from_zero_sends_every_object_then_each_change() {
    let sim = Sim::start("healthy").await;
    sim.create(CMS, &configmap("a")).await;
    sim.create(CMS, &configmap("b")).await;
    for query in ["watch=true&resourceVersion=0", "watch=1"] {
        let mut w = sim.watch(&format!("{CMS}?{query}")).await;
        assert_eq!(w.status, 200);
        assert_eq!(w.content_type(), "application/json");
        assert_eq!(
            w.headers
                .get("transfer-encoding")
                .and_then(|v| v.to_str().ok()),
            Some("chunked")
        );
        for expected in ["a", "b"] {
            let e = w.next_event().await.expect("an ADDED event");
            assert_eq!(e["type"], "ADDED");
            assert_eq!(name_of(&e), expected);
            assert_eq!(e["object"]["kind"], "ConfigMap");
            assert_eq!(e["object"]["apiVersion"], "v1");
            assert_eq!(e.as_object().unwrap().len(), 2, "only type and object: {e}");
        }
    }
    let mut w = sim
        .watch(&format!("{CMS}?watch=true&resourceVersion=0"))
        .await;
    w.next_event().await;
    w.next_event().await;
    let created = sim.create(CMS, &configmap("c")).await;
    let patched = sim
        .merge_patch(&cm_path("c"), &json!({"data": {"k": "w"}}))
        .await
        .expect(200);
    sim.delete(&cm_path("c"), None).await.expect(200);
    let added = w.next_event().await.unwrap();
    assert_eq!(
        (added["type"].clone(), added["object"].clone()),
        (json!("ADDED"), created)
    );
    let modified = w.next_event().await.unwrap();
    assert_eq!(
        (modified["type"].clone(), modified["object"].clone()),
        (json!("MODIFIED"), patched.clone())
    );
    let deleted = w.next_event().await.unwrap();
    assert_eq!(deleted["type"], "DELETED");
    assert_eq!(deleted["object"]["data"], json!({"k": "w"}));
    assert!(rv_num(&deleted["object"]) > rv_num(&patched));
    sim.stop().await;
}

#[tokio::test]
async fn a_watch_from_a_resource_version_replays_only_later_changes() {
    let sim = Sim::start("healthy").await;
    let a = sim.create(CMS, &configmap("a")).await;
    sim.create(CMS, &configmap("b")).await;
    sim.merge_patch(&cm_path("a"), &json!({"data": {"n": "1"}}))
        .await
        .expect(200);
    let mut w = sim
        .watch(&format!("{CMS}?watch=true&resourceVersion={}", rv(&a)))
        .await;
    let first = w.next_event().await.unwrap();
    let second = w.next_event().await.unwrap();
    assert_eq!(
        summary(&[first, second]),
        [
            ("ADDED".to_string(), "b".to_string()),
            ("MODIFIED".to_string(), "a".to_string())
        ]
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_too_old_resource_version_is_one_error_event_then_the_end() {
    let sim = Sim::start("healthy").await;
    let a = sim.create(CMS, &configmap("a")).await;
    sim.create(CMS, &configmap("b")).await;
    let compacted = sim.post("/sim/v1/compact", &json!({})).await.expect(200);
    let at: u64 = compacted["compactedAt"].as_str().unwrap().parse().unwrap();
    let mut w = sim
        .watch(&format!("{CMS}?watch=true&resourceVersion={}", rv(&a)))
        .await;
    assert_eq!(w.status, 200);
    let events = w.rest().await;
    assert_eq!(
        events,
        [json!({"type": "ERROR", "object": {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": format!("too old resource version: {} ({})", rv(&a), at + 1),
            "reason": "Expired", "code": 410,
        }})]
    );
    // From the compaction point on, resuming works again.
    let mut w = sim
        .watch(&format!("{CMS}?watch=true&resourceVersion={at}"))
        .await;
    sim.create(CMS, &configmap("c")).await;
    assert_eq!(name_of(&w.next_event().await.unwrap()), "c");
    sim.stop().await;
}

#[tokio::test]
async fn timeout_seconds_ends_the_stream_cleanly_after_a_last_bookmark() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    sim.create(CMS, &configmap("a")).await;
    sim.create(ISVCS, &isvc("m")).await;
    let rv = list_rv(&sim, CMS).await;
    let plain_q = format!("{CMS}?watch=true&timeoutSeconds=1");
    let cms_q =
        format!("{CMS}?watch=true&timeoutSeconds=3&allowWatchBookmarks=true&resourceVersion={rv}");
    let isvcs_q =
        format!("{ISVCS}?&watch=true&timeoutSeconds=3&allowWatchBookmarks=true&resourceVersion=0");
    let (mut plain, mut cms, mut isvcs) =
        tokio::join!(sim.watch(&plain_q), sim.watch(&cms_q), sim.watch(&isvcs_q));
    let (plain, cms, isvcs) = tokio::join!(plain.rest(), cms.rest(), isvcs.rest());
    // Without bookmarks: the synthetic ADDED, then a clean end.
    assert_eq!(summary(&plain), [("ADDED".to_string(), "a".to_string())]);
    // With bookmarks: kind, apiVersion and resourceVersion, as kube-rs requires.
    let bookmark = cms
        .iter()
        .find(|e| e["type"] == "BOOKMARK")
        .unwrap_or_else(|| panic!("a bookmark before the timeout: {cms:?}"));
    assert_eq!(
        bookmark["object"],
        json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"resourceVersion": rv}})
    );
    assert_eq!(isvcs[0]["type"], "ADDED");
    let bookmark = isvcs
        .iter()
        .find(|e| e["type"] == "BOOKMARK")
        .unwrap_or_else(|| panic!("a bookmark before the timeout: {isvcs:?}"));
    assert_eq!(bookmark["object"]["kind"], "InferenceService");
    assert_eq!(
        bookmark["object"]["apiVersion"],
        "serving.kserve.io/v1beta1"
    );
    let brv = bookmark["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap();
    assert!(brv.parse::<u64>().unwrap() >= rv_num(&isvcs[0]["object"]));
    sim.stop().await;
}

#[tokio::test]
async fn initial_events_end_with_the_annotated_bookmark() {
    let sim = Sim::start("healthy").await;
    let a = sim.create(CMS, &configmap("a")).await;
    let b = sim.create(CMS, &configmap("b")).await;
    let mut w = sim
        .watch(&format!(
            "{CMS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
        ))
        .await;
    assert_eq!(w.status, 200);
    let e1 = w.next_event().await.unwrap();
    let e2 = w.next_event().await.unwrap();
    assert_eq!(
        (e1["type"].clone(), e1["object"].clone()),
        (json!("ADDED"), a)
    );
    assert_eq!(
        (e2["type"].clone(), e2["object"].clone()),
        (json!("ADDED"), b.clone())
    );
    let end = w.next_event().await.unwrap();
    assert_eq!(end["type"], "BOOKMARK");
    assert_eq!(end["object"]["kind"], "ConfigMap");
    assert_eq!(end["object"]["apiVersion"], "v1");
    assert_eq!(
        end["object"]["metadata"]["annotations"],
        json!({"k8s.io/initial-events-end": "true"})
    );
    let end_rv: u64 = end["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(end_rv >= rv_num(&b));
    sim.create(CMS, &configmap("c")).await;
    let next = w.next_change().await.unwrap();
    assert_eq!(
        (next["type"].as_str(), name_of(&next)),
        (Some("ADDED"), "c")
    );
    sim.stop().await;
}

#[tokio::test]
async fn initial_events_need_resource_version_match_not_older_than() {
    let sim = Sim::start("healthy").await;
    let d = sim
        .get(&format!("{CMS}?watch=true&sendInitialEvents=true"))
        .await
        .expect_status(
            422,
            "Invalid",
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
        );
    assert_eq!(
        d,
        json!({"group": "meta.k8s.io", "kind": "ListOptions", "causes": [{
            "reason": "FieldValueForbidden",
            "message": "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            "field": "resourceVersionMatch",
        }]})
    );
    sim.get(&format!(
        "{CMS}?watch=true&resourceVersionMatch=NotOlderThan"
    ))
    .await
    .expect_status(
        422,
        "Invalid",
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
    );
    let d = sim
        .get(&format!(
            "{CMS}?watch=true&sendInitialEvents=true&resourceVersionMatch=Exact"
        ))
        .await
        .expect_status(
            422,
            "Invalid",
            "ListOptions.meta.k8s.io \"\" is invalid: [resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, resourceVersionMatch: Unsupported value: \"Exact\": supported values: \"NotOlderThan\"]",
        );
    assert_eq!(d["causes"].as_array().unwrap().len(), 2);
    sim.stop().await;
}

#[tokio::test]
async fn selector_transitions_are_added_and_deleted() {
    let sim = Sim::start("healthy").await;
    let rv = list_rv(&sim, CMS).await;
    let mut w = sim
        .watch(&format!(
            "{CMS}?watch=true&labelSelector=tier%3Dweb&resourceVersion={rv}"
        ))
        .await;
    sim.create(CMS, &configmap_labelled("x", json!({"tier": "db"})))
        .await;
    let joined = sim
        .merge_patch(
            &cm_path("x"),
            &json!({"metadata": {"labels": {"tier": "web"}}}),
        )
        .await
        .expect(200);
    let touched = sim
        .merge_patch(&cm_path("x"), &json!({"data": {"k": "2"}}))
        .await
        .expect(200);
    let left = sim
        .merge_patch(
            &cm_path("x"),
            &json!({"metadata": {"labels": {"tier": "db"}}}),
        )
        .await
        .expect(200);
    sim.delete(&cm_path("x"), None).await.expect(200);
    // A sentinel: whatever the watch sends before it is all it sent for x.
    sim.create(CMS, &configmap_labelled("sentinel", json!({"tier": "web"})))
        .await;

    let added = w.next_event().await.unwrap();
    assert_eq!(
        (added["type"].clone(), added["object"].clone()),
        (json!("ADDED"), joined)
    );
    let modified = w.next_event().await.unwrap();
    assert_eq!(
        (modified["type"].clone(), modified["object"].clone()),
        (json!("MODIFIED"), touched.clone())
    );
    // Leaving the selection: DELETED with the object as it last matched, at the new revision.
    let deleted = w.next_event().await.unwrap();
    assert_eq!(deleted["type"], "DELETED");
    let mut expected = touched;
    expected["metadata"]["resourceVersion"] = left["metadata"]["resourceVersion"].clone();
    assert_eq!(deleted["object"], expected);
    let sentinel = w.next_event().await.unwrap();
    assert_eq!(
        (sentinel["type"].as_str(), name_of(&sentinel)),
        (Some("ADDED"), "sentinel")
    );
    sim.stop().await;
}

#[tokio::test]
async fn field_and_namespace_scoping_of_a_watch() {
    let sim = Sim::start("healthy").await;
    let rv = list_rv(&sim, CMS).await;
    // kubectl wait --for=delete: a watch on one name.
    let mut one = sim
        .watch(&format!(
            "{CMS}?fieldSelector=metadata.name%3Dtarget&resourceVersion={rv}&watch=true"
        ))
        .await;
    let mut ns = sim
        .watch(&format!("{CMS}?watch=true&resourceVersion={rv}"))
        .await;
    sim.create(
        "/api/v1/namespaces/default/configmaps",
        &configmap("elsewhere"),
    )
    .await;
    sim.create(CMS, &configmap("other")).await;
    sim.create(CMS, &configmap("target")).await;
    sim.delete(&cm_path("target"), None).await.expect(200);
    let a = one.next_event().await.unwrap();
    let b = one.next_event().await.unwrap();
    assert_eq!(
        summary(&[a, b]),
        [
            ("ADDED".to_string(), "target".to_string()),
            ("DELETED".to_string(), "target".to_string())
        ]
    );
    let first = ns.next_event().await.unwrap();
    assert_eq!(name_of(&first), "other", "no event from another namespace");
    // All namespaces: both.
    let mut all = sim
        .watch(&format!(
            "/api/v1/configmaps?watch=true&resourceVersion={rv}"
        ))
        .await;
    let seen: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..2 {
            v.push(name_of(&all.next_event().await.unwrap()).to_string());
        }
        v
    };
    assert_eq!(seen, ["elsewhere", "other"]);
    sim.stop().await;
}
