//! Robustness: random and mutated requests (routes, methods, query strings, headers, bodies) at a
//! running simulator. Every answer must be a well-formed HTTP response, 2xx or 4xx (nothing here
//! injects 5xx), every 4xx body a `Status`, no server task may panic, and the server must still
//! answer `/version` at the end. The only 5xx are the two the apiserver itself gives for a
//! resourceVersion: 500 for one that is not a number, 504 for one in the future (whose 3 s wait
//! is shortened here so that random versions do not make the run last minutes).
//!
//! The case count is bounded so the run takes about 20 s in a debug build; `SIM_FUZZ_CASES`
//! changes it and `SIM_FUZZ_SEED` (a number) replays a run; the seed is printed on failure.

#[path = "sim_fuzz/bodies.rs"]
mod bodies;
#[path = "sim_fuzz/strategies.rs"]
mod strategies;

use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use llmops_console::sim::server::SimServer;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Value, json};
use strategies::{FuzzRequest, NS};

const SERVER_THREAD: &str = "sim-fuzz-server";
/// The runtime of [`known_crashers_stay_fixed`], counted apart (tests run side by side).
const KNOWN_THREAD: &str = "sim-fuzz-known";
const DEFAULT_CASES: u32 = 3500;
/// How long a streaming 2xx (watch, log follow) is read before it is let go.
const STREAM_PEEK: Duration = Duration::from_millis(50);
/// A complete answer taking longer than this means the server is stuck.
const HANG_GUARD: Duration = Duration::from_secs(20);

/// Panics on the simulator's runtime threads, counted by the hook below.
static SERVER_PANICS: AtomicUsize = AtomicUsize::new(0);
static KNOWN_PANICS: AtomicUsize = AtomicUsize::new(0);
/// How many of the latest requests are shown when a server panic is first seen (a controller
/// panics a little after the request that stored what it trips on).
const RECENT: usize = 8;

fn count_server_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("");
            if name.starts_with(SERVER_THREAD) {
                SERVER_PANICS.fetch_add(1, Ordering::SeqCst);
            } else if name.starts_with(KNOWN_THREAD) {
                KNOWN_PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
}

struct Answer {
    status: u16,
    content_type: String,
    /// Whether the body was read to its end (a stream is only peeked at).
    complete: bool,
    body: Vec<u8>,
}

async fn send(http: &reqwest::Client, base: &str, req: &FuzzRequest) -> Result<Answer, String> {
    let url = if req.query.is_empty() {
        format!("{base}{}", req.path)
    } else {
        format!("{base}{}?{}", req.path, req.query)
    };
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut rb = http.request(method, &url);
    if let Some(ct) = &req.content_type {
        rb = rb.header("content-type", ct);
    }
    if let Some(a) = &req.authorization {
        rb = rb.header("authorization", a);
    }
    if let Some(u) = &req.impersonate {
        rb = rb.header("impersonate-user", u);
    }
    let body = req.body.bytes();
    if !body.is_empty() {
        rb = rb.body(body);
    }
    let mut resp = tokio::time::timeout(HANG_GUARD, rb.send())
        .await
        .map_err(|_| format!("no answer within {HANG_GUARD:?}"))?
        .map_err(|e| format!("no HTTP answer (connection dropped?): {e:?}"))?;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let streaming = (200..300).contains(&status) && resp.content_length().is_none();
    let mut body = Vec::new();
    if streaming {
        if let Ok(Ok(Some(chunk))) = tokio::time::timeout(STREAM_PEEK, resp.chunk()).await {
            body.extend_from_slice(&chunk);
        }
        return Ok(Answer {
            status,
            content_type,
            complete: false,
            body,
        });
    }
    let bytes = tokio::time::timeout(HANG_GUARD, resp.bytes())
        .await
        .map_err(|_| format!("body of a {status} not complete within {HANG_GUARD:?}"))?
        .map_err(|e| format!("body of a {status} cut short: {e:?}"))?;
    Ok(Answer {
        status,
        content_type,
        complete: true,
        body: bytes.to_vec(),
    })
}

