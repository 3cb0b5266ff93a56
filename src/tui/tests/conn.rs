//! Connection truth in the app: a kind that never listed is named with the server, its error and
//! the next retry; no endpoint status before every kind listed once; stale rows marked and
//! dimmed with the server in the footer; the reconnect said; the kiosk's confirmed time.

use std::collections::BTreeMap;

use ratatui::style::Modifier;

use crate::cluster::model::{WatchKind, WatchState};
use crate::cluster::watch::WatchHealth;
use crate::tui::app::App;
use crate::tui::fixtures::{self, ago};
use crate::tui::msg::Msg;
use crate::tui::view;

use super::{app_with, feed, render, render_with, text};

const SERVER: &str = "https://127.0.0.1:6443";
const REFUSED: &str =
    "ServiceError: client error (Connect): tcp connect error: Connection refused (os error 111)";

fn names() -> Vec<String> {
    WatchKind::ALL
        .iter()
        .map(|k| k.name().to_string())
        .collect()
}

fn state(watch: &str, state: WatchState) -> Msg {
    Msg::WatchState {
        watch: watch.into(),
        state,
    }
}

fn reconnecting() -> WatchState {
    WatchState::Reconnecting {
        error: REFUSED.into(),
    }
}

/// Health for every watch: `f` fills each record.
fn health(f: impl Fn(&str) -> WatchHealth) -> Msg {
    Msg::WatchHealth(names().iter().map(|n| (n.clone(), f(n))).collect())
}

fn screen(app: &App) -> String {
    text(&render(app, 200, 50))
}

/// The endpoints pane alone, wide enough that its messages do not wrap.
fn endpoints_pane(app: &App) -> String {
    text(&render_with(180, 10, |f| {
        view::endpoints::draw(f, app, f.area())
    }))
}

/// The bridge's start: every watch Syncing, nothing listed.
fn connecting() -> App {
    let mut app = App::new(fixtures::options("default", false, false), fixtures::now());
    feed(
        &mut app,
        [Msg::Resize {
            width: 200,
            height: 50,
        }],
    );
    let syncing: Vec<Msg> = names()
        .iter()
        .map(|n| state(n, WatchState::Syncing))
        .collect();
    feed(&mut app, syncing);
    feed(&mut app, [health(|_| WatchHealth::default())]);
    app
}

/// The fixture fleet with every watch Live and confirmed at `confirmed`.
fn live_app(kiosk: bool, confirmed: i64) -> App {
    let (mut app, _) = app_with(fixtures::options("default", false, kiosk), 200, 50);
    let live: Vec<Msg> = names().iter().map(|n| state(n, WatchState::Live)).collect();
    feed(&mut app, live);
    feed(
        &mut app,
        [health(|_| WatchHealth {
            listed: true,
            confirmed: Some(ago(-confirmed)),
            ..WatchHealth::default()
        })],
    );
    app
}

#[test]
fn a_kind_that_never_listed_names_the_server_the_error_and_the_next_retry() {
    let mut app = connecting();
    let failing: Vec<Msg> = names().iter().map(|n| state(n, reconnecting())).collect();
    feed(&mut app, failing);
    feed(
        &mut app,
        [
            health(|_| WatchHealth {
                retry_at: Some(ago(-4)),
                ..WatchHealth::default()
            }),
            Msg::Endpoints(Vec::new()),
        ],
    );
    let s = endpoints_pane(&app);
    assert!(
        s.contains(&format!(
            "cannot reach {SERVER}: Connection refused (os error 111) · retrying in 4s"
        )),
        "{s}"
    );
    assert!(
        s.contains("never listed: InferenceService, Deployment"),
        "{s}"
    );
    assert!(!s.contains("no endpoints"), "{s}");
    let s = screen(&app);
    assert!(!s.contains("no endpoints"), "{s}");
    let footer = s.lines().nth(49).unwrap_or_default();
    assert!(
        footer.contains(&format!("✖ {SERVER} not listed")),
        "{footer}"
    );
    // The countdown follows the clock.
    feed(&mut app, [Msg::Tick(ago(-3))]);
    assert!(endpoints_pane(&app).contains("· retrying in 1s"));
}

