//! Issue 9, item 3 against the real binary in tmux: at 80x24, 120x30 and 200x50, on the
//! `healthy` and `stuck-finalizer` fleets, every pod of every endpoint shows its full unique
//! suffix (the name shortened in the middle, never at the end) and no two pods read the same;
//! endpoint rows of different namespaces never look alike (the namespace is shown); and `y`
//! puts the selected object's full name on the clipboard with OSC 52 (tmux's buffer, with
//! `set-clipboard on`), also when the pane shows it shortened.
//!
//! The pod names come from the simulator's API, not from this file.

mod common;
mod orchestrator;

use std::collections::{BTreeMap, BTreeSet};
use std::thread;
use std::time::{Duration, Instant};

use common::console::{ConsoleHome, resources_title, start_console};
use common::tmux::{SCREEN_DEADLINE, Tmux, frame, tmux_available};
use orchestrator::cluster::Cluster;
use serde_json::Value;

/// The first screen needs the simulator loaded and nine watches synced.
const FIRST_SCREEN: Duration = Duration::from_secs(90);
const SIZES: [(u16, u16); 3] = [(80, 24), (120, 30), (200, 50)];

/// (namespace, endpoint) -> its pods, as the simulator has them.
type Fleet = BTreeMap<(String, String), BTreeSet<String>>;

/// The console on `cluster` (all namespaces) in a `width` x `height` tmux window, `wrapped`
/// (a failure still shows its last screen).
fn start_on(home: &ConsoleHome, cluster: &Cluster, width: u16, height: u16) -> Tmux {
    let kubeconfig = cluster.sim.kubeconfig.display().to_string();
    start_console(home, &["--kubeconfig", &kubeconfig, "-A"], width, height)
}

/// The endpoint a pod belongs to, by the labels the console groups by.
fn endpoint_of(pod: &Value) -> Option<String> {
    let labels = &pod["metadata"]["labels"];
    [
        "serving.kserve.io/inferenceservice",
        "llm-ops.io/endpoint",
        "app",
    ]
    .iter()
    .find_map(|k| labels[*k].as_str().map(str::to_string))
}

/// Every pod of every endpoint, from the simulator's REST API, once two reads a second apart
/// agree (the controllers create the pods shortly after the scenario loads).
fn sim_fleet(cluster: &Cluster) -> Fleet {
    let read = || {
        let (code, body) = cluster.request(reqwest::Method::GET, "/api/v1/pods", None);
        assert_eq!(code, 200, "GET /api/v1/pods: {body}");
        let mut fleet = Fleet::new();
        for pod in body["items"].as_array().cloned().unwrap_or_default() {
            let (Some(ns), Some(name), Some(ep)) = (
                pod["metadata"]["namespace"].as_str(),
                pod["metadata"]["name"].as_str(),
                endpoint_of(&pod),
            ) else {
                continue;
            };
            fleet
                .entry((ns.to_string(), ep))
                .or_default()
                .insert(name.to_string());
        }
        fleet
    };
    let started = Instant::now();
    let mut last = read();
    loop {
        thread::sleep(Duration::from_secs(1));
        let now = read();
        if now == last && !now.is_empty() {
            return now;
        }
        assert!(
            started.elapsed() < FIRST_SCREEN,
            "the simulator's pods did not settle: {now:?}"
        );
        last = now;
    }
}

/// Rows of the (focused) endpoint table: inside its thick border, below the header.
fn endpoint_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip_while(|l| !(l.starts_with('┃') && l.contains("NAME") && l.contains("STATUS")))
        .skip(1)
        .take_while(|l| l.starts_with('┃'))
        .map(|l| {
            l.chars()
                .skip(1)
                .take_while(|c| *c != '┃')
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .filter(|r| !r.trim().is_empty())
        .collect()
}

/// Every `pod/NAME` shown on the screen (the tree's rows), NAME as drawn.
fn pod_tokens(screen: &str) -> Vec<String> {
    screen
        .match_indices("pod/")
        .filter(|(i, _)| {
            screen[..*i]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
        })
        .map(|(i, m)| {
            screen[i + m.len()..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, '│' | '┃'))
                .collect()
        })
        .collect()
}

/// Whether `token` (as drawn) shows `pod`: the whole name, or its start and its end around a
/// visible `…` with the end holding the whole last part (`-gd27p`), which tells pods apart.
fn shows(token: &str, pod: &str) -> bool {
    if token == pod {
        return true;
    }
    let Some((head, tail)) = token.split_once('…') else {
        return false;
    };
    let suffix = pod.rsplit('-').next().unwrap_or(pod);
    pod.starts_with(head) && pod.ends_with(tail) && tail.len() > suffix.len()
}

