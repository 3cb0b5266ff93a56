//! Helpers for the cluster-layer tests: an in-process simulator, a kube client for one of its
//! users, its admin API (users, audit log, watch drops) and waiting for conditions.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use llmops_console::cluster::client::{ClusterTarget, ContextInfo, Scope, connect_with};
use llmops_console::sim::server::SimServer;
use serde_json::{Value, json};

pub async fn start(scenario: &str) -> SimServer {
    SimServer::start(scenario, None, "127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("scenario {scenario} failed to load: {e}"))
}

/// A client authenticated as `user`, in `scope`.
pub async fn client_for(sim: &SimServer, user: &str, scope: Scope) -> (kube::Client, ContextInfo) {
    let kc = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig_yaml(user)).unwrap();
    let target = ClusterTarget {
        namespace: Some(scope),
        ..Default::default()
    };
    connect_with(kc, vec!["<sim>".into()], &target)
        .await
        .unwrap()
}

/// Gives `user` read rights on everything (get, list, watch, pods/log).
pub async fn reader(sim: &SimServer, user: &str) {
    set_rules(
        sim,
        user,
        json!([{"verbs": ["get", "list", "watch"], "resources": ["*", "pods/log"]}]),
    )
    .await;
}

pub async fn set_rules(sim: &SimServer, user: &str, rules: Value) {
    let url = format!("{}/sim/v1/users/{user}", sim.url());
    let resp = reqwest::Client::new()
        .put(url)
        .json(&rules)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "PUT users/{user}: {resp:?}");
}

pub async fn admin_post(sim: &SimServer, path: &str) {
    let resp = reqwest::Client::new()
        .post(format!("{}/sim/v1/{path}", sim.url()))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "POST {path}: {resp:?}");
}

/// Audit entries after `since`, and the last sequence number.
pub async fn audit_since(sim: &SimServer, since: u64) -> (Vec<Value>, u64) {
    let v: Value = reqwest::Client::new()
        .get(format!("{}/sim/v1/audit?since={since}", sim.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = v["items"].as_array().cloned().unwrap_or_default();
    (items, v["lastSeq"].as_u64().unwrap_or(0))
}

/// Polls `check` every 50 ms until it returns Some, or fails after `limit` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
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

/// Whether every Deployment is Available and every InferenceService Ready (or Terminating).
pub fn sim_settled(sim: &SimServer) -> bool {
    use llmops_console::sim::kinds::{DEPLOYMENTS, INFERENCESERVICES};
    use llmops_console::sim::meta;
    let cond = |o: &Value, t: &str| {
        o.pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| cs.iter().any(|c| c["type"] == t && c["status"] == "True"))
    };
    let (deploys, _) = sim.ctx.store.list(&DEPLOYMENTS, None, &|_| true);
    let (isvcs, _) = sim.ctx.store.list(&INFERENCESERVICES, None, &|_| true);
    !deploys.is_empty()
        && deploys
            .iter()
            .all(|d| meta::is_terminating(d) || cond(d, "Available"))
        && isvcs
            .iter()
            .all(|i| meta::is_terminating(i) || cond(i, "Ready"))
}
