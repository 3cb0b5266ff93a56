//! `llmops-console`: parse the command line and dispatch. Nothing else lives here.

use std::process::ExitCode;

use clap::Parser;
use llmops_console::cli::{Cli, Command, GlobalArgs, StatusArgs, StatusFormat};
use llmops_console::cluster::{GroupingConfig, status_cmd};
use llmops_console::exit::Exit;
use llmops_console::headless;
use llmops_console::text::sanitize;

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
    if cli.runs_tui() {
        // TODO(tui): route tracing into the console's log pane (tui-logger) when the TUI lands;
        // stderr would tear the screen.
    } else {
        llmops_console::logging::init_stderr(cli.global.verbose);
    }
    dispatch(cli).into()
}

fn dispatch(cli: Cli) -> Exit {
    let name = cli.command_name();
    if cli.global.is_readonly() && cli.command.as_ref().is_some_and(Command::changes_cluster) {
        eprintln!(
            "llmops-console: '{name}' changes the cluster and is refused under --readonly/--kiosk"
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
        Some(Command::Doctor) => not_yet_available(name),
    }
}

/// `status`: one list pass, the rollup on stdout, warnings and errors on stderr.
fn status(global: &GlobalArgs, args: &StatusArgs) -> Exit {
    let grouping = match headless::settings(global) {
        Ok(s) => GroupingConfig::from(&s.endpoints),
        Err(e) => {
            eprintln!("llmops-console status: {e}");
            return Exit::Usage;
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("llmops-console status: cannot start the async runtime: {e}");
            return Exit::Failed;
        }
    };
    let target = global.cluster_target();
    match rt.block_on(status_cmd::collect(&target, &grouping)) {
        Ok(report) => {
            for n in &report.notices {
                eprintln!("llmops-console status: warning: {}", sanitize(n));
            }
            let out = match args.output {
                StatusFormat::Json => status_cmd::render_json(&report) + "\n",
                StatusFormat::Table => {
                    let mut r = report;
                    r.notices.clear();
                    status_cmd::render_table(&r)
                }
            };
            print!("{out}");
            Exit::Ok
        }
        Err(e) => {
            eprintln!("llmops-console status: {e}");
            Exit::Failed
        }
    }
}

fn not_yet_available(name: &str) -> Exit {
    eprintln!("llmops-console: '{name}' is not yet available in this build");
    Exit::Usage
}
