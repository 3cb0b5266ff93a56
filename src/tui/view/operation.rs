//! The operation tab: the selected endpoint's latest operation from this console. The plan's
//! steps as a timeline (state symbol and word, so colour is never the only carrier), the outcome
//! once it came, then every progress line, newest at the bottom. Progress text is sanitised by the
//! engine; endpoint and lease names from the view are sanitised here.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::orchestrator::progress::{OpKind, OpResult, Progress, StepState};

use super::super::app::App;
use super::super::fmt::{age, elapsed_secs, secs_between};
use super::super::operation::result_word;
use super::super::ops::{OpView, Phase, StepView};
use super::super::style::Palette;
use super::super::text::sanitize;

/// `0.4s`, `12.5s`, `2m05s`: operations are measured in seconds, and tenths matter early.
pub fn op_time(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

pub fn state_symbol(s: StepState) -> &'static str {
    match s {
        StepState::Pending => "·",
        StepState::Running => "▶",
        StepState::Retrying => "↻",
        StepState::Done => "✔",
        StepState::Failed => "✖",
        StepState::Skipped => "–",
        StepState::Cancelled => "⊘",
    }
}

pub fn state_style(p: &Palette, s: StepState) -> Style {
    match s {
        StepState::Pending | StepState::Skipped => p.muted,
        StepState::Running => p.accent.add_modifier(Modifier::BOLD),
        StepState::Retrying => p.warn.add_modifier(Modifier::BOLD),
        StepState::Done => p.ok,
        StepState::Failed => p.error,
        StepState::Cancelled => p.warn,
    }
}

fn result_style(p: &Palette, r: OpResult) -> Style {
    match r {
        OpResult::Succeeded => p.ok.add_modifier(Modifier::BOLD),
        OpResult::Cancelled => p.warn.add_modifier(Modifier::BOLD),
        _ => p.error,
    }
}

/// The operation the tab shows: the selected endpoint's latest.
pub fn shown(app: &App) -> Option<&OpView> {
    let key = &app.selected_endpoint()?.key;
    app.ops().latest_for(key)
}

/// Progress lines of the shown operation (the scroll limit).
pub fn log_len(app: &App) -> usize {
    shown(app).map_or(0, |o| o.log.len())
}

fn header(app: &App, op: &OpView) -> Line<'static> {
    let p = &app.palette;
    let (word, style) = match (op.phase, &op.outcome) {
        (Phase::Finished, Some(o)) => {
            (result_word(o.result).to_string(), result_style(p, o.result))
        }
        (Phase::Starting, _) => ("starting…".into(), p.accent),
        (Phase::Running, _) => ("running".into(), p.accent.add_modifier(Modifier::BOLD)),
        (Phase::Cancelling, _) => ("cancelling…".into(), p.warn.add_modifier(Modifier::BOLD)),
        (Phase::NotStarted, _) => ("not started".into(), p.error),
        (Phase::Lost | Phase::Finished, _) => ("ended without a result".into(), p.error),
    };
    let took = match &op.outcome {
        Some(o) => op_time(o.elapsed),
        None => elapsed_secs(secs_between(op.started, app.now)),
    };
    let mut spans = vec![
        Span::styled(sanitize(&op.about()).into_owned(), p.title),
        Span::styled(" · ", p.border),
        Span::styled(word, style),
        Span::styled(format!(" · {took}"), p.muted),
    ];
    if op.edited {
        spans.push(Span::styled(" · spec edited in $EDITOR", p.accent));
    }
    if let Some(id) = &op.op_id {
        spans.push(Span::styled(format!(" · op {}", sanitize(id)), p.muted));
    }
    Line::from(spans)
}

/// A running step's time goes on between its lines: by the app's clock since the operation
/// started (the engine's clock only moves with its lines).
fn step_took(app: &App, op: &OpView, s: &StepView) -> Option<Duration> {
    let took = s.took()?;
    if !op.is_active() || !matches!(s.state, StepState::Running | StepState::Retrying) {
        return Some(took);
    }
    let since_start = u64::try_from(secs_between(op.started, app.now)).unwrap_or(0);
    let live = Duration::from_secs(since_start).saturating_sub(s.first.unwrap_or_default());
    Some(took.max(live))
}