#[test]
fn no_endpoint_status_until_every_kind_has_listed_once() {
    let mut app = connecting();
    feed(
        &mut app,
        [
            state("Deployment", WatchState::Live),
            state("ReplicaSet", WatchState::Live),
            state("Event", WatchState::Live),
            // Rows derived now would read Degraded 0/0: the pods are not listed yet.
            Msg::Endpoints(fixtures::fleet()),
        ],
    );
    assert_eq!(app.visible_endpoints().count(), 0);
    let s = endpoints_pane(&app);
    assert!(
        s.contains(&format!("listing from {SERVER}: 2 of 8 kinds listed")),
        "{s}"
    );
    assert!(
        s.contains(
            "waiting for InferenceService, Pod, Service, HorizontalPodAutoscaler, Ingress, Lease"
        ),
        "{s}"
    );
    assert!(!s.contains("Degraded"), "{s}");
    // A forbidden kind settles too; once all have listed, the next rows are shown.
    let rest = [
        "InferenceService",
        "Pod",
        "Service",
        "HorizontalPodAutoscaler",
        "Ingress",
    ];
    feed(&mut app, rest.map(|n| state(n, WatchState::Live)));
    feed(
        &mut app,
        [
            state(
                "Lease",
                WatchState::Forbidden {
                    message: "403".into(),
                },
            ),
            Msg::Endpoints(fixtures::fleet()),
        ],
    );
    assert_eq!(app.visible_endpoints().count(), 6);
    assert!(!screen(&app).contains("listing from"));
}

#[test]
fn stale_rows_are_marked_and_dimmed_the_footer_names_the_server_and_the_reconnect_is_said() {
    let mut app = live_app(false, 0);
    feed(&mut app, [Msg::Tick(ago(-2))]);
    let before = text(&render_with(100, 10, |f| {
        view::endpoints::draw(f, &app, f.area())
    }));
    assert!(!before.contains('?'), "{before}");
    feed(&mut app, [state("Pod", reconnecting())]);
    let mut h: BTreeMap<String, WatchHealth> = BTreeMap::new();
    for n in names() {
        h.insert(
            n.clone(),
            WatchHealth {
                listed: true,
                confirmed: Some(ago(0)),
                down_since: (n == "Pod").then(|| ago(-2)),
                retry_at: (n == "Pod").then(|| ago(-47)),
            },
        );
    }
    feed(&mut app, [Msg::WatchHealth(h), Msg::Tick(ago(-44))]);

    let eps = render_with(100, 10, |f| view::endpoints::draw(f, &app, f.area()));
    let eps_text = text(&eps);
    assert!(
        eps_text.contains("STALE since 14:00:02 (42s)"),
        "{eps_text}"
    );
    let rows: Vec<&str> = eps_text.lines().skip(2).take(6).collect();
    assert_eq!(rows.len(), 6, "{eps_text}");
    for r in &rows {
        assert!(
            r.starts_with("┃?") || r.starts_with("│?"),
            "unmarked: {r:?}"
        );
    }
    // Dimmed as well: colour is not the only cue, nor is the marker.
    let cell = &eps[(5, 3)];
    assert!(cell.modifier.contains(Modifier::DIM), "{cell:?}");

    let s = screen(&app);
    let footer = s.lines().nth(49).unwrap_or_default();
    assert!(
        footer.contains(&format!(
            "✖ {SERVER} unreachable since 14:00:02 (42s ago): Connection refused (os error 111) · retrying in 3s"
        )),
        "{footer}"
    );
    assert!(!footer.contains("watches live"), "{footer}");
    let res: Vec<&str> = s.lines().filter(|l| l.contains("pod/llama-prod")).collect();
    assert!(
        !res.is_empty() && res.iter().all(|l| l.contains("? ")),
        "{s}"
    );

    feed(
        &mut app,
        [Msg::Tick(ago(-79)), state("Pod", WatchState::Live)],
    );
    let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
    assert_eq!(m, format!("reconnected to {SERVER} after 1m17s"));
    let s = screen(&app);
    assert!(!s.contains("STALE"), "{s}");
    assert!(s.contains("reconnected to"), "{s}");
    let after = text(&render_with(100, 10, |f| {
        view::endpoints::draw(f, &app, f.area())
    }));
    assert!(!after.contains('?'), "{after}");
}

