//! Headless app tests: messages in, state and effects out, no terminal.

use std::time::Duration;

use jiff::SignedDuration;

use crate::cluster::model::{Health, Kind};
use crate::config::keymap::{Action, Key, KeyOverrides};
use crate::tui::app::{App, Level, LogSource, Pane, Tab, update};
use crate::tui::fixtures::{self, ago};
use crate::tui::keys::help_entries;
use crate::tui::logbuf::LogMode;
use crate::tui::msg::{Effect, LogLine, Msg};
use crate::tui::table::SortKey;

use super::{app, app_with, feed, key, render, special, text, type_text};

fn names(app: &App) -> Vec<String> {
    app.visible_endpoints()
        .map(|e| e.key.name.clone())
        .collect()
}

fn selected(app: &App) -> String {
    app.selected_endpoint()
        .map(|e| e.key.name.clone())
        .unwrap_or_default()
}

#[test]
fn starts_on_the_worst_endpoint_and_asks_for_its_detail() {
    let (app, fx) = app_with(fixtures::options("default", false, false), 200, 50);
    assert_eq!(app.table.sort, SortKey::Status);
    assert_eq!(
        names(&app),
        [
            "llama-prod",
            "qwen-coder",
            "gemma-embed",
            "falcon-old",
            "phi-mini",
            "mistral-chat"
        ]
    );
    // Failed < Terminating < Degraded ...: no endpoint is Failed, so Terminating comes first.
    assert_eq!(selected(&app), "llama-prod");
    assert_eq!(app.tree.rows[0].kind, Kind::InferenceService);
    assert!(
        matches!(&fx[..], [Effect::LoadDetail(o)] if o.name == "llama-prod" && o.kind == Kind::InferenceService),
        "{fx:?}"
    );
}

#[test]
fn until_the_operator_chooses_the_worst_endpoint_and_its_root_stay_selected() {
    // The first lists arrive kind by kind: llama-prod's Deployment before its InferenceService,
    // and before that, no llama-prod at all.
    let full = fixtures::fleet();
    let without_llama: Vec<_> = full
        .iter()
        .filter(|e| e.key.name != "llama-prod")
        .cloned()
        .collect();
    let mut without_isvc = full.clone();
    for e in &mut without_isvc {
        if e.key.name == "llama-prod" {
            e.resources = e.resources[0].children.clone();
        }
    }
    let mut app = App::new(fixtures::options("default", false, false), fixtures::now());
    feed(&mut app, [Msg::Endpoints(without_llama)]);
    assert_eq!(selected(&app), "qwen-coder");
    feed(&mut app, [Msg::Endpoints(without_isvc)]);
    assert_eq!(selected(&app), "llama-prod");
    assert_eq!(app.tree.selected().map(|r| r.kind), Some(Kind::Deployment));
    let fx = feed(&mut app, [Msg::Endpoints(full.clone())]);
    assert_eq!(selected(&app), "llama-prod");
    assert_eq!(
        app.tree.selected().map(|r| r.kind),
        Some(Kind::InferenceService)
    );
    assert!(
        matches!(&fx[..], [Effect::LoadDetail(o)] if o.kind == Kind::InferenceService),
        "{fx:?}"
    );
    // Once chosen, the selection follows the object, not the row.
    feed(&mut app, [key('j'), special(Key::Enter), key('j')]);
    assert_eq!(selected(&app), "qwen-coder");
    let chosen = app.tree.selected().map(|r| r.uid.clone());
    let mut reordered = full;
    reordered.reverse();
    feed(&mut app, [Msg::Endpoints(reordered)]);
    assert_eq!(selected(&app), "qwen-coder");
    assert_eq!(app.tree.selected().map(|r| r.uid.clone()), chosen);
}

#[test]
fn filter_narrows_and_esc_clears() {
    let mut app = app();
    feed(&mut app, [key('/')]);
    type_text(&mut app, "QWEN");
    assert_eq!(names(&app), ["qwen-coder"]);
    assert_eq!(selected(&app), "qwen-coder");
    // Enter keeps the filter; Esc in the table clears it.
    feed(&mut app, [special(Key::Enter)]);
    assert!(app.input.is_none());
    assert_eq!(names(&app), ["qwen-coder"]);
    feed(&mut app, [special(Key::Esc)]);
    assert_eq!(names(&app).len(), 6);
    // Esc while typing drops the filter at once.
    feed(&mut app, [key('/'), key('z'), key('z')]);
    assert!(names(&app).is_empty());
    feed(&mut app, [special(Key::Esc)]);
    assert_eq!(names(&app).len(), 6);
    // The selection came back to the endpoint it was on.
    assert_eq!(selected(&app), "qwen-coder");
}

