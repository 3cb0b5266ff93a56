//! Drawing: `draw(frame, &App)` reads the state and never changes it. One file per pane, plus the
//! layout, the status bar, the help overlay, the dialogs (confirmation, escalation question), the
//! kiosk tiles and the too-small message.

pub mod bottom;
pub mod columns;
pub mod confirm;
pub mod console;
pub mod detail;
pub mod endpoints;
pub mod help;
pub mod kiosk;
pub mod layout;
pub mod logs;
pub mod operation;
pub mod question;
pub mod resources;
pub mod status;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};

use super::app::{App, Pane};
use super::fmt::elapsed_secs;
use super::style::Palette;
use crate::cluster::model::Terminating;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    frame.render_widget(Block::new().style(app.palette.base), area);
    if layout::too_small(area.width, area.height) {
        draw_too_small(frame, app, area);
        return;
    }
    if app.kiosk() {
        kiosk::draw(frame, app, area);
    } else {
        let a = layout::areas(area);
        endpoints::draw(frame, app, a.endpoints);
        resources::draw(frame, app, a.resources);
        bottom::draw(frame, app, a.bottom);
        status::draw(frame, app, a.status);
    }
    if app.help_open() {
        help::draw(frame, app, area);
    }
    // One dialog at a time: a confirmation being typed keeps a question waiting behind it.
    if let Some(c) = app.confirm() {
        confirm::draw(frame, app, c, area);
    } else if let Some(q) = app.ops().questions.first() {
        question::draw(frame, app, q, area);
    }
}

fn draw_too_small(frame: &mut Frame, app: &App, area: Rect) {
    let text = format!(
        "terminal too small: need at least {}x{}, have {}x{}",
        layout::MIN_WIDTH,
        layout::MIN_HEIGHT,
        area.width,
        area.height
    );
    let y = area.y + area.height / 2;
    let p = Paragraph::new(text)
        .style(app.palette.warn)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true });
    frame.render_widget(
        p,
        Rect::new(area.x, y.saturating_sub(1), area.width, 3.min(area.height)),
    );
}

/// A pane's frame: a bold accent border when it has the focus.
pub(crate) fn pane_block<'a>(app: &App, pane: Pane, title: Line<'a>) -> Block<'a> {
    let focused = app.focus() == pane;
    let (border, kind) = if focused {
        (app.palette.border_focus, BorderType::Thick)
    } else {
        (app.palette.border, BorderType::Plain)
    };
    Block::new()
        .borders(Borders::ALL)
        .border_type(kind)
        .border_style(border)
        .title(title)
        .style(app.palette.base)
}

/// `" Title "` plus muted extra words.
pub(crate) fn title<'a>(p: &Palette, name: &'a str, extra: String) -> Line<'a> {
    let mut spans = vec![Span::styled(format!(" {name} "), p.title)];
    if !extra.is_empty() {
        spans.push(Span::styled(format!("{extra} "), p.muted));
    }
    Line::from(spans)
}

/// A Terminating object's state in two parts: the head `⊘ Terminating 12m3s` (past the warn
/// threshold `⚠ stuck · Terminating 47m12s`) and the tail `fin.a, fin.b · grace 30s` (what holds
/// it; empty when nothing does); and whether it is stuck.
pub(crate) fn terminating_parts(t: &Terminating, app: &App) -> (String, String, bool) {
    let secs = app.now.as_second() - t.since.as_second();
    let warn = i64::try_from(app.opts.settings.endpoints.terminating_warn_after.as_secs())
        .unwrap_or(i64::MAX);
    let stuck = secs >= warn;
    let head = format!(
        "{}Terminating {}",
        if stuck { "⚠ stuck · " } else { "⊘ " },
        elapsed_secs(secs)
    );
    let mut tail: Vec<String> = Vec::new();
    if !t.finalizers.is_empty() {
        let fins: Vec<_> = t
            .finalizers
            .iter()
            .map(|f| super::text::sanitize(f))
            .collect();
        tail.push(fins.join(", "));
    }
    // A grace period matters while it runs (pods); 0 (every non-pod, and a pod the kubelet has
    // finished with) would only be noise next to the finalizers that really hold the object.
    if let Some(g) = t.grace_period_seconds.filter(|g| *g > 0) {
        tail.push(format!("grace {g}s"));
    }
    (head, tail.join(" · "), stuck)
}

/// Both parts on one line: `⚠ stuck · Terminating 12m3s · inferenceservice.finalizers`.
pub(crate) fn terminating_text(t: &Terminating, app: &App) -> (String, bool) {
    let (head, tail, stuck) = terminating_parts(t, app);
    if tail.is_empty() {
        (head, stuck)
    } else {
        (format!("{head} · {tail}"), stuck)
    }
}

pub(crate) fn terminating_style(p: &Palette, stuck: bool) -> Style {
    if stuck { p.stuck } else { p.terminating }
}
