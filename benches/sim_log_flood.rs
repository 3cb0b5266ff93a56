//! log-flood: how many log lines per second a client following the flooding pod's log over HTTP
//! (`follow=true`) receives, against the 20,000 lines/s the console must cope with.
//!
//! `cargo bench --bench sim_log_flood` (release). Also counts what the pod wrote in the same
//! window, from the simulator's log hub, so lines a slow reader missed show as the difference.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use llmops_console::sim::kinds::PODS;
use llmops_console::sim::logs::RETAINED_LINES;
use llmops_console::sim::server::SimServer;
use serde_json::Value;
use support::{mem, wait_for};

const NAMESPACE: &str = "llm-staging";
const FOLLOW_FOR: Duration = Duration::from_secs(10);
const TARGET_LINES_PER_SECOND: f64 = 20_000.0;

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
    let sim = SimServer::start("log-flood", None, "127.0.0.1:0")
        .await
        .expect("log-flood starts");
    // The flooder is the vllm-debug pod whose log fills up: it writes its retained maximum
    // within a second, the others two lines a second.
    let flooder = wait_for(
        "the flooding pod",
        Duration::from_secs(60),
        Duration::from_millis(100),
        || async {
            let (pods, _) = sim.ctx.store.list(&PODS, Some(NAMESPACE), &|p: &Value| {
                p["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("vllm-debug-"))
            });
            pods.iter().find_map(|p| {
                let name = p["metadata"]["name"].as_str()?;
                let log = sim.ctx.logs.get(NAMESPACE, name)?;
                (log.len() >= RETAINED_LINES).then(|| name.to_string())
            })
        },
    )
    .await;

    // What the pod writes, counted at the source while the HTTP follower reads.
    let mut source = sim.ctx.logs.pod(NAMESPACE, &flooder).open();
    let produced = tokio::spawn(async move {
        let start = Instant::now();
        let mut lines = 0u64;
        while start.elapsed() < FOLLOW_FOR {
            match tokio::time::timeout(Duration::from_millis(100), source.rx.recv()).await {
                Ok(Ok(batch)) => lines += batch.len() as u64,
                Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(_)) => break,
                Err(_) => {}
            }
        }
        lines
    });

    let url = format!(
        "{}/api/v1/namespaces/{NAMESPACE}/pods/{flooder}/log?follow=true&tailLines=0",
        sim.url()
    );
    let http = reqwest::Client::new();
    let mut resp = http.get(&url).send().await.expect("log follow answers");
    assert_eq!(resp.status(), 200, "log follow");
    let start = Instant::now();
    let (mut lines, mut bytes) = (0u64, 0u64);
    while start.elapsed() < FOLLOW_FOR {
        let left = FOLLOW_FOR.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, resp.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                bytes += chunk.len() as u64;
                lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
            }
            Ok(_) => panic!("the log stream ended early"),
            Err(_) => break,
        }
    }
    let secs = start.elapsed().as_secs_f64();
    drop(resp);
    let written = produced.await.expect("source counter");
    let rate = lines as f64 / secs;
    let m = mem();
    println!(
        "log-flood: followed {flooder} for {secs:.1} s: {lines} lines ({:.1} MB), {rate:.0} lines/s received; pod wrote {:.0} lines/s; sustains >= 20,000 lines/s: {}",
        bytes as f64 / 1e6,
        written as f64 / secs,
        if rate >= TARGET_LINES_PER_SECOND {
            "yes"
        } else {
            "NO"
        },
    );
    println!(
        "log-flood: memory MB: VmRSS={:.0} VmHWM={:.0}",
        m.rss_mb, m.hwm_mb
    );
    println!("load average at end {}", support::load_average());
    sim.shutdown().await;
}