/// The detail pane's header (`Kind ns/name  age ...`) or an empty string.
fn detail_header(screen: &str) -> String {
    screen
        .lines()
        .skip_while(|l| !l.contains("[Detail]"))
        .nth(1)
        .unwrap_or_default()
        .trim_matches(['│', '┃', ' '])
        .to_string()
}

/// The screen a moment after a key, once two captures agree. The key may change nothing (the
/// selection is already at the bottom), so there is nothing definite to wait for.
fn after_key(tmux: &Tmux, key: &str) -> String {
    tmux.keys(&[key]);
    thread::sleep(Duration::from_millis(250));
    tmux.settled()
}

/// Filters the table down to `name` (`/NAME` Enter) and returns the screen.
fn filter_to(tmux: &Tmux, name: &str) -> String {
    tmux.keys(&["/"]);
    tmux.type_text(name);
    tmux.keys(&["Enter"]);
    // The pane's title may be too narrow for the whole filter.
    let shown: String = name.chars().take(12).collect();
    tmux.wait_until(
        &format!("the table filtered to {name}"),
        SCREEN_DEADLINE,
        |s| s.contains(&format!("filter: {shown}")) && !s.contains('█'),
    )
}

/// Moves the selection (from the top) down to `ns/name`.
fn select(tmux: &Tmux, ns_name: &str) -> String {
    let mut screen = after_key(tmux, "g");
    for _ in 0..4 {
        if resources_title(&screen).as_deref() == Some(ns_name) {
            return screen;
        }
        screen = after_key(tmux, "j");
    }
    panic!("{ns_name} never got selected:\n{}", frame(&screen));
}

/// The endpoint rows of one screen: pairwise different, and each endpoint named `name` in
/// `namespaces` shown in a row with its name and its namespace in full.
fn check_rows(screen: &str, size: (u16, u16), name: &str, namespaces: &[&String]) {
    let rows = endpoint_rows(screen);
    for (i, a) in rows.iter().enumerate() {
        for b in &rows[i + 1..] {
            assert_ne!(
                a,
                b,
                "{size:?}: two endpoint rows read the same:\n{}",
                frame(screen)
            );
        }
    }
    for ns in namespaces {
        assert!(
            rows.iter().any(|r| {
                let words: Vec<&str> = r.split_whitespace().collect();
                words.contains(&name) && words.contains(&ns.as_str())
            }),
            "{size:?}: no endpoint row shows {name} with its namespace {ns}:\n{}",
            frame(screen)
        );
    }
}

/// With `ns/name` selected: walks its resource tree until every one of `pods` has shown, and
/// checks every pod row on the way identifies exactly one pod.
fn check_pods(tmux: &Tmux, size: (u16, u16), ns_name: &str, pods: &BTreeSet<String>) {
    tmux.keys(&["Enter"]);
    let mut screen = tmux.wait_for("┏ Resources");
    let mut seen: BTreeSet<&String> = BTreeSet::new();
    for _ in 0..30 {
        for token in pod_tokens(&screen) {
            let matching: Vec<&String> = pods.iter().filter(|p| shows(&token, p)).collect();
            assert_eq!(
                matching.len(),
                1,
                "{size:?} {ns_name}: the pod row {token:?} does not identify one pod of {pods:?}:\n{}",
                frame(&screen)
            );
            seen.extend(matching);
        }
        if seen.len() == pods.len() {
            break;
        }
        screen = after_key(tmux, "j");
    }
    let missing: Vec<&String> = pods.iter().filter(|p| !seen.contains(p)).collect();
    assert!(
        missing.is_empty(),
        "{size:?} {ns_name}: these pods never showed with their suffix: {missing:?}; the last screen:\n{}",
        frame(&screen)
    );
    tmux.keys(&["Escape"]);
    tmux.wait_for("┏ Endpoints");
}

