//! large-fleet: how fast the simulator serves 5,000 pods over HTTP while 20 watchers are
//! connected and receiving, and how much memory it takes.
//!
//! `cargo bench --bench sim_large_fleet` (release). Prints the time to load and settle the
//! scenario, full-list and paged-list (500 per page, as kube-rs does) latency p50/p95 over
//! `RUNS` runs, what the watchers received, and VmRSS/VmHWM before and after.

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use llmops_console::sim::kinds::PODS;
use llmops_console::sim::server::SimServer;
use serde_json::{Value, json};
use support::{mem, ms, percentile, wait_for};

const PODS_EXPECTED: usize = 5000;
const WATCHERS: usize = 20;
const RUNS: usize = 30;
const WARMUP: usize = 2;
const PAGE: usize = 500;
/// Pod label writes per second while measuring, so the watchers have something to receive.
const CHURN_PER_SECOND: u64 = 50;

fn ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// One full list: request to last byte. Returns the time and the body.
async fn list_once(http: &reqwest::Client, url: &str) -> (Duration, bytes::Bytes) {
    let t = Instant::now();
    let resp = http.get(url).send().await.expect("list answers");
    assert_eq!(resp.status(), 200, "list of pods");
    let body = resp.bytes().await.expect("list body");
    (t.elapsed(), body)
}

#[derive(serde::Deserialize)]
struct Page {
    metadata: PageMeta,
    items: Vec<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct PageMeta {
    #[serde(rename = "continue")]
    continue_token: Option<String>,
}

/// A paged list as kube-rs's watcher does it (`?&limit=500`, then `&continue=`). Returns the
/// time for all pages and how many items they held.
async fn paged_once(http: &reqwest::Client, base: &str) -> (Duration, usize) {
    let t = Instant::now();
    let mut items = 0;
    let mut token: Option<String> = None;
    loop {
        let url = match &token {
            None => format!("{base}/api/v1/pods?&limit={PAGE}"),
            Some(c) => format!("{base}/api/v1/pods?&limit={PAGE}&continue={c}"),
        };
        let body = http
            .get(&url)
            .send()
            .await
            .expect("page answers")
            .bytes()
            .await
            .expect("page body");
        // Only the continue token and the item count: the timing is the server's and the
        // wire's, not a client building 5,000 objects.
        let page: Page = serde_json::from_slice(&body).expect("page JSON");
        items += page.items.len();
        match page.metadata.continue_token {
            Some(c) => token = Some(c),
            None => return (t.elapsed(), items),
        }
    }
}

/// A watcher like kube-rs's: from the list's revision, bookmarks on; counts the events it reads.
fn spawn_watcher(
    http: reqwest::Client,
    url: String,
    events: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut resp = http.get(&url).send().await.expect("watch answers");
        assert_eq!(resp.status(), 200, "watch of pods");
        while !stop.load(Ordering::Relaxed) {
            match tokio::time::timeout(Duration::from_millis(200), resp.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    let lines = chunk.iter().filter(|b| **b == b'\n').count();
                    events.fetch_add(lines as u64, Ordering::Relaxed);
                }
                Ok(_) => panic!("a watch ended early"),
                Err(_) => {}
            }
        }
    })
}

/// Relabels pods round-robin at `CHURN_PER_SECOND` until stopped; returns how many it wrote.
fn spawn_churn(
    http: reqwest::Client,
    base: String,
    pods: Vec<(String, String)>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(1000 / CHURN_PER_SECOND));
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            let (ns, name) = &pods[n as usize % pods.len()];
            let url = format!("{base}/api/v1/namespaces/{ns}/pods/{name}");
            let r = http
                .patch(&url)
                .header("content-type", "application/merge-patch+json")
                .body(json!({"metadata": {"labels": {"bench-churn": n.to_string()}}}).to_string())
                .send()
                .await
                .expect("patch answers");
            assert_eq!(r.status(), 200, "churn patch");
            n += 1;
        }
        n
    })
}

fn main() {
    let rt = support::runtime();
    rt.block_on(run());
}

