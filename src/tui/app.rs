//! The console's state and its one pure transition: `update(&mut App, Msg) -> Vec<Effect>`.
//!
//! Drawing reads `&App` only; the event loop feeds `Msg`s and carries out the `Effect`s. What the
//! loop must keep following (the detail object, the log streams, the endpoint's events) is derived
//! from the state after every update, so no key handler has to remember to ask for it.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::cluster::model::{EndpointKey, EndpointView, WatchState};
use crate::config::keymap::KeyMap;
use crate::config::settings::Settings;
use crate::config::theme::Theme;

use super::confirm::Confirm;
use super::edit::EditSession;
use super::logbuf::LogBuf;
use super::manifest::{self, DetailContent};
use super::msg::{Effect, EventRow, Msg, ObjectRef, StreamState};
use super::ops::OpsState;
use super::style::Palette;
use super::table::EndpointTable;
use super::text::sanitize;
use super::tree::TreeState;
use super::view::layout;

/// How long a status-line message stays.
const MESSAGE_SECS: i64 = 10;

/// What the app is started with.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// Kube context name, for the status bar.
    pub context: String,
    /// The cluster's server URL, named when it cannot be reached.
    pub server: String,
    /// Namespace scope; None is all namespaces.
    pub namespace: Option<String>,
    pub readonly: bool,
    /// Kiosk implies read-only.
    pub kiosk: bool,
    /// Chosen with `style::theme_name` and loaded with `Theme::load`.
    pub theme: Theme,
    pub keymap: KeyMap,
    pub settings: Settings,
    /// For the kiosk clock and log timestamps.
    pub tz: TimeZone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Endpoints,
    Resources,
    /// The detail / logs / events / console tabs.
    Bottom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Detail,
    Logs,
    Events,
    /// The selected endpoint's latest operation started in this console.
    Operation,
    Console,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Detail,
        Tab::Logs,
        Tab::Events,
        Tab::Operation,
        Tab::Console,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Detail => "Detail",
            Tab::Logs => "Logs",
            Tab::Events => "Events",
            Tab::Operation => "Operation",
            Tab::Console => "Console log",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// `/`: filters the endpoint table, or the log lines when the logs tab has the focus.
    Filter,
    /// `:`: a command line.
    Command,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub kind: InputKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub level: Level,
    pub text: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    AllPods,
    Pod(String),
}

#[derive(Debug, Clone, Default)]
pub struct DetailState {
    /// The object asked for with `Effect::LoadDetail`.
    pub requested: Option<ObjectRef>,
    /// Whether `content` and `events` belong to `requested` (an answer arrived).
    pub loaded: bool,
    /// The object no longer exists.
    pub gone: bool,
    pub content: DetailContent,
    pub events: Vec<EventRow>,
    pub scroll: usize,
}

#[derive(Debug, Clone, Default)]
pub struct EventsState {
    pub endpoint: Option<EndpointKey>,
    pub loaded: bool,
    pub rows: Vec<EventRow>,
    pub scroll: usize,
}

#[derive(Debug, Clone)]
pub struct LogsState {
    pub buf: LogBuf,
    pub source: LogSource,
    pub wrap: bool,
    pub timestamps: bool,
    pub filter: String,
    /// Lines up from the newest of the frozen view (0 while following; the follow/pause/scroll
    /// state itself is `buf.mode()`).
    pub scroll: usize,
    pub streams: BTreeMap<String, StreamState>,
    /// What the loop was last asked to follow.
    pub following: Option<(EndpointKey, Vec<String>)>,
    /// Whose lines the buffer holds. It is cleared only when another endpoint's logs are
    /// wanted: an endpoint missing from one snapshot (a relist, a redeploy between delete and
    /// create) or a visit to another tab keeps what the reader had.
    pub buf_of: Option<EndpointKey>,
}

