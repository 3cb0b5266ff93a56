//! Acceptance tests of the orchestration engine through the real binary against the simulator:
//! `redeploy` on the built-in scenarios (healthy, stuck-finalizer, conflict-409, rbac-denied),
//! `force-delete` and `strip-finalizers` on a stuck pod, `--set` overrides, the `--yes` rule, and
//! Ctrl-C. The lock race is in `orchestrator_lock.rs`, the faults and kill -9 matrix in
//! `orchestrator_faults.rs`.

mod common;
mod orchestrator;

use std::collections::BTreeSet;

use serde_json::{Value, json};

use orchestrator::cluster::{Cluster, K};
use orchestrator::console::{Console, Run};
use orchestrator::endpoint::{Ep, SpecIs, json_diff, key};
use orchestrator::{DEADLINE, parallel, scenario};

/// The seed plan's milestones every successful redeploy logs.
const MILESTONES: &[&str] = &[
    "Starting redeployment for endpoint",
    "Checking if",
    "Attempting to delete",
    "Delete API call successful",
    "Deleted existing Kubernetes resources for endpoint",
    "Verified deletion of",
    "Successfully deployed Kubernetes resources for endpoint",
];

/// Lease and backup ConfigMap gone, journal `succeeded`, a line in the local audit log.
fn assert_cleaned_up(c: &Cluster, con: &Console, ep: &Ep, run: &Run, state: &str) {
    let r = run.result();
    let op = r["op_id"].as_str().expect("op_id").to_string();
    assert!(
        c.lease(&ep.ns, &ep.name).is_none(),
        "lease of {} left behind:\n{}",
        ep.arg(),
        run.explain()
    );
    assert!(
        c.backup(&ep.ns, &ep.name).is_none(),
        "backup ConfigMap of {} left behind:\n{}",
        ep.arg(),
        run.explain()
    );
    let rec = con.journal(&op);
    assert_eq!(rec["state"], state, "journal record of {op}: {rec:#}");
    assert!(
        con.audit_log().lines().any(|l| l.contains(&op)),
        "no line for {op} in the local audit log:\n{}",
        con.audit_log()
    );
}

/// The Event with `reason` on the endpoint's workload with UID `uid`.
fn assert_event(c: &Cluster, ep: &Ep, kind: K, name: &str, uid: &str, reason: &str) {
    let events = c.list(K::Event, &ep.ns, None);
    assert!(
        events.iter().any(|e| e["reason"] == reason
            && e["involvedObject"]["kind"] == kind.kind()
            && e["involvedObject"]["name"] == name
            && e["involvedObject"]["uid"] == uid),
        "no {reason} Event on {} {name} (uid {uid}); events with that reason: {:#?}",
        kind.kind(),
        events
            .iter()
            .filter(|e| e["reason"] == reason)
            .collect::<Vec<_>>()
    );
}

/// Mutating requests in `audit` by `user` on paths containing any of `names`.
fn writes_on(audit: &[Value], user: &str, names: &[String]) -> Vec<String> {
    audit
        .iter()
        .filter(|e| e["user"] == user && common::audit::is_mutating(e))
        .filter(|e| {
            let p = e["path"].as_str().unwrap_or("");
            names.iter().any(|n| p.ends_with(&format!("/{n}")))
        })
        .map(common::audit::audit_line)
        .collect()
}

