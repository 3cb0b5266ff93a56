//! Issue 9 item 5: a paused or scrolled-back log view is frozen on screen while a flood of new
//! lines overflows the bounded buffer; `f`, `p`, `w`, `g` and `l` do what the help says. These
//! assert on the rendered screen, so they hold whatever the state is called inside.

use crate::cluster::model::Kind;
use crate::config::keymap::Key;
use crate::tui::app::{App, LogSource, Pane, Tab};
use crate::tui::fixtures::{self, ago};
use crate::tui::msg::{LogLine, Msg};

use super::{app_with, feed, key, render, special, text};

const POD: &str = "llama-prod-predictor-7c9d8-fghij";
const W: u16 = 160;
const H: u16 = 50;

/// Lines `from..from + n`, each text unique ("line-000042") and newer than the one before.
fn lines(from: usize, n: usize) -> Msg {
    Msg::LogLines {
        pod: POD.into(),
        container: "kserve-container".into(),
        lines: (from..from + n)
            .map(|i| LogLine {
                ts: Some(ago(100_000 - i as i64)),
                text: format!("line-{i:06}"),
            })
            .collect(),
    }
}

fn logs_app(buffer_lines: usize) -> App {
    let mut opts = fixtures::options("default", false, false);
    opts.settings.logs.buffer_lines = buffer_lines;
    let (mut app, _) = app_with(opts, W, H);
    feed(&mut app, [key('l')]);
    assert_eq!(app.tab, Tab::Logs);
    app
}

fn screen(app: &App) -> String {
    text(&render(app, W, H))
}

/// The log line numbers on screen, top to bottom.
fn shown(app: &App) -> Vec<usize> {
    screen(app)
        .split("line-")
        .skip(1)
        .filter_map(|s| s.get(..6).and_then(|n| n.parse().ok()))
        .collect()
}

#[test]
fn pause_keeps_the_view_through_a_flood_bigger_than_the_buffer() {
    let mut app = logs_app(5);
    feed(&mut app, [lines(0, 5)]);
    assert_eq!(shown(&app), [0, 1, 2, 3, 4]);
    feed(&mut app, [key('p')]);
    for batch in 0..20 {
        feed(&mut app, [lines(5 + batch * 50, 50)]);
    }
    let s = screen(&app);
    assert_eq!(shown(&app), [0, 1, 2, 3, 4], "{s}");
    assert!(s.contains("PAUSED (1000 new)"), "{s}");
    assert!(!s.contains("no log lines yet"), "{s}");
    assert!(app.logs.buf.len() <= 5, "the buffer stays bounded");
    // `p` resumes at the real tail.
    feed(&mut app, [key('p')]);
    assert_eq!(shown(&app), [1000, 1001, 1002, 1003, 1004]);
    assert!(screen(&app).contains("following"));
}

#[test]
fn scrolling_up_freezes_and_f_returns_to_the_tail() {
    let mut app = logs_app(100);
    feed(&mut app, [lines(0, 100)]);
    let tail = shown(&app);
    assert_eq!(tail.last(), Some(&99));
    feed(&mut app, [key('k'), key('k')]);
    let before = shown(&app);
    assert_eq!(before.last(), Some(&97), "two lines up");
    assert!(screen(&app).contains("scrolled ↑2"), "{}", screen(&app));
    feed(&mut app, [lines(100, 250)]);
    assert_eq!(shown(&app), before, "the scrolled-back view does not move");
    assert!(screen(&app).contains("(250 new)"), "{}", screen(&app));
    feed(&mut app, [key('f')]);
    assert_eq!(shown(&app).last(), Some(&349));
    assert!(screen(&app).contains("following"));
    // `f` again keeps following (it is not a toggle).
    feed(&mut app, [key('f'), lines(350, 1)]);
    assert_eq!(shown(&app).last(), Some(&350));
}