#[test]
fn sort_cycles_and_keeps_the_selection() {
    let mut app = app();
    assert_eq!(selected(&app), "llama-prod");
    feed(&mut app, [key('s')]);
    assert_eq!(app.table.sort, SortKey::Name);
    assert_eq!(
        names(&app),
        [
            "falcon-old",
            "gemma-embed",
            "llama-prod",
            "mistral-chat",
            "phi-mini",
            "qwen-coder"
        ]
    );
    assert_eq!(selected(&app), "llama-prod");
    feed(&mut app, [key('s')]);
    assert_eq!(app.table.sort, SortKey::Namespace);
    assert_eq!(names(&app)[0], "phi-mini");
    feed(&mut app, [key('s'), key('s')]);
    assert_eq!(app.table.sort, SortKey::Status);
}

#[test]
fn selection_follows_uid_across_reorder_and_removal() {
    let mut app = app();
    feed(&mut app, [key('s')]); // by name
    feed(&mut app, [key('j')]);
    assert_eq!(selected(&app), "mistral-chat");
    // The next list comes in another order, without two endpoints.
    let mut fleet = fixtures::fleet();
    fleet.reverse();
    fleet.retain(|e| e.key.name != "falcon-old" && e.key.name != "gemma-embed");
    feed(&mut app, [Msg::Endpoints(fleet.clone())]);
    assert_eq!(selected(&app), "mistral-chat");
    assert_eq!(app.table.selected, 1);
    // Redeployed: same name, new UID -> still selected, by namespace/name.
    for e in &mut fleet {
        if e.key.name == "mistral-chat" {
            e.uid = "uid-new".into();
        }
    }
    feed(&mut app, [Msg::Endpoints(fleet.clone())]);
    assert_eq!(selected(&app), "mistral-chat");
    // Gone: the row at the same position is selected.
    fleet.retain(|e| e.key.name != "mistral-chat");
    feed(&mut app, [Msg::Endpoints(fleet)]);
    assert_eq!(selected(&app), "phi-mini");
}

#[test]
fn drill_in_and_back() {
    let mut app = app();
    assert_eq!(app.focus(), Pane::Endpoints);
    feed(&mut app, [special(Key::Enter)]);
    assert_eq!(app.focus(), Pane::Resources);
    let fx = feed(&mut app, [key('j'), key('j'), key('j')]);
    let row = app
        .tree
        .selected()
        .map(|r| r.name.clone())
        .unwrap_or_default();
    assert_eq!(row, "llama-prod-predictor-7c9d8-abcde");
    assert!(
        fx.iter()
            .any(|f| matches!(f, Effect::LoadDetail(o) if o.name == row)),
        "{fx:?}"
    );
    feed(&mut app, [special(Key::Enter)]);
    assert_eq!((app.focus(), app.tab()), (Pane::Bottom, Tab::Detail));
    feed(&mut app, [special(Key::Esc)]);
    assert_eq!(app.focus(), Pane::Resources);
    feed(&mut app, [special(Key::Esc)]);
    assert_eq!(app.focus(), Pane::Endpoints);
    feed(&mut app, [special(Key::Tab), special(Key::Tab)]);
    assert_eq!(app.focus(), Pane::Bottom);
    feed(&mut app, [special(Key::BackTab)]);
    assert_eq!(app.focus(), Pane::Resources);
}

#[test]
fn detail_answers_are_kept_only_for_the_object_asked_for() {
    let mut app = app();
    let Some(target) = app.detail.requested.clone() else {
        panic!("no detail requested");
    };
    let mut other = target.clone();
    other.uid = "uid-stale".into();
    feed(
        &mut app,
        [Msg::Detail {
            target: other,
            manifest: Some(fixtures::manifest()),
            events: vec![],
        }],
    );
    assert!(!app.detail.loaded);
    feed(
        &mut app,
        [Msg::Detail {
            target,
            manifest: Some(fixtures::manifest()),
            events: fixtures::events(),
        }],
    );
    assert!(app.detail.loaded);
    assert_eq!(app.detail.content.conditions[0].reason, "Terminating");
    let yaml = app.detail.content.manifest.join("\n");
    assert!(!yaml.contains("managedFields") && !yaml.contains("hf_secret_value"));
}