fn redeploy_checked(c: &Cluster, ep: &Ep) {
    let before = ep.wait_ready(c, DEADLINE);
    let old_pods: BTreeSet<String> = ep
        .pods(c)
        .iter()
        .map(|p| p["metadata"]["uid"].to_string())
        .collect();
    let con = Console::new(c);
    let run = con.run(&["redeploy", &ep.arg(), "--yes", "-o", "json"], DEADLINE);
    run.expect_code(0);
    let r = run.result();
    assert_eq!(r["result"], "succeeded", "{}", run.explain());
    assert_eq!(r["endpoint"]["namespace"], ep.ns.as_str());
    assert_eq!(r["endpoint"]["name"], ep.name.as_str());
    // Ready when the command says so, not eventually.
    let after = ep.ready(c).unwrap_or_else(|why| {
        panic!(
            "{} not Ready after success: {why}\n{}",
            ep.arg(),
            run.explain()
        )
    });
    let (old_uids, new_uids) = (before.uids(), after.uids());
    for (k, uid) in &old_uids {
        assert_ne!(
            new_uids.get(k),
            Some(uid),
            "{k} of {} was not recreated (same UID)\n{}",
            ep.arg(),
            run.explain()
        );
    }
    let mut diffs = Vec::new();
    for (k, spec) in before.specs() {
        let now = after.specs().remove(&k).unwrap_or(Value::Null);
        json_diff(&spec, &now, &k, &mut diffs);
    }
    assert!(
        diffs.is_empty(),
        "{}: spec changed by a plain redeploy:\n{}",
        ep.arg(),
        diffs.join("\n")
    );
    let stale: Vec<_> = ep
        .pods(c)
        .iter()
        .map(|p| p["metadata"]["uid"].to_string())
        .filter(|u| old_pods.contains(u))
        .collect();
    assert!(
        stale.is_empty(),
        "old pods of {} survived the redeploy: {stale:?}",
        ep.arg()
    );
    for m in MILESTONES {
        run.expect_text(m);
    }
    run.expect_text(&format!("Starting redeployment for endpoint {}", ep.arg()));
    let (wk, wn) = ep.objects()[0].clone();
    let workload_uid = &new_uids[&key(wk, &wn)];
    let created: Vec<&Value> = r["created"].as_array().expect("created").iter().collect();
    assert!(
        created.iter().any(|o| o["kind"] == wk.kind()
            && o["name"] == wn.as_str()
            && o["uid"] == workload_uid.as_str()),
        "result.created does not name the new {} {wn} ({workload_uid}): {:#}",
        wk.kind(),
        r["created"]
    );
    assert_cleaned_up(c, &con, ep, &run, "succeeded");
    assert_event(c, ep, wk, &wn, workload_uid, "Redeployed");
}

/// Acceptance 1: a KServe endpoint and a raw endpoint of `healthy`, redeployed at the same time:
/// every object recreated (new UIDs, same sanitised spec, old pods gone), Ready, milestones
/// logged, lease and backup gone, journal `succeeded`, audit line, `Redeployed` Event.
#[test]
fn healthy_redeploy_recreates_every_object_with_the_same_spec() {
    let c = Cluster::start("healthy");
    let eps = [
        Ep::kserve("llm-prod", "mistral-7b-instruct"),
        Ep::raw("llm-prod", "bge-reranker"),
    ];
    let c = &c;
    parallel(
        2,
        eps.iter()
            .map(|ep| {
                (
                    ep.arg(),
                    Box::new(move || redeploy_checked(c, ep)) as Box<dyn FnOnce() + Send>,
                )
            })
            .collect(),
    );
}

/// The first half of acceptance 2: with `--finalizers never` the redeploy of the InferenceService
/// stuck behind `inferenceservice.finalizers` fails (exit 1) naming the object, the finalizer
/// and how to go on, strips nothing and releases the lease. Gives the failed run.
fn never_strip_fails_and_explains(c: &Cluster, con: &Console, ep: &Ep) -> Run {
    let isvc = c
        .get(K::InferenceService, &ep.ns, &ep.name)
        .expect("the stuck InferenceService");
    assert!(
        isvc["metadata"]["deletionTimestamp"].is_string(),
        "scenario: not Terminating: {isvc:#}"
    );
    let seq = c.audit_seq();
    let run = con.run(
        &[
            "redeploy",
            &ep.arg(),
            "--yes",
            "--finalizers",
            "never",
            "--timeout",
            "3s",
        ],
        DEADLINE,
    );
    run.expect_code(1);
    for text in [
        "InferenceService",
        "llama-3-70b-instruct",
        "inferenceservice.finalizers",
        "--finalizers strip",
        "strip-finalizers",
    ] {
        run.expect_text(text);
    }
    let still = c
        .get(K::InferenceService, &ep.ns, &ep.name)
        .expect("still there");
    assert_eq!(still["metadata"]["uid"], isvc["metadata"]["uid"]);
    assert!(
        still["metadata"]["finalizers"]
            .to_string()
            .contains("inferenceservice.finalizers"),
        "--finalizers never stripped the finalizer: {still:#}\n{}",
        run.explain()
    );
    let (audit, _) = c.audit_since(seq);
    let patched: Vec<_> = audit
        .iter()
        .filter(|e| matches!(e["verb"].as_str(), Some("patch" | "update")))
        .filter(|e| {
            e["path"]
                .as_str()
                .is_some_and(|p| p.contains("/inferenceservices/"))
        })
        .map(common::audit::audit_line)
        .collect();
    assert!(
        patched.is_empty(),
        "--finalizers never wrote to the InferenceService: {patched:#?}"
    );
    assert!(
        c.lease(&ep.ns, &ep.name).is_none(),
        "lease left behind after the failure"
    );
    run
}

