//! The confirmation dialog of a destructive operation: what it deletes (the resource tree, with
//! Terminating objects and finalizers marked), what a redeploy creates again and the spec changes
//! from `$EDITOR`, then the name to type. Names from the view are sanitised here.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use crate::cluster::model::{EndpointView, Kind, Mode, ResourceNode};
use crate::orchestrator::RecoverMode;
use crate::orchestrator::progress::OpKind;

use super::super::app::App;
use super::super::confirm::{Confirm, affected, recreated};
use super::super::ops::UnfinishedOp;
use super::super::text::sanitize;
use super::super::tree::{TreeRow, flatten};
use super::layout::centered;
use super::operation::wrap;
use super::{terminating_style, terminating_text};

fn section(app: &App, name: &str) -> Line<'static> {
    Line::styled(name.to_string(), app.palette.header)
}

/// One object of the tree; what holds it (Terminating, finalizers) goes on the same line when
/// it fits, else on its own line below, so it is never cut off.
fn tree_lines(app: &App, r: &TreeRow, width: usize) -> Vec<Line<'static>> {
    let p = &app.palette;
    let head = format!("  {}{}/{}", r.prefix, r.kind.short(), sanitize(&r.name));
    let (tail, style) = match &r.terminating {
        Some(t) => {
            let (text, stuck) = terminating_text(t, app);
            (text, terminating_style(p, stuck))
        }
        None if !r.finalizers.is_empty() => {
            let fins: Vec<_> = r.finalizers.iter().map(|f| sanitize(f)).collect();
            (format!("finalizers: {}", fins.join(", ")), p.warn)
        }
        None => return vec![Line::raw(head)],
    };
    if head.chars().count() + 2 + tail.chars().count() <= width {
        return vec![Line::from(vec![
            Span::raw(head),
            Span::styled(format!("  {tail}"), style),
        ])];
    }
    // Continue the tree's vertical lines under the name.
    let under: String = r
        .prefix
        .chars()
        .map(|c| if c == '│' || c == '├' { '│' } else { ' ' })
        .collect();
    vec![
        Line::raw(head),
        Line::styled(format!("  {under}   {tail}"), style),
    ]
}

fn intro(c: &Confirm) -> &'static str {
    match (c.kind, c.target.is_some()) {
        (OpKind::Redeploy, _) => {
            "Backs up every resource (local journal and a ConfigMap), deletes them, verifies by watch \
             that each is gone, then creates the endpoint again and waits until it is ready. \
             On a failure after deletion it restores the backup."
        }
        (OpKind::ForceDelete, false) => {
            "Deletes every resource of the endpoint with grace period 0: pods stop at once, \
             without a clean shutdown. Nothing is recreated (the local journal keeps the \
             removed manifests for the record)."
        }
        (OpKind::ForceDelete, true) => {
            "Deletes this object with grace period 0 (a pod stops at once, without a clean \
             shutdown). Its controller may create a replacement."
        }
        (OpKind::StripFinalizers, _) => {
            "Removes the finalizers, so objects already Terminating go at once: whatever a \
             finalizer was waiting for (volume cleanup, a controller's teardown) is skipped."
        }
    }
}

fn recreated_line(view: &EndpointView, n: &ResourceNode) -> String {
    let mut s = format!("  {} {}", n.kind.name(), sanitize(&n.name));
    if n.kind == Kind::InferenceService && view.key.mode == Mode::Kserve {
        s.push_str(" (its Deployment, Service, HPA and Ingress come back from its controller)");
    }
    s
}

/// The redeploy dialog of an endpoint with an unfinished operation: what it is, and the two
/// ways on (Tab switches); a new redeploy is not one of them, its backup would refuse it.
fn unfinished_body(app: &App, c: &Confirm, u: &UnfinishedOp, width: usize) -> Vec<Line<'static>> {
    let p = &app.palette;
    let head = format!(
        "Operation {} of {} ({} at {}, {}, found in {}) did not finish on this endpoint. Its \
         backup holds the endpoint: a new redeploy would be refused until it is continued or \
         rolled back.",
        sanitize(&u.op_id),
        sanitize(&u.holder),
        u.kind.name(),
        u.step,
        u.state.name(),
        sanitize(&u.found_in)
    );
    let mut out: Vec<Line<'static>> = wrap(&head, width, " ").into_iter().map(Line::raw).collect();
    out.push(section(app, " What to do (tab switches):"));
    let choices = [
        (
            RecoverMode::Resume,
            "continue it (resume): delete what is left of the old objects, create the spec it \
             decided, wait until ready; stuck finalizers are asked about",
        ),
        (
            RecoverMode::Rollback,
            "roll it back: recreate the endpoint from its backup, as it was before",
        ),
    ];
    for (mode, text) in choices {
        let on = c.recover_mode == mode;
        let mark = if on { "(•)" } else { "( )" };
        let style = if on { p.title } else { p.muted };
        for (i, l) in wrap(text, width.saturating_sub(6), "")
            .into_iter()
            .enumerate()
        {
            let lead = if i == 0 {
                format!("  {mark} ")
            } else {
                "      ".to_string()
            };
            out.push(Line::styled(format!("{lead}{l}"), style));
        }
    }
    let flag = c.recover_flag();
    if !u.trusted() {
        out.push(Line::styled(
            " Found only in the cluster (unverified): anyone who may write ConfigMaps could have \
             written it. Review its plan in a shell; the console does not run it."
                .to_string(),
            p.warn,
        ));
    }
    out.push(Line::styled(
        format!(
            " Same as: llmops-console recover {} {flag}",
            sanitize(&u.op_id)
        ),
        p.muted,
    ));
    out
}

