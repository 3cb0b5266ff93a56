//! Log output for the headless commands: tracing to stderr, so stdout stays clean for `-o json`,
//! as JSON lines with `-o json` so stderr stays machine-readable.
//!
//! The console and `demo` own the terminal and must not write to stderr while they draw; they
//! route tracing into the UI instead (see `Cli::runs_tui`).

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{Directive, LevelFilter};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::text::sanitize;

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
    } else if env_value.map(str::trim).is_none_or(str::is_empty) {
        // kube-client logs an ERROR line for every failed request; the command reports the
        // same failure once, naming what it did and where. `-v` or LLMOPS_LOG show them.
        if let Ok(quiet) = QUIET_BY_DEFAULT.parse::<Directive>() {
            filter = filter.add_directive(quiet);
        }
    }
    (filter, problem)
}

/// Library targets silenced at the default level (no `-v`, no `LLMOPS_LOG`).
const QUIET_BY_DEFAULT: &str = "kube_client::client::builder=off";

/// Sends tracing to stderr: one sanitised text line per event, or with `json` (`-o json`) one
/// `{"log": {"level", "target", "message", "fields"}}` JSON line, so that every line of stderr
/// parses. A write error (stderr closed after a hangup) is dropped, never reported by a panic.
pub fn init_stderr(verbose: u8, json: bool) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let env_value = std::env::var(LOG_ENV).ok();
    let (filter, problem) = filter(env_value.as_deref(), verbose);
    // tracing-subscriber reports a failed write with `eprintln!`, which panics when stderr is
    // gone: off.
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .log_internal_errors(false);
    let registry = tracing_subscriber::registry().with(filter);
    // try_init fails only when a subscriber is already set, which leaves logging working.
    let _ = if json {
        registry.with(layer.event_format(JsonLines)).try_init()
    } else {
        // No colour: the whole line is neutralised (library messages quote cluster text), and
        // colour codes would be neutralised with it.
        registry
            .with(layer.with_ansi(false).event_format(SanitisedText(
                tracing_subscriber::fmt::format().with_ansi(false),
            )))
            .try_init()
    };
    if let Some(problem) = problem {
        tracing::warn!("{problem}");
    }
}

/// The default text format, neutralised by `crate::text::sanitize` (one event, one line).
struct SanitisedText<E>(E);

impl<S, N, E> FormatEvent<S, N> for SanitisedText<E>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    E: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        writeln!(writer, "{}", sanitize(line.trim_end_matches('\n')))
    }
}

/// `{"log": {"level": "WARN", "target": "kube_client::client", "message": "...", "fields": {..}}}`
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        writeln!(writer, "{}", json_line(event))
    }
}

/// The JSON line of one event; the strings are sanitised (an event is one line of output) and
/// DEL, C1 and bidi controls escaped (`crate::text::to_json`).
fn json_line(event: &Event<'_>) -> String {
    let mut fields = Fields::default();
    event.record(&mut fields);
    let meta = event.metadata();
    // Events bridged from the `log` crate carry their real target as a field.
    let target = fields.log_target.take();
    let target = target.as_deref().unwrap_or(meta.target());
    let value = serde_json::json!({ "log": {
        "level": meta.level().as_str(),
        "target": sanitize(target),
        "message": sanitize(&fields.message),
        "fields": fields.other,
    }});
    crate::text::to_json(&value).unwrap_or_else(|_| {
        r#"{"log":{"level":"ERROR","message":"a log event could not be written as JSON"}}"#.into()
    })
}

#[derive(Default)]
struct Fields {
    message: String,
    log_target: Option<String>,
    other: serde_json::Map<String, serde_json::Value>,
}

impl Fields {
    fn put(&mut self, name: &str, value: String) {
        match name {
            "message" => self.message = value,
            "log.target" => self.log_target = Some(value),
            // The rest of the `log` bridge's metadata says nothing to a reader.
            n if n.starts_with("log.") => {}
            n => {
                self.other.insert(
                    sanitize(n).into_owned(),
                    sanitize(&value).into_owned().into(),
                );
            }
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field.name(), value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field.name(), format!("{value:?}"));
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
    fn kube_clients_own_error_lines_are_quiet_by_default_only() {
        let (f, _) = filter(None, 0);
        assert!(f.to_string().contains(QUIET_BY_DEFAULT), "{f}");
        let (f, _) = filter(None, 1);
        assert!(!f.to_string().contains(QUIET_BY_DEFAULT), "{f}");
        let (f, _) = filter(Some("kube_client=debug"), 0);
        assert!(!f.to_string().contains(QUIET_BY_DEFAULT), "{f}");
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

    /// Captures what a layer writes.
    #[derive(Clone, Default)]
    struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buf {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
        }
    }

    fn hostile_events() {
        let evil = "500 from \x1b]52;c;aGk=\x07\u{9b}2J\x7f\u{202e}gpj.exe\nsecond line";
        tracing::warn!(target: "kube_client::client", status = 500, body = evil, "request failed: {evil}");
        tracing::error!("plain");
    }

    fn raw_controls(s: &str) -> Vec<char> {
        s.chars()
            .filter(|&c| (c.is_control() && c != '\n') || crate::text::is_bidi_control(c))
            .collect()
    }

    #[test]
    fn json_lines_parse_and_carry_no_controls() {
        use tracing_subscriber::layer::SubscriberExt;
        let buf = Buf::default();
        let w = buf.clone();
        let sub = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || w.clone())
                .event_format(JsonLines),
        );
        tracing::subscriber::with_default(sub, hostile_events);
        let out = buf.text();
        assert_eq!(raw_controls(&out), Vec::<char>::new(), "{out}");
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert_eq!(lines.len(), 2, "{out}");
        let log = &lines[0]["log"];
        assert_eq!(log["level"], "WARN");
        assert_eq!(log["target"], "kube_client::client");
        let message = log["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("request failed: 500 from ^[]52"),
            "{message}"
        );
        assert!(
            message.contains("<U+202E>") && message.contains("^Jsecond"),
            "{message}"
        );
        assert_eq!(log["fields"]["status"], "500");
        assert_eq!(lines[1]["log"]["message"], "plain");
    }

    #[test]
    fn text_lines_are_neutralised() {
        use tracing_subscriber::layer::SubscriberExt;
        let buf = Buf::default();
        let w = buf.clone();
        let sub = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || w.clone())
                .with_ansi(false)
                .event_format(SanitisedText(
                    tracing_subscriber::fmt::format().with_ansi(false),
                )),
        );
        tracing::subscriber::with_default(sub, hostile_events);
        let out = buf.text();
        assert_eq!(raw_controls(&out), Vec::<char>::new(), "{out}");
        assert_eq!(out.lines().count(), 2, "one event, one line: {out}");
        assert!(out.contains("<U+202E>gpj.exe"), "{out}");
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
