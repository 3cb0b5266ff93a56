//! Every built-in scenario loads, and the controllers behave in each as the scenario promises.
//! These run the simulator in-process and look at its store and HTTP answers.

use std::future::Future;
use std::time::Duration;

use llmops_console::sim::kinds::{DEPLOYMENTS, INFERENCESERVICES, PODS, SERVICES};
use llmops_console::sim::meta;
use llmops_console::sim::server::SimServer;
use llmops_console::sim::store::{DeleteOptions, WriteOptions};
use serde_json::Value;

/// Polls `check` until it returns Some or `limit` passes (then fails, naming `what`).
async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn condition(obj: &Value, kind: &str) -> Option<String> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
        .and_then(|c| c["status"].as_str().map(str::to_string))
}

fn all_ready(sim: &SimServer) -> Option<()> {
    let (deploys, _) = sim.ctx.store.list(&DEPLOYMENTS, None, &|_| true);
    let (isvcs, _) = sim.ctx.store.list(&INFERENCESERVICES, None, &|_| true);
    let deploys_ok = !deploys.is_empty()
        && deploys.iter().all(|d| {
            meta::is_terminating(d) || condition(d, "Available").as_deref() == Some("True")
        });
    let isvcs_ok = isvcs
        .iter()
        .all(|i| meta::is_terminating(i) || condition(i, "Ready").as_deref() == Some("True"));
    (deploys_ok && isvcs_ok).then_some(())
}

