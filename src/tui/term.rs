//! Owning the terminal: raw mode and the alternate screen on the way in, and the way back out on
//! every exit path — drop, panic (before the panic message prints, so it is readable) and the
//! signals the loop handles (SIGTERM, SIGHUP).

use std::io::{self, Stdout, stdout};
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
