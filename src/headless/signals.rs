//! The signals that end a headless command: SIGINT (Ctrl-C), SIGTERM (`kill`, `timeout`,
//! systemd) and SIGHUP (the terminal or the SSH connection went away). Each is caught, so the
//! operation is cancelled and rolled back instead of the process dying mid-way.

/// A caught signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
    Hangup,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT (Ctrl-C)",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }

    /// What the operator may send to leave without waiting.
    pub fn again(self) -> &'static str {
        match self {
            Signal::Interrupt => "Ctrl-C",
            Signal::Terminate | Signal::Hangup => "SIGINT or SIGTERM",
        }
    }

    /// Whether this signal, after a first one, means "leave now". A hangup does not: it comes
    /// more than once on an SSH drop (the shell forwards its own), with nobody there to mean it.
    pub fn leaves_at_once(self) -> bool {
        !matches!(self, Signal::Hangup)
    }
}

/// The three signals as one stream. Their handlers are installed when this is made, and stay for
/// the rest of the process (tokio never uninstalls them): a signal is never again fatal.
pub struct Signals {
    #[cfg(unix)]
    unix: Option<(
        tokio::signal::unix::Signal,
        tokio::signal::unix::Signal,
        tokio::signal::unix::Signal,
    )>,
}

impl Signals {
    pub fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            // Installing a handler fails only without a runtime's signal driver; Ctrl-C alone
            // (below) is then better than nothing.
            let unix = match (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) {
                (Ok(i), Ok(t), Ok(h)) => Some((i, t, h)),
                _ => None,
            };
            Signals { unix }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next signal.
    pub async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        if let Some((int, term, hup)) = &mut self.unix {
            tokio::select! {
                Some(()) = int.recv() => return Signal::Interrupt,
                Some(()) = term.recv() => return Signal::Terminate,
                Some(()) = hup.recv() => return Signal::Hangup,
                // The runtime is shutting down: no more signals will come.
                else => return std::future::pending().await,
            }
        }
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            // No way to listen: never resolve rather than report a signal that did not come.
            Err(_) => std::future::pending().await,
        }
    }
}