async fn start(scenario: &str) -> SimServer {
    SimServer::start(scenario, None, "127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("scenario {scenario} failed to load: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_fleet_becomes_ready() {
    let sim = start("healthy").await;
    let (isvcs, _) = sim.ctx.store.list(&INFERENCESERVICES, None, &|_| true);
    let (deploys, _) = sim.ctx.store.list(&DEPLOYMENTS, None, &|_| true);
    let raw = deploys
        .iter()
        .filter(|d| meta::label(d, "llm-ops.io/endpoint").is_some())
        .count();
    assert!(isvcs.len() + raw >= 6, "healthy has at least 6 endpoints");
    let namespaces: std::collections::BTreeSet<&str> = isvcs
        .iter()
        .chain(deploys.iter())
        .map(|o| meta::namespace(o))
        .collect();
    assert!(namespaces.len() >= 2);
    eventually("every endpoint Ready", Duration::from_secs(30), || async {
        all_ready(&sim)
    })
    .await;
    // KServe children exist with owner references and the raw endpoints have their pods.
    let (isvcs, _) = sim.ctx.store.list(&INFERENCESERVICES, None, &|_| true);
    for i in &isvcs {
        let name = format!("{}-predictor", meta::name(i));
        let d = sim
            .ctx
            .store
            .get(&DEPLOYMENTS, meta::namespace(i), &name)
            .unwrap();
        assert_eq!(meta::owner_references(&d)[0]["uid"], i["metadata"]["uid"]);
        assert!(
            sim.ctx
                .store
                .get(&SERVICES, meta::namespace(i), &name)
                .is_ok()
        );
        assert_eq!(
            meta::finalizers(i),
            vec!["inferenceservice.finalizers".to_string()]
        );
    }
    let (pods, _) = sim.ctx.store.list(&PODS, None, &|_| true);
    let not_running: Vec<(&str, &Value)> = pods
        .iter()
        .filter(|p| p["status"]["phase"] != "Running")
        .map(|p| (meta::name(p), &p["status"]["phase"]))
        .collect();
    assert!(not_running.is_empty(), "pods not running: {not_running:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_finalizer_keeps_its_terminating_objects() {
    let sim = start("stuck-finalizer").await;
    let isvc = sim
        .ctx
        .store
        .get(&INFERENCESERVICES, "llm-prod", "llama-3-70b-instruct")
        .unwrap();
    assert!(
        meta::is_terminating(&isvc),
        "the isvc is Terminating at load"
    );
    assert_eq!(
        meta::finalizers(&isvc),
        vec!["inferenceservice.finalizers".to_string()]
    );
    let since = meta::parse_time(meta::deletion_timestamp(&isvc).unwrap()).unwrap();
    let age = meta::now().duration_since(since).as_secs();
    assert!(
        (11 * 60..=13 * 60).contains(&age),
        "backdated ~12m, got {age}s"
    );
    let pod = sim
        .ctx
        .store
        .get(&PODS, "llm-prod", "whisper-large-6c9d7f5b8-q2x7k")
        .unwrap();
    assert!(meta::is_terminating(&pod));
    assert_eq!(
        meta::finalizers(&pod),
        vec!["example.com/stuck-volume-cleanup".to_string()]
    );
    // Deleting another InferenceService: its deletion handling is broken, so it stays.
    sim.ctx
        .store
        .delete(
            &INFERENCESERVICES,
            "llm-prod",
            "llama-3-8b-instruct",
            &DeleteOptions::default(),
        )
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let still = sim
        .ctx
        .store
        .get(&INFERENCESERVICES, "llm-prod", "llama-3-8b-instruct")
        .unwrap();
    assert!(meta::is_terminating(&still));
    assert_eq!(
        meta::finalizers(&still),
        vec!["inferenceservice.finalizers".to_string()]
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflict_409_recreate_too_early_is_refused() {
    let sim = start("conflict-409").await;
    let ns = "llm-prod";
    let name = "mistral-7b-chat";
    let before = sim.ctx.store.get(&DEPLOYMENTS, ns, name).unwrap();
    assert!(meta::finalizers(&before).contains(&"sim.llmops.io/slow-delete".to_string()));
    sim.ctx
        .store
        .delete(&DEPLOYMENTS, ns, name, &DeleteOptions::default())
        .unwrap();
    let mut again = (*before).clone();
    if let Some(md) = again["metadata"].as_object_mut() {
        md.retain(|k, _| {
            matches!(
                k.as_str(),
                "name" | "namespace" | "labels" | "annotations" | "finalizers"
            )
        });
    }
    let err = sim
        .ctx
        .store
        .create(&DEPLOYMENTS, ns, again.clone(), &WriteOptions::default())
        .unwrap_err();
    assert_eq!((err.code, err.reason), (409, "AlreadyExists"));
    eventually(
        "the slow finalizer to let go",
        Duration::from_secs(15),
        || async {
            sim.ctx
                .store
                .get(&DEPLOYMENTS, ns, name)
                .is_err()
                .then_some(())
        },
    )
    .await;
    sim.ctx
        .store
        .create(&DEPLOYMENTS, ns, again, &WriteOptions::default())
        .expect("recreate after the delete completed");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_denied_operator_reads_but_cannot_delete_isvc() {
    let sim = start("rbac-denied").await;
    let client = reqwest::Client::new();
    let base = sim.url();
    let get = client
        .get(format!("{base}/api/v1/namespaces/llm-prod/pods"))
        .bearer_auth("operator-token")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    let del = client
        .delete(format!(
            "{base}/apis/serving.kserve.io/v1beta1/namespaces/llm-prod/inferenceservices/llama-3-8b-instruct"
        ))
        .bearer_auth("operator-token")
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 403);
    let body: Value = del.json().await.unwrap();
    assert_eq!(body["reason"], "Forbidden");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("User \"operator\" cannot delete resource \"inferenceservices\" in API group \"serving.kserve.io\" in the namespace \"llm-prod\""));
    let patch = client
        .patch(format!(
            "{base}/apis/apps/v1/namespaces/llm-prod/deployments/bge-reranker"
        ))
        .bearer_auth("operator-token")
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"metadata":{"finalizers":null}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 403);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_fleet_has_a_thousand_endpoints_and_five_thousand_pods() {
    let sim = start("large-fleet").await;
    let (isvcs, _) = sim.ctx.store.list(&INFERENCESERVICES, None, &|_| true);
    let (deploys, _) = sim.ctx.store.list(&DEPLOYMENTS, None, &|_| true);
    let raw = deploys
        .iter()
        .filter(|d| meta::label(d, "llm-ops.io/endpoint").is_some())
        .count();
    assert_eq!(isvcs.len() + raw, 1000);
    let pods = eventually("5,000 pods", Duration::from_secs(120), || async {
        let (pods, _) = sim.ctx.store.list(&PODS, None, &|_| true);
        (pods.len() >= 5000).then_some(pods.len())
    })
    .await;
    assert_eq!(pods, 5000);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_flood_pod_writes_twenty_thousand_lines_a_second() {
    let sim = start("log-flood").await;
    // Which replica floods depends on which started first, so watch every one of them.
    let pods = eventually(
        "vllm-debug pods running",
        Duration::from_secs(30),
        || async {
            let (pods, _) = sim.ctx.store.list(&PODS, Some("llm-staging"), &|p| {
                meta::name(p).starts_with("vllm-debug-") && p["status"]["phase"] == "Running"
            });
            (pods.len() >= 2).then(|| {
                pods.iter()
                    .map(|p| meta::name(p).to_string())
                    .collect::<Vec<_>>()
            })
        },
    )
    .await;
    let mut best = 0.0f64;
    for pod in pods {
        let log = sim.ctx.logs.pod("llm-staging", &pod);
        let mut cursor = log.open();
        drop(log);
        let start = tokio::time::Instant::now();
        let mut lines = 0usize;
        while start.elapsed() < Duration::from_secs(2) {
            match tokio::time::timeout(Duration::from_millis(200), cursor.rx.recv()).await {
                Ok(Ok(batch)) => lines += batch.len(),
                Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(n))) => lines += n as usize,
                _ => {}
            }
        }
        best = best.max(lines as f64 / start.elapsed().as_secs_f64());
    }
    assert!(
        best >= 20_000.0,
        "log-flood's fastest pod wrote {best:.0} lines/s"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_seed_same_names() {
    let names = |sim: &SimServer| {
        let (pods, _) = sim.ctx.store.list(&PODS, None, &|_| true);
        let (isvcs, _) = sim.ctx.store.list(&INFERENCESERVICES, None, &|_| true);
        isvcs
            .iter()
            .map(|i| (meta::name(i).to_string(), meta::uid(i).to_string()))
            .chain(
                pods.iter()
                    .map(|p| (meta::name(p).to_string(), String::new())),
            )
            .collect::<Vec<_>>()
    };
    let a = start("healthy").await;
    let b = start("healthy").await;
    eventually("both fleets ready", Duration::from_secs(30), || async {
        all_ready(&a).and(all_ready(&b))
    })
    .await;
    let (na, nb) = (names(&a), names(&b));
    assert_eq!(
        na[..4],
        nb[..4],
        "same seed: same InferenceService names and uids"
    );
    a.shutdown().await;
    b.shutdown().await;
}
