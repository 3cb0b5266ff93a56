//! Issue 8, items 7, 9 and 11, through the real binary against the simulator:
//! - SIGTERM and SIGHUP are handled like Ctrl-C: the operation is cancelled and rolled back, the
//!   endpoint ends Ready on the old spec, lease and backup gone; also with stdout and stderr
//!   closed (an SSH drop), and in the console (tmux).
//! - With `-o json` every line on stderr is JSON, with the server failing, unreachable, or the
//!   confirmation refused.
//! - Hostile text from the cluster (ESC, C1, DEL, bidi controls) reaches neither stdout nor
//!   stderr raw, in text or JSON.

mod common;
mod orchestrator;

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::tmux::{Tmux, frame, sh_quote, tmux_available, wait_for_child};
use orchestrator::cluster::{Cluster, K};
use orchestrator::console::{Console, is_progress, signal};
use orchestrator::endpoint::{Ep, SpecIs, State};
use orchestrator::{DEADLINE, parallel, scenario};

const NEW_IMAGE: &str = "ghcr.io/llmops/fast-server:9.9.9";

fn redeploy_args(ep: &Ep) -> Vec<String> {
    let arg = ep.arg();
    [
        "redeploy",
        &arg,
        "--yes",
        "--set",
        &format!("image={NEW_IMAGE}"),
        "-o",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The endpoint Ready on the old spec, its lease and backup ConfigMap gone, the journal of `op`
/// `cancelled`.
fn assert_rolled_back(c: &Cluster, con: &Console, ep: &Ep, before: &State, op: &str, ctx: &str) {
    let after = ep.wait_ready(c, DEADLINE);
    assert_eq!(
        after.spec_is(before, &ep.name, NEW_IMAGE),
        SpecIs::Old,
        "not the old spec\n{ctx}"
    );
    assert!(c.lease(&ep.ns, &ep.name).is_none(), "lease left\n{ctx}");
    assert!(c.backup(&ep.ns, &ep.name).is_none(), "backup left\n{ctx}");
    let rec = con.journal(op);
    assert_eq!(rec["state"], "cancelled", "journal of {op}: {rec:#}\n{ctx}");
}

/// SIGTERM during verify-deletion, and during create (slowed by latency on creating Services, so
/// the new Deployment already stands): exit 1, result `cancelled`, rolled back.
#[test]
fn sigterm_after_deletion_rolls_back_to_the_old_spec() {
    let cancel_at = |step: &'static str, ep: Ep| {
        let c = Cluster::start(&scenario("fast"));
        if step == "create" {
            c.admin(
                reqwest::Method::POST,
                "faults/latency",
                Some(json!({"verb": "create", "resource": "services", "ms": 1500})),
            );
        }
        let before = ep.wait_ready(&c, DEADLINE);
        let con = Console::new(&c);
        let args = redeploy_args(&ep);
        let mut running = con.spawn(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let seen = running.wait_step(step, DEADLINE);
        assert!(
            seen.is_some(),
            "never reached {step}:\n{}",
            running.stderr()
        );
        if step == "create" {
            running.wait_line(DEADLINE, |l| l.contains("Attempting to create Service"));
        }
        running.sigterm();
        let run = running.finish(DEADLINE);
        run.expect_code(1);
        let r = run.result();
        assert_eq!(r["result"], "cancelled", "{}", run.explain());
        assert!(
            run.stderr.contains("SIGTERM: cancelling operation"),
            "{}",
            run.explain()
        );
        assert_every_line_is_json(&run.stderr, &run.explain());
        let op = r["op_id"].as_str().unwrap_or_default().to_string();
        assert_rolled_back(&c, &con, &ep, &before, &op, &run.explain());
    };
    let cancel_at = &cancel_at;
    parallel(
        2,
        vec![
            (
                "verify-deletion".to_string(),
                Box::new(move || cancel_at("verify-deletion", Ep::raw("orch", "raw-0006")))
                    as Box<dyn FnOnce() + Send>,
            ),
            (
                "create".to_string(),
                Box::new(move || cancel_at("create", Ep::raw("orch", "raw-0007"))),
            ),
        ],
    );
}

/// A second SIGTERM leaves at once, as a second Ctrl-C does: exit 1, "left operation ...
/// unfinished", and the backup kept for `recover` (the kubelet is stopped so that the rollback
/// cannot finish in between).
#[test]
fn a_second_sigterm_leaves_at_once_with_the_backup_kept() {
    let c = Cluster::start(&scenario("fast"));
    let ep = Ep::raw("orch", "raw-0009");
    ep.wait_ready(&c, DEADLINE);
    let con = Console::new(&c);
    c.controller("kubelet", "down");
    let args = redeploy_args(&ep);
    let mut running = con.spawn(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let seen = running.wait_step("verify-deletion", DEADLINE);
    assert!(
        seen.is_some(),
        "never reached verify-deletion:\n{}",
        running.stderr()
    );
    running.sigterm();
    running.wait_line(DEADLINE, |l| l.contains("SIGTERM: cancelling operation"));
    running.sigterm();
    let run = running.finish(DEADLINE);
    c.controller("kubelet", "up");
    run.expect_code(1);
    run.expect_text("left operation");
    assert_every_line_is_json(&run.stderr, &run.explain());
    assert!(
        c.backup(&ep.ns, &ep.name).is_some(),
        "the backup is gone:\n{}",
        run.explain()
    );
}

/// Waits for `child` to exit; fails the test (after killing it) past `deadline`.
fn wait_exit(child: &mut Child, deadline: Duration) -> Option<i32> {
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("child status") {
            return s.code();
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {deadline:?}; killed it");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// An SSH drop during verify-deletion: stdout and stderr are pipes whose reading end is closed
/// (every write then fails with EPIPE), and SIGHUP comes twice (the kernel's and the shell's).
/// The process must neither panic on the writes nor leave at the second hangup: it rolls back
/// and exits 1.
#[test]
fn sighup_with_the_terminal_gone_rolls_back_to_the_old_spec() {
    let c = Cluster::start(&scenario("fast"));
    let ep = Ep::raw("orch", "raw-0008");
    let before = ep.wait_ready(&c, DEADLINE);
    let con = Console::new(&c);
    let args = redeploy_args(&ep);
    let mut child = con
        .command(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    let op = loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).unwrap_or(0);
        assert!(n > 0, "ended before verify-deletion:\n{seen}");
        seen.push_str(&line);
        if is_progress(line.trim_end(), "verify-deletion", "running") {
            let v: Value = serde_json::from_str(&line).unwrap_or_default();
            break v["op_id"].as_str().unwrap_or_default().to_string();
        }
    };
    // The connection is gone: nobody reads any more.
    drop(stderr);
    drop(stdout);
    signal(child.id(), "HUP");
    thread::sleep(Duration::from_millis(50));
    signal(child.id(), "HUP");
    let code = wait_exit(&mut child, DEADLINE);
    let ctx = format!("exit {code:?}; stderr before the drop:\n{seen}");
    assert_eq!(code, Some(1), "{ctx}");
    assert_rolled_back(&c, &con, &ep, &before, &op, &ctx);
}

/// Every line parses as JSON.
fn assert_every_line_is_json(stderr: &str, explain: &str) {
    for line in stderr.lines() {
        assert!(
            serde_json::from_str::<Value>(line).is_ok(),
            "not a JSON line on stderr: {line:?}\n{explain}"
        );
    }
}

/// `-o json` with the server failing: a 500 on every step's own request (each run with one
/// step's rule), every request failing, the port closed, the confirmation refused. Debug
/// logging is on (`-vv`), so library log lines are there to be mixed in: every stderr line must
/// still parse as JSON.
#[test]
fn json_stderr_is_json_lines_when_the_server_fails() {
    let c = Cluster::start(&scenario("faults"));
    let ep = Ep::raw("orch", "ep");
    ep.wait_ready(&c, DEADLINE);
    let con = Console::new(&c);
    let mut args = redeploy_args(&ep);
    args.push("-vv".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut logs = 0;
    for (step, rule) in [
        ("lock", json!({"verb": "create", "resource": "leases"})),
        (
            "preflight",
            json!({"verb": "create", "resource": "selfsubjectaccessreviews"}),
        ),
        (
            "snapshot",
            json!({"verb": "create", "resource": "configmaps"}),
        ),
        (
            "delete",
            json!({"verb": "delete", "resource": "deployments", "name": "ep"}),
        ),
        (
            "create",
            json!({"verb": "create", "resource": "deployments"}),
        ),
        ("watch", json!({"verb": "watch", "resource": "pods"})),
    ] {
        let mut rule = rule;
        rule["code"] = json!(500);
        rule["count"] = json!(2);
        c.inject(rule);
        let run = con.run(&args, DEADLINE);
        assert_every_line_is_json(&run.stderr, &format!("500 at {step}\n{}", run.explain()));
        logs += run
            .stderr
            .lines()
            .filter(|l| l.starts_with("{\"log\""))
            .count();
        ep.wait_ready(&c, DEADLINE);
    }
    assert!(
        logs > 0,
        "-vv gave no log line in any run: nothing was tested"
    );

    // No --yes and no terminal: refused before anything, as a JSON line.
    let run = con.run(&["redeploy", "orch/ep", "-o", "json"], DEADLINE);
    run.expect_code(2);
    assert_every_line_is_json(&run.stderr, &run.explain());
    assert!(run.stderr.contains("{\"error\""), "{}", run.explain());

    // Every request fails.
    c.inject(json!({"code": 500}));
    let run = con.run(&args, DEADLINE);
    assert_ne!(run.code, Some(0), "{}", run.explain());
    assert_every_line_is_json(&run.stderr, &run.explain());
    assert!(!run.stderr.trim().is_empty(), "{}", run.explain());

    // Nothing listens on the port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let text = std::fs::read_to_string(&c.sim.kubeconfig).expect("kubeconfig");
    let closed = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(
        closed.path(),
        text.replace(&c.sim.url, &format!("http://127.0.0.1:{port}")),
    )
    .expect("write kubeconfig");
    let mut offline = Console::new(&c);
    offline.kubeconfig = closed.path().to_path_buf();
    // The redeploy fails in its lock step (the result on stdout); the others before anything.
    let run = offline.run(&args, DEADLINE);
    run.expect_code(1);
    assert_every_line_is_json(&run.stderr, &run.explain());
    assert_eq!(run.result()["result"], "failed", "{}", run.explain());
    let run = offline.run(&["status", "-o", "json", "-vv"], DEADLINE);
    run.expect_code(1);
    assert_every_line_is_json(&run.stderr, &run.explain());
    assert!(run.stderr.contains("{\"error\""), "{}", run.explain());
    let run = offline.run(&["recover", "--list", "-o", "json", "-vv"], DEADLINE);
    assert_every_line_is_json(&run.stderr, &run.explain());
}

/// Bytes a terminal would act on: ESC and the other C0 controls but newline and tab, DEL, C1
/// (UTF-8 `C2 80`..`C2 9F`) and the bidi controls.
fn raw_controls(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.chars()
        .filter(|&c| {
            let n = c as u32;
            (n < 0x20 && c != '\n' && c != '\t')
                || (0x7f..=0x9f).contains(&n)
                || matches!(n, 0x202a..=0x202e | 0x2066..=0x2069 | 0x200e | 0x200f | 0x61c)
        })
        .map(|c| format!("U+{:04X}", c as u32))
        .collect()
}

/// A hostile API error message (from an injected fault on the lock's create) reaches the
/// progress lines and the outcome: in text and in JSON, neither stdout nor stderr carries a raw
/// control character, and the JSON still holds the message (escaped).
#[test]
fn hostile_cluster_text_never_reaches_the_output_raw() {
    let c = Cluster::start(&scenario("faults"));
    let ep = Ep::raw("orch", "ep");
    ep.wait_ready(&c, DEADLINE);
    let con = Console::new(&c);
    let hostile = "denied\x1b]52;c;aGk=\x07 \u{9b}2J \x7f \u{202e}gpj.exe \u{2066}x\u{2069}";
    for format in ["text", "json"] {
        c.inject(json!({
            "verb": "create", "resource": "leases", "code": 403, "message": hostile,
        }));
        let args = ["redeploy", "orch/ep", "--yes", "-o", format];
        let mut cmd = con.command(&args);
        let out = run_raw(&mut cmd);
        let ctx = format!(
            "-o {format}: exit {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_ne!(out.status.code(), Some(0), "{ctx}");
        let both = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        assert!(
            String::from_utf8_lossy(&both).contains("gpj.exe"),
            "the hostile message never reached the output: nothing was tested\n{ctx}"
        );
        assert_eq!(
            raw_controls(&out.stdout),
            Vec::<String>::new(),
            "stdout\n{ctx}"
        );
        assert_eq!(
            raw_controls(&out.stderr),
            Vec::<String>::new(),
            "stderr\n{ctx}"
        );
        c.admin(reqwest::Method::DELETE, "faults/errors", None);
    }
    // A lease whose holder is hostile: `status` prints it raw from the cluster, unsanitised by
    // any engine; the JSON must escape it, the table neutralise it.
    c.create(
        K::Lease,
        "orch",
        &json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "llmops-console-ep", "namespace": "orch"},
            "spec": {"holderIdentity": hostile, "leaseDurationSeconds": 3600},
        }),
    );
    for format in ["table", "json"] {
        let out = run_raw(&mut con.command(&["status", "-n", "orch", "-o", format]));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let ctx = format!(
            "status -o {format}: exit {:?}\n--- stdout:\n{stdout}\n--- stderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "{ctx}");
        assert!(
            stdout.contains("gpj.exe"),
            "the holder is not shown: nothing was tested\n{ctx}"
        );
        if format == "json" {
            for escaped in ["\\u001b", "\\u009b", "\\u007f", "\\u202e", "\\u2066"] {
                assert!(stdout.contains(escaped), "no {escaped} in\n{ctx}");
            }
        }
        assert_eq!(
            raw_controls(&out.stdout),
            Vec::<String>::new(),
            "stdout\n{ctx}"
        );
        assert_eq!(
            raw_controls(&out.stderr),
            Vec::<String>::new(),
            "stderr\n{ctx}"
        );
    }
}

fn run_raw(cmd: &mut std::process::Command) -> std::process::Output {
    let child = cmd.spawn().expect("spawn");
    let started = Instant::now();
    let out = child.wait_with_output().expect("output");
    assert!(started.elapsed() < DEADLINE, "took past {DEADLINE:?}");
    out
}

/// Moves the endpoint selection down until the resources pane shows `ns_name`.
fn select_endpoint(tmux: &Tmux, ns_name: &str) {
    let title = |s: &str| {
        let at = s.find("Resources ")?;
        s[at..].split_whitespace().nth(1).map(str::to_string)
    };
    for _ in 0..30 {
        let screen = tmux.settled();
        let now = title(&screen);
        if now.as_deref() == Some(ns_name) {
            return;
        }
        tmux.keys(&["j"]);
        tmux.wait_until("the selection moving", Duration::from_secs(20), |s| {
            title(s) != now
        });
    }
    panic!("{ns_name} never got selected:\n{}", frame(&tmux.capture()));
}

/// The console: a redeploy started from the keyboard, SIGTERM to the console while it waits in
/// verify-deletion (the kubelet is stopped, so the old pods stay Terminating until it is back):
/// the console gives the terminal back, prints the rollback and the outcome, and the endpoint
/// ends Ready on the old objects' spec, lease and backup gone.
#[test]
fn sigterm_to_the_console_during_verify_deletion_rolls_back() {
    signal_to_the_console_during_verify_deletion_rolls_back(
        "sigterm_to_the_console_during_verify_deletion_rolls_back",
        "TERM",
    );
}

/// In raw mode Ctrl-C is a key: a SIGINT comes from outside (`kill -INT`) and must stop the
/// operation as SIGTERM does, not kill the console mid-way.
#[test]
fn sigint_to_the_console_during_verify_deletion_rolls_back() {
    signal_to_the_console_during_verify_deletion_rolls_back(
        "sigint_to_the_console_during_verify_deletion_rolls_back",
        "INT",
    );
}

fn signal_to_the_console_during_verify_deletion_rolls_back(test: &str, sig: &str) {
    if !tmux_available(test) {
        return;
    }
    let c = Cluster::start(&scenario("fast"));
    let ep = Ep::raw("orch", "raw-0003");
    let before = ep.wait_ready(&c, DEADLINE);
    let home = tempfile::tempdir().expect("temp dir");
    let dir = |d: &str| home.path().join(d).display().to_string();
    let env = [
        ("LLMOPS_CONSOLE_CONFIG_DIR", dir("config")),
        ("LLMOPS_CONSOLE_STATE_DIR", dir("state")),
        ("HOME", dir("home")),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let program = format!(
        "{} --kubeconfig {} -n orch; echo \"EXIT=$?\"; exec sleep 120",
        sh_quote(common::BIN),
        sh_quote(&c.sim.kubeconfig.display().to_string())
    );
    let tmux = Tmux::start(&program, 200, 50, &env);
    tmux.wait_until("the first screen", DEADLINE, |s| {
        s.contains("watches live") && s.contains("raw-0003")
    });
    select_endpoint(&tmux, "orch/raw-0003");
    c.controller("kubelet", "down");
    tmux.keys(&["r"]);
    tmux.wait_for("Type the endpoint's name");
    tmux.type_text("raw-0003");
    tmux.keys(&["Enter"]);
    // The lease names the step the operation is in.
    let started = Instant::now();
    loop {
        let step = c
            .lease(&ep.ns, &ep.name)
            .and_then(|l| l.pointer("/metadata/annotations/llmops.io~1step").cloned());
        if step == Some(json!("verify-deletion")) {
            break;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "never in verify-deletion (lease step {step:?}):\n{}",
            frame(&tmux.capture())
        );
        thread::sleep(Duration::from_millis(50));
    }
    let console = wait_for_child(tmux.pane_pid(), "llmops-console");
    signal(console, sig);
    c.controller("kubelet", "up");
    let screen = tmux.wait_until("the console's exit", DEADLINE, |s| s.contains("EXIT="));
    assert!(
        screen.contains("CANCELLED"),
        "no outcome printed after the terminal was restored:\n{}",
        frame(&screen)
    );
    let after = ep.wait_ready(&c, DEADLINE);
    assert_eq!(
        after.spec_is(&before, &ep.name, NEW_IMAGE),
        SpecIs::Old,
        "{}",
        frame(&screen)
    );
    assert!(
        c.lease(&ep.ns, &ep.name).is_none(),
        "lease left\n{}",
        frame(&screen)
    );
    assert!(
        c.backup(&ep.ns, &ep.name).is_none(),
        "backup left\n{}",
        frame(&screen)
    );
    // The journal says the operation was cancelled (rolled back), not left running.
    let journal = home.path().join("state").join("journal");
    let states: Vec<Value> = std::fs::read_dir(&journal)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .filter_map(|t| serde_json::from_str::<Value>(&t).ok())
                .map(|v| v["state"].clone())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(states, vec![json!("cancelled")], "{}", frame(&screen));
}
