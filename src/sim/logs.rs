//! Pod logs: the kubelet appends lines per pod; the API serves them with tail, since, timestamps
//! and follow. Retention per pod is bounded, like a kubelet's rotated log.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

#[derive(Debug, Clone)]
pub struct LogLine {
    pub time: jiff::Timestamp,
    pub text: String,
}

/// Lines kept per pod.
pub const RETAINED_LINES: usize = 20_000;

/// Batches a follower may fall behind before it misses lines.
const FOLLOW_CAPACITY: usize = 1024;

pub struct PodLog {
    inner: Mutex<PodLogInner>,
}

struct PodLogInner {
    lines: VecDeque<LogLine>,
    /// Only while someone follows: a broadcast channel allocates all its slots up front, and
    /// one per pod of a 5,000-pod fleet came to about 1 GB.
    tx: Option<broadcast::Sender<Arc<Vec<LogLine>>>>,
}

/// What a reader gets: the retained lines, then new batches until the pod's log is closed.
pub struct LogCursor {
    pub backlog: Vec<LogLine>,
    pub rx: broadcast::Receiver<Arc<Vec<LogLine>>>,
}

impl PodLog {
    fn new() -> Self {
        PodLog {
            inner: Mutex::new(PodLogInner {
                lines: VecDeque::new(),
                tx: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PodLogInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn append(&self, batch: Vec<LogLine>) {
        if batch.is_empty() {
            return;
        }
        let mut inner = self.lock();
        inner.lines.extend(batch.iter().cloned());
        while inner.lines.len() > RETAINED_LINES {
            inner.lines.pop_front();
        }
        // Sent under the lock so a reader's backlog and stream never overlap or leave a gap.
        if let Some(tx) = &inner.tx {
            if tx.receiver_count() == 0 {
                inner.tx = None;
            } else {
                let _ = tx.send(Arc::new(batch));
            }
        }
    }

    pub fn open(&self) -> LogCursor {
        let mut inner = self.lock();
        let rx = inner
            .tx
            .get_or_insert_with(|| broadcast::channel(FOLLOW_CAPACITY).0)
            .subscribe();
        LogCursor {
            backlog: inner.lines.iter().cloned().collect(),
            rx,
        }
    }

    pub fn len(&self) -> usize {
        self.lock().lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Default)]
pub struct LogHub {
    pods: Mutex<HashMap<(String, String), Arc<PodLog>>>,
}

impl LogHub {
    /// The log of a pod, created empty on first use.
    pub fn pod(&self, namespace: &str, pod: &str) -> Arc<PodLog> {
        let mut pods = self.pods.lock().unwrap_or_else(|p| p.into_inner());
        pods.entry((namespace.to_string(), pod.to_string()))
            .or_insert_with(|| Arc::new(PodLog::new()))
            .clone()
    }

    pub fn get(&self, namespace: &str, pod: &str) -> Option<Arc<PodLog>> {
        let pods = self.pods.lock().unwrap_or_else(|p| p.into_inner());
        pods.get(&(namespace.to_string(), pod.to_string())).cloned()
    }

    pub fn append(&self, namespace: &str, pod: &str, texts: Vec<String>) {
        let now = jiff::Timestamp::now();
        self.pod(namespace, pod).append(
            texts
                .into_iter()
                .map(|text| LogLine { time: now, text })
                .collect(),
        );
    }

    /// Forgets a deleted pod's log; followers see their stream end once the last handle goes.
    pub fn remove(&self, namespace: &str, pod: &str) {
        let mut pods = self.pods.lock().unwrap_or_else(|p| p.into_inner());
        pods.remove(&(namespace.to_string(), pod.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backlog_then_stream_without_gap() {
        let hub = LogHub::default();
        hub.append("ns", "p", vec!["a".into(), "b".into()]);
        let mut cur = hub.pod("ns", "p").open();
        hub.append("ns", "p", vec!["c".into()]);
        assert_eq!(cur.backlog.len(), 2);
        let next = cur.rx.try_recv().unwrap();
        assert_eq!(next[0].text, "c");
    }

    #[test]
    fn retention_is_bounded() {
        let hub = LogHub::default();
        hub.append(
            "ns",
            "p",
            (0..RETAINED_LINES + 10).map(|i| i.to_string()).collect(),
        );
        let log = hub.get("ns", "p").unwrap();
        assert_eq!(log.len(), RETAINED_LINES);
        assert_eq!(log.open().backlog[0].text, "10");
    }
}
