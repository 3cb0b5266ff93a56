//! Following pod logs: one follow stream per pod (and container), with timestamps so a stream
//! that ends can be reopened at the last line's second and the overlap dropped; batched into a
//! bounded channel. A slow reader loses lines, counted and reported, rather than the console
//! buffering without limit. The set of pods changes with `set_pods` (after a redeploy, say).

mod dedup;

use std::collections::HashMap;
use std::time::Duration;

use futures::AsyncBufReadExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::{describe_kube_error, status_code};
pub use dedup::{Dedup, LogLine, floor_second, parse_line};

/// Longest line passed on; the rest of a longer line is cut (and marked).
const MAX_LINE_BYTES: usize = 64 * 1024;

/// One log stream: a pod and, for pods with several containers, which one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PodLogTarget {
    pub namespace: String,
    pub pod: String,
    /// `None`: the pod's only container.
    pub container: Option<String>,
}

impl PodLogTarget {
    /// Every container of a pod (one target, with no container name, for single-container pods).
    pub fn for_pod(pod: &Pod) -> Vec<PodLogTarget> {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let containers: Vec<String> = pod
            .spec
            .as_ref()
            .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default();
        if containers.len() <= 1 {
            return vec![PodLogTarget {
                namespace,
                pod: name,
                container: None,
            }];
        }
        containers
            .into_iter()
            .map(|c| PodLogTarget {
                namespace: namespace.clone(),
                pod: name.clone(),
                container: Some(c),
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    /// Lines asked for when a stream first opens.
    pub tail_lines: i64,
    /// A batch goes out at this many lines, or this long after its first line.
    pub batch_lines: usize,
    pub batch_interval: Duration,
    /// Batches the channel holds; beyond, lines are dropped and counted.
    pub channel_capacity: usize,
    /// Longest wait between reconnect attempts.
    pub max_backoff: Duration,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            tail_lines: 200,
            batch_lines: 500,
            batch_interval: Duration::from_millis(50),
            channel_capacity: 256,
            max_backoff: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogBatch {
    pub target: PodLogTarget,
    pub lines: Vec<LogLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamState {
    Connected,
    /// The stream ended or failed; it is reopened after a backoff.
    Reconnecting {
        error: String,
    },
    /// No more lines will come: the pod is gone, its container finished, or it was unfollowed.
    Ended {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEvent {
    Batch(LogBatch),
    StreamState(PodLogTarget, StreamState),
    /// Lines lost because the reader was slower than the pods (since the last such report).
    Dropped(PodLogTarget, u64),
}

/// Follows the logs of a set of pods. Dropping it stops every stream.
pub struct LogFollower {
    client: kube::Client,
    cfg: LogConfig,
    tx: mpsc::Sender<LogEvent>,
    cancel: CancellationToken,
    streams: HashMap<PodLogTarget, (CancellationToken, JoinHandle<()>)>,
}

impl Drop for LogFollower {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl LogFollower {
    pub fn new(client: kube::Client, cfg: LogConfig) -> (LogFollower, mpsc::Receiver<LogEvent>) {
        let (tx, rx) = mpsc::channel(cfg.channel_capacity.max(1));
        let follower = LogFollower {
            client,
            cfg,
            tx,
            cancel: CancellationToken::new(),
            streams: HashMap::new(),
        };
        (follower, rx)
    }

    /// Follows exactly these streams: new ones start (with the tail), removed ones end, the
    /// others carry on untouched. Call within a tokio runtime.
    pub fn set_pods(&mut self, targets: impl IntoIterator<Item = PodLogTarget>) {
        let wanted: std::collections::HashSet<PodLogTarget> = targets.into_iter().collect();
        self.streams.retain(|t, (cancel, handle)| {
            let keep = wanted.contains(t) && !handle.is_finished();
            if !keep {
                cancel.cancel();
            }
            keep
        });
        for t in wanted {
            if self.streams.contains_key(&t) {
                continue;
            }
            let cancel = self.cancel.child_token();
            let stream = Stream {
                api: Api::namespaced(self.client.clone(), &t.namespace),
                target: t.clone(),
                cfg: self.cfg.clone(),
                tx: self.tx.clone(),
                cancel: cancel.clone(),
                dropped: 0,
            };
            self.streams.insert(t, (cancel, tokio::spawn(stream.run())));
        }
    }

    /// The streams being followed.
    pub fn following(&self) -> Vec<PodLogTarget> {
        let mut v: Vec<_> = self.streams.keys().cloned().collect();
        v.sort();
        v
    }

    /// Stops every stream and waits for them.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        for (_, (_, h)) in self.streams.drain() {
            let _ = h.await;
        }
    }
}

struct Stream {
    api: Api<Pod>,
    target: PodLogTarget,
    cfg: LogConfig,
    tx: mpsc::Sender<LogEvent>,
    cancel: CancellationToken,
    dropped: u64,
}

/// How one connection ended.
enum End {
    Cancelled,
    Eof,
    Failed(String),
}

impl Stream {
    async fn state(&self, state: StreamState) -> bool {
        tokio::select! {
            _ = self.cancel.cancelled() => false,
            r = self.tx.send(LogEvent::StreamState(self.target.clone(), state)) => r.is_ok(),
        }
    }

    async fn run(mut self) {
        let mut dedup = Dedup::default();
        let mut first = true;
        let mut backoff = Duration::from_millis(500);
        loop {
            let params = LogParams {
                container: self.target.container.clone(),
                follow: true,
                timestamps: true,
                tail_lines: if first || dedup.resume_from().is_none() {
                    Some(self.cfg.tail_lines)
                } else {
                    None
                },
                since_time: if first { None } else { dedup.resume_from() },
                ..LogParams::default()
            };
            if !first {
                dedup.reconnected();
            }
            let opened = tokio::select! {
                _ = self.cancel.cancelled() => return,
                r = self.api.log_stream(&self.target.pod, &params) => r,
            };
            let end = match opened {
                Ok(reader) => {
                    if !self.state(StreamState::Connected).await {
                        return;
                    }
                    first = false;
                    backoff = Duration::from_millis(500);
                    self.pump(reader, &mut dedup).await
                }
                Err(e) if status_code(&e) == Some(404) => {
                    self.ended("pod not found").await;
                    return;
                }
                Err(e) => End::Failed(describe_kube_error(&e)),
            };
            let error = match end {
                End::Cancelled => return,
                End::Failed(e) => e,
                End::Eof => match self.finished().await {
                    Some(reason) => {
                        self.ended(&reason).await;
                        return;
                    }
                    None => "stream ended".to_string(),
                },
            };
            if !self.state(StreamState::Reconnecting { error }).await {
                return;
            }
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(self.cfg.max_backoff);
        }
    }

    async fn ended(&mut self, reason: &str) {
        self.report_dropped();
        self.state(StreamState::Ended {
            reason: reason.to_string(),
        })
        .await;
    }

    /// After a stream ended: is there nothing more to follow? One GET of the pod, and only then.
    async fn finished(&self) -> Option<String> {
        let pod = tokio::select! {
            _ = self.cancel.cancelled() => return None,
            r = self.api.get_opt(&self.target.pod) => r,
        };
        let pod = match pod {
            Ok(None) => return Some("pod deleted".to_string()),
            Ok(Some(p)) => p,
            Err(_) => return None,
        };
        let status = pod.status.unwrap_or_default();
        if let Some(phase @ ("Succeeded" | "Failed")) = status.phase.as_deref() {
            return Some(format!("pod {phase}"));
        }
        let terminated = status
            .container_statuses
            .unwrap_or_default()
            .iter()
            .filter(|c| {
                self.target
                    .container
                    .as_ref()
                    .is_none_or(|want| *want == c.name)
            })
            .any(|c| c.state.as_ref().is_some_and(|s| s.terminated.is_some()));
        terminated.then(|| "container terminated".to_string())
    }

    /// Reads one connection until it ends, passing batches on.
    async fn pump(&mut self, reader: impl futures::AsyncBufRead, dedup: &mut Dedup) -> End {
        let mut reader = Box::pin(reader);
        let mut batch: Vec<LogLine> = Vec::new();
        let mut due: Option<Instant> = None;
        let mut partial: Vec<u8> = Vec::new();
        let mut cut = false;
        loop {
            let deadline = due.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            let chunk = tokio::select! {
                _ = self.cancel.cancelled() => return End::Cancelled,
                _ = tokio::time::sleep_until(deadline), if due.is_some() => {
                    self.flush(&mut batch);
                    due = None;
                    continue;
                }
                r = reader.fill_buf() => r.map(<[u8]>::to_vec),
            };
            let chunk = match chunk {
                Ok(c) if c.is_empty() => {
                    self.flush(&mut batch);
                    return End::Eof;
                }
                Ok(c) => c,
                Err(e) => {
                    self.flush(&mut batch);
                    return End::Failed(e.to_string());
                }
            };
            reader.consume_unpin(chunk.len());
            for piece in chunk.split_inclusive(|b| *b == b'\n') {
                let (body, done) = match piece.strip_suffix(b"\n") {
                    Some(b) => (b, true),
                    None => (piece, false),
                };
                let room = MAX_LINE_BYTES.saturating_sub(partial.len());
                partial.extend_from_slice(&body[..body.len().min(room)]);
                cut |= body.len() > room;
                if !done {
                    continue;
                }
                let mut line = parse_line(&String::from_utf8_lossy(&partial));
                if cut {
                    line.text.push_str(" [line cut]");
                }
                partial.clear();
                cut = false;
                if dedup.admit(&line) {
                    batch.push(line);
                    due.get_or_insert_with(|| Instant::now() + self.cfg.batch_interval);
                    if batch.len() >= self.cfg.batch_lines {
                        self.flush(&mut batch);
                        due = None;
                    }
                }
            }
        }
    }

    /// Reports lines dropped so far, if the channel has room. Returns whether none are owed.
    fn report_dropped(&mut self) -> bool {
        if self.dropped == 0 {
            return true;
        }
        let event = LogEvent::Dropped(self.target.clone(), self.dropped);
        let sent = self.tx.try_send(event).is_ok();
        if sent {
            self.dropped = 0;
        }
        sent
    }

    /// Sends the batch if the channel has room; otherwise counts its lines as dropped.
    fn flush(&mut self, batch: &mut Vec<LogLine>) {
        if batch.is_empty() {
            return;
        }
        let lines = std::mem::take(batch);
        if !self.report_dropped() {
            self.dropped += lines.len() as u64;
            return;
        }
        let n = lines.len() as u64;
        let event = LogEvent::Batch(LogBatch {
            target: self.target.clone(),
            lines,
        });
        match self.tx.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.dropped += n,
            Err(TrySendError::Closed(_)) => self.cancel.cancel(),
        }
    }
}
