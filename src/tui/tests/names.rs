//! Issue 9, item 3: names are shortened in the middle so the suffix that tells them apart stays,
//! the namespace column is never dropped while endpoints span namespaces, and `y` copies the
//! selected object's full name (an effect for the loop, a notice, and the name in Detail).

use crate::cluster::model::{EndpointView, Kind, ResourceNode};
use crate::config::keymap::{Key, KeyMap, KeyOverrides};
use crate::tui::app::{App, Level, Pane, update};
use crate::tui::fixtures;
use crate::tui::msg::{Effect, EventRow, Msg};
use crate::tui::view;

use super::{feed, key, render, render_with, special, text};

const POD_A: &str = "llama-prod-predictor-7c9d8f6b4d-gd27p";
const POD_B: &str = "llama-prod-predictor-7c9d8f6b4d-gd27q";

fn rename_pods(nodes: &mut [ResourceNode], names: &mut impl Iterator<Item = String>) {
    for n in nodes {
        if n.kind == Kind::Pod
            && let Some(name) = names.next()
        {
            n.name = name;
        }
        rename_pods(&mut n.children, names);
    }
}

/// The fixture fleet with llama-prod's two pods named alike but for the last character, and a
/// second `llama-prod` (same status, same counts) in namespace `staging`.
fn fleet() -> Vec<EndpointView> {
    let mut fleet = fixtures::fleet();
    for e in &mut fleet {
        if e.key.name == "llama-prod" {
            let mut names = [POD_A, POD_B].into_iter().map(String::from);
            rename_pods(&mut e.resources, &mut names);
        }
    }
    let mut twin = fleet
        .iter()
        .find(|e| e.key.name == "llama-prod")
        .cloned()
        .unwrap_or_else(|| panic!("no llama-prod in the fixtures"));
    twin.key.namespace = "staging".into();
    twin.uid = "uid-llama-prod-staging".into();
    fleet.push(twin);
    fleet
}

fn app_sized(w: u16, h: u16) -> App {
    let mut app = App::new(fixtures::options("default", false, false), fixtures::now());
    update(
        &mut app,
        Msg::Resize {
            width: w,
            height: h,
        },
    );
    update(&mut app, Msg::Endpoints(fleet()));
    app
}

/// Rows of the endpoint table as rendered (inside the border, below the header).
fn endpoint_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip_while(|l| !l.contains("NAME"))
        .skip(1)
        .take_while(|l| !l.contains('┗') && !l.contains('└'))
        .map(|l| {
            let inner: String = l.chars().skip(1).take_while(|c| *c != '┃').collect();
            inner.trim_end().to_string()
        })
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn same_name_in_two_namespaces_reads_differently_at_every_size() {
    for (w, h) in [(80, 24), (120, 30), (200, 50)] {
        let app = app_sized(w, h);
        let screen = text(&render_with(w, h, |f| {
            let a = view::layout::areas(f.area());
            view::endpoints::draw(f, &app, a.endpoints);
        }));
        let rows = endpoint_rows(&screen);
        let llamas: Vec<&String> = rows.iter().filter(|r| r.contains("llama-prod")).collect();
        assert_eq!(llamas.len(), 2, "{w}x{h}:\n{screen}");
        assert_ne!(
            llamas[0], llamas[1],
            "{w}x{h}: the two llama-prod rows read the same:\n{screen}"
        );
        assert!(
            llamas.iter().any(|r| r.contains(" serving "))
                && llamas.iter().any(|r| r.contains(" staging ")),
            "{w}x{h}: the namespace column is missing:\n{screen}"
        );
        for (i, a) in rows.iter().enumerate() {
            for b in &rows[i + 1..] {
                assert_ne!(a, b, "{w}x{h}: two rows read the same:\n{screen}");
            }
        }
    }
}

