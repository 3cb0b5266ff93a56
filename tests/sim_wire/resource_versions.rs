//! A resourceVersion that is not a number or lies in the future, on get, list and watch, answered
//! as the apiserver (watch cache in front of etcd) answers it. The waits of up to 3 s are the
//! apiserver's own; nothing here asserts on how long an answer took.

use serde_json::{Value, json};

use super::support::*;

fn invalid(raw: &str) -> String {
    format!(
        "resourceVersion: Invalid value: \"{raw}\": strconv.ParseUint: parsing \"{raw}\": invalid syntax"
    )
}

/// A 500 with no reason and no details: the versioner's error passed through unconverted.
#[track_caller]
fn expect_unknown_500(reply: &Reply, message: &str) {
    let body = reply.expect(500);
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "code": 500})
    );
}

fn too_large(requested: u64, current: u64, retry: bool) -> Value {
    let mut details = json!({"causes": [{"reason": "ResourceVersionTooLarge",
                                         "message": "Too large resource version"}]});
    if retry {
        details["retryAfterSeconds"] = json!(1);
    }
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": format!("Timeout: Too large resource version: {requested}, current: {current}"),
           "reason": "Timeout", "details": details, "code": 504})
}

/// Checks a 504 Too large body; the current revision it names is read from its message (the
/// scenario may write meanwhile) and must be below the requested one.
#[track_caller]
fn expect_too_large(body: &Value, requested: u64, retry: bool) {
    let current = body["message"]
        .as_str()
        .and_then(|m| m.rsplit(' ').next())
        .and_then(|c| c.parse::<u64>().ok())
        .expect("the current revision in the message");
    assert!(current < requested, "{body}");
    assert_eq!(*body, too_large(requested, current, retry));
}

async fn current_rv(sim: &Sim) -> u64 {
    rv_num(&sim.get(CMS).await.expect(200))
}

#[tokio::test]
async fn a_non_numeric_resource_version_is_the_apiservers_error() {
    let sim = Sim::start("healthy").await;
    sim.create(CMS, &configmap("a")).await;
    for raw in ["abc", "-1", "+1"] {
        let enc = raw.replace('+', "%2B");
        let w = sim
            .get(&format!("{CMS}?watch=true&resourceVersion={enc}"))
            .await;
        expect_unknown_500(&w, &invalid(raw));
        let l = sim.get(&format!("{CMS}?resourceVersion={enc}")).await;
        expect_unknown_500(&l, &invalid(raw));
        let g = sim
            .get(&format!("{}?resourceVersion={enc}", cm_path("a")))
            .await;
        expect_unknown_500(&g, &invalid(raw));
        // Lists that go to etcd wrap it in a 400.
        for q in ["limit=5&", "resourceVersionMatch=Exact&"] {
            sim.get(&format!("{CMS}?{q}resourceVersion={enc}"))
                .await
                .expect_status(
                    400,
                    "BadRequest",
                    &format!("invalid resource version: {}", invalid(raw)),
                );
        }
    }
    let big = "99999999999999999999";
    expect_unknown_500(
        &sim.get(&format!("{CMS}?resourceVersion={big}")).await,
        &format!(
            "resourceVersion: Invalid value: \"{big}\": strconv.ParseUint: parsing \"{big}\": value out of range"
        ),
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_list_or_get_from_the_future_times_out_with_retry_after() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    sim.create(CMS, &configmap("a")).await;
    let future = current_rv(&sim).await + 1_000_000;
    for path in [
        format!("{CMS}?resourceVersion={future}"),
        format!("{CMS}?resourceVersion={future}&resourceVersionMatch=NotOlderThan&limit=5"),
        format!("{}?resourceVersion={future}", cm_path("a")),
    ] {
        let r = sim.get(&path).await;
        expect_too_large(&r.expect(504), future, true);
        assert_eq!(
            r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
            Some("1")
        );
    }
    // etcd answers an exact (or legacy exact, with a limit) list at once, without the hint.
    for q in ["resourceVersionMatch=Exact&", "limit=5&"] {
        let r = sim.get(&format!("{CMS}?{q}resourceVersion={future}")).await;
        expect_too_large(&r.expect(504), future, false);
        assert!(r.headers.get("retry-after").is_none());
    }
    sim.stop().await;
}

#[tokio::test]
async fn a_list_from_the_near_future_is_answered_once_the_store_gets_there() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    let next = current_rv(&sim).await + 1;
    let path = format!("{CMS}?resourceVersion={next}");
    let list = sim.get(&path);
    let write = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        sim.create(CMS, &configmap("late")).await
    };
    let (reply, created) = tokio::join!(list, write);
    let body = reply.expect(200);
    assert!(rv_num(&body) >= rv_num(&created));
    assert!(
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["metadata"]["name"] == "late")
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_watch_from_the_future_waits_for_changes_after_that_version() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    let from = current_rv(&sim).await + 2;
    let mut w = sim
        .watch(&format!(
            "{CMS}?watch=true&allowWatchBookmarks=true&timeoutSeconds=8&resourceVersion={from}"
        ))
        .await;
    assert_eq!(w.status, 200);
    // Changes at or before the requested revision are not sent (before this fix, everything
    // after the revision current at the start was).
    let mut created = Vec::new();
    for name in ["one", "two", "three", "four"] {
        created.push(sim.create(CMS, &configmap(name)).await);
    }
    let first_after = created
        .iter()
        .find(|o| rv_num(o) > from)
        .expect("four writes pass the requested revision");
    let e = w.next_event().await.expect("an event");
    assert_eq!(e["type"], "ADDED", "{e}");
    assert_eq!(
        e["object"]["metadata"]["name"],
        first_after["metadata"]["name"]
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_watch_from_the_future_sends_no_bookmark_until_it_gets_there() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    let future = current_rv(&sim).await + 1_000_000;
    // Bookmarks come every 5 s and shortly before the timeout; neither may name a revision the
    // store has not reached.
    let mut w = sim
        .watch(&format!(
            "{CMS}?watch=true&allowWatchBookmarks=true&timeoutSeconds=7&resourceVersion={future}"
        ))
        .await;
    assert_eq!(w.status, 200);
    assert_eq!(w.rest().await, Vec::<Value>::new());
    sim.stop().await;
}

#[tokio::test]
async fn initial_events_from_the_future_end_in_a_timeout_error_event() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    let future = current_rv(&sim).await + 1_000_000;
    let mut w = sim
        .watch(&format!(
            "{CMS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion={future}"
        ))
        .await;
    assert_eq!(w.status, 200);
    let events = w.rest().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "ERROR");
    let current = current_rv(&sim).await;
    assert_eq!(events[0]["object"], too_large(future, current, true));
    sim.stop().await;
}
