//! Between the cluster and the screen: cluster notices become `Msg::Endpoints` and
//! `Msg::WatchState`; the app's effects (detail, events, logs, theme, operations, the spec to
//! edit) are carried out against the watch stores, the log follower and the engine, and their
//! answers go back as messages. The app itself never touches kube.

use std::path::PathBuf;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cluster::access::{self, Watched};
use crate::cluster::logs::{LogConfig, LogEvent, LogFollower, PodLogTarget, StreamState};
use crate::cluster::model::{EndpointKey, EventView, Kind, Mode};
use crate::cluster::watch::scope::{ScopedNotice, ScopedWatch};
use crate::cluster::watch::{ClusterNotice, EventQuery, WatchConfig};
use crate::cluster::{GroupingConfig, Scope, derive_endpoints};
use crate::config::theme::Theme;
use crate::orchestrator::Engine;
use crate::tui::msg::{self, Effect, EventRow, Msg, ObjectRef};
use crate::tui::ops::UnfinishedOp;

use super::ops::{OpItem, Operations};

/// What the bridge keeps sending while the app looks at it.
#[derive(Default)]
struct Following {
    detail: Option<ObjectRef>,
    endpoint_events: Option<EndpointKey>,
}

/// What the bridge needs to (re)start the watches on a scope.
pub struct ScopeSource {
    /// The scope the console starts with (`-n`, `-A`, the context's namespace).
    pub start: Scope,
    /// The config's `namespaces`, tried when the user may not list across namespaces.
    pub configured: Vec<String>,
    /// The kubeconfig context's namespace, tried likewise.
    pub context_ns: Option<String>,
    pub watch_config: WatchConfig,
}

pub struct Bridge {
    /// Replaced on every change of scope (the old one is dropped, which stops its watches).
    pub watch: ScopedWatch,
    pub scope: ScopeSource,
    pub client: kube::Client,
    pub grouping: GroupingConfig,
    pub themes_dir: Option<PathBuf>,
    pub log_config: LogConfig,
    /// The orchestration engine, or why this console has none.
    pub engine: Result<Engine, String>,
}

impl Bridge {
    /// Runs until `cancel`, the app's quit, or the app's message channel closing.
    pub async fn run(
        mut self,
        mut notices: mpsc::Receiver<ScopedNotice>,
        mut effects: mpsc::Receiver<Effect>,
        to_app: mpsc::Sender<Msg>,
        cancel: CancellationToken,
    ) {
        let (mut follower, mut log_events) =
            LogFollower::new(self.client.clone(), self.log_config.clone());
        let mut following = Following::default();
        let (mut ops, mut op_items) = Operations::new(self.engine.clone());
        let start = self.scope.start.clone();
        if self
            .rescope(start, &mut notices, &to_app, false)
            .await
            .is_err()
        {
            return;
        }
        if let Ok(engine) = &self.engine {
            // Reading the journal and the backup ConfigMaps may take a moment: not on the way
            // of the first picture.
            let (engine, to_app) = (engine.clone(), to_app.clone());
            tokio::spawn(async move {
                let (lines, found) = unfinished_lines(&engine).await;
                let _ = to_app.send(Msg::UnfinishedFound(found)).await;
                if !lines.is_empty() {
                    let _ = to_app.send(Msg::UnfinishedOps(lines)).await;
                }
            });
        }
        loop {
            let sent = tokio::select! {
                _ = cancel.cancelled() => break,
                notice = notices.recv() => match notice {
                    None => break,
                    Some(n) => match n.notice {
                        ClusterNotice::Changed(_) => self.refresh(&following, &to_app).await,
                        ClusterNotice::WatchState(kind, state) => {
                            let watch = ScopedNotice::watch_label(n.namespace.as_deref(), kind);
                            to_app.send(Msg::WatchState { watch, state }).await.map_err(|_| ())
                        }
                    },
                },
                fx = effects.recv() => match fx {
                    None | Some(Effect::Quit) => break,
                    Some(Effect::SetNamespace(ns)) => {
                        // Nothing may keep pointing into the old scope.
                        follower.set_pods(Vec::new());
                        following = Following::default();
                        let scope = ns.map_or(Scope::All, Scope::Namespace);
                        self.rescope(scope, &mut notices, &to_app, true).await
                    }
                    Some(fx) => {
                        self.effect(fx, &mut following, &mut follower, &mut ops, &to_app).await
                    }
                },
                item = op_items.recv() => match item {
                    // The sender lives in `ops`: never closed while the loop runs.
                    None => Ok(()),
                    Some(item) => {
                        let ended = matches!(item.1, Some(crate::orchestrator::OpEvent::Finished(_)));
                        let sent = Self::forward(&mut ops, item, &to_app).await;
                        if ended {
                            self.relist_unfinished(&to_app);
                        }
                        sent
                    }
                },
                ev = log_events.recv() => match ev {
                    None => Ok(()),
                    Some(ev) => to_app.send(log_msg(ev)).await.map_err(|_| ()),
                },
            };
            if sent.is_err() {
                break;
            }
        }
        follower.shutdown().await;
        // `cancel` fires once the event loop has given the terminal back: the operations'
        // stories go to stderr after that, where the operator can read them.
        ops.shutdown(&mut op_items, cancel.cancelled()).await;
    }

