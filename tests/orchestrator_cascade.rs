//! Issue 8, cases 4 and 14, through the real binary against the simulator: after an escalation
//! (strip the root's finalizer) every UID of the endpoint, the cascade included, is verified gone
//! before anything is created, and the pods the cascade deletes are force-deleted (grace 0) as
//! the policy promises; force-delete of an object stuck for longer than the deadline fails (or,
//! in the console, asks) at once; force-delete and strip-finalizers speak their own words, never
//! a redeploy's.

mod common;
mod orchestrator;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use common::audit::audit_line;
use orchestrator::DEADLINE;
use orchestrator::cluster::{Cluster, K};
use orchestrator::console::{Console, Run, is_progress};
use orchestrator::endpoint::Ep;

const STUCK_POD: &str = "whisper-large-6c9d7f5b8-q2x7k";
const STUCK_FINALIZER: &str = "example.com/stuck-volume-cleanup";

/// Words of the redeploy plan that a force-delete or strip-finalizers must never say.
const REDEPLOY_WORDS: &[&str] = &[
    "redeploy",
    "Redeploy",
    "restored from the backup",
    "rolled back",
    "roll back",
    "rollback",
    "backup ConfigMap",
    "--resume",
];

fn uid(v: &Value) -> String {
    v["metadata"]["uid"].as_str().unwrap_or("").to_string()
}

