//! The selected endpoint's resources as a tree: InferenceService -> Deployment -> ReplicaSet ->
//! Pods, and Service, HPA, Ingress, with status, age, and for Terminating objects how long, the
//! finalizers holding them and the grace period.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::super::app::{App, Pane};
use super::super::fmt::age;
use super::super::style::{health_symbol, health_word};
use super::super::table::visible_offset;
use super::super::text::sanitize;
use super::super::tree::TreeRow;
use super::{pane_block, terminating_style, terminating_text, title};

fn row<'a>(r: &TreeRow, app: &App) -> Row<'a> {
    let p = &app.palette;
    let object = format!("{}{}/{}", r.prefix, r.kind.short(), sanitize(&r.name));
    let status = match &r.terminating {
        Some(t) => {
            let (text, stuck) = terminating_text(t, app);
            let text = if stuck { text } else { format!("⊘ {text}") };
            Cell::from(text).style(terminating_style(p, stuck))
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
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let p = &app.palette;
    let tree = &app.tree;
    let extra = app
        .selected_endpoint()
        .map(|e| format!("{}/{}", sanitize(&e.key.namespace), sanitize(&e.key.name)))
        .unwrap_or_default();
    let block = pane_block(app, Pane::Resources, title(p, "Resources", extra));
    let inner = block.inner(area);
    frame.render_widget(block, area);
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
    let offset = visible_offset(tree.offset, tree.selected, tree.rows.len(), height);
    let focused = app.focus() == Pane::Resources;
    let rows: Vec<Row> = tree
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
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
    let widths = [
        Constraint::Fill(4),
        Constraint::Fill(5),
        Constraint::Length(6),
    ];
    let header = Row::new(["OBJECT", "STATUS", "AGE"]).style(p.header);
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
}
