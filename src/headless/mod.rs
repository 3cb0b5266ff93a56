//! The headless front end of the engine: `redeploy`, `force-delete`, `strip-finalizers` and
//! `recover`. Progress on stderr (a line per event, or JSON lines with `-o json`), the result on
//! stdout, the exit code from the outcome. Destructive commands need `--yes` or a typed
//! confirmation on a terminal.

mod commands;
pub mod print;
pub(crate) mod signals;
mod unfinished;

use std::io::{BufRead, IsTerminal, Write};

pub use commands::{force_delete, recover, redeploy, strip_finalizers};

use crate::cli::{GlobalArgs, ProgressFormat};
use crate::cluster::derive::GroupingConfig;
use crate::cluster::{ClusterTarget, connect};
use crate::config::paths::Paths;
use crate::config::settings::Settings;
use crate::exit::Exit;
use crate::orchestrator::progress::{EscalationChoice, OpEvent, OpResult, Outcome};
use crate::orchestrator::{Engine, EngineSettings, OperationHandle};

/// The exit code of an outcome (DESIGN.md, Interfaces).
pub fn exit_of(result: OpResult) -> Exit {
    match result {
        OpResult::Succeeded => Exit::Ok,
        OpResult::Failed | OpResult::Cancelled => Exit::Failed,
        OpResult::LockHeld => Exit::LockHeld,
        OpResult::Deadline => Exit::Deadline,
        OpResult::Usage => Exit::Usage,
    }
}

/// An error before any operation ran, with the exit code it maps to.
pub(crate) struct Early(pub Exit, pub String);

/// Settings from `--config`, else config.toml in the config directory (defaults if absent).
pub fn settings(global: &GlobalArgs) -> Result<Settings, String> {
    let path = match &global.config {
        Some(p) => p.clone(),
        None => match Paths::discover() {
            Ok(p) => p.config_file(),
            Err(_) => return Ok(Settings::default()),
        },
    };
    Settings::load(&path).map_err(|e| e.to_string())
}

/// Builds the engine for `target`: client, context, journal and audit paths, grouping.
pub(crate) async fn engine(global: &GlobalArgs, target: &ClusterTarget) -> Result<Engine, Early> {
    let settings = settings(global).map_err(|e| Early(Exit::Usage, e))?;
    let paths = Paths::discover().map_err(|e| {
        Early(
            Exit::Failed,
            format!("cannot find the state directory for the journal: {e}"),
        )
    })?;
    let (client, info) = connect(target).await.map_err(|e| {
        let code = if e.is_usage() {
            Exit::Usage
        } else {
            Exit::Failed
        };
        Early(code, e.to_string())
    })?;
    Ok(Engine::new(
        client,
        info,
        EngineSettings {
            journal_dir: paths.journal_dir(),
            audit_log: paths.audit_log(),
            grouping: GroupingConfig::from(&settings.endpoints),
            holder: crate::orchestrator::lease::holder_identity(),
        },
    ))
}

/// `--yes`, or the endpoint's name typed on a terminal. Without a terminal and without `--yes`
/// a destructive command refuses: a script must say it means it.
pub(crate) fn confirm(yes: bool, what: &str, name: &str) -> Result<(), Early> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Early(
            Exit::Usage,
            format!("refusing to {what} without --yes: stdin is not a terminal to confirm on"),
        ));
    }
    if print::json_mode() {
        print::stderr_json(&serde_json::json!({
            "confirm": { "message": crate::text::sanitize(what), "type": name }
        }));
    } else {
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "{what}\nType the endpoint's name ({name}) to confirm: "
        );
        let _ = err.flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| Early(Exit::Usage, format!("cannot read the confirmation: {e}")))?;
    if line.trim() == name {
        Ok(())
    } else {
        Err(Early(
            Exit::Usage,
            format!(
                "not confirmed (typed {:?}, expected {name:?}); nothing was done",
                line.trim()
            ),
        ))
    }
}

/// Drains an operation's events to stderr until it finishes. SIGINT (Ctrl-C), SIGTERM and
/// SIGHUP cancel it: the engine rolls back (or stops consistently) and its outcome is awaited.
/// A second SIGINT or SIGTERM leaves at once (the journal has the state, `recover` finishes it);
/// a repeated SIGHUP does not, since a hangup is delivered more than once (by the kernel and by
/// the shell) and nobody is left at the terminal to mean it.
pub(crate) async fn follow(mut handle: OperationHandle, format: ProgressFormat) -> Option<Outcome> {
    let mut signals = signals::Signals::new();
    let mut cancelled = false;
    loop {
        tokio::select! {
            ev = handle.events.recv() => match ev {
                Some(OpEvent::Progress(p)) => print::progress(&p, format),
                Some(OpEvent::Question(q)) => {
                    // Headless policies are never/strip; a question means "no" here.
                    let _ = q.reply.send(EscalationChoice::GiveUp);
                }
                Some(OpEvent::Finished(o)) => return Some(*o),
                None => return None,
            },
            sig = signals.next() => {
                let op = &handle.op_id;
                if !cancelled {
                    cancelled = true;
                    notice(format, &format!(
                        "{}: cancelling operation {op}, rolling back where needed ({} again to leave now; `llmops-console recover` can finish it)",
                        sig.name(), sig.again()
                    ));
                    handle.cancel.cancel();
                } else if sig.leaves_at_once() {
                    notice(format, &format!(
                        "{}: left operation {op} unfinished; see `llmops-console recover --list`",
                        sig.name()
                    ));
                    return None;
                }
            }
        }
    }
}

/// A line about the run (not a progress event) on stderr.
fn notice(format: ProgressFormat, text: &str) {
    if format == ProgressFormat::Json {
        print::stderr_json(
            &serde_json::json!({ "notice": { "message": crate::text::sanitize(text) } }),
        );
    } else {
        print::stderr_line(&crate::text::sanitize(text));
    }
}

/// Prints the outcome and maps it to the exit code.
pub(crate) fn conclude(outcome: Option<Outcome>, format: ProgressFormat) -> Exit {
    match outcome {
        Some(o) => {
            print::outcome(&o, format);
            exit_of(o.result)
        }
        None => {
            notice(
                format,
                "the operation ended without a result; see `llmops-console recover --list`",
            );
            Exit::Failed
        }
    }
}

/// Runs `body` on a fresh runtime, reporting an [`Early`] error as `llmops-console CMD: ...`.
pub(crate) fn block_on<F>(cmd: &str, body: F) -> Exit
where
    F: std::future::Future<Output = Result<Exit, Early>>,
{
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            print::message(
                cmd,
                print::Level::Error,
                &format!("cannot start the async runtime: {e}"),
            );
            return Exit::Failed;
        }
    };
    match rt.block_on(body) {
        Ok(exit) => exit,
        Err(Early(exit, msg)) => {
            print::message(cmd, print::Level::Error, &msg);
            exit
        }
    }
}
