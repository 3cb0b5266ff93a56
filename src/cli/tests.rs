use std::time::Duration;

use clap::{CommandFactory, Parser, error::ErrorKind};

use super::*;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("llmops-console").chain(args.iter().copied()))
}

fn parsed(args: &[&str]) -> Cli {
    match parse(args) {
        Ok(cli) => cli,
        Err(e) => panic!("{args:?} refused: {e}"),
    }
}

fn refused(args: &[&str]) -> clap::Error {
    match parse(args) {
        Ok(cli) => panic!("{args:?} accepted: {cli:?}"),
        Err(e) => e,
    }
}

#[test]
fn definitions_are_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn no_subcommand_is_the_console() {
    let cli = parsed(&[]);
    assert_eq!(cli.command, None);
    assert_eq!(cli.command_name(), "console");
    assert!(cli.runs_tui());
    assert_eq!(cli.global, GlobalArgs::default());
}

#[test]
fn global_flags_before_and_after_the_subcommand() {
    let cli = parsed(&[
        "--kubeconfig",
        "/tmp/kc",
        "--context",
        "prod",
        "status",
        "-n",
        "llm",
        "--readonly",
        "--theme",
        "mono",
        "--config",
        "/tmp/c.toml",
        "-vv",
    ]);
    let g = &cli.global;
    assert_eq!(
        g.kubeconfig.as_deref(),
        Some(std::path::Path::new("/tmp/kc"))
    );
    assert_eq!(g.context.as_deref(), Some("prod"));
    assert_eq!(g.namespace.as_deref(), Some("llm"));
    assert_eq!(g.theme.as_deref(), Some("mono"));
    assert!(g.readonly && g.is_readonly() && !g.kiosk);
    assert_eq!(g.verbose, 2);
    assert!(!cli.runs_tui());
    assert!(parsed(&["--kiosk"]).global.is_readonly());
    assert!(parsed(&["-A"]).global.all_namespaces);
}

#[test]
fn namespace_and_all_namespaces_conflict() {
    assert_eq!(
        refused(&["-n", "x", "-A"]).kind(),
        ErrorKind::ArgumentConflict
    );
    let e = refused(&["-n", "Bad_NS"]);
    assert!(e.to_string().contains("invalid namespace 'Bad_NS'"), "{e}");
}

#[test]
fn demo_and_sim_defaults() {
    let Some(Command::Demo(demo)) = parsed(&["demo"]).command else {
        panic!("not demo")
    };
    // The demo opens on a real problem: an InferenceService stuck behind its finalizer.
    assert_eq!(
        demo.scenario,
        ScenarioSpec::Builtin("stuck-finalizer".into())
    );
    assert_eq!(demo.seed, None);
    assert!(parsed(&["demo"]).runs_tui());

    let Some(Command::Sim(sim)) = parsed(&["sim", "--write-kubeconfig", "/tmp/k"]).command else {
        panic!("not sim")
    };
    assert_eq!(sim.listen.to_string(), "127.0.0.1:0");
    assert_eq!(sim.scenario, ScenarioSpec::Builtin("healthy".into()));
    assert_eq!(sim.user, "admin");
    assert_eq!(sim.write_kubeconfig, std::path::PathBuf::from("/tmp/k"));

    let args = [
        "sim",
        "--listen",
        "127.0.0.1:7000",
        "--scenario",
        "assets/scenarios/x.yaml",
        "--write-kubeconfig",
        "k",
        "--user",
        "viewer",
        "--seed",
        "7",
    ];
    let Some(Command::Sim(sim)) = parsed(&args).command else {
        panic!("not sim")
    };
    assert_eq!(sim.listen.port(), 7000);
    assert_eq!(
        sim.scenario,
        ScenarioSpec::File("assets/scenarios/x.yaml".into())
    );
    assert_eq!((sim.user.as_str(), sim.seed), ("viewer", Some(7)));
    assert_eq!(refused(&["sim"]).kind(), ErrorKind::MissingRequiredArgument);
}

#[test]
fn redeploy_defaults_and_flags() {
    let Some(Command::Redeploy(r)) = parsed(&["redeploy", "llm/llama"]).command else {
        panic!("not redeploy")
    };
    assert_eq!(r.endpoint.to_string(), "llm/llama");
    assert!(!r.yes);
    assert_eq!(r.timeout, Duration::from_secs(120));
    assert_eq!(r.ready_timeout, Duration::from_secs(600));
    assert_eq!(r.finalizers, FinalizerPolicy::Never);
    assert!(r.overrides.is_empty());
    assert_eq!(r.output, ProgressFormat::Text);

    let args = [
        "redeploy",
        "llm/llama",
        "--yes",
        "--timeout",
        "2m",
        "--ready-timeout",
        "1h",
        "--finalizers",
        "strip",
        "--set",
        "image=vllm:1",
        "--set",
        "replicas=3",
        "-o",
        "json",
    ];
    let Some(Command::Redeploy(r)) = parsed(&args).command else {
        panic!("not redeploy")
    };
    assert!(r.yes);
    assert_eq!(
        (r.timeout, r.ready_timeout),
        (Duration::from_secs(120), Duration::from_secs(3600))
    );
    assert_eq!(r.finalizers, FinalizerPolicy::Strip);
    let keys: Vec<&str> = r.overrides.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, ["image", "replicas"]);
    assert_eq!(r.output, ProgressFormat::Json);
}

