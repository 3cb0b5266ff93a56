//! The event loop: owns the terminal, merges keys (and the mouse, when enabled) with the
//! integrator's messages, applies `update`, hands effects out, and draws at most `max_fps` times
//! a second and only when something changed. A one-second tick keeps ages and the clock current.

use std::io;
use std::time::Duration;

use crossterm::event::{
    Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind,
};
use futures::StreamExt;
use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use ratatui::widgets::Clear;

use crate::cluster::model::EndpointKey;
use crate::config::keymap::{Key, KeySpec};

use super::app::{App, update};
use super::editor::{edit_text, editor_command, run_editor};
use super::msg::{Effect, MouseMsg, Msg};
use super::term::{self, TerminalGuard};
use super::view;

/// Messages applied before a frame is drawn, at most, when a burst arrives.
const BURST: usize = 256;

/// A terminal key as the keymap knows it; None for keys the console does not use.
pub fn key_spec(ev: &KeyEvent) -> Option<KeySpec> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    let key = match ev.code {
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::F(n) => Key::F(n),
        _ => return None,
    };
    Some(KeySpec {
        key,
        ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
        alt: ev.modifiers.contains(KeyModifiers::ALT),
    })
}

/// A terminal event as a message; mouse events only when `mouse` is on.
pub fn translate(ev: Event, mouse: bool) -> Option<Msg> {
    match ev {
        Event::Key(k) => key_spec(&k).map(Msg::Key),
        Event::Resize(width, height) => Some(Msg::Resize { width, height }),
        Event::Mouse(m) if mouse => match m.kind {
            MouseEventKind::ScrollUp => Some(Msg::Mouse(MouseMsg::ScrollUp)),
            MouseEventKind::ScrollDown => Some(Msg::Mouse(MouseMsg::ScrollDown)),
            _ => None,
        },
        _ => None,
    }
}

/// An editor to run before the next frame: the endpoint and the YAML to edit.
type EditJob = Option<(EndpointKey, String)>;

/// Applies `msg` and forwards its effects; the editor effect stays here, with the terminal.
/// Returns false once the app wants to quit.
async fn apply(
    app: &mut App,
    msg: Msg,
    effects: &mpsc::Sender<Effect>,
    edit: &mut EditJob,
) -> bool {
    for fx in update(app, msg) {
        if let Effect::RunEditor { endpoint, yaml } = fx {
            *edit = Some((endpoint, yaml));
            continue;
        }
        if let Effect::CopyToClipboard { text } = &fx {
            if let Err(e) = term::copy_to_clipboard(text) {
                tracing::warn!("cannot write the clipboard sequence to the terminal: {e}");
            }
            continue;
        }
        if effects.send(fx).await.is_err() {
            // The integrator stopped listening; the screen still works on what it has.
            tracing::warn!("the effect channel is closed; effects are no longer carried out");
        }
    }
    !app.should_quit()
}

