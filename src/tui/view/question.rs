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
use crate::orchestrator::progress::OpKind;

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
        if let Some(owner) = &s.awaiting_gc {
            // Not deleted yet: not Terminating, and no grace period runs.
            tail.push(format!(
                "waiting for garbage collection (goes once {} is gone)",
                sanitize(owner)
            ));
        } else if let Some(secs) = s.terminating_for_seconds {
            tail.push(format!("Terminating {}", elapsed_secs(secs)));
        }
        if !s.finalizers.is_empty() {
            let fins: Vec<_> = s.finalizers.iter().map(|f| sanitize(f)).collect();
            tail.push(fins.join(", "));
        } else if s.awaiting_gc.is_none() {
            tail.push("no finalizers (grace period)".to_string());
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
    let (yes, no) = answers(q.kind);
    out.push(Line::raw(""));
    out.push(Line::from(vec![
        Span::styled(" y ", p.selection),
        Span::raw(format!(" {yes}")),
    ]));
    out.push(Line::from(vec![
        Span::styled(" n ", p.selection),
        Span::raw(format!(" {no}")),
    ]));
    out
}

/// What `y` and `n` do, in the words of the plan that asks: only a redeploy has a backup to
/// restore.
fn answers(kind: Option<OpKind>) -> (&'static str, &'static str) {
    match kind {
        Some(OpKind::ForceDelete) => (
            "strip their finalizers and delete again (pods with grace 0)",
            "give up: the force-delete fails and leaves them as they are (nothing is recreated)",
        ),
        Some(OpKind::Redeploy) => (
            "force-delete the endpoint's pods (grace 0), strip these finalizers, delete again",
            "give up: the step fails and the endpoint is restored from the backup",
        ),
        _ => (
            "force-delete pods (grace 0), strip these finalizers, delete again",
            "give up: the step fails and they are left as they are",
        ),
    }
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
