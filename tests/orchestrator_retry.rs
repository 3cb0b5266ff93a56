//! Issue 8, cases 6 and 12: retries are visible and steps are bounded by their deadlines.
//!
//! - A permanent 429 (Retry-After 1 s) on `create deployments`: every 429 the simulator answered
//!   has its `retrying` (or final `failed`) line on stderr, the create step ends within
//!   `--timeout`, and the redeploy rolls back. The rule is removed once the create step has
//!   failed (its `failed` line seen): the rollback creates the same Deployment name, and a
//!   throttle that never ends would make the rollback fail too, which is another test (recovery).
//!   The test prints the delay from each 429 (the simulator's audit time) to its line (read here
//!   as it arrives), and the wall time against the documented bound.
//! - `--ready-timeout 20s` with a Deployment that never becomes available (the simulator's
//!   deployment controller down): verify-ready lasts at most 20 s, exit 4, rolled back, and the
//!   rollback says its bound when it starts.
//!
//! No assertion on speed: the bounds asserted are correctness bounds (a step that overran its
//! deadline by 10 s is wrong however fast the machine); the figures are printed.

mod common;
mod orchestrator;

use std::cell::RefCell;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::{Value, json};

use orchestrator::cluster::Cluster;
use orchestrator::console::{Console, Run, is_progress};
use orchestrator::endpoint::{Ep, SpecIs};
use orchestrator::{DEADLINE, scenario};

const NEW_IMAGE: &str = "ghcr.io/llmops/fast-server:2.0.0";

/// Slack on a step's deadline for scheduling on a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(10);

fn ep() -> Ep {
    Ep::raw("orch", "ep")
}