    /// Stops the watches of the old scope, decides where to watch for `scope` (asking RBAC when
    /// all namespaces are asked for) and starts the new watches. The app hears
    /// `Msg::ScopeChanged` once the new watches run (always when the user asked, else only
    /// when the scope is not what was asked), so it never labels old rows with the new scope.
    async fn rescope(
        &mut self,
        scope: Scope,
        notices: &mut mpsc::Receiver<ScopedNotice>,
        to_app: &mpsc::Sender<Msg>,
        user_asked: bool,
    ) -> Result<(), ()> {
        let cfg = self.scope.watch_config.clone();
        // Dropping the old watch stops it; its notices go with its receiver.
        let (empty, rx) = ScopedWatch::start(
            self.client.clone(),
            &Watched::Namespaces(Vec::new()),
            cfg.clone(),
        );
        self.watch = empty;
        *notices = rx;
        let plan = access::plan(
            &self.client,
            &scope,
            &self.scope.configured,
            self.scope.context_ns.as_deref(),
        )
        .await;
        let (watch, rx) = ScopedWatch::start(self.client.clone(), &plan.watched, cfg);
        self.watch = watch;
        *notices = rx;
        let namespaces = match &plan.watched {
            Watched::Scope(_) => None,
            Watched::Namespaces(list) => Some(list.clone()),
        };
        if user_asked || namespaces.is_some() || plan.notice.is_some() {
            let m = Msg::ScopeChanged {
                namespace: self.watch.namespace().map(str::to_string),
                namespaces,
                notice: plan.notice,
            };
            to_app.send(m).await.map_err(|_| ())?;
        }
        // The first picture of the new scope (empty until the watches list).
        self.send_endpoints(to_app).await
    }

    async fn forward(
        ops: &mut Operations,
        item: OpItem,
        to_app: &mpsc::Sender<Msg>,
    ) -> Result<(), ()> {
        match ops.on_item(item) {
            Some(m) => to_app.send(m).await.map_err(|_| ()),
            None => Ok(()),
        }
    }

    /// After an operation ended: what is unfinished now (it may have left one, or finished
    /// one), for the redeploy dialog. Off the loop: it reads the journal and the cluster.
    fn relist_unfinished(&self, to_app: &mpsc::Sender<Msg>) {
        if let Ok(engine) = &self.engine {
            let (engine, to_app) = (engine.clone(), to_app.clone());
            tokio::spawn(async move {
                let (_, found) = unfinished_lines(&engine).await;
                let _ = to_app.send(Msg::UnfinishedFound(found)).await;
            });
        }
    }

