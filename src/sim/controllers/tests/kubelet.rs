use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::*;
use crate::sim::context::LogFlood;
use crate::sim::faults::ControllerState;

fn pod(name: &str, finalizers: &[&str]) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "finalizers": finalizers, "labels": {"app": name}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "server", "image": "vllm/vllm-openai:v0.6.4"}],
        },
    })
}

async fn ready_pod(sim: &Sim, name: &str, finalizers: &[&str]) -> Arc<Value> {
    sim.create(&PODS, pod(name, finalizers));
    sim.wait("the pod to be ready", TIMEOUT, |s| {
        s.get(&PODS, name).filter(|p| is_ready(p))
    })
    .await
}

#[tokio::test]
async fn pod_is_scheduled_started_and_made_ready_in_order() {
    let sim = Sim::start();
    let mut rx = sim.store().subscribe();
    ready_pod(&sim, "p", &[]).await;
    let mut stages = Vec::new();
    while let Ok(c) = rx.try_recv() {
        if c.rt == &PODS {
            let o = &c.object;
            let stage = (
                o["spec"]["nodeName"].as_str().unwrap_or("").to_string(),
                o["status"]["phase"].as_str().unwrap_or("").to_string(),
                is_ready(o),
            );
            if stages.last() != Some(&stage) {
                stages.push(stage);
            }
        }
    }
    let node = stages.last().unwrap().0.clone();
    assert!(node.starts_with("sim-node-"));
    let phases: Vec<(&str, bool)> = stages.iter().map(|s| (s.1.as_str(), s.2)).collect();
    assert_eq!(
        phases,
        [
            ("Pending", false),
            ("Pending", false),
            ("Running", false),
            ("Running", true)
        ]
    );
    assert_eq!(stages[0].0, "");
}

#[tokio::test]
async fn kubelet_finishes_graceful_deletion_and_drops_the_log() {
    let sim = Sim::start();
    ready_pod(&sim, "p", &[]).await;
    assert!(sim.ctx.logs.get(NS, "p").is_some_and(|l| !l.is_empty()));
    let started = Instant::now();
    let DeleteOutcome::Terminating(t) = sim.delete(&PODS, "p", None) else {
        panic!("a scheduled pod is deleted gracefully");
    };
    assert_eq!(t["metadata"]["deletionGracePeriodSeconds"], 1);
    let stopped = sim
        .wait("containers stopped", TIMEOUT, |s| {
            s.get(&PODS, "p")
                .filter(|p| p["status"]["containerStatuses"][0]["state"]["terminated"].is_object())
        })
        .await;
    assert!(!is_ready(&stopped));
    assert_eq!(stopped["status"]["containerStatuses"][0]["ready"], false);
    sim.wait("the pod to be gone", TIMEOUT, |s| {
        s.get(&PODS, "p").is_none().then_some(())
    })
    .await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(sim.ctx.logs.get(NS, "p").is_none());
}

#[tokio::test]
async fn pod_with_a_finalizer_stays_terminating_after_its_grace_period() {
    let sim = Sim::start();
    ready_pod(&sim, "stuck", &["example.com/hold"]).await;
    sim.delete(&PODS, "stuck", None);
    sim.wait("the kubelet's final delete", TIMEOUT, |s| {
        let p = s.get(&PODS, "stuck")?;
        (p["metadata"]["deletionGracePeriodSeconds"] == 0).then_some(())
    })
    .await;
    sim.holds("stuck Terminating", Duration::from_millis(600), |s| {
        s.get(&PODS, "stuck")
            .is_some_and(|p| meta::is_terminating(&p))
    })
    .await;
    sim.patch(&PODS, "stuck", |p| {
        p["metadata"]["finalizers"] = Value::Null
    });
    assert!(sim.get(&PODS, "stuck").is_none());
}

#[tokio::test]
async fn kubelet_down_makes_no_progress_and_resumes_when_up() {
    let sim = Sim::start();
    ready_pod(&sim, "old", &[]).await;
    sim.set_controllers(|c| c.kubelet = ControllerState::Down);
    // Let the state poller see it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    sim.create(&PODS, pod("new", &[]));
    sim.delete(&PODS, "old", None);
    sim.holds(
        "no scheduling and no final delete while down",
        Duration::from_millis(1500),
        |s| {
            let new_unscheduled = s
                .get(&PODS, "new")
                .is_some_and(|p| p["spec"].get("nodeName").is_none());
            new_unscheduled && s.get(&PODS, "old").is_some()
        },
    )
    .await;
    sim.set_controllers(|c| c.kubelet = ControllerState::Up);
    sim.wait("new ready, old gone", TIMEOUT, |s| {
        let ok = s.get(&PODS, "new").is_some_and(|p| is_ready(&p)) && s.get(&PODS, "old").is_none();
        ok.then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_pods_write_logs_and_a_flood_writes_20000_lines_a_second() {
    let mut settings = fast_settings();
    settings.log_lines_per_second = 20.0;
    settings.log_floods = vec![LogFlood {
        namespace: NS.into(),
        pod_prefix: "flood-".into(),
        lines_per_second: 20_000,
    }];
    let sim = Sim::with(settings, Controllers::default());
    ready_pod(&sim, "quiet", &[]).await;
    ready_pod(&sim, "flood-a", &[]).await;

    let flood = sim.ctx.logs.get(NS, "flood-a").unwrap();
    let mut cursor = flood.open();
    let start = Instant::now();
    let mut lines = 0usize;
    while start.elapsed() < Duration::from_millis(1050) {
        match tokio::time::timeout(Duration::from_millis(100), cursor.rx.recv()).await {
            Ok(Ok(batch)) => lines += batch.len(),
            Ok(Err(e)) => panic!("log stream failed: {e}"),
            Err(_) => {}
        }
    }
    assert!(lines >= 20_000, "only {lines} lines in ~1 s");

    let quiet = sim.ctx.logs.get(NS, "quiet").unwrap().open().backlog;
    let texts: Vec<&str> = quiet.iter().map(|l| l.text.as_str()).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Loading model weights from s3://"))
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Uvicorn running on http://0.0.0.0:8080"))
    );
    // 20 lines/s for over a second, besides the startup lines.
    assert!(texts.len() >= 10 + 15, "{}", texts.len());
    assert!(texts.len() < 10 + 200, "{}", texts.len());
}

/// Regression (sim_fuzz): `{"status": 5}` written to a pod's status subresource made the kubelet
/// panic on its next pass over the pod; it now reports a real status over it.
#[tokio::test]
async fn a_status_that_is_not_an_object_is_replaced_by_the_kubelet() {
    let sim = Sim::start();
    sim.set_controllers(|c| c.kubelet = ControllerState::Down);
    sim.create(&PODS, pod("junk", &[]));
    let status_only = WriteOptions {
        status_only: true,
        ..Default::default()
    };
    sim.store()
        .patch(&PODS, NS, "junk", &status_only, |cur| {
            let mut new = cur.clone();
            new.as_object_mut()
                .unwrap()
                .insert("status".into(), json!(5));
            Ok(new)
        })
        .unwrap();
    sim.set_controllers(|c| c.kubelet = ControllerState::Up);
    sim.wait("the pod to be ready", TIMEOUT, |s| {
        s.get(&PODS, "junk").filter(|p| is_ready(p))
    })
    .await;
}
