//! An in-process simulator for the orchestrator's unit tests, with clients built from its
//! kubeconfig exactly as a user's would be, and the admin API over HTTP.

use std::future::Future;
use std::time::Duration;

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value;

use crate::sim::scenario;
use crate::sim::server::SimServer;

/// The namespace of the small scenario.
pub const NS: &str = "test";

/// Bounds a broken run; asserts nothing about speed.
pub const DEADLINE: Duration = Duration::from_secs(30);

const SCENARIO: &str = "\
name: orchestrator-unit
description: empty cluster for orchestrator unit tests
seed: 7
settings:
  podStartDelay: 50ms
  podReadyDelay: 50ms
  jitter: 0
namespaces: [test]
";

pub struct TestSim {
    pub sim: SimServer,
    /// `admin`, allowed everything.
    pub client: Client,
    http: reqwest::Client,
}

impl TestSim {
    pub async fn start() -> TestSim {
        let parsed = scenario::parse("orchestrator-unit.yaml", SCENARIO).expect("scenario");
        let plan = scenario::expand(&parsed, parsed.seed);
        let sim = SimServer::start_plan(&plan, "127.0.0.1:0")
            .await
            .expect("simulator starts");
        Self::with(sim).await
    }

    /// A built-in scenario (`rbac-denied`, ...).
    pub async fn start_scenario(name: &str) -> TestSim {
        let sim = SimServer::start(name, None, "127.0.0.1:0")
            .await
            .expect("simulator starts");
        Self::with(sim).await
    }

    async fn with(sim: SimServer) -> TestSim {
        let client = client_for(&sim, "admin").await;
        TestSim {
            sim,
            client,
            http: reqwest::Client::new(),
        }
    }

    pub async fn client(&self, user: &str) -> Client {
        client_for(&self.sim, user).await
    }

    /// Calls `/sim/v1/<path>`; any non-2xx answer fails the test.
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/sim/v1/{path}", self.sim.url());
        let mut req = self.http.request(method.clone(), &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = within(&url, req.send()).await.expect("admin API answers");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert!(status.is_success(), "{method} {url}: {status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Makes the next `count` requests of `verb` on `resource` fail with `code`.
    pub async fn inject(&self, verb: &str, resource: &str, code: u16, count: u32) {
        let mut rule = serde_json::json!({
            "verb": verb, "resource": resource, "code": code, "count": count,
        });
        if code == 429 {
            rule["retryAfterSeconds"] = 1.into();
        }
        self.admin(reqwest::Method::POST, "faults/errors", Some(rule))
            .await;
    }

    /// Injected errors not yet used up.
    pub async fn pending_errors(&self) -> usize {
        let v = self.admin(reqwest::Method::GET, "faults", None).await;
        v["errors"].as_array().map_or(0, Vec::len)
    }

    pub async fn audit_seq(&self) -> u64 {
        let v = self
            .admin(reqwest::Method::GET, "audit?since=0", None)
            .await;
        v["lastSeq"].as_u64().unwrap_or(0)
    }

    pub async fn audit_since(&self, since: u64) -> Vec<Value> {
        let v = self
            .admin(reqwest::Method::GET, &format!("audit?since={since}"), None)
            .await;
        v["items"].as_array().cloned().unwrap_or_default()
    }

    pub async fn stop(self) {
        self.sim.shutdown().await;
    }
}

pub async fn client_for(sim: &SimServer, user: &str) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig_yaml(user)).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    crate::cluster::client::client_from_config(config).expect("client")
}

/// Awaits `fut`, failing the test after [`DEADLINE`] instead of hanging.
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(DEADLINE, fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: still not done after {DEADLINE:?}"),
    }
}
