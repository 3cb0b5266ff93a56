//! The selected object's detail: what the tree knows at once (kind, name, health, Terminating
//! since when and why, owners, finalizers), then its conditions, events and manifest once the
//! loop answered `LoadDetail`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::super::app::App;
use super::super::fmt::age;
use super::super::msg::EventRow;
use super::super::style::{health_symbol, health_word};
use super::super::text::sanitize;
use super::columns;
use super::{terminating_style, terminating_text};
use crate::config::keymap::Action;

pub const EVENT_HEADER: &str = "LAST SEEN  TYPE     REASON                COUNT  OBJECT / MESSAGE";

/// One event as a line in `width` cells: age, type (Warning marked `⚠`), reason, count, object
/// and message. When the line is too long the object's name is shortened in the middle (its
/// suffix tells pods apart) so some of the message still shows.
pub fn event_line(e: &EventRow, app: &App, width: usize) -> Line<'static> {
    let p = &app.palette;
    let warning = e.type_ == "Warning";
    let style = if warning { p.warn } else { p.base };
    let type_ = if warning {
        "⚠ Warn".to_string()
    } else {
        sanitize(&e.type_).into_owned()
    };
    let mut message = sanitize(&e.message).into_owned();
    if !e.source.is_empty() {
        message.push_str(&format!(" ({})", sanitize(&e.source)));
    }
    let lead = vec![
        Span::styled(format!("{:<9}  ", age(e.last_seen, app.now)), p.muted),
        Span::styled(format!("{type_:<7}  "), style),
        Span::styled(format!("{:<20}  ", sanitize(&e.reason)), style),
        Span::raw(format!("{:>5}  ", e.count)),
    ];
    let room = width.saturating_sub(lead.iter().map(Span::width).sum());
    let mut what = String::new();
    if !e.object.is_empty() {
        let object = sanitize(&e.object);
        let full = columns::cells(&object) + 2 + columns::cells(&message);
        if full > room {
            what.push_str(&columns::middle(
                &object,
                room.saturating_sub(2 + 12).max(16),
            ));
        } else {
            what.push_str(&object);
        }
        what.push_str(": ");
    }
    what.push_str(&message);
    let mut spans = lead;
    spans.push(Span::raw(what));
    Line::from(spans)
}

/// The bottom pane's inner width, where the detail and events tabs draw.
pub fn bottom_width(app: &App) -> usize {
    let size = app.size;
    let pane = super::layout::areas(ratatui::layout::Rect::new(0, 0, size.0, size.1)).bottom;
    usize::from(pane.width.saturating_sub(2))
}

/// `Name:       FULL-NAME  y copies it`: the whole name however long (continued on the next
/// lines at the pane's width), never shortened as in the panes above.
fn name_lines(app: &App, name: &str) -> Vec<Line<'static>> {
    const LABEL: &str = "Name:       ";
    let p = &app.palette;
    let room = bottom_width(app).saturating_sub(LABEL.len()).max(8);
    let name = sanitize(name);
    let mut chunks: Vec<String> = vec![String::new()];
    let mut used = 0;
    for c in name.chars() {
        let w = columns::cells(c.encode_utf8(&mut [0; 4]));
        if used + w > room {
            chunks.push(String::new());
            used = 0;
        }
        used += w;
        if let Some(last) = chunks.last_mut() {
            last.push(c);
        }
    }
    let hint = app
        .opts
        .keymap
        .keys_for(Action::CopyName)
        .first()
        .map(|k| format!("  {k} copies it"));
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let lead = if i == 0 { LABEL } else { "            " };
            let mut spans = vec![Span::raw(lead), Span::styled(chunk, p.title)];
            if i + 1 == n
                && let Some(h) = &hint
            {
                spans.push(Span::styled(h.clone(), p.muted));
            }
            Line::from(spans)
        })
        .collect()
}

fn section<'a>(app: &App, name: &'a str) -> Line<'a> {
    Line::styled(format!("── {name} ──"), app.palette.header)
}

pub fn lines(app: &App) -> Vec<Line<'static>> {
    let p = &app.palette;
    let Some(row) = app.tree.selected() else {
        return vec![Line::styled("select a resource to see its detail", p.muted)];
    };
    let mut out = vec![Line::from(vec![
        Span::styled(format!("{} ", row.kind.name()), p.header),
        Span::styled(
            format!("{}/{}", sanitize(&row.namespace), sanitize(&row.name)),
            p.title,
        ),
        Span::styled(format!("  age {}", age(row.created, app.now)), p.muted),
    ])];
    out.extend(name_lines(app, &row.name));
    let status = match &row.terminating {
        Some(t) => {
            let (text, stuck) = terminating_text(t, app);
            Span::styled(text, terminating_style(p, stuck))
        }
        None => Span::styled(
            format!(
                "{} {} · {}",
                health_symbol(row.health),
                health_word(row.health),
                sanitize(&row.summary)
            ),
            p.health(row.health),
        ),
    };
    out.push(Line::from(vec![Span::raw("Status:     "), status]));
    if let Some(t) = &row.terminating {
        out.push(Line::raw(format!(
            "Deleting:   requested at {}, deletionTimestamp {}",
            t.since, t.deletion_timestamp
        )));
    }
    let fins: Vec<_> = row.finalizers.iter().map(|f| sanitize(f)).collect();
    out.push(Line::raw(format!(
        "Finalizers: {}",
        if fins.is_empty() {
            "none".to_string()
        } else {
            fins.join(", ")
        }
    )));
    if !row.owners.is_empty() {
        let owners: Vec<_> = row.owners.iter().map(|o| sanitize(o)).collect();
        out.push(Line::raw(format!("Owners:     {}", owners.join(" ← "))));
    }
    let d = &app.detail;
    if !d.loaded {
        out.push(Line::styled(
            "loading conditions, events and manifest…",
            p.muted,
        ));
        return out;
    }
    if d.gone {
        out.push(Line::styled("the object is gone from the cluster", p.warn));
    }
    out.push(section(app, "Conditions"));
    if d.content.conditions.is_empty() {
        out.push(Line::styled("none", p.muted));
    }
    for c in &d.content.conditions {
        let style = if c.status == "True" { p.ok } else { p.warn };
        out.push(Line::from(vec![
            Span::styled(format!("{:<22} {:<7} ", c.type_, c.status), style),
            Span::raw(format!("{} {}", c.reason, c.message)),
            Span::styled(format!("  {}", c.last_transition), p.muted),
        ]));
    }
    out.push(section(app, "Events"));
    if d.events.is_empty() {
        out.push(Line::styled("none", p.muted));
    } else {
        out.push(Line::styled(EVENT_HEADER, p.header));
        let width = bottom_width(app);
        out.extend(d.events.iter().map(|e| event_line(e, app, width)));
    }
    if !d.gone {
        out.push(section(
            app,
            "Manifest (managedFields hidden, secrets redacted)",
        ));
        out.extend(d.content.manifest.iter().map(|l| Line::raw(l.clone())));
    }
    out
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let scroll = u16::try_from(app.detail.scroll).unwrap_or(u16::MAX);
    frame.render_widget(Paragraph::new(lines(app)).scroll((scroll, 0)), area);
}
