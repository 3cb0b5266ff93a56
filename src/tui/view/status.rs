//! The status bar: context, namespace scope, the watches' connection state, READ-ONLY / KIOSK,
//! then the current message, the input line, or key hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::cluster::model::WatchState;
use crate::config::keymap::Action;

use super::super::app::{App, InputKind, Level, Pane, Tab};
use super::super::text::sanitize;

/// One watch's state as a word, and whether it is a problem. Written without an exhaustive
/// match so new states from the cluster layer show up by their debug name instead of breaking.
pub fn watch_word(s: &WatchState) -> (String, bool) {
    if let WatchState::Live = s {
        return ("live".into(), false);
    }
    if let WatchState::Syncing = s {
        return ("syncing".into(), true);
    }
    if let WatchState::Reconnecting { error } = s {
        return (format!("reconnecting ({})", sanitize(error)), true);
    }
    if let WatchState::Forbidden { message } = s {
        return (format!("forbidden ({})", sanitize(message)), true);
    }
    (sanitize(&format!("{s:?}")).into_owned(), true)
}

/// `✔ watches live (9)`, or the first watch that is not live and how many others are not.
pub fn watch_summary(app: &App) -> (String, bool) {
    if app.watches.is_empty() {
        return ("… connecting".into(), true);
    }
    let bad: Vec<(&String, String)> = app
        .watches
        .iter()
        .filter_map(|(k, s)| {
            let (w, bad) = watch_word(s);
            bad.then_some((k, w))
        })
        .collect();
    match bad.first() {
        None => (format!("✔ watches live ({})", app.watches.len()), false),
        Some((kind, word)) => {
            let more = if bad.len() > 1 {
                format!(" +{} more", bad.len() - 1)
            } else {
                String::new()
            };
            (format!("⟳ {} {word}{more}", sanitize(kind)), true)
        }
    }
}

fn hint(app: &App, action: Action, what: &str) -> Option<String> {
    let k = app.opts.keymap.keys_for(action);
    k.first().map(|k| format!("{k}:{what}"))
}

/// The keys that do something where the focus is (issue 9): the endpoint table's actions, the resource
/// tree's per-object ones, the log view's follow/pause/wrap, a tab's scrolling. Destructive
/// ones only when the console may change the cluster.
pub fn hints(app: &App) -> String {
    let writable = !app.readonly();
    // The pane's own keys first: a narrow terminal cuts the line at its end.
    let mut items: Vec<(Action, &str)> = Vec::new();
    match (app.focus(), app.tab()) {
        (Pane::Endpoints, _) => {
            items.extend([
                (Action::Filter, "filter"),
                (Action::Sort, "sort"),
                (Action::Enter, "open"),
                (Action::Logs, "logs"),
                (Action::Events, "events"),
            ]);
            if writable {
                items.extend([(Action::Redeploy, "redeploy"), (Action::EditSpec, "edit")]);
            }
        }
        (Pane::Resources, _) => {
            items.extend([
                (Action::Enter, "detail"),
                (Action::Back, "back"),
                (Action::Logs, "logs"),
                (Action::Events, "events"),
            ]);
            if writable {
                items.extend([
                    (Action::ForceDelete, "force-delete"),
                    (Action::StripFinalizers, "strip-finalizers"),
                    (Action::Redeploy, "redeploy"),
                ]);
            }
        }
        (Pane::Bottom, Tab::Logs) => items.extend([
            (Action::Follow, "follow"),
            (Action::Pause, "pause"),
            (Action::Up, "scroll back"),
            (Action::Top, "oldest"),
            (Action::Wrap, "wrap"),
            (Action::Timestamps, "timestamps"),
            (Action::LogSource, "pod"),
            (Action::Filter, "filter"),
            (Action::Back, "back"),
        ]),
        (Pane::Bottom, _) => items.extend([
            (Action::Up, "up"),
            (Action::Down, "down"),
            (Action::Top, "top"),
            (Action::Back, "back"),
        ]),
    }
    items.extend([
        (Action::Help, "help"),
        (Action::Quit, "quit"),
        (Action::NextPane, "next pane"),
    ]);
    items
        .into_iter()
        .filter_map(|(a, w)| hint(app, a, w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The current status-line message, styled by its level.
pub fn message_span(app: &App) -> Option<Span<'static>> {
    let p = &app.palette;
    let m = app.message()?;
    let style = match m.level {
        Level::Info => p.accent,
        Level::Warn => p.warn.add_modifier(Modifier::BOLD),
        Level::Error => p.error,
    };
    Some(Span::styled(sanitize(&m.text).into_owned(), style))
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let p = &app.palette;
    let sep = || Span::styled(" │ ", p.border);
    let ns = crate::tui::scope::label(app);
    let (watches, bad) = super::stale::footer(app).unwrap_or_else(|| watch_summary(app));
    let mut spans = vec![
        Span::styled(format!(" ctx:{}", sanitize(&app.opts.context)), p.accent),
        sep(),
        Span::styled(format!("ns:{ns}"), p.accent),
        sep(),
        Span::styled(watches, if bad { p.warn } else { p.ok }),
    ];
    let marker = Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD);
    if app.kiosk() {
        spans.push(sep());
        spans.push(Span::styled(" KIOSK ", marker));
    }
    if app.readonly() {
        spans.push(sep());
        spans.push(Span::styled(" READ-ONLY ", marker));
    }
    spans.push(sep());
    if let Some(input) = &app.input {
        let lead = match input.kind {
            InputKind::Filter => "/",
            InputKind::Command => ":",
        };
        spans.push(Span::styled(
            format!("{lead}{}█", sanitize(&input.text)),
            p.title,
        ));
        spans.push(Span::styled("  enter:done esc:cancel", p.muted));
    } else if let Some(m) = message_span(app) {
        spans.push(m);
    } else {
        spans.push(Span::styled(hints(app), p.muted));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(p.base), area);
}
