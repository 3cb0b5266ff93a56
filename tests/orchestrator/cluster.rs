//! The simulator as the tests see it: the `sim` child process plus a plain HTTP client for the
//! Kubernetes REST API (as `admin`, with admin's bearer token, whoever the kubeconfig is for) and
//! for the admin API (faults, controllers, watch drops, audit).

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::SimServer;

/// The kinds the tests read, with where they live in the REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum K {
    InferenceService,
    Deployment,
    Service,
    Hpa,
    Ingress,
    ReplicaSet,
    Pod,
    ConfigMap,
    Lease,
    Event,
}

impl K {
    /// The kind as in manifests.
    pub fn kind(self) -> &'static str {
        match self {
            K::InferenceService => "InferenceService",
            K::Deployment => "Deployment",
            K::Service => "Service",
            K::Hpa => "HorizontalPodAutoscaler",
            K::Ingress => "Ingress",
            K::ReplicaSet => "ReplicaSet",
            K::Pod => "Pod",
            K::ConfigMap => "ConfigMap",
            K::Lease => "Lease",
            K::Event => "Event",
        }
    }

    /// `(API prefix, plural)`.
    fn place(self) -> (&'static str, &'static str) {
        match self {
            K::InferenceService => ("/apis/serving.kserve.io/v1beta1", "inferenceservices"),
            K::Deployment => ("/apis/apps/v1", "deployments"),
            K::ReplicaSet => ("/apis/apps/v1", "replicasets"),
            K::Service => ("/api/v1", "services"),
            K::Pod => ("/api/v1", "pods"),
            K::ConfigMap => ("/api/v1", "configmaps"),
            K::Event => ("/api/v1", "events"),
            K::Hpa => ("/apis/autoscaling/v2", "horizontalpodautoscalers"),
            K::Ingress => ("/apis/networking.k8s.io/v1", "ingresses"),
            K::Lease => ("/apis/coordination.k8s.io/v1", "leases"),
        }
    }

    pub fn plural(self) -> &'static str {
        self.place().1
    }

    pub fn collection(self, ns: &str) -> String {
        let (prefix, plural) = self.place();
        format!("{prefix}/namespaces/{ns}/{plural}")
    }
}

pub struct Cluster {
    pub sim: SimServer,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

/// How long one request to the simulator may take before the test fails instead of hanging.
const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

impl Cluster {
    /// Starts the simulator on `scenario` (a built-in name or a file path); the kubeconfig is
    /// for `admin`.
    pub fn start(scenario: &str) -> Cluster {
        Self::start_as(scenario, "admin")
    }

    /// As [`Cluster::start`] with the kubeconfig for `user`.
    pub fn start_as(scenario: &str, user: &str) -> Cluster {
        let sim = SimServer::start_as(scenario, user);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        Cluster {
            sim,
            rt,
            http: reqwest::Client::new(),
        }
    }

    /// One request; gives the status code and the JSON body (`Null` when there is none).
    fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.sim.url);
        let mut req = self
            .http
            .request(method.clone(), &url)
            .bearer_auth("admin-token");
        if let Some(b) = body {
            req = req.json(b);
        }
        let fut = async {
            let resp = req.send().await?;
            let code = resp.status().as_u16();
            let text = resp.text().await?;
            Ok::<_, reqwest::Error>((code, text))
        };
        let (code, text) = self
            .rt
            .block_on(async { tokio::time::timeout(REQUEST_DEADLINE, fut).await })
            .unwrap_or_else(|_| panic!("{method} {url}: no answer within {REQUEST_DEADLINE:?}"))
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        (code, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Any request as admin (`PUT` of a lease, `POST` of a planted ConfigMap, ...): the status
    /// code and the JSON body.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        self.send(method, path, body)
    }

    /// The object, or `None` on 404; any other failure fails the test.
    pub fn get(&self, kind: K, ns: &str, name: &str) -> Option<Value> {
        let path = format!("{}/{name}", kind.collection(ns));
        match self.send(reqwest::Method::GET, &path, None) {
            (200, v) => Some(v),
            (404, _) => None,
            (code, v) => panic!("GET {path}: {code} {v}"),
        }
    }

