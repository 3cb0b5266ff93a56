//! The real console in a real terminal: `llmops-console` driven in tmux (keys in with
//! `send-keys`, screens out with `capture-pane`), against the demo's in-process simulator or a
//! `llmops-console sim` child whose audit log proves what the console sent.
//!
//! Every check waits for screen content with a deadline and fails with the last screen. Without
//! tmux the tests skip loudly (and fail when `LLMOPS_REQUIRE_TMUX` is set, as in `.ci/run`).

mod common;

use std::thread;
use std::time::Duration;

use common::audit::{audit_line, audit_since, is_mutating};
use common::console::{ConsoleHome, select_endpoint, start_console, wrapped};
use common::screen::{
    cell_with, duration_minutes, has_clock, has_duration_after, help_overlay, line_with,
};
use common::tmux::{Tmux, frame, sh_quote, tmux_available, wait_for_child};
use common::{BIN, SimServer};

/// The first screen needs the demo's simulator loaded and settled, and nine watches synced.
const FIRST_SCREEN: Duration = Duration::from_secs(90);
/// How long the console is left alone to show it does not poll.
const IDLE_WINDOW: Duration = Duration::from_secs(3);

const STUCK_POD: &str = "whisper-large-6c9d7f5b8-q2x7k";
const BOX_DRAWING: &[char] = &[
    '┌', '┐', '└', '┘', '│', '─', '┏', '┓', '┗', '┛', '┃', '━', '╭', '╮', '╰', '╯', '║', '═',
];

/// Waits for the console to be gone and checks it left the terminal as it found it: exit code 0,
/// the alternate screen left (the shell's lines visible, no frame left over), the cursor shown,
/// raw mode off.
fn assert_exited_and_restored(tmux: &Tmux) {
    let screen = tmux.wait_until("the wrapper's TTY= line", FIRST_SCREEN, |s| {
        s.contains("TTY=")
    });
    assert!(
        screen.contains("EXIT=0"),
        "the console did not exit 0:\n{}",
        frame(&screen)
    );
    assert!(
        screen.contains("TTY=icanon echo"),
        "the console left the terminal in raw mode (no icanon/echo):\n{}",
        frame(&screen)
    );
    assert!(
        !screen.contains(BOX_DRAWING),
        "a frame of the console is left over on the screen after exit:\n{}",
        frame(&screen)
    );
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "0",
        "the alternate screen is still on after exit:\n{}",
        frame(&screen)
    );
    assert_eq!(
        tmux.format("#{cursor_flag}"),
        "1",
        "the cursor is still hidden after exit"
    );
    assert_eq!(
        tmux.format("#{mouse_any_flag}"),
        "0",
        "mouse capture is still on after exit"
    );
}