    /// The endpoint's root object as the watch store has it, for `e`.
    fn edit_source(&self, endpoint: EndpointKey) -> Msg {
        let kind = match endpoint.mode {
            Mode::Kserve => Kind::InferenceService,
            Mode::Raw => Kind::Deployment,
        };
        let object = self
            .watch
            .object_json(kind, &endpoint.namespace, &endpoint.name);
        Msg::EditSource { endpoint, object }
    }

    async fn send_endpoints(&self, to_app: &mpsc::Sender<Msg>) -> Result<(), ()> {
        let rows = derive_endpoints(&self.watch.snapshot(), &self.grouping, Timestamp::now());
        to_app.send(Msg::Endpoints(rows)).await.map_err(|_| ())
    }

    /// After a change: new endpoint rows, and fresh detail/events for what the app follows.
    async fn refresh(&self, f: &Following, to_app: &mpsc::Sender<Msg>) -> Result<(), ()> {
        self.send_endpoints(to_app).await?;
        if let Some(target) = &f.detail {
            to_app.send(self.detail(target)).await.map_err(|_| ())?;
        }
        if let Some(key) = &f.endpoint_events {
            to_app
                .send(self.endpoint_events(key))
                .await
                .map_err(|_| ())?;
        }
        Ok(())
    }

    fn detail(&self, target: &ObjectRef) -> Msg {
        let manifest = self
            .watch
            .object_json(target.kind, &target.namespace, &target.name);
        let events = self
            .watch
            .events_for(&EventQuery::Object {
                uid: target.uid.clone(),
                kind: target.kind.name().to_string(),
                namespace: target.namespace.clone(),
                name: target.name.clone(),
            })
            .iter()
            .map(|e| event_row(e, ""))
            .collect();
        Msg::Detail {
            target: target.clone(),
            manifest,
            events,
        }
    }

    /// Events of every object of the endpoint, newest first.
    fn endpoint_events(&self, key: &EndpointKey) -> Msg {
        let rows = derive_endpoints(&self.watch.snapshot(), &self.grouping, Timestamp::now());
        let mut events: Vec<EventRow> = Vec::new();
        if let Some(ep) = rows.iter().find(|e| &e.key == key) {
            let mut stack: Vec<&crate::cluster::model::ResourceNode> =
                ep.resources.iter().collect();
            while let Some(node) = stack.pop() {
                let label = format!("{}/{}", node.kind.short(), node.name);
                let query = EventQuery::Object {
                    uid: node.uid.clone(),
                    kind: node.kind.name().to_string(),
                    namespace: node.namespace.clone(),
                    name: node.name.clone(),
                };
                for e in self.watch.events_for(&query) {
                    events.push(event_row(&e, &label));
                }
                stack.extend(node.children.iter());
            }
        }
        events.sort_by_key(|e| std::cmp::Reverse(e.last_seen));
        Msg::EndpointEvents {
            endpoint: key.clone(),
            events,
        }
    }

