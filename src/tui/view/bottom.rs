//! The bottom pane: tabs for the selected object's detail, the endpoint's pod logs, its
//! Kubernetes events, its latest operation from this console and the console's own log.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::super::app::{App, Pane, Tab};
use super::super::text::sanitize;
use super::{console, detail, logs, operation, pane_block};

fn tabs_title(app: &App) -> Line<'static> {
    let p = &app.palette;
    let mut spans = vec![Span::raw(" ")];
    for (i, tab) in Tab::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" │ ", p.border));
        }
        if *tab == app.tab() {
            spans.push(Span::styled(format!("[{}]", tab.title()), p.title));
        } else {
            spans.push(Span::styled(tab.title().to_string(), p.muted));
        }
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let block = pane_block(app, Pane::Bottom, tabs_title(app));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    match app.tab() {
        Tab::Detail => detail::draw(frame, app, inner),
        Tab::Logs => logs::draw(frame, app, inner),
        Tab::Events => draw_events(frame, app, inner),
        Tab::Operation => operation::draw(frame, app, inner),
        Tab::Console => console::draw(frame, app, inner),
    }
}

fn draw_events(frame: &mut Frame, app: &App, area: Rect) {
    let p = &app.palette;
    let ev = &app.events;
    let mut lines = vec![Line::styled(
        format!(
            "Events of {}",
            app.selected_endpoint()
                .map(|e| format!("{}/{}", sanitize(&e.key.namespace), sanitize(&e.key.name)))
                .unwrap_or_else(|| "no endpoint".into())
        ),
        p.header,
    )];
    if !ev.loaded {
        lines.push(Line::styled("loading…", p.muted));
    } else if ev.rows.is_empty() {
        lines.push(Line::styled("no events", p.muted));
    } else {
        lines.push(Line::styled(detail::EVENT_HEADER, p.header));
        let width = usize::from(area.width);
        lines.extend(ev.rows.iter().map(|e| detail::event_line(e, app, width)));
    }
    let scroll = u16::try_from(ev.scroll).unwrap_or(u16::MAX);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), area);
}
