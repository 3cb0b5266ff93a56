//! Connection truth (issue 9, items 1, 7 and 8), against the real binary in tmux and a
//! `llmops-console sim` in its own process: a closed port is named with its error and next
//! retry, never "no endpoints"; killing the API server marks every row stale and names the
//! server in the footer; the server back on the same port clears the marks and says so. And, in
//! process: a kind's Live state comes before its rows, and watch frames confirm the data.

mod cluster_support;
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::tmux::{Tmux, frame, sh_quote, tmux_available};
use common::{BIN, SimServer};
use tempfile::TempDir;

/// The console's first screen: the simulator is up; nine watches list it.
const FIRST_SCREEN: Duration = Duration::from_secs(60);
/// The watches back off (0.8 s doubling, jitter) while the server is down; recovery needs one
/// more attempt per kind after it is back.
const RECOVERY: Duration = Duration::from_secs(90);
const WIDTH: u16 = 160;
/// At 160 columns the endpoints pane is the left 40 %.
const ENDPOINTS_PANE: usize = 64;

/// Config, state and HOME of their own, so no user configuration leaks in.
fn console(kubeconfig: &std::path::Path, home: &TempDir) -> Tmux {
    let p = |d: &str| home.path().join(d).display().to_string();
    let program = format!(
        "{} --kubeconfig {} -A; echo \"EXIT=$?\"; exec sleep 120",
        sh_quote(BIN),
        sh_quote(&kubeconfig.display().to_string())
    );
    let env = [
        ("LLMOPS_CONSOLE_CONFIG_DIR", p("config")),
        ("LLMOPS_CONSOLE_STATE_DIR", p("state")),
        ("HOME", p("home")),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Tmux::start(&program, WIDTH, 40, &env)
}

/// The endpoint rows of the screen (left pane, a namespace of the `healthy` fleet in them), as
/// the characters after the pane's border.
fn endpoint_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .map(|l| l.chars().take(ENDPOINTS_PANE).collect::<String>())
        .filter(|l| l.contains(" llm-prod ") || l.contains(" llm-staging "))
        .map(|l| l.chars().skip(1).collect())
        .collect()
}

/// The rows of the resources pane (right of the endpoints pane) that show objects.
fn resource_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .map(|l| l.chars().skip(ENDPOINTS_PANE).collect::<String>())
        .filter(|l| l.contains("deploy/") || l.contains("pod/") || l.contains("svc/"))
        .collect()
}

fn all_marked(screen: &str) -> bool {
    let eps = endpoint_rows(screen);
    let res = resource_rows(screen);
    eps.len() >= 8
        && eps.iter().all(|r| r.starts_with('?'))
        && !res.is_empty()
        && res.iter().all(|r| r.contains("│? ") || r.contains("? ✔"))
}

fn none_marked(screen: &str) -> bool {
    let eps = endpoint_rows(screen);
    eps.len() >= 8
        && eps.iter().all(|r| !r.starts_with('?'))
        && !screen.contains("STALE")
        && resource_rows(screen).iter().all(|r| !r.contains("? "))
}

#[test]
fn a_killed_api_server_marks_every_row_stale_and_its_return_clears_them() {
    if !tmux_available("a_killed_api_server_marks_every_row_stale_and_its_return_clears_them") {
        return;
    }
    let mut sim = SimServer::start("healthy");
    let (url, port) = (sim.url.clone(), sim.port);
    let home = tempfile::tempdir().expect("temp dir");
    let tmux = console(&sim.kubeconfig, &home);
    let live = tmux.wait_until("eight endpoint rows, watches live", FIRST_SCREEN, |s| {
        s.contains("watches live") && endpoint_rows(s).len() >= 8 && s.contains("pod/")
    });
    assert!(none_marked(&live), "marks while live:\n{}", frame(&live));

    sim.kill();
    let stale = tmux.wait_until(
        "every row marked stale, the footer naming the server",
        common::tmux::SCREEN_DEADLINE,
        |s| all_marked(s) && s.contains(&format!("{url} unreachable since")),
    );
    assert!(
        stale.contains("STALE since"),
        "no pane says since when its rows are stale:\n{}",
        frame(&stale)
    );
    let footer = stale.lines().last().unwrap_or_default();
    assert!(
        footer.contains(&format!("✖ {url} unreachable since")),
        "the footer does not name the server: {footer:?}\n{}",
        frame(&stale)
    );
    assert!(
        !stale.contains("watches live"),
        "stale rows under 'watches live':\n{}",
        frame(&stale)
    );

    // The same server comes back on the same port.
    let _back = SimServer::start_listen("healthy", "admin", &format!("127.0.0.1:{port}"));
    let recovered = tmux.wait_until("the reconnect named, the marks gone", RECOVERY, |s| {
        s.contains(&format!("reconnected to {url} after")) && none_marked(s)
    });
    assert!(
        !recovered.contains("unreachable"),
        "still unreachable after the reconnect:\n{}",
        frame(&recovered)
    );
    tmux.keys(&["q"]);
    tmux.wait_until("the console to exit", common::tmux::SCREEN_DEADLINE, |s| {
        s.contains("EXIT=0")
    });
}

