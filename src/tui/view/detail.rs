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
use super::{terminating_style, terminating_text};

pub const EVENT_HEADER: &str = "LAST SEEN  TYPE     REASON                COUNT  OBJECT / MESSAGE";

/// One event as a line: age, type (Warning marked `⚠`), reason, count, object and message.
pub fn event_line(e: &EventRow, app: &App) -> Line<'static> {
    let p = &app.palette;
    let warning = e.type_ == "Warning";
    let style = if warning { p.warn } else { p.base };
    let type_ = if warning {
        "⚠ Warn".to_string()
    } else {
        sanitize(&e.type_).into_owned()
    };
    let mut what = String::new();
    if !e.object.is_empty() {
        what.push_str(&sanitize(&e.object));
        what.push_str(": ");
    }
    what.push_str(&sanitize(&e.message));
    if !e.source.is_empty() {
        what.push_str(&format!(" ({})", sanitize(&e.source)));
    }
    Line::from(vec![
        Span::styled(format!("{:<9}  ", age(e.last_seen, app.now)), p.muted),
        Span::styled(format!("{type_:<7}  "), style),
        Span::styled(format!("{:<20}  ", sanitize(&e.reason)), style),
        Span::raw(format!("{:>5}  ", e.count)),
        Span::raw(what),
    ])
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
        out.extend(d.events.iter().map(|e| event_line(e, app)));
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
