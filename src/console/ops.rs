//! Between the app and the engine: starts confirmed requests, forwards every operation's events as
//! `Msg`s, and keeps what a message cannot carry: each operation's cancellation token and the
//! reply channel of its open question. A channel that closes without `Finished` is reported, so
//! the screen never waits for an outcome that will not come.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::orchestrator::progress::{EscalationChoice, OpEvent};
use crate::orchestrator::{Engine, Request, StartError};
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
            Ok(handle) => {
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
                Msg::OpStarted {
                    op_id,
                    request: req,
                }
            }
            Err(e @ StartError::Busy(_)) => Msg::OpStartFailed {
                endpoint: req.endpoint,
                error: e.to_string(),
            },
        }
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

    /// The console is closing: cancel what still runs and give the engine `grace` to leave the
    /// endpoints consistent (it restores backups after deletion), reading events until then.
    pub async fn shutdown(mut self, rx: &mut mpsc::UnboundedReceiver<OpItem>, grace: Duration) {
        if self.tokens.is_empty() {
            return;
        }
        // The terminal is given back by now: stderr is where the operator looks.
        for (id, t) in &self.tokens {
            eprintln!("llmops-console: cancelling operation {id} before exiting…");
            t.cancel();
        }
        self.replies.clear();
        let deadline = tokio::time::Instant::now() + grace;
        while !self.tokens.is_empty() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(item)) => {
                    self.on_item(item);
                }
                Ok(None) | Err(_) => break,
            }
        }
        for id in self.tokens.keys() {
            eprintln!(
                "llmops-console: operation {id} had not ended when the console closed; \
                 `llmops-console recover --list` shows what it left"
            );
        }
    }
}
