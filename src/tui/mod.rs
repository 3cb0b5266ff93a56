//! The terminal console: the only module that knows ratatui, crossterm and tui-logger.
//!
//! Shape (see STYLE.md): terminal events and the integrator's messages become [`Msg`]s; the pure
//! [`update`] changes the [`App`] and returns [`Effect`]s for the loop to carry out; `view::draw`
//! renders from `&App`. [`run`] owns the terminal and the loop.
//!
//! The integrator wires it like this (see [`run`] for a fuller sketch):
//!
//! ```text
//! let opts = AppOptions { context, namespace, readonly, kiosk, theme, keymap, settings, tz };
//! let (msg_tx, msg_rx) = mpsc::channel(1024);   // cluster notices, log batches -> Msg
//! let (fx_tx, fx_rx) = mpsc::channel(64);       // Effect -> cluster calls, log followers
//! tui::init_console_log(filter)?;               // tracing -> the console log tab
//! tui::run(App::new(opts, Timestamp::now()), msg_rx, fx_tx).await
//! ```

pub mod app;
pub mod confirm;
pub mod copy;
pub mod edit;
pub mod editor;
#[doc(hidden)]
pub mod fixtures;
pub mod fmt;
pub mod keys;
pub mod logbuf;
pub mod manifest;
pub mod msg;
pub mod operation;
pub mod ops;
pub mod run;
pub mod scope;
pub mod style;
pub mod table;
pub mod term;
pub mod text;
pub mod tree;
pub mod view;

#[cfg(test)]
mod tests;

pub use app::{App, AppOptions, Pane, Tab, update};
pub use msg::{Effect, EventRow, LogLine, MouseMsg, Msg, ObjectRef, StreamState};
pub use run::run;

/// Routes tracing into the console log tab (tui-logger) with `filter` deciding what is
/// captured; per-target display levels are then changed in the tab. Call once, before `run`.
pub fn init_console_log(
    filter: tracing_subscriber::EnvFilter,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    tui_logger::init_logger(tui_logger::LevelFilter::Trace)?;
    tui_logger::set_default_level(tui_logger::LevelFilter::Trace);
    tracing_subscriber::registry()
        .with(filter)
        .with(tui_logger::TuiTracingSubscriberLayer)
        .try_init()?;
    Ok(())
}
