//! Snapshots on ratatui's TestBackend with the fixed clock: one per pane, the kiosk, the help
//! overlay, the small-terminal message, and the full screen per built-in theme with styles.

use crate::cluster::model::WatchState;
use crate::config::theme::BUILTIN;
use crate::tui::app::App;
use crate::tui::fixtures;
use crate::tui::msg::{Msg, StreamState};
use crate::tui::view;

use super::{app, app_with, feed, key, render, render_with, text};

fn pane(
    app: &App,
    w: u16,
    h: u16,
    draw: fn(&mut ratatui::Frame, &App, ratatui::layout::Rect),
) -> String {
    text(&render_with(w, h, |f| draw(f, app, f.area())))
}

fn live(app: &mut App) {
    for w in [
        "InferenceService",
        "Deployment",
        "ReplicaSet",
        "Pod",
        "Service",
        "HorizontalPodAutoscaler",
        "Ingress",
        "Lease",
        "Event",
    ] {
        feed(
            app,
            [Msg::WatchState {
                watch: w.into(),
                state: WatchState::Live,
            }],
        );
    }
}

/// The app with detail loaded for the selected object (the Terminating InferenceService).
fn loaded() -> App {
    let mut app = app();
    live(&mut app);
    if let Some(target) = app.detail.requested.clone() {
        feed(
            &mut app,
            [Msg::Detail {
                target,
                manifest: Some(fixtures::manifest()),
                events: fixtures::events(),
            }],
        );
    }
    app
}

#[test]
fn pane_endpoints() {
    let app = loaded();
    snap!("pane_endpoints", pane(&app, 100, 10, view::endpoints::draw));
}

#[test]
fn pane_resources() {
    let app = loaded();
    snap!("pane_resources", pane(&app, 110, 11, view::resources::draw));
}

#[test]
fn pane_detail() {
    let app = loaded();
    snap!("pane_detail", pane(&app, 110, 36, view::bottom::draw));
}

#[test]
fn pane_logs() {
    let mut app = loaded();
    feed(&mut app, [key('l'), key('t')]);
    for (i, pod) in [
        "llama-prod-predictor-7c9d8-abcde",
        "llama-prod-predictor-7c9d8-fghij",
    ]
    .iter()
    .enumerate()
    {
        feed(
            &mut app,
            [
                Msg::LogLines {
                    pod: pod.to_string(),
                    container: "kserve-container".into(),
                    lines: fixtures::log_lines(i, 4, 20 - i as i64),
                },
                Msg::LogStream {
                    pod: pod.to_string(),
                    state: if i == 0 {
                        StreamState::Reconnecting {
                            error: "EOF".into(),
                        }
                    } else {
                        StreamState::Streaming
                    },
                },
            ],
        );
    }
    feed(&mut app, [Msg::LogDropped(12)]);
    snap!("pane_logs", pane(&app, 110, 12, view::bottom::draw));
}

#[test]
fn pane_events() {
    let mut app = loaded();
    feed(&mut app, [key('v')]);
    let Some(endpoint) = app.events.endpoint.clone() else {
        panic!("events not requested");
    };
    feed(
        &mut app,
        [Msg::EndpointEvents {
            endpoint,
            events: fixtures::events(),
        }],
    );
    snap!("pane_events", pane(&app, 110, 8, view::bottom::draw));
}

#[test]
fn pane_console_log() {
    let mut app = loaded();
    feed(&mut app, [key('L')]);
    snap!("pane_console_log", pane(&app, 110, 6, view::bottom::draw));
}

#[test]
fn pane_status_bar() {
    let mut app = loaded();
    snap!("pane_status_bar", pane(&app, 200, 1, view::status::draw));
    feed(
        &mut app,
        [Msg::WatchState {
            watch: "Pod".into(),
            state: WatchState::Reconnecting {
                error: "connection reset".into(),
            },
        }],
    );
    let (mut ro, _) = app_with(fixtures::options("default", true, false), 200, 50);
    live(&mut ro);
    feed(&mut ro, [key('r')]);
    snap!(
        "pane_status_bar_readonly",
        format!(
            "{}{}",
            pane(&app, 200, 1, view::status::draw),
            pane(&ro, 200, 1, view::status::draw)
        )
    );
}

#[test]
fn help_overlay() {
    let mut app = loaded();
    feed(&mut app, [key('?')]);
    snap!("help_overlay", text(&render(&app, 120, 32)));
}

#[test]
fn kiosk_tiles() {
    let (mut app, _) = app_with(fixtures::options("high-contrast", false, true), 140, 24);
    live(&mut app);
    feed(&mut app, [Msg::Tick(fixtures::ago(-3))]);
    snap!("kiosk_tiles", text(&render(&app, 140, 24)));
    // Watches break: the last data stays, under a banner.
    feed(
        &mut app,
        [
            Msg::WatchState {
                watch: "Pod".into(),
                state: WatchState::Reconnecting {
                    error: "connection refused".into(),
                },
            },
            Msg::Tick(fixtures::ago(-42)),
        ],
    );
    snap!("kiosk_reconnecting", text(&render(&app, 140, 24)));
}

#[test]
fn stacked_layout_and_too_small() {
    let (mut app, _) = app_with(fixtures::options("default", false, false), 100, 30);
    live(&mut app);
    snap!("stacked_100x30", text(&render(&app, 100, 30)));
    snap!("too_small_79x20", text(&render(&app, 79, 20)));
}

/// The acceptance screen: stuck-finalizer fleet, no key pressed.
#[test]
fn full_screen_per_theme() {
    for (name, _) in BUILTIN {
        let (mut app, _) = app_with(fixtures::options(name, false, false), 200, 50);
        live(&mut app);
        let buf = render(&app, 200, 50);
        let screen = text(&buf);
        // The Terminating InferenceService with its age and finalizer (in the tree, and on one
        // line in the detail below it), and the stuck pod with its finalizer and grace period.
        let lines: Vec<&str> = screen.lines().collect();
        let after = |needle: &str| {
            lines
                .iter()
                .position(|l| l.contains(needle))
                .and_then(|i| lines.get(i + 1))
                .copied()
                .unwrap_or_default()
        };
        assert!(
            screen.contains("isvc/llama-prod") && screen.contains("⚠ stuck · Terminating 12m3s"),
            "{screen}"
        );
        assert!(after("⚠ stuck · Terminating 12m3s").contains("inferenceservice.finalizers"));
        assert!(
            screen
                .contains("Status:     ⚠ stuck · Terminating 12m3s · inferenceservice.finalizers"),
            "{screen}"
        );
        assert!(
            screen.contains("pod/llama-prod-predictor-7c9d8-abcde ⚠ stuck · Terminating 47m12s"),
            "{screen}"
        );
        assert!(
            after("pod/llama-prod-predictor-7c9d8-abcde")
                .contains("example.com/stuck-volume-cleanup · grace 30s"),
            "{screen}"
        );
        snap!(format!("full_screen_{name}"), format!("{buf:?}"));
    }
}