/// `recover --list -o json`: the run, and the ids of the unfinished operations it lists.
fn unfinished_ops(con: &Console) -> (Run, Vec<String>) {
    let list = con.run(&["recover", "--list", "-o", "json"], DEADLINE);
    list.expect_code(0);
    let ops = list
        .result()
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|u| u["id"].as_str().map(str::to_string))
        .collect();
    (list, ops)
}

/// Acceptance 2: `--finalizers never` on an endpoint that gets stuck during the operation (its
/// InferenceService's finalizer is never removed once deleted) fails and explains; then the way
/// on that works whatever the failed run left (`strip-finalizers`, then `recover OP --resume`,
/// both named in its output) brings the endpoint back Ready. (One stuck before the operation
/// starts is refused in preflight instead: issue 8, case 5.)
#[test]
fn stuck_finalizer_is_named_then_strip_finalizers_and_recover_bring_it_back() {
    let c = Cluster::start("stuck-finalizer");
    let con = Console::new(&c);
    let ep = Ep::kserve("llm-prod", "llama-3-8b-instruct");
    ep.wait_ready(&c, DEADLINE);
    let failed = con.run(
        &[
            "redeploy",
            &ep.arg(),
            "--yes",
            "--finalizers",
            "never",
            "--timeout",
            "3s",
        ],
        DEADLINE,
    );
    failed.expect_code(1);
    for text in [
        "llama-3-8b-instruct",
        "inferenceservice.finalizers",
        "--finalizers strip",
        "strip-finalizers",
    ] {
        failed.expect_text(text);
    }
    let strip = con.run(
        &[
            "strip-finalizers",
            "llm-prod/inferenceservice/llama-3-8b-instruct",
            "--yes",
        ],
        DEADLINE,
    );
    strip.expect_code(0);
    let (list, ops) = unfinished_ops(&con);
    let run = match ops.as_slice() {
        // Nothing left unfinished: the failed run rolled back; a redeploy goes on.
        [] => con.run(&["redeploy", &ep.arg(), "--yes", "-o", "json"], DEADLINE),
        [op] => {
            failed.expect_text(op);
            con.run(
                &["recover", op, "--resume", "--yes", "-o", "json"],
                DEADLINE,
            )
        }
        more => panic!(
            "more than one unfinished operation: {more:?}\n{}",
            list.explain()
        ),
    };
    run.expect_code(0);
    ep.ready(&c)
        .unwrap_or_else(|why| panic!("not Ready: {why}\n{}\n{}", failed.explain(), run.explain()));
    assert!(c.lease(&ep.ns, &ep.name).is_none(), "lease left behind");
    assert!(c.backup(&ep.ns, &ep.name).is_none(), "backup left behind");
}