async fn run() {
    println!(
        "machine: {}; load average at start {}",
        support::machine(),
        support::load_average()
    );
    let before = mem();
    let t0 = Instant::now();
    let sim = SimServer::start("large-fleet", None, "127.0.0.1:0")
        .await
        .expect("large-fleet starts");
    let loaded = t0.elapsed();
    let ready_at = wait_for(
        "5,000 Ready pods",
        Duration::from_secs(600),
        Duration::from_millis(100),
        || async {
            let (pods, _) = sim.ctx.store.list(&PODS, None, &|p| ready(p));
            (pods.len() >= PODS_EXPECTED).then(|| t0.elapsed())
        },
    )
    .await;
    // Settled: the controllers have stopped writing (one quiet second).
    let settled_at = wait_for(
        "a quiet store",
        Duration::from_secs(600),
        Duration::from_millis(10),
        || {
            let store = sim.ctx.store.clone();
            async move {
                let rv = store.current_rv();
                tokio::time::sleep(Duration::from_secs(1)).await;
                (store.current_rv() == rv).then(|| t0.elapsed() - Duration::from_secs(1))
            }
        },
    )
    .await;
    let settled = mem();

    let http = reqwest::Client::new();
    let base = sim.url();
    let full_url = format!("{base}/api/v1/pods");
    // Names to churn and the revision to watch from (the parsed list is dropped at once, so
    // the memory figures are the simulator's, not this client's).
    let (list_rv, pods) = {
        let first: Value =
            serde_json::from_slice(&list_once(&http, &full_url).await.1).expect("JSON");
        let items = first["items"].as_array().expect("items");
        assert_eq!(items.len(), PODS_EXPECTED);
        let pods: Vec<(String, String)> = items
            .iter()
            .map(|p| {
                (
                    p["metadata"]["namespace"].as_str().unwrap().to_string(),
                    p["metadata"]["name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let rv = first["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string();
        (rv, pods)
    };

    let stop = Arc::new(AtomicBool::new(false));
    let counters: Vec<Arc<AtomicU64>> = (0..WATCHERS).map(|_| Arc::default()).collect();
    let watchers: Vec<_> = counters
        .iter()
        .map(|c| {
            let url = format!(
                "{base}/api/v1/pods?&watch=true&timeoutSeconds=290&allowWatchBookmarks=true&resourceVersion={list_rv}"
            );
            spawn_watcher(http.clone(), url, c.clone(), stop.clone())
        })
        .collect();
    let churn = spawn_churn(http.clone(), base.clone(), pods, stop.clone());

    let mut full = Vec::new();
    let mut size = 0;
    for i in 0..WARMUP + RUNS {
        let (t, body) = list_once(&http, &full_url).await;
        size = body.len();
        if i >= WARMUP {
            full.push(t);
        }
    }
    let mut paged = Vec::new();
    for i in 0..WARMUP + RUNS {
        let (t, n) = paged_once(&http, &base).await;
        assert_eq!(n, PODS_EXPECTED, "paged list total");
        if i >= WARMUP {
            paged.push(t);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let writes = churn.await.expect("churn task");
    for w in watchers {
        w.await.expect("watcher task");
    }
    let received: Vec<u64> = counters.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let after = mem();

    println!(
        "large-fleet: load {:.2} s, 5000 pods Ready at {:.2} s, settled at {:.2} s",
        loaded.as_secs_f64(),
        ready_at.as_secs_f64(),
        settled_at.as_secs_f64()
    );
    println!(
        "large-fleet: pod list ({PODS_EXPECTED} items, {:.1} MB) p50={:.1} ms p95={:.1} ms; watchers={WATCHERS}; VmHWM={:.0} MB",
        size as f64 / 1e6,
        ms(percentile(&full, 50.0)),
        ms(percentile(&full, 95.0)),
        after.hwm_mb
    );
    println!(
        "large-fleet: paged pod list ({} pages of {PAGE}) p50={:.1} ms p95={:.1} ms; watchers={WATCHERS}",
        PODS_EXPECTED.div_ceil(PAGE),
        ms(percentile(&paged, 50.0)),
        ms(percentile(&paged, 95.0)),
    );
    println!(
        "large-fleet: watchers received {}..{} events each for {writes} pod writes during the lists",
        received.iter().min().unwrap_or(&0),
        received.iter().max().unwrap_or(&0),
    );
    println!(
        "large-fleet: memory MB: start VmRSS={:.0}; settled VmRSS={:.0} VmHWM={:.0}; after lists VmRSS={:.0} VmHWM={:.0}",
        before.rss_mb, settled.rss_mb, settled.hwm_mb, after.rss_mb, after.hwm_mb
    );
    assert!(
        received.iter().all(|n| *n >= writes.min(1)),
        "every watcher received events: {received:?}"
    );
    println!("load average at end {}", support::load_average());
    sim.shutdown().await;
}
