//! Issue 9, item 4, in a real terminal: `:ns NAME` and `:ns all` re-scope the watches of the
//! running console (no restart), and a user who may list only some namespaces gets watches in
//! those, with a notice, instead of every kind Forbidden. The console runs in tmux against a
//! `llmops-console sim` child; users and their RBAC rules are set with the admin API.

mod common;

use std::time::Duration;

use common::SimServer;
use common::tmux::{Tmux, frame, sh_quote, tmux_available};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The first screen needs the simulator's fleet listed by every watch.
const FIRST_SCREEN: Duration = Duration::from_secs(90);

/// `healthy`'s endpoints only in one namespace each.
const PROD_ONLY: &[&str] = &["mistral-7b-instruct", "bge-reranker", "whisper-large"];
const STAGING_ONLY: &[&str] = &["qwen2-7b-instruct", "bge-m3-embed", "phi-3-mini"];

/// Config and state directories of its own, optionally with a config.toml.
struct ConsoleHome(TempDir);

impl ConsoleHome {
    fn new(config: &str) -> ConsoleHome {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_dir = dir.path().join("config");
        std::fs::create_dir_all(&config_dir).expect("config dir");
        std::fs::write(config_dir.join("config.toml"), config).expect("config.toml");
        ConsoleHome(dir)
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let p = |d: &str| self.0.path().join(d).display().to_string();
        vec![
            ("LLMOPS_CONSOLE_CONFIG_DIR", p("config")),
            ("LLMOPS_CONSOLE_STATE_DIR", p("state")),
            ("HOME", p("home")),
        ]
    }
}

/// The simulator's kubeconfig, as `user` (token `<user>-token`) when given.
fn kubeconfig_for(home: &ConsoleHome, sim: &SimServer, user: Option<&str>) -> String {
    let Some(user) = user else {
        return sim.kubeconfig.display().to_string();
    };
    let text = std::fs::read_to_string(&sim.kubeconfig).expect("the simulator's kubeconfig");
    let text = text
        .replace("admin-token", &format!("{user}-token"))
        .replace("user: admin", &format!("user: {user}"))
        .replace("- name: admin", &format!("- name: {user}"));
    let path = home.0.path().join(format!("kubeconfig-{user}"));
    std::fs::write(&path, text).expect("kubeconfig");
    path.display().to_string()
}

fn start_console(home: &ConsoleHome, sim: &SimServer, user: Option<&str>, args: &[&str]) -> Tmux {
    let mut program = format!(
        "{} --kubeconfig {}",
        sh_quote(common::BIN),
        sh_quote(&kubeconfig_for(home, sim, user))
    );
    for a in args {
        program.push(' ');
        program.push_str(&sh_quote(a));
    }
    let env = home.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Tmux::start(&format!("{program}; exec sleep 120"), 200, 50, &env)
}

/// `PUT /sim/v1/users/NAME` with these RBAC rules.
fn set_user(sim: &SimServer, name: &str, rules: &Value) {
    let url = format!("{}/sim/v1/users/{name}", sim.url);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        reqwest::Client::new()
            .put(&url)
            .json(rules)
            .send()
            .await?
            .error_for_status()
            .map(|_| ())
    })
    .unwrap_or_else(|e| panic!("PUT {url}: {e}"));
}

fn status_line(screen: &str) -> &str {
    screen.lines().find(|l| l.contains("ctx:")).unwrap_or("")
}

fn shows_all(screen: &str, names: &[&str]) -> bool {
    names.iter().all(|n| screen.contains(n))
}

fn shows_none(screen: &str, names: &[&str]) -> bool {
    !names.iter().any(|n| screen.contains(n))
}

fn command(tmux: &Tmux, line: &str) {
    tmux.keys(&[":"]);
    tmux.type_text(line);
    tmux.keys(&["Enter"]);
}