/// Acceptance 2, as the refusal words it (issue 8, case 5: refused in preflight, nothing left
/// unfinished); following its advice word for word works.
#[test]
fn stuck_finalizer_advice_of_the_failed_run_works_as_written() {
    let c = Cluster::start("stuck-finalizer");
    let con = Console::new(&c);
    let ep = Ep::kserve("llm-prod", "llama-3-70b-instruct");
    let run = never_strip_fails_and_explains(&c, &con, &ep);
    let (_, ops) = unfinished_ops(&con);
    assert!(
        ops.is_empty(),
        "left unfinished: {ops:?}\n{}",
        run.explain()
    );
    let advice = format!("llmops-console redeploy {} --finalizers strip", ep.arg());
    run.expect_text(&advice);
    // As written, plus the --yes a script needs (a terminal would ask for the name instead).
    let again = con.run(
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
    assert_eq!(
        again.code,
        Some(0),
        "the advice of the failed run ({advice}) does not work.\nfirst run:\n{}\n\nsecond run:\n{}",
        run.explain(),
        again.explain()
    );
    ep.ready(&c)
        .unwrap_or_else(|why| panic!("not Ready: {why}\n{}", again.explain()));
    assert!(c.backup(&ep.ns, &ep.name).is_none(), "backup left behind");
}

/// Acceptance 2: `--finalizers strip` on the stuck InferenceService: exit 0, recreated, Ready.
#[test]
fn stuck_finalizer_is_stripped_with_finalizers_strip() {
    let c = Cluster::start("stuck-finalizer");
    let con = Console::new(&c);
    let ep = Ep::kserve("llm-prod", "llama-3-70b-instruct");
    let isvc = c
        .get(K::InferenceService, &ep.ns, &ep.name)
        .expect("the stuck InferenceService");
    let run = con.run(
        &[
            "redeploy",
            &ep.arg(),
            "--yes",
            "--finalizers",
            "strip",
            "-o",
            "json",
        ],
        DEADLINE,
    );
    run.expect_code(0);
    assert_eq!(run.result()["result"], "succeeded");
    run.expect_text("inferenceservice.finalizers");
    let after = ep
        .ready(&c)
        .unwrap_or_else(|why| panic!("not Ready: {why}\n{}", run.explain()));
    let new = &after.objects[&key(K::InferenceService, &ep.name)];
    assert_ne!(
        new["metadata"]["uid"], isvc["metadata"]["uid"],
        "not recreated"
    );
    assert!(new["metadata"]["deletionTimestamp"].is_null());
    assert_eq!(
        orchestrator::endpoint::sanitize(new)["spec"],
        orchestrator::endpoint::sanitize(&isvc)["spec"],
        "the recreated InferenceService has another spec"
    );
    assert_cleaned_up(&c, &con, &ep, &run, "succeeded");
}

const STUCK_POD: &str = "whisper-large-6c9d7f5b8-q2x7k";
const STUCK_FINALIZER: &str = "example.com/stuck-volume-cleanup";

/// Acceptance 2 (pod): `force-delete --kind pod` fails naming `example.com/stuck-volume-cleanup`
/// without `--finalizers strip` and removes the pod with it; `strip-finalizers` removes it too.
/// The endpoint's Deployment is not touched either way.
#[test]
fn stuck_pod_goes_with_force_delete_or_strip_finalizers() {
    let check = |cmds: &[&[&str]], codes: &[i32]| {
        let c = Cluster::start("stuck-finalizer");
        let con = Console::new(&c);
        let ep = Ep::raw("llm-prod", "whisper-large");
        let before = ep.wait_ready(&c, DEADLINE);
        assert!(
            c.get(K::Pod, &ep.ns, STUCK_POD).is_some(),
            "scenario: no stuck pod"
        );
        let mut runs = Vec::new();
        for (args, code) in cmds.iter().zip(codes) {
            let run = con.run(args, DEADLINE);
            run.expect_code(*code);
            if *code != 0 {
                run.expect_text(STUCK_FINALIZER).expect_text(STUCK_POD);
                assert!(
                    c.get(K::Pod, &ep.ns, STUCK_POD).is_some(),
                    "pod gone although the command failed"
                );
            }
            assert!(
                c.lease(&ep.ns, &ep.name).is_none(),
                "lease left behind:\n{}",
                run.explain()
            );
            runs.push(run);
        }
        let last = runs.last().expect("a run");
        assert!(
            c.get(K::Pod, &ep.ns, STUCK_POD).is_none(),
            "stuck pod still there:\n{}",
            last.explain()
        );
        let after = ep
            .ready(&c)
            .unwrap_or_else(|why| panic!("whisper-large not Ready: {why}"));
        assert_eq!(
            before.uids(),
            after.uids(),
            "the endpoint's objects were touched:\n{}",
            last.explain()
        );
    };
    let force: &[&str] = &[
        "force-delete",
        "llm-prod/whisper-large",
        "--kind",
        "pod",
        "--name",
        STUCK_POD,
        "--yes",
        "--timeout",
        "3s",
    ];
    let force_strip: &[&str] = &[
        "force-delete",
        "llm-prod/whisper-large",
        "--kind",
        "pod",
        "--name",
        STUCK_POD,
        "--finalizers",
        "strip",
        "--yes",
    ];
    let strip = format!("llm-prod/pod/{STUCK_POD}");
    let strip: &[&str] = &["strip-finalizers", &strip, "--yes"];
    let check = &check;
    parallel(
        2,
        vec![
            (
                "force-delete".to_string(),
                Box::new(move || check(&[force, force_strip], &[1, 0])) as Box<dyn FnOnce() + Send>,
            ),
            (
                "strip-finalizers".to_string(),
                Box::new(move || check(&[strip], &[0])),
            ),
        ],
    );
}

/// Acceptance 3: `conflict-409`'s Deployment and Service linger 6 s behind
/// `sim.llmops.io/slow-delete`: the redeploy waits for them (and says so) and never meets a
/// 409; with the create race injected (two 409 AlreadyExists), it retries and succeeds.
#[test]
fn conflict_409_waits_for_the_finalizer_and_retries_an_injected_race() {
    let ep = Ep::raw("llm-prod", "mistral-7b-chat");
    let natural = || {
        let c = Cluster::start("conflict-409");
        ep.wait_ready(&c, DEADLINE);
        let seq = c.audit_seq();
        let con = Console::new(&c);
        let run = con.run(&["redeploy", &ep.arg(), "--yes"], DEADLINE);
        run.expect_code(0);
        run.expect_text("sim.llmops.io/slow-delete");
        assert!(
            run.progress("verify-deletion", "running")
                .iter()
                .any(|l| l.contains("sim.llmops.io/slow-delete")),
            "verify-deletion did not report waiting on the finalizer:\n{}",
            run.explain()
        );
        let (audit, _) = c.audit_since(seq);
        let conflicts: Vec<_> = audit
            .iter()
            .filter(|e| e["verb"] == "create" && e["code"] == 409 && e["user"] == "admin")
            .filter(|e| {
                [
                    "/deployments",
                    "/services",
                    "/horizontalpodautoscalers",
                    "/ingresses",
                ]
                .iter()
                .any(|r| e["path"].as_str().unwrap_or("").ends_with(r))
            })
            .map(common::audit::audit_line)
            .collect();
        assert!(
            conflicts.is_empty(),
            "created before the deletion was verified: {conflicts:#?}\n{}",
            run.explain()
        );
        ep.ready(&c)
            .unwrap_or_else(|why| panic!("not Ready: {why}"));
    };
    let injected = || {
        let c = Cluster::start("conflict-409");
        ep.wait_ready(&c, DEADLINE);
        c.inject(
            json!({"verb": "create", "resource": "deployments", "namespace": "llm-prod",
            "code": 409, "reason": "AlreadyExists", "count": 2}),
        );
        let con = Console::new(&c);
        let run = con.run(&["redeploy", &ep.arg(), "--yes", "-o", "json"], DEADLINE);
        run.expect_code(0);
        assert!(
            c.armed_errors().is_empty(),
            "the injected 409s were not all met: {:?}",
            c.armed_errors()
        );
        let retrying = run.progress("create", "retrying");
        assert!(
            retrying.len() >= 2,
            "expected >= 2 `create retrying` lines:\n{}",
            run.explain()
        );
        assert!(
            run.result()["retries"].as_u64().unwrap_or(0) >= 2,
            "result.retries < 2:\n{}",
            run.explain()
        );
        ep.ready(&c)
            .unwrap_or_else(|why| panic!("not Ready: {why}"));
        assert_cleaned_up(&c, &con, &ep, &run, "succeeded");
    };
    parallel(
        2,
        vec![
            (
                "natural".to_string(),
                Box::new(natural) as Box<dyn FnOnce() + Send>,
            ),
            ("injected 409".to_string(), Box::new(injected)),
        ],
    );
}

/// Acceptance 4: user `operator` of `rbac-denied` may not delete InferenceServices: the redeploy
/// stops before any delete, names the permission, and writes nothing to the endpoint's objects.
#[test]
fn rbac_denied_refuses_before_deleting_and_names_the_permission() {
    let c = Cluster::start_as("rbac-denied", "operator");
    let con = Console::new(&c);
    let ep = Ep::kserve("llm-prod", "llama-3-8b-instruct");
    let before = ep.wait_ready(&c, DEADLINE);
    let seq = c.audit_seq();
    let run = con.run(&["redeploy", &ep.arg(), "--yes"], DEADLINE);
    run.expect_code(1);
    run.expect_text("delete")
        .expect_text("inferenceservices")
        .expect_text("llm-prod");
    let (audit, _) = c.audit_since(seq);
    assert!(
        audit.iter().any(|e| e["user"] == "operator"),
        "no request as operator reached the simulator"
    );
    let mut names: Vec<String> = ep.objects().into_iter().map(|(_, n)| n).collect();
    names.extend(
        ep.pods(&c)
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap_or("").to_string()),
    );
    let writes = writes_on(&audit, "operator", &names);
    assert!(
        writes.is_empty(),
        "operator wrote to the endpoint's objects: {writes:#?}\n{}",
        run.explain()
    );
    let deletes: Vec<_> = audit
        .iter()
        .filter(|e| e["user"] == "operator" && e["verb"] == "delete")
        .filter(|e| {
            !e["path"].as_str().unwrap_or("").contains("/leases/")
                && !e["path"].as_str().unwrap_or("").contains("/configmaps/")
        })
        .map(common::audit::audit_line)
        .collect();
    assert!(deletes.is_empty(), "delete requests sent: {deletes:#?}");
    let after = ep
        .ready(&c)
        .unwrap_or_else(|why| panic!("not Ready: {why}"));
    assert_eq!(before.uids(), after.uids());
    assert!(c.lease(&ep.ns, &ep.name).is_none(), "lease left behind");
    assert!(c.backup(&ep.ns, &ep.name).is_none(), "backup left behind");
}