#[test]
fn logs_follow_the_endpoint_pods_and_new_pods_after_a_redeploy() {
    let mut app = app();
    let fx = feed(&mut app, [key('l')]);
    assert_eq!((app.focus(), app.tab()), (Pane::Bottom, Tab::Logs));
    let pods = vec![
        "llama-prod-predictor-7c9d8-abcde".to_string(),
        "llama-prod-predictor-7c9d8-fghij".to_string(),
    ];
    assert!(
        fx.iter().any(
            |f| matches!(f, Effect::FollowLogs { pods: p, tail_lines: 200, .. } if *p == pods)
        ),
        "{fx:?}"
    );
    // A redeploy replaced the pods: the follow moves to the new ones.
    let mut fleet = fixtures::fleet();
    for e in &mut fleet {
        if e.key.name == "llama-prod" {
            let rs = &mut e.resources[0].children[0].children[0];
            for (i, p) in rs.children.iter_mut().enumerate() {
                p.name = format!("llama-prod-predictor-9f8e7-new{i}");
                p.uid = format!("uid-new{i}");
            }
        }
    }
    let fx = feed(&mut app, [Msg::Endpoints(fleet)]);
    assert!(
        fx.iter()
            .any(|f| matches!(f, Effect::FollowLogs { pods: p, .. } if p[0].ends_with("new0"))),
        "{fx:?}"
    );
    // One pod, then back to all; a pod that disappears falls back to all.
    feed(&mut app, [key('o')]);
    assert_eq!(
        app.logs.source,
        LogSource::Pod("llama-prod-predictor-9f8e7-new0".into())
    );
    feed(&mut app, [key('o'), key('o')]);
    assert_eq!(app.logs.source, LogSource::AllPods);
    // Leaving the tab stops the streams.
    let fx = feed(&mut app, [key('v')]);
    assert!(fx.contains(&Effect::StopLogs), "{fx:?}");
    assert!(
        fx.iter()
            .any(|f| matches!(f, Effect::LoadEndpointEvents(k) if k.name == "llama-prod")),
        "{fx:?}"
    );
    let fx = feed(&mut app, [key('L')]);
    assert!(fx.contains(&Effect::StopEndpointEvents), "{fx:?}");
}

#[test]
fn log_buffer_is_bounded_counts_drops_and_pauses() {
    let mut opts = fixtures::options("default", false, false);
    opts.settings.logs.buffer_lines = 5;
    let (mut app, _) = app_with(opts, 200, 50);
    feed(&mut app, [key('l')]);
    let lines = |n: usize, from: i64| Msg::LogLines {
        pod: "llama-prod-predictor-7c9d8-fghij".into(),
        container: "kserve-container".into(),
        lines: fixtures::log_lines(0, n, from),
    };
    feed(&mut app, [lines(8, 100)]);
    assert_eq!(app.logs.buf.len(), 5);
    assert_eq!(app.logs.buf.dropped(), 3);
    feed(&mut app, [Msg::LogDropped(10)]);
    assert_eq!(app.logs.buf.dropped(), 13);
    // Pause: new lines are counted, the view stays.
    feed(&mut app, [key('p')]);
    let before: Vec<String> = app
        .logs
        .buf
        .visible_rev(None, "")
        .map(|e| e.text.clone())
        .collect();
    feed(&mut app, [lines(2, 50)]);
    assert_eq!(app.logs.buf.new_while_frozen(), 2);
    let during: Vec<String> = app
        .logs
        .buf
        .visible_rev(None, "")
        .map(|e| e.text.clone())
        .collect();
    assert_eq!(during, before, "eviction does not reach the frozen view");
    feed(&mut app, [key('p')]);
    assert_eq!(app.logs.buf.visible_rev(None, "").count(), 5);
    // Overlap after a reconnect is not shown twice.
    feed(&mut app, [lines(2, 50)]);
    assert_eq!(app.logs.buf.duplicates(), 2);
    // Toggles.
    feed(&mut app, [key('w'), key('t'), key('f')]);
    assert!(app.logs.wrap && app.logs.timestamps);
    assert_eq!(app.logs.buf.mode(), LogMode::Following);
    // Scrolling up stops following; the filter applies to log lines on the logs tab.
    feed(&mut app, [key('f'), key('k')]);
    assert_eq!(app.logs.buf.mode(), LogMode::ScrolledBack);
    feed(&mut app, [key('/')]);
    type_text(&mut app, "request 1");
    feed(&mut app, [special(Key::Enter)]);
    assert_eq!(app.logs.filter, "request 1");
    assert!(app.table.filter.is_empty());
}

