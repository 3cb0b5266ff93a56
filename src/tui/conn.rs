//! Connection truth: what the app knows about how current its data is.
//!
//! Three questions, answered from the watch states and the cluster layer's health records:
//! - has every kind the endpoint status is derived from listed once? Until then no row is shown
//!   (a Deployment without its Pods reads `▲ Degraded 0/0`): the endpoints pane shows the listing
//!   progress, or, for a kind that cannot list, the server, the error and the next retry;
//! - are the rows stale? A kind that had listed and is now reconnecting makes every row stale
//!   since its watch broke: rows are dimmed and marked, the footer names the server;
//! - when was the data last confirmed current (the kiosk)? The oldest confirmation (a list, a
//!   watch event or a bookmark) over the kinds the rows come from.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use crate::cluster::model::{Kind, WatchState};
use crate::cluster::watch::WatchHealth;

use super::app::{App, Level};
use super::fmt::{elapsed_secs, secs_between};
use super::text::sanitize;

/// The watches the endpoint rows are derived from (Events only feed the detail and events tabs).
pub fn needed() -> impl Iterator<Item = &'static str> {
    Kind::ALL.into_iter().map(Kind::name).chain(["Lease"])
}

/// The kind a watch label names: `Pod`, or `Pod in staging` (namespaces watched one by one).
fn kind_of(watch: &str) -> &str {
    watch.split_once(" in ").map_or(watch, |(kind, _)| kind)
}

/// Whether the rows are derived from this watch (of any namespace).
pub fn is_needed(watch: &str) -> bool {
    needed().any(|n| n == kind_of(watch))
}

/// Where a watch sorts: in the order of `needed()` (the order derivation reads them), then by
/// namespace.
fn rank(watch: &str) -> usize {
    needed()
        .position(|n| n == kind_of(watch))
        .unwrap_or(usize::MAX)
}

/// The needed watches the app has heard of, in `rank` order.
fn needed_watches(app: &App) -> impl Iterator<Item = &str> {
    let mut watches: Vec<&str> = app
        .watches
        .keys()
        .map(String::as_str)
        .filter(|w| is_needed(w))
        .collect();
    watches.sort_by_key(|w| (rank(w), *w));
    watches.into_iter()
}

/// What the app has heard about the connection, beside `App::watches`.
#[derive(Debug, Clone, Default)]
pub struct ConnState {
    /// Per watch (`Pod`, `Lease`, ...), the cluster layer's latest health record.
    pub health: BTreeMap<String, WatchHealth>,
    /// Watches whose store was complete at least once.
    pub listed: BTreeSet<String>,
    /// When a watch that had listed left Live, as this app saw it (used when no health record
    /// says so).
    pub went_down: BTreeMap<String, Timestamp>,
}

/// Why the endpoint rows are not shown yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Every needed kind listed once (or the app knows of no watches at all).
    Open,
    /// Still listing; `waiting` have not listed yet, none has failed.
    Listing { waiting: Vec<String>, total: usize },
    /// A kind that never listed failed: its error, and when the next try is.
    Failing {
        waiting: Vec<String>,
        error: String,
        retry_at: Option<Timestamp>,
    },
}

fn listed(app: &App, watch: &str) -> bool {
    app.conn.listed.contains(watch) || app.conn.health.get(watch).is_some_and(|h| h.listed)
}

/// Whether a state settles a kind (its store is what it is).
fn settles(s: &WatchState) -> bool {
    matches!(
        s,
        WatchState::Live | WatchState::Forbidden { .. } | WatchState::Unavailable { .. }
    )
}

/// Whether the rows may be derived: every needed watch the app knows of has listed once.
pub fn gate(app: &App) -> Gate {
    let known: Vec<(&str, &WatchState)> = needed_watches(app)
        .filter_map(|w| app.watches.get(w).map(|s| (w, s)))
        .collect();
    let waiting: Vec<String> = known
        .iter()
        .filter(|(w, _)| !listed(app, w))
        .map(|(w, _)| w.to_string())
        .collect();
    if waiting.is_empty() {
        return Gate::Open;
    }
    let failing = known.iter().find_map(|(w, s)| match s {
        WatchState::Reconnecting { error } if !listed(app, w) => Some(error.clone()),
        _ => None,
    });
    match failing {
        Some(error) => {
            let retry_at = waiting
                .iter()
                .filter_map(|w| app.conn.health.get(w)?.retry_at)
                .min();
            Gate::Failing {
                waiting,
                error,
                retry_at,
            }
        }
        None => Gate::Listing {
            waiting,
            total: known.len(),
        },
    }
}

pub fn gate_open(app: &App) -> bool {
    gate(app) == Gate::Open
}

