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

fn row<'a>(r: &TreeRow, app: &App) -> Row<'a> {
    let p = &app.palette;
    let object = format!("{}{}/{}", r.prefix, r.kind.short(), sanitize(&r.name));
    let status = match &r.terminating {
        Some(t) => {
            let (head, tail, stuck) = terminating_parts(t, app);
            let style = terminating_style(p, stuck);
            let mut lines = vec![Line::styled(head, style)];
            if !tail.is_empty() {
                lines.push(Line::styled(format!("  {tail}"), style));
            }
            Cell::from(Text::from(lines))
        }
        None => {
            let what = if r.summary.is_empty() {
                health_word(r.health).to_string()
            } else {
                sanitize(&r.summary).into_owned()
            };
            Cell::from(format!("{} {what}", health_symbol(r.health))).style(p.health(r.health))
        }
    };
    Row::new(vec![
        Cell::from(object),
        status,
        Cell::from(age(r.created, app.now)),
    ])
    .height(u16::try_from(row_height(r)).unwrap_or(1))
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
        .unwrap_or_default();
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
            let row = row(r, app);
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
    // The object column as wide as its longest entry, but at most half the pane.
    let longest = tree
        .rows
        .iter()
        .map(|r| r.prefix.chars().count() + r.kind.short().len() + 1 + r.name.chars().count())
        .max()
        .unwrap_or(6);
    let object_w = u16::try_from(longest)
        .unwrap_or(u16::MAX)
        .min(inner.width / 2)
        .max(6);
    let widths = [
        Constraint::Length(object_w),
        Constraint::Fill(1),
        Constraint::Length(5),
    ];
    let header = Row::new(["OBJECT", "STATUS", "AGE"]).style(p.header);
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
}