#[test]
fn one_namespace_lets_the_namespace_column_go_before_the_status() {
    let mut app = App::new(fixtures::options("default", false, false), fixtures::now());
    update(
        &mut app,
        Msg::Resize {
            width: 120,
            height: 30,
        },
    );
    let serving: Vec<EndpointView> = fixtures::fleet()
        .into_iter()
        .filter(|e| e.key.namespace == "serving")
        .collect();
    update(&mut app, Msg::Endpoints(serving));
    let screen = text(&render_with(52, 8, |f| {
        view::endpoints::draw(f, &app, f.area())
    }));
    assert!(!screen.contains("NAMESPACE"), "{screen}");
    assert!(screen.contains("⚠ Terminating 47m12s"), "{screen}");
}

#[test]
fn pod_names_keep_their_unique_suffix_in_the_resources_pane() {
    for w in [80u16, 60, 120, 200] {
        let app = app_sized(w, 50);
        let screen = text(&render_with(w, 20, |f| {
            view::resources::draw(f, &app, f.area())
        }));
        let pods: Vec<&str> = screen.lines().filter(|l| l.contains("pod/")).collect();
        assert_eq!(pods.len(), 2, "{w}:\n{screen}");
        for (line, suffix) in pods.iter().zip(["-gd27p", "-gd27q"]) {
            let object = line
                .split("pod/")
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
                .unwrap_or_default();
            assert!(
                object.ends_with(suffix),
                "{w}: {object:?} lost its suffix:\n{screen}"
            );
            let pod = if suffix == "-gd27p" { POD_A } else { POD_B };
            if object != pod {
                let (head, tail) = object.split_once('…').unwrap_or_else(|| {
                    panic!("{w}: {object:?} is cut without a visible …:\n{screen}")
                });
                assert!(
                    pod.starts_with(head) && pod.ends_with(tail),
                    "{w}: {object:?}"
                );
            }
        }
        // The stuck pod's status head stays readable beside it.
        assert!(screen.contains("⚠ stuck · Term"), "{w}:\n{screen}");
    }
}

#[test]
fn kiosk_tiles_keep_the_end_of_long_names() {
    let mut fleet = fixtures::fleet();
    fleet[0].key.name = "mistral-chat-large-instruct-v2-gd27p".into();
    let mut app = App::new(fixtures::options("default", false, true), fixtures::now());
    update(
        &mut app,
        Msg::Resize {
            width: 140,
            height: 24,
        },
    );
    update(&mut app, Msg::Endpoints(fleet));
    let screen = text(&render(&app, 140, 24));
    assert!(screen.contains("…-v2-gd27p "), "{screen}");
}

#[test]
fn events_shorten_the_object_name_in_the_middle() {
    let app = app_sized(80, 24);
    let e = EventRow {
        type_: "Warning".into(),
        reason: "FailedKillPod".into(),
        message: "error killing pod: volume cleanup pending".into(),
        count: 3,
        last_seen: Some(fixtures::ago(30)),
        source: "kubelet".into(),
        object: format!("Pod/{POD_A}"),
    };
    let line = view::detail::event_line(&e, &app, 78);
    let s: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    assert!(s.contains("…-gd27p: error killing"), "{s}");
    let wide = view::detail::event_line(&e, &app, 200);
    let s: String = wide.spans.iter().map(|s| s.content.as_ref()).collect();
    assert!(s.contains(&format!("Pod/{POD_A}: error")), "{s}");
}

