//! The console's own log (tracing, through tui-logger): targets with their levels on the left
//! (per-target filtering with `+ - < >`), messages on the right, neutralised like any other text
//! (they quote object names and API answers).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};
use tui_logger::{ExtLogRecord, LogFormatter, TuiLoggerTargetWidget, TuiLoggerWidget};

use super::super::app::App;
use super::super::text::sanitize;

/// `HH:MM:SS LEVEL target message`, neutralised and cut to the width.
struct SafeFormatter {
    styles: [Style; 5],
}

impl LogFormatter for SafeFormatter {
    fn min_width(&self) -> u16 {
        20
    }

    fn format(&self, width: usize, evt: &ExtLogRecord) -> Vec<Line<'_>> {
        let level = evt.level.as_str();
        let i = match level {
            "ERROR" => 0,
            "WARN" => 1,
            "INFO" => 2,
            "DEBUG" => 3,
            _ => 4,
        };
        let head = format!(
            "{} {level:<5} {} ",
            evt.timestamp.strftime("%H:%M:%S"),
            sanitize(evt.target())
        );
        let body = sanitize(evt.msg()).into_owned();
        let mut text: String = head.chars().chain(body.chars()).take(width).collect();
        if text.is_empty() {
            text.push(' ');
        }
        vec![Line::from(Span::styled(text, self.styles[i]))]
    }
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let p = &app.palette;
    let [targets, messages] =
        Layout::horizontal([Constraint::Length(32), Constraint::Min(0)]).areas(area);
    let targets_widget = TuiLoggerTargetWidget::default()
        .block(
            Block::new()
                .borders(Borders::RIGHT)
                .border_style(p.border)
                .title(Span::styled("targets (+ - < >)", p.muted)),
        )
        .style(p.base)
        .highlight_style(p.selection)
        .style_show(p.ok)
        .style_hide(p.muted)
        .style_off(p.muted)
        .state(&app.console);
    frame.render_widget(targets_widget, targets);
    let formatter = SafeFormatter {
        styles: [p.error, p.warn, p.base, p.muted, p.muted],
    };
    let log_widget = TuiLoggerWidget::default()
        .formatter(Box::new(formatter))
        .style(p.base)
        .state(&app.console);
    frame.render_widget(log_widget, messages);
}
