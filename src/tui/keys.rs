//! Keys to state changes: text input (filter, command line), the help overlay, the console log's
//! own keys, then the keymap's actions for the focused pane.

use tui_logger::TuiWidgetEvent;

use crate::cluster::model::Kind;
use crate::config::keymap::{Action, Key, KeySpec};
use crate::orchestrator::progress::OpKind;

use super::app::{App, Input, InputKind, Level, LogSource, Pane, Tab};
use super::logbuf::LogMode;
use super::msg::{Effect, MouseMsg};
use super::text::sanitize;

pub(crate) fn on_key(app: &mut App, key: KeySpec, fx: &mut Vec<Effect>) {
    // "Terminal too small" hides every pane and dialog: a key acting there would open a
    // confirmation or change state unseen. Only quit works (still asking twice while an
    // operation runs).
    if too_small(app) {
        if app.opts.keymap.action(&key) == Some(Action::Quit)
            && super::operation::quit_allowed(app, Action::Quit)
        {
            fx.push(Effect::Quit);
        }
        return;
    }
    // Modal first: what is being typed, then the dialog on screen. A question waits behind an
    // open confirmation so that typing a name cannot answer it by accident.
    if app.input.is_some() {
        on_input_key(app, key, fx);
        return;
    }
    if app.confirm.is_some() {
        super::confirm::on_key(app, key, fx);
        return;
    }
    if !app.ops.questions.is_empty() {
        super::operation::on_question_key(app, key, fx);
        return;
    }
    if app.ops.cancel_prompt.is_some() {
        super::operation::on_cancel_prompt_key(app, key, fx);
        return;
    }
    let action = app.opts.keymap.action(&key);
    if app.help {
        match action {
            Some(Action::Help | Action::Back) => app.help = false,
            Some(Action::Down) => app.help_scroll += 1,
            Some(Action::Up) => app.help_scroll = app.help_scroll.saturating_sub(1),
            Some(Action::Quit) => fx.push(Effect::Quit),
            _ => {}
        }
        return;
    }
    // The operator is now looking at the selected row: from here on the selection stays on that
    // endpoint instead of following whichever is on top (a log opened on it must not move).
    app.table.pin(&app.endpoints);
    if app.focus == Pane::Bottom
        && app.tab == Tab::Console
        && let Some(ev) = console_event(key, action)
    {
        app.console.transition(ev);
        if action != Some(Action::Back) {
            return;
        }
    }
    if let Some(action) = action {
        on_action(app, action, fx);
    }
}

/// tui-logger's own keys while the console log has the focus: `+`/`-` capture level, `<`/`>`
/// shown level, `h` hide targets, `f` focus target, space hide off targets.
fn console_event(key: KeySpec, action: Option<Action>) -> Option<TuiWidgetEvent> {
    if let Key::Char(c) = key.key
        && !key.ctrl
        && !key.alt
    {
        let ev = match c {
            '+' => Some(TuiWidgetEvent::PlusKey),
            '-' => Some(TuiWidgetEvent::MinusKey),
            '<' => Some(TuiWidgetEvent::LeftKey),
            '>' => Some(TuiWidgetEvent::RightKey),
            'h' => Some(TuiWidgetEvent::HideKey),
            'f' => Some(TuiWidgetEvent::FocusKey),
            ' ' => Some(TuiWidgetEvent::SpaceKey),
            _ => None,
        };
        if ev.is_some() {
            return ev;
        }
    }
    match action? {
        Action::Up => Some(TuiWidgetEvent::UpKey),
        Action::Down => Some(TuiWidgetEvent::DownKey),
        Action::PageUp => Some(TuiWidgetEvent::PrevPageKey),
        Action::PageDown => Some(TuiWidgetEvent::NextPageKey),
        Action::Back => Some(TuiWidgetEvent::EscapeKey),
        _ => None,
    }
}

pub(crate) fn on_mouse(app: &mut App, m: MouseMsg, fx: &mut Vec<Effect>) {
    if !app.mouse() || app.input.is_some() || too_small(app) {
        return;
    }
    let action = match m {
        MouseMsg::ScrollUp => Action::Up,
        MouseMsg::ScrollDown => Action::Down,
    };
    on_action(app, action, fx);
}

fn too_small(app: &App) -> bool {
    super::view::layout::too_small(app.size.0, app.size.1)
}

fn filter_targets_logs(app: &App) -> bool {
    app.focus == Pane::Bottom && app.tab == Tab::Logs
}

