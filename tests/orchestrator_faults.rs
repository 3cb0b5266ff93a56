//! Acceptance 6: faults at every step of a redeploy, and kill -9 at every step followed by
//! `recover --list` and `recover OP --resume` or `--rollback`. In every cell the endpoint ends
//! Ready on the old spec or the new one (`--set image=NEW`: nothing else may differ), the lease
//! and the backup ConfigMap are gone, and the manifests are never lost: whenever an old object is
//! gone, the journal file or the backup ConfigMap holds its manifest.
//!
//! Every cell runs on its own simulator (`scenarios/faults.yaml`), so faults stay in their cell.
//! Each injected fault must be met (a rule with `count` leaves the simulator once it fired; a
//! dropped watch must be re-opened), or the cell fails: a cell that proves nothing is a failure.
//! The matrix is printed even when everything passes.

mod common;
#[path = "orchestrator_faults/hostile.rs"]
mod hostile;
mod orchestrator;
#[path = "orchestrator_faults/stops.rs"]
mod stops;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use orchestrator::cluster::Cluster;
use orchestrator::console::{Console, Run, Running};
use orchestrator::endpoint::{Ep, SpecIs, State};
use orchestrator::{DEADLINE, Job, parallel, scenario};

const NEW_IMAGE: &str = "ghcr.io/llmops/fast-server:2.0.0";
const STEPS: [&str; 9] = [
    "lock",
    "preflight",
    "snapshot",
    "delete",
    "verify-deletion",
    "decide-spec",
    "create",
    "verify-ready",
    "finish",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    E500,
    E429,
    WatchDrop,
    KillResume,
    KillRollback,
    LockRefused,
    Planted,
    Permanent429,
    Sigterm,
    Sighup,
    Skew,
}

const COLS: [Col; 5] = [
    Col::E500,
    Col::E429,
    Col::WatchDrop,
    Col::KillResume,
    Col::KillRollback,
];

/// The second table: other people and the outside world at every step.
const HOSTILE_COLS: [Col; 6] = [
    Col::LockRefused,
    Col::Planted,
    Col::Permanent429,
    Col::Sigterm,
    Col::Sighup,
    Col::Skew,
];

impl Col {
    fn title(self) -> &'static str {
        match self {
            Col::E500 => "500",
            Col::E429 => "429",
            Col::WatchDrop => "watch-drop",
            Col::KillResume => "kill-9+resume",
            Col::KillRollback => "kill-9+rollback",
            Col::LockRefused => "lock-refused+resume",
            Col::Planted => "planted-backup",
            Col::Permanent429 => "permanent-429",
            Col::Sigterm => "SIGTERM",
            Col::Sighup => "SIGHUP",
            Col::Skew => "skewed-holder-clock",
        }
    }
}

/// Steps whose requests include a watch stream.
fn watches(step: &str) -> bool {
    matches!(step, "verify-deletion" | "verify-ready")
}

fn ep() -> Ep {
    Ep::raw("orch", "ep")
}

/// The error rule for a step's own request (one it alone makes in a redeploy of this endpoint),
/// armed before the run; `None` for the watch steps, whose rules are armed while they run.
fn static_rule(step: &str, code: u16) -> Option<Value> {
    let backup = "llmops-console-backup-ep";
    let (verb, resource, name, count) = match step {
        "lock" => ("create", "leases", None, 1),
        "preflight" => ("create", "selfsubjectaccessreviews", None, 1),
        "snapshot" => ("create", "configmaps", None, 1),
        "delete" => ("delete", "deployments", Some("ep"), 1),
        "decide-spec" => ("update", "configmaps", Some(backup), 1),
        "create" => ("create", "deployments", None, 2),
        "finish" => ("delete", "configmaps", Some(backup), 1),
        _ => return None,
    };
    let mut rule = json!({"verb": verb, "resource": resource, "code": code, "count": count});
    if let Some(n) = name {
        rule["name"] = json!(n);
    }
    if code == 429 {
        rule["retryAfterSeconds"] = json!(1);
    }
    Some(rule)
}

