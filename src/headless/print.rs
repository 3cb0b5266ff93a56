//! How progress and results look on a terminal or in a pipe. Messages from the engine are
//! sanitised where they are made; they are sanitised again here because this is the edge.
//!
//! Two rules hold for everything written here:
//! - Writes never fail the process. After a hangup (an SSH drop) stdout and stderr may be gone;
//!   `println!`/`eprintln!` would panic on the write error (Rust ignores SIGPIPE, so a closed
//!   pipe is an error, not a signal), in the middle of a rollback. Errors are ignored instead.
//! - With `-o json`, stderr is JSON lines only: progress objects, and `{"error": ..}`,
//!   `{"warning": ..}`, `{"notice": ..}`, `{"confirm": ..}` and `{"log": ..}` objects (see
//!   [`crate::logging`]). JSON goes through [`crate::text::to_json`], which escapes DEL, C1 and
//!   bidi controls that serde_json leaves raw.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use serde_json::json;

use crate::cli::ProgressFormat;
use crate::orchestrator::progress::{OpResult, Outcome, Progress};
use crate::text::{sanitize, to_json, to_json_pretty};
use crate::util::duration::format_elapsed;

/// Whether this process's command was given `-o json` (set once by `main`, before anything is
/// printed), so that errors before any operation are JSON lines too.
static JSON: AtomicBool = AtomicBool::new(false);

pub fn set_json(on: bool) {
    JSON.store(on, Ordering::SeqCst);
}

pub fn json_mode() -> bool {
    JSON.load(Ordering::SeqCst)
}

