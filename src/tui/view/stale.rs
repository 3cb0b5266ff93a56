//! How the panes say that their data is not current (`tui::conn` decides when): the listing
//! progress or the unreachable server instead of rows that were never listed, a `?` marker and
//! dimmed rows while the watches are down, the server in the footer, and the kiosk's banner and
//! "confirmed" time. Colour is never the only cue: every state has words.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::super::app::App;
use super::super::conn::{self, Gate};

/// The marker a stale row carries in place of its first cell (endpoints) or before its status
/// (resources).
pub const MARK: &str = "?";

/// The endpoints pane instead of rows, while some kind has never listed.
pub fn not_listed(app: &App) -> Option<Vec<Line<'static>>> {
    let p = &app.palette;
    let server = conn::server(app);
    match conn::gate(app) {
        Gate::Open => None,
        Gate::Listing { waiting, total } => Some(vec![
            Line::styled(
                format!(
                    "listing from {server}: {} of {total} kinds listed; endpoint status is \
                     shown once every kind has listed",
                    total - waiting.len()
                ),
                p.muted,
            ),
            Line::styled(format!("waiting for {}", waiting.join(", ")), p.muted),
        ]),
        Gate::Failing {
            waiting,
            error,
            retry_at,
        } => {
            let verb = if conn::is_api_error(&error) {
                "cannot list from"
            } else {
                "cannot reach"
            };
            Some(vec![
                Line::styled(
                    format!(
                        "{verb} {server}: {} · {}",
                        conn::short_error(&error),
                        conn::retry_words(app, retry_at)
                    ),
                    p.error,
                ),
                Line::styled(
                    format!("never listed: {}", waiting.join(", ")),
                    p.warn.add_modifier(Modifier::BOLD),
                ),
                Line::styled(
                    format!("error: {}", super::super::text::sanitize(&error)),
                    p.muted,
                ),
            ])
        }
    }
}

/// ` · ⚠ STALE since 14:02:11 (42s)` for a pane title, while the rows are stale.
pub fn title_note(app: &App) -> String {
    conn::stale_since(app).map_or_else(String::new, |t| {
        format!(
            " · ⚠ STALE since {} ({})",
            super::super::fmt::clock(t, &app.opts.tz),
            super::super::fmt::elapsed_secs(super::super::fmt::secs_between(t, app.now))
        )
    })
}

/// A stale row's first cell: the marker instead of `lease`.
pub fn row_marker<'a>(app: &App, lease: Span<'a>) -> Span<'a> {
    if conn::stale_since(app).is_some() {
        Span::styled(MARK, app.palette.warn.add_modifier(Modifier::BOLD))
    } else {
        lease
    }
}

/// `? ` before a stale row's status.
pub fn status_prefix(app: &App) -> &'static str {
    if conn::stale_since(app).is_some() {
        "? "
    } else {
        ""
    }
}

/// Dims `area` (a pane's rows) while the data is stale.
pub fn dim(frame: &mut Frame, app: &App, area: Rect) {
    if conn::stale_since(app).is_some() {
        frame
            .buffer_mut()
            .set_style(area, Style::new().add_modifier(Modifier::DIM));
    }
}

/// The footer's connection part when the server is the problem: a kind never listed, or the
/// rows stale. None: the usual watch summary.
pub fn footer(app: &App) -> Option<(String, bool)> {
    let server = conn::server(app);
    let retry = conn::retry_words(app, conn::next_retry(app));
    if let Some(since) = conn::stale_since(app) {
        let why = conn::first_error(app)
            .map(|e| format!(": {}", conn::short_error(&e)))
            .unwrap_or_default();
        return Some((
            format!(
                "✖ {server} {} since {}{why} · {retry}",
                conn::down_word(app),
                conn::when(app, since)
            ),
            true,
        ));
    }
    match conn::gate(app) {
        Gate::Open => None,
        Gate::Listing { waiting, total } => Some((
            format!(
                "… listing {}/{total} kinds from {server}",
                total - waiting.len()
            ),
            true,
        )),
        Gate::Failing {
            error, retry_at, ..
        } => Some((
            format!(
                "✖ {server} not listed: {} · {}",
                conn::short_error(&error),
                conn::retry_words(app, retry_at)
            ),
            true,
        )),
    }
}

/// The kiosk's "confirmed" words: `confirmed 14:00:39 (3s ago)` while current, else `NOT
/// CURRENT · last confirmed ...`. None without health records (an integrator that sends none).
pub fn kiosk_confirmed(app: &App) -> Option<String> {
    if app.conn.health.is_empty() {
        return None;
    }
    if let Some(t) = conn::confirmed(app) {
        return Some(format!("confirmed {}", conn::when(app, t)));
    }
    Some(match last_confirmed(app) {
        Some(t) => format!("NOT CURRENT · last confirmed {}", conn::when(app, t)),
        None => "NOT CURRENT · never confirmed".to_string(),
    })
}

/// The oldest last confirmation over the needed kinds, whatever their state.
fn last_confirmed(app: &App) -> Option<jiff::Timestamp> {
    app.conn
        .health
        .iter()
        .filter(|(w, _)| conn::is_needed(w))
        .filter_map(|(_, h)| h.confirmed)
        .min()
}

/// The kiosk's loud banner while the data is not current. None: current (or nothing known).
pub fn kiosk_banner(app: &App) -> Option<String> {
    let server = conn::server(app);
    if let Some(since) = conn::stale_since(app) {
        let shown = last_confirmed(app)
            .map(|t| format!(" · showing data last confirmed {}", conn::when(app, t)))
            .unwrap_or_default();
        return Some(format!(
            " STALE · {server} {} since {}{shown} · {} ",
            conn::down_word(app),
            conn::when(app, since),
            conn::retry_words(app, conn::next_retry(app))
        ));
    }
    match conn::gate(app) {
        Gate::Open => None,
        Gate::Listing { waiting, total } => Some(format!(
            " LISTING · {} of {total} kinds listed from {server}, waiting for {} ",
            total - waiting.len(),
            waiting.join(", ")
        )),
        Gate::Failing {
            error, retry_at, ..
        } => Some(format!(
            " NOT CONNECTED · {} {server}: {} · {} ",
            if conn::is_api_error(&error) {
                "cannot list from"
            } else {
                "cannot reach"
            },
            conn::short_error(&error),
            conn::retry_words(app, retry_at)
        )),
    }
}