#[test]
fn destructive_keys_open_their_confirmation_and_start_nothing() {
    let mut app = app();
    for (c, verb) in [
        ('r', "Redeploy"),
        ('D', "Force-delete"),
        ('F', "Strip finalizers"),
    ] {
        let fx = feed(&mut app, [key(c)]);
        assert!(fx.is_empty(), "{fx:?}");
        assert_eq!(app.confirm().map(|c| c.verb()), Some(verb));
        feed(&mut app, [special(Key::Esc)]);
        assert!(app.confirm().is_none());
    }
    // `e` asks the loop for the spec first.
    let fx = feed(&mut app, [key('e')]);
    assert!(
        matches!(&fx[..], [Effect::PrepareEdit { endpoint }] if endpoint.name == "llama-prod"),
        "{fx:?}"
    );
}

#[test]
fn readonly_and_kiosk_refuse_destructive_actions() {
    for (readonly, kiosk, why) in [(true, false, "--readonly"), (false, true, "--kiosk")] {
        let (mut app, _) = app_with(fixtures::options("default", readonly, kiosk), 200, 50);
        for c in ['r', 'D', 'F', 'e'] {
            let fx = feed(&mut app, [key(c)]);
            assert!(fx.is_empty(), "{fx:?}");
            let m = app.message().cloned();
            assert!(
                m.as_ref().is_some_and(|m| m.level == Level::Error
                    && m.text.starts_with("refused: read-only")
                    && m.text.contains(why)),
                "{m:?}"
            );
            // The refusal is on screen too: the status line, or the kiosk's footer.
            let screen = text(&render(&app, 200, 50));
            assert!(
                screen.contains(&format!("refused: read-only ({why})")),
                "{screen}"
            );
        }
    }
}

#[test]
fn messages_expire() {
    let mut app = app();
    feed(&mut app, [key('r'), special(Key::Esc)]);
    assert!(app.message().is_some());
    feed(&mut app, [Msg::Tick(ago(-5))]);
    assert!(app.message().is_some());
    feed(&mut app, [Msg::Tick(ago(-10))]);
    assert!(app.message().is_none());
}

#[test]
fn kiosk_cycles_the_selection_on_ticks() {
    let mut opts = fixtures::options("high-contrast", false, true);
    opts.settings.kiosk.cycle_every = Duration::from_secs(8);
    let (mut app, fx) = app_with(opts, 200, 50);
    assert!(fx.is_empty(), "kiosk asks for no detail: {fx:?}");
    let first = selected(&app);
    let at = |s: i64| Msg::Tick(fixtures::now() + SignedDuration::from_secs(s));
    feed(&mut app, [at(7)]);
    assert_eq!(selected(&app), first);
    feed(&mut app, [at(8)]);
    let second = selected(&app);
    assert_ne!(second, first);
    assert_eq!(
        app.tree.endpoint.as_ref().map(|k| k.name.clone()),
        Some(second.clone())
    );
    // Around the fleet and back.
    for i in 2..=6 {
        feed(&mut app, [at(8 * i)]);
    }
    assert_eq!(selected(&app), first);
    // No prompts in kiosk.
    feed(&mut app, [key('/')]);
    assert!(app.input.is_none());
}

