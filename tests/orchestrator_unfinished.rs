//! Issue 8, cases 5 and 10, against the real binary and the simulator:
//! - an endpoint already stuck behind a finalizer is refused in preflight under `--finalizers
//!   never` (exit 1) with nothing deleted or backed up, and the command it names works;
//! - an endpoint with an unfinished operation: the next `redeploy` names it and the exact
//!   `recover` command before doing anything (exit 3: the operation holds the endpoint as a lock
//!   would), and `redeploy --continue` finishes it;
//! - after a kill -9 with the endpoint's objects gone, `status` and `redeploy` name the operation
//!   and the command instead of "no endpoint".

mod common;
mod orchestrator;

use std::time::{Duration, Instant};

use serde_json::Value;

use orchestrator::cluster::{Cluster, K};
use orchestrator::console::{Console, Run};
use orchestrator::endpoint::Ep;
use orchestrator::{DEADLINE, scenario};

/// Audit entries after `seq` that change something (any write verb), leases aside (taking and
/// releasing the lock is not a change to the endpoint).
fn writes_since(c: &Cluster, seq: u64) -> Vec<Value> {
    let (audit, _) = c.audit_since(seq);
    audit
        .into_iter()
        .filter(|e| {
            matches!(
                e["verb"].as_str(),
                Some("create" | "update" | "patch" | "delete" | "deletecollection")
            )
        })
        .filter(|e| {
            let p = e["path"].as_str().unwrap_or("");
            !p.contains("/leases")
                && !p.contains("selfsubjectaccessreviews")
                && !p.contains("/events")
        })
        .collect()
}

fn op_of(run: &Run) -> String {
    run.result()["op_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no op_id:\n{}", run.explain()))
        .to_string()
}

/// Case 5 (a): `never` on the InferenceService Terminating for 12m is refused in preflight, with
/// no backup, no journal snapshot and no delete; the command it names succeeds. The same for
/// force-delete of the endpoint whose old pod is stuck for 47m.
#[test]
fn already_stuck_endpoints_are_refused_in_preflight_and_the_named_command_works() {
    let c = Cluster::start("stuck-finalizer");
    let con = Console::new(&c);
    let ep = Ep::kserve("llm-prod", "llama-3-70b-instruct");
    let isvc = c
        .get(K::InferenceService, &ep.ns, &ep.name)
        .expect("the stuck InferenceService");
    assert!(
        isvc["metadata"]["deletionTimestamp"].is_string(),
        "{isvc:#}"
    );
    let seq = c.audit_seq();
    let never = con.run(
        &[
            "redeploy",
            &ep.arg(),
            "--finalizers",
            "never",
            "--yes",
            "-o",
            "json",
        ],
        DEADLINE,
    );
    never.expect_code(1);
    let r = never.result();
    assert_eq!(r["failed_step"], "preflight", "{}", never.explain());
    let msg = r["message"].as_str().unwrap_or_default();
    for want in [
        "InferenceService llm-prod/llama-3-70b-instruct has been Terminating for 12m",
        "inferenceservice.finalizers",
        "nothing was deleted or backed up",
        "`llmops-console redeploy llm-prod/llama-3-70b-instruct --finalizers strip`",
        // Not strip-finalizers on the InferenceService: nothing is backed up yet, its spec
        // would be lost with it.
        "not strip-finalizers on the endpoint's own objects",
    ] {
        assert!(msg.contains(want), "no {want:?} in {msg}");
    }
    assert!(
        !msg.contains("`llmops-console strip-finalizers"),
        "advises a strip that loses the spec: {msg}"
    );
    assert!(
        c.backup(&ep.ns, &ep.name).is_none(),
        "a backup ConfigMap was written"
    );
    let rec = con.journal(&op_of(&never));
    assert_eq!(rec["backup"].as_array().map(Vec::len), Some(0), "{rec:#}");
    assert_eq!(
        rec["old_objects"].as_array().map(Vec::len),
        Some(0),
        "{rec:#}"
    );
    assert_eq!(rec["state"], "failed", "{rec:#}");
    let writes = writes_since(&c, seq);
    assert!(
        writes.is_empty(),
        "the refused run changed the cluster: {writes:#?}"
    );
    assert!(c.lease(&ep.ns, &ep.name).is_none(), "lease left behind");

    // What it names works, and nothing stands in its way.
    let strip = con.run(
        &[
            "redeploy",
            &ep.arg(),
            "--finalizers",
            "strip",
            "--yes",
            "-o",
            "json",
        ],
        DEADLINE,
    );
    strip.expect_code(0);
    assert_eq!(strip.result()["result"], "succeeded");
    ep.ready(&c)
        .unwrap_or_else(|why| panic!("not Ready: {why}\n{}", strip.explain()));
    assert!(c.backup(&ep.ns, &ep.name).is_none(), "backup left behind");

    // force-delete of the endpoint whose old pod is stuck on a finalizer nothing removes.
    let whisper = Ep::raw("llm-prod", "whisper-large");
    let before = whisper.wait_ready(&c, DEADLINE);
    let seq = c.audit_seq();
    let force = con.run(&["force-delete", &whisper.arg(), "--yes"], DEADLINE);
    force.expect_code(1);
    for want in [
        "Pod llm-prod/whisper-large-6c9d7f5b8-q2x7k has been Terminating for 47m",
        "example.com/stuck-volume-cleanup",
        "`llmops-console force-delete llm-prod/whisper-large --finalizers strip`",
        "`llmops-console strip-finalizers llm-prod/pod/whisper-large-6c9d7f5b8-q2x7k`",
    ] {
        force.expect_text(want);
    }
    let writes = writes_since(&c, seq);
    assert!(
        writes.is_empty(),
        "the refused force-delete changed the cluster: {writes:#?}"
    );
    assert_eq!(whisper.read(&c).uids(), before.uids());
}

