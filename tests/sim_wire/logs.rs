//! `GET .../pods/{p}/log`: query parameters, container errors, option validation, follow
//! (k8s-api.md §6). Lines are written straight into the simulator's log hub, with the kubelet
//! stopped, so every byte of the answer is known.

use serde_json::json;

use super::support::*;

/// A pod with these containers, Running (so its logs can be read), and these lines in its log.
async fn running_pod(sim: &Sim, name: &str, containers: &[&str], lines: &[&str]) {
    sim.create(PODS, &pod(name, containers, Some("node-1")))
        .await;
    sim.merge_patch(
        &format!("{PODS}/{name}/status"),
        &json!({"status": {"phase": "Running"}}),
    )
    .await
    .expect(200);
    append(sim, name, lines);
}

fn append(sim: &Sim, pod: &str, lines: &[&str]) {
    sim.server
        .ctx
        .logs
        .append(NS, pod, lines.iter().map(|l| l.to_string()).collect());
}

fn log_path(pod: &str, query: &str) -> String {
    format!("{PODS}/{pod}/log{query}")
}

#[tokio::test]
async fn tail_timestamps_and_limit_bytes() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    running_pod(&sim, "p", &["c"], &["one", "two", "three"]).await;
    let r = sim.get(&log_path("p", "")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "text/plain");
    assert_eq!(r.text(), "one\ntwo\nthree\n");
    assert_eq!(
        sim.get(&log_path("p", "?container=c&tailLines=2"))
            .await
            .text(),
        "two\nthree\n"
    );
    assert_eq!(sim.get(&log_path("p", "?tailLines=0")).await.text(), "");
    assert_eq!(
        sim.get(&log_path("p", "?tailLines=99")).await.text(),
        "one\ntwo\nthree\n"
    );
    assert_eq!(
        sim.get(&log_path("p", "?limitBytes=6")).await.text(),
        "one\ntw"
    );
    // timestamps: RFC 3339 with nanoseconds and a space before each line.
    let stamped = sim
        .get(&log_path("p", "?timestamps=true&tailLines=1"))
        .await
        .text();
    let (ts, rest) = stamped.split_once(' ').expect("a timestamp and a space");
    assert_eq!(rest, "three\n");
    assert_eq!(ts.len(), "2026-01-02T03:04:05.123456789Z".len(), "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T' && ts.as_bytes()[19] == b'.');
    assert!(ts.parse::<jiff::Timestamp>().is_ok(), "{ts}");
    // sinceSeconds: a window longer than the pod has lived covers everything, even a huge one.
    for q in ["?sinceSeconds=3600", "?sinceSeconds=9223372036854775807"] {
        assert_eq!(
            sim.get(&log_path("p", q)).await.text(),
            "one\ntwo\nthree\n",
            "{q}"
        );
    }
    let future = "2999-01-01T00:00:00Z";
    assert_eq!(
        sim.get(&log_path("p", &format!("?sinceTime={future}")))
            .await
            .text(),
        ""
    );
    sim.stop().await;
}

#[tokio::test]
async fn container_errors() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    running_pod(&sim, "multi", &["a", "b"], &["x"]).await;
    sim.get(&log_path("multi", "")).await.expect_status(
        400,
        "BadRequest",
        "a container name must be specified for pod multi, choose one of: [a b]",
    );
    sim.get(&log_path("multi", "?container=zzz"))
        .await
        .expect_status(
            400,
            "BadRequest",
            "container zzz is not valid for pod multi",
        );
    assert_eq!(
        sim.get(&log_path("multi", "?container=b")).await.text(),
        "x\n"
    );
    // Not started yet.
    sim.create(PODS, &pod("pending", &["c"], Some("node-1")))
        .await;
    sim.get(&log_path("pending", "")).await.expect_status(
        400,
        "BadRequest",
        "container \"c\" in pod \"pending\" is waiting to start: ContainerCreating",
    );
    // No such pod.
    sim.get(&log_path("nope", ""))
        .await
        .expect_status(404, "NotFound", "pods \"nope\" not found");
    sim.stop().await;
}

#[tokio::test]
async fn log_options_are_validated_first() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    running_pod(&sim, "p", &["c"], &["x"]).await;
    let d = sim
        .get(&log_path("p", "?tailLines=-1"))
        .await
        .expect_status(
            422,
            "Invalid",
            "PodLogOptions \"p\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0",
        );
    assert_eq!(
        d,
        json!({"name": "p", "kind": "PodLogOptions", "causes": [{
            "reason": "FieldValueInvalid",
            "message": "Invalid value: -1: must be greater than or equal to 0",
            "field": "tailLines",
        }]})
    );
    sim.get(&log_path("p", "?limitBytes=0"))
        .await
        .expect_status(
            422,
            "Invalid",
            "PodLogOptions \"p\" is invalid: limitBytes: Invalid value: 0: must be greater than 0",
        );
    sim.get(&log_path("p", "?sinceSeconds=0"))
        .await
        .expect_status(
            422,
            "Invalid",
            "PodLogOptions \"p\" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0",
        );
    sim.get(&log_path(
        "p",
        "?sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z&tailLines=-2",
    ))
    .await
    .expect_status(
        422,
        "Invalid",
        "PodLogOptions \"p\" is invalid: [tailLines: Invalid value: -2: must be greater than or equal to 0, : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified]",
    );
    // Checked before the pod is looked up.
    sim.get(&log_path("nope", "?tailLines=-1"))
        .await
        .expect(422);
    sim.get(&log_path("p", "?tailLines=many"))
        .await
        .expect_status_naming(400, "BadRequest", &["tailLines", "many"]);
    sim.get(&log_path("p", "?sinceTime=yesterday"))
        .await
        .expect_status_naming(400, "BadRequest", &["sinceTime", "yesterday"]);
    sim.stop().await;
}

#[tokio::test]
async fn follow_streams_new_lines_until_the_byte_limit() {
    let sim = Sim::start("healthy").await;
    sim.quiet_controllers().await;
    running_pod(&sim, "p", &["c"], &["old-1", "old-2"]).await;
    let mut follow = sim.watch(&log_path("p", "?follow=true&tailLines=1")).await;
    assert_eq!(follow.status, 200);
    assert_eq!(follow.content_type(), "text/plain");
    assert_eq!(follow.next_line().await.as_deref(), Some("old-2"));
    append(&sim, "p", &["new-1", "new-2"]);
    assert_eq!(follow.next_line().await.as_deref(), Some("new-1"));
    assert_eq!(follow.next_line().await.as_deref(), Some("new-2"));
    drop(follow);

    // With limitBytes the stream ends once that much was sent, also when the backlog alone
    // uses it up (no further line needed to notice).
    let mut limited = sim
        .watch(&log_path("p", "?follow=true&limitBytes=12"))
        .await;
    let got = limited.rest_bytes().await;
    assert_eq!(String::from_utf8(got).unwrap(), "old-1\nold-2\n");
    let mut limited = sim
        .watch(&log_path("p", "?follow=true&tailLines=0&limitBytes=3"))
        .await;
    append(&sim, "p", &["later"]);
    let got = limited.rest_bytes().await;
    assert_eq!(String::from_utf8(got).unwrap(), "lat");
    sim.stop().await;
}