    /// Every object of `kind` in `ns`, optionally with a label selector.
    pub fn list(&self, kind: K, ns: &str, selector: Option<&str>) -> Vec<Value> {
        let mut path = kind.collection(ns);
        if let Some(s) = selector {
            let enc: String = form_urlencoded::byte_serialize(s.as_bytes()).collect();
            path.push_str(&format!("?labelSelector={enc}"));
        }
        match self.send(reqwest::Method::GET, &path, None) {
            (200, v) => v["items"].as_array().cloned().unwrap_or_default(),
            (code, v) => panic!("GET {path}: {code} {v}"),
        }
    }

    /// Calls the admin API (`/sim/v1/PATH`); a non-2xx answer fails the test.
    pub fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let full = format!("/sim/v1/{path}");
        let (code, v) = self.send(method.clone(), &full, body.as_ref());
        assert!((200..300).contains(&code), "{method} {full}: {code} {v}");
        v
    }

    /// Adds an injected error (`{verb, resource, name, namespace, code, reason, count, ...}`).
    pub fn inject(&self, rule: Value) {
        self.admin(reqwest::Method::POST, "faults/errors", Some(rule));
    }

    /// The injected-error rules still armed (a rule with `count` leaves once it has fired that
    /// many times).
    pub fn armed_errors(&self) -> Vec<Value> {
        self.admin(reqwest::Method::GET, "faults", None)["errors"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Ends every open watch stream now.
    pub fn drop_watches(&self) {
        self.admin(reqwest::Method::POST, "watches/drop", None);
    }

    /// `up`, `down` or `broken` for a simulated controller.
    pub fn controller(&self, name: &str, state: &str) {
        self.admin(
            reqwest::Method::PUT,
            &format!("controllers/{name}"),
            Some(json!({ "state": state })),
        );
    }

    /// The simulator's audit log after `since`, and its last sequence number.
    pub fn audit_since(&self, since: u64) -> (Vec<Value>, u64) {
        let v = self.admin(reqwest::Method::GET, &format!("audit?since={since}"), None);
        let items = v["items"].as_array().cloned().unwrap_or_default();
        (items, v["lastSeq"].as_u64().expect("lastSeq"))
    }

    pub fn audit_seq(&self) -> u64 {
        self.audit_since(u64::MAX - 1).1
    }

    /// Creates `body` in `ns` (as admin); the created object. Any answer but 201 fails the test.
    pub fn create(&self, kind: K, ns: &str, body: &Value) -> Value {
        let path = kind.collection(ns);
        match self.send(reqwest::Method::POST, &path, Some(body)) {
            (200 | 201, v) => v,
            (code, v) => panic!("POST {path}: {code} {v}"),
        }
    }

    /// Replaces object `name` with `body` (as admin; `body` carries the resourceVersion).
    pub fn replace(&self, kind: K, ns: &str, name: &str, body: &Value) -> Value {
        let path = format!("{}/{name}", kind.collection(ns));
        match self.send(reqwest::Method::PUT, &path, Some(body)) {
            (200 | 201, v) => v,
            (code, v) => panic!("PUT {path}: {code} {v}"),
        }
    }

    /// Deletes object `name` (as admin); a 404 is fine.
    pub fn delete(&self, kind: K, ns: &str, name: &str) {
        let path = format!("{}/{name}", kind.collection(ns));
        match self.send(reqwest::Method::DELETE, &path, None) {
            (200 | 202 | 404, _) => {}
            (code, v) => panic!("DELETE {path}: {code} {v}"),
        }
    }

    /// The redeploy lock of endpoint `ep` in `ns`, if it exists.
    pub fn lease(&self, ns: &str, ep: &str) -> Option<Value> {
        self.get(K::Lease, ns, &format!("llmops-console-{ep}"))
    }

    /// The backup ConfigMap of endpoint `ep` in `ns`, if it exists.
    pub fn backup(&self, ns: &str, ep: &str) -> Option<Value> {
        self.get(K::ConfigMap, ns, &format!("llmops-console-backup-{ep}"))
    }
}