/// The dialog's scrolling body.
pub fn body(app: &App, c: &Confirm, width: usize) -> Vec<Line<'static>> {
    if let Some(u) = &c.unfinished {
        return unfinished_body(app, c, u, width);
    }
    let p = &app.palette;
    let mut out: Vec<Line<'static>> = wrap(intro(c), width, " ")
        .into_iter()
        .map(Line::raw)
        .collect();
    let Some(view) = app.endpoints.iter().find(|e| e.key == c.endpoint) else {
        out.push(Line::styled(
            " the endpoint is no longer in the console's view; the engine will look it up",
            p.warn,
        ));
        return out;
    };
    let roots: Vec<ResourceNode> = affected(c, view).into_iter().cloned().collect();
    let rows = flatten(&roots);
    if c.kind == OpKind::StripFinalizers {
        out.push(section(app, " Finalizers removed from:"));
        let held: Vec<&TreeRow> = rows.iter().filter(|r| !r.finalizers.is_empty()).collect();
        if held.is_empty() {
            out.push(Line::styled(
                "  no object has finalizers: nothing to strip",
                p.muted,
            ));
        }
        out.extend(held.into_iter().flat_map(|r| tree_lines(app, r, width)));
    } else {
        out.push(section(app, " Deleted:"));
        if rows.is_empty() {
            out.push(Line::styled("  nothing (the object is gone)", p.muted));
        }
        out.extend(rows.iter().flat_map(|r| tree_lines(app, r, width)));
    }
    if c.kind == OpKind::Redeploy {
        out.push(section(app, " Recreated from the backup:"));
        out.extend(
            recreated(view)
                .into_iter()
                .map(|n| Line::raw(recreated_line(view, n))),
        );
        if c.edited.is_some() {
            out.push(section(app, " Spec changes (edited in $EDITOR):"));
            if c.diff.is_empty() {
                out.push(Line::styled("  none", p.muted));
            }
            // Change lines are sanitised where they are made (`manifest::Change`'s Display).
            out.extend(
                c.diff
                    .iter()
                    .map(|d| Line::styled(format!("  ~ {d}"), p.accent)),
            );
        } else {
            out.push(Line::styled(
                "  with the spec as it is now (e edits it first)",
                p.muted,
            ));
        }
        out.push(Line::raw(
            " Objects stuck on finalizers: you are asked before they are stripped.",
        ));
    }
    if c.kind == OpKind::ForceDelete {
        let mark = if c.strip_too { "[x]" } else { "[ ]" };
        let off = if c.strip_too {
            ""
        } else {
            "; off: you are asked if something will not go"
        };
        out.push(Line::from(vec![
            Span::styled(format!(" {mark} also strip finalizers"), p.title),
            Span::styled(format!("  (tab toggles{off})"), p.muted),
        ]));
    }
    if let Some(l) = view.lease.as_ref().filter(|l| l.live) {
        let step = l
            .step
            .as_deref()
            .map(|s| format!(" at {}", sanitize(s)))
            .unwrap_or_default();
        out.push(Line::styled(
            format!(
                " ⚠ lease held by {}{step}: the engine refuses while it is held",
                sanitize(&l.holder)
            ),
            p.warn.add_modifier(Modifier::BOLD),
        ));
    }
    out
}

fn title(c: &Confirm) -> String {
    let ep = format!(
        "{}/{}",
        sanitize(&c.endpoint.namespace),
        sanitize(&c.endpoint.name)
    );
    if c.unfinished.is_some() {
        return format!(" Unfinished operation on {ep} ");
    }
    match &c.target {
        Some(t) => format!(
            " {} {}/{} of {ep} ",
            c.verb(),
            t.kind.short(),
            sanitize(&t.name)
        ),
        None => format!(" {} {ep} ", c.verb()),
    }
}

pub fn draw(frame: &mut Frame, app: &App, c: &Confirm, area: Rect) {
    let p = &app.palette;
    let width = area.width.saturating_sub(4).min(110);
    let inner_w = usize::from(width.saturating_sub(2));
    let lines = body(app, c, inner_w);
    let want = u16::try_from(lines.len() + 6).unwrap_or(u16::MAX);
    let popup = centered(area, width, want.min(area.height.saturating_sub(2)));
    let block = Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(p.error)
        .title(Span::styled(title(c), p.error))
        .style(p.base);
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    let [body_area, foot] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(3)]).areas(inner);
    let max_scroll = lines.len().saturating_sub(usize::from(body_area.height));
    let scroll = u16::try_from(c.scroll.min(max_scroll)).unwrap_or(0);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), body_area);
    let name = sanitize(&c.endpoint.name).into_owned();
    let typed_style = if c.matches() {
        p.ok.add_modifier(Modifier::BOLD)
    } else if c.endpoint.name.starts_with(&c.typed) {
        p.title
    } else {
        p.error
    };
    let more = if max_scroll > 0 {
        " · ↑↓ scroll"
    } else {
        ""
    };
    let foot_lines = vec![
        Line::from(vec![
            Span::raw(" Type the endpoint's name to confirm: "),
            Span::styled(name, p.title),
        ]),
        Line::from(vec![
            Span::styled(" > ", p.accent),
            Span::styled(format!("{}█", sanitize(&c.typed)), typed_style),
        ]),
        match &c.wrong {
            // Enter with a wrong name: said where the operator is looking.
            Some(wrong) => Line::styled(format!(" {wrong}"), p.error),
            None => Line::styled(
                format!(
                    " enter: {} · esc: cancel, nothing is done{more}",
                    if c.unfinished.is_some() {
                        c.recover_words()
                    } else {
                        c.kind.name()
                    }
                ),
                p.muted,
            ),
        },
    ];
    frame.render_widget(Paragraph::new(foot_lines), foot);
}