    async fn effect(
        &self,
        fx: Effect,
        f: &mut Following,
        follower: &mut LogFollower,
        ops: &mut Operations,
        to_app: &mpsc::Sender<Msg>,
    ) -> Result<(), ()> {
        let msg = match fx {
            Effect::Quit => return Err(()),
            Effect::LoadDetail(target) => {
                let m = self.detail(&target);
                f.detail = Some(target);
                m
            }
            Effect::LoadEndpointEvents(key) => {
                let m = self.endpoint_events(&key);
                f.endpoint_events = Some(key);
                m
            }
            Effect::StopEndpointEvents => {
                f.endpoint_events = None;
                return Ok(());
            }
            Effect::FollowLogs {
                namespace, pods, ..
            } => {
                follower.set_pods(pods.into_iter().map(|pod| PodLogTarget {
                    namespace: namespace.clone(),
                    pod,
                    container: None,
                }));
                return Ok(());
            }
            Effect::StopLogs => {
                follower.set_pods(Vec::new());
                return Ok(());
            }
            // Carried out by the loop (it replaces the watches).
            Effect::SetNamespace(_) => return Ok(()),
            Effect::LoadTheme(name) => match Theme::load(&name, self.themes_dir.as_deref()) {
                Ok(t) => Msg::Theme(t),
                Err(e) => Msg::Notice(format!("theme: {e}")),
            },
            Effect::StartOperation(req) => ops.start(req),
            Effect::RecoverOperation {
                op_id,
                mode,
                request,
            } => ops.recover(&op_id, mode, request),
            Effect::CancelOperation { op_id } => match ops.cancel(&op_id) {
                Some(m) => m,
                None => return Ok(()),
            },
            Effect::AnswerQuestion { op_id, choice } => match ops.answer(&op_id, choice) {
                Some(m) => m,
                None => return Ok(()),
            },
            Effect::PrepareEdit { endpoint } => self.edit_source(endpoint),
            // The event loop runs the editor itself (it owns the terminal).
            Effect::RunEditor { .. } => return Ok(()),
            // The event loop writes the clipboard itself (it owns the terminal).
            Effect::CopyToClipboard { .. } => return Ok(()),
        };
        to_app.send(msg).await.map_err(|_| ())
    }
}

/// `<id> (redeploy serving/llama-prod at verify-deletion, journal)` for every unfinished
/// operation, and the same as data for the redeploy dialog.
async fn unfinished_lines(engine: &Engine) -> (Vec<String>, Vec<UnfinishedOp>) {
    let (found, notes) = crate::orchestrator::recover::list(engine).await;
    for n in notes {
        tracing::warn!("looking for unfinished operations: {n}");
    }
    let lines = found
        .iter()
        .map(|u| {
            let r = &u.record;
            format!(
                "{} ({} {} at {}, {}, {})",
                r.id,
                r.kind.name(),
                r.endpoint,
                r.step,
                state_word(r.state),
                u.found_in
            )
        })
        .collect();
    // The redeploy dialog offers only operations that hold their endpoint (with a backup).
    let ops = found
        .into_iter()
        .filter(crate::orchestrator::unfinished::holds)
        .map(|u| UnfinishedOp {
            op_id: u.record.id,
            kind: u.record.kind,
            endpoint: u.record.endpoint,
            step: u.record.step,
            state: u.record.state,
            found_in: u.found_in,
            holder: u.record.holder,
        })
        .collect();
    (lines, ops)
}

fn state_word(s: crate::orchestrator::OpState) -> &'static str {
    use crate::orchestrator::OpState::*;
    match s {
        Running => "was running",
        NeedsRecovery => "needs recovery",
        Succeeded => "succeeded",
        Failed => "failed",
        Cancelled => "cancelled",
        Discarded => "discarded",
    }
}

fn event_row(e: &EventView, object: &str) -> EventRow {
    EventRow {
        type_: e.type_.clone(),
        reason: e.reason.clone(),
        message: e.message.clone(),
        count: e.count,
        last_seen: e.last_seen,
        source: e.source.clone(),
        object: object.to_string(),
    }
}

fn log_msg(ev: LogEvent) -> Msg {
    match ev {
        LogEvent::Batch(b) => Msg::LogLines {
            pod: b.target.pod,
            container: b.target.container.unwrap_or_default(),
            lines: b
                .lines
                .into_iter()
                .map(|l| msg::LogLine {
                    ts: l.ts,
                    text: l.text,
                })
                .collect(),
        },
        LogEvent::StreamState(t, s) => Msg::LogStream {
            pod: t.pod,
            state: match s {
                StreamState::Connected => msg::StreamState::Streaming,
                StreamState::Reconnecting { error } => msg::StreamState::Reconnecting { error },
                StreamState::Ended { .. } => msg::StreamState::Ended,
            },
        },
        LogEvent::Dropped(_, n) => Msg::LogDropped(n),
    }
}