#[test]
fn demo_first_screen_then_navigate_help_logs_quit() {
    if !tmux_available("demo_first_screen_then_navigate_help_logs_quit") {
        return;
    }
    let home = ConsoleHome::new();
    let tmux = start_console(&home, &["demo"], 200, 50);

    // No key pressed: the Terminating InferenceService, how long it has been Terminating, its
    // age and the finalizer that holds it.
    let first = tmux.wait_until(
        "the stuck InferenceService with its finalizer, watches live",
        FIRST_SCREEN,
        |s| {
            s.contains("watches live")
                && s.contains("isvc/llama-3-70b-instruct")
                && s.contains("inferenceservice.finalizers")
        },
    );
    let isvc = cell_with(&first, "isvc/llama-3-70b-instruct");
    assert!(
        has_duration_after(isvc, "Terminating", 12),
        "the InferenceService row does not say Terminating for 12m or more: {isvc:?}\n{}",
        frame(&first)
    );
    let age = isvc.trim_end().rsplit(' ').next().unwrap_or_default();
    assert!(
        duration_minutes(age).is_some_and(|m| m >= 12),
        "the InferenceService row has no age of 12m or more at its end: {isvc:?}\n{}",
        frame(&first)
    );
    let endpoint_row = cell_with(&first, "llama-3-70b-instruct   ");
    assert!(
        endpoint_row.contains("Terminating"),
        "the endpoint row of llama-3-70b-instruct does not say Terminating: {endpoint_row:?}"
    );
    let detail = line_with(&first, "Finalizers:");
    assert!(
        detail.contains("inferenceservice.finalizers"),
        "the detail pane does not name the finalizer: {detail:?}\n{}",
        frame(&first)
    );

    // The stuck pod lives in whisper-large's resource tree.
    let whisper = select_endpoint(&tmux, "llm-prod/whisper-large");
    let whisper = if whisper.contains(STUCK_POD) {
        whisper
    } else {
        tmux.wait_for(STUCK_POD)
    };
    let pod_row = cell_with(&whisper, STUCK_POD);
    assert!(
        has_duration_after(pod_row, "Terminating", 47),
        "the stuck pod's row does not say Terminating for 47m or more: {pod_row:?}\n{}",
        frame(&whisper)
    );
    assert!(
        whisper.contains("example.com/stuck-volume-cleanup"),
        "the stuck pod's finalizer is not shown:\n{}",
        frame(&whisper)
    );

    // Enter drills into the resources (its border turns thick), j/k move through the tree and
    // the detail pane follows, Esc goes back to the endpoints.
    tmux.keys(&["Enter"]);
    tmux.wait_for("┏ Resources llm-prod/whisper-large");
    let pod_detail = format!("Pod llm-prod/{STUCK_POD}");
    let mut on_pod = tmux.settled();
    for _ in 0..12 {
        if on_pod.contains(&pod_detail) {
            break;
        }
        let header = detail_header(&on_pod);
        tmux.keys(&["j"]);
        on_pod = tmux.wait_until(
            &format!("the detail pane following the selection off {header:?}"),
            common::tmux::SCREEN_DEADLINE,
            |s| detail_header(s) != header,
        );
    }
    assert!(
        on_pod.contains(&pod_detail),
        "j never reached the stuck pod in the resources pane:\n{}",
        frame(&on_pod)
    );
    assert!(
        line_with(&on_pod, "Finalizers:").contains("example.com/stuck-volume-cleanup"),
        "the pod's detail does not list its finalizer:\n{}",
        frame(&on_pod)
    );
    tmux.keys(&["k"]);
    tmux.wait_gone(&pod_detail);
    tmux.keys(&["Escape"]);
    tmux.wait_for("┏ Endpoints");

    // `?` lists the bindings of the focused pane, Esc closes it.
    tmux.keys(&["?"]);
    let screen = tmux.wait_for("Help: Endpoints pane");
    let help = help_overlay(&screen);
    for (keys, what) in [
        ("r", "redeploy endpoint"),
        ("D", "force-delete"),
        ("F", "strip finalizers"),
        ("l", "pod logs"),
        ("?", "this help"),
        ("q ctrl-c", "quit"),
    ] {
        assert!(
            help.iter()
                .any(|l| l.trim_start().starts_with(&format!("{keys} ")) && l.contains(what)),
            "the help overlay does not list `{keys}` for {what:?}:\n{}",
            frame(&screen)
        );
    }
    tmux.keys(&["Escape"]);
    tmux.wait_gone("Help: Endpoints pane");

    // `l`: the logs tab, with the model server's lines.
    let before_logs = tmux.settled();
    assert!(
        !before_logs.contains(" INFO "),
        "INFO lines on the screen before the logs were opened:\n{}",
        frame(&before_logs)
    );
    tmux.keys(&["l"]);
    tmux.wait_for("[Logs]");
    let logs = tmux.wait_until("model-server INFO lines", FIRST_SCREEN, |s| {
        s.contains(" INFO ")
    });
    assert!(
        line_with(&logs, " INFO ").contains("whisper-large"),
        "the log lines are not labelled with whisper-large's pod:\n{}",
        frame(&logs)
    );

    let demo_dir = demo_dir_of(wait_for_child(tmux.pane_pid(), BIN));
    tmux.keys(&["q"]);
    assert_exited_and_restored(&tmux);
    assert!(
        !demo_dir.exists(),
        "the demo left {} behind",
        demo_dir.display()
    );
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

#[test]
fn sigterm_restores_the_terminal() {
    if !tmux_available("sigterm_restores_the_terminal") {
        return;
    }
    let home = ConsoleHome::new();
    let tmux = start_console(&home, &["demo"], 200, 50);
    tmux.wait_until("the first screen", FIRST_SCREEN, |s| {
        s.contains("watches live") && s.contains("llama-3-70b-instruct")
    });
    let console = wait_for_child(tmux.pane_pid(), BIN);
    let demo_dir = demo_dir_of(console);
    let killed = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(console.to_string())
        .status()
        .expect("kill");
    assert!(killed.success(), "kill -TERM {console} failed");
    assert_exited_and_restored(&tmux);
    assert!(
        !demo_dir.exists(),
        "the demo left {} behind after SIGTERM",
        demo_dir.display()
    );
}

/// Where the demo with process id `pid` keeps its kubeconfig; it must be there while the demo
/// runs (so checking that it is gone afterwards means something).
fn demo_dir_of(pid: u32) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("llmops-console-demo-{pid}"));
    assert!(
        dir.join("kubeconfig").is_file(),
        "the running demo has no {}",
        dir.join("kubeconfig").display()
    );
    dir
}

