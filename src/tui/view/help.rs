//! `?`: every binding of the focused pane (from the keymap, so remapped keys show), then the
//! global ones.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use super::super::app::{App, Pane, Tab};
use super::super::keys::help_entries;
use super::layout::centered;

pub fn pane_name(app: &App) -> &'static str {
    match (app.focus(), app.tab()) {
        (Pane::Endpoints, _) => "Endpoints",
        (Pane::Resources, _) => "Resources",
        (Pane::Bottom, Tab::Detail) => "Detail",
        (Pane::Bottom, Tab::Logs) => "Logs",
        (Pane::Bottom, Tab::Events) => "Events",
        (Pane::Bottom, Tab::Operation) => "Operation",
        (Pane::Bottom, Tab::Console) => "Console log",
    }
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let p = &app.palette;
    let entries = help_entries(app);
    let key_w = entries
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(4);
    let lines: Vec<Line> = entries
        .iter()
        .skip(app.help_scroll)
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<key_w$}  "), p.accent),
                Span::styled(what.clone(), p.base),
            ])
        })
        .collect();
    let height = u16::try_from(entries.len() + 2).unwrap_or(u16::MAX);
    let popup = centered(area, 72, height);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(p.border_focus)
        .title(Span::styled(
            format!(" Help: {} pane · esc closes ", pane_name(app)),
            p.title,
        ))
        .style(p.base);
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
