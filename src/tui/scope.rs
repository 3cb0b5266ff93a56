//! `:ns NAME` / `:ns all`: the namespace scope changes live. The app drops what it shows of the
//! old scope at once (rows, selection, detail, events, logs), says "listing namespace X…" and
//! ignores cluster messages until the loop confirms the new watches run (`Msg::ScopeChanged`);
//! only then does the status bar name the new scope.

use std::collections::VecDeque;

use super::app::{App, DetailState, EventsState, Level, LogSource};
use super::msg::{Effect, Msg};
use super::text::sanitize;
use crate::cluster::access::namespace_error;
use crate::cluster::model::{WatchKind, WatchState};

/// Where the scope is going, and how far the new watches have got.
#[derive(Debug, Clone, Default)]
pub struct ScopeState {
    /// Scopes `:ns` asked for (`None`: all namespaces) that the loop has not confirmed yet,
    /// oldest first: the loop answers each with one `Msg::ScopeChanged`, in order.
    pub pending: VecDeque<Option<String>>,
    /// The namespaces watched one by one (the user may not list across all of them).
    pub namespaces: Option<Vec<String>>,
    /// After `:ns`: how many watches must report before the new scope counts as listed.
    pub expected_watches: usize,
}

/// `all`, `prod`, or `prod,staging` (namespaces watched one by one), for the status bar.
pub fn label(app: &App) -> String {
    if let Some(list) = &app.scope.namespaces {
        return sanitize(&list.join(",")).into_owned();
    }
    app.opts
        .namespace
        .as_deref()
        .map_or_else(|| "all".to_string(), |n| sanitize(n).into_owned())
}

fn describe(ns: Option<&str>) -> String {
    ns.map_or_else(
        || "all namespaces".to_string(),
        |n| format!("namespace {}", sanitize(n)),
    )
}

/// The endpoint pane's text while a new scope lists, if it does.
pub fn listing(app: &App) -> Option<String> {
    let target = match app.scope.pending.back() {
        Some(p) => p.as_deref(),
        None if app.scope.expected_watches > 0 => {
            let reported = app
                .watches
                .values()
                .filter(|s| !matches!(s, WatchState::Syncing))
                .count();
            if reported >= app.scope.expected_watches {
                return None;
            }
            app.opts.namespace.as_deref()
        }
        None => return None,
    };
    Some(format!("listing {}…", describe(target)))
}

/// `:ns NAME` (`all` or `-A`: every namespace).
pub fn on_command(app: &mut App, arg: &str, fx: &mut Vec<Effect>) {
    let wanted = (arg != "all" && arg != "-A").then(|| arg.to_string());
    if let Some(e) = wanted.as_deref().and_then(namespace_error) {
        app.say(Level::Error, format!(":ns: {e}"));
        return;
    }
    if app.scope.pending.is_empty()
        && wanted == app.opts.namespace
        && app.scope.namespaces.is_none()
    {
        let text = format!("already showing {}", describe(wanted.as_deref()));
        app.say(Level::Info, text);
        return;
    }
    forget_old_scope(app);
    let text = format!("listing {}…", describe(wanted.as_deref()));
    app.scope.pending.push_back(wanted.clone());
    app.say(Level::Info, text);
    fx.push(Effect::SetNamespace(wanted));
}

/// Drops everything that belongs to the scope being left.
fn forget_old_scope(app: &mut App) {
    app.endpoints.clear();
    // The selection remembered an endpoint of the old scope: start over (sort and filter stay).
    let old = std::mem::take(&mut app.table);
    app.table.sort = old.sort;
    app.table.filter = old.filter;
    app.rebuild_tree();
    app.watches.clear();
    app.last_update = None;
    app.detail = DetailState::default();
    app.events = EventsState::default();
    app.logs.buf.clear();
    app.logs.streams.clear();
    app.logs.scroll = 0;
    app.logs.source = LogSource::AllPods;
}

/// Whether `msg` is about the old scope and must be dropped (a new one is pending).
pub fn stale(app: &App, msg: &Msg) -> bool {
    !app.scope.pending.is_empty()
        && matches!(
            msg,
            Msg::Endpoints(_)
                | Msg::WatchState { .. }
                | Msg::Detail { .. }
                | Msg::EndpointEvents { .. }
                | Msg::LogLines { .. }
                | Msg::LogStream { .. }
                | Msg::LogDropped(_)
        )
}

/// `Msg::ScopeChanged`: the new watches run.
pub fn on_changed(
    app: &mut App,
    namespace: Option<String>,
    namespaces: Option<Vec<String>>,
    notice: Option<String>,
) {
    let asked = app.scope.pending.pop_front().is_some();
    if asked {
        forget_old_scope(app);
    }
    let sets = namespaces.as_ref().map_or(1, |l| l.len().max(1));
    app.scope.expected_watches = if asked {
        WatchKind::ALL.len() * sets
    } else {
        0
    };
    app.opts.namespace = namespace;
    app.scope.namespaces = namespaces;
    match notice {
        Some(text) => app.say(Level::Warn, text),
        None if asked => {
            let text = format!("now showing {}", describe(app.opts.namespace.as_deref()));
            app.say(Level::Info, text);
        }
        None => {}
    }
}
