//! The selected endpoint's resources as a tree: InferenceService -> Deployment -> ReplicaSet ->
//! Pods, and Service, HPA, Ingress, with status and age. A Terminating object takes two lines:
//! `⚠ stuck · Terminating 12m3s`, then the finalizers holding it and its grace period, so the
//! reason is never cut off by a narrow column.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Text};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::super::app::{App, Pane};
use super::super::fmt::age;
use super::super::style::{health_symbol, health_word};
use super::super::text::sanitize;
use super::super::tree::TreeRow;
use super::columns::{self, Col};
use super::{pane_block, terminating_parts, terminating_style, title};

/// Lines a row takes: two for a Terminating object held by finalizers or a grace period.
pub fn row_height(r: &TreeRow) -> usize {
    match &r.terminating {
        Some(t) if !t.finalizers.is_empty() || t.grace_period_seconds.is_some() => 2,
        _ => 1,
    }
}

/// The first row to show so the selected row fits in `height` lines, moving as little as
/// possible from `offset`.
pub fn visible_offset(rows: &[TreeRow], offset: usize, selected: usize, height: usize) -> usize {
    let selected = selected.min(rows.len().saturating_sub(1));
    let mut o = offset.min(selected);
    while o < selected && rows[o..=selected].iter().map(row_height).sum::<usize>() > height.max(1) {
        o += 1;
    }
    o
}

/// `├─ pod/NAME` in `width` cells: the tree glyphs and the kind stay, the name is shortened in
/// the middle so its unique suffix shows.
pub fn object_text(r: &TreeRow, width: usize) -> String {
    let lead = format!("{}{}/", r.prefix, r.kind.short());
    let name = sanitize(&r.name);
    let room = width.saturating_sub(columns::cells(&lead));
    if room >= 6.min(columns::cells(&name)) {
        format!("{lead}{}", columns::middle(&name, room))
    } else {
        columns::middle(&format!("{lead}{name}"), width)
    }
}

/// The status lines of a row: the head (symbol and summary, or `⚠ stuck · Terminating 12m3s`)
/// and, for a Terminating object, what holds it.
fn status_lines(r: &TreeRow, app: &App) -> (String, Option<String>) {
    match &r.terminating {
        Some(t) => {
            let (head, tail, _) = terminating_parts(t, app);
            let prefix = super::stale::status_prefix(app);
            (
                format!("{prefix}{head}"),
                (!tail.is_empty()).then(|| format!("  {tail}")),
            )
        }
        None => {
            let what = if r.summary.is_empty() {
                health_word(r.health).to_string()
            } else {
                sanitize(&r.summary).into_owned()
            };
            let prefix = super::stale::status_prefix(app);
            (format!("{prefix}{} {what}", health_symbol(r.health)), None)
        }
    }
}

/// The most STATUS asks for before the object gets the rest: `⚠ stuck · Terminating 47m12s`
/// and `  example.com/stuck-volume-cleanup`.
const STATUS_MAX_MIN: usize = 36;

/// Widths of OBJECT, STATUS and AGE (None: not shown) in `width` cells. The object (and in it
/// the name's suffix) comes first, then enough status to read a Terminating row's head (or the
/// start of a summary); age goes first.
pub fn column_widths(app: &App, rows: &[TreeRow], width: u16) -> Vec<Option<usize>> {
    let object = rows
        .iter()
        .map(|r| columns::cells(&object_text(r, usize::MAX)))
        .max()
        .unwrap_or(0)
        .max(6);
    let lead = rows
        .iter()
        .map(|r| columns::cells(&r.prefix) + r.kind.short().len() + 1)
        .max()
        .unwrap_or(0);
    let (mut status_min, mut status_want) = (6, 6);
    for r in rows {
        let (head, tail) = status_lines(r, app);
        let head_w = columns::cells(&head);
        let tail_w = tail.as_deref().map_or(0, columns::cells);
        // A Terminating row's head and the finalizer holding it matter; of a summary the start.
        let essential = if r.terminating.is_some() {
            head_w.max(tail_w.min(STATUS_MAX_MIN))
        } else {
            head_w.min(14)
        };
        status_min = status_min.max(essential.min(STATUS_MAX_MIN));
        status_want = status_want.max(head_w).max(tail_w);
    }
    let age_w = rows
        .iter()
        .map(|r| age(r.created, app.now).len())
        .max()
        .unwrap_or(0)
        .max(5);
    let cols = [
        Col::kept(lead + 16, object),
        Col::kept(status_min, status_want).filling(1),
        Col::optional(age_w),
    ];
    columns::fit(&cols, &[0, 1, 2], usize::from(width), 1)
}