#[test]
fn a_too_small_terminal_shows_a_message() {
    if !tmux_available("a_too_small_terminal_shows_a_message") {
        return;
    }
    let home = ConsoleHome::new();
    let tmux = start_console(&home, &["demo"], 60, 15);
    let small = tmux.wait_until("the too-small message", FIRST_SCREEN, |s| {
        s.contains("terminal too small")
    });
    assert!(
        small.contains("need at least 80x20, have 60x15") && !small.contains(BOX_DRAWING),
        "the too-small screen is not just the message:\n{}",
        frame(&small)
    );
    // Growing the terminal brings the console back; shrinking it shows the message again.
    tmux.resize(200, 50);
    tmux.wait_until("the console after growing", FIRST_SCREEN, |s| {
        s.contains("watches live") && !s.contains("terminal too small")
    });
    tmux.resize(79, 20);
    tmux.wait_for("need at least 80x20, have 79x20");
    tmux.keys(&["q"]);
    assert_exited_and_restored(&tmux);
}

/// The console in `flag` mode (`--readonly` or `--kiosk`) against `sim`: at idle it only
/// watches, and with every destructive key pressed not one mutating request reaches the API.
fn no_mutation_with(sim: &SimServer, flag: &str) {
    let home = ConsoleHome::new();
    let kubeconfig = sim.kubeconfig.display().to_string();
    let tmux = start_console(&home, &["--kubeconfig", &kubeconfig, "-A", flag], 200, 50);
    let first = tmux.wait_until("the first screen", FIRST_SCREEN, |s| {
        s.contains("watches live") && s.contains("llama-3-70b-instruct") && s.contains("READ-ONLY")
    });
    if flag == "--kiosk" {
        let head = line_with(&first, "KIOSK READ-ONLY");
        assert!(
            head.contains("updated") && has_clock(head),
            "the kiosk header has no clock or no `updated`: {head:?}\n{}",
            frame(&first)
        );
    }

    // The console's requests are in the audit log, as the kubeconfig's user.
    let (synced, idle_from) = audit_since(sim, 0);
    assert!(
        synced
            .iter()
            .any(|e| e["user"] == "admin" && e["verb"] == "list")
            && synced
                .iter()
                .any(|e| e["user"] == "admin" && e["verb"] == "watch"),
        "the audit log shows no list and watch by the console (user admin):\n{}",
        synced.iter().map(audit_line).collect::<Vec<_>>().join("\n")
    );
    // At idle: watches only, no list or get.
    thread::sleep(IDLE_WINDOW);
    let (idle, keys_from) = audit_since(sim, idle_from);
    println!("{flag}: {} requests at idle", idle.len());
    for e in &idle {
        println!("  {}", audit_line(e));
    }
    let polled: Vec<String> = idle
        .iter()
        .filter(|e| e["verb"] != "watch")
        .map(audit_line)
        .collect();
    assert!(
        polled.is_empty(),
        "{flag}: the console sent other requests than watches at idle:\n{}",
        polled.join("\n")
    );

    press_every_destructive_key(&tmux, flag);

    let (during, _) = audit_since(sim, keys_from);
    println!(
        "{flag}: {} requests while destructive keys were pressed",
        during.len()
    );
    for e in &during {
        println!("  {}", audit_line(e));
    }
    let mutating: Vec<String> = during
        .iter()
        .filter(|e| is_mutating(e))
        .map(audit_line)
        .collect();
    assert!(
        mutating.is_empty(),
        "{flag}: mutating requests left the console:\n{}",
        mutating.join("\n")
    );
    let lines = || during.iter().map(audit_line).collect::<Vec<_>>().join("\n");
    if flag == "--kiosk" {
        // The kiosk shows what the watches bring and asks for nothing else.
        assert!(
            during.iter().all(|e| e["verb"] == "watch"),
            "--kiosk: requests other than watches:\n{}",
            lines()
        );
    } else {
        // The window did see the console's requests: the log streams it opened.
        assert!(
            during.iter().any(|e| e["user"] == "admin"
                && e["verb"] == "get"
                && e["path"].as_str().is_some_and(|p| p.ends_with("/log"))),
            "--readonly: the audit log shows no pod log request from the logs tab:\n{}",
            lines()
        );
    }
    tmux.keys(&["q"]);
    assert_exited_and_restored(&tmux);
}

