//! The escalation question (policy `ask`): which objects are stuck and on what, and the two
//! answers. Drawn over everything but a confirmation being typed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use super::super::app::App;
use super::super::fmt::elapsed_secs;
use super::super::ops::QuestionView;
use super::super::text::sanitize;
use super::layout::centered;
use super::operation::wrap;

pub fn lines(app: &App, q: &QuestionView, width: usize) -> Vec<Line<'static>> {
    let p = &app.palette;
    let mut out: Vec<Line<'static>> = wrap(&sanitize(&q.prompt), width, " ")
        .into_iter()
        .map(Line::raw)
        .collect();
    out.push(Line::styled(" Still there:", p.header));
    if q.stuck.is_empty() {
        out.push(Line::styled("  (the engine named none)", p.muted));
    }
    for s in &q.stuck {
        let mut tail = Vec::new();
        if let Some(secs) = s.terminating_for_seconds {
            tail.push(format!("Terminating {}", elapsed_secs(secs)));
        }
        if s.finalizers.is_empty() {
            tail.push("no finalizers (grace period)".to_string());
        } else {
            let fins: Vec<_> = s.finalizers.iter().map(|f| sanitize(f)).collect();
            tail.push(fins.join(", "));
        }
        // Name, then what holds it on its own line: neither is cut off.
        out.push(Line::raw(format!(
            "  {} {}/{}",
            sanitize(&s.object.kind),
            sanitize(&s.object.namespace),
            sanitize(&s.object.name)
        )));
        out.push(Line::styled(
            format!("    {}", tail.join(" · ")),
            p.terminating,
        ));
    }
    out.push(Line::raw(""));
    out.push(Line::from(vec![
        Span::styled(" y ", p.selection),
        Span::raw(" strip their finalizers, force-delete pods (grace 0), delete again"),
    ]));
    out.push(Line::from(vec![
        Span::styled(" n ", p.selection),
        Span::raw(" give up: the step fails and the endpoint is restored from the backup"),
    ]));
    out
}

pub fn draw(frame: &mut Frame, app: &App, q: &QuestionView, area: Rect) {
    let p = &app.palette;
    let width = area.width.saturating_sub(4).min(100);
    let body = lines(app, q, usize::from(width.saturating_sub(2)));
    let height = u16::try_from(body.len() + 2).unwrap_or(u16::MAX);
    let popup = centered(area, width, height.min(area.height));
    let more = app.ops().questions.len().saturating_sub(1);
    let mut title = format!(" {}: objects are stuck ", sanitize(&q.about));
    if more > 0 {
        title.push_str(&format!("(+{more} more questions) "));
    }
    let block = Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(p.warn.add_modifier(Modifier::BOLD))
        .title(Span::styled(title, p.warn.add_modifier(Modifier::BOLD)))
        .style(p.base);
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(body).block(block), popup);
}
