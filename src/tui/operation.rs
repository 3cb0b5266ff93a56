//! The operation flows around the engine: its messages into [`OpsState`], the escalation
//! question (`y` strip and go on, `n` give up), Esc in the operation tab ("cancel? y/n"), and `q`
//! while an operation runs (a second `q` quits; the operation is then left to `recover`).

use crate::config::keymap::{Action, Key, KeySpec};
use crate::orchestrator::progress::{EscalationChoice, OpResult};

use super::app::{App, Level, Pane, Tab};
use super::msg::{Effect, Msg};
use super::ops::Phase;
use super::text::sanitize;

pub(crate) fn on_msg(app: &mut App, msg: Msg) {
    match msg {
        Msg::OpStarted { op_id, request } => app.ops.started(op_id, &request),
        Msg::OpStartFailed { endpoint, error } => {
            let text = format!("{}: {}", endpoint, sanitize(&error));
            app.ops.start_failed(&endpoint, error);
            app.say(Level::Error, text);
        }
        Msg::OpProgress(p) => app.ops.progress(p),
        Msg::OpQuestion {
            op_id,
            prompt,
            stuck,
        } => app.ops.question(op_id, prompt, stuck),
        Msg::OpFinished(outcome) => {
            let level = match outcome.result {
                OpResult::Succeeded => Level::Info,
                OpResult::Cancelled => Level::Warn,
                _ => Level::Error,
            };
            let text = format!(
                "{} {}: {}",
                outcome.kind.name(),
                outcome.endpoint,
                result_word(outcome.result)
            );
            app.ops.finished(*outcome);
            app.say(level, text);
        }
        Msg::OpEndedWithoutResult { op_id } => {
            let about = app.ops.by_id(&op_id).map(|o| o.about());
            app.ops.lost(&op_id);
            if let Some(about) = about {
                app.say(
                    Level::Error,
                    format!("{about}: the operation ended without a result; see `recover --list`"),
                );
            }
        }
        Msg::UnfinishedOps(lines) if !lines.is_empty() => {
            let text = format!(
                "{} unfinished operation{} from an earlier run (O shows them); nothing is done by \
                 itself: `llmops-console recover --list`",
                lines.len(),
                if lines.len() == 1 { "" } else { "s" }
            );
            app.ops.unfinished = lines;
            app.say(Level::Warn, text);
        }
        Msg::UnfinishedFound(ops) => {
            app.ops.unfinished_ops = ops;
            // Endpoints whose objects are gone get a row of their own (or lose it).
            app.endpoints = super::ops::with_unfinished(
                std::mem::take(&mut app.endpoints),
                &app.ops.unfinished_ops,
                app.opts.namespace.as_deref(),
            );
            app.table.rebuild(&app.endpoints);
            app.rebuild_tree();
        }
        _ => {}
    }
}

pub fn result_word(r: OpResult) -> &'static str {
    match r {
        OpResult::Succeeded => "succeeded",
        OpResult::Failed => "failed",
        OpResult::LockHeld => "refused: the lock is held",
        OpResult::Deadline => "deadline passed",
        OpResult::Usage => "refused: bad input",
        OpResult::Cancelled => "cancelled",
    }
}

/// The escalation question has the keys while it is on screen. Only `y` and `n` answer it: the
/// engine is waiting, and a stray key must not decide for the operator.
pub(crate) fn on_question_key(app: &mut App, key: KeySpec, fx: &mut Vec<Effect>) {
    let Some(q) = app.ops.questions.first() else {
        return;
    };
    let choice = match key.key {
        Key::Char('y' | 'Y') if !key.ctrl => EscalationChoice::Strip,
        Key::Char('n' | 'N') if !key.ctrl => EscalationChoice::GiveUp,
        _ => {
            app.say(
                Level::Warn,
                "the operation is waiting: y strips finalizers and goes on, n gives up",
            );
            return;
        }
    };
    let op_id = q.op_id.clone();
    app.ops.questions.remove(0);
    let what = match choice {
        EscalationChoice::Strip => "stripping finalizers and deleting again",
        EscalationChoice::GiveUp => "giving up on the stuck objects",
    };
    app.say(Level::Info, what);
    fx.push(Effect::AnswerQuestion { op_id, choice });
}

/// "cancel <operation>? y/n", from Esc in the operation tab.
pub(crate) fn on_cancel_prompt_key(app: &mut App, key: KeySpec, fx: &mut Vec<Effect>) {
    let Some(op_id) = app.ops.cancel_prompt.take() else {
        return;
    };
    if matches!(key.key, Key::Char('y' | 'Y')) && !key.ctrl {
        app.ops.cancelling(&op_id);
        app.say(Level::Warn, "cancelling…");
        fx.push(Effect::CancelOperation { op_id });
    } else {
        app.say(Level::Info, "not cancelled: the operation goes on");
    }
}

/// Esc in the operation tab on a running operation asks before cancelling it. Returns whether
/// the key was taken.
pub(crate) fn on_back(app: &mut App) -> bool {
    if app.focus != Pane::Bottom || app.tab != Tab::Operation {
        return false;
    }
    let Some(key) = app.selected_endpoint().map(|e| e.key.clone()) else {
        return false;
    };
    let Some(op) = app.ops.latest_for(&key) else {
        return false;
    };
    match (op.phase, op.op_id.clone()) {
        (Phase::Running, Some(id)) => {
            app.ops.cancel_prompt = Some(id);
            true
        }
        (Phase::Cancelling, _) => {
            app.say(
                Level::Info,
                "cancelling… the engine is leaving the endpoint consistent",
            );
            true
        }
        (Phase::Starting, _) => {
            app.say(Level::Info, "starting… cancel once the engine has answered");
            true
        }
        _ => false,
    }
}

/// `q` with operations running: the first press warns, the second quits.
pub(crate) fn quit_allowed(app: &mut App, action: Action) -> bool {
    if action != Action::Quit {
        app.quit_armed = false;
        return true;
    }
    let running: Vec<String> = app.ops.active().map(|o| o.about()).collect();
    if running.is_empty() || app.quit_armed {
        return true;
    }
    app.quit_armed = true;
    app.say(
        Level::Warn,
        format!(
            "{} still running: quitting cancels it and may leave it for `recover`; press q again to quit",
            running.join(", ")
        ),
    );
    false
}