#[test]
fn ns_rescopes_the_running_console_and_ns_all_goes_back() {
    if !tmux_available("ns_rescopes_the_running_console_and_ns_all_goes_back") {
        return;
    }
    let sim = SimServer::start("healthy");
    let home = ConsoleHome::new("");
    let tmux = start_console(&home, &sim, None, &["-A"]);
    tmux.wait_until("both namespaces", FIRST_SCREEN, |s| {
        s.contains("watches live") && shows_all(s, PROD_ONLY) && shows_all(s, STAGING_ONLY)
    });

    command(&tmux, "ns llm-prod");
    let prod = tmux.wait_until("only llm-prod, live", FIRST_SCREEN, |s| {
        status_line(s).contains("ns:llm-prod")
            && s.contains("watches live")
            && shows_all(s, PROD_ONLY)
            && shows_none(s, STAGING_ONLY)
    });
    assert!(
        !prod.contains("restart") && !prod.contains("llm-staging"),
        "no restart is asked for, and nothing of llm-staging is left:\n{}",
        frame(&prod)
    );

    command(&tmux, "ns all");
    tmux.wait_until("both namespaces again", FIRST_SCREEN, |s| {
        status_line(s).contains("ns:all")
            && s.contains("watches live")
            && shows_all(s, PROD_ONLY)
            && shows_all(s, STAGING_ONLY)
    });

    // A name that cannot be a namespace is refused, and the scope stays.
    command(&tmux, "ns Bad_Name");
    let refused = tmux.wait_for("is not a valid namespace name");
    assert!(
        status_line(&refused).contains("ns:all") && shows_all(&refused, STAGING_ONLY),
        "a bad name changed the scope:\n{}",
        frame(&refused)
    );
    tmux.keys(&["q"]);
}

/// Everything the console watches, in `namespaces` only (a RoleBinding in each).
fn namespaced_rules(namespaces: &[&str], resources: &[&str]) -> Value {
    json!({"verbs": ["get", "list", "watch"], "resources": resources, "namespaces": namespaces})
}

#[test]
fn a_user_limited_to_two_namespaces_sees_their_endpoints_with_a_notice() {
    if !tmux_available("a_user_limited_to_two_namespaces_sees_their_endpoints_with_a_notice") {
        return;
    }
    let sim = SimServer::start("healthy");
    set_user(
        &sim,
        "bob",
        &json!([namespaced_rules(&["llm-prod", "llm-staging"], &["*"])]),
    );
    // `default` is named too: bob may do nothing there, so it is not watched.
    let home = ConsoleHome::new("namespaces = [\"llm-prod\", \"default\", \"llm-staging\"]\n");
    let tmux = start_console(&home, &sim, Some("bob"), &["-A"]);
    let screen = tmux.wait_until("both namespaces, with the notice", FIRST_SCREEN, |s| {
        s.contains("watching the 2 namespaces you may list: llm-prod, llm-staging")
            && shows_all(s, PROD_ONLY)
            && shows_all(s, STAGING_ONLY)
    });
    assert!(
        status_line(&screen).contains("ns:llm-prod,llm-staging"),
        "the status bar does not name the namespaces watched:\n{}",
        frame(&screen)
    );
    let live = tmux.wait_until("every watch live", FIRST_SCREEN, |s| {
        s.contains("watches live (18)")
    });
    assert!(
        !live.to_lowercase().contains("forbidden"),
        "something is shown as Forbidden:\n{}",
        frame(&live)
    );
    tmux.keys(&["q"]);
}

#[test]
fn a_kind_refused_in_one_namespace_is_shown_refused_there() {
    if !tmux_available("a_kind_refused_in_one_namespace_is_shown_refused_there") {
        return;
    }
    let sim = SimServer::start("healthy");
    // All in llm-prod; in llm-staging everything but Leases. Namespaces come from listing them.
    let staging = [
        "inferenceservices",
        "deployments",
        "replicasets",
        "pods",
        "services",
        "horizontalpodautoscalers",
        "ingresses",
        "events",
    ];
    set_user(
        &sim,
        "carol",
        &json!([
            {"verbs": ["list"], "resources": ["namespaces"]},
            namespaced_rules(&["llm-prod"], &["*"]),
            namespaced_rules(&["llm-staging"], &staging),
        ]),
    );
    let home = ConsoleHome::new("");
    let tmux = start_console(&home, &sim, Some("carol"), &["-A"]);
    let screen = tmux.wait_until(
        "both namespaces, leases refused in one",
        FIRST_SCREEN,
        |s| {
            shows_all(s, PROD_ONLY)
                && shows_all(s, STAGING_ONLY)
                && status_line(s).contains("Lease in llm-staging forbidden")
        },
    );
    assert!(
        status_line(&screen).contains("ns:llm-prod,llm-staging"),
        "{}",
        frame(&screen)
    );
    tmux.keys(&["q"]);
}
