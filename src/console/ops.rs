//! Between the app and the engine: starts confirmed requests, forwards every operation's events as
//! `Msg`s, and keeps what a message cannot carry: each operation's cancellation token and the
//! reply channel of its open question. A channel that closes without `Finished` is reported, so
//! the screen never waits for an outcome that will not come.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::headless::print::{outcome_text, progress_line, stderr_line};
use crate::headless::signals::Signals;
use crate::orchestrator::progress::{EscalationChoice, OpEvent};
use crate::orchestrator::{Engine, RecoverMode, RecoverOptions, Request, StartError};
use crate::text::sanitize;
use crate::tui::msg::Msg;

/// One event of one operation; `None` when its channel closed.
pub type OpItem = (String, Option<OpEvent>);

pub struct Operations {
    /// Why there is no engine (no state directory for the journal), if there is none.
    engine: Result<Engine, String>,
    tokens: HashMap<String, CancellationToken>,
    replies: HashMap<String, oneshot::Sender<EscalationChoice>>,
    /// Operations whose `Finished` came (their channel closing is then expected).
    finished: Vec<String>,
    tx: mpsc::UnboundedSender<OpItem>,
}

impl Operations {
    pub fn new(engine: Result<Engine, String>) -> (Operations, mpsc::UnboundedReceiver<OpItem>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let ops = Operations {
            engine,
            tokens: HashMap::new(),
            replies: HashMap::new(),
            finished: Vec::new(),
            tx,
        };
        (ops, rx)
    }

    pub fn start(&mut self, req: Request) -> Msg {
        let engine = match &self.engine {
            Ok(e) => e,
            Err(why) => {
                return Msg::OpStartFailed {
                    endpoint: req.endpoint,
                    error: format!("no operations in this console: {why}"),
                };
            }
        };
        match engine.start(req.clone()) {
            Ok(handle) => self.follow_handle(handle, req),
            Err(e @ StartError::Busy(_)) => Msg::OpStartFailed {
                endpoint: req.endpoint,
                error: e.to_string(),
            },
        }
    }

    /// A confirmed recovery of the unfinished operation `op_id` through the engine; its events
    /// come back as the operation `request` names (policy and deadlines from it).
    pub fn recover(&mut self, op_id: &str, mode: RecoverMode, request: Request) -> Msg {
        let engine = match &self.engine {
            Ok(e) => e,
            Err(why) => {
                return Msg::OpStartFailed {
                    endpoint: request.endpoint,
                    error: format!("no operations in this console: {why}"),
                };
            }
        };
        let options = RecoverOptions {
            finalizers: request.finalizers,
            timeout: request.timeout,
            ready_timeout: request.ready_timeout,
        };
        match engine.recover(op_id, mode, options) {
            Ok(handle) => self.follow_handle(handle, request),
            Err(e) => Msg::OpStartFailed {
                endpoint: request.endpoint,
                error: e.to_string(),
            },
        }
    }