#[test]
fn redeploy_refuses_bad_values_by_name() {
    let e = refused(&["redeploy", "badname"]);
    assert_eq!(e.kind(), ErrorKind::ValueValidation);
    assert!(e.to_string().contains("'badname'"), "{e}");
    let e = refused(&["redeploy", "a/b", "--timeout", "90"]);
    assert!(e.to_string().contains("invalid duration '90'"), "{e}");
    let e = refused(&["redeploy", "a/b", "--set", "image"]);
    assert!(
        e.to_string().contains("expected KEY=VALUE, got 'image'")
            || e.to_string().contains("'image'"),
        "{e}"
    );
    assert_eq!(
        refused(&["redeploy", "a/b", "--finalizers", "auto"]).kind(),
        ErrorKind::InvalidValue
    );
    assert_eq!(
        refused(&["redeploy"]).kind(),
        ErrorKind::MissingRequiredArgument
    );
}

#[test]
fn force_delete_kind_and_name_come_together() {
    let Some(Command::ForceDelete(f)) = parsed(&["force-delete", "a/b"]).command else {
        panic!("not force-delete")
    };
    assert_eq!(f.only(), None);
    let Some(Command::ForceDelete(f)) = parsed(&[
        "force-delete",
        "a/b",
        "--kind",
        "Pod",
        "--name",
        "b-0",
        "--yes",
    ])
    .command
    else {
        panic!("not force-delete")
    };
    assert_eq!(f.only(), Some(("Pod", "b-0")));
    assert!(f.yes);
    assert_eq!(
        refused(&["force-delete", "a/b", "--kind", "Pod"]).kind(),
        ErrorKind::MissingRequiredArgument
    );
    assert_eq!(
        refused(&["force-delete", "a/b", "--name", "x"]).kind(),
        ErrorKind::MissingRequiredArgument
    );
}

#[test]
fn strip_finalizers_takes_an_object() {
    let Some(Command::StripFinalizers(s)) = parsed(&["strip-finalizers", "a/isvc/b", "-y"]).command
    else {
        panic!("not strip-finalizers")
    };
    assert_eq!((s.object.kind.as_str(), s.yes), ("isvc", true));
    let e = refused(&["strip-finalizers", "a/b"]);
    assert!(e.to_string().contains("NAMESPACE/KIND/NAME"), "{e}");
}

#[test]
fn recover_modes() {
    let action = |args: &[&str]| match parsed(args).command {
        Some(Command::Recover(r)) => r.action(),
        other => panic!("not recover: {other:?}"),
    };
    assert_eq!(action(&["recover"]), RecoverAction::List);
    assert_eq!(action(&["recover", "--list"]), RecoverAction::List);
    assert_eq!(
        action(&["recover", "op1", "--resume"]),
        RecoverAction::Resume("op1".into())
    );
    assert_eq!(
        action(&["recover", "op1", "--rollback"]),
        RecoverAction::Rollback("op1".into())
    );
    assert_eq!(
        action(&["recover", "op1", "--discard", "--yes"]),
        RecoverAction::Discard("op1".into())
    );
    assert_eq!(
        action(&["recover", "--list", "--all-clusters"]),
        RecoverAction::List
    );
    for bad in [
        &["recover", "op1"][..],
        &["recover", "--resume"],
        &["recover", "op1", "--resume", "--rollback"],
        &["recover", "op1", "--resume", "--discard"],
        &["recover", "op1", "--discard", "--all-clusters"],
        &["recover", "--list", "op1", "--resume"],
        &["recover", "../etc", "--resume"],
    ] {
        refused(bad);
    }
}

#[test]
fn commands_that_change_the_cluster() {
    let changes = |args: &[&str]| parsed(args).command.is_some_and(|c| c.changes_cluster());
    assert!(changes(&["redeploy", "a/b"]));
    assert!(changes(&["force-delete", "a/b"]));
    assert!(changes(&["strip-finalizers", "a/pod/b"]));
    assert!(changes(&["recover", "x", "--rollback"]));
    assert!(changes(&["recover", "x", "--discard"]));
    assert!(!changes(&["recover", "--list"]));
    assert!(!changes(&["status"]));
    assert!(!changes(&["doctor"]));
    assert!(!changes(&["demo"]));
}

#[test]
fn status_output_formats() {
    let format = |args: &[&str]| match parsed(args).command {
        Some(Command::Status(s)) => s.output,
        other => panic!("not status: {other:?}"),
    };
    assert_eq!(format(&["status"]), StatusFormat::Table);
    assert_eq!(format(&["status", "-o", "json"]), StatusFormat::Json);
    assert_eq!(
        refused(&["status", "-o", "yaml"]).kind(),
        ErrorKind::InvalidValue
    );
}
