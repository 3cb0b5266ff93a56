//! The endpoint table: name, namespace, mode, status, ready/desired, age, lease marker.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use crate::cluster::model::{EndpointView, Health};

use super::super::app::{App, Pane};
use super::super::fmt::age;
use super::super::style::{health_symbol, health_word};
use super::super::table::visible_offset;
use super::super::text::sanitize;
use super::{pane_block, terminating_parts, terminating_style, title};

/// Which optional columns fit: namespace from 60 columns, mode and age from 75.
fn columns(width: u16) -> (bool, bool) {
    (width >= 60, width >= 75)
}

fn widths(width: u16) -> Vec<Constraint> {
    let (ns, wide) = columns(width);
    let mut w = vec![Constraint::Length(1), Constraint::Fill(3)];
    if ns {
        w.push(Constraint::Fill(2));
    }
    if wide {
        w.push(Constraint::Length(6));
    }
    w.extend([Constraint::Length(20), Constraint::Length(5)]);
    if wide {
        w.push(Constraint::Length(5));
    }
    w
}

/// The STATUS cell: symbol and word, and for a Terminating endpoint how long (and `⚠ stuck`).
fn status_cell<'a>(e: &EndpointView, app: &App) -> Cell<'a> {
    let p = &app.palette;
    if e.health == Health::Terminating
        && let Some(t) = &e.oldest_terminating
    {
        let (_, _, stuck) = terminating_parts(t, app);
        let secs = app.now.as_second() - t.since.as_second();
        let for_how_long = super::super::fmt::elapsed_secs(secs);
        let text = if stuck {
            format!("⚠ Terminating {for_how_long}")
        } else {
            format!("⊘ Terminating {for_how_long}")
        };
        return Cell::from(text).style(terminating_style(p, stuck));
    }
    if super::super::ops::is_unfinished_row(e) {
        return Cell::from("⚠ Unfinished").style(p.error);
    }
    let text = format!("{} {}", health_symbol(e.health), health_word(e.health));
    Cell::from(text).style(p.health(e.health))
}

fn row<'a>(e: &'a EndpointView, app: &App, width: u16) -> Row<'a> {
    let p = &app.palette;
    let lease = match &e.lease {
        Some(l) if l.live => Span::styled("⟳", p.accent),
        // The holder stopped renewing: the Resources pane says "lease expired (holder gone?)".
        Some(l) if l.expired() => Span::styled("✗", p.warn),
        _ => Span::raw(" "),
    };
    let kind = e.key.mode.as_str();
    let ready_style = if e.ready < e.desired { p.warn } else { p.base };
    let (ns, wide) = columns(width);
    let mut cells = vec![Cell::from(lease), Cell::from(sanitize(&e.key.name))];
    if ns {
        cells.push(Cell::from(sanitize(&e.key.namespace)));
    }
    if wide {
        cells.push(Cell::from(kind));
    }
    cells.push(status_cell(e, app));
    cells.push(Cell::from(format!("{}/{}", e.ready, e.desired)).style(ready_style));
    if wide {
        cells.push(Cell::from(age(e.created, app.now)));
    }
    Row::new(cells)
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let p = &app.palette;
    let t = &app.table;
    let mut extra = format!(
        "{}/{} · sort: {}",
        t.rows.len(),
        app.endpoints.len(),
        t.sort.label()
    );
    if !t.filter.is_empty() {
        extra.push_str(&format!(" · filter: {}", sanitize(&t.filter)));
    }
    let block = pane_block(app, Pane::Endpoints, title(p, "Endpoints", extra));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if t.rows.is_empty() {
        let text = if app.endpoints.is_empty() {
            match app.last_update {
                None => "waiting for the first list from the cluster…",
                Some(_) => "no endpoints in this scope",
            }
        } else {
            "no endpoint matches the filter (esc clears it)"
        };
        frame.render_widget(Paragraph::new(Line::styled(text, p.muted)), inner);
        return;
    }
    let height = usize::from(inner.height.saturating_sub(1));
    let offset = visible_offset(t.offset, t.selected, t.rows.len(), height);
    let focused = app.focus() == Pane::Endpoints || app.kiosk();
    let rows: Vec<Row> = t
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .filter_map(|(i, &ix)| {
            let e = app.endpoints.get(ix)?;
            let r = row(e, app, inner.width);
            Some(if i == t.selected {
                r.style(if focused {
                    p.selection
                } else {
                    p.selection_dim
                })
            } else {
                r
            })
        })
        .collect();
    let (ns, wide) = columns(inner.width);
    let header: Vec<&str> = ["", "NAME", "NAMESPACE", "MODE", "STATUS", "READY", "AGE"]
        .into_iter()
        .enumerate()
        .filter(|(i, _)| match i {
            2 => ns,
            3 | 6 => wide,
            _ => true,
        })
        .map(|(_, h)| h)
        .collect();
    let header = Row::new(header).style(p.header);
    let table = Table::new(rows, widths(inner.width))
        .header(header)
        .column_spacing(1);
    frame.render_widget(table, inner);
}
