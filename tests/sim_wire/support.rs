//! A simulator in-process and a raw HTTP client for it: requests go over loopback as any client's
//! would, and answers are checked byte for byte where the wire format matters.
#![allow(dead_code)]

use std::time::Duration;

use llmops_console::sim::server::SimServer;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};

/// The namespace every test creates its own objects in, away from the scenario's fleet and what
/// its controllers do there.
pub const NS: &str = "wire";

/// How long any single answer or watch event may take before the test fails instead of hanging.
/// Only a guard against hangs: no test asserts on how long anything took.
const HANG_GUARD: Duration = Duration::from_secs(60);

pub struct Sim {
    pub server: SimServer,
    pub http: reqwest::Client,
}

/// One answer, fully read.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "answer ({}) is not JSON: {e}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts the status code and returns the JSON body.
    #[track_caller]
    pub fn expect(&self, code: u16) -> Value {
        assert_eq!(
            self.status,
            code,
            "unexpected answer: {}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }

    /// Asserts a failure `Status` with this code, reason and message and returns its `details`
    /// (`Value::Null` when the body has none).
    #[track_caller]
    pub fn expect_status(&self, code: u16, reason: &str, message: &str) -> Value {
        let body = self.expect(code);
        assert_eq!(self.content_type(), "application/json");
        assert_eq!(body["kind"], "Status", "{body}");
        assert_eq!(body["apiVersion"], "v1", "{body}");
        assert_eq!(body["metadata"], json!({}), "{body}");
        assert_eq!(body["status"], "Failure", "{body}");
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["reason"], reason, "{body}");
        assert_eq!(body["message"], message, "{body}");
        body.get("details").cloned().unwrap_or(Value::Null)
    }

    /// Like [`Reply::expect_status`] for messages only partly fixed: checks that the message
    /// contains every one of `parts`, and returns it.
    #[track_caller]
    pub fn expect_status_naming(&self, code: u16, reason: &str, parts: &[&str]) -> String {
        let body = self.expect(code);
        assert_eq!(body["kind"], "Status", "{body}");
        assert_eq!(body["status"], "Failure", "{body}");
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["reason"], reason, "{body}");
        let message = body["message"].as_str().expect("a message").to_string();
        for p in parts {
            assert!(message.contains(p), "{message:?} should name {p:?}");
        }
        message
    }
}

impl Sim {
    pub async fn start(scenario: &str) -> Sim {
        let server = SimServer::start(scenario, None, "127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("cannot start scenario {scenario}: {e}"));
        let sim = Sim {
            server,
            http: reqwest::Client::new(),
        };
        sim.post("/api/v1/namespaces", &namespace(NS))
            .await
            .expect(201);
        sim
    }

    /// Stops the kubelet and the KServe controller, so pods and InferenceServices a test creates
    /// stay exactly as the API left them (no scheduling, no finalizers added behind its back).
    pub async fn quiet_controllers(&self) {
        for c in ["kubelet", "kserve", "deployment", "garbageCollector"] {
            self.put(
                &format!("/sim/v1/controllers/{c}"),
                &json!({"state": "down"}),
            )
            .await
            .expect(200);
        }
    }

    pub async fn stop(self) {
        self.server.shutdown().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.url(), path)
    }