#[test]
fn help_lists_every_binding_of_the_focused_pane() {
    let mut app = app();
    feed(&mut app, [key('?')]);
    assert!(app.help_open());
    let h = help_entries(&app);
    let has = |h: &[(String, String)], keys: &str, what: &str| {
        h.iter().any(|(k, w)| k == keys && w.starts_with(what))
    };
    assert!(has(&h, "r", "redeploy endpoint"), "{h:?}");
    assert!(
        !h.iter().any(|(_, w)| w.contains("not in this build")),
        "{h:?}"
    );
    assert!(has(&h, "/", "filter"), "{h:?}");
    assert!(has(&h, "s", "cycle sort column"), "{h:?}");
    assert!(has(&h, "q ctrl-c", "quit"), "{h:?}");
    assert!(!has(&h, "p", "pause / resume log view"));
    // Keys while help is open do not reach the panes; esc closes.
    feed(&mut app, [key('s')]);
    assert_eq!(app.table.sort, SortKey::Status);
    feed(&mut app, [special(Key::Esc)]);
    assert!(!app.help_open());
    feed(&mut app, [key('l')]);
    let h = help_entries(&app);
    assert!(has(&h, "p", "pause / resume log view"), "{h:?}");
    assert!(has(&h, "o", "all pods / one pod"), "{h:?}");
    assert!(!has(&h, "s", "cycle sort column"));
    // Console log: tui-logger's own keys.
    feed(&mut app, [key('L')]);
    assert!(has(&help_entries(&app), "+ -", "capture more"));
    // Remapped keys show in help; read-only marks destructive ones.
    let mut opts = fixtures::options("default", true, false);
    let o: KeyOverrides = toml::from_str("redeploy = \"ctrl-r\"").unwrap_or_default();
    opts.keymap = crate::config::keymap::KeyMap::new(&o).unwrap_or_default();
    let (app, _) = app_with(opts, 200, 50);
    let h = help_entries(&app);
    assert!(
        has(&h, "ctrl-r", "redeploy endpoint (refused: read-only)"),
        "{h:?}"
    );
    assert_eq!(Action::ALL.iter().filter(|a| a.is_destructive()).count(), 4);
}

#[test]
fn commands() {
    let mut app = app();
    feed(&mut app, [key(':')]);
    let fx = {
        let mut fx = type_text(&mut app, "ns serving");
        fx.extend(feed(&mut app, [special(Key::Enter)]));
        fx
    };
    assert!(
        fx.contains(&Effect::SetNamespace(Some("serving".into()))),
        "{fx:?}"
    );
    feed(&mut app, [key(':')]);
    type_text(&mut app, "bogus\u{1b}");
    feed(&mut app, [special(Key::Enter)]);
    let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
    assert!(m.starts_with("unknown command :bogus^["), "{m}");
    feed(&mut app, [key(':'), key('q')]);
    let fx = feed(&mut app, [special(Key::Enter)]);
    assert_eq!(fx, vec![Effect::Quit]);
    assert!(app.should_quit());
}

#[test]
fn watch_states_and_updates_are_recorded() {
    let mut app = app();
    assert!(app.last_update.is_some());
    let fx = update(
        &mut app,
        Msg::WatchState {
            watch: "Pod".into(),
            state: crate::cluster::model::WatchState::Reconnecting {
                error: "connection reset".into(),
            },
        },
    );
    assert!(fx.is_empty());
    assert_eq!(app.watches.len(), 1);
    // Health of the selected endpoint is what the table shows.
    assert_eq!(
        app.selected_endpoint().map(|e| e.health),
        Some(Health::Terminating)
    );
    let _ = LogLine {
        ts: None,
        text: String::new(),
    };
}

#[test]
fn resource_selection_follows_uid_and_detail_scroll_stops_at_the_end() {
    let mut app = app();
    feed(
        &mut app,
        [special(Key::Enter), key('j'), key('j'), key('j')],
    );
    assert_eq!(
        app.tree.selected().map(|r| r.name.as_str()),
        Some("llama-prod-predictor-7c9d8-abcde")
    );
    // The ReplicaSet disappears above the pod (its rows shift): the pod stays selected.
    let mut fleet = fixtures::fleet();
    for e in &mut fleet {
        if e.key.name == "llama-prod" {
            let deploy = &mut e.resources[0].children[0];
            let rs = deploy.children.remove(0);
            deploy.children = rs.children;
        }
    }
    let fx = feed(&mut app, [Msg::Endpoints(fleet)]);
    assert_eq!(
        app.tree.selected().map(|r| r.name.as_str()),
        Some("llama-prod-predictor-7c9d8-abcde")
    );
    assert!(fx.is_empty(), "same object, no new LoadDetail: {fx:?}");
    feed(&mut app, [special(Key::Enter)]);
    for _ in 0..500 {
        feed(&mut app, [key('j')]);
    }
    let lines = crate::tui::view::detail::lines(&app).len();
    assert_eq!(app.detail.scroll, lines - 1);
}