fn step_line(p: &Palette, s: &StepView, took: Option<Duration>) -> Line<'static> {
    let style = state_style(p, s.state);
    let took = took.map(op_time).unwrap_or_default();
    let retries = match s.retries {
        0 => String::new(),
        1 => "1 retry".into(),
        n => format!("{n} retries"),
    };
    let mut spans = vec![
        Span::styled(
            format!(" {} {:<17}", state_symbol(s.state), s.step.name()),
            style,
        ),
        Span::styled(format!("{:<10}", s.state.name()), style),
        Span::styled(format!("{took:>7}  "), p.muted),
        Span::styled(format!("{retries:<10} "), p.warn),
        Span::raw(s.message.clone()),
    ];
    if let Some(api) = &s.api {
        spans.push(Span::styled(format!("  · {api}"), p.muted));
    }
    Line::from(spans)
}

fn log_line(p: &Palette, l: &Progress) -> Line<'static> {
    let mut spans = vec![
        Span::styled(format!("+{:<8}", op_time(l.elapsed)), p.muted),
        Span::raw(format!("{:<17}", l.step.name())),
        Span::styled(format!("{:<10}", l.state.name()), state_style(p, l.state)),
        Span::raw(l.message.clone()),
    ];
    if let Some(api) = &l.api {
        spans.push(Span::styled(format!("  · {api}"), p.muted));
    }
    Line::from(spans)
}

/// Words of `text` in lines of at most `width` characters, each led by `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    let room = width.saturating_sub(indent.chars().count()).max(20);
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for w in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + w.chars().count() > room {
            out.push(format!("{indent}{cur}"));
            cur.clear();
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        out.push(format!("{indent}{cur}"));
    }
    out
}

fn outcome_lines(app: &App, op: &OpView, width: usize) -> Vec<Line<'static>> {
    let p = &app.palette;
    let mut out = Vec::new();
    if let Some(o) = &op.outcome {
        let mut head = format!(
            "{} {}",
            if o.result == OpResult::Succeeded {
                "✔"
            } else {
                "✖"
            },
            result_word(o.result)
        );
        if let Some(step) = o.failed_step {
            head.push_str(&format!(" at {step}"));
        }
        head.push_str(&format!(" after {}", op_time(o.elapsed)));
        match o.retries {
            0 => {}
            1 => head.push_str(", 1 retry"),
            n => head.push_str(&format!(", {n} retries")),
        }
        out.push(Line::styled(head, result_style(p, o.result)));
        out.extend(wrap(&o.message, width, "  ").into_iter().map(Line::raw));
        if let Some(rb) = &o.rollback {
            let lines = wrap(&format!("rollback: {rb}"), width, "  ");
            out.extend(lines.into_iter().map(|l| Line::styled(l, p.warn)));
        }
        if let Some(j) = &o.journal {
            let text = format!("  journal: {}", sanitize(&j.display().to_string()));
            out.push(Line::styled(text, p.muted));
        }
    }
    match op.phase {
        Phase::NotStarted => {
            let text = format!(
                "✖ not started: {}",
                sanitize(op.start_error.as_deref().unwrap_or("refused"))
            );
            out.push(Line::styled(text, p.error));
        }
        Phase::Lost => {
            out.push(Line::styled(
                "✖ ended without a result: the engine stopped without saying how it ended",
                p.error,
            ));
            out.push(Line::raw(
                "  `llmops-console recover --list` shows whether it left anything to finish",
            ));
        }
        _ => {}
    }
    let id = op.op_id.as_deref();
    if id.is_some() && app.ops().cancel_prompt.as_deref() == id {
        // Only a redeploy has a backup to go back to.
        let after = match op.kind {
            OpKind::Redeploy => {
                "before deletion nothing changes; after it the endpoint is restored from the backup"
            }
            OpKind::ForceDelete => {
                "before deletion nothing changes; what is deleted stays deleted, nothing is recreated"
            }
            OpKind::StripFinalizers => {
                "finalizers already stripped stay stripped; nothing is recreated"
            }
        };
        out.push(Line::styled(
            format!(
                " cancel {}? y: cancel ({after}) · n: go on ",
                sanitize(&op.about())
            ),
            p.warn.add_modifier(Modifier::REVERSED | Modifier::BOLD),
        ));
    }
    if id.is_some()
        && app
            .ops()
            .questions
            .iter()
            .any(|q| Some(q.op_id.as_str()) == id)
    {
        out.push(Line::styled(
            "⚠ waiting for your answer: objects are stuck (the question is on screen)",
            p.warn.add_modifier(Modifier::BOLD),
        ));
    }
    out
}