/// Acceptance 7: `--set image=` changes exactly the first container's image, `--set replicas=`
/// the replica count (and the endpoint is Ready with that many), a bad key exits 2 before
/// anything is deleted.
#[test]
fn set_overrides_change_exactly_their_field_and_bad_keys_delete_nothing() {
    let c = Cluster::start(&scenario("fast"));
    let c = &c;
    let changed = |ep: Ep, set: &'static str, path: &'static str, value: Value| {
        let before = ep.wait_ready(c, DEADLINE);
        let con = Console::new(c);
        let run = con.run(
            &["redeploy", &ep.arg(), "--yes", "--set", set, "-o", "json"],
            DEADLINE,
        );
        run.expect_code(0);
        let after = ep
            .ready(c)
            .unwrap_or_else(|why| panic!("not Ready: {why}\n{}", run.explain()));
        let mut diffs = Vec::new();
        for (k, spec) in before.specs() {
            json_diff(&spec, &after.specs()[&k], &k, &mut diffs);
        }
        let want = format!("{}.{path}", key(K::Deployment, &ep.name));
        assert_eq!(
            diffs.len(),
            1,
            "--set {set}: expected only {want} to change, got:\n{}",
            diffs.join("\n")
        );
        assert!(
            diffs[0].starts_with(&format!("{want}: ")),
            "--set {set}: {}",
            diffs[0]
        );
        let d = &after.objects[&key(K::Deployment, &ep.name)];
        assert_eq!(
            d.pointer(&format!("/{}", path.replace('.', "/").replace("[0]", "/0"))),
            Some(&value)
        );
        assert_cleaned_up(c, &con, &ep, &run, "succeeded");
    };
    let bad = || {
        let ep = Ep::raw("orch", "raw-0004");
        let before = ep.wait_ready(c, DEADLINE);
        let seq = c.audit_seq();
        let con = Console::new(c);
        let run = con.run(
            &["redeploy", &ep.arg(), "--yes", "--set", "bogus=1"],
            DEADLINE,
        );
        run.expect_code(2);
        run.expect_text("bogus").expect_text("image");
        let (audit, _) = c.audit_since(seq);
        // Other endpoints are redeployed beside it: only writes on this one's objects count.
        let mut names: Vec<String> = ep.objects().into_iter().map(|(_, n)| n).collect();
        names.extend(
            ep.pods(c)
                .iter()
                .map(|p| p["metadata"]["name"].as_str().unwrap_or("").to_string()),
        );
        let writes = writes_on(&audit, "admin", &names);
        assert!(
            writes.is_empty(),
            "a bad --set key wrote to the endpoint: {writes:#?}\n{}",
            run.explain()
        );
        assert_eq!(before.uids(), ep.read(c).uids());
        assert!(c.lease(&ep.ns, &ep.name).is_none(), "lease left behind");
        assert!(c.backup(&ep.ns, &ep.name).is_none(), "backup left behind");
    };
    parallel(
        3,
        vec![
            (
                "image".to_string(),
                Box::new(move || {
                    changed(
                        Ep::raw("orch", "raw-0002"),
                        "image=ghcr.io/llmops/fast-server:2.0.0",
                        "spec.template.spec.containers[0].image",
                        json!("ghcr.io/llmops/fast-server:2.0.0"),
                    )
                }) as Box<dyn FnOnce() + Send>,
            ),
            (
                "replicas".to_string(),
                Box::new(move || {
                    changed(
                        Ep::raw("orch", "raw-0003"),
                        "replicas=3",
                        "spec.replicas",
                        json!(3),
                    )
                }),
            ),
            ("bad key".to_string(), Box::new(bad)),
        ],
    );
}