/// The acceptance check on one fleet, at each size in turn (the window resized under the
/// running console).
fn every_pod_suffix_and_namespace(scenario: &str) {
    let cluster = Cluster::start(scenario);
    let home = ConsoleHome::new();
    let (w, h) = SIZES[0];
    let tmux = start_on(&home, &cluster, w, h);
    tmux.wait_until("the first screen, watches live", FIRST_SCREEN, |s| {
        s.contains("watches live") && s.contains("Endpoints")
    });
    let fleet = sim_fleet(&cluster);
    let mut by_name: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
    for (ns, name) in fleet.keys() {
        by_name.entry(name).or_default().push(ns);
    }
    for size in SIZES {
        tmux.resize(size.0, size.1);
        let screen = tmux.wait_until(&format!("the console at {size:?}"), SCREEN_DEADLINE, |s| {
            s.lines().count() >= usize::from(size.1)
                && s.lines()
                    .next()
                    .is_some_and(|l| l.chars().count() == usize::from(size.0))
                && s.contains("watches live")
        });
        // The unfiltered table: the rows on screen read differently.
        check_rows(&screen, size, "", &[]);
        for (name, namespaces) in &by_name {
            let screen = filter_to(&tmux, name);
            check_rows(&screen, size, name, namespaces);
            for ns in namespaces {
                let ns_name = format!("{ns}/{name}");
                select(&tmux, &ns_name);
                let pods = &fleet[&((*ns).clone(), (*name).clone())];
                check_pods(&tmux, size, &ns_name, pods);
            }
            // Esc in the endpoint table clears the filter.
            tmux.keys(&["Escape"]);
            tmux.wait_gone("filter: ");
        }
    }
    tmux.keys(&["q"]);
    tmux.wait_for("EXIT=0");
}

#[test]
fn healthy_fleet_every_pod_suffix_and_namespace_at_three_sizes() {
    if !tmux_available("healthy_fleet_every_pod_suffix_and_namespace_at_three_sizes") {
        return;
    }
    every_pod_suffix_and_namespace("healthy");
}

#[test]
fn stuck_finalizer_fleet_every_pod_suffix_and_namespace_at_three_sizes() {
    if !tmux_available("stuck_finalizer_fleet_every_pod_suffix_and_namespace_at_three_sizes") {
        return;
    }
    every_pod_suffix_and_namespace("stuck-finalizer");
}

/// `y` on a pod whose name the tree shows shortened (120x30): tmux, with `set-clipboard on`,
/// takes the OSC 52 sequence into a paste buffer, which holds the whole name. Then `y` on the
/// endpoint table copies the endpoint's name.
#[test]
fn y_copies_the_full_name_with_osc52() {
    if !tmux_available("y_copies_the_full_name_with_osc52") {
        return;
    }
    let cluster = Cluster::start("healthy");
    let home = ConsoleHome::new();
    let tmux = start_on(&home, &cluster, 120, 30);
    tmux.command_ok(&["set-option", "-s", "set-clipboard", "on"]);
    tmux.wait_until("the first screen, watches live", FIRST_SCREEN, |s| {
        s.contains("watches live") && s.contains("llama-3-8b-instruct")
    });
    let fleet = sim_fleet(&cluster);
    let key = ("llm-prod".to_string(), "llama-3-8b-instruct".to_string());
    let pods = fleet
        .get(&key)
        .unwrap_or_else(|| panic!("no pods of {key:?} in the simulator: {fleet:?}"));
    filter_to(&tmux, "llama-3-8b-instruct");
    select(&tmux, "llm-prod/llama-3-8b-instruct");
    tmux.keys(&["Enter"]);
    let mut screen = tmux.wait_for("┏ Resources");
    for _ in 0..12 {
        if detail_header(&screen).starts_with("Pod ") {
            break;
        }
        screen = after_key(&tmux, "j");
    }
    let header = detail_header(&screen);
    let full = header
        .strip_prefix("Pod llm-prod/")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no pod selected:\n{}", frame(&screen)))
        .to_string();
    assert!(pods.contains(&full), "{full:?} is not one of {pods:?}");
    // The tree shows it shortened: what `y` copies is not what the row shows.
    assert!(
        pod_tokens(&screen)
            .iter()
            .any(|t| t.contains('…') && shows(t, &full)),
        "the tree does not show {full} shortened at 120x30:\n{}",
        frame(&screen)
    );
    assert_eq!(
        tmux.command_ok(&["list-buffers"]).trim(),
        "",
        "a paste buffer exists before y"
    );
    tmux.keys(&["y"]);
    tmux.wait_for("copied pod/");
    let buffer = tmux.command_ok(&["show-buffer"]);
    assert_eq!(buffer, full, "the clipboard (tmux buffer) after y");

    tmux.keys(&["Escape"]);
    tmux.wait_for("┏ Endpoints");
    tmux.keys(&["y"]);
    tmux.wait_for("copied isvc/llama-3-8b-instruct");
    assert_eq!(tmux.command_ok(&["show-buffer"]), "llama-3-8b-instruct");
    tmux.keys(&["q"]);
    tmux.wait_for("EXIT=0");
}
