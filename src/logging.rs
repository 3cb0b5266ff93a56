//! Log output for the headless commands: tracing to stderr, so stdout stays clean for `-o json`.
//!
//! The console and `demo` own the terminal and must not write to stderr while they draw; they
//! route tracing into the UI instead (see `Cli::runs_tui`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{Directive, LevelFilter};

/// The environment variable holding tracing filter directives, e.g. `debug` or
/// `llmops_console::orchestrator=trace,kube=info`.
pub const LOG_ENV: &str = "LLMOPS_LOG";

/// The level that `-v` flags ask for: none warn, `-v` info, `-vv` debug, `-vvv` trace.
pub fn level_for_verbosity(verbose: u8) -> LevelFilter {
    match verbose {
        0 => LevelFilter::WARN,
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

/// Builds the filter: `LLMOPS_LOG` directives (default `warn`), and any `-v` sets the level for
/// everything the directives do not name. An unreadable `LLMOPS_LOG` is reported, not ignored.
pub fn filter(env_value: Option<&str>, verbose: u8) -> (EnvFilter, Option<String>) {
    let fallback = || EnvFilter::default().add_directive(Directive::from(LevelFilter::WARN));
    let (mut filter, problem) = match env_value.map(str::trim).filter(|v| !v.is_empty()) {
        None => (fallback(), None),
        Some(spec) => match EnvFilter::builder()
            .with_default_directive(LevelFilter::WARN.into())
            .parse(spec)
        {
            Ok(filter) => (filter, None),
            Err(e) => (
                fallback(),
                Some(format!(
                    "ignoring {LOG_ENV}='{}': {e}; logging at warn",
                    spec.escape_debug()
                )),
            ),
        },
    };
    if verbose > 0 {
        filter = filter.add_directive(level_for_verbosity(verbose).into());
    }
    (filter, problem)
}

/// Sends tracing to stderr. Colour only on a terminal and when `NO_COLOR` is unset.
pub fn init_stderr(verbose: u8) {
    let env_value = std::env::var(LOG_ENV).ok();
    let (filter, problem) = filter(env_value.as_deref(), verbose);
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    // try_init fails only when a subscriber is already set, which leaves logging working.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
    if let Some(problem) = problem {
        tracing::warn!("{problem}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_raises_the_level() {
        assert_eq!(level_for_verbosity(0), LevelFilter::WARN);
        assert_eq!(level_for_verbosity(1), LevelFilter::INFO);
        assert_eq!(level_for_verbosity(2), LevelFilter::DEBUG);
        assert_eq!(level_for_verbosity(9), LevelFilter::TRACE);
    }

    #[test]
    fn default_is_warn_and_v_overrides_it() {
        assert_eq!(filter(None, 0).0.max_level_hint(), Some(LevelFilter::WARN));
        assert_eq!(
            filter(Some(""), 0).0.max_level_hint(),
            Some(LevelFilter::WARN)
        );
        assert_eq!(filter(None, 2).0.max_level_hint(), Some(LevelFilter::DEBUG));
        assert_eq!(
            filter(Some("error"), 1).0.max_level_hint(),
            Some(LevelFilter::INFO)
        );
    }

    #[test]
    fn env_directives_apply() {
        let (f, problem) = filter(Some("debug"), 0);
        assert_eq!(
            (f.max_level_hint(), problem),
            (Some(LevelFilter::DEBUG), None)
        );
        let (f, _) = filter(Some("llmops_console=trace"), 0);
        assert_eq!(f.max_level_hint(), Some(LevelFilter::TRACE));
    }

    #[test]
    fn a_bad_env_value_is_reported() {
        let (f, problem) = filter(Some("llmops_console=loud"), 0);
        assert_eq!(f.max_level_hint(), Some(LevelFilter::WARN));
        let problem = problem.unwrap_or_default();
        assert!(
            problem.contains("LLMOPS_LOG='llmops_console=loud'"),
            "{problem}"
        );
    }
}