/// `--finalizers strip` on the InferenceService Terminating for 12m (overdue: escalated at
/// once). While it runs the test lists the cluster: once the new InferenceService exists, no
/// old pod may still be listed. Afterwards the audit shows every old pod deleted by the console
/// with grace period 0 before the create, and the progress shows each old UID verified gone
/// before the create step began.
#[test]
fn strip_verifies_the_whole_cascade_before_creating_and_force_deletes_its_pods() {
    let c = Cluster::start("stuck-finalizer");
    let con = Console::new(&c);
    let ep = Ep::kserve("llm-prod", "llama-3-70b-instruct");
    let isvc = c
        .get(K::InferenceService, &ep.ns, &ep.name)
        .expect("the stuck InferenceService");
    assert!(
        isvc["metadata"]["deletionTimestamp"].is_string(),
        "scenario: the InferenceService is not Terminating"
    );
    let old_pods: BTreeMap<String, String> = ep
        .pods(&c)
        .iter()
        .map(|p| {
            (
                uid(p),
                p["metadata"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(!old_pods.is_empty(), "scenario: the endpoint has no pods");
    let seq = c.audit_seq();
    let running = con.spawn(&["redeploy", &ep.arg(), "--yes", "--finalizers", "strip"]);
    // The symptom, seen from outside: the new InferenceService beside old pods.
    let mut beside = Vec::new();
    let started = std::time::Instant::now();
    while started.elapsed() < DEADLINE {
        let new_isvc = c
            .get(K::InferenceService, &ep.ns, &ep.name)
            .filter(|v| uid(v) != uid(&isvc));
        let pods = c.list(K::Pod, &ep.ns, None);
        if new_isvc.is_some() {
            beside.extend(
                pods.iter()
                    .filter(|p| old_pods.contains_key(&uid(p)))
                    .map(|p| p["metadata"]["name"].as_str().unwrap_or("").to_string()),
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let run = running.finish(DEADLINE);
    run.expect_code(0);
    assert!(
        beside.is_empty(),
        "the new InferenceService was created while old pods were still listed: {beside:?}\n{}",
        run.explain()
    );

    // Progress: each old pod verified gone before the create step began.
    let lines: Vec<&str> = run.stderr.lines().collect();
    let create_at = lines
        .iter()
        .position(|l| is_progress(l, "create", "running"))
        .unwrap_or_else(|| panic!("no create step:\n{}", run.explain()));
    for name in old_pods.values() {
        let verified = format!("Verified deletion of Pod {name}");
        let at = lines.iter().position(|l| l.contains(&verified));
        assert!(
            at.is_some_and(|i| i < create_at),
            "old pod {name} not verified gone before the create step:\n{}",
            run.explain()
        );
    }

    // Audit: every old pod deleted by the console with grace period 0, before the create.
    let (audit, _) = c.audit_since(seq);
    let create = audit
        .iter()
        .find(|e| {
            e["verb"] == "create"
                && e["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/inferenceservices"))
        })
        .unwrap_or_else(|| panic!("no create of the InferenceService in the audit"));
    let create_seq = create["seq"].as_u64().unwrap_or(0);
    let pod_deletes: Vec<String> = audit
        .iter()
        .filter(|e| {
            e["verb"] == "delete" && e["path"].as_str().is_some_and(|p| p.contains("/pods/"))
        })
        .map(audit_line)
        .collect();
    for name in old_pods.values() {
        let path = format!("/api/v1/namespaces/{}/pods/{name}", ep.ns);
        let forced = audit.iter().find(|e| {
            e["verb"] == "delete" && e["path"] == path.as_str() && e["gracePeriodSeconds"] == 0
        });
        let forced_seq = forced.and_then(|e| e["seq"].as_u64());
        assert!(
            forced_seq.is_some_and(|s| s < create_seq),
            "old pod {name} was not force-deleted (grace 0) before the create (#{create_seq}); \
             pod deletes: {pod_deletes:#?}\n{}",
            run.explain()
        );
    }
    ep.ready(&c)
        .unwrap_or_else(|why| panic!("not Ready: {why}\n{}", run.explain()));
}

/// At the deadline, objects that no one has deleted yet (their owner is held by a finalizer)
/// are named as waiting for garbage collection, not as Terminating; only the InferenceService
/// is held by a finalizer. With `never` nothing is stripped.
#[test]
fn dependents_of_a_stuck_owner_are_waiting_for_garbage_collection() {
    let c = Cluster::start("stuck-finalizer");
    let con = Console::new(&c);
    let ep = Ep::kserve("llm-prod", "llama-3-8b-instruct");
    ep.wait_ready(&c, DEADLINE);
    let run = con.run(
        &[
            "redeploy",
            &ep.arg(),
            "--yes",
            "--finalizers",
            "never",
            "--timeout",
            "2s",
        ],
        DEADLINE,
    );
    run.expect_code(1);
    let deployment = ep.deployment();
    let waiting = format!(
        "Deployment {}/{deployment} is waiting for garbage collection",
        ep.ns
    );
    run.expect_text(&waiting);
    run.expect_text(&format!(
        "InferenceService {}/{} is Terminating",
        ep.ns, ep.name
    ));
    for line in run.stderr.lines().chain(run.stdout.lines()) {
        for kind in ["Deployment", "Service", "ReplicaSet", "Pod", "Ingress"] {
            let bad = format!("{kind} {}/", ep.ns);
            assert!(
                !(line.contains(&bad)
                    && line.contains("is Terminating")
                    && !line.contains("InferenceService")),
                "an object nobody deleted is called Terminating: {line}\n{}",
                run.explain()
            );
        }
    }
}

/// Asserts that `run` says none of the redeploy's words.
fn assert_own_words(run: &Run) {
    for word in REDEPLOY_WORDS {
        for line in run.stdout.lines().chain(run.stderr.lines()) {
            assert!(
                !line.contains(word),
                "`llmops-console {}` says {word:?}: {line}\n{}",
                run.args.join(" "),
                run.explain()
            );
        }
    }
}

/// Force-delete of the pod Terminating for 47m behind a finalizer, `never`: it fails at once
/// (the deadline is not waited out again: 10 minutes would make the test's own deadline fail),
/// naming the finalizer and the force-delete command that works, in force-delete's words.
/// That command then works. strip-finalizers speaks its own words too.
#[test]
fn force_delete_and_strip_finalizers_use_their_own_words_and_advice() {
    let c = Cluster::start("stuck-finalizer");
    let con = Console::new(&c);
    let ep = Ep::raw("llm-prod", "whisper-large");
    assert!(
        c.get(K::Pod, &ep.ns, STUCK_POD).is_some(),
        "scenario: no stuck pod"
    );
    let failed = con.run(
        &[
            "force-delete",
            &ep.arg(),
            "--kind",
            "pod",
            "--name",
            STUCK_POD,
            "--yes",
            "--timeout",
            "10m",
        ],
        DEADLINE,
    );
    failed.expect_code(1);
    failed
        .expect_text(STUCK_FINALIZER)
        .expect_text("longer than the deletion deadline (10m): with --finalizers never this cannot finish, so nothing was deleted");
    let advice = format!(
        "llmops-console force-delete {} --kind pod --name {STUCK_POD} --finalizers strip",
        ep.arg()
    );
    failed.expect_text(&advice);
    assert_own_words(&failed);
    assert!(
        c.get(K::Pod, &ep.ns, STUCK_POD).is_some(),
        "the pod went although the command failed"
    );
    // The advice, word for word (less the program name).
    let args: Vec<&str> = advice.split_whitespace().skip(1).chain(["--yes"]).collect();
    let ok = con.run(&args, DEADLINE);
    ok.expect_code(0);
    assert_own_words(&ok);
    assert!(
        c.get(K::Pod, &ep.ns, STUCK_POD).is_none(),
        "stuck pod still there:\n{}",
        ok.explain()
    );

    // strip-finalizers of the stuck InferenceService: its own words.
    let strip = con.run(
        &[
            "strip-finalizers",
            "llm-prod/inferenceservice/llama-3-70b-instruct",
            "--yes",
        ],
        DEADLINE,
    );
    strip.expect_code(0);
    assert_own_words(&strip);
}

/// The resources pane's endpoint (`ns/name`) from its title.
fn resources_title(screen: &str) -> Option<String> {
    let at = screen.find("Resources ")?;
    screen[at..].split_whitespace().nth(1).map(str::to_string)
}

/// The detail pane's header (`Kind ns/name  age ...`) or an empty string.
fn detail_header(screen: &str) -> String {
    screen
        .lines()
        .skip_while(|l| !l.contains("[Detail]"))
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// Case 14 in a real terminal: in `demo` (stuck-finalizer), `D` on whisper-large's pod stuck
/// Terminating for 47m, confirmed without "also strip": the question comes before the 120 s
/// verification deadline could have passed (waited for until the question or the outcome shows,
/// whichever comes first), in force-delete's words; `y` strips and the operation succeeds.
#[test]
fn console_force_delete_of_the_stuck_pod_asks_at_once() {
    use common::tmux::{SCREEN_DEADLINE, Tmux, frame, sh_quote, tmux_available};
    if !tmux_available("console_force_delete_of_the_stuck_pod_asks_at_once") {
        return;
    }
    let home = tempfile::tempdir().expect("temp dir");
    let p = |d: &str| home.path().join(d).display().to_string();
    let env = [
        ("LLMOPS_CONSOLE_CONFIG_DIR", p("config")),
        ("LLMOPS_CONSOLE_STATE_DIR", p("state")),
        ("HOME", p("home")),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let program = format!("{} demo; exec sleep 120", sh_quote(common::BIN));
    let tmux = Tmux::start(&program, 200, 50, &env);
    tmux.wait_until("the first screen, watches live", DEADLINE, |s| {
        s.contains("watches live") && s.contains("isvc/llama-3-70b-instruct")
    });
    for _ in 0..10 {
        let screen = tmux.settled();
        let title = resources_title(&screen);
        if title.as_deref() == Some("llm-prod/whisper-large") {
            break;
        }
        tmux.keys(&["j"]);
        tmux.wait_until("the selection moving", SCREEN_DEADLINE, |s| {
            resources_title(s) != title
        });
    }
    tmux.wait_for(STUCK_POD);
    tmux.keys(&["Enter"]);
    tmux.wait_for("┏ Resources llm-prod/whisper-large");
    let pod_detail = format!("Pod llm-prod/{STUCK_POD}");
    let mut on_pod = tmux.settled();
    for _ in 0..12 {
        if detail_header(&on_pod).contains(&pod_detail) {
            break;
        }
        let header = detail_header(&on_pod);
        tmux.keys(&["j"]);
        on_pod = tmux.wait_until("the detail following the selection", SCREEN_DEADLINE, |s| {
            detail_header(s) != header
        });
    }
    assert!(
        detail_header(&on_pod).contains(&pod_detail),
        "never reached the stuck pod:\n{}",
        frame(&on_pod)
    );
    tmux.keys(&["D"]);
    tmux.wait_for(&format!(
        "Force-delete pod/{STUCK_POD} of llm-prod/whisper-large"
    ));
    tmux.type_text("whisper-large");
    tmux.keys(&["Enter"]);
    // The question, or the outcome of an operation that never asked (after its deadline).
    let verification_deadline = Duration::from_secs(120);
    let screen = tmux.wait_until(
        "the question, or the operation's outcome",
        verification_deadline + DEADLINE,
        |s| s.contains("objects are stuck ") || s.contains("✖ failed"),
    );
    assert!(
        screen.contains("objects are stuck "),
        "the operation ended without asking:\n{}",
        frame(&screen)
    );
    let popup: String = screen
        .lines()
        .filter_map(|l| l.split_once(['║', '╔', '╚']).map(|(_, r)| format!("{r}\n")))
        .collect();
    for want in [
        "force-delete llm-prod/whisper-large Pod/",
        "Strip their finalizers and delete again?",
        STUCK_FINALIZER,
        "the force-delete fails and leaves them as they are",
    ] {
        assert!(popup.contains(want), "no {want:?}:\n{}", frame(&screen));
    }
    for word in ["backup", "redeploy", "restored"] {
        assert!(!popup.contains(word), "{word:?} in:\n{}", frame(&screen));
    }
    tmux.keys(&["y"]);
    tmux.wait_until("the force-delete succeeding", DEADLINE, |s| {
        s.contains("✔ succeeded")
    });
}