pub struct App {
    pub(crate) opts: AppOptions,
    pub(crate) palette: Palette,
    pub(crate) now: Timestamp,
    pub(crate) size: (u16, u16),
    pub(crate) endpoints: Vec<EndpointView>,
    pub(crate) table: EndpointTable,
    pub(crate) tree: TreeState,
    pub(crate) focus: Pane,
    pub(crate) tab: Tab,
    pub(crate) detail: DetailState,
    pub(crate) events: EventsState,
    pub(crate) logs: LogsState,
    /// tui-logger's per-target filter state (interior mutability is the library's).
    pub(crate) console: tui_logger::TuiWidgetState,
    pub(crate) watches: BTreeMap<String, WatchState>,
    /// Listing, breaks and confirmations of the watches (`conn.rs`).
    pub(crate) conn: super::conn::ConnState,
    /// When the last endpoint rows arrived.
    pub(crate) last_update: Option<Timestamp>,
    pub(crate) help: bool,
    pub(crate) help_scroll: usize,
    pub(crate) input: Option<Input>,
    pub(crate) message: Option<Message>,
    /// The open confirmation of a destructive operation.
    pub(crate) confirm: Option<Confirm>,
    /// Operations of this console, their questions and the cancel prompt.
    pub(crate) ops: OpsState,
    /// The `e` flow between fetching the spec and the editor's result.
    pub(crate) edit: Option<EditSession>,
    /// `q` while an operation runs asks for a second `q`.
    pub(crate) quit_armed: bool,
    /// Kiosk: when the selection last moved.
    pub(crate) last_cycle: Timestamp,
    pub(crate) quit: bool,
    /// `:ns`: the scope being switched to, and the namespaces watched one by one.
    pub(crate) scope: super::scope::ScopeState,
}

impl App {
    pub fn new(opts: AppOptions, now: Timestamp) -> App {
        let logs = LogsState {
            buf: LogBuf::new(opts.settings.logs.buffer_lines),
            source: LogSource::AllPods,
            wrap: false,
            timestamps: false,
            filter: String::new(),
            scroll: 0,
            streams: BTreeMap::new(),
            following: None,
            buf_of: None,
        };
        App {
            palette: Palette::new(&opts.theme),
            opts,
            now,
            size: (120, 40),
            endpoints: Vec::new(),
            table: EndpointTable::default(),
            tree: TreeState::default(),
            focus: Pane::Endpoints,
            tab: Tab::Detail,
            detail: DetailState::default(),
            events: EventsState::default(),
            logs,
            console: tui_logger::TuiWidgetState::new()
                .set_default_display_level(tui_logger::LevelFilter::Info),
            watches: BTreeMap::new(),
            conn: super::conn::ConnState::default(),
            last_update: None,
            help: false,
            help_scroll: 0,
            input: None,
            message: None,
            confirm: None,
            ops: OpsState::default(),
            edit: None,
            quit_armed: false,
            last_cycle: now,
            quit: false,
            scope: super::scope::ScopeState::default(),
        }
    }

    pub fn readonly(&self) -> bool {
        self.opts.readonly || self.opts.kiosk
    }

    pub fn kiosk(&self) -> bool {
        self.opts.kiosk
    }

    /// Whether `Effect::Quit` was produced (the loop stops after carrying it out).
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    pub fn max_fps(&self) -> u32 {
        self.opts.settings.max_fps
    }

    pub fn mouse(&self) -> bool {
        self.opts.settings.mouse
    }

    pub fn focus(&self) -> Pane {
        self.focus
    }

    pub fn tab(&self) -> Tab {
        self.tab
    }

    pub fn help_open(&self) -> bool {
        self.help
    }

    pub fn confirm(&self) -> Option<&Confirm> {
        self.confirm.as_ref()
    }

    pub fn ops(&self) -> &OpsState {
        &self.ops
    }

    pub fn message(&self) -> Option<&Message> {
        self.message.as_ref()
    }

    /// The selected endpoint.
    pub fn selected_endpoint(&self) -> Option<&EndpointView> {
        self.table.selected(&self.endpoints)
    }

    /// Endpoint names in display order (after filter and sort).
    pub fn visible_endpoints(&self) -> impl Iterator<Item = &EndpointView> {
        self.table
            .rows
            .iter()
            .filter_map(|&i| self.endpoints.get(i))
    }

    pub(crate) fn say(&mut self, level: Level, text: impl Into<String>) {
        self.message = Some(Message {
            level,
            text: text.into(),
            at: self.now,
        });
    }

