//! The endpoint table: name, namespace, mode, status, ready/desired, age, lease marker.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use crate::cluster::model::{EndpointView, Health};

use super::super::app::{App, Pane};
use super::super::fmt::age;
use super::super::style::{health_symbol, health_word};
use super::super::table::visible_offset;
use super::super::text::sanitize;
use super::columns::{self, Col};
use super::{pane_block, terminating_parts, terminating_style, title};

/// The table's columns in display order.
const HEADERS: [&str; 7] = ["", "NAME", "NAMESPACE", "MODE", "STATUS", "READY", "AGE"];
const LEASE: usize = 0;
const NAME: usize = 1;
const NAMESPACE: usize = 2;
const KIND: usize = 3;
const STATUS: usize = 4;
const READY: usize = 5;
const AGE: usize = 6;

/// Widths of the columns (None: not shown) for rows `shown` in `width` cells. The name always
/// stays; so does NAMESPACE while the endpoints span more than one namespace (it is what tells
/// `llm-prod/llama` from `llm-staging/llama`); mode and age go first, age before mode.
pub fn column_widths(app: &App, shown: &[&EndpointView], width: u16) -> Vec<Option<usize>> {
    let longest = |f: &dyn Fn(&EndpointView) -> usize, header: usize| {
        shown.iter().map(|e| f(e)).max().unwrap_or(0).max(header)
    };
    let name = longest(&|e| columns::cells(&sanitize(&e.key.name)), 4);
    let ns = longest(&|e| columns::cells(&sanitize(&e.key.namespace)), 9);
    let status = longest(&|e| columns::cells(&status_parts(e, app).0), 6);
    let ready = longest(&|e| format!("{}/{}", e.ready, e.desired).len(), 5);
    let age_w = longest(&|e| age(e.created, app.now).len(), 5);
    let first_ns = app.endpoints.first().map(|e| &e.key.namespace);
    let many_namespaces = app
        .endpoints
        .iter()
        .any(|e| Some(&e.key.namespace) != first_ns);
    let ns_col = if many_namespaces {
        Col::kept(8, ns).filling(2)
    } else {
        Col::optional(ns)
    };
    let cols = [
        Col::kept(1, 1),
        Col::kept(12, name).filling(3),
        ns_col,
        Col::optional(6),
        Col::kept(12, status),
        Col::kept(5, ready),
        Col::optional(age_w),
    ];
    let order: &[usize] = if many_namespaces {
        &[LEASE, NAME, NAMESPACE, STATUS, READY, KIND, AGE]
    } else {
        &[LEASE, NAME, STATUS, READY, KIND, AGE, NAMESPACE]
    };
    columns::fit(&cols, order, usize::from(width), 1)
}

/// The STATUS cell in `width` cells (long words shortened first, so how long stays).
fn status_cell<'a>(e: &EndpointView, app: &App, width: usize) -> Cell<'a> {
    let (text, style) = status_parts(e, app);
    Cell::from(columns::status(&text, width)).style(style)
}

/// The STATUS text and style: symbol and word, and for a Terminating endpoint how long (and
/// `⚠ stuck`).
fn status_parts(e: &EndpointView, app: &App) -> (String, Style) {
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
        return (text, terminating_style(p, stuck));
    }
    if super::super::ops::is_unfinished_row(e) {
        return ("⚠ Unfinished".to_string(), p.error);
    }
    let text = format!("{} {}", health_symbol(e.health), health_word(e.health));
    (text, p.health(e.health))
}

fn row<'a>(e: &'a EndpointView, app: &App, widths: &[Option<usize>]) -> Row<'a> {
    let p = &app.palette;
    let lease = match &e.lease {
        Some(l) if l.live => Span::styled("⟳", p.accent),
        // The holder stopped renewing: the Resources pane says "lease expired (holder gone?)".
        Some(l) if l.expired() => Span::styled("✗", p.warn),
        _ => Span::raw(" "),
    };
    let lease = super::stale::row_marker(app, lease);
    let kind = e.key.mode.as_str();
    let ready_style = if e.ready < e.desired { p.warn } else { p.base };
    let w = |i: usize| widths.get(i).copied().flatten();
    let mut cells = Vec::with_capacity(HEADERS.len());
    for (i, width) in (0..HEADERS.len()).filter_map(|i| w(i).map(|x| (i, x))) {
        cells.push(match i {
            LEASE => Cell::from(lease.clone()),
            NAME => Cell::from(columns::middle(&sanitize(&e.key.name), width)),
            NAMESPACE => Cell::from(columns::middle(&sanitize(&e.key.namespace), width)),
            KIND => Cell::from(kind),
            STATUS => status_cell(e, app, width),
            READY => Cell::from(format!("{}/{}", e.ready, e.desired)).style(ready_style),
            _ => Cell::from(age(e.created, app.now)),
        });
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
    extra.push_str(&super::stale::title_note(app));
    let block = pane_block(app, Pane::Endpoints, title(p, "Endpoints", extra));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(lines) = super::stale::not_listed(app) {
        let text = Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false });
        frame.render_widget(text, inner);
        return;
    }
    if t.rows.is_empty() {
        let listing = crate::tui::scope::listing(app);
        let text = if let Some(t) = listing.as_deref() {
            t
        } else if app.endpoints.is_empty() {
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
    let shown: Vec<&EndpointView> = t
        .rows
        .iter()
        .filter_map(|&i| app.endpoints.get(i))
        .collect();
    let widths = column_widths(app, &shown, inner.width);
    let rows: Vec<Row> = t
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .filter_map(|(i, &ix)| {
            let e = app.endpoints.get(ix)?;
            let r = row(e, app, &widths);
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
    let header: Vec<String> = HEADERS
        .iter()
        .zip(&widths)
        .filter_map(|(h, w)| w.map(|w| columns::end(h, w)))
        .collect();
    let header = Row::new(header).style(p.header);
    let constraints: Vec<Constraint> = widths
        .iter()
        .flatten()
        .map(|w| Constraint::Length(u16::try_from(*w).unwrap_or(u16::MAX)))
        .collect();
    let table = Table::new(rows, constraints)
        .header(header)
        .column_spacing(1);
    frame.render_widget(table, inner);
    super::stale::dim(frame, app, inner);
}
