//! Issue 9's small things and item 2 against the real binary:
//! - `demo` refuses `--kubeconfig` / `--context` (exit 2, naming the flag) instead of ignoring
//!   them, and says how loading its simulator goes;
//! - an unknown theme names the real themes directory;
//! - `status` spells MODE as its JSON does;
//! - a lease whose holder died (written into the simulator with an old renewTime, or a huge
//!   duration) shows as "lease expired (holder gone?)" beside the real, stuck Terminating status,
//!   in `status`, its JSON and the TUI (tmux), where a live lease expiring with no watch event
//!   turns the row from Redeploying back to Terminating.

mod common;
mod orchestrator;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use common::BIN;
use common::screen::line_with;
use common::tmux::{Tmux, frame, sh_quote, tmux_available};
use orchestrator::cluster::{Cluster, K};
use orchestrator::console::Console;

const STATUS_DEADLINE: Duration = Duration::from_secs(60);

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("LLMOPS_LOG")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    common::run_with_deadline(c, STATUS_DEADLINE)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn demo_refuses_flags_that_pick_another_cluster() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().display().to_string();
    let env = [("LLMOPS_CONSOLE_CONFIG_DIR", dir.as_str())];
    for args in [
        &["demo", "--kubeconfig", "/tmp/some-kubeconfig"][..],
        &["--kubeconfig", "/tmp/some-kubeconfig", "demo"][..],
        &["demo", "--context", "prod"][..],
    ] {
        let out = run(args, &env);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        let flag = args.iter().find(|a| a.starts_with("--")).unwrap_or(&"");
        assert!(
            err.contains(&format!("{flag} does not apply"))
                && err.contains("its own simulator")
                && err.contains("without `demo`"),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("starting simulator"),
            "refused before loading: {err}"
        );
    }
}

#[test]
fn demo_says_how_loading_its_simulator_goes() {
    // No terminal here: the console cannot start, but the simulator loads first and says so,
    // one line per phase.
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().display().to_string();
    let out = run(
        &["demo", "--scenario", "healthy"],
        &[
            ("LLMOPS_CONSOLE_CONFIG_DIR", dir.as_str()),
            ("LLMOPS_CONSOLE_STATE_DIR", dir.as_str()),
        ],
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("starting simulator: loading healthy (creating objects)"),
        "{err}"
    );
    assert!(
        err.contains("starting simulator: loading healthy (ready, opening the console)"),
        "{err}"
    );
}

#[test]
fn an_unknown_theme_names_the_real_themes_directory() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().display().to_string();
    let out = run(
        &["--theme", "no-such-theme"],
        &[("LLMOPS_CONSOLE_CONFIG_DIR", dir.as_str())],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("unknown theme \"no-such-theme\""), "{err}");
    assert!(
        err.contains(&format!("user themes go in {dir}/themes/NAME.toml")),
        "{err}"
    );
    assert!(!err.contains("<config dir>"), "{err}");
}

/// RFC 3339 with microseconds, as the API writes MicroTime.
fn micro_time(ago: Duration) -> String {
    let secs = i64::try_from(ago.as_secs()).unwrap_or(0);
    let t = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(secs);
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Writes the redeploy lease of `endpoint` as a console that died at verify-deletion would have
/// left it: held by `holder`, renewed `ago`, lasting `secs`.
fn plant_lease(c: &Cluster, ns: &str, endpoint: &str, holder: &str, ago: Duration, secs: i64) {
    let body = json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": format!("llmops-console-{endpoint}"),
            "namespace": ns,
            "annotations": {
                "llmops.io/step": "verify-deletion",
                "llmops.io/operation-id": "op-20261204-000000-dead",
            },
        },
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": secs,
            "acquireTime": micro_time(ago + Duration::from_secs(60)),
            "renewTime": micro_time(ago),
        },
    });
    c.create(K::Lease, ns, &body);
}

fn status_row<'a>(table: &'a str, name: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no row {name}:\n{table}"))
}