fn no_operation(app: &App) -> Vec<Line<'static>> {
    let p = &app.palette;
    let Some(e) = app.selected_endpoint() else {
        return vec![Line::styled("no endpoint selected", p.muted)];
    };
    let mut out = vec![Line::styled(
        format!(
            "no operation on {}/{} from this console",
            sanitize(&e.key.namespace),
            sanitize(&e.key.name)
        ),
        p.muted,
    )];
    if let Some(l) = e.lease.as_ref().filter(|l| l.live) {
        let mut text = format!("⟳ lease held by {}", sanitize(&l.holder));
        if let Some(step) = &l.step {
            text.push_str(&format!(" at {}", sanitize(step)));
        }
        if let Some(id) = &l.operation_id {
            text.push_str(&format!(" (op {})", sanitize(id)));
        }
        text.push_str(&format!(", since {} ago", age(l.acquired, app.now)));
        out.push(Line::styled(text, p.accent.add_modifier(Modifier::BOLD)));
    }
    if !app.readonly() {
        out.push(Line::styled(
            "r redeploy · D force-delete · F strip finalizers · e edit spec and redeploy",
            p.muted,
        ));
    }
    let unfinished = &app.ops().unfinished;
    if !unfinished.is_empty() {
        out.push(Line::styled(
            "Unfinished operations from an earlier run (nothing is done by itself):",
            p.warn.add_modifier(Modifier::BOLD),
        ));
        out.extend(
            unfinished
                .iter()
                .map(|l| Line::raw(format!("  {}", sanitize(l)))),
        );
        out.push(Line::styled(
            "  llmops-console recover ID --resume (to the decided spec) or --rollback (to the backup)",
            p.muted,
        ));
    }
    out
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let p = &app.palette;
    let Some(op) = shown(app) else {
        frame.render_widget(Paragraph::new(no_operation(app)), area);
        return;
    };
    let width = usize::from(area.width);
    let mut lines = vec![header(app, op)];
    lines.extend(
        op.steps
            .iter()
            .map(|s| step_line(p, s, step_took(app, op, s))),
    );
    lines.extend(outcome_lines(app, op, width));
    let mut title = "── progress ".to_string();
    if op.log_dropped > 0 {
        title.push_str(&format!("({} older lines dropped) ", op.log_dropped));
    }
    let scroll = app.ops().scroll.min(op.log.len());
    if scroll > 0 {
        title.push_str(&format!("(scrolled {scroll} up; G follows) "));
    }
    lines.push(Line::styled(format!("{title}──"), p.header));
    // The log takes what is left, its newest lines (less what was scrolled up).
    let room = usize::from(area.height).saturating_sub(lines.len());
    let end = op.log.len() - scroll;
    let start = end.saturating_sub(room);
    lines.extend(op.log[start..end].iter().map(|l| log_line(p, l)));
    if op.log.is_empty() {
        lines.push(Line::styled("waiting for the engine…", p.muted));
    }
    frame.render_widget(Paragraph::new(lines), area);
}