    /// Forwards a started operation's events and remembers its cancellation token.
    fn follow_handle(
        &mut self,
        handle: crate::orchestrator::OperationHandle,
        request: Request,
    ) -> Msg {
        let op_id = handle.op_id.clone();
        self.tokens.insert(op_id.clone(), handle.cancel);
        let tx = self.tx.clone();
        let id = op_id.clone();
        let mut events = handle.events;
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                if tx.send((id.clone(), Some(ev))).is_err() {
                    return;
                }
            }
            let _ = tx.send((id, None));
        });
        Msg::OpStarted { op_id, request }
    }

    pub fn cancel(&mut self, op_id: &str) -> Option<Msg> {
        match self.tokens.get(op_id) {
            Some(t) => {
                t.cancel();
                None
            }
            None => Some(Msg::Notice(format!(
                "cancel: operation {op_id} is not running in this console"
            ))),
        }
    }

    pub fn answer(&mut self, op_id: &str, choice: EscalationChoice) -> Option<Msg> {
        let sent = self
            .replies
            .remove(op_id)
            .map(|reply| reply.send(choice).is_ok());
        match sent {
            Some(true) => None,
            _ => Some(Msg::Notice(format!(
                "operation {op_id} no longer waits for an answer"
            ))),
        }
    }

    /// The message for one forwarded event.
    pub fn on_item(&mut self, (op_id, ev): OpItem) -> Option<Msg> {
        match ev {
            Some(OpEvent::Progress(p)) => Some(Msg::OpProgress(p)),
            Some(OpEvent::Question(q)) => {
                self.replies.insert(q.op_id.clone(), q.reply);
                Some(Msg::OpQuestion {
                    op_id: q.op_id,
                    prompt: q.prompt,
                    stuck: q.stuck,
                })
            }
            Some(OpEvent::Finished(outcome)) => {
                self.finished.push(op_id.clone());
                self.forget(&op_id);
                Some(Msg::OpFinished(outcome))
            }
            None => {
                self.forget(&op_id);
                let had_outcome = self.finished.iter().any(|f| f == &op_id);
                self.finished.retain(|f| f != &op_id);
                (!had_outcome).then_some(Msg::OpEndedWithoutResult { op_id })
            }
        }
    }

    fn forget(&mut self, op_id: &str) {
        self.tokens.remove(op_id);
        // Dropping an unanswered reply counts as "give up" for the engine.
        self.replies.remove(op_id);
    }

    /// The console is closing (`q`, SIGTERM, SIGHUP, a terminal error): cancel what still runs
    /// at once, and once `terminal_restored` resolves (stderr is readable again) wait for each
    /// operation to leave its endpoint consistent (the engine rolls back after deletion, within
    /// its own deadlines), printing its progress and its outcome on stderr. SIGINT or SIGTERM
    /// leaves without waiting (the journal keeps the state for `recover`); a hangup does not.
    /// Nothing here fails on a write error: after a hangup the terminal is gone.
    pub async fn shutdown(
        mut self,
        rx: &mut mpsc::UnboundedReceiver<OpItem>,
        terminal_restored: impl std::future::Future<Output = ()>,
    ) {
        if self.tokens.is_empty() {
            return;
        }
        for t in self.tokens.values() {
            t.cancel();
        }
        // Dropping an unanswered question counts as "give up".
        self.replies.clear();
        // Installed before waiting, so that Ctrl-C on the restored terminal is caught.
        let mut signals = Signals::new();
        terminal_restored.await;
        for id in self.tokens.keys() {
            stderr_line(&format!(
                "llmops-console: cancelling operation {} before exiting, waiting for it to leave \
                 its endpoint consistent (Ctrl-C or SIGTERM to leave now)…",
                sanitize(id)
            ));
        }
        while !self.tokens.is_empty() {
            tokio::select! {
                item = rx.recv() => match item {
                    Some(item) => match self.on_item(item) {
                        Some(Msg::OpProgress(p)) => stderr_line(&progress_line(&p)),
                        Some(Msg::OpFinished(o)) => stderr_line(outcome_text(&o).trim_end()),
                        Some(Msg::OpEndedWithoutResult { op_id }) => stderr_line(&format!(
                            "llmops-console: operation {} ended without a result",
                            sanitize(&op_id)
                        )),
                        _ => {}
                    },
                    // The sender lives in `self`: not reached.
                    None => break,
                },
                sig = signals.next() => if sig.leaves_at_once() {
                    stderr_line(&format!("llmops-console: {}: leaving now", sig.name()));
                    break;
                },
            }
        }
        for id in self.tokens.keys() {
            stderr_line(&format!(
                "llmops-console: operation {} had not ended when the console closed; \
                 `llmops-console recover --list` shows what it left",
                sanitize(id)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use kube::config::Kubeconfig;

    use super::*;
    use crate::cluster::client::connect_with;
    use crate::cluster::model::Mode;
    use crate::cluster::{ClusterTarget, GroupingConfig, Scope};
    use crate::orchestrator::progress::{OpKind, OpResult};
    use crate::orchestrator::{EndpointId, EngineSettings};
    use crate::sim::server::SimServer;

    async fn next_msg(
        ops: &mut Operations,
        rx: &mut mpsc::UnboundedReceiver<OpItem>,
    ) -> Option<Msg> {
        loop {
            let item = tokio::time::timeout(Duration::from_secs(90), rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no operation event within 90s"))?;
            if let Some(m) = ops.on_item(item) {
                return Some(m);
            }
        }
    }

    /// Against the simulator: a redeploy's events arrive as messages in order and end with its
    /// outcome; a second start on the same endpoint is refused; a cancel ends the next one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn engine_events_become_messages() {
        let sim = SimServer::start("healthy", None, "127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("sim: {e}"));
        let kc = Kubeconfig::from_yaml(&sim.kubeconfig_yaml("admin"))
            .unwrap_or_else(|e| panic!("kubeconfig: {e}"));
        let target = ClusterTarget {
            kubeconfig: None,
            context: None,
            namespace: Some(Scope::All),
        };
        let (client, info) = connect_with(kc, vec![], &target)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        let state = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let engine = Engine::new(
            client,
            info,
            EngineSettings {
                journal_dir: state.path().join("journal"),
                audit_log: state.path().join("audit.log"),
                grouping: GroupingConfig::default(),
                holder: "test@host/1".into(),
            },
        );
        let (mut ops, mut rx) = Operations::new(Ok(engine));
        let endpoint = EndpointId {
            namespace: "llm-prod".into(),
            name: "bge-reranker".into(),
            mode: Some(Mode::Raw),
        };
        let req = Request::new(OpKind::Redeploy, endpoint.clone());
        let Msg::OpStarted { op_id, .. } = ops.start(req.clone()) else {
            panic!("not started");
        };
        assert!(
            matches!(ops.start(req.clone()), Msg::OpStartFailed { error, .. } if error.contains("already running")),
        );
        let mut progress = 0;
        let outcome = loop {
            match next_msg(&mut ops, &mut rx).await {
                Some(Msg::OpProgress(p)) => {
                    assert_eq!(p.op_id, op_id);
                    progress += 1;
                }
                Some(Msg::OpFinished(o)) => break o,
                other => panic!("unexpected {other:?}"),
            }
        };
        assert!(progress > 0);
        assert_eq!(outcome.result, OpResult::Succeeded, "{}", outcome.message);
        // Its channel closing after the outcome is not reported again.
        let Msg::OpStarted { op_id, .. } = ops.start(req) else {
            panic!("not started again");
        };
        assert_eq!(ops.cancel(&op_id), None);
        let outcome = loop {
            match next_msg(&mut ops, &mut rx).await {
                Some(Msg::OpFinished(o)) => break o,
                Some(Msg::OpProgress(_)) => {}
                other => panic!("unexpected {other:?}"),
            }
        };
        assert_eq!(outcome.result, OpResult::Cancelled, "{}", outcome.message);
        assert!(
            ops.cancel(&op_id).is_some(),
            "a finished operation has no token"
        );
        assert!(ops.answer(&op_id, EscalationChoice::GiveUp).is_some());
        sim.shutdown().await;
    }

    #[test]
    fn a_closed_channel_without_outcome_is_reported_once() {
        let (mut ops, _rx) = Operations::new(Err("no state directory".into()));
        assert_eq!(
            ops.on_item(("op-1".into(), None)),
            Some(Msg::OpEndedWithoutResult {
                op_id: "op-1".into()
            })
        );
        let req = Request::new(
            OpKind::ForceDelete,
            EndpointId {
                namespace: "ns".into(),
                name: "x".into(),
                mode: None,
            },
        );
        assert!(
            matches!(ops.start(req), Msg::OpStartFailed { error, .. } if error.contains("no state directory"))
        );
    }
}