#[test]
fn a_closed_port_is_named_with_its_error_and_next_retry_not_as_no_endpoints() {
    if !tmux_available("a_closed_port_is_named_with_its_error_and_next_retry_not_as_no_endpoints") {
        return;
    }
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let server = format!("http://127.0.0.1:{port}");
    let home = tempfile::tempdir().expect("temp dir");
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        llmops_console::sim::server::kubeconfig_yaml(&server, "admin"),
    )
    .expect("kubeconfig");
    let tmux = console(&kubeconfig, &home);
    let screen = tmux.wait_until(
        "the server, its error and the next retry",
        FIRST_SCREEN,
        |s| {
            s.contains(&format!("cannot reach {server}: "))
                && s.contains("retrying")
                && s.contains("never listed")
        },
    );
    assert!(
        !screen.contains("no endpoints"),
        "an unreachable server reads as an empty one:\n{}",
        frame(&screen)
    );
    assert!(
        screen.to_lowercase().contains("connection refused"),
        "the error is not named:\n{}",
        frame(&screen)
    );
    tmux.keys(&["q"]);
    tmux.wait_until("the console to exit", common::tmux::SCREEN_DEADLINE, |s| {
        s.contains("EXIT=0")
    });
}

mod in_process {
    use super::*;
    use llmops_console::cluster::model::{Kind, WatchKind, WatchState};
    use llmops_console::cluster::{ClusterNotice, ClusterWatch, Scope, WatchConfig};
    use llmops_console::sim::kinds::SERVICES;
    use llmops_console::sim::store::WriteOptions;

    /// Item 7: the app must hear that a kind has listed before any rows that hold it, so it can
    /// hold back rows derived from a partial picture. Watch frames (events here; bookmarks come
    /// once a minute) move the kind's confirmation on.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_kind_is_live_before_its_rows_and_watch_frames_confirm_it() {
        let sim = cluster_support::start("healthy").await;
        let (client, _) = cluster_support::client_for(&sim, "admin", Scope::All).await;
        let (watch, mut rx) = ClusterWatch::start(client, &Scope::All, WatchConfig::default());
        let mut listed: BTreeSet<WatchKind> = BTreeSet::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while listed.len() < WatchKind::ALL.len() {
            let n = tokio::time::timeout_at(deadline, rx.recv())
                .await
                .unwrap_or_else(|_| panic!("not all listed: {:?}", watch.watch_states()))
                .expect("notices");
            match n {
                ClusterNotice::WatchState(k, WatchState::Live) => {
                    listed.insert(k);
                }
                ClusterNotice::Changed(kinds) => {
                    let early: Vec<_> = kinds.difference(&listed).collect();
                    assert!(early.is_empty(), "rows of {early:?} before they listed");
                }
                _ => {}
            }
        }
        let svc = WatchKind::Resource(Kind::Service);
        let before = watch.health()[&svc]
            .confirmed
            .expect("confirmed at its list");
        assert!(
            watch
                .health()
                .values()
                .all(|h| h.listed && h.down_since.is_none())
        );
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        sim.ctx
            .store
            .patch(
                &SERVICES,
                "llm-prod",
                "bge-reranker",
                &WriteOptions::default(),
                |old| {
                    let mut new = old.clone();
                    new["metadata"]["annotations"]["test/confirm"] = serde_json::json!("1");
                    Ok(new)
                },
            )
            .expect("a change to a Service");
        let moved = cluster_support::eventually(
            "the Service watch's frame to confirm it",
            Duration::from_secs(10),
            || async {
                let c = watch.health()[&svc].confirmed?;
                (c > before).then_some(c)
            },
        )
        .await;
        assert!(moved.duration_since(before) >= jiff::SignedDuration::from_secs(1));
        watch.shutdown().await;
        sim.shutdown().await;
    }
}
