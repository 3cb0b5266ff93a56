//! Command-line interface: every command and flag of DESIGN.md (Interfaces), as clap definitions.
//!
//! Parsing checks shapes only (`NS/NAME`, durations, `KEY=VALUE`); anything that needs the cluster
//! or the journal is checked by the command itself. `main.rs` dispatches on [`Command`].

mod values;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

pub use values::{
    EndpointRef, InputError, ObjectRef, ScenarioSpec, SetOverride, parse_deadline, parse_kind,
    parse_loopback_addr, parse_namespace, parse_object_name, parse_op_id,
};

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  ok
  1  failed
  2  bad usage or input
  3  refused because a lock is held
  4  deadline passed

Logging goes to stderr; LLMOPS_LOG takes tracing filter directives (e.g. debug, llmops_console=trace).";

/// A terminal console for LLM serving endpoints on Kubernetes.
///
/// Without a subcommand, opens the console against the cluster of the current kubeconfig context.
#[derive(Debug, Clone, Parser)]
#[command(name = "llmops-console", version, after_long_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// What to do; none opens the console.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags accepted before or after any subcommand.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Kubeconfig file [default: as kubectl: $KUBECONFIG, then ~/.kube/config]
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context to use instead of the current one
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// Namespace to show or act in [default: the context's namespace]
    #[arg(short = 'n', long, global = true, value_name = "NS", value_parser = parse_namespace)]
    pub namespace: Option<String>,

    /// Every namespace
    #[arg(
        short = 'A',
        long = "all-namespaces",
        global = true,
        conflicts_with = "namespace"
    )]
    pub all_namespaces: bool,

    /// Nothing may change the cluster: redeploy, force-delete, strip-finalizers and recover
    /// --resume/--rollback/--discard are refused
    #[arg(long, global = true)]
    pub readonly: bool,

    /// Unattended ops-room screen: read-only, no confirmation dialogs
    #[arg(long, global = true)]
    pub kiosk: bool,

    /// Colour theme: default, high-contrast, light, mono, or a theme file
    #[arg(long, global = true, value_name = "NAME_OR_PATH")]
    pub theme: Option<String>,

    /// Settings file [default: config.toml in the config directory]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// More log output on stderr: -v info, -vv debug, -vvv trace
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl GlobalArgs {
    /// `--kiosk` implies `--readonly`: both make changes impossible, not just hidden.
    pub fn is_readonly(&self) -> bool {
        self.readonly || self.kiosk
    }

    /// The cluster these flags point at: `--kubeconfig`, `--context`, `-n` or `-A`.
    pub fn cluster_target(&self) -> crate::cluster::ClusterTarget {
        use crate::cluster::Scope;
        crate::cluster::ClusterTarget {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespace: if self.all_namespaces {
                Some(Scope::All)
            } else {
                self.namespace.clone().map(Scope::Namespace)
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Open the console on the embedded simulated cluster (no Kubernetes needed)
    Demo(DemoArgs),
    /// Run the simulated Kubernetes API server alone, for kubectl or another console
    Sim(SimArgs),
    /// Print every endpoint with its status
    Status(StatusArgs),
    /// Delete an endpoint's resources and create them again, verified, locked and journalled
    Redeploy(RedeployArgs),
    /// Force-delete an endpoint's resources (pods with grace period 0), or one of them
    ForceDelete(ForceDeleteArgs),
    /// Remove the finalizers of one object so its deletion can finish
    StripFinalizers(StripFinalizersArgs),
    /// List interrupted operations from the journal, resume one, or roll one back
    Recover(RecoverArgs),
    /// Print a shell completion script to stdout (e.g. `completions bash > ~/.local/share/bash-completion/completions/llmops-console`)
    Completions(CompletionsArgs),
    /// Planned: check kubeconfig, connectivity, permissions (RBAC) and local state directories.
    /// Hidden until it exists, so it is not offered; running it says so and exits 2.
    #[command(hide = true)]
    Doctor,
}

/// The shells `completions` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct CompletionsArgs {
    /// The shell to write the script for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

impl Shell {
    /// This shell's completion script for the whole command line.
    pub fn script(self) -> String {
        use clap::CommandFactory;
        use clap_complete::Shell as S;
        let shell = match self {
            Self::Bash => S::Bash,
            Self::Zsh => S::Zsh,
            Self::Fish => S::Fish,
        };
        let mut command = Cli::command();
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut command, "llmops-console", &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl Command {
    /// The subcommand as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Demo(_) => "demo",
            Self::Sim(_) => "sim",
            Self::Status(_) => "status",
            Self::Redeploy(_) => "redeploy",
            Self::ForceDelete(_) => "force-delete",
            Self::StripFinalizers(_) => "strip-finalizers",
            Self::Recover(_) => "recover",
            Self::Completions(_) => "completions",
            Self::Doctor => "doctor",
        }
    }

    /// Whether the command changes the cluster, so `--readonly`/`--kiosk` must refuse it.
    /// `recover` counts: resuming or rolling back deletes and creates.
    pub fn changes_cluster(&self) -> bool {
        match self {
            Self::Redeploy(_) | Self::ForceDelete(_) | Self::StripFinalizers(_) => true,
            Self::Recover(args) => args.action() != RecoverAction::List,
            Self::Demo(_)
            | Self::Sim(_)
            | Self::Status(_)
            | Self::Completions(_)
            | Self::Doctor => false,
        }
    }
}

impl Cli {
    /// The command's name for messages; the console itself when there is no subcommand.
    pub fn command_name(&self) -> &'static str {
        self.command.as_ref().map_or("console", Command::name)
    }

    /// Whether the command takes over the terminal (the console and `demo`). Those must not log
    /// to stderr, which would tear the screen; they route tracing into the UI instead.
    pub fn runs_tui(&self) -> bool {
        matches!(self.command, None | Some(Command::Demo(_)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct DemoArgs {
    /// Built-in scenario name or path of a scenario YAML file (the default shows a real problem:
    /// an InferenceService stuck Terminating behind its finalizer)
    #[arg(long, value_name = "NAME_OR_PATH", default_value = "stuck-finalizer")]
    pub scenario: ScenarioSpec,

    /// Seed for the simulator's randomness (delays, names), for a run that repeats exactly
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct SimArgs {
    /// Address to listen on; port 0 picks a free port. Loopback only.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0", value_parser = parse_loopback_addr)]
    pub listen: SocketAddr,

    /// Built-in scenario name or path of a scenario YAML file
    #[arg(long, value_name = "NAME_OR_PATH", default_value = "healthy")]
    pub scenario: ScenarioSpec,

    /// Write a kubeconfig for the server here (for kubectl and the console)
    #[arg(long, value_name = "PATH")]
    pub write_kubeconfig: PathBuf,

    /// User name the kubeconfig authenticates as (scenarios give users RBAC rules)
    #[arg(long, value_name = "NAME", default_value = "admin")]
    pub user: String,

    /// Seed for the simulator's randomness (delays, names), for a run that repeats exactly
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// How `status` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum StatusFormat {
    /// Aligned columns for people
    #[default]
    Table,
    /// One JSON document for scripts
    Json,
}

/// How headless operations report progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ProgressFormat {
    /// Progress as lines on stderr, the result as text on stdout
    #[default]
    Text,
    /// Progress as JSON lines on stderr, the result as one JSON object on stdout
    Json,
}

/// What redeploy may do when an object stays Terminating because of its finalizers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum FinalizerPolicy {
    /// Report the blocking finalizers and fail at the deadline
    #[default]
    Never,
    /// Remove the blocking finalizers and delete again
    Strip,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct StatusArgs {
    /// Output format
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_enum, default_value_t = StatusFormat::Table)]
    pub output: StatusFormat,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct RedeployArgs {
    /// The endpoint, as NAMESPACE/NAME
    #[arg(value_name = "NS/NAME")]
    pub endpoint: EndpointRef,

    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Deadline for verifying that every deleted object is gone
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_deadline)]
    pub timeout: Duration,

    /// Deadline for the recreated endpoint to become ready
    #[arg(long, value_name = "DURATION", default_value = "600s", value_parser = parse_deadline)]
    pub ready_timeout: Duration,

    /// What to do when finalizers block deletion
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = FinalizerPolicy::Never)]
    pub finalizers: FinalizerPolicy,

    /// Override a setting of the backup when recreating (repeatable), e.g. image=..., replicas=3
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<SetOverride>,

    /// Continue the endpoint's unfinished operation instead (`recover OP --resume` with these
    /// --finalizers/--timeout/--ready-timeout/-o); without one there is nothing to continue
    #[arg(long = "continue", conflicts_with = "overrides")]
    pub continue_unfinished: bool,

    /// Progress output format
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_enum, default_value_t = ProgressFormat::Text)]
    pub output: ProgressFormat,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ForceDeleteArgs {
    /// The endpoint, as NAMESPACE/NAME
    #[arg(value_name = "NS/NAME")]
    pub endpoint: EndpointRef,

    /// Only this kind of the endpoint's resources (with --name)
    #[arg(long, value_name = "KIND", requires = "name", value_parser = parse_kind)]
    pub kind: Option<String>,

    /// Only the resource of --kind with this name
    #[arg(long, value_name = "NAME", requires = "kind", value_parser = parse_object_name)]
    pub name: Option<String>,

    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// `strip`: also remove the objects' finalizers (what keeps them Terminating)
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = FinalizerPolicy::Never)]
    pub finalizers: FinalizerPolicy,

    /// Deadline for verifying that every deleted object is gone
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_deadline)]
    pub timeout: Duration,

    /// Result format
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_enum, default_value_t = ProgressFormat::Text)]
    pub output: ProgressFormat,
}