fn on_input_key(app: &mut App, key: KeySpec, fx: &mut Vec<Effect>) {
    let Some(input) = app.input.as_mut() else {
        return;
    };
    let kind = input.kind;
    match key.key {
        Key::Esc => {
            app.input = None;
            if kind == InputKind::Filter {
                set_filter(app, String::new());
            }
        }
        Key::Enter => {
            let text = input.text.clone();
            app.input = None;
            if kind == InputKind::Command {
                run_command(app, text.trim(), fx);
            }
        }
        Key::Backspace => {
            input.text.pop();
            if kind == InputKind::Filter {
                let text = input.text.clone();
                set_filter(app, text);
            }
        }
        Key::Char(c) if !key.ctrl && !key.alt => {
            input.text.push(c);
            if kind == InputKind::Filter {
                let text = input.text.clone();
                set_filter(app, text);
            }
        }
        Key::Char('c') if key.ctrl => app.input = None,
        _ => {}
    }
}

fn set_filter(app: &mut App, text: String) {
    if filter_targets_logs(app) {
        app.logs.filter = text;
        app.logs.scroll = 0;
    } else {
        app.table.pin(&app.endpoints);
        app.table.filter = text;
        app.table.rebuild(&app.endpoints);
        app.rebuild_tree();
    }
}

fn run_command(app: &mut App, line: &str, fx: &mut Vec<Effect>) {
    let mut words = line.split_whitespace();
    match (words.next(), words.next()) {
        (None, _) => {}
        (Some("q" | "quit" | "q!"), None) => fx.push(Effect::Quit),
        (Some("ns" | "namespace"), Some(ns)) => super::scope::on_command(app, ns, fx),
        (Some("theme"), Some(name)) => fx.push(Effect::LoadTheme(name.to_string())),
        (Some("logs"), None) => on_action(app, Action::Logs, fx),
        (Some("events"), None) => on_action(app, Action::Events, fx),
        (Some("help"), None) => app.help = true,
        _ => {
            let text = format!(
                "unknown command :{}; commands: q, ns NAME|all, theme NAME, logs, events, help",
                sanitize(line)
            );
            app.say(Level::Warn, text);
        }
    }
}

fn show_tab(app: &mut App, tab: Tab) {
    app.tab = tab;
    app.focus = Pane::Bottom;
}