fn redeploy_args() -> Vec<String> {
    [
        "redeploy",
        "orch/ep",
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

fn spawn(con: &Console, args: &[String]) -> Running {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    con.spawn(&a)
}

/// Watch requests on `plural` after audit sequence `since`.
fn watches_since(c: &Cluster, plural: &str, since: u64) -> usize {
    let (audit, _) = c.audit_since(since);
    audit
        .iter()
        .filter(|e| e["verb"] == "watch" && e["user"] == "admin")
        .filter(|e| {
            e["path"]
                .as_str()
                .is_some_and(|p| p.ends_with(&format!("/{plural}")))
        })
        .count()
}

/// Arms the fault of a watch step while it runs: an error rule on its watch of `plural` and a
/// drop of every stream (so the re-watch meets the rule), or only drops, until the fault was met
/// (the rule fired / a new watch was opened). Gives what was seen.
fn fault_watches(c: &Cluster, col: Col, plural: &str) -> String {
    let started = Instant::now();
    if let Some(code) = match col {
        Col::E500 => Some(500),
        Col::E429 => Some(429),
        _ => None,
    } {
        let mut rule = json!({"verb": "watch", "resource": plural, "code": code, "count": 2});
        if code == 429 {
            rule["retryAfterSeconds"] = json!(1);
        }
        c.inject(rule);
    }
    loop {
        let since = c.audit_seq();
        c.drop_watches();
        let met = match col {
            Col::WatchDrop => {
                let t = Instant::now();
                loop {
                    if watches_since(c, plural, since) > 0 {
                        break true;
                    }
                    if t.elapsed() > Duration::from_secs(2) {
                        break false;
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
            }
            _ => {
                let t = Instant::now();
                loop {
                    if c.armed_errors().is_empty() {
                        break true;
                    }
                    if t.elapsed() > Duration::from_secs(2) {
                        break false;
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
            }
        };
        if met {
            return format!("met after {:?}", started.elapsed());
        }
        assert!(
            started.elapsed() < DEADLINE,
            "the {plural} watch fault was never met"
        );
    }
}

/// Objects of `before` that are gone or Terminating in `now`, by `Kind/name`.
fn lost_so_far(before: &State, now: &State) -> Vec<String> {
    before
        .objects
        .iter()
        .filter(|(k, old)| match now.objects.get(*k) {
            None => true,
            Some(o) => {
                o["metadata"]["uid"] != old["metadata"]["uid"]
                    || o["metadata"]["deletionTimestamp"].is_string()
            }
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// `Kind/name` of every manifest in a record's backup.
fn backed_up(rec: &Value) -> Vec<String> {
    rec["backup"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    format!(
                        "{}/{}",
                        m["kind"].as_str().unwrap_or(""),
                        m["metadata"]["name"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Manifests never lost: every old object gone by now is in the journal file or the backup
/// ConfigMap.
fn assert_backed_up(c: &Cluster, con: &Console, op: &str, before: &State, what: &str) {
    let lost = lost_so_far(before, &ep().read(c));
    if lost.is_empty() {
        return;
    }
    let mut held = Vec::new();
    if con.journal_dir().join(format!("{op}.json")).is_file() {
        held.extend(backed_up(&con.journal(op)));
    }
    if let Some(cm) = c.backup("orch", "ep")
        && let Some(text) = cm["data"]["operation.json"].as_str()
        && let Ok(rec) = serde_json::from_str::<Value>(text)
    {
        held.extend(backed_up(&rec));
    }
    let missing: Vec<_> = lost.iter().filter(|k| !held.contains(k)).collect();
    assert!(
        missing.is_empty(),
        "{what}: {missing:?} are gone and neither the journal nor the backup ConfigMap holds them (held: {held:?})"
    );
}

/// The end of every cell: Ready on the expected spec, lease and backup gone.
fn assert_end(c: &Cluster, before: &State, want: SpecIs, what: &str, runs: &[&Run]) -> String {
    let explain = || {
        runs.iter()
            .map(|r| r.explain())
            .collect::<Vec<_>>()
            .join("\n\n")
    };
    let after = ep().ready(c).unwrap_or_else(|why| {
        panic!(
            "{what}: endpoint not Ready at the end: {why}\n{}",
            explain()
        )
    });
    let spec = after.spec_is(before, "ep", NEW_IMAGE);
    assert_eq!(spec, want, "{what}: wrong spec at the end\n{}", explain());
    assert!(
        c.lease("orch", "ep").is_none(),
        "{what}: lease left behind\n{}",
        explain()
    );
    assert!(
        c.backup("orch", "ep").is_none(),
        "{what}: backup ConfigMap left behind\n{}",
        explain()
    );
    format!("{} R", spec.word())
}

fn fault_cell(step: &'static str, col: Col) -> String {
    let what = format!("{step} x {}", col.title());
    let c = Cluster::start(&scenario("faults"));
    let con = Console::new(&c);
    let before = ep().wait_ready(&c, DEADLINE);
    let code = if col == Col::E429 { 429 } else { 500 };
    let rule = static_rule(step, code);
    if let Some(r) = &rule {
        c.inject(r.clone());
    }
    let mut running = spawn(&con, &redeploy_args());
    match step {
        "verify-deletion" => {
            // A Terminating line comes from the open watch: it is there to break.
            let seen = running.wait_line(DEADLINE, |l| {
                l.contains("\"verify-deletion\"") && l.contains("Terminating")
            });
            assert!(
                seen.is_some(),
                "{what}: never saw verify-deletion watching\n{}",
                running.stderr()
            );
            fault_watches(&c, col, "pods");
        }
        "verify-ready" => {
            // No new pods until the fault is in place: the step cannot end before it is met.
            assert!(
                running.wait_step("verify-deletion", DEADLINE).is_some(),
                "{what}: no verify-deletion"
            );
            c.controller("deployment", "down");
            assert!(
                running.wait_step("verify-ready", DEADLINE).is_some(),
                "{what}: no verify-ready\n{}",
                running.stderr()
            );
            // Its list+watch of the Deployment must be open before breaking it.
            let since = c.audit_seq().saturating_sub(50);
            let t = Instant::now();
            while watches_since(&c, "deployments", since) == 0 && t.elapsed() < DEADLINE {
                std::thread::sleep(Duration::from_millis(25));
            }
            fault_watches(&c, col, "deployments");
            c.controller("deployment", "up");
        }
        _ => {}
    }
    let run = running.finish(DEADLINE);
    let armed = c.armed_errors();
    assert!(
        armed.is_empty(),
        "{what}: the injected fault was never met (the step makes no such request?): {armed:?}\n{}",
        run.explain()
    );
    let rc = run.code.unwrap_or(-1);
    assert!(
        matches!(rc, 0 | 1 | 4),
        "{what}: exit {rc}\n{}",
        run.explain()
    );
    let r = run.result();
    let op = r["op_id"].as_str().expect("op_id").to_string();
    let state = con.journal(&op)["state"].as_str().unwrap_or("").to_string();
    let mut runs = vec![run.clone()];
    let mut note = "";
    let want = if rc == 0 { SpecIs::New } else { SpecIs::Old };
    if rc != 0 && !matches!(state.as_str(), "failed" | "cancelled") {
        // Left for recovery: the manifests must be held, and recover must finish it.
        assert_backed_up(&c, &con, &op, &before, &what);
        let rec = con.run(
            &["recover", &op, "--rollback", "--yes", "-o", "json"],
            DEADLINE,
        );
        rec.expect_code(0);
        runs.push(rec);
        note = " (recover)";
    }
    let refs: Vec<&Run> = runs.iter().collect();
    let end = assert_end(&c, &before, want, &what, &refs);
    format!("{rc} {end}{note}")
}

fn kill_cell(step: &'static str, col: Col) -> String {
    let what = format!("{step} x {}", col.title());
    let hostile::Killed {
        c,
        con,
        before,
        op,
        mut runs,
    } = hostile::kill_at(step, &what);
    assert_backed_up(
        &c,
        &con,
        &op,
        &before,
        &format!("{what}, right after the kill"),
    );
    let listed = hostile::listed(&con, &op, &mut runs).is_some();
    let mode = if col == Col::KillResume {
        "--resume"
    } else {
        "--rollback"
    };
    let want = if !listed {
        // Killed before the journal was first written: nothing may have changed.
        assert!(
            lost_so_far(&before, &ep().read(&c)).is_empty() && c.lease("orch", "ep").is_none(),
            "{what}: the killed operation changed the cluster but `recover --list` does not show it\n{}",
            hostile::explain(&runs)
        );
        SpecIs::Old
    } else {
        let rec = con.run(&["recover", &op, mode, "--yes", "-o", "json"], DEADLINE);
        let ok = rec.code == Some(0);
        runs.push(rec);
        assert!(
            ok,
            "{what}: recover {mode} failed\n{}",
            hostile::explain(&runs)
        );
        assert!(
            hostile::listed(&con, &op, &mut runs).is_none(),
            "{what}: still listed after recover {mode}\n{}",
            hostile::explain(&runs)
        );
        if col == Col::KillResume && !hostile::before_delete(step) {
            SpecIs::New
        } else {
            SpecIs::Old
        }
    };
    let refs: Vec<&Run> = runs.iter().collect();
    let end = assert_end(&c, &before, want, &what, &refs);
    if listed {
        format!("K {mode} {end}")
    } else {
        format!("K unlisted {end}")
    }
}

fn run_cell(step: &'static str, col: Col) -> String {
    match col {
        Col::KillResume | Col::KillRollback => kill_cell(step, col),
        Col::LockRefused => hostile::lock_refused_cell(step),
        Col::Planted => hostile::planted_cell(step),
        Col::Skew => hostile::skew_cell(step),
        Col::Permanent429 => stops::permanent_429_cell(step),
        Col::Sigterm => stops::signal_cell(step, "TERM"),
        Col::Sighup => stops::signal_cell(step, "HUP"),
        _ => fault_cell(step, col),
    }
}

/// Whether the matrix has a cell for `step` x `col`.
fn applies(step: &str, col: Col) -> bool {
    col != Col::WatchDrop || watches(step)
}

/// Prints one table of results (consumed in step-major order) and collects the failures.
fn table(
    cols: &[Col],
    results: &mut impl Iterator<Item = Result<String, String>>,
    failures: &mut Vec<String>,
) -> String {
    let width = 34;
    let mut table = format!("{:<16}", "step \\ fault");
    for col in cols {
        table.push_str(&format!("| {:<width$}", col.title()));
    }
    table.push('\n');
    for step in STEPS {
        table.push_str(&format!("{step:<16}"));
        for col in cols {
            let cell = if !applies(step, *col) {
                "n/a".to_string()
            } else {
                match results.next().expect("a result per cell") {
                    Ok(cell) => cell,
                    Err(why) => {
                        failures.push(format!("--- {step} x {}:\n{why}", col.title()));
                        "FAILED".to_string()
                    }
                }
            };
            table.push_str(&format!("| {cell:<width$}"));
        }
        table.push('\n');
    }
    table
}

#[test]
fn faults_and_kills_at_every_step_leave_the_endpoint_ready_on_the_old_or_new_spec() {
    let started = Instant::now();
    let mut jobs: Vec<Job<'static, Result<String, String>>> = Vec::new();
    for cols in [&COLS[..], &HOSTILE_COLS[..]] {
        for step in STEPS {
            for &col in cols {
                if !applies(step, col) {
                    continue;
                }
                let name = format!("{step} x {}", col.title());
                // A failed cell is shown in the matrix, and fails the test after it is printed.
                let job: Box<dyn FnOnce() -> Result<String, String> + Send> = Box::new(move || {
                    std::panic::catch_unwind(|| run_cell(step, col)).map_err(|e| {
                        e.downcast_ref::<String>()
                            .cloned()
                            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "(no message)".into())
                    })
                });
                jobs.push((name, job));
            }
        }
    }
    let mut results = parallel(5, jobs).into_iter();
    let mut failures = Vec::new();
    let first = table(&COLS, &mut results, &mut failures);
    let second = table(&HOSTILE_COLS, &mut results, &mut failures);
    common::shout(&format!(
        "redeploy faults matrix (cell: exit code, spec at the end, R = Ready; K = killed with -9, then recover):\n{first}\n\
         hostile and outside stops (cell: exit codes, spec at the end, R = Ready; (recover MODE) = kept its backup and one recover finished it; permanent-429: wall time of the redeploy):\n{second}({:?})",
        started.elapsed()
    ));
    assert!(
        failures.is_empty(),
        "{} cells failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