/// Acceptance 9: without `--yes` and without a terminal, every destructive command refuses
/// (exit 2) and sends no write at all.
#[test]
fn destructive_commands_without_yes_and_terminal_change_nothing() {
    let c = Cluster::start(&scenario("fast"));
    let con = Console::new(&c);
    let ep = Ep::raw("orch", "raw-0005");
    let before = ep.wait_ready(&c, DEADLINE);
    let pod = ep.pods(&c)[0]["metadata"]["name"]
        .as_str()
        .expect("pod name")
        .to_string();
    let seq = c.audit_seq();
    let strip = format!("orch/pod/{pod}");
    for args in [
        vec!["redeploy", "orch/raw-0005"],
        vec!["force-delete", "orch/raw-0005"],
        vec!["strip-finalizers", &strip],
    ] {
        let run = con.run(&args, DEADLINE);
        run.expect_code(2);
        run.expect_text("--yes");
    }
    let (audit, _) = c.audit_since(seq);
    let writes: Vec<_> = audit
        .iter()
        .filter(|e| e["user"] == "admin" && common::audit::is_mutating(e))
        .map(common::audit::audit_line)
        .collect();
    assert!(writes.is_empty(), "writes without --yes: {writes:#?}");
    assert_eq!(before.uids(), ep.ready(&c).expect("Ready").uids());
}

