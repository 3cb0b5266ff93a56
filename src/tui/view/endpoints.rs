//! The endpoint table: name, namespace, kind, status, ready/desired, age, lease marker.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use crate::cluster::model::{EndpointView, Health, Mode};

use super::super::app::{App, Pane};
use super::super::fmt::age;
use super::super::style::{health_symbol, health_word};
use super::super::table::visible_offset;
use super::super::text::sanitize;
use super::{pane_block, terminating_style, terminating_text, title};

const WIDTHS: [Constraint; 7] = [
    Constraint::Length(1),
    Constraint::Fill(3),
    Constraint::Fill(2),
    Constraint::Length(6),
    Constraint::Fill(3),
    Constraint::Length(5),
    Constraint::Length(6),
];

/// The STATUS cell: symbol and word, and for a Terminating endpoint how long (and `⚠ stuck`).
fn status_cell<'a>(e: &EndpointView, app: &App) -> Cell<'a> {
    let p = &app.palette;
    if e.health == Health::Terminating
        && let Some(t) = &e.oldest_terminating
    {
        let (_, stuck) = terminating_text(t, app);
        let secs = app.now.as_second() - t.since.as_second();
        let for_how_long = super::super::fmt::elapsed_secs(secs);
        let text = if stuck {
            format!("⚠ Terminating {for_how_long} stuck")
        } else {
            format!("⊘ Terminating {for_how_long}")
        };
        return Cell::from(text).style(terminating_style(p, stuck));
    }
    let text = format!("{} {}", health_symbol(e.health), health_word(e.health));
    Cell::from(text).style(p.health(e.health))
}

fn row<'a>(e: &'a EndpointView, app: &App) -> Row<'a> {
    let p = &app.palette;
    let lease = match &e.lease {
        Some(l) if l.live => Span::styled("⟳", p.accent),
        _ => Span::raw(" "),
    };
    let kind = match e.key.mode {
        Mode::Kserve => "KServe",
        Mode::Raw => "raw",
    };
    let ready_style = if e.ready < e.desired { p.warn } else { p.base };
    Row::new(vec![
        Cell::from(lease),
        Cell::from(sanitize(&e.key.name)),
        Cell::from(sanitize(&e.key.namespace)),
        Cell::from(kind),
        status_cell(e, app),
        Cell::from(format!("{}/{}", e.ready, e.desired)).style(ready_style),
        Cell::from(age(e.created, app.now)),
    ])
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
            let r = row(e, app);
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
    let header =
        Row::new(["", "NAME", "NAMESPACE", "KIND", "STATUS", "READY", "AGE"]).style(p.header);
    let table = Table::new(rows, WIDTHS).header(header).column_spacing(1);
    frame.render_widget(table, inner);
}
