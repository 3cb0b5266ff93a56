//! `llmops-console`: parse the command line and dispatch. Nothing else lives here.

use std::process::ExitCode;

use clap::Parser;
use llmops_console::cli::{Cli, Command};
use llmops_console::exit::Exit;

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
        None => not_yet_available(name),
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
        Some(
            Command::Demo(_)
            | Command::Status(_)
            | Command::Redeploy(_)
            | Command::ForceDelete(_)
            | Command::StripFinalizers(_)
            | Command::Recover(_)
            | Command::Doctor,
        ) => not_yet_available(name),
    }
}

fn not_yet_available(name: &str) -> Exit {
    eprintln!("llmops-console: '{name}' is not yet available in this build");
    Exit::Usage
}