/// Runs the console until `q` (or `:q`), SIGTERM or SIGHUP, then restores the terminal. On a
/// panic the terminal is restored by the panic hook before the message prints. Running
/// operations are not dropped here: the caller's shutdown cancels them and waits for their
/// rollback once the terminal is back (`console::ops::Operations::shutdown`). Ctrl-C is a key
/// (raw mode); the handlers installed here stay, so a later SIGTERM or SIGHUP (during that wait)
/// is not fatal either.
///
/// ```no_run
/// use llmops_console::tui::{App, AppOptions, Effect, Msg, run};
/// # async fn wire(opts: AppOptions) -> std::io::Result<()> {
/// let (msg_tx, msg_rx) = tokio::sync::mpsc::channel::<Msg>(1024);
/// let (fx_tx, mut fx_rx) = tokio::sync::mpsc::channel::<Effect>(64);
/// // Cluster side: turn notices into messages.
/// //   ClusterNotice::Changed(_)        -> msg_tx.send(Msg::Endpoints(derive(snapshot(), now)))
/// //   ClusterNotice::WatchState(k, s)  -> msg_tx.send(Msg::WatchState { watch: k.to_string(), state: s })
/// //   LogBatch { pod, container, lines } -> msg_tx.send(Msg::LogLines { .. })
/// tokio::spawn(async move {
///     while let Some(fx) = fx_rx.recv().await {
///         match fx {
///             Effect::Quit => break,
///             Effect::LoadDetail(obj) => { /* object_json + events_for -> Msg::Detail */ }
///             Effect::FollowLogs { .. } => { /* (re)start the LogFollower */ }
///             _ => {}
///         }
///     }
/// });
/// let app = App::new(opts, jiff::Timestamp::now());
/// run(app, msg_rx, fx_tx).await
/// # }
/// ```
pub async fn run(
    mut app: App,
    mut rx: mpsc::Receiver<Msg>,
    effects: mpsc::Sender<Effect>,
) -> io::Result<()> {
    let mut guard = TerminalGuard::enter(app.mouse())?;
    let size = guard.terminal.size()?;
    let mut edit: EditJob = None;
    let mut running = apply(
        &mut app,
        Msg::Resize {
            width: size.width,
            height: size.height,
        },
        &effects,
        &mut edit,
    )
    .await;
    let mouse = app.mouse();
    let frame_gap = Duration::from_secs(1) / app.max_fps().max(1);
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    #[cfg(unix)]
    // SIGINT too: in raw mode Ctrl-C is a key, so a SIGINT comes from outside (`kill -INT`, a
    // supervisor) and must stop running operations as SIGTERM does, not kill them mid-way.
    let (mut sigterm, mut sighup, mut sigint) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
            signal(SignalKind::interrupt())?,
        )
    };
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    let mut rx_open = true;
    while running {
        if let Some((endpoint, yaml)) = edit.take() {
            // The editor reads the keyboard: the console's reader must be gone first.
            drop(events);
            let result = edit_with_terminal(&mut guard, mouse, &endpoint, &yaml).await?;
            events = EventStream::new();
            running = apply(
                &mut app,
                Msg::EditorDone { endpoint, result },
                &effects,
                &mut edit,
            )
            .await;
            dirty = true;
            continue;
        }
        let now = Instant::now();
        let due = last_draw.map_or(now, |t| t + frame_gap);
        if dirty && now >= due {
            guard.terminal.draw(|f| view::draw(f, &app))?;
            dirty = false;
            last_draw = Some(now);
        }
        let wake = if dirty {
            due
        } else {
            now + Duration::from_secs(3600)
        };
        #[cfg(unix)]
        let signalled = async {
            tokio::select! {
                _ = sigterm.recv() => {}
                _ = sighup.recv() => {}
                _ = sigint.recv() => {}
            }
        };
        #[cfg(not(unix))]
        let signalled = std::future::pending::<()>();
        tokio::select! {
            _ = signalled => break,
            ev = events.next() => match ev {
                Some(Ok(ev)) => {
                    if let Some(msg) = translate(ev, mouse) {
                        running = apply(&mut app, msg, &effects, &mut edit).await;
                        dirty = true;
                    }
                }
                Some(Err(e)) => return Err(e),
                None => break,
            },
            msg = rx.recv(), if rx_open => match msg {
                Some(msg) => {
                    running = apply(&mut app, msg, &effects, &mut edit).await;
                    // Coalesce a burst into one frame.
                    let mut n = 0;
                    while running && n < BURST {
                        let Ok(more) = rx.try_recv() else { break };
                        running = apply(&mut app, more, &effects, &mut edit).await;
                        n += 1;
                    }
                    dirty = true;
                }
                None => rx_open = false,
            },
            _ = tick.tick() => {
                running = apply(&mut app, Msg::Tick(Timestamp::now()), &effects, &mut edit).await;
                dirty = true;
            }
            _ = tokio::time::sleep_until(wake) => {}
        }
    }
    drop(guard);
    Ok(())
}

/// Gives the terminal to the editor and takes it back. Only a failure to take the terminal back
/// is an error of the loop; the editor's own failures are the edit's result.
async fn edit_with_terminal(
    guard: &mut TerminalGuard,
    mouse: bool,
    endpoint: &EndpointKey,
    yaml: &str,
) -> io::Result<Result<String, String>> {
    let visual = std::env::var("VISUAL").ok();
    let editor = std::env::var("EDITOR").ok();
    let command = editor_command(visual.as_deref(), editor.as_deref());
    let result = edit_text(endpoint, yaml, &command, |cmd, path| async move {
        term::suspend().map_err(|e| format!("cannot give the terminal to the editor: {e}"))?;
        let ran = run_editor(&cmd, &path).await;
        term::resume(mouse).map_err(|e| format!("cannot take the terminal back: {e}"))?;
        ran
    })
    .await;
    if !term::is_taken_over() {
        term::resume(mouse)?;
    }
    // The screen is blank now but ratatui's back buffer holds the last frame: drawing an empty
    // frame first makes the next real frame write every cell.
    guard.terminal.draw(|f| f.render_widget(Clear, f.area()))?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{MouseEvent, MouseEventKind};

    #[test]
    fn keys_translate() {
        let k = |code, m| KeyEvent::new(code, m);
        assert_eq!(
            key_spec(&k(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(KeySpec::ctrl('c'))
        );
        assert_eq!(
            key_spec(&k(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(KeySpec::plain(Key::Char('G')))
        );
        assert_eq!(key_spec(&k(KeyCode::Null, KeyModifiers::NONE)), None);
        let wheel = Event::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 0,
            row: 0,
            modifiers: KeyModifiers::NONE,
        });
        assert_eq!(translate(wheel.clone(), false), None);
        assert_eq!(
            translate(wheel, true),
            Some(Msg::Mouse(MouseMsg::ScrollDown))
        );
    }
}