/// Case 5 (b): a redeploy that gets stuck during the operation (the InferenceService's finalizer
/// is never removed) cannot roll back and is kept for recovery. The next redeploy names it and
/// the exact command with its own options before doing anything; `--continue` finishes it.
#[test]
fn a_redeploy_left_unfinished_is_named_by_the_next_and_continue_finishes_it() {
    let c = Cluster::start("stuck-finalizer");
    let con = Console::new(&c);
    let ep = Ep::kserve("llm-prod", "llama-3-8b-instruct");
    ep.wait_ready(&c, DEADLINE);
    let first = con.run(
        &[
            "redeploy",
            &ep.arg(),
            "--timeout",
            "3s",
            "--yes",
            "-o",
            "json",
        ],
        DEADLINE,
    );
    first.expect_code(1);
    let op = op_of(&first);
    assert!(
        c.backup(&ep.ns, &ep.name).is_some(),
        "scenario: the stuck operation kept no backup\n{}",
        first.explain()
    );

    // Text: refused with exit 3, naming the operation and the command with these options.
    let kubeconfig = con.kubeconfig.display().to_string();
    let seq = c.audit_seq();
    let args = [
        "redeploy",
        &ep.arg(),
        "--finalizers",
        "strip",
        "--timeout",
        "3s",
        "--yes",
    ];
    let refused = con.run(&args, DEADLINE);
    refused.expect_code(3);
    let resume = format!(
        "`llmops-console recover {op} --resume --finalizers strip --timeout 3s -n llm-prod \
         --kubeconfig {kubeconfig}`"
    );
    refused
        .expect_text(&format!("has an unfinished operation {op}"))
        .expect_text("needs-recovery, found in journal+cluster")
        .expect_text(&resume)
        .expect_text(&format!("llmops-console recover {op} --rollback"))
        .expect_text("--continue");
    // JSON: the same refusal as a result a script reads.
    let mut json_args = args.to_vec();
    json_args.extend(["-o", "json"]);
    let refused_json = con.run(&json_args, DEADLINE);
    refused_json.expect_code(3);
    let r = refused_json.result();
    assert_eq!(r["result"], "lock-held", "{}", refused_json.explain());
    let msg = r["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains(&format!(
            "recover {op} --resume --finalizers strip --timeout 3s -o json -n llm-prod"
        )),
        "{msg}"
    );
    let writes = writes_since(&c, seq);
    assert!(
        writes.is_empty(),
        "a refused redeploy changed the cluster: {writes:#?}"
    );

    // --continue deletes and creates: without --yes (and no terminal) it is refused, as any
    // destructive command.
    let unconfirmed = con.run(
        &["redeploy", &ep.arg(), "--finalizers", "strip", "--continue"],
        DEADLINE,
    );
    unconfirmed.expect_code(2);
    let writes = writes_since(&c, seq);
    assert!(
        writes.is_empty(),
        "an unconfirmed --continue changed the cluster: {writes:#?}"
    );

    // --continue adopts it with the new options: recover's own code path, to the end.
    let mut cont = json_args.clone();
    cont.push("--continue");
    let done = con.run(&cont, DEADLINE);
    done.expect_code(0);
    let r = done.result();
    assert_eq!(r["result"], "succeeded", "{}", done.explain());
    assert_eq!(r["op_id"], op.as_str(), "not the unfinished operation");
    ep.ready(&c)
        .unwrap_or_else(|why| panic!("not Ready: {why}\n{}", done.explain()));
    assert!(c.backup(&ep.ns, &ep.name).is_none(), "backup left behind");
    assert!(c.lease(&ep.ns, &ep.name).is_none(), "lease left behind");
    // Nothing is left to continue: --continue says so (exit 2), a plain redeploy works.
    con.run(&["redeploy", &ep.arg(), "--continue", "--yes"], DEADLINE)
        .expect_code(2)
        .expect_text("has no unfinished operation");
}

