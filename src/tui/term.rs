//! Owning the terminal: raw mode and the alternate screen on the way in, and the way back out on
//! every exit path — drop, panic (before the panic message prints, so it is readable) and the
//! signals the loop handles (SIGTERM, SIGHUP).

use std::io::{self, Stdout, Write, stdout};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Whether the terminal is taken over (raw mode, maybe the alternate screen) and not yet given
/// back. Restoring twice is not harmless: leaving the alternate screen also restores the cursor
/// saved when it was entered, so a second restore after a panic (the hook, then the guard's drop
/// while unwinding) would move the cursor back to the top and the next output would overwrite
/// the panic message.
static TAKEN_OVER: AtomicBool = AtomicBool::new(false);

/// The terminal in raw mode on the alternate screen; restored when dropped.
pub struct TerminalGuard {
    pub terminal: Term,
}

impl TerminalGuard {
    pub fn enter(mouse: bool) -> io::Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode()?;
        TAKEN_OVER.store(true, Ordering::SeqCst);
        // Any failure from here on leaves the terminal as it was found.
        Self::setup(mouse).inspect_err(|_| {
            let _ = restore();
        })
    }

    fn setup(mouse: bool) -> io::Result<TerminalGuard> {
        let mut out = stdout();
        // Clearing here rather than with `Terminal::clear`, which asks the terminal for the
        // cursor position and fails where nothing answers (a bare pty, some multiplexers).
        execute!(out, EnterAlternateScreen, Clear(ClearType::All))?;
        if mouse {
            execute!(out, EnableMouseCapture)?;
        }
        let mut terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
        terminal.hide_cursor()?;
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // After a panic the hook has restored already; `restore` then writes nothing.
        let _ = restore();
    }
}

/// Leaves raw mode and the alternate screen, shows the cursor, stops mouse capture. Only the
/// first call after `TerminalGuard::enter` does anything, so it is safe to call more than once
/// and when the terminal was never entered.
pub fn restore() -> io::Result<()> {
    if !TAKEN_OVER.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let raw = disable_raw_mode();
    execute!(
        stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    )?;
    raw
}

/// Whether the terminal is in the console's hands (not suspended, not restored).
pub fn is_taken_over() -> bool {
    TAKEN_OVER.load(Ordering::SeqCst)
}

/// Gives the terminal to another program (`$EDITOR`): the same as [`restore`].
pub fn suspend() -> io::Result<()> {
    restore()
}

/// Takes the terminal back after [`suspend`]. The screen is blank afterwards: the caller must
/// make ratatui redraw every cell (its back buffer still holds the last frame).
pub fn resume(mouse: bool) -> io::Result<()> {
    enable_raw_mode()?;
    TAKEN_OVER.store(true, Ordering::SeqCst);
    let mut out = stdout();
    execute!(
        out,
        EnterAlternateScreen,
        Clear(ClearType::All),
        crossterm::cursor::Hide
    )?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    Ok(())
}

/// Restores the terminal before the previous panic hook prints, once per process.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = restore();
            previous(info);
        }));
    });
}

/// The OSC 52 sequence that sets the clipboard (`c`) to `text`: `ESC ] 52 ; c ; BASE64 BEL`.
/// None when `text` holds a control character: a name from the cluster is base64 inside the
/// sequence, so it could not break out of it, but what lands on the clipboard is pasted into a
/// shell, where a newline or an escape would act.
pub fn osc52(text: &str) -> Option<String> {
    use base64::Engine as _;
    if crate::text::has_controls(text) || text.contains('\t') {
        return None;
    }
    let payload = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    Some(format!("\x1b]52;c;{payload}\x07"))
}

/// Writes [`osc52`] of `text` to the terminal. Terminals without OSC 52 ignore it.
pub fn copy_to_clipboard(text: &str) -> io::Result<()> {
    let Some(seq) = osc52(text) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the text holds control characters",
        ));
    };
    let mut out = stdout();
    out.write_all(seq.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::osc52;

    #[test]
    fn osc52_is_base64_between_osc_and_bel() {
        assert_eq!(
            osc52("whisper-large-6c9d7f5b8-q2x7k").as_deref(),
            Some("\x1b]52;c;d2hpc3Blci1sYXJnZS02YzlkN2Y1YjgtcTJ4N2s=\x07")
        );
        assert_eq!(osc52("模型").as_deref(), Some("\x1b]52;c;5qih5Z6L\x07"));
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(osc52("pod\x1b]52;c;cm0=\x07"), None);
        assert_eq!(osc52("a\nb"), None);
        assert_eq!(osc52("a\tb"), None);
        assert_eq!(osc52("a\u{9b}b"), None);
    }
}