impl ForceDeleteArgs {
    /// The single resource to force-delete, or `None` for all of the endpoint's resources.
    pub fn only(&self) -> Option<(&str, &str)> {
        Some((self.kind.as_deref()?, self.name.as_deref()?))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct StripFinalizersArgs {
    /// The object, as NAMESPACE/KIND/NAME
    #[arg(value_name = "NS/KIND/NAME")]
    pub object: ObjectRef,

    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Deadline for a Terminating object to go once its finalizers are gone
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_deadline)]
    pub timeout: Duration,

    /// Result format
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_enum, default_value_t = ProgressFormat::Text)]
    pub output: ProgressFormat,
}

/// `recover` alone lists, as does `--list`; `OP_ID` needs exactly one of `--resume`,
/// `--rollback`, `--discard`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
#[command(group(ArgGroup::new("op_action").args(["resume", "rollback", "discard"]).multiple(false)))]
pub struct RecoverArgs {
    /// Operation id, as printed by `recover --list`
    #[arg(value_name = "OP_ID", value_parser = parse_op_id, requires = "op_action")]
    pub op_id: Option<String>,

    /// List operations of this cluster that did not finish or whose backup still exists
    #[arg(long, conflicts_with_all = ["op_id", "resume", "rollback", "discard"])]
    pub list: bool,

