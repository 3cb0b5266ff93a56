//! Events whose `involvedObject` has no uid (written by clients that describe an object rather
//! than read it back) stay visible: in lists, field-selected lists and watches, in Table output,
//! and after the object they name is deleted (Events are not garbage collected by reference).

use serde_json::{Value, json};

use super::support::*;

const EVENTS: &str = "/api/v1/namespaces/wire/events";
/// Only this test's Events (the controllers record their own about `web`).
const MINE: &str = "/api/v1/namespaces/wire/events?fieldSelector=reason%3DTested";

fn event(name: &str, involved: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name},
        "involvedObject": involved,
        "reason": "Tested", "message": "no uid here", "type": "Normal",
        "source": {"component": "wire-test"},
        "count": 1,
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z",
    })
}

fn names(list: &Value) -> Vec<String> {
    let mut n: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect();
    n.sort();
    n
}

#[tokio::test]
async fn events_without_an_involved_uid_stay_listed_selected_and_watched() {
    let sim = Sim::start("healthy").await;
    let web = sim.create(DEPLOYS, &deployment("web")).await;
    let target = json!({"kind": "Deployment", "apiVersion": "apps/v1",
                        "namespace": NS, "name": "web"});
    sim.create(EVENTS, &event("web.no-uid", target.clone()))
        .await;
    sim.create(EVENTS, &event("bare.no-ref", json!({}))).await;
    let mut with_uid = target.clone();
    with_uid["uid"] = json!(uid(&web));
    sim.create(EVENTS, &event("web.with-uid", with_uid)).await;

    let all = sim.get(MINE).await.expect(200);
    assert_eq!(names(&all), ["bare.no-ref", "web.no-uid", "web.with-uid"]);
    let by_name = sim
        .get(&format!("{MINE},involvedObject.name%3Dweb"))
        .await
        .expect(200);
    assert_eq!(names(&by_name), ["web.no-uid", "web.with-uid"]);
    // A missing uid reads as the empty string, as in the apiserver's field set.
    let empty_uid = sim
        .get(&format!(
            "{MINE},involvedObject.uid%3D,involvedObject.kind%3DDeployment"
        ))
        .await
        .expect(200);
    assert_eq!(names(&empty_uid), ["web.no-uid"]);
    let not_that_uid = sim
        .get(&format!("{MINE},involvedObject.uid!%3D{}", uid(&web)))
        .await
        .expect(200);
    assert_eq!(names(&not_that_uid), ["bare.no-ref", "web.no-uid"]);

    let mut w = sim
        .watch(&format!("{MINE},involvedObject.name%3Dweb&watch=true"))
        .await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let e = w.next_event().await.expect("an event");
        seen.push(
            e["object"]["metadata"]["name"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    seen.sort();
    assert_eq!(seen, ["web.no-uid", "web.with-uid"]);

    sim.stop().await;
}

#[tokio::test]
async fn deleting_the_named_object_leaves_its_events() {
    let sim = Sim::start("healthy").await;
    let web = sim.create(DEPLOYS, &deployment("web")).await;
    let target = json!({"kind": "Deployment", "apiVersion": "apps/v1",
                        "namespace": NS, "name": "web"});
    sim.create(EVENTS, &event("web.no-uid", target.clone()))
        .await;
    let mut with_uid = target;
    with_uid["uid"] = json!(uid(&web));
    sim.create(EVENTS, &event("web.with-uid", with_uid)).await;
    sim.delete(
        &format!("{DEPLOYS}/web"),
        Some(&json!({"propagationPolicy": "Foreground"})),
    )
    .await
    .expect(200);
    // Wait until the collector finished the Deployment (its ReplicaSet and pods first).
    for _ in 0..200 {
        if sim.get(&format!("{DEPLOYS}/web")).await.status == 404 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    sim.get(&format!("{DEPLOYS}/web")).await.expect(404);
    let all = sim.get(MINE).await.expect(200);
    assert_eq!(names(&all), ["web.no-uid", "web.with-uid"]);
    sim.stop().await;
}