    /// Rebuilds the resource rows from the selected endpoint.
    pub(crate) fn rebuild_tree(&mut self) {
        let (key, roots) = match self.table.selected(&self.endpoints) {
            Some(e) => (Some(e.key.clone()), e.resources.as_slice()),
            None => (None, &[][..]),
        };
        self.tree.rebuild(key.as_ref(), roots);
    }

    /// Keeps the selections visible for the current terminal size.
    pub(crate) fn fix_scroll(&mut self) {
        let heights = layout::list_heights(self.size.0, self.size.1, self.kiosk());
        self.table.scroll_into_view(heights.endpoints);
        self.tree.offset = super::view::resources::visible_offset(
            &self.tree.rows,
            self.tree.offset,
            self.tree.selected,
            heights.resources,
        );
    }

    /// The bottom pane's body height, for page moves.
    pub(crate) fn page(&self) -> usize {
        layout::list_heights(self.size.0, self.size.1, self.kiosk())
            .bottom
            .max(1)
    }

    /// Pods the logs tab should follow for the selected endpoint.
    fn wanted_log_pods(&self) -> Vec<String> {
        match &self.logs.source {
            LogSource::AllPods => self.tree.pods(),
            LogSource::Pod(p) => vec![p.clone()],
        }
    }

    /// Derives what the loop must follow from the state, and asks for changes.
    fn sync(&mut self, fx: &mut Vec<Effect>) {
        if self.tree.endpoint.as_ref() != self.selected_endpoint().map(|e| &e.key) {
            self.rebuild_tree();
        }
        // A pod chosen as log source may be gone after a redeploy: follow all pods again.
        if let LogSource::Pod(p) = &self.logs.source
            && !self.tree.pods().contains(p)
            && self.tree.endpoint.is_some()
        {
            let text = format!("logs: pod {} is gone; following all pods", sanitize(p));
            self.logs.source = LogSource::AllPods;
            self.say(Level::Info, text);
        }
        if self.kiosk() {
            return;
        }
        let wanted_detail = self.tree.selected().map(|r| r.object_ref());
        if wanted_detail != self.detail.requested {
            self.detail = DetailState {
                requested: wanted_detail.clone(),
                ..DetailState::default()
            };
            if let Some(target) = wanted_detail {
                fx.push(Effect::LoadDetail(target));
            }
        }
        let key = self.tree.endpoint.clone();
        let wanted_events = key.clone().filter(|_| self.tab == Tab::Events);
        if wanted_events != self.events.endpoint {
            self.events = EventsState {
                endpoint: wanted_events.clone(),
                ..EventsState::default()
            };
            fx.push(match wanted_events {
                Some(k) => Effect::LoadEndpointEvents(k),
                None => Effect::StopEndpointEvents,
            });
        }
        let wanted_logs = key
            .filter(|_| self.tab == Tab::Logs)
            .map(|k| (k, self.wanted_log_pods()));
        if wanted_logs != self.logs.following {
            match &wanted_logs {
                Some((endpoint, pods)) => {
                    if self.logs.buf_of.as_ref() != Some(endpoint) {
                        self.logs.buf.clear();
                        self.logs.streams.clear();
                        self.logs.scroll = 0;
                        self.logs.buf_of = Some(endpoint.clone());
                    }
                    fx.push(Effect::FollowLogs {
                        endpoint: endpoint.clone(),
                        namespace: endpoint.namespace.clone(),
                        pods: pods.clone(),
                        tail_lines: self.opts.settings.logs.tail_lines,
                    });
                }
                None => fx.push(Effect::StopLogs),
            }
            self.logs.following = wanted_logs;
        }
    }
}