fn row<'a>(r: &TreeRow, app: &App, widths: &[Option<usize>]) -> Row<'a> {
    let p = &app.palette;
    let w = |i: usize| widths.get(i).copied().flatten();
    let mut cells = Vec::with_capacity(3);
    if let Some(width) = w(0) {
        cells.push(Cell::from(object_text(r, width)));
    }
    if let Some(width) = w(1) {
        let (head, tail) = status_lines(r, app);
        let head = columns::status(&head, width);
        cells.push(match &r.terminating {
            Some(t) => {
                let (_, _, stuck) = terminating_parts(t, app);
                let style = terminating_style(p, stuck);
                let mut lines = vec![Line::styled(head, style)];
                if let Some(tail) = tail {
                    lines.push(Line::styled(tail, style));
                }
                Cell::from(Text::from(lines))
            }
            None => Cell::from(head).style(p.health(r.health)),
        });
    }
    if w(2).is_some() {
        cells.push(Cell::from(age(r.created, app.now)));
    }
    Row::new(cells).height(u16::try_from(row_height(r)).unwrap_or(1))
}

/// `✗ lease expired (holder gone?): redeploy by H at step S, renewed 13m ago` for the selected
/// endpoint whose operation's holder stopped renewing its lease: the objects' real state is
/// below it.
fn expired_lease_line(app: &App) -> Option<String> {
    let e = app.selected_endpoint()?;
    let l = e.lease.as_ref().filter(|l| l.expired())?;
    let text = crate::cluster::derive::expired_reason(l, app.now);
    Some(format!("✗ {}", sanitize(&text)))
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let p = &app.palette;
    let tree = &app.tree;
    let extra = app
        .selected_endpoint()
        .map(|e| format!("{}/{}", sanitize(&e.key.namespace), sanitize(&e.key.name)))
        .unwrap_or_default()
        + &super::stale::title_note(app);
    let block = pane_block(app, Pane::Resources, title(p, "Resources", extra));
    let mut inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(line) = expired_lease_line(app)
        && inner.height > 1
    {
        let top = Rect { height: 1, ..inner };
        frame.render_widget(Paragraph::new(Line::styled(line, p.warn)), top);
        inner.y += 1;
        inner.height -= 1;
    }
    if tree.rows.is_empty() {
        let text = if app.selected_endpoint().is_some() {
            "no resources"
        } else {
            "no endpoint selected"
        };
        frame.render_widget(Paragraph::new(Line::styled(text, p.muted)), inner);
        return;
    }
    let height = usize::from(inner.height.saturating_sub(1));
    let offset = visible_offset(&tree.rows, tree.offset, tree.selected, height);
    let focused = app.focus() == Pane::Resources;
    let widths = column_widths(app, &tree.rows, inner.width);
    let mut used = 0;
    let rows: Vec<Row> = tree
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take_while(|(_, r)| {
            used += row_height(r);
            used <= height
        })
        .map(|(i, r)| {
            let row = row(r, app, &widths);
            if i == tree.selected {
                row.style(if focused {
                    p.selection
                } else {
                    p.selection_dim
                })
            } else {
                row
            }
        })
        .collect();
    let header: Vec<String> = ["OBJECT", "STATUS", "AGE"]
        .iter()
        .zip(&widths)
        .filter_map(|(h, w)| w.map(|w| columns::end(h, w)))
        .collect();
    let header = Row::new(header).style(p.header);
    let widths: Vec<Constraint> = widths
        .iter()
        .flatten()
        .map(|w| Constraint::Length(u16::try_from(*w).unwrap_or(u16::MAX)))
        .collect();
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
    super::stale::dim(frame, app, inner);
}
