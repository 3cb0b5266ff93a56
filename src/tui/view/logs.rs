//! Pod logs of the selected endpoint: a header with the source, follow/pause/wrap/timestamps
//! state, the buffer's fill, dropped lines and rate, then the newest lines that fit.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::super::app::{App, LogSource};
use super::super::fmt::{log_time, rate};
use super::super::logbuf::{LogEntry, LogMode};
use super::super::msg::StreamState;
use super::super::text::sanitize;

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

fn header(app: &App) -> Line<'static> {
    let p = &app.palette;
    let l = &app.logs;
    let source = match &l.source {
        LogSource::AllPods => format!("all pods ({})", app.tree.pods().len()),
        LogSource::Pod(pod) => format!("pod {}", sanitize(pod)),
    };
    let mut spans = vec![
        Span::styled(source, p.title),
        Span::raw(" · "),
        match l.buf.mode() {
            LogMode::Following => Span::styled("following", p.ok),
            LogMode::Paused if l.scroll == 0 => {
                Span::styled(format!("PAUSED ({} new)", l.buf.new_while_frozen()), p.warn)
            }
            LogMode::Paused => Span::styled(
                format!("PAUSED ↑{} ({} new)", l.scroll, l.buf.new_while_frozen()),
                p.warn,
            ),
            LogMode::ScrolledBack => Span::styled(
                format!("scrolled ↑{} ({} new)", l.scroll, l.buf.new_while_frozen()),
                p.warn,
            ),
        },
        Span::raw(format!(
            " · wrap {} · ts {}",
            on_off(l.wrap),
            on_off(l.timestamps)
        )),
    ];
    if !l.filter.is_empty() {
        spans.push(Span::styled(
            format!(" · filter: {}", sanitize(&l.filter)),
            p.accent,
        ));
    }
    spans.push(Span::raw(format!(
        " · {}/{} lines · ",
        l.buf.len(),
        l.buf.capacity()
    )));
    let dropped = l.buf.dropped();
    spans.push(Span::styled(
        format!("dropped {dropped}"),
        if dropped > 0 { p.warn } else { p.muted },
    ));
    spans.push(Span::raw(format!(" · {}", rate(l.buf.rate(app.now)))));
    let reconnecting = l
        .streams
        .values()
        .filter(|s| matches!(s, StreamState::Reconnecting { .. }))
        .count();
    if reconnecting > 0 {
        spans.push(Span::styled(
            format!(" · ⟳ {reconnecting} reconnecting"),
            p.warn,
        ));
    }
    Line::from(spans)
}

fn prefix(e: &LogEntry, app: &App) -> String {
    let mut s = String::new();
    if app.logs.timestamps {
        match e.ts {
            Some(ts) => s.push_str(&log_time(ts, &app.opts.tz)),
            None => s.push_str("            "),
        }
        s.push(' ');
    }
    if app.logs.source == LogSource::AllPods {
        s.push_str(&sanitize(&e.pod));
        s.push(' ');
    }
    s
}

/// Splits `text` into pieces of at most `width` characters.
fn wrap_chars(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars.chunks(width).map(|c| c.iter().collect()).collect()
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let p = &app.palette;
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    frame.render_widget(Paragraph::new(header(app)), head);
    let height = usize::from(body.height);
    let width = usize::from(body.width);
    // Nothing followed and nothing kept: no endpoint. (A frozen view whose endpoint is missing
    // from this snapshot keeps showing what the reader was reading.)
    if app.logs.following.is_none() && app.logs.buf.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no endpoint selected", p.muted)),
            body,
        );
        return;
    }
    let pod = match &app.logs.source {
        LogSource::AllPods => None,
        LogSource::Pod(p) => Some(p.as_str()),
    };
    let mut rows: Vec<Line> = Vec::with_capacity(height);
    let entries = app
        .logs
        .buf
        .visible_rev(pod, &app.logs.filter)
        .skip(app.logs.scroll);
    for e in entries {
        if rows.len() >= height {
            break;
        }
        let pre = prefix(e, app);
        let full = format!("{pre}{}", e.text);
        let pieces = if app.logs.wrap {
            wrap_chars(&full, width)
        } else {
            vec![full]
        };
        // Newest first: push the pieces of one line in reverse, flip everything at the end.
        for (i, piece) in pieces.into_iter().enumerate().rev() {
            let style = if i == 0 && !pre.is_empty() {
                None
            } else {
                Some(p.base)
            };
            let line = match style {
                None => {
                    let mut n = pre.len().min(piece.len());
                    if !piece.is_char_boundary(n) {
                        n = piece.len();
                    }
                    let (a, b) = piece.split_at(n);
                    Line::from(vec![
                        Span::styled(a.to_string(), p.muted),
                        Span::raw(b.to_string()),
                    ])
                }
                Some(s) => Line::styled(piece, s),
            };
            rows.push(line);
        }
    }
    if rows.is_empty() {
        let text = if app.logs.filter.is_empty() {
            "no log lines yet"
        } else {
            "no line matches the filter"
        };
        rows.push(Line::styled(text, p.muted));
    }
    rows.truncate(height);
    rows.reverse();
    frame.render_widget(Paragraph::new(rows), body);
}

#[cfg(test)]
mod tests {
    #[test]
    fn wraps_by_characters() {
        assert_eq!(super::wrap_chars("abcdef", 4), ["abcd", "ef"]);
        assert_eq!(super::wrap_chars("", 4), [""]);
    }
}