fn json_lines(stderr: &str) -> Vec<Value> {
    stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Milliseconds since the operation started of the first line of `step` in `state`.
fn elapsed_of(lines: &[Value], step: &str, state: &str) -> Option<u64> {
    lines
        .iter()
        .find(|v| v["step"] == step && v["state"] == state)
        .and_then(|v| v["elapsed"].as_u64())
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

/// Ready on the old spec, lease and backup gone.
fn assert_rolled_back(c: &Cluster, before: &orchestrator::endpoint::State, run: &Run) {
    let after = ep()
        .ready(c)
        .unwrap_or_else(|why| panic!("not Ready at the end: {why}\n{}", run.explain()));
    assert_eq!(
        after.spec_is(before, "ep", NEW_IMAGE),
        SpecIs::Old,
        "not on the old spec\n{}",
        run.explain()
    );
    assert!(
        c.lease("orch", "ep").is_none(),
        "lease left\n{}",
        run.explain()
    );
    assert!(
        c.backup("orch", "ep").is_none(),
        "backup left\n{}",
        run.explain()
    );
    let r = run.result();
    assert!(
        r["rollback"]
            .as_str()
            .is_some_and(|s| s.starts_with("rolled back")),
        "no rollback in the result\n{}",
        run.explain()
    );
}

#[test]
fn a_permanent_429_at_create_is_retried_visibly_and_the_step_ends_within_its_deadline() {
    let c = Cluster::start(&scenario("faults"));
    let con = Console::new(&c);
    let before = ep().wait_ready(&c, DEADLINE);
    let since = c.audit_seq();
    // No count: every create of a Deployment is throttled until the rule is removed.
    c.inject(
        json!({"verb": "create", "resource": "deployments", "code": 429,
                    "retryAfterSeconds": 1}),
    );
    let args = [
        "redeploy",
        "orch/ep",
        "--yes",
        "--set",
        &format!("image={NEW_IMAGE}"),
        "-o",
        "json",
        "--timeout",
        "20s",
    ];
    let started = Instant::now();
    let mut running = con.spawn(&args);
    // Each stderr line with the wall-clock time it arrived here.
    let arrivals: RefCell<Vec<(Timestamp, String)>> = RefCell::new(Vec::new());
    let failed = running.wait_line(DEADLINE, |l| {
        arrivals
            .borrow_mut()
            .push((Timestamp::now(), l.to_string()));
        is_progress(l, "create", "failed")
    });
    assert!(
        failed.is_some(),
        "the redeploy ended without failing its create step:\n{}",
        running.stderr()
    );
    let failed_at = Timestamp::now();
    c.admin(reqwest::Method::DELETE, "faults/errors", None);
    let run = running.finish(DEADLINE);
    let wall = started.elapsed();

    // (a) Every 429 answered during the create step has its line.
    let (audit, _) = c.audit_since(since);
    let throttled: Vec<Timestamp> = audit
        .iter()
        .filter(|e| e["verb"] == "create" && e["code"] == 429)
        .filter(|e| {
            e["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/deployments"))
        })
        .filter_map(|e| e["time"].as_str()?.parse::<Timestamp>().ok())
        .filter(|t| *t <= failed_at)
        .collect();
    let lines: Vec<(Timestamp, Value)> = arrivals
        .borrow()
        .iter()
        .filter_map(|(t, l)| Some((*t, serde_json::from_str::<Value>(l).ok()?)))
        .filter(|(_, v)| {
            v["step"] == "create"
                && matches!(v["state"].as_str(), Some("retrying" | "failed"))
                && v["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("create Deployment") && m.contains("429"))
        })
        .collect();
    assert!(
        throttled.len() >= 2,
        "expected several throttled creates, saw {}\n{}",
        throttled.len(),
        run.explain()
    );
    assert_eq!(
        throttled.len(),
        lines.len(),
        "every 429 needs its own retrying/failed line\n{}",
        run.explain()
    );
    let mut delays: Vec<f64> = throttled
        .iter()
        .zip(&lines)
        .map(|(answered, (seen, _))| seen.duration_since(*answered).as_secs_f64())
        .collect();
    for (_, v) in lines.iter().filter(|(_, v)| v["state"] == "retrying") {
        let m = v["message"].as_str().unwrap_or("");
        assert!(
            m.contains("answered 429, Retry-After 1s; attempt ") && m.contains(" (at "),
            "a retry line says the code, the Retry-After and when the next attempt goes: {m}"
        );
    }
    let max = delays.iter().copied().fold(0.0, f64::max);
    let med = median(&mut delays);

    // (b) The run ends, rolled back, the create step within --timeout.
    let rc = run.code.unwrap_or(-1);
    assert!(matches!(rc, 1 | 4), "exit {rc}\n{}", run.explain());
    assert_rolled_back(&c, &before, &run);
    let progress = json_lines(&run.stderr);
    let create_ms = elapsed_of(&progress, "create", "failed").unwrap_or(0)
        - elapsed_of(&progress, "create", "running").unwrap_or(0);
    assert!(
        Duration::from_millis(create_ms) <= Duration::from_secs(20) + SLACK,
        "the create step took {create_ms} ms, past --timeout 20s\n{}",
        run.explain()
    );
    let rollback_ms = elapsed_of(&progress, "finish", "running").unwrap_or(0)
        - elapsed_of(&progress, "rollback", "running").unwrap_or(0);
    common::shout(&format!(
        "permanent 429 (Retry-After 1s) on create deployments, `llmops-console {}`:\n\
         (a) 429 -> its progress line on stderr: {} answers, max {max:.3}s, median {med:.3}s\n\
         (b) create step {:.1}s (bound: --timeout 20s); rollback {:.1}s (bound: --timeout + \
         --ready-timeout = 20s + 10m); whole redeploy wall {:.1}s, exit {rc}",
        args.join(" "),
        throttled.len(),
        secs(create_ms),
        secs(rollback_ms),
        wall.as_secs_f64()
    ));
}

#[test]
fn ready_timeout_bounds_verify_ready_and_the_rollback_says_its_bound() {
    let c = Cluster::start(&scenario("faults"));
    let con = Console::new(&c);
    let before = ep().wait_ready(&c, DEADLINE);
    let args = [
        "redeploy",
        "orch/ep",
        "--yes",
        "--set",
        &format!("image={NEW_IMAGE}"),
        "-o",
        "json",
        "--ready-timeout",
        "20s",
    ];
    let mut running = con.spawn(&args);
    // The new Deployment never becomes available: no ReplicaSet is made for it.
    assert!(
        running.wait_step("verify-deletion", DEADLINE).is_some(),
        "no verify-deletion:\n{}",
        running.stderr()
    );
    c.controller("deployment", "down");
    assert!(
        running.wait_step("rollback", DEADLINE).is_some(),
        "no rollback:\n{}",
        running.stderr()
    );
    c.controller("deployment", "up");
    let run = running.finish(DEADLINE);
    assert_eq!(run.code, Some(4), "exit code\n{}", run.explain());
    assert_eq!(run.result()["failed_step"], "verify-ready");
    assert_rolled_back(&c, &before, &run);
    let progress = json_lines(&run.stderr);
    let ready_ms = elapsed_of(&progress, "verify-ready", "failed").unwrap_or(u64::MAX)
        - elapsed_of(&progress, "verify-ready", "running").unwrap_or(0);
    assert!(
        Duration::from_millis(ready_ms) <= Duration::from_secs(20) + SLACK,
        "verify-ready lasted {ready_ms} ms with --ready-timeout 20s\n{}",
        run.explain()
    );
    let rollback_line = progress
        .iter()
        .find(|v| v["step"] == "rollback" && v["state"] == "running")
        .and_then(|v| v["message"].as_str())
        .unwrap_or("");
    assert!(
        rollback_line.contains("at most 140s: --timeout 2m + --ready-timeout 20s"),
        "the rollback names its bound when it starts: {rollback_line}"
    );
    let rollback_ms = elapsed_of(&progress, "finish", "running").unwrap_or(0)
        - elapsed_of(&progress, "rollback", "running").unwrap_or(0);
    common::shout(&format!(
        "`llmops-console {}` with a Deployment that never becomes available:\n\
         verify-ready {:.1}s (bound 20s), rollback {:.1}s (bound 140s), exit 4",
        args.join(" "),
        secs(ready_ms),
        secs(rollback_ms)
    ));
}

/// Every call has a deadline: a create the server sits on for 15 s is given up after what is
/// left of `--timeout 5s` ("no answer within ..."), the step fails with exit 4 and the endpoint
/// is rolled back. The latency is removed once the create step failed, so the rollback's own
/// create is answered; the late answer to the abandoned create is a harmless 409.
#[test]
fn a_create_that_gets_no_answer_is_bounded_by_the_step_deadline() {
    let c = Cluster::start(&scenario("faults"));
    let con = Console::new(&c);
    let before = ep().wait_ready(&c, DEADLINE);
    c.admin(
        reqwest::Method::POST,
        "faults/latency",
        Some(json!({"verb": "create", "resource": "deployments", "ms": 15_000})),
    );
    let args = [
        "redeploy",
        "orch/ep",
        "--yes",
        "--set",
        &format!("image={NEW_IMAGE}"),
        "-o",
        "json",
        "--timeout",
        "5s",
    ];
    let mut running = con.spawn(&args);
    let failed = running.wait_line(DEADLINE, |l| is_progress(l, "create", "failed"));
    c.admin(reqwest::Method::DELETE, "faults/latency", None);
    assert!(failed.is_some(), "no create failure:\n{}", running.stderr());
    let run = running.finish(DEADLINE);
    assert_eq!(run.code, Some(4), "a deadline is exit 4\n{}", run.explain());
    let failed = failed.unwrap_or_default();
    assert!(
        failed.contains("no answer within") && failed.contains("deadline"),
        "the failure says the call got no answer before the deadline: {failed}"
    );
    assert_rolled_back(&c, &before, &run);
    let progress = json_lines(&run.stderr);
    let create_ms = elapsed_of(&progress, "create", "failed").unwrap_or(u64::MAX)
        - elapsed_of(&progress, "create", "running").unwrap_or(0);
    assert!(
        Duration::from_millis(create_ms) <= Duration::from_secs(5) + SLACK,
        "the create step took {create_ms} ms with --timeout 5s\n{}",
        run.explain()
    );
    common::shout(&format!(
        "create deployments answered after 15s, `llmops-console {}`: create step {:.1}s \
         (bound: --timeout 5s), exit 4, rolled back",
        args.join(" "),
        secs(create_ms)
    ));
}