/// One line on stderr; a write error (the terminal or the pipe is gone) is ignored.
pub fn stderr_line(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// Text on stdout, flushed; a write error is ignored.
pub fn stdout_text(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// `value` as one JSON line on stderr.
pub fn stderr_json<T: Serialize + ?Sized>(value: &T) {
    match to_json(value) {
        Ok(s) => stderr_line(&s),
        Err(e) => stderr_line(&format!(
            r#"{{"error":{{"message":"not serialisable: {}"}}}}"#,
            sanitize(&e.to_string()).replace(['"', '\\'], "'")
        )),
    }
}

/// What a message on stderr is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The command could not do what it was asked (an early error).
    Error,
    Warning,
    /// Information about the run (cancelling, leaving).
    Notice,
}

impl Level {
    fn key(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// The stderr line of a message of `llmops-console CMD`: `llmops-console CMD: [warning: ]TEXT`,
/// or with `-o json` `{"error": {"command": CMD, "message": TEXT}}` (key after the level). The
/// text is sanitised either way.
pub fn message_line(cmd: &str, level: Level, text: &str, json_out: bool) -> String {
    let text = sanitize(text);
    if json_out {
        let v = json!({ level.key(): { "command": cmd, "message": text } });
        return to_json(&v).unwrap_or_default();
    }
    match level {
        Level::Warning => format!("llmops-console {cmd}: warning: {text}"),
        Level::Error | Level::Notice => format!("llmops-console {cmd}: {text}"),
    }
}

/// Prints a message of `llmops-console CMD` on stderr, JSON with `-o json`.
pub fn message(cmd: &str, level: Level, text: &str) {
    stderr_line(&message_line(cmd, level, text, json_mode()));
}

/// `[  1.234s] verify-deletion  running   Verified deletion of Pod x (-> 200 OK)`
pub fn progress_line(p: &Progress) -> String {
    let secs = p.elapsed.as_secs_f64();
    let mut line = format!(
        "[{secs:8.3}s] {:<16} {:<9} {}",
        p.step.name(),
        p.state.name(),
        sanitize(&p.message)
    );
    if let Some(api) = &p.api {
        line.push_str(&format!(" -> {}", sanitize(api)));
    }
    line
}

pub fn progress(p: &Progress, format: ProgressFormat) {
    match format {
        ProgressFormat::Text => stderr_line(&progress_line(p)),
        ProgressFormat::Json => stderr_json(p),
    }
}

fn result_word(r: OpResult) -> &'static str {
    match r {
        OpResult::Succeeded => "succeeded",
        OpResult::Failed => "FAILED",
        OpResult::LockHeld => "REFUSED (lock held)",
        OpResult::Deadline => "FAILED (deadline passed)",
        OpResult::Usage => "REFUSED (bad input)",
        OpResult::Cancelled => "CANCELLED",
    }
}

pub fn outcome_text(o: &Outcome) -> String {
    let mut out = format!(
        "{} {}: {} in {} (operation {}, {} retr{})\n",
        o.kind.name(),
        sanitize(&o.endpoint.to_string()),
        result_word(o.result),
        format_elapsed(o.elapsed),
        sanitize(&o.op_id),
        o.retries,
        if o.retries == 1 { "y" } else { "ies" }
    );
    if let Some(step) = o.failed_step {
        out.push_str(&format!("  failed at: {step}\n"));
    }
    out.push_str(&format!("  {}\n", sanitize(&o.message)));
    if let Some(r) = &o.rollback {
        out.push_str(&format!("  {}\n", sanitize(r)));
    }
    for c in &o.created {
        out.push_str(&format!(
            "  created {} (uid {})\n",
            sanitize(&c.to_string()),
            sanitize(&c.uid)
        ));
    }
    if let Some(j) = &o.journal {
        out.push_str(&format!(
            "  journal: {}\n",
            sanitize(&j.display().to_string())
        ));
    }
    out
}

pub fn outcome(o: &Outcome, format: ProgressFormat) {
    match format {
        ProgressFormat::Text => stdout_text(&outcome_text(o)),
        ProgressFormat::Json => match to_json_pretty(o) {
            Ok(s) => stdout_text(&format!("{s}\n")),
            Err(e) => message(
                o.kind.name(),
                Level::Error,
                &format!("result not serialisable: {e}"),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// A character a terminal would act on, raw.
    fn raw_controls(s: &str) -> Vec<char> {
        s.chars()
            .filter(|&c| (c.is_control() && c != '\n') || crate::text::is_bidi_control(c))
            .collect()
    }

    const HOSTILE: &str = "evil\x1b]52;c;aGk=\x07\u{9b}2J\x7f\u{202e}gpj.exe";

    #[test]
    fn messages_are_neutralised_in_text_and_json() {
        for level in [Level::Error, Level::Warning, Level::Notice] {
            let text = message_line("redeploy", level, HOSTILE, false);
            assert_eq!(raw_controls(&text), Vec::<char>::new(), "{text}");
            assert!(text.starts_with("llmops-console redeploy: "), "{text}");
            let line = message_line("redeploy", level, HOSTILE, true);
            assert_eq!(raw_controls(&line), Vec::<char>::new(), "{line}");
            let v: Value = serde_json::from_str(&line).unwrap_or_default();
            assert_eq!(v[level.key()]["command"], "redeploy", "{line}");
            assert!(v[level.key()]["message"].is_string(), "{line}");
        }
    }

    #[test]
    fn progress_json_escapes_c1_del_and_bidi() {
        let p = Progress {
            op_id: HOSTILE.into(),
            step: crate::orchestrator::progress::Step::Create,
            state: crate::orchestrator::progress::StepState::Running,
            elapsed: std::time::Duration::from_millis(1),
            message: HOSTILE.into(),
            api: Some(HOSTILE.into()),
            ..progress_fixture()
        };
        let line = to_json(&p).unwrap_or_default();
        assert_eq!(raw_controls(&line), Vec::<char>::new(), "{line}");
        assert_eq!(raw_controls(&progress_line(&p)), Vec::<char>::new());
        let v: Value = serde_json::from_str(&line).unwrap_or_default();
        assert_eq!(v["message"], HOSTILE, "the value reads back unchanged");
    }

    fn progress_fixture() -> Progress {
        Progress {
            op_id: String::new(),
            step: crate::orchestrator::progress::Step::Lock,
            state: crate::orchestrator::progress::StepState::Running,
            elapsed: std::time::Duration::ZERO,
            message: String::new(),
            api: None,
            retries: 0,
        }
    }
}