fn on_action(app: &mut App, action: Action, fx: &mut Vec<Effect>) {
    if action.is_destructive() {
        refuse_or_open(app, action, fx);
        return;
    }
    if !super::operation::quit_allowed(app, action) {
        return;
    }
    if action == Action::Back && super::operation::on_back(app) {
        return;
    }
    match action {
        Action::Quit => fx.push(Effect::Quit),
        Action::Help => {
            app.help = true;
            app.help_scroll = 0;
        }
        Action::Up => move_by(app, -1),
        Action::Down => move_by(app, 1),
        Action::PageUp => move_by(app, -(page(app) as isize)),
        Action::PageDown => move_by(app, page(app) as isize),
        Action::Top => move_by(app, isize::MIN / 2),
        Action::Bottom => move_by(app, isize::MAX / 2),
        Action::Enter => match app.focus {
            Pane::Endpoints => app.focus = Pane::Resources,
            Pane::Resources => show_tab(app, Tab::Detail),
            Pane::Bottom => {}
        },
        Action::Back => match app.focus {
            Pane::Bottom => app.focus = Pane::Resources,
            Pane::Resources => app.focus = Pane::Endpoints,
            Pane::Endpoints => {
                if !app.table.filter.is_empty() {
                    set_filter(app, String::new());
                }
            }
        },
        Action::NextPane | Action::PrevPane if !app.kiosk() => {
            let order = [Pane::Endpoints, Pane::Resources, Pane::Bottom];
            let i = order.iter().position(|p| *p == app.focus).unwrap_or(0);
            let step = if action == Action::NextPane { 1 } else { 2 };
            app.focus = order[(i + step) % 3];
        }
        Action::Filter | Action::Command if app.kiosk() => {
            app.say(Level::Info, "kiosk: no prompts");
        }
        Action::Filter => {
            let text = if filter_targets_logs(app) {
                app.logs.filter.clone()
            } else {
                app.table.filter.clone()
            };
            app.input = Some(Input {
                kind: InputKind::Filter,
                text,
            });
        }
        Action::Command => {
            app.input = Some(Input {
                kind: InputKind::Command,
                text: String::new(),
            });
        }
        Action::Sort => {
            app.table.pin(&app.endpoints);
            app.table.sort = app.table.sort.next();
            app.table.rebuild(&app.endpoints);
            app.rebuild_tree();
        }
        Action::Logs if !app.kiosk() => {
            // With a pod selected in the resource pane, `l` opens that pod's log at its tail.
            if app.focus == Pane::Resources
                && let Some(row) = app.tree.selected().filter(|r| r.kind == Kind::Pod)
            {
                let pod = LogSource::Pod(row.name.clone());
                if app.logs.source != pod {
                    app.logs.source = pod;
                    app.logs.buf.follow();
                    app.logs.scroll = 0;
                }
            }
            show_tab(app, Tab::Logs);
        }
        Action::Events if !app.kiosk() => show_tab(app, Tab::Events),
        Action::ConsoleLog if !app.kiosk() => show_tab(app, Tab::Console),
        Action::Operation if !app.kiosk() => show_tab(app, Tab::Operation),
        // `f` always jumps to the tail and follows; `p` freezes a following view and resumes a
        // frozen one (paused or scrolled back) at the tail.
        Action::Follow => {
            app.logs.buf.follow();
            app.logs.scroll = 0;
        }
        Action::Pause => {
            if app.logs.buf.mode() == LogMode::Following {
                app.logs.buf.pause();
            } else {
                app.logs.buf.follow();
                app.logs.scroll = 0;
            }
        }
        Action::CopyName => super::copy::copy_selected(app, fx),
        Action::Wrap => app.logs.wrap = !app.logs.wrap,
        Action::Timestamps => app.logs.timestamps = !app.logs.timestamps,
        Action::LogSource => {
            let pods = app.tree.pods();
            app.logs.source = match &app.logs.source {
                LogSource::AllPods => pods
                    .first()
                    .map_or(LogSource::AllPods, |p| LogSource::Pod(p.clone())),
                LogSource::Pod(p) => match pods.iter().position(|x| x == p) {
                    Some(i) if i + 1 < pods.len() => LogSource::Pod(pods[i + 1].clone()),
                    _ => LogSource::AllPods,
                },
            };
            app.logs.scroll = 0;
        }
        _ => {}
    }
}

/// Destructive actions: impossible in read-only and kiosk modes (refused, and said so);
/// otherwise they open their confirmation (or, for `e`, fetch the spec to edit).
fn refuse_or_open(app: &mut App, action: Action, fx: &mut Vec<Effect>) {
    let name = action.name().replace('_', "-");
    if app.readonly() {
        let why = if app.kiosk() { "--kiosk" } else { "--readonly" };
        app.say(
            Level::Error,
            format!("refused: read-only ({why}): {name} is not allowed"),
        );
        return;
    }
    let Some(endpoint) = app.selected_endpoint().map(|e| e.key.clone()) else {
        app.say(Level::Warn, format!("{name}: no endpoint selected"));
        return;
    };
    if let Some(op) = app.ops.active_on(&endpoint) {
        let text = format!(
            "{name}: {} is still running in this console (O shows it)",
            sanitize(&op.about())
        );
        app.say(Level::Warn, text);
        return;
    }
    match action {
        Action::Redeploy => super::confirm::open(app, OpKind::Redeploy),
        Action::ForceDelete => super::confirm::open(app, OpKind::ForceDelete),
        Action::StripFinalizers => super::confirm::open(app, OpKind::StripFinalizers),
        Action::EditSpec => super::edit::start(app, endpoint, fx),
        _ => {}
    }
}

fn page(app: &App) -> usize {
    app.page().saturating_sub(1).max(1)
}

fn move_by(app: &mut App, delta: isize) {
    let pane = if app.kiosk() {
        Pane::Endpoints
    } else {
        app.focus
    };
    match pane {
        Pane::Endpoints => {
            app.table.step(delta, &app.endpoints);
            app.rebuild_tree();
            app.last_cycle = app.now;
        }
        Pane::Resources => app.tree.step(delta),
        Pane::Bottom => {
            // Scrolling up in logs means older lines: the view stops following.
            let scroll = match app.tab {
                Tab::Detail => &mut app.detail.scroll,
                Tab::Events => &mut app.events.scroll,
                Tab::Logs => {
                    scroll_logs(app, delta);
                    return;
                }
                Tab::Operation => {
                    // Like logs: up means older progress lines.
                    let s = app.ops.scroll.saturating_add_signed(-delta);
                    app.ops.scroll = s.min(super::view::operation::log_len(app));
                    return;
                }
                Tab::Console => return,
            };
            let d = if app.tab == Tab::Logs { -delta } else { delta };
            *scroll = scroll.saturating_add_signed(d);
            // Never scroll past the last line.
            match app.tab {
                Tab::Detail => {
                    let last = super::view::detail::lines(app).len().saturating_sub(1);
                    app.detail.scroll = app.detail.scroll.min(last);
                }
                Tab::Events => {
                    app.events.scroll = app.events.scroll.min(app.events.rows.len() + 1);
                }
                _ => {}
            }
        }
    }
}

