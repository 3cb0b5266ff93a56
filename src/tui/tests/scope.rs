//! Issue 9, item 4: `:ns NAME` / `:ns all` re-scope live. Old rows, selection, detail and logs
//! go at once; nothing of the old scope is shown under the new label; the status bar names the
//! new scope only once the loop confirms it; bad names are refused with the rule.

use crate::cluster::model::WatchState;
use crate::config::keymap::Key;
use crate::tui::app::{App, Level, Tab};
use crate::tui::fixtures;
use crate::tui::msg::{Effect, Msg};

use super::{app, feed, key, render, special, text, type_text};

fn command(app: &mut App, line: &str) -> Vec<Effect> {
    let mut fx = feed(app, [key(':')]);
    fx.extend(type_text(app, line));
    fx.extend(feed(app, [special(Key::Enter)]));
    fx
}

fn screen(app: &App) -> String {
    text(&render(app, 200, 50))
}

fn status_line(app: &App) -> String {
    screen(app)
        .lines()
        .find(|l| l.contains("ctx:"))
        .unwrap_or_default()
        .to_string()
}

fn message(app: &App) -> (Level, String) {
    app.message()
        .map(|m| (m.level, m.text.clone()))
        .unwrap_or((Level::Info, String::new()))
}

#[test]
fn ns_switches_live_and_never_shows_old_rows_under_the_new_label() {
    let mut app = app();
    assert!(
        status_line(&app).contains("ns:all"),
        "{}",
        status_line(&app)
    );
    // Follow logs of the selected endpoint, so there is something to stop.
    feed(&mut app, [key('l')]);
    assert_eq!(app.tab(), Tab::Logs);
    assert!(app.logs.following.is_some());
    let fx = command(&mut app, "ns prod");
    assert!(
        fx.contains(&Effect::SetNamespace(Some("prod".into()))),
        "{fx:?}"
    );
    assert!(
        fx.contains(&Effect::StopLogs),
        "log following stops: {fx:?}"
    );
    assert!(app.selected_endpoint().is_none());
    assert!(app.detail.requested.is_none());
    let s = screen(&app);
    assert!(s.contains("listing namespace prod…"), "{s}");
    assert!(!s.contains("llama-prod"), "old rows are gone: {s}");
    // Not switched yet: the status bar does not claim the new scope, and no lie about restarts.
    assert!(
        status_line(&app).contains("ns:all"),
        "{}",
        status_line(&app)
    );
    assert!(!s.contains("restart"), "{s}");

    // Rows and states of the old watches still in the channel are dropped.
    feed(
        &mut app,
        [
            Msg::Endpoints(fixtures::fleet()),
            Msg::WatchState {
                watch: "Pod".into(),
                state: WatchState::Live,
            },
        ],
    );
    assert!(app.endpoints.is_empty());
    assert!(app.watches.is_empty());
    assert!(screen(&app).contains("listing namespace prod…"));

    // The loop confirms: the label changes; still listing until every watch has reported.
    feed(
        &mut app,
        [Msg::ScopeChanged {
            namespace: Some("prod".into()),
            namespaces: None,
            notice: None,
        }],
    );
    assert!(
        status_line(&app).contains("ns:prod"),
        "{}",
        status_line(&app)
    );
    assert!(screen(&app).contains("listing namespace prod…"));
    // What the new watches list: two endpoints of prod.
    let mut prod: Vec<_> = fixtures::fleet().into_iter().take(2).collect();
    for e in &mut prod {
        e.key.namespace = "prod".into();
    }
    feed(&mut app, [Msg::Endpoints(prod.clone())]);
    for w in crate::cluster::model::WatchKind::ALL {
        feed(
            &mut app,
            [Msg::WatchState {
                watch: w.name().into(),
                state: WatchState::Live,
            }],
        );
    }
    let s = screen(&app);
    assert!(!s.contains("listing namespace"), "{s}");
    assert!(app.visible_endpoints().all(|e| e.key.namespace == "prod"));
    assert_eq!(app.visible_endpoints().count(), prod.len());

    // `:ns all` goes back the same way.
    let fx = command(&mut app, "ns all");
    assert!(fx.contains(&Effect::SetNamespace(None)), "{fx:?}");
    assert!(screen(&app).contains("listing all namespaces…"));
    assert!(status_line(&app).contains("ns:prod"));
    feed(
        &mut app,
        [
            Msg::ScopeChanged {
                namespace: None,
                namespaces: None,
                notice: None,
            },
            Msg::Endpoints(fixtures::fleet()),
        ],
    );
    assert!(
        status_line(&app).contains("ns:all"),
        "{}",
        status_line(&app)
    );
    assert_eq!(app.visible_endpoints().count(), fixtures::fleet().len());
}

#[test]
fn ns_refuses_names_that_are_not_namespace_names() {
    let mut app = app();
    for bad in ["Prod", "a_b", "-x", "x.y"] {
        let fx = command(&mut app, &format!("ns {bad}"));
        assert!(
            !fx.iter().any(|f| matches!(f, Effect::SetNamespace(_))),
            "{bad}: {fx:?}"
        );
        let (level, m) = message(&app);
        assert_eq!(level, Level::Error, "{m}");
        assert!(m.contains("is not a valid namespace name"), "{m}");
        assert!(m.contains("RFC 1123"), "{m}");
    }
    // Nothing was dropped.
    assert_eq!(app.visible_endpoints().count(), fixtures::fleet().len());
    // The same scope again is said so, not re-listed.
    let fx = command(&mut app, "ns all");
    assert!(fx.is_empty() || !fx.iter().any(|f| matches!(f, Effect::SetNamespace(_))));
    assert!(message(&app).1.contains("already showing all namespaces"));
}

#[test]
fn limited_namespaces_are_named_with_a_notice() {
    let mut app = app();
    feed(
        &mut app,
        [Msg::ScopeChanged {
            namespace: None,
            namespaces: Some(vec!["prod".into(), "staging".into()]),
            notice: Some(
                "you may not list pods across all namespaces: watching prod, staging".into(),
            ),
        }],
    );
    assert!(
        status_line(&app).contains("ns:prod,staging"),
        "{}",
        status_line(&app)
    );
    let (level, m) = message(&app);
    assert_eq!(level, Level::Warn);
    assert!(m.contains("watching prod, staging"), "{m}");
    // At start (not asked with :ns) the rows already shown stay.
    assert_eq!(app.visible_endpoints().count(), fixtures::fleet().len());
}

#[test]
fn a_second_ns_before_the_first_is_confirmed_keeps_dropping_until_the_last() {
    let mut app = app();
    command(&mut app, "ns prod");
    command(&mut app, "ns staging");
    let confirmed = |ns: &str| Msg::ScopeChanged {
        namespace: Some(ns.into()),
        namespaces: None,
        notice: None,
    };
    feed(&mut app, [confirmed("prod")]);
    // Rows that arrive now may be prod's: staging is still to come, so they are dropped.
    feed(&mut app, [Msg::Endpoints(fixtures::fleet())]);
    assert!(app.endpoints.is_empty());
    assert!(screen(&app).contains("listing namespace staging…"));
    feed(
        &mut app,
        [confirmed("staging"), Msg::Endpoints(fixtures::fleet())],
    );
    assert!(
        status_line(&app).contains("ns:staging"),
        "{}",
        status_line(&app)
    );
    assert_eq!(app.visible_endpoints().count(), fixtures::fleet().len());
}
