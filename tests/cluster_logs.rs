//! LogFollower against the in-process simulator: tail and follow, a broken stream reopened
//! without duplicates or gaps, a deleted pod's stream ending and its replacement followed after
//! `set_pods`, and a slow reader losing counted lines instead of memory.

mod cluster_support;

use std::collections::BTreeMap;
use std::time::Duration;

use cluster_support::*;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams};
use llmops_console::cluster::Scope;
use llmops_console::cluster::logs::{
    LogConfig, LogEvent, LogFollower, LogLine, PodLogTarget, StreamState,
};
use llmops_console::sim::server::SimServer;
use tokio::sync::mpsc;

/// Running and ready pods of an app in a namespace, by name.
async fn ready_pods(client: &kube::Client, ns: &str, app: &str) -> Vec<Pod> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let lp = ListParams::default().labels(&format!("app={app}"));
    let mut pods: Vec<Pod> = api
        .list(&lp)
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .is_some_and(|cs| cs.iter().all(|c| c.ready))
        })
        .collect();
    pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    pods
}

fn target(p: &Pod) -> PodLogTarget {
    PodLogTarget::for_pod(p).remove(0)
}

/// Everything the follower said, per pod.
#[derive(Default)]
struct Seen {
    lines: BTreeMap<String, Vec<LogLine>>,
    states: Vec<(String, StreamState)>,
    dropped: u64,
}

impl Seen {
    fn take(&mut self, ev: LogEvent) {
        match ev {
            LogEvent::Batch(b) => self.lines.entry(b.target.pod).or_default().extend(b.lines),
            LogEvent::StreamState(t, s) => self.states.push((t.pod, s)),
            LogEvent::Dropped(_, n) => self.dropped += n,
        }
    }

    async fn until(
        &mut self,
        rx: &mut mpsc::Receiver<LogEvent>,
        what: &str,
        limit: Duration,
        done: impl Fn(&Seen) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(self) {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(ev)) => self.take(ev),
                Ok(None) => panic!("log channel closed waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; states {:?}", self.states),
            }
        }
    }

    fn count(&self, pod: &str) -> usize {
        self.lines.get(pod).map_or(0, Vec::len)
    }

    fn has_state(&self, pod: &str, f: impl Fn(&StreamState) -> bool) -> bool {
        self.states.iter().any(|(p, s)| p == pod && f(s))
    }
}

/// The simulator's own record of a pod's log, as (timestamp, text).
fn server_log(sim: &SimServer, ns: &str, pod: &str) -> Vec<(jiff::Timestamp, String)> {
    sim.ctx
        .logs
        .get(ns, pod)
        .map(|l| {
            l.open()
                .backlog
                .into_iter()
                .map(|l| (l.time, l.text))
                .collect()
        })
        .unwrap_or_default()
}

