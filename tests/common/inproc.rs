//! An in-process simulator with a kube-rs client built exactly as from a kubeconfig, plus the
//! admin API over HTTP, for tests that drive the simulator as a library client would.

use std::future::Future;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use serde_json::Value;

use llmops_console::sim::scenario;
use llmops_console::sim::server::SimServer;

/// The namespace every test works in.
pub const NS: &str = "test";

/// How long any single wait may take before the test fails instead of hanging. Generous on
/// purpose: it only bounds a broken run, it asserts nothing about speed.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A small cluster with fast pods: no endpoints, one namespace, short delays.
const SCENARIO: &str = "\
name: kube-rs-tests
description: in-process simulator for the kube-rs client tests
seed: 5
settings:
  podStartDelay: 50ms
  podReadyDelay: 50ms
  jitter: 0
  logLinesPerSecond: 20
  terminationGracePeriodSeconds: 30
namespaces: [test]
";

pub struct TestSim {
    pub sim: SimServer,
    /// A client built from the simulator's kubeconfig for `admin` (default retry policy included).
    pub client: Client,
    /// Plain HTTP for the admin API.
    pub http: reqwest::Client,
}

impl TestSim {
    pub async fn start() -> TestSim {
        let parsed = scenario::parse("kube-rs-tests.yaml", SCENARIO).expect("test scenario");
        let plan = scenario::expand(&parsed, parsed.seed);
        let sim = SimServer::start_plan(&plan, "127.0.0.1:0")
            .await
            .expect("simulator starts");
        let client = client_for(&sim, "admin").await;
        TestSim {
            sim,
            client,
            http: reqwest::Client::new(),
        }
    }

    /// An `Api` in the test namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), NS)
    }

    /// Calls the admin API and returns its JSON answer; any non-2xx answer fails the test.
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/sim/v1/{}", self.sim.url(), path);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = within(&format!("{method} {url}"), req.send())
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert!(status.is_success(), "{method} {url}: {status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Switches a simulated controller (deployment, kserve, kserveDeletion, garbageCollector,
    /// kubelet) `up`, `down` or `broken`, for tests that must be the only writer of an object.
    pub async fn controller(&self, name: &str, state: &str) {
        self.admin(
            reqwest::Method::PUT,
            &format!("controllers/{name}"),
            Some(serde_json::json!({"state": state})),
        )
        .await;
    }

    /// Audit entries after `since` (see `/sim/v1/audit`).
    pub async fn audit_since(&self, since: u64) -> Vec<Value> {
        let v = self
            .admin(reqwest::Method::GET, &format!("audit?since={since}"), None)
            .await;
        v["items"].as_array().cloned().unwrap_or_default()
    }

    pub async fn audit_seq(&self) -> u64 {
        let v = self
            .admin(reqwest::Method::GET, "audit?since=0", None)
            .await;
        v["lastSeq"].as_u64().unwrap_or(0)
    }

    pub async fn stop(self) {
        self.sim.shutdown().await;
    }
}

/// A client for `user` built like any program builds one from a kubeconfig.
pub async fn client_for(sim: &SimServer, user: &str) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig_yaml(user)).expect("kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config from kubeconfig");
    assert!(
        config.default_retry,
        "a kubeconfig client retries 429/503/504"
    );
    Client::try_from(config).expect("client")
}

/// Awaits `fut`, failing the test after [`DEADLINE`] instead of hanging.
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(DEADLINE, fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: still not done after {DEADLINE:?}"),
    }
}

/// Polls `check` until it returns `Some`, failing the test after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    within(what, async {
        loop {
            if let Some(v) = check().await {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await
}

/// The `Status` of an API error, failing the test on any other outcome.
pub fn api_status<T: std::fmt::Debug>(r: Result<T, kube::Error>) -> Box<kube::core::Status> {
    match r {
        Err(kube::Error::Api(s)) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}