    /// Sends a request; `token` adds `Authorization: Bearer <token>`.
    pub async fn send_as(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
        token: Option<&str>,
    ) -> Reply {
        let mut req = self.http.request(method, self.url(path));
        if let Some(ct) = content_type {
            req = req.header(CONTENT_TYPE, ct);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let fut = async {
            let resp = req.send().await.expect("the simulator answers");
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.bytes().await.expect("a complete body").to_vec();
            Reply {
                status,
                headers,
                body,
            }
        };
        tokio::time::timeout(HANG_GUARD, fut)
            .await
            .unwrap_or_else(|_| panic!("no answer to {path} within {HANG_GUARD:?}"))
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        self.send_as(method, path, content_type, body, None).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(
            Method::POST,
            path,
            Some("application/json"),
            Some(bytes(body)),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.send(
            Method::PUT,
            path,
            Some("application/json"),
            Some(bytes(body)),
        )
        .await
    }

    pub async fn patch(&self, path: &str, content_type: &str, body: &Value) -> Reply {
        self.send(Method::PATCH, path, Some(content_type), Some(bytes(body)))
            .await
    }

    pub async fn merge_patch(&self, path: &str, body: &Value) -> Reply {
        self.patch(path, "application/merge-patch+json", body).await
    }

    pub async fn delete(&self, path: &str, body: Option<&Value>) -> Reply {
        let ct = body.map(|_| "application/json");
        self.send(Method::DELETE, path, ct, body.map(bytes)).await
    }

    /// Creates an object in the collection at `path`, expecting 201; returns it.
    pub async fn create(&self, path: &str, body: &Value) -> Value {
        self.post(path, body).await.expect(201)
    }

    /// Opens a watch (or any streaming GET) and returns it once the headers are in.
    pub async fn watch(&self, path_and_query: &str) -> Stream {
        self.stream_as(path_and_query, None).await
    }

    pub async fn stream_as(&self, path_and_query: &str, token: Option<&str>) -> Stream {
        let mut req = self.http.get(self.url(path_and_query));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = tokio::time::timeout(HANG_GUARD, req.send())
            .await
            .expect("watch headers in time")
            .expect("the simulator answers");
        Stream {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            resp,
            buf: Vec::new(),
        }
    }
}

/// A streaming answer (watch or log follow), read line by line.
pub struct Stream {
    pub status: u16,
    pub headers: HeaderMap,
    resp: reqwest::Response,
    buf: Vec<u8>,
}

impl Stream {
    pub fn content_type(&self) -> &str {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The next complete line without its `\n`; `None` when the server ended the stream
    /// cleanly. A transport error (a stream cut short) fails the test, and so does a
    /// stream that ends in the middle of a line.
    pub async fn next_line(&mut self) -> Option<String> {
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Some(String::from_utf8(line[..i].to_vec()).expect("UTF-8 line"));
            }
            let chunk = tokio::time::timeout(HANG_GUARD, self.resp.chunk())
                .await
                .unwrap_or_else(|_| panic!("nothing on the stream within {HANG_GUARD:?}"))
                .expect("the stream ends cleanly");
            match chunk {
                Some(c) => self.buf.extend_from_slice(&c),
                None => {
                    assert!(
                        self.buf.is_empty(),
                        "stream ended inside a line: {:?}",
                        String::from_utf8_lossy(&self.buf)
                    );
                    return None;
                }
            }
        }
    }

    /// The next watch event: one JSON object on one line.
    pub async fn next_event(&mut self) -> Option<Value> {
        let line = self.next_line().await?;
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("a watch line is not one JSON object ({e}): {line}"));
        assert!(v.is_object(), "{line}");
        Some(v)
    }

    /// The next event that is not a BOOKMARK.
    pub async fn next_change(&mut self) -> Option<Value> {
        loop {
            let e = self.next_event().await?;
            if e["type"] != "BOOKMARK" {
                return Some(e);
            }
        }
    }

    /// Every remaining event up to the clean end of the stream.
    pub async fn rest(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(e) = self.next_event().await {
            out.push(e);
        }
        out
    }

    /// Raw bytes up to the end of the stream.
    pub async fn rest_bytes(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        loop {
            let chunk = tokio::time::timeout(HANG_GUARD, self.resp.chunk())
                .await
                .unwrap_or_else(|_| panic!("nothing on the stream within {HANG_GUARD:?}"))
                .expect("the stream ends cleanly");
            match chunk {
                Some(c) => out.extend_from_slice(&c),
                None => return out,
            }
        }
    }
}

pub fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("serialisable")
}

pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

pub fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

pub fn configmap_labelled(name: &str, labels: Value) -> Value {
    let mut cm = configmap(name);
    cm["metadata"]["labels"] = labels;
    cm
}

pub fn configmap_with_finalizer(name: &str, finalizer: &str) -> Value {
    let mut cm = configmap(name);
    cm["metadata"]["finalizers"] = json!([finalizer]);
    cm
}

pub fn deployment(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "busybox"}]},
            },
        },
    })
}

/// A pod with these containers; `node` set means scheduled (so deletion is graceful).
pub fn pod(name: &str, containers: &[&str], node: Option<&str>) -> Value {
    let cs: Vec<Value> = containers
        .iter()
        .map(|c| json!({"name": c, "image": "busybox"}))
        .collect();
    let mut p = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": cs},
    });
    if let Some(n) = node {
        p["spec"]["nodeName"] = json!(n);
    }
    p
}

pub fn isvc(name: &str) -> Value {
    json!({
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": name},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://m"}}},
    })
}

pub fn cm_path(name: &str) -> String {
    format!("/api/v1/namespaces/{NS}/configmaps/{name}")
}

pub const CMS: &str = "/api/v1/namespaces/wire/configmaps";
pub const PODS: &str = "/api/v1/namespaces/wire/pods";
pub const DEPLOYS: &str = "/apis/apps/v1/namespaces/wire/deployments";
pub const ISVCS: &str = "/apis/serving.kserve.io/v1beta1/namespaces/wire/inferenceservices";

pub fn rv(obj: &Value) -> String {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .expect("a resourceVersion")
        .to_string()
}

pub fn rv_num(obj: &Value) -> u64 {
    rv(obj).parse().expect("a numeric resourceVersion")
}

pub fn uid(obj: &Value) -> String {
    obj["metadata"]["uid"].as_str().expect("a uid").to_string()
}