#[test]
fn top_stops_at_the_oldest_line() {
    let mut app = logs_app(200);
    feed(&mut app, [lines(0, 200)]);
    feed(&mut app, [key('g')]);
    let s = screen(&app);
    let top = shown(&app);
    assert_eq!(top.first(), Some(&0), "{s}");
    assert!(
        top.len() > 10,
        "a full page, not the oldest line alone: {s}"
    );
    // Pressing up more does not scroll past it.
    feed(&mut app, [key('k'), special(Key::PageUp), key('g')]);
    assert_eq!(shown(&app), top);
    // Down to the newest line follows again.
    feed(&mut app, [key('G')]);
    assert_eq!(shown(&app).last(), Some(&199));
    assert!(screen(&app).contains("following"));
}

#[test]
fn wrap_while_paused_keeps_the_view() {
    let mut app = logs_app(50);
    feed(&mut app, [lines(0, 50)]);
    feed(&mut app, [key('p'), key('k'), key('k'), key('k')]);
    let before = shown(&app);
    assert_eq!(before.last(), Some(&46));
    feed(&mut app, [key('w'), lines(50, 100)]);
    assert!(app.logs.wrap);
    assert_eq!(shown(&app).last(), Some(&46), "{}", screen(&app));
    assert!(screen(&app).contains("PAUSED"));
    feed(&mut app, [key('w')]);
    assert_eq!(shown(&app), before);
}

#[test]
fn l_on_a_selected_pod_opens_that_pods_log() {
    let mut opts = fixtures::options("default", false, false);
    opts.settings.logs.buffer_lines = 50;
    let (mut app, _) = app_with(opts, W, H);
    feed(&mut app, [special(Key::Enter)]);
    assert_eq!(app.focus, Pane::Resources);
    let rows = app.tree.pods();
    let pod = rows.first().cloned().unwrap_or_default();
    assert!(!pod.is_empty(), "the fixture has pods");
    for _ in 0..50 {
        if app.tree.selected().is_some_and(|r| r.kind == Kind::Pod) {
            break;
        }
        feed(&mut app, [key('j')]);
    }
    feed(&mut app, [key('l')]);
    assert_eq!(app.tab, Tab::Logs);
    assert_eq!(app.logs.source, LogSource::Pod(pod.clone()));
    assert!(
        screen(&app).contains(&format!("pod {pod}")),
        "{}",
        screen(&app)
    );
}

/// Looking at another tab and coming back keeps the paused view (it used to start over empty).
#[test]
fn a_paused_view_survives_a_visit_to_another_tab() {
    let mut app = logs_app(5);
    feed(&mut app, [lines(0, 5), key('p')]);
    assert_eq!(shown(&app), [0, 1, 2, 3, 4]);
    feed(&mut app, [key('v'), lines(5, 50)]);
    assert_eq!(app.tab, Tab::Events);
    feed(&mut app, [key('l')]);
    assert_eq!(shown(&app), [0, 1, 2, 3, 4], "{}", screen(&app));
    assert!(screen(&app).contains("PAUSED"), "{}", screen(&app));
}

/// Until the operator presses a key the selection follows the top row (the worst endpoint). A
/// key (here `l`) fixes it on that endpoint: when another endpoint turns worse and goes on top,
/// the open log stays on the endpoint being read.
#[test]
fn opening_a_log_keeps_the_selection_when_the_order_changes() {
    let mut opts = fixtures::options("default", false, false);
    opts.settings.logs.buffer_lines = 50;
    let (mut app, _) = app_with(opts, W, H);
    let first = app.selected_endpoint().map(|e| e.key.clone());
    feed(&mut app, [key('l'), lines(0, 5)]);
    assert_eq!(shown(&app), [0, 1, 2, 3, 4]);
    // Another endpoint fails and sorts first.
    let mut fleet = fixtures::fleet();
    let last = fleet.len() - 1;
    fleet[last].health = crate::cluster::model::Health::Failed;
    let worse = fleet[last].key.clone();
    assert_ne!(Some(&worse), first.as_ref());
    feed(&mut app, [Msg::Endpoints(fleet)]);
    assert_eq!(app.visible_endpoints().next().map(|e| &e.key), Some(&worse));
    assert_eq!(app.selected_endpoint().map(|e| e.key.clone()), first);
    assert_eq!(shown(&app), [0, 1, 2, 3, 4], "{}", screen(&app));
}