    /// With --list: also operations recorded against other clusters
    #[arg(long, conflicts_with_all = ["op_id", "resume", "rollback", "discard"])]
    pub all_clusters: bool,

    /// Continue OP_ID from its last completed step
    #[arg(long, requires = "op_id")]
    pub resume: bool,

    /// Undo OP_ID: recreate what it deleted from its backup
    #[arg(long, requires = "op_id")]
    pub rollback: bool,

    /// Drop OP_ID's backup (its ConfigMap; the journal record is marked discarded) and leave
    /// the endpoint as it is
    #[arg(long, requires = "op_id")]
    pub discard: bool,

    /// Do not ask for confirmation (required when stdin is not a terminal); the plan is shown
    /// first either way
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// What to do when finalizers block the deletion being finished
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = FinalizerPolicy::Never)]
    pub finalizers: FinalizerPolicy,

    /// Deadline for verifying that every deleted object is gone
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_deadline)]
    pub timeout: Duration,

    /// Deadline for the endpoint to become ready
    #[arg(long, value_name = "DURATION", default_value = "600s", value_parser = parse_deadline)]
    pub ready_timeout: Duration,

    /// Result format
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_enum, default_value_t = ProgressFormat::Text)]
    pub output: ProgressFormat,
}

/// What `recover` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoverAction {
    List,
    Resume(String),
    Rollback(String),
    Discard(String),
}

impl RecoverArgs {
    pub fn action(&self) -> RecoverAction {
        match &self.op_id {
            Some(id) if self.resume => RecoverAction::Resume(id.clone()),
            Some(id) if self.rollback => RecoverAction::Rollback(id.clone()),
            Some(id) if self.discard => RecoverAction::Discard(id.clone()),
            _ => RecoverAction::List,
        }
    }
}

#[cfg(test)]
mod tests;
