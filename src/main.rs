//! `llmops-console`: parse the command line and dispatch. Nothing else lives here.

use std::process::ExitCode;

use clap::Parser;
use llmops_console::cli::{Cli, Command, GlobalArgs, StatusArgs, StatusFormat};
use llmops_console::cluster::{GroupingConfig, status_cmd};
use llmops_console::exit::Exit;
use llmops_console::headless;
use llmops_console::headless::print::{Level, message, stdout_text};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version arrive here too; they go to stdout and are not errors.
            let exit = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
            let _ = e.print();
            return exit.into();
        }
    };
    // With -o json every line on stderr is JSON: the early errors and the log lines too.
    let json = json_output(&cli);
    headless::print::set_json(json);
    if !cli.runs_tui() {
        // The console routes tracing into its log pane instead (stderr would tear the screen).
        llmops_console::logging::init_stderr(cli.global.verbose, json);
    }
    dispatch(cli).into()
}

/// Whether the command was given `-o json`.
fn json_output(cli: &Cli) -> bool {
    use llmops_console::cli::ProgressFormat::Json;
    match &cli.command {
        Some(Command::Status(a)) => matches!(a.output, StatusFormat::Json),
        Some(Command::Redeploy(a)) => a.output == Json,
        Some(Command::ForceDelete(a)) => a.output == Json,
        Some(Command::StripFinalizers(a)) => a.output == Json,
        Some(Command::Recover(a)) => a.output == Json,
        _ => false,
    }
}

fn dispatch(cli: Cli) -> Exit {
    let name = cli.command_name();
    if cli.global.is_readonly() && cli.command.as_ref().is_some_and(Command::changes_cluster) {
        message(
            name,
            Level::Error,
            "changes the cluster and is refused under --readonly/--kiosk",
        );
        return Exit::Usage;
    }
    match cli.command {
        None => llmops_console::console::run(&cli.global, None),
        Some(Command::Demo(ref args)) => llmops_console::console::run(&cli.global, Some(args)),
        Some(Command::Sim(args)) => {
            let cmd = llmops_console::sim::server::SimCommand {
                listen: args.listen.to_string(),
                scenario: args.scenario.to_string(),
                write_kubeconfig: args.write_kubeconfig,
                user: args.user,
                seed: args.seed,
            };
            llmops_console::sim::server::run_command(&cmd)
        }
        Some(Command::Status(args)) => status(&cli.global, &args),
        Some(Command::Redeploy(ref args)) => headless::redeploy(&cli.global, args),
        Some(Command::ForceDelete(ref args)) => headless::force_delete(&cli.global, args),
        Some(Command::StripFinalizers(ref args)) => headless::strip_finalizers(&cli.global, args),
        Some(Command::Recover(ref args)) => headless::recover(&cli.global, args),
        Some(Command::Completions(args)) => {
            stdout_text(&args.shell.script());
            Exit::Ok
        }
        Some(Command::Doctor) => not_yet_available(name),
    }
}

/// `status`: one list pass, the rollup on stdout, warnings and errors on stderr.
fn status(global: &GlobalArgs, args: &StatusArgs) -> Exit {
    let grouping = match headless::settings(global) {
        Ok(s) => GroupingConfig::from(&s.endpoints),
        Err(e) => {
            message("status", Level::Error, &e);
            return Exit::Usage;
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            let why = format!("cannot start the async runtime: {e}");
            message("status", Level::Error, &why);
            return Exit::Failed;
        }
    };
    let target = global.cluster_target();
    match rt.block_on(status_cmd::collect(&target, &grouping)) {
        Ok(report) => {
            for n in &report.notices {
                message("status", Level::Warning, n);
            }
            let out = match args.output {
                StatusFormat::Json => status_cmd::render_json(&report) + "\n",
                StatusFormat::Table => {
                    let mut r = report;
                    r.notices.clear();
                    status_cmd::render_table(&r)
                }
            };
            stdout_text(&out);
            Exit::Ok
        }
        Err(e) => {
            message("status", Level::Error, &e.to_string());
            if e.is_usage() {
                Exit::Usage
            } else {
                Exit::Failed
            }
        }
    }
}

fn not_yet_available(name: &str) -> Exit {
    message(name, Level::Error, "not yet available in this build");
    Exit::Usage
}