/// r, D, F and e on the selected endpoints and on objects in the resources pane, and the command
/// line; each must be refused on screen.
fn press_every_destructive_key(tmux: &Tmux, flag: &str) {
    let refusal = |action: &str| format!("refused: read-only ({flag}): {action} is not allowed");
    // Each press changes the message, so each wait sees this press's answer.
    let press_all = || {
        for (key, action) in [
            ("r", "redeploy"),
            ("D", "force-delete"),
            ("F", "strip-finalizers"),
            ("e", "edit-spec"),
        ] {
            tmux.keys(&[key]);
            tmux.wait_for(&refusal(action));
        }
    };
    if flag == "--kiosk" {
        // No panes to enter: the keys go to the endpoint shown, on several endpoints.
        for _ in 0..3 {
            press_all();
            tmux.keys(&["j"]);
        }
        for prompt in [":", "/"] {
            tmux.keys(&[prompt]);
            tmux.wait_for("kiosk: no prompts");
            tmux.keys(&["r"]);
            tmux.wait_for(&refusal("redeploy"));
        }
        return;
    }
    // On the stuck endpoint, then on its InferenceService and the objects below it.
    press_all();
    tmux.keys(&["Enter"]);
    tmux.wait_for("┏ Resources");
    for _ in 0..4 {
        press_all();
        tmux.keys(&["j"]);
    }
    tmux.keys(&["Escape"]);
    // Wait for Esc to land: a key right behind it would read as Alt+key.
    tmux.wait_for("┏ Endpoints");
    // The logs tab reads pod logs (the audit log shows them): the keys are refused there too.
    tmux.keys(&["l"]);
    tmux.wait_for("[Logs]");
    tmux.wait_until("log lines", FIRST_SCREEN, |s| s.contains(" INFO "));
    press_all();
    // The command line: no command there changes anything, whatever is typed.
    for command in [
        "redeploy",
        "delete isvc llama-3-70b-instruct",
        "strip-finalizers",
    ] {
        tmux.keys(&[":"]);
        tmux.type_text(command);
        tmux.keys(&["Enter"]);
        tmux.wait_for(&format!("unknown command :{command}"));
    }
    tmux.keys(&["r"]);
    tmux.wait_for(&refusal("redeploy"));
}

#[test]
fn readonly_and_kiosk_send_no_mutating_request() {
    if !tmux_available("readonly_and_kiosk_send_no_mutating_request") {
        return;
    }
    let sim = SimServer::start("stuck-finalizer");
    no_mutation_with(&sim, "--readonly");
    no_mutation_with(&sim, "--kiosk");
}

/// Set for the copy of this test binary that `a_panic_restores_the_terminal` runs in tmux.
const PANIC_PROBE_ENV: &str = "LLMOPS_E2E_PANIC_PROBE";

/// Not a test of its own: the program that panics inside the console's terminal guard, run by
/// `a_panic_restores_the_terminal`. Without `LLMOPS_E2E_PANIC_PROBE` it does nothing.
#[test]
#[ignore = "a helper that a_panic_restores_the_terminal runs in tmux"]
fn panic_probe() {
    use llmops_console::tui::term::TerminalGuard;
    use ratatui::widgets::{Block, Paragraph};
    if std::env::var_os(PANIC_PROBE_ENV).is_none() {
        return;
    }
    let mut guard = TerminalGuard::enter(false).expect("the terminal");
    guard
        .terminal
        .draw(|f| {
            let text = Paragraph::new("press a key to panic").block(Block::bordered());
            f.render_widget(text, f.area());
        })
        .expect("drawing");
    // The test presses a key once it has seen the frame.
    let _ = crossterm::event::read();
    panic!("probe panic: this message must be readable on a restored terminal");
}