async fn kubelet(sim: &SimServer, state: &str) {
    let resp = reqwest::Client::new()
        .put(format!("{}/sim/v1/controllers/kubelet", sim.url()))
        .json(&serde_json::json!({ "state": state }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_reconnects_without_duplicates_and_follows_replacements() {
    let sim = start("healthy").await;
    let (client, _) = client_for(&sim, "admin", Scope::All).await;
    let pods = eventually("bge-reranker pods ready", Duration::from_secs(30), || {
        let client = client.clone();
        async move {
            let p = ready_pods(&client, "llm-prod", "bge-reranker").await;
            (p.len() == 2).then_some(p)
        }
    })
    .await;
    let cfg = LogConfig {
        tail_lines: 3,
        ..LogConfig::default()
    };
    let (mut follower, mut rx) = LogFollower::new(client.clone(), cfg);
    follower.set_pods(pods.iter().map(target));
    let (a, b) = (
        pods[0].metadata.name.clone().unwrap(),
        pods[1].metadata.name.clone().unwrap(),
    );
    let mut seen = Seen::default();
    seen.until(
        &mut rx,
        "lines from both pods",
        Duration::from_secs(15),
        |s| s.count(&a) >= 5 && s.count(&b) >= 5,
    )
    .await;
    assert!(seen.has_state(&a, |s| *s == StreamState::Connected));
    assert!(
        seen.lines[&a].iter().all(|l| l.ts.is_some()),
        "timestamps parsed"
    );

    // Break pod a's stream while the pod lives on and keeps its log: the kubelet pauses, the
    // log is replaced by an identical copy (the open stream ends), the kubelet resumes.
    kubelet(&sim, "down").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let old = server_log(&sim, "llm-prod", &a);
    sim.ctx.logs.remove("llm-prod", &a);
    let copy: Vec<_> = old
        .iter()
        .map(|(t, text)| llmops_console::sim::logs::LogLine {
            time: *t,
            text: text.clone(),
        })
        .collect();
    sim.ctx.logs.pod("llm-prod", &a).append(copy);
    kubelet(&sim, "up").await;
    let before = seen.count(&a);
    seen.until(
        &mut rx,
        "reconnect and new lines",
        Duration::from_secs(20),
        |s| {
            s.has_state(&a, |st| matches!(st, StreamState::Reconnecting { .. }))
                && s.states
                    .iter()
                    .filter(|(p, st)| *p == a && *st == StreamState::Connected)
                    .count()
                    == 2
                && s.count(&a) >= before + 3
        },
    )
    .await;
    // Exactly the server's log from the first line received: no duplicate, no gap.
    let got: Vec<(jiff::Timestamp, String)> = seen.lines[&a]
        .iter()
        .map(|l| (l.ts.unwrap(), l.text.clone()))
        .collect();
    let log = server_log(&sim, "llm-prod", &a);
    let start = log.iter().position(|x| *x == got[0]).unwrap();
    assert_eq!(
        got[..],
        log[start..start + got.len()],
        "lines differ from the pod's log"
    );

    // Pod b goes (grace 0): its stream ends; its replacement is followed after set_pods.
    let api: Api<Pod> = Api::namespaced(client.clone(), "llm-prod");
    api.delete(&b, &DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    seen.until(
        &mut rx,
        "pod b's stream to end",
        Duration::from_secs(15),
        |s| s.has_state(&b, |st| matches!(st, StreamState::Ended { .. })),
    )
    .await;
    let replacement = eventually("a replacement pod", Duration::from_secs(30), || {
        let client = client.clone();
        let (a, b) = (a.clone(), b.clone());
        async move {
            let p = ready_pods(&client, "llm-prod", "bge-reranker").await;
            p.into_iter().find(|p| {
                let n = p.metadata.name.as_deref().unwrap_or("");
                n != a && n != b
            })
        }
    })
    .await;
    let c = replacement.metadata.name.clone().unwrap();
    follower.set_pods([target(&pods[0]), target(&replacement)]);
    assert_eq!(follower.following().len(), 2);
    seen.until(
        &mut rx,
        "lines from the replacement",
        Duration::from_secs(15),
        |s| s.count(&c) >= 2,
    )
    .await;
    follower.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_gets_counted_drops_not_unbounded_memory() {
    let sim = start("log-flood").await;
    let (client, _) = client_for(&sim, "admin", Scope::All).await;
    let pods = eventually("vllm-debug pods ready", Duration::from_secs(30), || {
        let client = client.clone();
        async move {
            let p = ready_pods(&client, "llm-staging", "vllm-debug").await;
            (p.len() == 2).then_some(p)
        }
    })
    .await;
    let cfg = LogConfig {
        tail_lines: 10,
        channel_capacity: 4,
        ..LogConfig::default()
    };
    let (mut follower, mut rx) = LogFollower::new(client, cfg);
    follower.set_pods(pods.iter().map(target));
    let mut seen = Seen::default();
    let names: Vec<String> = pods
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    seen.until(
        &mut rx,
        "both streams connected",
        Duration::from_secs(15),
        |s| {
            names
                .iter()
                .all(|n| s.has_state(n, |st| *st == StreamState::Connected))
        },
    )
    .await;
    // Do not read for a while: the flood fills the four slots, the rest is counted.
    tokio::time::sleep(Duration::from_secs(2)).await;
    seen.until(
        &mut rx,
        "a large drop report",
        Duration::from_secs(20),
        |s| s.dropped > 1_000,
    )
    .await;
    let received: usize = seen.lines.values().map(Vec::len).sum();
    println!(
        "flood: {received} lines received, {} dropped and reported",
        seen.dropped
    );
    // Bounded: what was received is at most what the channel held plus what came after.
    assert!(received < seen.dropped as usize, "{received} received");
    follower.shutdown().await;
    sim.shutdown().await;
}
