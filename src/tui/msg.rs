//! What the app consumes (`Msg`) and what it asks the event loop to do (`Effect`).
//!
//! The boundary is plain data on purpose: the integrator's loop translates cluster notices, log
//! batches and engine progress into `Msg`s, and carries out `Effect`s against the cluster. Nothing
//! here knows `ClusterWatch`, `LogFollower` or kube types.

use jiff::Timestamp;

use crate::cluster::model::{EndpointKey, EndpointView, Kind, WatchState};
use crate::config::keymap::KeySpec;
use crate::config::theme::Theme;
use crate::orchestrator::progress::{EscalationChoice, Outcome, StuckObject};
use crate::orchestrator::{EndpointId, Progress, Request};

/// One object the detail pane can show.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

/// One core/v1 Event, as the detail and events tabs show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// `Normal` or `Warning`.
    pub type_: String,
    pub reason: String,
    pub message: String,
    pub count: u32,
    pub last_seen: Option<Timestamp>,
    /// Reporting component: `kubelet, node-1`, `deployment-controller`.
    pub source: String,
    /// `Kind/name` it is about (the endpoint's events tab mixes objects); empty when obvious.
    pub object: String,
}

/// One pod log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The kubelet's timestamp (`timestamps=true`); used to drop overlap after a reconnect.
    pub ts: Option<Timestamp>,
    pub text: String,
}

/// State of one pod's log stream, for the logs tab's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamState {
    Connecting,
    Streaming,
    Reconnecting {
        error: String,
    },
    /// The container ended and the stream closed.
    Ended,
}

/// A mouse event the app understands (mouse is off unless `mouse = true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseMsg {
    ScrollUp,
    ScrollDown,
}

/// Everything that can change the app's state.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// A key, already translated from the terminal's event.
    Key(KeySpec),
    Mouse(MouseMsg),
    /// The clock moved (the loop sends one a second, and before any batch of other messages it
    /// may send one so ages are current).
    Tick(Timestamp),
    /// The terminal's size.
    Resize {
        width: u16,
        height: u16,
    },
    /// The derived endpoint rows after a cluster change (all of them, in any order).
    Endpoints(Vec<EndpointView>),
    /// State of one watch stream; `watch` names it (`Pod`, `InferenceService`, `Lease`, ...).
    WatchState {
        watch: String,
        state: WatchState,
    },
    /// The answer to [`Effect::LoadDetail`] (and its refresh on later changes): the object as JSON
    /// (None: it is gone) and its events.
    Detail {
        target: ObjectRef,
        manifest: Option<serde_json::Value>,
        events: Vec<EventRow>,
    },
    /// The answer to [`Effect::LoadEndpointEvents`] (and its refresh).
    EndpointEvents {
        endpoint: EndpointKey,
        events: Vec<EventRow>,
    },
    /// A batch of log lines of one container.
    LogLines {
        pod: String,
        container: String,
        lines: Vec<LogLine>,
    },
    /// Lines the follower dropped before they reached the app (it fell behind).
    LogDropped(u64),
    LogStream {
        pod: String,
        state: StreamState,
    },
    /// A theme loaded after `:theme NAME`.
    Theme(Theme),
    /// Something for the operator to read in the status line (an error from the loop, ...).
    Notice(String),
    /// The watches now run on this scope (after `:ns`, or at start when it differs from what was
    /// asked): `namespace` is the one namespace or `None`; `namespaces` lists the namespaces
    /// watched one by one when the user may not list across all of them.
    ScopeChanged {
        namespace: Option<String>,
        namespaces: Option<Vec<String>>,
        notice: Option<String>,
    },
    /// The engine took [`Effect::StartOperation`]'s request and named it `op_id`.
    OpStarted {
        op_id: String,
        request: Request,
    },
    /// The engine refused to start (this console already runs an operation on the endpoint).
    OpStartFailed {
        endpoint: EndpointId,
        error: String,
    },
    OpProgress(Progress),
    /// Escalation policy `ask`: the engine waits for [`Effect::AnswerQuestion`]. The reply
    /// channel stays with the loop (a message must be plain, comparable data).
    OpQuestion {
        op_id: String,
        prompt: String,
        stuck: Vec<StuckObject>,
    },
    OpFinished(Box<Outcome>),
    /// The operation's event channel closed without an outcome (the engine task ended or
    /// panicked): the pane says so instead of waiting forever.
    OpEndedWithoutResult {
        op_id: String,
    },
    /// At start: operations an earlier run left unfinished (journal or backup ConfigMaps), one
    /// line each. Only shown: `recover` is the operator's call.
    UnfinishedOps(Vec<String>),
    /// The unfinished operations, listed again (at start and after every operation of this
    /// console ends): replaces what the redeploy dialog offers.
    UnfinishedFound(Vec<crate::tui::ops::UnfinishedOp>),
    /// The answer to [`Effect::PrepareEdit`]: the endpoint's root object as the cluster has it
    /// (None: not in the watch store).
    EditSource {
        endpoint: EndpointKey,
        object: Option<serde_json::Value>,
    },
    /// The editor of [`Effect::RunEditor`] ended: the file's text, or why there is none.
    EditorDone {
        endpoint: EndpointKey,
        result: Result<String, String>,
    },
}