/// Polls until no object of `ep` is left (pods and ReplicaSets included).
fn wait_gone(c: &Cluster, ep: &Ep) {
    let started = Instant::now();
    loop {
        let left = ep.read(c).objects.len()
            + ep.pods(c).len()
            + c.list(K::ReplicaSet, &ep.ns, Some(&format!("app={}", ep.name)))
                .len();
        if left == 0 {
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{} still has {left} objects",
            ep.arg()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Case 10: kill -9 in verify-deletion, the objects go; `status` (table and JSON), `redeploy`
/// and `force-delete` name the operation and the command; `redeploy --continue` finishes it.
#[test]
fn after_kill_9_with_the_objects_gone_status_and_redeploy_name_the_operation() {
    const NEW_IMAGE: &str = "ghcr.io/llmops/fast-server:2.0.0";
    let c = Cluster::start(&scenario("faults"));
    let con = Console::new(&c);
    let ep = Ep::raw("orch", "ep");
    ep.wait_ready(&c, DEADLINE);
    let set = format!("image={NEW_IMAGE}");
    let mut running = con.spawn(&["redeploy", "orch/ep", "--yes", "--set", &set, "-o", "json"]);
    let line = running
        .wait_step("verify-deletion", DEADLINE)
        .unwrap_or_else(|| panic!("ended before verify-deletion:\n{}", running.stderr()));
    let op = serde_json::from_str::<Value>(&line).expect("JSON progress")["op_id"]
        .as_str()
        .expect("op_id")
        .to_string();
    running.kill9();
    wait_gone(&c, &ep);
    assert!(c.backup("orch", "ep").is_some(), "no backup after the kill");

    // The step the journal recorded last: verify-deletion, or delete when the kill came between
    // the step's progress line and its journal write.
    let step = con.journal(&op)["step"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        matches!(step.as_str(), "delete" | "verify-deletion"),
        "{step}"
    );
    let cell = format!(
        "Unfinished (operation {op} at {step}; llmops-console recover {op} --resume -n orch)"
    );
    let status = con.run(&["status", "-n", "orch"], DEADLINE);
    status.expect_code(0);
    let row = status
        .stdout
        .lines()
        .find(|l| l.starts_with("orch ") && l.contains(" ep "))
        .unwrap_or_else(|| panic!("no row for orch/ep:\n{}", status.explain()));
    assert!(row.contains(&cell), "{row}");
    let json = con.run(&["status", "-n", "orch", "-o", "json"], DEADLINE);
    json.expect_code(0);
    let v: Value = serde_json::from_str(&json.stdout).expect("status JSON");
    let entry = v
        .as_array()
        .and_then(|a| a.iter().find(|e| e["key"]["name"] == "ep"))
        .unwrap_or_else(|| panic!("no orch/ep in {v:#}"));
    assert_eq!(entry["health"], "Unfinished");
    let u = &entry["unfinished"];
    assert_eq!(u["id"], op.as_str());
    assert_eq!(u["step"], step.as_str());
    assert_eq!(u["kind"], "redeploy");
    assert_eq!(u["foundIn"], "journal+cluster");
    assert_eq!(
        u["command"],
        format!("llmops-console recover {op} --resume -n orch").as_str()
    );

    // redeploy says the same, not "no endpoint".
    let again = con.run(&["redeploy", "orch/ep", "--yes"], DEADLINE);
    again.expect_code(3);
    again
        .expect_text(&format!("unfinished operation {op}"))
        .expect_text(&format!("llmops-console recover {op} --resume"));
    assert!(!again.stderr.contains("no endpoint"), "{}", again.explain());
    // The engine says it too where it reads the endpoint (force-delete goes straight there).
    let force = con.run(&["force-delete", "orch/ep", "--yes"], DEADLINE);
    force.expect_code(3);
    force
        .expect_text("no objects of orch/ep are left")
        .expect_text(&format!("llmops-console recover {op} --resume"));

    let done = con.run(
        &["redeploy", "orch/ep", "--continue", "--yes", "-o", "json"],
        DEADLINE,
    );
    done.expect_code(0);
    assert_eq!(done.result()["op_id"], op.as_str(), "{}", done.explain());
    let st = ep
        .ready(&c)
        .unwrap_or_else(|why| panic!("not Ready: {why}\n{}", done.explain()));
    assert_eq!(
        st.image("ep").as_deref(),
        Some(NEW_IMAGE),
        "not on the decided spec"
    );
    let status = con.run(&["status", "-n", "orch"], DEADLINE);
    assert!(
        !status.stdout.contains("Unfinished"),
        "{}",
        status.explain()
    );
}
