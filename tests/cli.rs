//! The real binary's command line: help, usage errors and their exit codes.

mod common;

use std::process::{Command, Output};

use common::BIN;

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("LLMOPS_LOG")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_every_command_and_exits_0() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let help = text(&out.stdout);
    for command in [
        "demo",
        "sim",
        "status",
        "redeploy",
        "force-delete",
        "strip-finalizers",
        "recover",
        "completions",
    ] {
        assert!(
            help.contains(&format!("\n  {command} ")),
            "no {command} in:\n{help}"
        );
    }
    // Not offered until it exists (issue 9, item 9).
    assert!(!help.contains("doctor"), "doctor offered in:\n{help}");
    for flag in [
        "--kubeconfig",
        "--context",
        "--namespace",
        "--all-namespaces",
        "--readonly",
        "--kiosk",
        "--theme",
        "--config",
    ] {
        assert!(help.contains(flag), "no {flag} in:\n{help}");
    }
    assert!(
        help.contains("3  refused because a lock is held"),
        "exit codes missing:\n{help}"
    );
}

#[test]
fn unknown_flag_is_usage_error_2() {
    let out = run(&["--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--no-such-flag"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn malformed_endpoint_is_usage_error_2_naming_the_value() {
    let out = run(&["redeploy", "badname"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("'badname'"), "{stderr}");
    assert!(stderr.contains("NAMESPACE/NAME"), "{stderr}");
}

#[test]
fn bad_duration_is_usage_error_2_naming_the_value() {
    let out = run(&["redeploy", "llm/llama", "--timeout", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("invalid duration 'soon'"), "{stderr}");
}

#[test]
fn readonly_refuses_commands_that_change_the_cluster() {
    for args in [
        &["--readonly", "redeploy", "llm/llama", "--yes"][..],
        &["force-delete", "llm/llama", "--kiosk"],
        &["strip-finalizers", "llm/isvc/llama", "--readonly"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("refused under --readonly/--kiosk"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn the_sim_harness_reads_the_listening_line() {
    use common::parse_listening_line;
    assert_eq!(
        parse_listening_line("listening on http://127.0.0.1:43117"),
        Some(("http://127.0.0.1:43117".to_string(), 43117))
    );
    assert_eq!(
        parse_listening_line("sim: listening on http://[::1]:8080/ (scenario healthy)"),
        Some(("http://[::1]:8080".to_string(), 8080))
    );
    assert_eq!(parse_listening_line("listening on 127.0.0.1:80"), None);
    assert_eq!(parse_listening_line("listening on http://127.0.0.1"), None);
    assert_eq!(parse_listening_line("starting"), None);
}

#[test]
fn doctor_is_hidden_but_still_says_it_is_not_available() {
    let out = run(&["doctor"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("not yet available"), "{stderr}");
}

#[test]
fn repeated_or_unordered_duration_units_are_refused() {
    for value in ["1h1h", "30s1m"] {
        let out = run(&["redeploy", "llm/llama", "--timeout", value]);
        assert_eq!(out.status.code(), Some(2), "{value}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&format!("'{value}'")), "{stderr}");
        assert!(stderr.contains("--timeout"), "{stderr}");
    }
}

#[test]
fn version_prints_name_and_version() {
    for flag in ["--version", "-V"] {
        let out = run(&[flag]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let expected = format!("llmops-console {}", env!("CARGO_PKG_VERSION"));
        assert_eq!(stdout.trim(), expected, "{flag}");
    }
}

#[test]
fn completions_print_a_script_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        for command in ["redeploy", "recover"] {
            assert!(script.contains(command), "{shell}: no {command}");
        }
    }
}

#[test]
fn completions_for_an_unknown_shell_is_usage_error_2_naming_the_shells() {
    let out = run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("'tcsh'"), "{stderr}");
    for shell in ["bash", "zsh", "fish"] {
        assert!(stderr.contains(shell), "{stderr}");
    }
    assert!(out.stdout.is_empty());
}

/// A kubeconfig for a server nothing listens on: port 1 on loopback is refused at once.
fn closed_port_kubeconfig(dir: &std::path::Path) -> String {
    let path = dir.join("closed.kubeconfig");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"http://127.0.0.1:1\"}\n\
         users:\n- name: u\n  user: {token: x}\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u}\n\
         current-context: ctx\n",
    )
    .expect("write kubeconfig");
    path.display().to_string()
}

#[test]
fn status_against_a_closed_port_prints_one_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kc = closed_port_kubeconfig(dir.path());
    let out = run(&["--kubeconfig", &kc, "status"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one error, no library log lines:\n{err}");
    assert!(
        lines[0].starts_with("llmops-console status: ")
            && lines[0].contains("http://127.0.0.1:1")
            && lines[0].contains("Connection refused"),
        "{err}"
    );
}

#[test]
fn a_bad_kubeconfig_is_usage_error_2_naming_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bad.kubeconfig");
    std::fs::write(&path, "garbage: [\n").expect("write");
    let kc = path.display().to_string();
    for args in [
        vec!["--kubeconfig", kc.as_str(), "status"],
        vec!["--kubeconfig", kc.as_str(), "redeploy", "ns/ep", "--yes"],
    ] {
        let out = run(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&kc), "{args:?}: {err}");
    }
}
