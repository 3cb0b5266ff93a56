//! The columns where the operation is stopped from outside: a 429 that never ends on the step's
//! own request (the step's deadline must end it, then the rollback), and SIGTERM / SIGHUP while
//! the step runs (handled like Ctrl-C: rollback, or a consistent stop).
//!
//! Every cell ends Ready on the old or the new spec with lease and backup gone, or, when the
//! operation kept its backup for recovery, after `recover OP --rollback --yes` (or `--resume` for
//! an operation that succeeded but could not remove its backup).

use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use super::hostile::{explain, listed};
use crate::orchestrator::DEADLINE;
use crate::orchestrator::cluster::Cluster;
use crate::orchestrator::console::{Console, Run, Running};
use crate::orchestrator::endpoint::{SpecIs, State};
use crate::{assert_backed_up, assert_end, ep, redeploy_args, spawn, static_rule, watches_since};

/// Deadlines of the permanent-429 runs: short, so a cell that waits for its deadline is quick.
const TIMEOUT: &str = "10s";
const READY_TIMEOUT: &str = "15s";

/// A permanent 429 on a watch of `plural`, armed once the step's watch is open; every stream is
/// dropped so the re-watch meets it.
fn arm_watch_429(c: &Cluster, plural: &str, since: u64) {
    let t = Instant::now();
    while watches_since(c, plural, since) == 0 {
        assert!(t.elapsed() < DEADLINE, "the {plural} watch never opened");
        std::thread::sleep(Duration::from_millis(25));
    }
    c.inject(json!({"verb": "watch", "resource": plural, "code": 429, "retryAfterSeconds": 1}));
    c.drop_watches();
}

/// After the run: everything the operation kept is recovered, and the end is asserted.
fn settle(
    c: &Cluster,
    con: &Console,
    before: &State,
    run: Run,
    want: SpecIs,
    what: &str,
) -> String {
    let rc = run.code.unwrap_or(-1);
    let mut runs = vec![run.clone()];
    assert!(
        matches!(rc, 0 | 1 | 4),
        "{what}: exit {rc}\n{}",
        explain(&runs)
    );
    let op = run.result()["op_id"].as_str().unwrap_or("").to_string();
    let state = con.journal(&op)["state"].as_str().unwrap_or("").to_string();
    let mut note = String::new();
    let mut want = want;
    if c.backup("orch", "ep").is_some() || matches!(state.as_str(), "running" | "needs-recovery") {
        // Kept for recovery: listed, manifests held, and one command finishes it.
        assert_backed_up(c, con, &op, before, what);
        assert!(
            listed(con, &op, &mut runs).is_some(),
            "{what}: the operation kept its backup but `recover --list` does not show it\n{}",
            explain(&runs)
        );
        let mode = if rc == 0 { "--resume" } else { "--rollback" };
        let rec = con.run(&["recover", &op, mode, "--yes", "-o", "json"], DEADLINE);
        let ok = rec.code == Some(0);
        runs.push(rec);
        assert!(ok, "{what}: recover {mode}\n{}", explain(&runs));
        note = format!(" (recover {mode})");
        if rc != 0 {
            want = SpecIs::Old;
        }
    }
    let refs: Vec<&Run> = runs.iter().collect();
    format!("{rc} {}{note}", assert_end(c, before, want, what, &refs))
}

pub fn permanent_429_cell(step: &'static str) -> String {
    let what = format!("{step} x permanent-429");
    let c = Cluster::start(&crate::orchestrator::scenario("faults"));
    let con = Console::new(&c);
    let before = ep().wait_ready(&c, DEADLINE);
    if let Some(mut rule) = static_rule(step, 429) {
        if let Some(m) = rule.as_object_mut() {
            m.remove("count");
        }
        c.inject(rule);
    }
    let mut args = redeploy_args();
    args.extend(
        ["--timeout", TIMEOUT, "--ready-timeout", READY_TIMEOUT]
            .iter()
            .map(|s| s.to_string()),
    );
    let started = Instant::now();
    let mut running = spawn(&con, &args);
    match step {
        "verify-deletion" => {
            let since = c.audit_seq();
            assert!(
                running.wait_step("verify-deletion", DEADLINE).is_some(),
                "{what}: no verify-deletion\n{}",
                running.stderr()
            );
            arm_watch_429(&c, "pods", since);
        }
        "verify-ready" => {
            c.controller("deployment", "down");
            let since = c.audit_seq();
            assert!(
                running.wait_step("verify-ready", DEADLINE).is_some(),
                "{what}: no verify-ready\n{}",
                running.stderr()
            );
            arm_watch_429(&c, "deployments", since);
            c.controller("deployment", "up");
        }
        _ => {}
    }
    let run = running.finish(DEADLINE);
    let took = started.elapsed();
    // The throttling ends; what the operation left must now be recoverable.
    c.admin(Method::DELETE, "faults/errors", None);
    let want = if run.code == Some(0) {
        SpecIs::New
    } else {
        SpecIs::Old
    };
    let cell = settle(&c, &con, &before, run, want, &what);
    format!("{cell} {}s", took.as_secs())
}

fn signal(running: &Running, sig: &str) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(running.pid().to_string())
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{sig} {} failed", running.pid());
}

/// SIGTERM or SIGHUP once `step` started.
pub fn signal_cell(step: &'static str, sig: &'static str) -> String {
    let what = format!("{step} x SIG{sig}");
    let c = Cluster::start(&crate::orchestrator::scenario("faults"));
    let con = Console::new(&c);
    let before = ep().wait_ready(&c, DEADLINE);
    let mut running = spawn(&con, &redeploy_args());
    assert!(
        running.wait_step(step, DEADLINE).is_some(),
        "{what}: the redeploy ended before {step}\n{}",
        running.stderr()
    );
    signal(&running, sig);
    let run = running.finish(DEADLINE);
    assert!(
        run.code.is_some(),
        "{what}: SIG{sig} killed the process instead of stopping the operation\n{}",
        run.explain()
    );
    // Stopped during verify-ready the new spec stays; before it, the backup is recreated.
    let want = if run.code == Some(0) || matches!(step, "verify-ready" | "finish") {
        SpecIs::New
    } else {
        SpecIs::Old
    };
    settle(&c, &con, &before, run, want, &what)
}