/// Acceptance 8: Ctrl-C during verify-deletion, and during create (slowed by latency on
/// creating Services, so the new Deployment already stands), rolls back to the old spec: exit
/// 1, result `cancelled`, the endpoint Ready on the old spec, lease and backup gone.
#[test]
fn ctrl_c_after_deletion_rolls_back_to_the_old_spec() {
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
        let mut running = con.spawn(&[
            "redeploy",
            &ep.arg(),
            "--yes",
            "--set",
            "image=ghcr.io/llmops/fast-server:9.9.9",
            "-o",
            "json",
        ]);
        let seen = running.wait_step(step, DEADLINE);
        assert!(
            seen.is_some(),
            "never reached {step}:\n{}",
            running.stderr()
        );
        if step == "create" {
            // The Deployment is created first; the Service create hangs in the latency.
            running.wait_line(DEADLINE, |l| l.contains("Attempting to create Service"));
        }
        running.sigint();
        let run = running.finish(DEADLINE);
        run.expect_code(1);
        let r = run.result();
        assert_eq!(r["result"], "cancelled", "{}", run.explain());
        let after = ep.ready(&c).unwrap_or_else(|why| {
            panic!("not Ready after cancel at {step}: {why}\n{}", run.explain())
        });
        assert_eq!(
            after.spec_is(&before, &ep.name, "ghcr.io/llmops/fast-server:9.9.9"),
            SpecIs::Old,
            "cancel at {step} did not leave the old spec\n{}",
            run.explain()
        );
        assert_cleaned_up(&c, &con, &ep, &run, "cancelled");
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