/// What the loop must do after an update. Effects are requests; their answers come back as
/// `Msg`s.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    /// Send `Msg::Detail` for this object now and whenever it or its events change, until the
    /// next `LoadDetail`.
    LoadDetail(ObjectRef),
    /// Send `Msg::EndpointEvents` now and on changes, until the next `LoadEndpointEvents` or
    /// `StopEndpointEvents`.
    LoadEndpointEvents(EndpointKey),
    StopEndpointEvents,
    /// Follow these pods' logs (all containers), replacing any previous follow. Reconnect with
    /// overlap: the app drops lines it already has (by timestamp).
    FollowLogs {
        endpoint: EndpointKey,
        namespace: String,
        pods: Vec<String>,
        tail_lines: i64,
    },
    StopLogs,
    /// `:ns NAME` / `:ns all`: watch another namespace scope.
    SetNamespace(Option<String>),
    /// `:theme NAME`: load it and answer with `Msg::Theme` (or `Msg::Notice` with the error).
    LoadTheme(String),
    /// A confirmed operation: `Engine::start`, answered with `Msg::OpStarted` (or
    /// `Msg::OpStartFailed`), then its events as `Msg::Op*`.
    StartOperation(Request),
    /// A confirmed recovery of an unfinished operation: `Engine::recover` (policy `ask`, the
    /// request's deadlines), answered like [`Effect::StartOperation`] with `request` as the
    /// operation's request.
    RecoverOperation {
        op_id: String,
        mode: crate::orchestrator::RecoverMode,
        request: Request,
    },
    /// Fire the operation's cancellation token; its `Msg::OpFinished` says how it ended.
    CancelOperation {
        op_id: String,
    },
    /// Answer the operation's open `Msg::OpQuestion`.
    AnswerQuestion {
        op_id: String,
        choice: EscalationChoice,
    },
    /// `e`: fetch the endpoint's root object (InferenceService or Deployment), answered with
    /// `Msg::EditSource`.
    PrepareEdit {
        endpoint: EndpointKey,
    },
    /// Write `yaml` to a private temp file, hand the terminal to `$VISUAL`/`$EDITOR` (default
    /// `vi`), take it back, answer with `Msg::EditorDone`. Carried out by the event loop itself,
    /// which owns the terminal.
    RunEditor {
        endpoint: EndpointKey,
        yaml: String,
    },
    /// `y`: put `text` (an object's full name, free of control characters) on the clipboard of
    /// the operator's terminal with OSC 52, which works over SSH and in tmux
    /// (`set -g set-clipboard on`). Carried out by the event loop itself, which owns the
    /// terminal; never while drawing.
    CopyToClipboard {
        text: String,
    },
}
