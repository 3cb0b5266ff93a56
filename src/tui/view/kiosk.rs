//! Kiosk: every endpoint as a large status tile, the selection cycling on its own, a clock and
//! when the data was last confirmed current (a list, a watch event or a bookmark), and a loud
//! banner (STALE, LISTING, NOT CONNECTED) over the last good data while it is not current.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};

use crate::cluster::model::{EndpointView, Health};

use super::super::app::App;
use super::super::fmt::{clock, elapsed_secs};
use super::super::style::{health_symbol, health_word};
use super::super::text::sanitize;
use super::status::{message_span, watch_summary};
use super::{columns, resources, terminating_parts, terminating_style};

const TILE_WIDTH: u16 = 34;
const TILE_HEIGHT: u16 = 7;

/// Tiles per row and rows of tiles that fit in `area`.
pub fn grid(area: Rect) -> (usize, usize) {
    let cols = usize::from((area.width / TILE_WIDTH).max(1));
    let rows = usize::from((area.height / TILE_HEIGHT).max(1));
    (cols, rows)
}

fn tile(frame: &mut Frame, app: &App, e: &EndpointView, selected: bool, area: Rect) {
    let p = &app.palette;
    let hs = p.health(e.health);
    let (border, kind) = if selected {
        (p.selection, BorderType::Thick)
    } else {
        (hs, BorderType::Rounded)
    };
    let marker = if selected { "▶ " } else { "" };
    // Borders, the spaces around the title and the marker; the name keeps its end.
    let room = usize::from(area.width).saturating_sub(4 + columns::cells(marker));
    let name = columns::middle(&sanitize(&e.key.name), room);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_type(kind)
        .border_style(border)
        .title(Span::styled(
            format!(" {marker}{name} "),
            if selected { p.selection } else { p.title },
        ));
    let mode = e.key.mode.as_str();
    let word = format!(
        "{} {}",
        health_symbol(e.health),
        health_word(e.health).to_uppercase()
    );
    let ns_room = usize::from(area.width).saturating_sub(2 + 3 + mode.len());
    let ns = columns::middle(&sanitize(&e.key.namespace), ns_room);
    let mut lines = vec![
        Line::styled(format!("{ns} · {mode}"), p.muted),
        Line::styled(word, hs.add_modifier(Modifier::BOLD)),
        Line::raw(format!("ready {}/{}", e.ready, e.desired)),
    ];
    if let (Health::Terminating, Some(t)) = (e.health, &e.oldest_terminating) {
        let (head, tail, stuck) = terminating_parts(t, app);
        let style = terminating_style(p, stuck);
        lines.push(Line::styled(head, style));
        lines.push(Line::styled(tail, style));
        if e.lease.as_ref().is_some_and(|l| l.expired()) {
            let text = format!("✗ {}", crate::cluster::derive::LEASE_EXPIRED);
            lines.push(Line::styled(text, p.warn));
        }
    } else if let Some(l) = e.lease.as_ref().filter(|l| l.live) {
        lines.push(Line::styled(
            format!("⟳ lease {}", sanitize(&l.holder)),
            p.accent,
        ));
        if let Some(step) = &l.step {
            lines.push(Line::styled(format!("  step {}", sanitize(step)), p.accent));
        }
    } else {
        lines.extend(
            e.reasons
                .iter()
                .take(2)
                .map(|r| Line::styled(sanitize(r).into_owned(), p.warn)),
        );
    }
    frame.render_widget(Paragraph::new(lines).block(block).style(p.base), area);
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let p = &app.palette;
    // The header keeps the short summary; the banner below says what is wrong in full.
    let (watch_text, watch_bad) = watch_summary(app);
    let loud = super::stale::kiosk_banner(app);
    let banner =
        loud.is_some() || watch_bad && !app.watches.is_empty() || app.last_update.is_none();
    let [head, banner_area, body, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(banner)),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let updated = super::stale::kiosk_confirmed(app).unwrap_or_else(|| {
        app.last_update.map_or_else(
            || "no data yet".to_string(),
            |t| {
                format!(
                    "updated {} ago",
                    elapsed_secs(app.now.as_second() - t.as_second())
                )
            },
        )
    });
    let ns = app
        .opts
        .namespace
        .as_deref()
        .map_or_else(|| "all".to_string(), |n| sanitize(n).into_owned());
    let head_line = Line::from(vec![
        Span::styled(" LLMOPS CONSOLE ", p.title),
        Span::styled(
            format!("ctx:{} · ns:{ns} · ", sanitize(&app.opts.context)),
            p.accent,
        ),
        Span::styled(
            clock(app.now, &app.opts.tz),
            p.title.add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(" · {updated} · ")),
        Span::styled(watch_text.clone(), if watch_bad { p.warn } else { p.ok }),
        Span::styled(" · KIOSK READ-ONLY", p.muted.add_modifier(Modifier::BOLD)),
    ]);
    frame.render_widget(Paragraph::new(head_line), head);
    if banner {
        let text = if let Some(loud) = loud {
            loud
        } else if app.last_update.is_none() {
            " CONNECTING · waiting for the first data from the cluster ".to_string()
        } else {
            format!(" RECONNECTING · {watch_text} · showing the last data, {updated} ")
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, p.error.add_modifier(Modifier::REVERSED))),
            banner_area,
        );
    }
    let rows = &app.table.rows;
    // Tiles on top; below them, when there is room, the cycled endpoint's resource tree.
    let cols = grid(body).0;
    let needed = u16::try_from(rows.len().div_ceil(cols).max(1))
        .unwrap_or(u16::MAX)
        .saturating_mul(TILE_HEIGHT);
    let tiles_h = if body.height >= needed + 6 {
        needed
    } else {
        needed.min((body.height * 3 / 5 / TILE_HEIGHT).max(1) * TILE_HEIGHT)
    };
    let (body, tree_area) = if body.height >= tiles_h + 6 {
        let [t, r] =
            Layout::vertical([Constraint::Length(tiles_h), Constraint::Min(0)]).areas(body);
        (t, Some(r))
    } else {
        (body, None)
    };
    if let Some(r) = tree_area {
        resources::draw(frame, app, r);
    }
    let (cols, grid_rows) = grid(body);
    let per_page = cols * grid_rows;
    let page = app.table.selected / per_page.max(1);
    let first = page * per_page;
    let tile_w = body.width / u16::try_from(cols).unwrap_or(1).max(1);
    for (slot, (i, &ix)) in rows
        .iter()
        .enumerate()
        .skip(first)
        .take(per_page)
        .enumerate()
    {
        let Some(e) = app.endpoints.get(ix) else {
            continue;
        };
        let (c, r) = (slot % cols, slot / cols);
        let x = body.x + u16::try_from(c).unwrap_or(0) * tile_w;
        let y = body.y + u16::try_from(r).unwrap_or(0) * TILE_HEIGHT;
        let rect = Rect::new(x, y, tile_w, TILE_HEIGHT).intersection(body);
        tile(frame, app, e, i == app.table.selected, rect);
    }
    super::stale::dim(frame, app, body);
    let count = |h: Health| app.endpoints.iter().filter(|e| e.health == h).count();
    let shown_to = (first + per_page).min(rows.len());
    let mut foot_line = Line::from(vec![Span::styled(
        format!(
            " tiles {}–{} of {} · cycling every {}s · {} Failed · {} Terminating · {} Degraded · {} Ready",
            if rows.is_empty() { 0 } else { first + 1 },
            shown_to,
            rows.len(),
            app.opts.settings.kiosk.cycle_every.as_secs(),
            count(Health::Failed),
            count(Health::Terminating),
            count(Health::Degraded),
            count(Health::Ready),
        ),
        p.muted,
    )]);
    // A key pressed at the ops-room screen (a refused action, "no prompts") gets its answer here.
    if let Some(m) = message_span(app) {
        foot_line.push_span(Span::styled(" · ", p.muted));
        foot_line.push_span(m);
    }
    frame.render_widget(Paragraph::new(foot_line), foot);
}