/// Since when the rows are stale: the earliest break of a needed watch that had listed and is
/// reconnecting now. None while the data is current.
pub fn stale_since(app: &App) -> Option<Timestamp> {
    needed_watches(app)
        .filter(|w| {
            matches!(app.watches.get(*w), Some(WatchState::Reconnecting { .. })) && listed(app, w)
        })
        .map(|w| {
            app.conn
                .health
                .get(w)
                .and_then(|h| h.down_since)
                .or_else(|| app.conn.went_down.get(w).copied())
                .unwrap_or(app.now)
        })
        .min()
}

/// The oldest confirmation over the needed watches that are Live; None without health records
/// or while a needed watch is not current.
pub fn confirmed(app: &App) -> Option<Timestamp> {
    if app.conn.health.is_empty() || stale_since(app).is_some() || !gate_open(app) {
        return None;
    }
    app.conn
        .health
        .iter()
        .filter(|(w, _)| is_needed(w) && app.watches.get(*w).is_none_or(WatchState::is_live))
        .filter_map(|(_, h)| h.confirmed)
        .min()
}

/// The error of the first needed watch that is reconnecting.
pub fn first_error(app: &App) -> Option<String> {
    needed_watches(app).find_map(|w| match app.watches.get(w) {
        Some(WatchState::Reconnecting { error }) => Some(error.clone()),
        _ => None,
    })
}

/// The next retry of any needed watch.
pub fn next_retry(app: &App) -> Option<Timestamp> {
    needed_watches(app)
        .filter(|w| matches!(app.watches.get(*w), Some(WatchState::Reconnecting { .. })))
        .filter_map(|w| app.conn.health.get(w)?.retry_at)
        .min()
}

/// `retrying in 4s` (or `retrying now`), counted down by the app's clock.
pub fn retry_words(app: &App, at: Option<Timestamp>) -> String {
    match at {
        None => "retrying".to_string(),
        Some(at) => {
            let secs = at.as_millisecond() - app.now.as_millisecond();
            if secs <= 0 {
                "retrying now".to_string()
            } else {
                format!("retrying in {}", elapsed_secs((secs + 999) / 1000))
            }
        }
    }
}

/// The end of a chained error (`...: tcp connect error: Connection refused (os error 111)` ->
/// `Connection refused (os error 111)`), for places with little room; API errors (`500
/// InternalError: boom`) stay whole.
pub fn short_error(error: &str) -> String {
    let e = sanitize(error);
    if is_api_error(&e) {
        return e.into_owned();
    }
    e.rsplit(": ").next().unwrap_or_default().to_string()
}

/// Whether an error is the API server's answer (`500 InternalError: ...`) rather than no answer.
pub fn is_api_error(error: &str) -> bool {
    error.starts_with(|c: char| c.is_ascii_digit())
}

/// `unreachable`, or `failing` when the server answers with errors.
pub fn down_word(app: &App) -> &'static str {
    match first_error(app) {
        Some(e) if is_api_error(&e) => "failing",
        _ => "unreachable",
    }
}

/// The server URL, safe to print.
pub fn server(app: &App) -> String {
    sanitize(&app.opts.server).into_owned()
}

/// `14:02:11 (42s)`: a moment and how long ago it was.
pub fn when(app: &App, t: Timestamp) -> String {
    format!(
        "{} ({} ago)",
        super::fmt::clock(t, &app.opts.tz),
        elapsed_secs(secs_between(t, app.now))
    )
}

/// Applies a watch state: remembers listing and breaks, and says so when the data is current
/// again after having been stale.
pub fn on_watch_state(app: &mut App, watch: String, state: WatchState) {
    let stale_before = stale_since(app);
    let was_live = app.watches.get(&watch).is_some_and(WatchState::is_live);
    if settles(&state) {
        app.conn.listed.insert(watch.clone());
    }
    if state.is_live() {
        app.conn.went_down.remove(&watch);
    } else if was_live && matches!(state, WatchState::Reconnecting { .. }) {
        app.conn.went_down.insert(watch.clone(), app.now);
    }
    app.watches.insert(watch, state);
    if let (Some(since), None) = (stale_before, stale_since(app)) {
        let text = format!(
            "reconnected to {} after {}",
            server(app),
            elapsed_secs(secs_between(since, app.now))
        );
        app.say(Level::Info, text);
    }
}

/// Applies the cluster layer's health records.
pub fn on_health(app: &mut App, health: BTreeMap<String, WatchHealth>) {
    for (w, h) in &health {
        if h.listed {
            app.conn.listed.insert(w.clone());
        }
    }
    app.conn.health = health;
}