fn copied(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|f| match f {
            Effect::CopyToClipboard { text } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn y_copies_the_selected_name_and_says_so() {
    let mut app = app_sized(80, 24);
    // On the endpoint table: the endpoint's root object.
    let fx = feed(&mut app, [key('y')]);
    assert_eq!(copied(&fx), ["llama-prod"]);
    let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
    assert!(
        m.starts_with("copied isvc/llama-prod (namespace serving)"),
        "{m}"
    );
    // In the resources pane: the selected object, here the stuck pod.
    feed(&mut app, [special(Key::Enter)]);
    assert_eq!(app.focus(), Pane::Resources);
    let mut fx = Vec::new();
    for _ in 0..8 {
        if app.tree.selected().is_some_and(|r| r.kind == Kind::Pod) {
            fx = feed(&mut app, [key('y')]);
            break;
        }
        feed(&mut app, [key('j')]);
    }
    assert_eq!(copied(&fx), [POD_A]);
    let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
    assert!(m.starts_with(&format!("copied pod/{POD_A}")), "{m}");
    // Nothing in the effect is drawn: the loop writes it, `view::draw` never does.
    let screen = text(&render(&app, 200, 50));
    assert!(screen.contains(&format!("copied pod/{POD_A}")), "{screen}");
}

#[test]
fn y_refuses_a_name_with_control_characters() {
    let mut fleet = fleet();
    fleet[0].key.name = "evil\x1b]52;c;cm0gLXJm\x07".into();
    let mut app = App::new(fixtures::options("default", true, false), fixtures::now());
    update(&mut app, Msg::Endpoints(fleet));
    // Select the evil endpoint (sort by name puts it... find it by stepping).
    for _ in 0..10 {
        if app
            .selected_endpoint()
            .is_some_and(|e| e.key.name.starts_with("evil"))
        {
            break;
        }
        feed(&mut app, [key('j')]);
    }
    let fx = feed(&mut app, [key('y')]);
    assert!(copied(&fx).is_empty(), "{fx:?}");
    let m = app
        .message()
        .cloned()
        .unwrap_or_else(|| panic!("no message"));
    assert_eq!(m.level, Level::Error);
    assert!(
        m.text.contains("copy refused") && !m.text.contains('\x1b'),
        "{}",
        m.text
    );
}

#[test]
fn detail_shows_the_whole_name_however_long() {
    let long = format!("{}-{}", "a".repeat(70), "tail9");
    let mut fleet = fleet();
    for e in &mut fleet {
        if e.key.name == "llama-prod" && e.key.namespace == "serving" {
            let mut names = [long.clone()].into_iter();
            rename_pods(&mut e.resources, &mut names);
        }
    }
    let mut app = App::new(fixtures::options("default", false, false), fixtures::now());
    update(
        &mut app,
        Msg::Resize {
            width: 80,
            height: 24,
        },
    );
    update(&mut app, Msg::Endpoints(fleet));
    feed(&mut app, [special(Key::Enter)]);
    for _ in 0..8 {
        if app.tree.selected().is_some_and(|r| r.kind == Kind::Pod) {
            break;
        }
        feed(&mut app, [key('j')]);
    }
    let screen = text(&render_with(80, 12, |f| {
        view::bottom::draw(f, &app, f.area())
    }));
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("Name:"))
        .unwrap_or_else(|| panic!("no Name: line:\n{screen}"));
    let joined: String = lines[at..at + 2]
        .iter()
        .map(|l| {
            l.trim_matches('│')
                .trim_start_matches("Name:")
                .trim()
                .split("  ")
                .next()
                .unwrap_or("")
        })
        .collect();
    assert_eq!(joined, long, "{screen}");
}

#[test]
fn y_is_bound_by_default_and_taking_it_is_a_clash() {
    let m = KeyMap::default();
    assert_eq!(
        m.keys_for(crate::config::keymap::Action::CopyName)
            .first()
            .map(ToString::to_string),
        Some("y".to_string())
    );
    let o: KeyOverrides = toml::from_str("quit = \"y\"\n").unwrap_or_default();
    assert_eq!(
        KeyMap::new(&o).err().unwrap_or_default(),
        "keys.quit: \"y\" is already copy_name's key; bind copy_name elsewhere too"
    );
    let o: KeyOverrides = toml::from_str("copy_name = \"c\"\n").unwrap_or_default();
    assert!(KeyMap::new(&o).is_ok());
}