/// Applies one message. Returns what the loop must do; everything else is in `app`.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let mut fx = Vec::new();
    if super::scope::stale(app, &msg) {
        // From the scope being left: it must not show under the new one.
        return fx;
    }
    match msg {
        Msg::Key(key) => super::keys::on_key(app, key, &mut fx),
        Msg::Mouse(m) => super::keys::on_mouse(app, m, &mut fx),
        Msg::Tick(now) => on_tick(app, now),
        Msg::Resize { width, height } => app.size = (width, height),
        // Rows derived before every kind listed once would be wrong (a Deployment without its
        // Pods is Degraded 0/0): they are dropped, and the pane shows the listing instead. The
        // cluster layer sends rows again after the last kind's Live state.
        Msg::Endpoints(_) if !super::conn::gate_open(app) => {}
        Msg::Endpoints(views) => {
            app.endpoints = super::ops::with_unfinished(
                views,
                &app.ops.unfinished_ops,
                app.opts.namespace.as_deref(),
            );
            app.last_update = Some(app.now);
            crate::cluster::derive::expire_leases(&mut app.endpoints, app.now);
            app.table.rebuild(&app.endpoints);
            app.rebuild_tree();
        }
        Msg::WatchState { watch, state } => super::conn::on_watch_state(app, watch, state),
        Msg::WatchHealth(health) => super::conn::on_health(app, health),
        Msg::Detail {
            target,
            manifest,
            events,
        } => {
            if app.detail.requested.as_ref() == Some(&target) {
                app.detail.loaded = true;
                app.detail.gone = manifest.is_none();
                app.detail.content = manifest.as_ref().map(manifest::prepare).unwrap_or_default();
                app.detail.events = events;
            }
        }
        Msg::EndpointEvents { endpoint, events } => {
            if app.events.endpoint.as_ref() == Some(&endpoint) {
                app.events.loaded = true;
                app.events.rows = events;
            }
        }
        Msg::LogLines {
            pod,
            container,
            lines,
        } => {
            if app.logs.following.is_some() {
                // A paused or scrolled-back view reads a frozen snapshot: it does not move.
                app.logs.buf.push(&pod, &container, &lines, app.now);
            }
        }
        Msg::LogDropped(n) => app.logs.buf.add_upstream_dropped(n),
        Msg::LogStream { pod, state } => {
            app.logs.streams.insert(pod, state);
        }
        Msg::Theme(theme) => {
            app.palette = Palette::new(&theme);
            let text = format!("theme {}", sanitize(&theme.name));
            app.say(Level::Info, text);
        }
        Msg::Notice(text) => app.say(Level::Warn, text),
        Msg::ScopeChanged {
            namespace,
            namespaces,
            notice,
        } => super::scope::on_changed(app, namespace, namespaces, notice),
        Msg::OpStarted { .. }
        | Msg::OpStartFailed { .. }
        | Msg::OpProgress(_)
        | Msg::OpQuestion { .. }
        | Msg::OpFinished(_)
        | Msg::OpEndedWithoutResult { .. }
        | Msg::UnfinishedOps(_)
        | Msg::UnfinishedFound(_) => super::operation::on_msg(app, msg),
        Msg::EditSource { endpoint, object } => {
            super::edit::on_source(app, endpoint, object, &mut fx);
        }
        Msg::EditorDone { endpoint, result } => super::edit::on_editor_done(app, endpoint, result),
    }
    app.sync(&mut fx);
    app.fix_scroll();
    if fx.contains(&Effect::Quit) {
        app.quit = true;
    }
    fx
}

fn on_tick(app: &mut App, now: Timestamp) {
    app.now = now;
    // A lease whose holder died expires without any watch event: judged on the clock.
    if crate::cluster::derive::expire_leases(&mut app.endpoints, now) {
        app.table.rebuild(&app.endpoints);
        app.rebuild_tree();
    }
    if app
        .message
        .as_ref()
        .is_some_and(|m| now.as_second() - m.at.as_second() >= MESSAGE_SECS)
    {
        app.message = None;
    }
    if app.kiosk() {
        let every = i64::try_from(app.opts.settings.kiosk.cycle_every.as_secs())
            .unwrap_or(i64::MAX)
            .max(1);
        if now.as_second() - app.last_cycle.as_second() >= every {
            app.last_cycle = now;
            let n = app.table.rows.len();
            if n > 0 {
                let next = (app.table.selected + 1) % n;
                app.table.select(next, &app.endpoints);
                app.rebuild_tree();
            }
        }
    }
}