/// The checks every answer must pass.
fn check(req: &FuzzRequest, a: &Answer) -> Result<(), String> {
    let class = a.status / 100;
    if resource_version_answer(req, a) {
        return Ok(());
    }
    if class != 2 && class != 4 {
        return Err(format!(
            "status {} (only 2xx and 4xx expected): {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        ));
    }
    if req.method == "HEAD" {
        return Ok(());
    }
    if class == 4 {
        let v: Value = serde_json::from_slice(&a.body).map_err(|e| {
            format!(
                "a {} whose body is not JSON ({e}): {:?}",
                a.status,
                String::from_utf8_lossy(&a.body)
            )
        })?;
        let ok = v["kind"] == "Status"
            && v["apiVersion"] == "v1"
            && v["metadata"].is_object()
            && v["status"] == "Failure"
            && v["code"] == a.status
            && v["message"].is_string()
            && v.get("reason").is_none_or(Value::is_string)
            && v.get("details").is_none_or(Value::is_object);
        if !ok || a.content_type != "application/json" {
            return Err(format!(
                "a {} that is not a Status ({}): {v}",
                a.status, a.content_type
            ));
        }
    } else if a.complete && a.content_type == "application/json" {
        serde_json::from_slice::<Value>(&a.body)
            .map_err(|e| format!("a {} with a JSON type but not JSON: {e}", a.status))?;
    } else if !a.complete && a.content_type == "application/json" {
        // A watch: whatever complete lines arrived are single JSON events.
        let text = String::from_utf8_lossy(&a.body);
        let complete = text.rsplit_once('\n').map_or("", |(done, _)| done);
        for line in complete.lines() {
            let e: Value = serde_json::from_str(line)
                .map_err(|err| format!("a watch line is not JSON ({err}): {line}"))?;
            if !e["type"].is_string() || !e["object"].is_object() {
                return Err(format!("not a watch event: {line}"));
            }
        }
    }
    Ok(())
}

/// The apiserver's answers to a resourceVersion that is not a number (500, no reason) or lies in
/// the future (504 Timeout, cause ResourceVersionTooLarge), as Status bodies (a HEAD has none).
fn resource_version_answer(req: &FuzzRequest, a: &Answer) -> bool {
    if req.method == "HEAD" {
        return matches!(a.status, 500 | 504) && req.query.contains("resourceVersion");
    }
    let Ok(v) = serde_json::from_slice::<Value>(&a.body) else {
        return false;
    };
    let status = v["kind"] == "Status" && v["code"] == a.status && v["status"] == "Failure";
    let message = v["message"].as_str().unwrap_or("");
    match a.status {
        500 => {
            status
                && v.get("reason").is_none()
                && message.starts_with("resourceVersion: Invalid value: ")
        }
        504 => {
            status
                && v["reason"] == "Timeout"
                && v["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
        }
        _ => false,
    }
}

struct Fixture {
    server: SimServer,
    http: reqwest::Client,
    base: String,
    faults: Vec<u8>,
}

impl Fixture {
    async fn start() -> Fixture {
        let server = SimServer::start("healthy", None, "127.0.0.1:0")
            .await
            .expect("the healthy scenario starts");
        server
            .ctx
            .store
            .set_rv_block_timeout(Duration::from_millis(5));
        let http = reqwest::Client::new();
        let base = server.url();
        let faults = http
            .get(format!("{base}/sim/v1/faults"))
            .send()
            .await
            .expect("admin API")
            .bytes()
            .await
            .expect("fault state")
            .to_vec();
        let f = Fixture {
            server,
            http,
            base,
            faults,
        };
        f.ensure_fixtures().await;
        f
    }

    /// Recreates the namespace and the objects requests aim at (after a case deleted them).
    async fn ensure_fixtures(&self) {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}});
        let _ = self
            .http
            .post(format!("{}/api/v1/namespaces", self.base))
            .json(&ns)
            .send()
            .await;
        for (rt, obj) in strategies::fixtures() {
            let _ = self
                .http
                .post(format!("{}{}", self.base, rt.collection_path(Some(NS))))
                .json(&obj)
                .send()
                .await;
        }
    }

    /// Puts the fault state back as it was (a case may have injected errors, latency, users).
    async fn restore_faults(&self) {
        let r = self
            .http
            .put(format!("{}/sim/v1/faults", self.base))
            .header("content-type", "application/json")
            .body(self.faults.clone())
            .send()
            .await
            .expect("admin API answers");
        assert_eq!(r.status(), 200, "restoring the fault state");
    }
}