/// Up (negative `delta`) means older lines and freezes the view; `g` stops with the oldest line
/// at the top. Back down at the newest line, a scrolled-back view follows again; a pause stays.
fn scroll_logs(app: &mut App, delta: isize) {
    if delta < 0 {
        app.logs.buf.scroll_back();
    }
    let pod = match &app.logs.source {
        LogSource::AllPods => None,
        LogSource::Pod(p) => Some(p.as_str()),
    };
    // The log body is the pane's list height less the log header line.
    let rows = app.page().saturating_sub(1).max(1);
    let max = app
        .logs
        .buf
        .visible_count(pod, &app.logs.filter)
        .saturating_sub(rows);
    let s = app.logs.scroll.saturating_add_signed(-delta).min(max);
    app.logs.scroll = s;
    if s == 0 && delta > 0 && app.logs.buf.mode() == LogMode::ScrolledBack {
        app.logs.buf.follow();
    }
}

/// Actions of each pane, for the help overlay (global ones come last).
pub fn pane_actions(pane: Pane, tab: Tab) -> &'static [Action] {
    use Action::*;
    match (pane, tab) {
        (Pane::Endpoints, _) => &[
            Up,
            Down,
            PageUp,
            PageDown,
            Top,
            Bottom,
            Enter,
            Back,
            Filter,
            Sort,
            Logs,
            Events,
            Operation,
            ConsoleLog,
            Redeploy,
            ForceDelete,
            StripFinalizers,
            EditSpec,
            CopyName,
        ],
        (Pane::Resources, _) => &[
            Up,
            Down,
            PageUp,
            PageDown,
            Top,
            Bottom,
            Enter,
            Back,
            Logs,
            Events,
            Operation,
            ForceDelete,
            StripFinalizers,
            CopyName,
        ],
        (Pane::Bottom, Tab::Logs) => &[
            Up, Down, PageUp, PageDown, Top, Bottom, Follow, Pause, Wrap, Timestamps, LogSource,
            Filter, Back,
        ],
        (Pane::Bottom, Tab::Console) => &[Up, Down, PageUp, PageDown, Back],
        (Pane::Bottom, Tab::Operation) => &[
            Up,
            Down,
            PageUp,
            PageDown,
            Top,
            Bottom,
            Redeploy,
            ForceDelete,
            Back,
        ],
        (Pane::Bottom, _) => &[
            Up, Down, PageUp, PageDown, Top, Bottom, Logs, Events, CopyName, Back,
        ],
    }
}

const GLOBAL: &[Action] = &[
    Action::NextPane,
    Action::PrevPane,
    Action::Command,
    Action::Help,
    Action::Quit,
];

/// The help overlay's lines: (keys, what they do) for the focused pane, then the global keys.
pub fn help_entries(app: &App) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut add = |action: Action| {
        let keys: Vec<String> = app
            .opts
            .keymap
            .keys_for(action)
            .iter()
            .map(ToString::to_string)
            .collect();
        let mut what = action.describe().to_string();
        if action.is_destructive() && app.readonly() {
            what.push_str(" (refused: read-only)");
        }
        if action == Action::Back && app.focus == Pane::Bottom && app.tab == Tab::Operation {
            what.push_str(" (on a running operation: cancel it, after y)");
        }
        out.push((keys.join(" "), what));
    };
    for a in pane_actions(app.focus, app.tab) {
        add(*a);
    }
    for a in GLOBAL {
        add(*a);
    }
    if app.focus == Pane::Bottom && app.tab == Tab::Console {
        for (k, what) in [
            ("+ -", "capture more / less of the selected target"),
            ("< >", "show more / less of the selected target"),
            ("h", "hide / show the target list"),
            ("f", "only the selected target"),
            ("space", "hide targets that are off"),
        ] {
            out.push((k.to_string(), what.to_string()));
        }
    }
    out
}