#[test]
fn status_shows_an_expired_lease_beside_the_stuck_status_and_spells_mode_as_json() {
    let c = Cluster::start("stuck-finalizer");
    // Died 20 minutes ago; and one whose lease claims to last 68 years.
    plant_lease(
        &c,
        "llm-prod",
        "llama-3-70b-instruct",
        "bob@gone-host/999",
        Duration::from_secs(20 * 60),
        15,
    );
    plant_lease(
        &c,
        "llm-prod",
        "whisper-large",
        "eve@gone-host/666",
        Duration::from_secs(20 * 60),
        i64::from(i32::MAX),
    );
    let console = Console::new(&c);
    let table = console.run(&["status", "-A"], STATUS_DEADLINE);
    assert_eq!(table.code, Some(0), "{}", table.explain());
    for (name, holder) in [
        ("llama-3-70b-instruct", "bob@gone-host/999"),
        ("whisper-large", "eve@gone-host/666"),
    ] {
        let row = status_row(&table.stdout, name);
        assert!(
            row.contains("Terminating") && !row.contains("Redeploying"),
            "{row}\n{}",
            table.stdout
        );
        assert!(
            row.contains(&format!(
                "lease expired (holder gone?) {holder} @ verify-deletion"
            )),
            "{row}"
        );
    }

    let json = console.run(&["status", "-A", "-o", "json"], STATUS_DEADLINE);
    assert_eq!(json.code, Some(0), "{}", json.explain());
    let items: Value = serde_json::from_str(&json.stdout).expect("status JSON");
    let items = items.as_array().expect("an array");
    for item in items {
        let name = item["key"]["name"].as_str().unwrap_or_default();
        let mode = item["key"]["mode"].as_str().unwrap_or_default();
        // MODE is spelled the same in the table and the JSON.
        let row = status_row(&table.stdout, name);
        assert_eq!(row.split_whitespace().nth(2), Some(mode), "{row}\n{item}");
        assert!(["kserve", "raw"].contains(&mode), "{item}");
    }
    let whisper = items
        .iter()
        .find(|i| i["key"]["name"] == "whisper-large")
        .expect("whisper-large in the JSON");
    assert_eq!(whisper["health"], "Terminating", "{whisper}");
    assert_eq!(whisper["lease"]["live"], false, "{whisper}");
    let reason = whisper["reasons"][0].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("lease expired (holder gone?): redeploy by eve@gone-host/666")
            && reason.contains("capped at 300"),
        "{whisper}"
    );
}

/// The title of the resources pane (`Resources NS/NAME`), if shown.
fn resources_title(screen: &str) -> Option<String> {
    let at = screen.find("Resources ")?;
    screen[at..].split_whitespace().nth(1).map(str::to_string)
}

/// The endpoint table's row of `name` (the line where it is followed by its namespace).
fn endpoint_row(screen: &str, name: &str) -> String {
    screen
        .lines()
        .find(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.contains(&name) && words.contains(&"llm-prod")
        })
        .map(str::to_string)
        .unwrap_or_default()
}

#[test]
fn a_lease_expiring_with_no_event_turns_redeploying_back_into_the_stuck_status() {
    if !tmux_available(
        "a_lease_expiring_with_no_event_turns_redeploying_back_into_the_stuck_status",
    ) {
        return;
    }
    let c = Cluster::start("stuck-finalizer");
    // Live for 40 s from now: long enough to see Redeploying once the console has listed.
    plant_lease(
        &c,
        "llm-prod",
        "llama-3-70b-instruct",
        "bob@gone-host/999",
        Duration::ZERO,
        40,
    );
    let home = tempfile::tempdir().expect("temp dir");
    let p = |d: &str| home.path().join(d).display().to_string();
    let program = format!(
        "{} --kubeconfig {} -A; exec sleep 120",
        sh_quote(BIN),
        sh_quote(&c.sim.kubeconfig.display().to_string())
    );
    let (config, state, h) = (p("config"), p("state"), p("home"));
    let env = [
        ("LLMOPS_CONSOLE_CONFIG_DIR", config.as_str()),
        ("LLMOPS_CONSOLE_STATE_DIR", state.as_str()),
        ("HOME", h.as_str()),
    ];
    let tmux = Tmux::start(&program, 200, 50, &env);
    let first = tmux.wait_until(
        "llama-3-70b-instruct Redeploying under the live lease",
        Duration::from_secs(90),
        |s| {
            s.contains("watches live")
                && endpoint_row(s, "llama-3-70b-instruct").contains("Redeploying")
        },
    );
    assert!(!first.contains("lease expired"), "{}", frame(&first));

    // Nothing changes in the cluster; the lease just runs out.
    let expired = tmux.wait_until(
        "llama-3-70b-instruct back to its stuck Terminating status",
        Duration::from_secs(90),
        |s| {
            let row = endpoint_row(s, "llama-3-70b-instruct");
            row.contains("Terminating") && row.contains('✗')
        },
    );
    let row = endpoint_row(&expired, "llama-3-70b-instruct");
    assert!(
        row.contains("⚠ Terminating") && !row.contains("Redeploying"),
        "{row}\n{}",
        frame(&expired)
    );
    // Beside it, once selected: what happened to the lease, and the objects' real state.
    let mut screen = expired;
    for _ in 0..10 {
        if resources_title(&screen).as_deref() == Some("llm-prod/llama-3-70b-instruct") {
            break;
        }
        tmux.keys(&["j"]);
        std::thread::sleep(Duration::from_millis(300));
        screen = tmux.settled();
    }
    let screen = tmux.wait_for("lease expired (holder gone?)");
    let banner = line_with(&screen, "lease expired (holder gone?)");
    assert!(
        banner.contains("redeploy by bob@gone-host/999 at step verify-deletion"),
        "{banner}\n{}",
        frame(&screen)
    );
    assert!(
        line_with(&screen, "isvc/llama-3-70b-instruct").contains("Terminating"),
        "{}",
        frame(&screen)
    );
    tmux.keys(&["q"]);
}