fn seed() -> u64 {
    std::env::var("SIM_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
}

#[test]
fn random_requests_never_break_the_simulator() {
    count_server_panics();
    let cases = std::env::var("SIM_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let seed = seed();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(SERVER_THREAD)
        .enable_all()
        .build()
        .expect("a runtime");
    let fx = rt.block_on(Fixture::start());
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 300,
        ..Config::default()
    };
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    let mut runner = TestRunner::new_with_rng(config, rng);
    // (method, status) -> count, printed at the end (`--nocapture`) to see what the run reached.
    let seen = std::sync::Mutex::new(std::collections::BTreeMap::<(String, u16), u32>::new());
    // A server panic stays counted, so every later case fails and the shrunk "minimal input" is
    // not its cause: the requests sent just before it was first seen are kept instead.
    let recent = std::sync::Mutex::new(std::collections::VecDeque::<String>::new());
    let first_panic = std::sync::Mutex::new(None::<String>);
    let result = runner.run(&strategies::request(), |req| {
        {
            let mut r = recent.lock().unwrap_or_else(|p| p.into_inner());
            if r.len() == RECENT {
                r.pop_front();
            }
            r.push_back(format!("{req:?}"));
        }
        let outcome = rt.block_on(async {
            let answer = send(&fx.http, &fx.base, &req).await;
            if req.path.starts_with("/sim/") {
                fx.restore_faults().await;
            }
            if req.method == "DELETE" || req.path.contains("namespaces/fuzz") {
                fx.ensure_fixtures().await;
            }
            answer
        });
        let panics = SERVER_PANICS.load(Ordering::SeqCst);
        if panics > 0 {
            let mut first = first_panic.lock().unwrap_or_else(|p| p.into_inner());
            if first.is_none() {
                let r = recent.lock().unwrap_or_else(|p| p.into_inner());
                let list: Vec<&str> = r.iter().map(String::as_str).collect();
                let text = format!(
                    "SIM_FUZZ_SEED={seed}: first server panic seen after these requests (latest last):\n{}",
                    list.join("\n")
                );
                eprintln!("{text}");
                *first = Some(text);
            }
            return Err(TestCaseError::fail(format!(
                "{panics} panic(s) in the simulator's tasks"
            )));
        }
        let answer = outcome.map_err(TestCaseError::fail)?;
        *seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((req.method.clone(), answer.status))
            .or_default() += 1;
        check(&req, &answer).map_err(TestCaseError::fail)
    });
    println!("SIM_FUZZ_SEED={seed}, {cases} cases; answers by method and status:");
    for ((method, status), n) in seen.into_inner().unwrap_or_else(|p| p.into_inner()) {
        println!("  {method:7} {status}: {n}");
    }
    if let Err(e) = result {
        let first = first_panic.into_inner().unwrap_or_else(|p| p.into_inner());
        match first {
            Some(cause) => panic!("SIM_FUZZ_SEED={seed}: {e}\n{cause}"),
            None => panic!("SIM_FUZZ_SEED={seed}: {e}"),
        }
    }
    let version = rt.block_on(async {
        let r = fx
            .http
            .get(format!("{}/version", fx.base))
            .send()
            .await
            .expect("/version answers after the run");
        (r.status().as_u16(), r.json::<Value>().await.ok())
    });
    assert_eq!(version.0, 200, "/version after the run");
    assert_eq!(version.1.expect("JSON")["major"], "1");
    assert_eq!(SERVER_PANICS.load(Ordering::SeqCst), 0);
    rt.block_on(fx.server.shutdown());
}

/// One request of a known crasher: method, path, JSON body.
type Step = (&'static str, String, Value);

/// Inputs that once panicked a simulator task (found by the test above), replayed as they were:
/// client-written non-objects where the simulator expects objects.
#[test]
fn known_crashers_stay_fixed() {
    count_server_panics();
    let merge = "application/merge-patch+json";
    let pods = format!("/api/v1/namespaces/{NS}/pods");
    let hpas = format!("/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers");
    let cases: Vec<(&str, Vec<Step>)> = vec![
        (
            // The kubelet's next pass over the pod (pod_status.rs, `s["startTime"] = ...`).
            "a pod status that is a number",
            vec![(
                "PATCH",
                format!("{pods}/fuzz-pod/status"),
                json!({"status": 5}),
            )],
        ),
        (
            "a pod status that is an array",
            vec![(
                "PATCH",
                format!("{pods}/fuzz-pod/status"),
                json!({"status": [1]}),
            )],
        ),
        (
            // The DELETE handler (store/delete.rs, `status["phase"] = "Terminating"`).
            "a held namespace with a string status, deleted",
            vec![
                (
                    "POST",
                    "/api/v1/namespaces".into(),
                    json!({"metadata": {"name": "fuzz-junk"}}),
                ),
                (
                    "PATCH",
                    "/api/v1/namespaces/fuzz-junk/status".into(),
                    json!({"status": "x"}),
                ),
                ("DELETE", "/api/v1/namespaces/fuzz-junk".into(), json!({})),
            ],
        ),
        (
            // The KServe controller putting the child's fields back (kserve.rs, `new["spec"][f]`).
            "a predictor HPA whose spec is a number",
            vec![(
                "PATCH",
                format!("{hpas}/fuzz-isvc-predictor"),
                json!({"spec": 5}),
            )],
        ),
    ];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(KNOWN_THREAD)
        .enable_all()
        .build()
        .expect("a runtime");
    let fx = rt.block_on(Fixture::start());
    // The InferenceService's children exist once its controller has run.
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(1500)).await });
    for (what, steps) in cases {
        rt.block_on(async {
            for (method, path, body) in &steps {
                let r = fx
                    .http
                    .request(
                        method.parse().expect("a method"),
                        format!("{}{path}", fx.base),
                    )
                    .header(
                        "content-type",
                        if *method == "PATCH" {
                            merge
                        } else {
                            "application/json"
                        },
                    )
                    .body(body.to_string())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {method} {path}: no answer: {e}"));
                assert!(
                    r.status().is_success(),
                    "{what}: {method} {path}: {}",
                    r.status()
                );
            }
            // Long enough for the controllers to pass over what was written.
            tokio::time::sleep(Duration::from_millis(700)).await;
            fx.ensure_fixtures().await;
        });
        assert_eq!(KNOWN_PANICS.load(Ordering::SeqCst), 0, "{what}");
    }
    let version = rt.block_on(async {
        fx.http
            .get(format!("{}/version", fx.base))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    assert_eq!(version.ok(), Some(200), "/version after the known crashers");
    rt.block_on(fx.server.shutdown());
}