/// The console's terminal guard and panic hook (`tui::term`, the code the console runs) on a
/// real terminal: a panic leaves the alternate screen and raw mode before its message prints.
/// The real binary has no way to panic on request, so this test binary plays the console.
#[test]
fn a_panic_restores_the_terminal() {
    if !tmux_available("a_panic_restores_the_terminal") {
        return;
    }
    let exe = std::env::current_exe().expect("the test binary");
    let probe = format!(
        "{} panic_probe --exact --ignored --nocapture --test-threads=1",
        sh_quote(&exe.display().to_string())
    );
    let tmux = Tmux::start(&wrapped(&probe), 120, 30, &[(PANIC_PROBE_ENV, "1")]);
    tmux.wait_for("press a key to panic");
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "1",
        "the probe is not on the alternate screen"
    );
    tmux.keys(&["x"]);
    let screen = tmux.wait_for("TTY=");
    let message = line_with(&screen, "probe panic: this message must be readable");
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with("thread ") && l.contains("panicked at"))
            && message.starts_with("probe panic"),
        "the panic message is not at the start of its lines (raw mode was still on?):\n{}",
        frame(&screen)
    );
    assert!(
        screen.contains("EXIT=101") && screen.contains("TTY=icanon echo"),
        "the probe did not fail as a panicking test, or left raw mode on:\n{}",
        frame(&screen)
    );
    assert!(
        !screen.contains(BOX_DRAWING) && tmux.format("#{alternate_on}") == "0",
        "the frame is left over after the panic:\n{}",
        frame(&screen)
    );
}

/// The whole flow from the keyboard: `r` on an endpoint, its name typed, Enter; the Operation
/// tab shows the steps and the result. Meanwhile a second console on the same cluster shows the
/// endpoint as Redeploying, with the holder and the step, from the lease alone.
#[test]
fn redeploy_from_the_keyboard_and_another_console_sees_it_from_the_lease() {
    if !tmux_available("redeploy_from_the_keyboard_and_another_console_sees_it_from_the_lease") {
        return;
    }
    let sim = SimServer::start("healthy");
    let kubeconfig = sim.kubeconfig.display().to_string();
    let args = ["--kubeconfig", kubeconfig.as_str(), "-A"];
    let (home_a, home_b) = (ConsoleHome::new(), ConsoleHome::new());
    let operator = start_console(&home_a, &args, 200, 50);
    let watcher = start_console(&home_b, &args, 200, 50);
    for t in [&operator, &watcher] {
        t.wait_until("the first screen", FIRST_SCREEN, |s| {
            s.contains("watches live") && s.contains("bge-reranker")
        });
    }
    select_endpoint(&operator, "llm-prod/bge-reranker");
    select_endpoint(&watcher, "llm-prod/bge-reranker");
    // The watcher's Operation tab: it runs nothing itself, so it shows the lease of others.
    watcher.keys(&["O"]);
    watcher.wait_for("no operation on llm-prod/bge-reranker from this console");

    operator.keys(&["r"]);
    operator.wait_for("Type the endpoint's name");
    // A wrong name starts nothing.
    operator.type_text("bge-rerankr");
    operator.keys(&["Enter"]);
    thread::sleep(Duration::from_millis(500));
    let (early, _) = audit_since(&sim, 0);
    assert!(
        !early.iter().any(is_mutating),
        "a wrong name started something:\n{}",
        early
            .iter()
            .filter(|e| is_mutating(e))
            .map(audit_line)
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The dialog stays open with the wrong name: correct it ("bge-rerankr" -> "bge-reranker").
    operator.wait_for("bge-rerankr");
    operator.keys(&["BSpace", "BSpace"]);
    operator.type_text("ker");
    operator.keys(&["Enter"]);
    operator.wait_until("the operation starting", FIRST_SCREEN, |s| {
        s.contains("[Operation]") && s.contains("lock")
    });

    // The other console sees the lease: Redeploying, with the holder and the step.
    let seen = watcher.wait_until(
        "the watcher showing the redeploy from the lease",
        FIRST_SCREEN,
        |s| s.contains("Redeploying") && s.contains("lease held by") && s.contains(" at "),
    );
    let reason = line_with(&seen, "lease held by");
    assert!(
        reason.contains('@') && reason.contains('/'),
        "the holder is not user@host/pid: {reason:?}\n{}",
        frame(&seen)
    );

    // The operator's Operation tab walks the steps to the end.
    let done = operator.wait_until("the operation to succeed", FIRST_SCREEN, |s| {
        s.contains("verify-ready") && s.contains("succeeded")
    });
    for step in [
        "lock",
        "preflight",
        "snapshot",
        "delete",
        "verify-deletion",
        "create",
        "finish",
    ] {
        assert!(
            done.contains(step),
            "the Operation tab does not show step {step}:\n{}",
            frame(&done)
        );
    }
    // Once the lease is released the watcher shows the endpoint Ready again.
    watcher.wait_until("the watcher showing Ready again", FIRST_SCREEN, |s| {
        !s.contains("Redeploying")
            && s.lines().any(|l| {
                l.contains("bge-reranker ") && l.contains(" raw ") && l.contains("✔ Ready")
            })
    });
    for t in [&operator, &watcher] {
        t.keys(&["q"]);
        assert_exited_and_restored(t);
    }
}