#[test]
fn kiosk_shows_when_the_data_was_last_confirmed_and_a_banner_when_it_is_not_current() {
    // Every kind confirmed (by its list, an event or a bookmark) at 14:00:40, Pod at 14:00:38.
    let mut app = live_app(true, 40);
    let mut h = app.conn.health.clone();
    if let Some(p) = h.get_mut("Pod") {
        p.confirmed = Some(ago(-38));
    }
    feed(&mut app, [Msg::WatchHealth(h), Msg::Tick(ago(-42))]);
    let s = text(&render(&app, 140, 24));
    let head = s.lines().next().unwrap_or_default();
    assert!(head.contains("confirmed 14:00:38 (4s ago)"), "{head}");
    assert!(!head.contains("updated"), "{head}");
    assert!(!s.contains("STALE") && !s.contains("NOT CURRENT"), "{s}");

    // The pod watch breaks: a loud banner, and what the data is as of.
    feed(&mut app, [state("Pod", reconnecting())]);
    let mut h = app.conn.health.clone();
    if let Some(p) = h.get_mut("Pod") {
        p.down_since = Some(ago(-45));
        p.retry_at = Some(ago(-48));
    }
    feed(&mut app, [Msg::WatchHealth(h), Msg::Tick(ago(-46))]);
    let s = text(&render(&app, 140, 24));
    let mut lines = s.lines();
    let head = lines.next().unwrap_or_default();
    assert!(
        head.contains("NOT CURRENT · last confirmed 14:00:38 (8s ago)"),
        "{head}"
    );
    let banner = lines.next().unwrap_or_default();
    assert!(
        banner.contains(&format!(
            "STALE · {SERVER} unreachable since 14:00:45 (1s ago) · showing data last confirmed 14:00:38 (8s ago) · retrying in 2s"
        )),
        "{banner}"
    );
}

#[test]
fn kiosk_says_loudly_when_nothing_has_listed() {
    let mut app = App::new(fixtures::options("default", false, true), fixtures::now());
    let failing: Vec<Msg> = names().iter().map(|n| state(n, reconnecting())).collect();
    feed(&mut app, failing);
    feed(
        &mut app,
        [health(|_| WatchHealth {
            retry_at: Some(ago(-9)),
            ..WatchHealth::default()
        })],
    );
    let s = text(&render(&app, 140, 24));
    assert!(
        s.contains(&format!(
            "NOT CONNECTED · cannot reach {SERVER}: Connection refused (os error 111) · retrying in 9s"
        )),
        "{s}"
    );
    assert!(s.contains("NOT CURRENT · never confirmed"), "{s}");
}

/// Namespaces watched one by one (a user who may list only some): every watch is named `Pod in
/// prod`. The gate, the stale marking and the reconnect read those labels the same way.
#[test]
fn per_namespace_watches_gate_and_go_stale_like_one_set() {
    let mut app = connecting();
    let labels: Vec<String> = ["prod", "staging"]
        .iter()
        .flat_map(|ns| names().into_iter().map(move |n| format!("{n} in {ns}")))
        .collect();
    feed(
        &mut app,
        labels.iter().map(|l| state(l, WatchState::Syncing)),
    );
    let all_but_one: Vec<Msg> = labels
        .iter()
        .filter(|l| *l != "Pod in staging")
        .map(|l| state(l, WatchState::Live))
        .collect();
    feed(&mut app, all_but_one);
    feed(&mut app, names().iter().map(|n| state(n, WatchState::Live)));
    feed(&mut app, [Msg::Endpoints(fixtures::fleet())]);
    assert_eq!(
        app.visible_endpoints().count(),
        0,
        "Pod in staging has not listed"
    );
    let s = endpoints_pane(&app);
    assert!(s.contains("waiting for Pod in staging"), "{s}");

    feed(
        &mut app,
        [
            state("Pod in staging", WatchState::Live),
            Msg::Endpoints(fixtures::fleet()),
        ],
    );
    assert_eq!(app.visible_endpoints().count(), 6);
    feed(&mut app, [state("Pod in staging", reconnecting())]);
    let s = endpoints_pane(&app);
    assert!(s.contains("STALE since"), "{s}");
    feed(
        &mut app,
        [
            Msg::Tick(ago(-5)),
            state("Pod in staging", WatchState::Live),
        ],
    );
    let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
    assert!(m.starts_with("reconnected to"), "{m}");
}
